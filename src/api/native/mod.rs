//! The native API (`/api/v1`): what neither dialect can express — users, leads, accounts, types,
//! opportunities, Salesloft-style activity batches, pin/tag/edit/delete — plus `/openapi.json`.
//! Bearer auth; errors are `{"error":{"code","message"}}` with proper 4xx codes.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::params::Params;
use crate::app::AppState;
use crate::domain::fields::{looks_like_email, FieldInput};
use crate::domain::time::{format_rfc3339_micros, parse_rfc3339};
use crate::domain::{
    is_salesloft_type, Account, ActivityType, ActivityView, DataType, FieldDef, Lead,
    NewActivityType, NewLead, ResourceKind, Role, TypeKind, User, FIRST_CUSTOM_CODE,
    FIRST_OPPORTUNITY_CODE,
};
use crate::error::Error;
use crate::service::{NativeActivity, NativeEdit, NativeOpportunity, NativeResource, MAX_FIELDS};

/// The largest request body accepted, in bytes.
pub const MAX_BODY: usize = 1 << 20;
/// Default and largest page of the list endpoints.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

/// The project's OpenAPI document for this API, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// A native error: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let (status, code) = match &e {
            // Wire-level problems (JSON, shapes, query parameters) are answered with 400 by this
            // module before the service runs; what the service refuses is a value it cannot
            // accept: 422.
            Error::InvalidInput(_) | Error::MandatoryMissing(_) | Error::InvalidFields(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            }
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Duplicate(_) => (StatusCode::CONFLICT, "conflict"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let message = match &e {
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "An internal error occurred; it has been logged".to_string()
            }
            Error::Unavailable(detail) => {
                tracing::warn!(error = %detail, "store unavailable");
                "The service is temporarily unavailable; retry shortly".to_string()
            }
            other => other.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The authenticated caller of a native endpoint.
pub struct Caller(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "Authorization: Bearer <api key> is required",
                )
            })?;
        Ok(Caller(state.service.authenticate_bearer(token).await?))
    }
}

/// Parses a JSON body, naming the offending property on error (400).
async fn body<T: DeserializeOwned>(body: Body) -> ApiResult<T> {
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request body is larger than {MAX_BODY} bytes"),
        )
    })?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "The request body has the wrong shape: expected a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::bad_request(format!("The request body has the wrong shape: {inner}"))
        } else {
            ApiError::bad_request(format!("Invalid value for '{path}': {inner}"))
        }
    })
}

fn time(name: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    match v {
        None => Ok(None),
        Some(s) => parse_rfc3339(s).map(Some).ok_or_else(|| {
            ApiError::invalid(format!("'{name}' must be an ISO-8601 timestamp, not '{s}'"))
        }),
    }
}

/// `after` (exclusive id cursor) and `limit` of a list endpoint.
fn window(params: &Params) -> ApiResult<(i64, u32)> {
    let after = match params.get("after") {
        None => 0,
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("'after' must be an integer id"))?,
    };
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("'limit' must be 1..={MAX_LIMIT}")))?,
    };
    Ok((after, limit))
}

/// Custom field values (`{"mx_Custom_1": "3"}`); `prefix` locates them in the body for errors.
/// System attributes have their own properties (`status`, `owner_guid`, `note`), not fields.
fn fields_input(prefix: &str, fields: Map<String, Value>) -> ApiResult<Vec<FieldInput>> {
    fields
        .into_iter()
        .map(|(k, v)| {
            if ["Status", "Owner", "ActivityEvent_Note"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(k.trim()))
            {
                return Err(ApiError::invalid(format!(
                    "'{prefix}fields.{k}' is not a custom field: use the 'status', 'owner_guid' or 'note' property"
                )));
            }
            let value = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid value for '{prefix}fields.{k}': expected a string, number, boolean or null"
                    )))
                }
            };
            Ok(FieldInput {
                schema_name: k,
                value,
            })
        })
        .collect()
}

/// Turns the store's "same EmailAddress" style duplicate messages into this API's names.
fn native_duplicate(e: Error) -> ApiError {
    match e {
        Error::Duplicate(m) => {
            let m = [
                ("ActivityEventName", "name"),
                ("ActivityEvent", "event_code"),
                ("EmailAddress", "email"),
                ("Mobile", "mobile"),
                ("Phone", "phone"),
            ]
            .iter()
            .fold(m, |m, (lsq, native)| m.replace(lsq, &format!("'{native}'")));
            ApiError::new(StatusCode::CONFLICT, "conflict", m)
        }
        other => other.into(),
    }
}

