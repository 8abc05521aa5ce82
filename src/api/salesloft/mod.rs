//! The Salesloft dialect: `GET /v2/activity_histories[/{id}]`, `GET /v2/me`, the activity
//! resources (`streams`, `writes`), the people, accounts and users lists (`people`) and the
//! webhook subscriptions (`webhooks`), with Bearer auth, the per-tenant cost budget and its
//! headers, and Salesloft's error bodies.

pub mod docs;
pub mod people;
pub mod query;
pub mod stream_docs;
pub mod streams;
pub mod webhooks;
pub mod writes;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use crate::api::extract::{
    authenticate, bearer_token, locked_out_text, path_rejection, refuse_other_methods,
    retry_after_secs, AuthRefused,
};
use crate::api::json_out::{page_capacity, respond, JsonOut};
use crate::app::AppState;
use crate::domain::time::rfc3339_micros_text;
use crate::domain::{ActivitySort, ActivityView, ResourceKind, User};
use crate::error::Error;

/// Salesloft's per-team budget: cost units per minute.
pub const BUDGET_PER_MINUTE: u64 = 600;

/// An error as Salesloft renders it: `{"error":"…"}` (422s use `query::Errors` instead).
#[derive(Debug)]
pub struct SlError {
    status: StatusCode,
    message: String,
}

impl SlError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> SlError {
        SlError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn not_found() -> SlError {
        SlError::new(StatusCode::NOT_FOUND, "Not Found")
    }
}

impl From<Error> for SlError {
    fn from(e: Error) -> SlError {
        let status = match &e {
            Error::InvalidInput(_)
            | Error::InvalidValue { .. }
            | Error::Invalid { .. }
            | Error::Required(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Duplicate(_) | Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match e.hidden_text() {
            Some(text) => text.to_string(),
            None => e.to_string(),
        };
        SlError::new(status, message)
    }
}

impl IntoResponse for SlError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

fn set_header(resp: &mut Response, name: &'static str, value: u64) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        resp.headers_mut().insert(name, v);
    }
}

/// Authenticates the Bearer key, spends the request's cost from the tenant's budget and stamps
/// `x-ratelimit-endpoint-cost` / `x-ratelimit-remaining-minute` on whatever the handler answers
/// (public clients pace themselves by these; without them they sleep a minute per page).
async fn guard(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = bearer_token(req.headers()).map(str::to_string);
    let cost = query::cost_of(&query::parse_raw(req.uri().query()));
    // Before a team is known nothing is spent: the endpoint's cost and a whole budget.
    let unspent = |mut resp: Response| {
        set_header(&mut resp, "x-ratelimit-endpoint-cost", cost);
        set_header(&mut resp, "x-ratelimit-remaining-minute", BUDGET_PER_MINUTE);
        resp
    };
    let Some(token) = token else {
        return unspent(
            SlError::new(
                StatusCode::UNAUTHORIZED,
                "No Bearer Token attached to request",
            )
            .into_response(),
        );
    };
    let check = app.service.authenticate_bearer(&token);
    let user = match authenticate(&app, req.extensions(), check).await {
        Ok(u) => u,
        Err(AuthRefused::Failed(Error::Unauthorized(_))) => {
            return unspent(
                SlError::new(StatusCode::UNAUTHORIZED, "Invalid Bearer Token").into_response(),
            )
        }
        Err(AuthRefused::Failed(e)) => return unspent(SlError::from(e).into_response()),
        Err(AuthRefused::LockedOut(wait)) => {
            let mut resp =
                SlError::new(StatusCode::TOO_MANY_REQUESTS, locked_out_text(&app)).into_response();
            set_header(&mut resp, "retry-after", retry_after_secs(wait));
            return unspent(resp);
        }
    };
    let remaining = match &app.sl_limiter {
        Some(limiter) => {
            let d = limiter
                .acquire(&format!("sl-team:{}", user.tenant_guid), cost)
                .await;
            if !d.allowed {
                crate::telemetry::rate_limit_refused("salesloft");
                let mut resp = SlError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Rate limit exceeded: {} cost per minute for this team",
                        limiter.limit()
                    ),
                )
                .into_response();
                set_header(&mut resp, "retry-after", retry_after_secs(d.retry_after));
                set_header(&mut resp, "x-ratelimit-endpoint-cost", cost);
                set_header(&mut resp, "x-ratelimit-remaining-minute", d.remaining);
                return resp;
            }
            d.remaining
        }
        // `--no-rate-limit`: still tell clients they have the whole budget, so they never wait.
        None => BUDGET_PER_MINUTE,
    };
    req.extensions_mut().insert(user);
    let mut resp = next.run(req).await;
    set_header(&mut resp, "x-ratelimit-endpoint-cost", cost);
    set_header(&mut resp, "x-ratelimit-remaining-minute", remaining);
    resp
}

