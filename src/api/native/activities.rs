//! `/api/v1/activities[/{id}[/pin|/tags]]`: batches of activities; reading, editing, pinning, tagging, deleting one.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::input::{body, fields_input, integer, time, PathId};
use super::render::{activity_json, created};
use crate::app::AppState;
use crate::domain::ResourceKind;
use crate::service::{NativeActivity, NativeEdit, NativeResource};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceBody {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivityBody {
    #[serde(rename = "type")]
    sl_type: Option<String>,
    #[serde(default, deserialize_with = "integer::optional")]
    event_code: Option<i64>,
    resource: Option<ResourceBody>,
    owner_guid: Option<String>,
    occurred_at: Option<String>,
    note: Option<String>,
    status: Option<String>,
    #[serde(default)]
    fields: Map<String, Value>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    pinned: bool,
    #[serde(default)]
    static_data: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    activities: Vec<ActivityBody>,
}

fn resource(i: usize, r: Option<ResourceBody>) -> ApiResult<Option<NativeResource>> {
    let Some(r) = r else { return Ok(None) };
    let kind = ResourceKind::parse(&r.kind).ok_or_else(|| {
        ApiError::invalid(format!(
            "activities[{i}]: 'resource.type' must be person, account or crm_opportunity, not '{}'",
            r.kind
        ))
    })?;
    Ok(Some(NativeResource { kind, guid: r.id }))
}

pub(super) async fn create_activities(
    State(app): State<AppState>,
    Caller(me): Caller,
    b: Body,
) -> ApiResult<Response> {
    let b: BatchBody = body(b).await?;
    let mut rows = Vec::with_capacity(b.activities.len());
    for (i, a) in b.activities.into_iter().enumerate() {
        rows.push(NativeActivity {
            sl_type: a.sl_type,
            event_code: a.event_code,
            resource: resource(i, a.resource)?,
            owner_guid: a.owner_guid,
            occurred_at: time(
                &format!("activities[{i}].occurred_at"),
                a.occurred_at.as_deref(),
            )?,
            note: a.note,
            status: a.status,
            fields: fields_input(&format!("activities[{i}]."), a.fields)?,
            tags: a.tags,
            pinned: a.pinned,
            static_data: a.static_data,
        });
    }
    let stored = app.service.create_native_activities(&me, rows).await?;
    Ok(created(json!(stored
        .iter()
        .map(activity_json)
        .collect::<Vec<_>>())))
}

pub(super) async fn get_activity(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let a = app.service.native_activity(&me, &id).await?;
    Ok(Json(json!({ "data": activity_json(&a) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    note: Option<String>,
    occurred_at: Option<String>,
    owner_guid: Option<String>,
    status: Option<String>,
    #[serde(default)]
    fields: Map<String, Value>,
    tags: Option<Vec<String>>,
    pinned: Option<bool>,
    static_data: Option<Map<String, Value>>,
}

pub(super) async fn edit_activity(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
    b: Body,
) -> ApiResult<Json<Value>> {
    let b: EditBody = body(b).await?;
    let edit = NativeEdit {
        note: b.note,
        occurred_at: time("occurred_at", b.occurred_at.as_deref())?,
        owner_guid: b.owner_guid,
        status: b.status,
        fields: fields_input("", b.fields)?,
        tags: b.tags,
        pinned: b.pinned,
        static_data: b.static_data,
    };
    let a = app.service.edit_activity(&me, &id, edit).await?;
    Ok(Json(json!({ "data": activity_json(&a) })))
}

pub(super) async fn pin(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let edit = NativeEdit {
        pinned: Some(true),
        ..Default::default()
    };
    let a = app.service.edit_activity(&me, &id, edit).await?;
    Ok(Json(json!({ "data": activity_json(&a) })))
}

pub(super) async fn unpin(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    let edit = NativeEdit {
        pinned: Some(false),
        ..Default::default()
    };
    let a = app.service.edit_activity(&me, &id, edit).await?;
    Ok(Json(json!({ "data": activity_json(&a) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsBody {
    tags: Vec<String>,
}

pub(super) async fn set_tags(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
    b: Body,
) -> ApiResult<Json<Value>> {
    let b: TagsBody = body(b).await?;
    let edit = NativeEdit {
        tags: Some(b.tags),
        ..Default::default()
    };
    let a = app.service.edit_activity(&me, &id, edit).await?;
    Ok(Json(json!({ "data": activity_json(&a) })))
}

pub(super) async fn delete_activity(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    app.service.delete_activity(&me, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