/// A Sales_User works on its own leads; directory-wide changes are for managers and admins.
fn forbid_sales_user(me: &User, what: &str) -> ApiResult<()> {
    if me.role == Role::SalesUser {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("A Sales_User may not {what}"),
        ))
    } else {
        Ok(())
    }
}

/// Refuses a text property longer than `max` characters (422 naming it).
fn check_len(field: &str, value: Option<&str>, max: usize) -> ApiResult<()> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError::invalid(format!(
            "'{field}' is longer than {max} characters"
        ))),
        _ => Ok(()),
    }
}

/// Only an Administrator manages users.
fn require_admin(me: &User, what: &str) -> ApiResult<()> {
    if me.role == Role::Administrator {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("Only an Administrator may {what}"),
        ))
    }
}

// ----- rendering -----------------------------------------------------------------------------

fn ts(us: i64) -> Value {
    json!(format_rfc3339_micros(us))
}

fn user_json(u: &User) -> Value {
    json!({"id": u.id, "guid": u.guid, "email": u.email, "first_name": u.first_name,
           "last_name": u.last_name, "role": u.role.as_str(), "active": u.active})
}

fn lead_json(l: &Lead) -> Value {
    json!({"id": l.id, "guid": l.guid, "first_name": l.first_name, "last_name": l.last_name,
           "email": l.email, "phone": l.phone, "mobile": l.mobile, "do_not_call": l.do_not_call,
           "do_not_email": l.do_not_email, "owner_guid": l.owner_guid,
           "score": l.score, "attributes": l.attributes, "created_at": ts(l.created_at),
           "updated_at": ts(l.updated_at)})
}

fn account_json(a: &Account) -> Value {
    json!({"id": a.id, "guid": a.guid, "name": a.name, "domain": a.domain,
           "owner_guid": a.owner_guid, "created_at": ts(a.created_at), "updated_at": ts(a.updated_at)})
}

fn type_json(t: &ActivityType) -> Value {
    json!({"id": t.guid, "event_code": t.event_code, "name": t.name, "display_name": t.display_name,
           "kind": t.kind.as_str(), "salesloft_type": t.salesloft_type, "score": t.score,
           "description": t.description, "direction": t.direction, "is_email_type": t.is_email_type,
           "fields": t.fields.iter().map(|f| json!({"schema_name": f.schema_name,
               "display_name": f.display_name, "data_type": f.data_type.as_str(),
               "is_mandatory": f.is_mandatory, "sequence": f.sequence, "options": f.options}))
               .collect::<Vec<_>>()})
}

fn activity_json(a: &ActivityView) -> Value {
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

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(json!({ "data": v }))).into_response()
}

// ----- users ---------------------------------------------------------------------------------