/// The `Idempotency-Key` claim of a Salesloft write (`api::idempotency`), made once `guard` has
/// authenticated the caller. An extractor of the write handlers rather than a step of `guard`, so
/// that a method a route does not serve is answered 405 without claiming the key.
pub struct KeyClaimed;

impl axum::extract::FromRequestParts<AppState> for KeyClaimed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<KeyClaimed, Response> {
        let Some(user) = parts.extensions.get::<User>().cloned() else {
            return Ok(KeyClaimed);
        };
        match crate::api::idempotency::claim(state, &parts.extensions, &user).await {
            Ok(()) => Ok(KeyClaimed),
            Err(crate::api::idempotency::Refusal::Failed(e)) => {
                Err(SlError::from(e).into_response())
            }
            Err(r) => {
                let mut resp = SlError::new(r.status(), r.message()).into_response();
                if let Some(secs) = r.retry_after() {
                    set_header(&mut resp, "retry-after", secs);
                }
                Err(resp)
            }
        }
    }
}

/// The keys the activity's own attributes set in `static_data`; they win over natively given keys
/// of the same name, which keep their place.
const OWN_STATIC_KEYS: [&str; 5] = [
    "activity_event",
    "activity_event_name",
    "note",
    "fields",
    "status",
];

/// Writes one ActivityHistory as Salesloft renders it (mapping table of salesloft.md), straight
/// from the row: building a `serde_json::Value` tree per row cost more than reading the rows, and
/// serde's map machinery a quarter of a page (docs/benchmarks.md).
fn write_history(o: &mut JsonOut, a: &ActivityView) -> serde_json::Result<()> {
    o.begin_object();
    o.key("id");
    o.str_parts(&[&a.salesloft_type, "-", itoa::Buffer::new().format(a.id)]);
    o.key("type");
    o.str(&a.salesloft_type);
    o.key("occurred_at");
    o.str(rfc3339_micros_text(a.occurred_at).as_str());
    o.key("created_at");
    o.str(rfc3339_micros_text(a.created_at).as_str());
    o.key("updated_at");
    o.str(rfc3339_micros_text(a.updated_at).as_str());
    o.key("pinned_at");
    match a.pinned_at {
        Some(at) => o.str(rfc3339_micros_text(at).as_str()),
        None => o.null(),
    }
    o.key("resource_type");
    o.str(a.resource_kind.as_str());
    o.key("resource_id");
    match a.resource_kind {
        ResourceKind::Opportunity => o.opt_uuid(a.resource_guid.as_ref()),
        _ => o.int(a.resource_id),
    }
    o.key("user_guid");
    o.uuid(&a.owner_guid);
    o.key("tags");
    o.begin_array();
    for tag in &a.tags {
        o.str(tag);
    }
    o.end_array();
    o.key("static_data");
    write_static_data(o, a)?;
    o.key("dynamic_data");
    write_dynamic_data(o, a);
    o.key("failed_dynamic_resources");
    o.begin_array();
    if a.lead_id.is_some() && a.lead_deleted {
        o.str("person");
    }
    o.end_array();
    o.end_object();
    Ok(())
}

