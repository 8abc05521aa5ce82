//! `/api/v1/webhooks`: a tenant's webhook subscriptions (Administrator only), their test event
//! and their delivery log.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::auth::{require_admin, Caller};
use super::error::{ApiError, ApiResult};
use super::input::{body, query, PathId};
use super::render::created;
use crate::app::AppState;
use crate::domain::time::format_rfc3339_micros;
use crate::domain::User;
use crate::error::{Error, Missing};
use crate::events::{self, Delivery, Event, NewWebhook, Webhook};

/// Default and largest page of the delivery log.
const DEFAULT_DELIVERIES: u32 = 50;
const MAX_DELIVERIES: u32 = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhookBody {
    url: String,
    events: Vec<String>,
    #[serde(default)]
    event_codes: Option<Vec<Value>>,
}

fn webhook_json(w: &Webhook) -> Value {
    json!({
        "id": w.guid,
        "url": w.url,
        "events": w.events.iter().map(|e| e.name()).collect::<Vec<_>>(),
        "event_codes": w.event_codes,
        "created_at": format_rfc3339_micros(w.created_at),
    })
}

fn delivery_json(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "guid": d.guid,
        "event": d.event,
        "state": d.state.as_str(),
        "attempts": d.attempts,
        "next_attempt_at": format_rfc3339_micros(d.next_attempt_at),
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": format_rfc3339_micros(d.created_at),
        "updated_at": format_rfc3339_micros(d.updated_at),
    })
}

/// An http(s) URL with a host (`events::check_url`).
fn check_url(url: &str) -> ApiResult<String> {
    events::check_url(url).map_err(|why| ApiError::invalid(format!("'url' {why}")))
}

fn check_events(names: &[String]) -> ApiResult<Vec<Event>> {
    if names.is_empty() {
        return Err(ApiError::invalid("'events' must name at least one event"));
    }
    if names.len() > Event::SUBSCRIBABLE.len() {
        return Err(ApiError::invalid(format!(
            "'events' names at most {} events",
            Event::SUBSCRIBABLE.len()
        )));
    }
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let e = Event::parse(name).ok_or_else(|| {
            ApiError::invalid(format!(
                "'events[{i}]' is not an event: '{name}'; expected one of {}",
                Event::SUBSCRIBABLE.map(Event::name).join(", ")
            ))
        })?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

async fn check_codes(
    app: &AppState,
    me: &User,
    codes: Option<Vec<Value>>,
) -> ApiResult<Option<Vec<i64>>> {
    let Some(codes) = codes else {
        return Ok(None);
    };
    if codes.is_empty() {
        return Err(ApiError::invalid(
            "'event_codes' must name at least one code, or be left out for every type",
        ));
    }
    if codes.len() > events::MAX_EVENT_CODES {
        return Err(ApiError::invalid(format!(
            "'event_codes' names at most {} codes",
            events::MAX_EVENT_CODES
        )));
    }
    let known = app
        .service
        .store()
        .list_activity_types(me.tenant_id)
        .await?;
    let mut out = Vec::with_capacity(codes.len());
    for (i, v) in codes.iter().enumerate() {
        let code = v
            .as_i64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Invalid value for 'event_codes[{i}]': expected an integer"
                ))
            })?;
        if !known.iter().any(|t| t.event_code == code) {
            return Err(ApiError::invalid(format!(
                "'event_codes[{i}]' is not an activity type of this tenant: {code}"
            )));
        }
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(Some(out))
}

fn webhook_guid(id: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| Error::NotFound(Missing::Webhook).into())
}

pub(super) async fn create_webhook(
    State(app): State<AppState>,
    Caller(me): Caller,
    b: Body,
) -> ApiResult<Response> {
    require_admin(&me, "manage webhooks")?;
    let b: NewWebhookBody = body(b).await?;
    let url = check_url(&b.url)?;
    let events = check_events(&b.events)?;
    let event_codes = check_codes(&app, &me, b.event_codes).await?;
    let hook = app
        .service
        .store()
        .create_webhook(
            me.tenant_id,
            NewWebhook {
                guid: Uuid::now_v7(),
                url,
                events,
                event_codes,
                secret: events::new_secret(),
                sl_event_type: None,
                user_guid: None,
            },
            events::MAX_WEBHOOKS,
        )
        .await?;
    let mut answer = webhook_json(&hook);
    answer["secret"] = json!(hook.secret);
    Ok(created(answer))
}

pub(super) async fn list_webhooks(
    State(app): State<AppState>,
    Caller(me): Caller,
) -> ApiResult<Json<Value>> {
    require_admin(&me, "manage webhooks")?;
    let hooks = app.service.store().list_webhooks(me.tenant_id).await?;
    // Salesloft's subscriptions are listed by `/v2/webhook_subscriptions` only.
    Ok(Json(json!({"data": hooks
        .iter()
        .filter(|w| w.sl_event_type.is_none())
        .map(webhook_json)
        .collect::<Vec<_>>()})))
}

async fn find(app: &AppState, me: &User, id: &str) -> ApiResult<Webhook> {
    let guid = webhook_guid(id)?;
    app.service
        .store()
        .list_webhooks(me.tenant_id)
        .await?
        .into_iter()
        .find(|w| w.guid == guid && w.sl_event_type.is_none())
        .ok_or_else(|| Error::NotFound(Missing::Webhook).into())
}

pub(super) async fn get_webhook(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
) -> ApiResult<Json<Value>> {
    require_admin(&me, "manage webhooks")?;
    let hook = find(&app, &me, &id).await?;
    Ok(Json(json!({"data": webhook_json(&hook)})))
}

pub(super) async fn delete_webhook(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
) -> ApiResult<StatusCode> {
    require_admin(&me, "manage webhooks")?;
    let guid = webhook_guid(&id)?;
    app.service
        .store()
        .delete_webhook(me.tenant_id, guid)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn test_webhook(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require_admin(&me, "manage webhooks")?;
    let guid = webhook_guid(&id)?;
    let delivery = app
        .service
        .store()
        .enqueue_test_event(me.tenant_id, guid)
        .await?
        .ok_or(Error::NotFound(Missing::Webhook))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"data": {"delivery": delivery, "event": Event::Test.name()}})),
    ))
}

pub(super) async fn list_deliveries(
    State(app): State<AppState>,
    Caller(me): Caller,
    PathId(id): PathId,
    req: axum::extract::RawQuery,
) -> ApiResult<Json<Value>> {
    require_admin(&me, "manage webhooks")?;
    let params = query(req.0.as_deref())?;
    let before = match params.get("before") {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| ApiError::bad_request("'before' must be an integer id"))?,
        ),
    };
    let limit = match params.get("limit") {
        None => DEFAULT_DELIVERIES,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_DELIVERIES).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("'limit' must be 1..={MAX_DELIVERIES}"))
            })?,
    };
    let guid = webhook_guid(&id)?;
    let rows = app
        .service
        .store()
        .webhook_deliveries(me.tenant_id, guid, before, limit)
        .await?
        .ok_or(Error::NotFound(Missing::Webhook))?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|d| d.id))
        .flatten();
    Ok(Json(json!({
        "data": rows.iter().map(delivery_json).collect::<Vec<_>>(),
        "next_before": next,
    })))
}