async fn list_users(State(app): State<AppState>, Caller(me): Caller) -> ApiResult<Json<Value>> {
    let users = app.service.list_users(&me).await?;
    Ok(Json(
        json!({"data": users.iter().map(user_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserBody {
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    role: Option<String>,
}

async fn create_user(
    State(app): State<AppState>,
    Caller(me): Caller,
    b: Body,
) -> ApiResult<Response> {
    require_admin(&me, "create users")?;
    let b: NewUserBody = body(b).await?;
    check_len("email", Some(&b.email), 254)?;
    check_len("first_name", Some(&b.first_name), 255)?;
    check_len("last_name", Some(&b.last_name), 255)?;
    if !looks_like_email(b.email.trim()) {
        return Err(ApiError::invalid(format!(
            "'email' must be an email address, not '{}'",
            b.email
        )));
    }
    let role = match b.role.as_deref() {
        None => Role::SalesUser,
        Some(r) => Role::parse(r).ok_or_else(|| {
            ApiError::invalid(format!(
                "'role' must be Administrator, Sales_Manager or Sales_User, not '{r}'"
            ))
        })?,
    };
    let (user, keys) = app
        .service
        .create_user(
            &me.tenant_guid.to_string(),
            &b.email,
            &b.first_name,
            &b.last_name,
            role,
        )
        .await?;
    let mut v = user_json(&user);
    v["access_key"] = json!(keys.access_key);
    v["secret_key"] = json!(keys.secret_key);
    v["api_key"] = json!(keys.api_key);
    Ok(created(v))
}

// ----- leads ---------------------------------------------------------------------------------

async fn list_leads(
    State(app): State<AppState>,
    Caller(me): Caller,
    req: axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    let (after, limit) = window(&Params::parse(req.0.as_deref()))?;
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

async fn create_lead(
    State(app): State<AppState>,
    Caller(me): Caller,
    b: Body,
) -> ApiResult<Response> {
    let b: NewLeadBody = body(b).await?;
    for (field, value, max) in [
        ("first_name", &b.first_name, 255),
        ("last_name", &b.last_name, 255),
        ("email", &b.email, 254),
        ("phone", &b.phone, 50),
        ("mobile", &b.mobile, 50),
    ] {
        check_len(field, value.as_deref(), max)?;
    }
    let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (first, last, email, phone) = (
        clean(b.first_name.clone()),
        clean(b.last_name.clone()),
        clean(b.email.clone()),
        clean(b.phone.clone()),
    );
    if first.is_none() && last.is_none() && email.is_none() && phone.is_none() {
        return Err(ApiError::invalid(
            "A lead needs at least one of 'first_name', 'last_name', 'email' or 'phone'",
        ));
    }
    if let Some(e) = email.as_deref().filter(|e| !looks_like_email(e)) {
        return Err(ApiError::invalid(format!(
            "'email' must be an email address, not '{e}'"
        )));
    }
    // A Sales_User always owns what it creates (its owner_guid is ignored, as in Lead.Create).
    if let Some(g) = b
        .owner_guid
        .as_deref()
        .filter(|_| me.role != Role::SalesUser)
    {
        if app.service.active_user_by_guid(&me, g).await?.is_none() {
            return Err(ApiError::invalid(format!(
                "'owner_guid': '{g}' is not an active user of this tenant"
            )));
        }
    }
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
        if v.chars().count() > 4000 {
            return Err(ApiError::invalid(format!(
                "'attributes.{k}' is longer than 4000 characters"
            )));
        }
        // "" means no value, as in Lead.Create.
        if let Some(v) = clean(Some(v)) {
            attributes.insert(name.to_string(), v);
        }
    }
    let lead = NewLead {
        first_name: first,
        last_name: last,
        email,
        phone,
        mobile: clean(b.mobile),
        do_not_call: b.do_not_call,
        do_not_email: b.do_not_email,
        attributes,
        ..Default::default()
    };
    let lead = app
        .service
        .create_lead(&me, lead, b.owner_guid.as_deref())
        .await
        .map_err(native_duplicate)?;
    Ok(created(lead_json(&lead)))
}

async fn get_lead(
    State(app): State<AppState>,
    Caller(me): Caller,
    Path(guid): Path<String>,
) -> ApiResult<Json<Value>> {
    let lead = app.service.visible_lead(&me, &guid).await?;
    Ok(Json(json!({ "data": lead_json(&lead) })))
}

async fn delete_lead(
    State(app): State<AppState>,
    Caller(me): Caller,
    Path(guid): Path<String>,
) -> ApiResult<StatusCode> {
    app.service.delete_lead(&me, &guid).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- accounts ------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccountBody {
    name: String,
    domain: Option<String>,
    owner_guid: Option<String>,
}

async fn create_account(
    State(app): State<AppState>,
    Caller(me): Caller,
    b: Body,
) -> ApiResult<Response> {
    forbid_sales_user(&me, "create accounts")?;
    let b: NewAccountBody = body(b).await?;
    check_len("domain", b.domain.as_deref(), 255)?;
    let a = app
        .service
        .create_account(&me, &b.name, b.domain, b.owner_guid.as_deref())
        .await
        .map_err(native_duplicate)?;
    Ok(created(account_json(&a)))
}

async fn list_accounts(
    State(app): State<AppState>,
    Caller(me): Caller,
    req: axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    let (after, limit) = window(&Params::parse(req.0.as_deref()))?;
    let accounts = app.service.list_accounts(&me, after, limit).await?;
    let next = (accounts.len() == limit as usize)
        .then(|| accounts.last().map(|a| a.id))
        .flatten();
    Ok(Json(
        json!({"data": accounts.iter().map(account_json).collect::<Vec<_>>(), "next_after": next}),
    ))
}

// ----- activity types ------------------------------------------------------------------------

async fn list_types(State(app): State<AppState>, Caller(me): Caller) -> ApiResult<Json<Value>> {
    let types = app.service.list_activity_types(&me).await?;
    Ok(Json(
        json!({"data": types.iter().map(type_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldBody {
    schema_name: String,
    display_name: Option<String>,
    data_type: String,
    #[serde(default)]
    is_mandatory: bool,
    sequence: Option<i64>,
    #[serde(default)]
    options: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTypeBody {
    name: String,
    display_name: Option<String>,
    /// `custom` (default) or `opportunity`.
    kind: Option<String>,
    event_code: Option<i64>,
    salesloft_type: Option<String>,
    #[serde(default)]
    score: i64,
    #[serde(default)]
    description: String,
    #[serde(default)]
    direction: i64,
    #[serde(default)]
    is_email_type: bool,
    #[serde(default)]
    fields: Vec<FieldBody>,
}

async fn create_type(
    State(app): State<AppState>,
    Caller(me): Caller,
    b: Body,
) -> ApiResult<Response> {
    forbid_sales_user(&me, "create activity types")?;
    let b: NewTypeBody = body(b).await?;
    let name = b.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ApiError::invalid("'name' must be 1 to 255 characters long"));
    }
    let kind = match b.kind.as_deref() {
        None | Some("custom") => TypeKind::Custom,
        Some("opportunity") => TypeKind::Opportunity,
        Some(k) => {
            return Err(ApiError::invalid(format!(
                "'kind' must be custom or opportunity, not '{k}'"
            )))
        }
    };
    if let Some(code) = b.event_code {
        let (lo, hi) = match kind {
            TypeKind::Opportunity => (FIRST_OPPORTUNITY_CODE, i64::MAX),
            _ => (FIRST_CUSTOM_CODE, FIRST_OPPORTUNITY_CODE - 1),
        };
        if !(lo..=hi).contains(&code) {
            return Err(ApiError::invalid(format!(
                "'event_code' of a {} type must be {lo}..={hi}, not {code}",
                kind.as_str()
            )));
        }
    }
    if b.direction != 0 && b.direction != 1 {
        return Err(ApiError::invalid(format!(
            "'direction' must be 0 (inbound) or 1 (outbound), not {}",
            b.direction
        )));
    }
    let salesloft_type = match (b.salesloft_type, kind) {
        (Some(t), _) if is_salesloft_type(&t) => t,
        (Some(t), _) => {
            return Err(ApiError::invalid(format!(
                "'salesloft_type' '{t}' is not one of the 25 Salesloft activity types"
            )))
        }
        (None, TypeKind::Opportunity) => "opportunity_stage_change".into(),
        (None, _) => "note".into(),
    };
    if b.fields.len() > MAX_FIELDS {
        return Err(ApiError::invalid(format!(
            "'fields': an activity type has at most {MAX_FIELDS} custom fields"
        )));
    }
    let mut fields: Vec<FieldDef> = Vec::with_capacity(b.fields.len());
    for (i, f) in b.fields.into_iter().enumerate() {
        let numbered = f
            .schema_name
            .strip_prefix("mx_Custom_")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| (1..=MAX_FIELDS).contains(&n));
        if !numbered {
            return Err(ApiError::invalid(format!(
                "'fields[{i}].schema_name' must be mx_Custom_1 to mx_Custom_{MAX_FIELDS}, not '{}'",
                f.schema_name
            )));
        }
        if fields.iter().any(|g| g.schema_name == f.schema_name) {
            return Err(ApiError::invalid(format!(
                "'fields[{i}].schema_name': '{}' is given twice",
                f.schema_name
            )));
        }
        let data_type = DataType::parse(&f.data_type).ok_or_else(|| {
            ApiError::invalid(format!(
                "'fields[{i}].data_type' must be one of {}, not '{}'",
                DataType::ALL.map(DataType::as_str).join(", "),
                f.data_type
            ))
        })?;
        if data_type.has_options() && f.options.is_empty() {
            return Err(ApiError::invalid(format!(
                "'fields[{i}].options' must list the options of a {} field",
                data_type.as_str()
            )));
        }
        fields.push(FieldDef {
            display_name: f
                .display_name
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| f.schema_name.clone()),
            schema_name: f.schema_name,
            data_type,
            is_mandatory: f.is_mandatory,
            sequence: f.sequence.unwrap_or(i as i64 + 1),
            options: f.options,
        });
    }
    let (wanted_name, wanted_code) = (name.clone(), b.event_code);
    let ty = NewActivityType {
        guid: uuid::Uuid::nil(),
        event_code: b.event_code,
        display_name: b.display_name.unwrap_or_default(),
        name,
        score: b.score,
        description: b.description,
        direction: b.direction,
        kind,
        is_email_type: b.is_email_type,
        salesloft_type,
        fields,
    };
    let t = app
        .service
        .create_activity_type(&me, ty)
        .await
        .map_err(|e| match e {
            Error::Duplicate(m) => {
                let m = match wanted_code {
                    Some(code) if !m.contains("ActivityEventName") => {
                        format!("'event_code': {code} is taken by another activity type")
                    }
                    _ => format!(
                        "'name': an activity type named '{wanted_name}' already exists (names are unique case-insensitively)"
                    ),
                };
                ApiError::new(StatusCode::CONFLICT, "conflict", m)
            }
            other => other.into(),
        })?;
    Ok(created(type_json(&t)))
}

// ----- opportunities -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOpportunityBody {
    lead_guid: String,
    event_code: Option<i64>,
    note: Option<String>,
    status: Option<String>,
    occurred_at: Option<String>,
    owner_guid: Option<String>,
    #[serde(default)]
    fields: Map<String, Value>,
}

async fn create_opportunity(
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

async fn list_opportunities(
    State(app): State<AppState>,
    Caller(me): Caller,
    req: axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    let params = Params::parse(req.0.as_deref());
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

// ----- activities ----------------------------------------------------------------------------

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

async fn create_activities(
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

async fn get_activity(
    State(app): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
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

async fn edit_activity(
    State(app): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
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

async fn pin(
    State(app): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let edit = NativeEdit {
        pinned: Some(true),
        ..Default::default()
    };
    let a = app.service.edit_activity(&me, &id, edit).await?;
    Ok(Json(json!({ "data": activity_json(&a) })))
}

async fn unpin(
    State(app): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
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

async fn set_tags(
    State(app): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
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

async fn delete_activity(
    State(app): State<AppState>,
    Caller(me): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    app.service.delete_activity(&me, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

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
async fn export(
    State(app): State<AppState>,
    Caller(me): Caller,
    req: axum::extract::RawQuery,
) -> ApiResult<Response> {
    let params = Params::parse(req.0.as_deref());
    let after = match params.get("updated_after") {
        None => None,
        Some(v) => Some(parse_rfc3339(v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "'updated_after' must be an RFC 3339 timestamp, not '{v}'"
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

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not accept this HTTP method",
    )
}

async fn no_such_endpoint() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint")
}

fn m(r: MethodRouter<AppState>) -> MethodRouter<AppState> {
    r.fallback(method_not_allowed)
}

/// The `/api/v1` routes and `/openapi.json`.
pub fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/openapi.json", m(get(openapi)))
        .route("/api/v1/users", m(get(list_users).post(create_user)))
        .route("/api/v1/leads", m(get(list_leads).post(create_lead)))
        .route("/api/v1/leads/{guid}", m(get(get_lead).delete(delete_lead)))
        .route(
            "/api/v1/accounts",
            m(get(list_accounts).post(create_account)),
        )
        .route(
            "/api/v1/activity_types",
            m(get(list_types).post(create_type)),
        )
        .route(
            "/api/v1/opportunities",
            m(get(list_opportunities).post(create_opportunity)),
        )
        .route("/api/v1/activities", m(post(create_activities)))
        .route(
            "/api/v1/activities/{id}",
            m(get(get_activity)
                .patch(edit_activity)
                .delete(delete_activity)),
        )
        .route("/api/v1/activities/{id}/pin", m(post(pin).delete(unpin)))
        .route("/api/v1/activities/{id}/tags", m(put(set_tags)))
        .route("/api/v1/export", m(get(export)))
        .route("/api/v1/{*rest}", axum::routing::any(no_such_endpoint))
        .route("/api/v1", axum::routing::any(no_such_endpoint))
}
