//! `/api/v1/opportunities`: creating opportunities and listing them, optionally for one lead.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::input::{body, fields_input, integer, query, time, window};
use super::render::{activity_json, created};
use crate::app::AppState;
use crate::service::NativeOpportunity;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOpportunityBody {
    lead_guid: String,
    #[serde(default, deserialize_with = "integer::optional")]
    event_code: Option<i64>,
    note: Option<String>,
    status: Option<String>,
    occurred_at: Option<String>,
    owner_guid: Option<String>,
    #[serde(default)]
    fields: Map<String, Value>,
}

pub(super) async fn create_opportunity(
    State(app): State<AppState>,
    Caller(me): Caller,
    b: Body,
) -> ApiResult<Response> {
    let b: NewOpportunityBody = body(b).await?;
    let o = NativeOpportunity {
        lead_guid: b.lead_guid,
        event_code: b.event_code,
        note: b.note,
        status: b.status,
        occurred_at: time("occurred_at", b.occurred_at.as_deref())?,
        owner_guid: b.owner_guid,
        fields: fields_input("", b.fields)?,
    };
    let o = app.service.create_opportunity(&me, o).await?;
    Ok(created(activity_json(&o)))
}

pub(super) async fn list_opportunities(
    State(app): State<AppState>,
    Caller(me): Caller,
    req: axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    let params = query(req.0.as_deref())?;
    let offset = match params.get("offset") {
        None => 0,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request("'offset' must be a non-negative integer"))?,
    };
    let (_, limit) = window(&params)?;
    let page = app
        .service
        .list_opportunities(&me, params.get("lead_guid"), offset, limit)
        .await?;
    Ok(Json(json!({
        "data": page.rows.iter().map(activity_json).collect::<Vec<_>>(),
        "total": page.total,
    })))
}
