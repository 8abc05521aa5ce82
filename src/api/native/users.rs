//! `/api/v1/users`: listing the tenant's users and creating one with its keys (Administrator).

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{require_admin, Caller};
use super::error::{ApiError, ApiResult};
use super::input::{body, check_len};
use super::render::{created, user_json};
use crate::app::AppState;
use crate::domain::fields::looks_like_email;
use crate::domain::Role;

pub(super) async fn list_users(
    State(app): State<AppState>,
    Caller(me): Caller,
) -> ApiResult<Json<Value>> {
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

pub(super) async fn create_user(
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
