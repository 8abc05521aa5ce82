//! `/api/v1/accounts`: listing and creating accounts.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{forbid_sales_user, Caller};
use super::error::ApiResult;
use super::input::{body, check_len, query, window};
use super::render::{account_json, created};
use crate::app::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccountBody {
    name: String,
    domain: Option<String>,
    owner_guid: Option<String>,
}

pub(super) async fn create_account(
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
        .await?;
    Ok(created(account_json(&a)))
}

pub(super) async fn list_accounts(
    State(app): State<AppState>,
    Caller(me): Caller,
    req: axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    let (after, limit) = window(&query(req.0.as_deref())?)?;
    let accounts = app.service.list_accounts(&me, after, limit).await?;
    let next = (accounts.len() == limit as usize)
        .then(|| accounts.last().map(|a| a.id))
        .flatten();
    Ok(Json(
        json!({"data": accounts.iter().map(account_json).collect::<Vec<_>>(), "next_after": next}),
    ))
}
