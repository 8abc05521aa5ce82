//! The HTTP dialects: LeadSquared (`lsq`), and the pieces they share (query parsing, rate limits).

pub mod lsq;
pub mod native;
pub mod params;
pub mod rate_limit;
pub mod salesloft;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A JSON body written into a buffer reserved for it up front. `axum::Json` starts at 128 bytes
/// and doubles as it goes: a page of 25 activities (~27 KB) was copied eight times on its way,
/// 3–5 % of a list request's instructions (bench/instr_ab.sh).
pub struct SizedJson<T>(pub T, pub usize);

/// Bytes to reserve for a page of `rows` activities (about 1.1 KB each as the dialects render
/// them, plus the page's own keys).
pub fn page_capacity(rows: usize) -> usize {
    1024 + rows * 1280
}

impl<T: serde::Serialize> IntoResponse for SizedJson<T> {
    fn into_response(self) -> Response {
        let mut buf = Vec::with_capacity(self.1);
        match serde_json::to_writer(&mut buf, &self.0) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                buf,
            )
                .into_response(),
            // As `axum::Json` answers a value that fails to serialize.
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )],
                e.to_string(),
            )
                .into_response(),
        }
    }
}