/// `static_data`: the natively given keys in their order, then the activity's own attributes.
fn write_static_data(o: &mut JsonOut, a: &ActivityView) -> serde_json::Result<()> {
    let own = |o: &mut JsonOut, key: &str| match key {
        "activity_event" => {
            o.key("activity_event");
            o.int(a.event_code);
        }
        "activity_event_name" => {
            o.key("activity_event_name");
            o.str(&a.type_display_name);
        }
        "note" => {
            o.key("note");
            o.str(&a.note);
        }
        "fields" => {
            o.key("fields");
            o.raw(a.fields.as_json());
        }
        "status" => {
            o.key("status");
            o.str(&a.status);
        }
        _ => {}
    };
    let given = &a.static_data;
    o.begin_object();
    for (k, v) in given {
        if OWN_STATIC_KEYS.contains(&k.as_str()) {
            own(o, k);
        } else {
            o.key_str(k);
            o.serde(v)?;
        }
    }
    for key in OWN_STATIC_KEYS {
        if !given.contains_key(key) {
            own(o, key);
        }
    }
    o.end_object();
    Ok(())
}

/// `dynamic_data`: the person (unless deleted), account, opportunity and user of the activity.
fn write_dynamic_data(o: &mut JsonOut, a: &ActivityView) {
    o.begin_object();
    if a.lead_id.is_some() && !a.lead_deleted {
        o.key("person");
        o.begin_object();
        o.key("id");
        o.opt_int(a.lead_id);
        o.key("guid");
        o.opt_uuid(a.lead_guid.as_ref());
        o.key("first_name");
        o.opt_str(a.lead_first_name.as_deref());
        o.key("last_name");
        o.opt_str(a.lead_last_name.as_deref());
        o.key("display_name");
        o.str_parts(&crate::domain::name_parts(
            a.lead_first_name.as_deref().unwrap_or_default(),
            a.lead_last_name.as_deref().unwrap_or_default(),
        ));
        o.key("email_address");
        o.opt_str(a.lead_email.as_deref());
        o.end_object();
    }
    if let Some(id) = a.account_id {
        o.key("account");
        o.begin_object();
        o.key("id");
        o.int(id);
        o.key("name");
        o.opt_str(a.account_name.as_deref());
        o.end_object();
    }
    if a.resource_kind == ResourceKind::Opportunity {
        o.key("crm_opportunity");
        o.begin_object();
        o.key("id");
        o.opt_uuid(a.resource_guid.as_ref());
        o.key("name");
        o.opt_str(a.opportunity_name.as_deref());
        o.key("status");
        o.opt_str(a.opportunity_status.as_deref());
        o.end_object();
    }
    o.key("user");
    o.begin_object();
    o.key("guid");
    o.uuid(&a.owner_guid);
    o.key("name");
    o.str(&a.owner_name);
    o.end_object();
    o.end_object();
}

