//! `/v2/webhook_subscriptions`: Salesloft's webhook subscriptions, kept beside the native ones
//! and delivered through the same outbox and dispatcher (`crate::events::salesloft`).
//!
//! A team's Administrators manage them, as they do the native ones. Bodies are JSON or
//! form-encoded; problems are answered in Salesloft's 422 `{"errors":{field:[…]}}`, every problem
//! at once, and change nothing.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use super::query::Errors;
use super::writes::{note_id as positive_id, read_body, unprocessable, Fields};
use super::SlError;
use crate::app::AppState;
use crate::domain::{Role, User};
use crate::events::salesloft::{SlEvent, SERVED};
use crate::events::{self, NewWebhook, Webhook};

/// The longest callback token kept, in characters.
const MAX_TOKEN: usize = 255;

/// A Subscription as Salesloft's schema has it.
fn subscription_json(w: &Webhook, tenant_id: i64) -> Value {
    json!({
        "id": w.id,
        "callback_url": w.url,
        "callback_token": w.secret,
        "enabled": w.enabled,
        "event_type": w.sl_event_type,
        "tenant_id": tenant_id,
        "user_guid": w.user_guid,
    })
}

fn admin_only(user: &User) -> Result<(), SlError> {
    if user.role == Role::Administrator {
        Ok(())
    } else {
        Err(SlError::new(
            StatusCode::FORBIDDEN,
            "Only a team admin may manage webhook subscriptions",
        ))
    }
}

/// The tenant's Salesloft subscriptions (the native API's are not shown here).
async fn subscriptions(app: &AppState, user: &User) -> Result<Vec<Webhook>, Response> {
    match app.service.store().list_webhooks(user.tenant_id).await {
        Ok(all) => Ok(all
            .into_iter()
            .filter(|w| w.sl_event_type.is_some())
            .collect()),
        Err(e) => Err(SlError::from(e).into_response()),
    }
}

/// `true`/`false` (any case), as a JSON boolean or as text.
fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `GET /v2/webhook_subscriptions`
#[utoipa::path(get, path = "/v2/webhook_subscriptions", tag = "Salesloft",
    operation_id = "salesloft_webhook_subscriptions", summary = "List webhook subscriptions",
    description = "The team's subscriptions made through this API, by ascending id (those of the native `/api/v1/webhooks` are not listed here). Team admins only.",
    params(("enabled" = Option<bool>, Query, description = "Only enabled (true) or disabled (false) subscriptions")),
    responses(
        (status = 200, description = "The subscriptions", body = SubscriptionList),
        (status = 403, description = "The caller is not a team admin", body = super::docs::ErrorBody),
        (status = 422, description = "`enabled` is not true or false", body = super::docs::ValidationErrors),
    ))]
pub async fn list(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    req: Request,
) -> Response {
    if let Err(e) = admin_only(&user) {
        return e.into_response();
    }
    let mut enabled = None;
    let mut errors = Errors::default();
    for p in super::query::parse_raw(req.uri().query()) {
        if p.name == "enabled" {
            match flag(&Value::String(p.value.clone())) {
                Some(b) => enabled = Some(b),
                None => errors.add("enabled", "must be true or false"),
            }
        }
    }
    if !errors.is_empty() {
        return unprocessable(&errors);
    }
    match subscriptions(&app, &user).await {
        Ok(subs) => Json(json!({"data": subs
            .iter()
            .filter(|w| enabled.is_none_or(|e| w.enabled == e))
            .map(|w| subscription_json(w, user.tenant_id))
            .collect::<Vec<_>>()}))
        .into_response(),
        Err(r) => r,
    }
}

/// `POST /v2/webhook_subscriptions`
#[utoipa::path(post, path = "/v2/webhook_subscriptions", tag = "Salesloft",
    operation_id = "salesloft_webhook_subscription_create", summary = "Create a webhook subscription",
    description = "Every event of `event_type` is then POSTed to `callback_url`: the resource as its `GET …/{id}` answers it (a Call, Email, Meeting, Note or Person), with `callback_token` added, and the headers `x-salesloft-event` (the event type) and `x-salesloft-signature` (hex HMAC-SHA1 of the body keyed by the callback token). Deliveries are written in the transaction of the change, retried, and sent one at a time per subscription in commit order. Served event types: call_created, call_updated, email_updated, meeting_booked, meeting_updated, note_created, note_updated, note_deleted, person_created, person_updated. A team holds at most 10 subscriptions, native and Salesloft together. Team admins only.",
    request_body(content(
        (SubscriptionCreate = "application/json"),
        (SubscriptionCreate = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionOne),
        (status = 400, description = "The body is not a JSON object", body = super::docs::ErrorBody),
        (status = 403, description = "The caller is not a team admin", body = super::docs::ErrorBody),
        (status = 409, description = "The team already holds the most subscriptions it may", body = super::docs::ErrorBody),
        (status = 422, description = "Invalid properties, each named with its problems", body = super::docs::ValidationErrors),
    ))]
