//! `/api/v1/activities/{id}/history` and the restores (`/api/v1/activities/{id}/restore`,
//! `/api/v1/leads/{guid}/restore`): change history and the trash.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiResult;
use super::input::{query, window, PathId};
use super::render::{activity_json, lead_json};
use crate::app::AppState;
use crate::domain::history::ActivityChange;
use crate::domain::time::format_rfc3339_micros;

fn change_json(c: &ActivityChange) -> Value {
    json!({
        "id": c.id,
        "activity_id": c.activity_id,
        "activity_guid": c.activity_guid,
        "changed_at": format_rfc3339_micros(c.changed_at),
        "user_guid": c.user_guid,
        "user_name": c.user_name,
        "api": c.api,
        "action": c.action,
        "before": c.before,
        "after": c.after,
    })
}

/// An activity's changes, oldest first, paged by change id (`after`, `limit`); a deleted
/// activity's history stays readable while it is in the trash.
pub(super) async fn activity_history(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
    req: axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    let (after, limit) = window(&query(req.0.as_deref())?)?;
    let rows = app
        .service
        .activity_change_history(&me, &id, after, limit)
        .await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|c| c.id))
        .flatten();
    Ok(Json(json!({
        "data": rows.iter().map(change_json).collect::<Vec<_>>(),
        "next_after": next,
    })))
}

pub(super) async fn restore_activity(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let a = app.service.restore_activity(&me, &id).await?;
    Ok(Json(json!({ "data": activity_json(&a) })))
}

pub(super) async fn restore_lead(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(guid): PathId,
) -> ApiResult<Json<Value>> {
    let lead = app.service.restore_lead(&me, &guid).await?;
    Ok(Json(json!({ "data": lead_json(&lead) })))
}
