//! LSQ user endpoints: Users.Get, User/Retrieve/ByEmailAddress, ByUserId, UserByAccessKey.Get.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde_json::{json, Value};

use super::{docs, Lsq, LsqResult};
use crate::app::AppState;
use crate::domain::User;

fn status_code(u: &User) -> i64 {
    if u.active {
        0
    } else {
        1
    }
}

fn user_row(u: &User) -> Value {
    json!({
        "ID": u.guid,
        "UserId": u.guid,
        "FirstName": u.first_name,
        "LastName": u.last_name,
        "EmailAddress": u.email,
        "Role": u.role.as_str(),
        "StatusCode": status_code(u),
    })
}

/// `GET /v2/UserManagement.svc/Users.Get`
#[utoipa::path(get, path = "/v2/UserManagement.svc/Users.Get", tag = "LeadSquared",
    operation_id = "lsq_users", summary = "The tenant's users",
    responses((status = 200, description = "The users", body = Vec<docs::UserRow>)))]
pub async fn list(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let users = app.service.list_users(&lsq.user).await?;
    Ok(Json(Value::Array(users.iter().map(user_row).collect())))
}

/// `GET /v2/UserManagement.svc/User/Retrieve/ByEmailAddress?emailAddress=…` — `[]` when missing or inactive.
///
/// Without `emailAddress` (or with a blank one) the answer is `[]`: no user has that address.
/// LeadSquared's PHP library sends exactly this to check a key pair (`user_authentication`) and
/// takes any `Status:"Error"` for refused keys, so the keys alone decide: good keys → `[]`,
/// bad keys → 401 in the envelope.
#[utoipa::path(get, path = "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress", tag = "LeadSquared",
    operation_id = "lsq_user_by_email", summary = "An active user by email address",
    params(("emailAddress" = Option<String>, Query, description = "The address (a space is read as `+`); absent or blank answers `[]` (a key check)")),
    responses((status = 200, description = "The user, or `[]` when missing, inactive or not asked for", body = Vec<docs::UserRow>)))]
pub async fn by_email(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let Some(email) = lsq
        .params
        .get("emailAddress")
        .filter(|e| !e.trim().is_empty())
    else {
        return Ok(Json(Value::Array(Vec::new())));
    };
    // Clients send the address un-encoded, so a `+` in it arrives decoded as a space; an email
    // address never contains a space, so put the `+` back.
    let email = email.trim().replace(' ', "+");
    let user = app.service.active_user_by_email(&lsq.user, &email).await?;
    Ok(Json(Value::Array(user.iter().map(user_row).collect())))
}

/// `GET /v2/UserManagement.svc/User/Retrieve/ByUserId?userId=…` — `[]` when missing or inactive.
#[utoipa::path(get, path = "/v2/UserManagement.svc/User/Retrieve/ByUserId", tag = "LeadSquared",
    operation_id = "lsq_user_by_id", summary = "An active user by GUID",
    params(("userId" = String, Query, min_length = 1, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$", description = "The user's GUID")),
    responses((status = 200, description = "The user, or `[]` when missing or inactive", body = Vec<docs::UserRow>)))]
pub async fn by_id(State(app): State<AppState>, lsq: Lsq) -> LsqResult<Json<Value>> {
    let id = lsq.param("userId")?;
    let user = app.service.active_user_by_guid(&lsq.user, id).await?;
    Ok(Json(Value::Array(user.iter().map(user_row).collect())))
}

/// `GET /v2/Authentication.svc/UserByAccessKey.Get` — the caller, with this server as its API host.
#[utoipa::path(get, path = "/v2/Authentication.svc/UserByAccessKey.Get", tag = "LeadSquared",
    operation_id = "lsq_caller", summary = "The caller (whose keys these are)",
    responses((status = 200, description = "The caller", body = docs::Caller)))]
pub async fn by_access_key(lsq: Lsq, headers: HeaderMap) -> LsqResult<Json<Value>> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let u = &lsq.user;
    Ok(Json(json!({
        "Id": u.guid,
        "Name": u.full_name(),
        "FirstName": u.first_name,
        "LastName": u.last_name,
        "EmailAddress": u.email,
        "Role": u.role.as_str(),
        "OrgId": u.tenant_guid,
        "TimeZone": "UTC",
        "LSQCommonServiceURLs": {"api": host, "app": host},
    })))
}