pub async fn create(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    _key: super::KeyClaimed,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(e) = admin_only(&user) {
        return e.into_response();
    }
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut f = Fields {
        body: &body,
        errors: Errors::default(),
    };
    for name in ["callback_url", "callback_token", "event_type"] {
        f.required(name);
    }
    let url = f
        .text("callback_url", None)
        .and_then(|u| match events::check_url(&u) {
            Ok(u) => Some(u),
            Err(why) => {
                f.errors.add("callback_url", why);
                None
            }
        });
    let token = f.text("callback_token", Some(MAX_TOKEN)).filter(|t| {
        let blank = t.trim().is_empty();
        if blank {
            f.errors.add("callback_token", "can't be blank");
        }
        !blank
    });
    let event = f.text("event_type", None).and_then(|name| {
        let found = SlEvent::parse(&name);
        if found.is_none() {
            f.errors.add(
                "event_type",
                format!(
                    "is not an event type this server sends: '{name}'; served: {}",
                    SlEvent::served_names()
                ),
            );
        }
        found
    });
    let (Some(url), Some(token), Some(event), true) = (url, token, event, f.errors.is_empty())
    else {
        return unprocessable(&f.errors);
    };
    let hook = NewWebhook {
        guid: Uuid::now_v7(),
        url,
        events: vec![event.event],
        event_codes: None,
        secret: token,
        sl_event_type: Some(event.name.to_string()),
        user_guid: Some(user.guid),
    };
    match app
        .service
        .store()
        .create_webhook(user.tenant_id, hook, events::MAX_WEBHOOKS)
        .await
    {
        Ok(w) => Json(json!({"data": subscription_json(&w, user.tenant_id)})).into_response(),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// The id of the path, or the answer for one that names no subscription.
fn path_id(id: Result<Path<String>, PathRejection>) -> Result<i64, SlError> {
    match positive_id(id) {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(SlError::not_found()),
        Err(e) => Err(e),
    }
}

/// `GET /v2/webhook_subscriptions/{id}`
#[utoipa::path(get, path = "/v2/webhook_subscriptions/{id}", tag = "Salesloft",
    operation_id = "salesloft_webhook_subscription", summary = "Fetch a webhook subscription",
    params(("id" = i64, Path, minimum = 1, description = "The subscription's id")),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionOne),
        (status = 400, description = "The path segment is not UTF-8 once percent-decoded", body = super::docs::ErrorBody),
        (status = 403, description = "The caller is not a team admin", body = super::docs::ErrorBody),
        (status = 404, description = "The team has no such subscription", body = super::docs::ErrorBody),
    ))]
pub async fn one(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    if let Err(e) = admin_only(&user) {
        return e.into_response();
    }
    let id = match path_id(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    match subscriptions(&app, &user).await {
        Ok(subs) => match subs.iter().find(|w| w.id == id) {
            Some(w) => Json(json!({"data": subscription_json(w, user.tenant_id)})).into_response(),
            None => SlError::not_found().into_response(),
        },
        Err(r) => r,
    }
}

/// `PUT /v2/webhook_subscriptions/{id}` — enables or disables; a disabled subscription keeps its
/// place but gets no deliveries of the events that happen while it is disabled.
#[utoipa::path(put, path = "/v2/webhook_subscriptions/{id}", tag = "Salesloft",
    operation_id = "salesloft_webhook_subscription_update", summary = "Update a webhook subscription",
    description = "Without `enabled` nothing changes. Events that happen while a subscription is disabled are not sent later.",
    params(("id" = i64, Path, minimum = 1, description = "The subscription's id")),
    request_body(content(
        (SubscriptionUpdate = "application/json"),
        (SubscriptionUpdate = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionOne),
        (status = 400, description = "The body is not a JSON object, or the path segment is not UTF-8", body = super::docs::ErrorBody),
        (status = 403, description = "The caller is not a team admin", body = super::docs::ErrorBody),
        (status = 404, description = "The team has no such subscription", body = super::docs::ErrorBody),
        (status = 422, description = "`enabled` is not a boolean", body = super::docs::ValidationErrors),
    ))]