/// `GET /v2/activity_histories`
#[utoipa::path(get, path = "/v2/activity_histories", tag = "Salesloft",
    operation_id = "salesloft_activity_histories", summary = "List Past Activities",
    description = "Newest first by default. Arrays may be sent as `x[]=a&x[]=b`, `x=a&x=b` or `x=a,b`; unknown parameters are ignored. Every problem with the parameters is answered at once in one 422.",
    params(
        ("per_page" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Page size (default 25)"),
        ("page" = Option<docs::PageNumber>, Query, description = "Page number (default 1). Pages 101-150 cost 3 from the budget, 151-250 8, 251-500 10, 501 and beyond 30, all else 1"),
        ("include_paging_counts" = Option<bool>, Query, description = "Answer total_count and total_pages"),
        ("limit_paging_counts" = Option<bool>, Query, description = "Cap total_count at 10000"),
        ("sort_by" = Option<docs::SortKey>, Query, description = "Sort key (default occurred_at)"),
        ("sort" = Option<docs::SortKey>, Query, description = "Sort key, when sort_by is not given"),
        ("sort_direction" = Option<String>, Query, pattern = "^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$", description = "ASC or DESC, any case (default DESC)"),
        ("type" = Option<Vec<docs::TypeName>>, Query, style = Form, explode, description = "Activity types, on any resource"),
        ("type[]" = Option<Vec<docs::TypeName>>, Query, style = Form, explode, description = "Activity types, on any resource"),
        ("type[person][]" = Option<Vec<docs::TypeName>>, Query, style = Form, explode, description = "Activity types on persons"),
        ("type[account][]" = Option<Vec<docs::TypeName>>, Query, style = Form, explode, description = "Activity types on accounts"),
        ("type[crm_opportunity][]" = Option<Vec<docs::TypeName>>, Query, style = Form, explode, description = "Activity types on opportunities"),
        ("occurred_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601 (a year from 0001 to 9999, UTC); also gte, lt, lte"),
        ("occurred_at[gte]" = Option<String>, Query, format = DateTime),
        ("occurred_at[lt]" = Option<String>, Query, format = DateTime),
        ("occurred_at[lte]" = Option<String>, Query, format = DateTime),
        ("updated_at[gt]" = Option<String>, Query, format = DateTime, description = "ISO-8601; with sort_by=updated_at&sort_direction=ASC a cursor that sees every record once"),
        ("updated_at[gte]" = Option<String>, Query, format = DateTime),
        ("updated_at[lt]" = Option<String>, Query, format = DateTime),
        ("updated_at[lte]" = Option<String>, Query, format = DateTime),
        ("pinned" = Option<bool>, Query, description = "Only pinned (true) or unpinned (false) activities"),
        ("resource_type" = Option<Vec<docs::ResourceTypeName>>, Query, style = Form, explode, description = "Only activities on these kinds of record"),
        ("resource_id" = Option<Vec<String>>, Query, style = Form, explode, description = "Only activities on these records (needs resource_type; integers for person and account, GUIDs for crm_opportunity)"),
        ("id" = Option<Vec<docs::ActivityId>>, Query, style = Form, explode, description = "Only these activities"),
        ("ids" = Option<Vec<docs::ActivityId>>, Query, style = Form, explode, description = "Only these activities"),
        ("user_guid" = Option<Vec<String>>, Query, style = Form, explode, description = "Only activities these users own"),
    ),
    responses(
        (status = 200, description = "One page", body = docs::HistoryList),
        (status = 422, description = "Invalid parameters, each named with its problems", body = docs::ValidationErrors),
    ))]
async fn list(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    req: Request,
) -> Response {
    let params = query::parse_raw(req.uri().query());
    let r = match query::parse_list(&params) {
        Ok(r) => r,
        Err(errors) => {
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(errors.to_json())).into_response()
        }
    };
    let sort_by = match r.filter.sort {
        ActivitySort::UpdatedAt => "updated_at",
        _ => "occurred_at",
    };
    let descending = r.filter.descending;
    let page = match app.service.activity_histories(&user, r.filter).await {
        Ok(p) => p,
        Err(e) => return SlError::from(e).into_response(),
    };
    let per_page = r.paging.per_page as usize;
    let has_next = page.rows.len() > per_page;
    let shown = page.rows.len().min(per_page);
    let metadata = query::metadata(
        r.filtering,
        &r.paging,
        has_next,
        page.total,
        sort_by,
        descending,
    );
    list_answer(&metadata, &page.rows[..shown], write_history)
}

/// A list's answer, `{"metadata": …, "data": [the rows as `write` writes each]}`.
pub(super) fn list_answer(
    metadata: &Value,
    rows: &[ActivityView],
    write: impl Fn(&mut JsonOut, &ActivityView) -> serde_json::Result<()>,
) -> Response {
    respond((|| {
        let mut o = JsonOut::with_capacity(page_capacity(rows.len()));
        o.begin_object();
        o.key("metadata");
        o.serde(metadata)?;
        o.key("data");
        o.begin_array();
        for a in rows {
            write(&mut o, a)?;
        }
        o.end_array();
        o.end_object();
        Ok(o)
    })())
}

