//! `GET /api/v1/export`: every visible record as a resumable NDJSON stream.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::input::query;
use super::render::activity_json;
use crate::app::AppState;
use crate::domain::time::{parse_rfc3339, YEAR_RANGE};
use crate::domain::{ActivityView, User};

/// Rows read per store round trip while streaming an export.
const EXPORT_PAGE: u32 = 500;

/// Where a streaming export is: rows read but not yet sent, the cursor, and whether it is over.
struct ExportState {
    service: std::sync::Arc<crate::service::Service>,
    caller: User,
    pending: Option<Vec<ActivityView>>,
    after: Option<i64>,
    done: bool,
}

/// One NDJSON chunk: each row as its own line.
fn ndjson(rows: &[ActivityView]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 512);
    for a in rows {
        out.extend_from_slice(activity_json(a).to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// `GET /api/v1/export`: every record the caller may see (activities and opportunities), one
/// JSON object per line (`application/x-ndjson`) in ascending `updated_at`, streamed page by page
/// so memory stays flat however large the tenant. `updated_after` (exclusive) resumes from the
/// last line of an earlier export. A store failure after the first page ends the stream with an
/// `{"error":…}` line (the status line has been sent by then).
pub(super) async fn export(
    State(app): State<AppState>,
    Caller(me): Caller,
    req: axum::extract::RawQuery,
) -> ApiResult<Response> {
    let params = query(req.0.as_deref())?;
    let after = match params.get("updated_after") {
        None => None,
        Some(v) => Some(parse_rfc3339(v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "'updated_after' must be an RFC 3339 timestamp with {YEAR_RANGE}, not '{v}'"
            ))
        })?),
    };
    // The first page is read before answering, so that a failure there is a proper status.
    let first = app.service.export_page(&me, after, EXPORT_PAGE).await?;
    let state = ExportState {
        service: app.service.clone(),
        caller: me,
        pending: Some(first),
        after,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let rows = match st.pending.take() {
            Some(rows) => rows,
            None => match st
                .service
                .export_page(&st.caller, st.after, EXPORT_PAGE)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    st.done = true;
                    let e = ApiError::from(e);
                    let line = json!({"error": {"code": e.code, "message": e.message}});
                    let chunk = Bytes::from(format!("{line}\n"));
                    return Some((Ok::<Bytes, std::convert::Infallible>(chunk), st));
                }
            },
        };
        if rows.is_empty() {
            return None;
        }
        st.after = rows.last().map(|a| a.updated_at);
        st.done = rows.len() < EXPORT_PAGE as usize;
        Some((Ok(Bytes::from(ndjson(&rows))), st))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}