pub async fn update(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    _key: super::KeyClaimed,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(e) = admin_only(&user) {
        return e.into_response();
    }
    let id = match path_id(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let body = match read_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let enabled = match body.get("enabled").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => match flag(v) {
            Some(b) => Some(b),
            None => {
                let mut errors = Errors::default();
                errors.add("enabled", "must be true or false");
                return unprocessable(&errors);
            }
        },
    };
    let found = match enabled {
        Some(e) => app
            .service
            .store()
            .set_webhook_enabled(user.tenant_id, id, e)
            .await
            .map_err(|e| SlError::from(e).into_response()),
        None => subscriptions(&app, &user)
            .await
            .map(|subs| subs.into_iter().find(|w| w.id == id)),
    };
    match found {
        Ok(Some(w)) => Json(json!({"data": subscription_json(&w, user.tenant_id)})).into_response(),
        Ok(None) => SlError::not_found().into_response(),
        Err(r) => r,
    }
}

/// `DELETE /v2/webhook_subscriptions/{id}` — as Salesloft documents it, repeatable: 204 whether
/// or not the team had such a subscription (another team's id included, which stays).
#[utoipa::path(delete, path = "/v2/webhook_subscriptions/{id}", tag = "Salesloft",
    operation_id = "salesloft_webhook_subscription_delete", summary = "Delete a webhook subscription",
    description = "Its pending deliveries go with it.",
    params(("id" = i64, Path, minimum = 1, description = "The subscription's id")),
    responses(
        (status = 204, description = "No such subscription remains (whether or not there was one)"),
        (status = 400, description = "The path segment is not UTF-8 once percent-decoded", body = super::docs::ErrorBody),
        (status = 403, description = "The caller is not a team admin", body = super::docs::ErrorBody),
        (status = 404, description = "The path is no positive 64-bit integer", body = super::docs::ErrorBody),
    ))]
pub async fn delete(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    _key: super::KeyClaimed,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    if let Err(e) = admin_only(&user) {
        return e.into_response();
    }
    let id = match path_id(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    match app
        .service
        .store()
        .delete_sl_webhook(user.tenant_id, id)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// One of the served event types ([`SERVED`]).
pub struct EventTypeName;

impl PartialSchema for EventTypeName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .enum_values(Some(SERVED.map(|e| e.name)))
            .into()
    }
}
impl ToSchema for EventTypeName {
    fn name() -> std::borrow::Cow<'static, str> {
        "SalesloftWebhookEventType".into()
    }
}

/// Salesloft's Subscription.
#[derive(ToSchema)]
#[schema(as = SalesloftSubscription)]
pub struct Subscription {
    pub id: i64,
    pub callback_url: String,
    /// Sent back in every event's body and the key of its `x-salesloft-signature`.
    pub callback_token: String,
    pub enabled: bool,
    #[schema(value_type = EventTypeName)]
    pub event_type: String,
    /// The team's id.
    pub tenant_id: i64,
    /// The user whose key made the subscription.
    #[schema(format = Uuid)]
    pub user_guid: String,
}

#[derive(ToSchema)]
#[schema(as = SalesloftSubscriptionList)]
pub struct SubscriptionList {
    pub data: Vec<Subscription>,
}

#[derive(ToSchema)]
#[schema(as = SalesloftSubscriptionOne)]
pub struct SubscriptionOne {
    pub data: Subscription,
}

/// The properties of `POST /v2/webhook_subscriptions`.
#[derive(ToSchema)]
#[schema(as = SalesloftSubscriptionCreate)]
pub struct SubscriptionCreate {
    /// An http(s) URL with a host, at most 2048 bytes, without credentials (the pattern is what
    /// this document promises to accept; any URL with an http(s) scheme and a host is taken).
    /// Deliveries go to this URL only; redirects are not followed.
    #[schema(
        max_length = 2048,
        pattern = "^https?://[A-Za-z0-9]+(\\.[A-Za-z0-9]+)*(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~-]*)*$"
    )]
    pub callback_url: String,
    /// Any text of at most 255 characters that is not blank.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
    )]
    pub callback_token: String,
    #[schema(value_type = EventTypeName)]
    pub event_type: String,
}

/// The properties of `PUT /v2/webhook_subscriptions/{id}`.
#[derive(ToSchema)]
#[schema(as = SalesloftSubscriptionUpdate)]
pub struct SubscriptionUpdate {
    #[schema(required = false)]
    pub enabled: bool,
}

/// The answer to a method these routes do not serve.
async fn method_not_allowed() -> SlError {
    SlError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint does not accept this method",
    )
}

/// The subscriptions' routes; the dialect puts them behind its Bearer/rate-limit guard.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    let refuse = |r| crate::api::extract::refuse_other_methods(r, method_not_allowed);
    axum::Router::new()
        .route("/v2/webhook_subscriptions", refuse(get(list).post(create)))
        .route(
            "/v2/webhook_subscriptions/{id}",
            refuse(get(one).put(update).delete(delete)),
        )
}
