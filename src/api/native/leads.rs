//! `/api/v1/leads[/{guid}]`: listing, creating, reading and deleting leads.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::input::{body, query, window, PathId};
use super::render::{created, lead_json};
use crate::app::AppState;
use crate::domain::NewLead;

pub(super) async fn list_leads(
    State(app): State<AppState>,
    Caller(me): Caller,
    req: axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    let (after, limit) = window(&query(req.0.as_deref())?)?;
    let leads = app.service.list_leads(&me, after, limit).await?;
    let next = (leads.len() == limit as usize)
        .then(|| leads.last().map(|l| l.id))
        .flatten();
    Ok(Json(
        json!({"data": leads.iter().map(lead_json).collect::<Vec<_>>(), "next_after": next}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewLeadBody {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    mobile: Option<String>,
    owner_guid: Option<String>,
    #[serde(default)]
    do_not_call: bool,
    #[serde(default)]
    do_not_email: bool,
    #[serde(default)]
    attributes: std::collections::BTreeMap<String, String>,
}

/// Lead attributes besides the named properties: `mx_…` custom attributes and these, the same
/// set LeadSquared's `Lead.Create` takes (its `Leads.GetById` renders them beside the built-in
/// columns, so a native attribute may never shadow one of those).
const LEAD_EXTRA_ATTRIBUTES: [&str; 3] = ["Source", "Company", "JobTitle"];

pub(super) async fn create_lead(
    State(app): State<AppState>,
    Caller(me): Caller,
    b: Body,
) -> ApiResult<Response> {
    let b: NewLeadBody = body(b).await?;
    let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let mut attributes = std::collections::BTreeMap::new();
    for (k, v) in b.attributes {
        let name = k.trim();
        let custom = name.len() > 3 && name.starts_with("mx_");
        if !custom && !LEAD_EXTRA_ATTRIBUTES.contains(&name) {
            return Err(ApiError::invalid(format!(
                "'attributes.{k}' is not a lead attribute: use mx_… custom attributes or {}",
                LEAD_EXTRA_ATTRIBUTES.join(", ")
            )));
        }
        // "" means no value, as in Lead.Create.
        if let Some(v) = clean(Some(v)) {
            attributes.insert(name.to_string(), v);
        }
    }
    let lead = NewLead {
        first_name: clean(b.first_name),
        last_name: clean(b.last_name),
        email: clean(b.email),
        phone: clean(b.phone),
        mobile: clean(b.mobile),
        do_not_call: b.do_not_call,
        do_not_email: b.do_not_email,
        attributes,
        ..Default::default()
    };
    let lead = app
        .service
        .create_lead(&me, lead, b.owner_guid.as_deref())
        .await?;
    Ok(created(lead_json(&lead)))
}

pub(super) async fn get_lead(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(guid): PathId,
) -> ApiResult<Json<Value>> {
    let lead = app.service.visible_lead(&me, &guid).await?;
    Ok(Json(json!({ "data": lead_json(&lead) })))
}

pub(super) async fn delete_lead(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(guid): PathId,
) -> ApiResult<StatusCode> {
    app.service.delete_lead(&me, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}
