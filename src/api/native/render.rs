//! The JSON shapes of the native resources, and the `201 {"data":…}` answer of a create.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::domain::time::format_rfc3339_micros;
use crate::domain::{Account, ActivityType, ActivityView, Lead, ResourceKind, User};

fn ts(us: i64) -> Value {
    json!(format_rfc3339_micros(us))
}

pub(super) fn user_json(u: &User) -> Value {
    json!({"id": u.id, "guid": u.guid, "email": u.email, "first_name": u.first_name,
           "last_name": u.last_name, "role": u.role.as_str(), "active": u.active})
}

pub(super) fn lead_json(l: &Lead) -> Value {
    json!({"id": l.id, "guid": l.guid, "first_name": l.first_name, "last_name": l.last_name,
           "email": l.email, "phone": l.phone, "mobile": l.mobile, "do_not_call": l.do_not_call,
           "do_not_email": l.do_not_email, "owner_guid": l.owner_guid,
           "score": l.score, "attributes": l.attributes, "created_at": ts(l.created_at),
           "updated_at": ts(l.updated_at)})
}

pub(super) fn account_json(a: &Account) -> Value {
    json!({"id": a.id, "guid": a.guid, "name": a.name, "domain": a.domain,
           "owner_guid": a.owner_guid, "created_at": ts(a.created_at), "updated_at": ts(a.updated_at)})
}

pub(super) fn type_json(t: &ActivityType) -> Value {
    json!({"id": t.guid, "event_code": t.event_code, "name": t.name, "display_name": t.display_name,
           "kind": t.kind.as_str(), "salesloft_type": t.salesloft_type, "score": t.score,
           "description": t.description, "direction": t.direction, "is_email_type": t.is_email_type,
           "fields": t.fields.iter().map(|f| json!({"schema_name": f.schema_name,
               "display_name": f.display_name, "data_type": f.data_type.as_str(),
               "is_mandatory": f.is_mandatory, "sequence": f.sequence, "options": f.options}))
               .collect::<Vec<_>>()})
}

pub(super) fn activity_json(a: &ActivityView) -> Value {
    let resource_id = match a.resource_kind {
        ResourceKind::Opportunity => json!(a.resource_guid),
        _ => json!(a.resource_id),
    };
    json!({
        "id": a.id, "guid": a.guid, "salesloft_id": format!("{}-{}", a.salesloft_type, a.id),
        "type": a.salesloft_type, "event_code": a.event_code, "type_name": a.type_display_name,
        "resource": {"type": a.resource_kind.as_str(), "id": resource_id},
        "lead_guid": a.lead_guid, "account_id": a.account_id,
        "opportunity_guid": if a.opportunity_id.is_some() { json!(a.resource_guid) } else { Value::Null },
        "owner_guid": a.owner_guid, "note": a.note, "status": a.status, "fields": a.fields,
        "occurred_at": ts(a.occurred_at), "created_at": ts(a.created_at), "updated_at": ts(a.updated_at),
        "pinned_at": a.pinned_at.map(ts), "tags": a.tags, "static_data": a.static_data,
    })
}

pub(super) fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(json!({ "data": v }))).into_response()
}