/// `GET /v2/activity_histories/{id}` — `call-12` or `12`; 404 when absent or not visible. A
/// segment that does not decode (`%FF`) is answered in Salesloft's `{"error":…}`, not axum's text.
#[utoipa::path(get, path = "/v2/activity_histories/{id}", tag = "Salesloft",
    operation_id = "salesloft_activity_history", summary = "Fetch a Past Activity",
    params(("id" = docs::ActivityId, Path, description = "`call-12` or `12`")),
    responses(
        (status = 200, description = "The activity", body = docs::HistoryOne),
        (status = 400, description = "The path segment is not UTF-8 once percent-decoded", body = docs::ErrorBody),
        (status = 404, description = "No such activity the caller may see", body = docs::ErrorBody),
    ))]
async fn one(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match id {
        Ok(Path(id)) => id,
        Err(rejection) => {
            let (status, message) = path_rejection(&rejection);
            return SlError::new(status, message).into_response();
        }
    };
    let Some(f) = query::parse_activity_id(&id) else {
        return SlError::not_found().into_response();
    };
    match app
        .service
        .activity_history(&user, f.id, f.sl_type.as_deref())
        .await
    {
        Ok(Some(a)) => respond((|| {
            let mut o = JsonOut::with_capacity(page_capacity(1));
            o.begin_object();
            o.key("data");
            write_history(&mut o, &a)?;
            o.end_object();
            Ok(o)
        })()),
        Ok(None) => SlError::not_found().into_response(),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// `GET /v2/me` — the token's user; clients call it to check a token.
#[utoipa::path(get, path = "/v2/me", tag = "Salesloft", operation_id = "salesloft_me",
    summary = "The token's user",
    responses((status = 200, description = "The user", body = docs::MeAnswer)))]
async fn me(Extension(user): Extension<User>) -> Json<Value> {
    Json(json!({"data": {
        "id": user.id,
        "guid": user.guid,
        "name": user.full_name(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": {"id": user.role.as_str()},
        "team": {"id": user.tenant_guid},
        "active": user.active,
    }}))
}

async fn method_not_allowed() -> SlError {
    SlError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint only accepts GET",
    )
}

/// The Salesloft calls in `/openapi.json`, generated from the handlers' `#[utoipa::path]`; the
/// errors and rate headers every call shares are added by `crate::api::openapi`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list,
        one,
        me,
        people::people,
        people::person,
        people::accounts,
        people::account,
        people::users,
        people::user,
        webhooks::list,
        webhooks::create,
        webhooks::one,
        webhooks::update,
        webhooks::delete
    ),
    components(schemas(
        docs::ErrorBody,
        docs::TypeName,
        docs::ResourceTypeName,
        docs::ActivityId,
        docs::ResourceId,
        docs::PageNumber,
        docs::PeopleSortKey,
        docs::AccountSortKey,
        docs::UserSortKey,
        docs::RoleName,
        docs::RecordId,
        docs::RecordIdOrNull,
        stream_docs::CallSortKey,
        stream_docs::EmailSortKey,
        stream_docs::NoteSortKey,
        stream_docs::MeetingSortKey,
        stream_docs::CrmActivitySortKey,
        webhooks::EventTypeName
    ))
)]
pub struct ApiDoc;

/// The Salesloft routes, each behind the Bearer/rate-limit guard.
pub fn routes(state: AppState) -> Router<AppState> {
    let only_get = |r| refuse_other_methods(r, method_not_allowed);
    Router::new()
        .route("/v2/activity_histories", only_get(get(list)))
        .route("/v2/activity_histories/{id}", only_get(get(one)))
        .route("/v2/me", only_get(get(me)))
        .merge(streams::routes())
        .merge(webhooks::routes())
        .route("/v2/people", only_get(get(people::people)))
        .route("/v2/people/{id}", only_get(get(people::person)))
        .route("/v2/accounts", only_get(get(people::accounts)))
        .route("/v2/accounts/{id}", only_get(get(people::account)))
        .route("/v2/users", only_get(get(people::users)))
        .route("/v2/users/{id}", only_get(get(people::user)))
        .route_layer(middleware::from_fn_with_state(state, guard))
}
