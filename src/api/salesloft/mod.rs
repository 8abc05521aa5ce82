//! The Salesloft dialect: `GET /v2/activity_histories[/{id}]` and `GET /v2/me`, with Bearer
//! auth, the per-tenant cost budget and its headers, and Salesloft's error bodies.

pub mod query;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{Extension, Json, Router};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Value};

use crate::api::SizedJson;
use crate::app::AppState;
use crate::domain::time::format_rfc3339_micros;
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

    fn not_found() -> SlError {
        SlError::new(StatusCode::NOT_FOUND, "Not Found")
    }
}

impl From<Error> for SlError {
    fn from(e: Error) -> SlError {
        let status = match &e {
            Error::InvalidInput(_) | Error::MandatoryMissing(_) | Error::InvalidFields(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Duplicate(_) => StatusCode::CONFLICT,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme is case-insensitive (RFC 9110).
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
        .map(str::to_string);
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
    let user = match app.service.authenticate_bearer(&token).await {
        Ok(u) => u,
        Err(Error::Unauthorized(_)) => {
            return unspent(
                SlError::new(StatusCode::UNAUTHORIZED, "Invalid Bearer Token").into_response(),
            )
        }
        Err(e) => return unspent(SlError::from(e).into_response()),
    };
    let remaining = match &app.sl_limiter {
        Some(limiter) => {
            let d = limiter
                .acquire(&format!("sl-team:{}", user.tenant_guid), cost)
                .await;
            if !d.allowed {
                let mut resp = SlError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Rate limit exceeded: {} cost per minute for this team",
                        limiter.limit()
                    ),
                )
                .into_response();
                set_header(
                    &mut resp,
                    "retry-after",
                    d.retry_after.as_secs_f64().ceil().max(1.0) as u64,
                );
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

/// One ActivityHistory as Salesloft renders it (mapping table of salesloft.md), serialized straight
/// from the row: building a `serde_json::Value` tree per row (ordered maps, hashed keys) cost more
/// than reading the rows (profiled; docs/benchmarks.md).
pub struct HistoryRow<'a>(pub &'a ActivityView);

/// The keys the activity's own attributes set in `static_data`; they win over natively given keys
/// of the same name, which keep their place.
const OWN_STATIC_KEYS: [&str; 5] = [
    "activity_event",
    "activity_event_name",
    "note",
    "fields",
    "status",
];

impl Serialize for HistoryRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut m = s.serialize_map(Some(13))?;
        m.serialize_entry("id", &format_args!("{}-{}", a.salesloft_type, a.id))?;
        m.serialize_entry("type", &a.salesloft_type)?;
        m.serialize_entry("occurred_at", &format_rfc3339_micros(a.occurred_at))?;
        m.serialize_entry("created_at", &format_rfc3339_micros(a.created_at))?;
        m.serialize_entry("updated_at", &format_rfc3339_micros(a.updated_at))?;
        m.serialize_entry("pinned_at", &a.pinned_at.map(format_rfc3339_micros))?;
        m.serialize_entry("resource_type", a.resource_kind.as_str())?;
        match a.resource_kind {
            ResourceKind::Opportunity => m.serialize_entry("resource_id", &a.resource_guid)?,
            _ => m.serialize_entry("resource_id", &a.resource_id)?,
        }
        m.serialize_entry("user_guid", &a.owner_guid)?;
        m.serialize_entry("tags", &a.tags)?;
        m.serialize_entry("static_data", &StaticData(a))?;
        m.serialize_entry("dynamic_data", &DynamicData(a))?;
        let failed: &[&str] = if a.lead_id.is_some() && a.lead_deleted {
            &["person"]
        } else {
            &[]
        };
        m.serialize_entry("failed_dynamic_resources", failed)?;
        m.end()
    }
}

/// `static_data`: the natively given keys in their order, then the activity's own attributes.
struct StaticData<'a>(&'a ActivityView);

impl StaticData<'_> {
    fn own<M: SerializeMap>(&self, m: &mut M, key: &str) -> Result<(), M::Error> {
        let a = self.0;
        match key {
            "activity_event" => m.serialize_entry(key, &a.event_code),
            "activity_event_name" => m.serialize_entry(key, &a.type_display_name),
            "note" => m.serialize_entry(key, &a.note),
            "fields" => m.serialize_entry(key, &a.fields),
            _ => m.serialize_entry(key, &a.status),
        }
    }
}

impl Serialize for StaticData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let given = &self.0.static_data;
        let mut m = s.serialize_map(None)?;
        for (k, v) in given {
            if OWN_STATIC_KEYS.contains(&k.as_str()) {
                self.own(&mut m, k)?;
            } else {
                m.serialize_entry(k, v)?;
            }
        }
        for key in OWN_STATIC_KEYS {
            if !given.contains_key(key) {
                self.own(&mut m, key)?;
            }
        }
        m.end()
    }
}

/// `dynamic_data`: the person (unless deleted), account, opportunity and user of the activity.
struct DynamicData<'a>(&'a ActivityView);

impl Serialize for DynamicData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut m = s.serialize_map(None)?;
        if a.lead_id.is_some() && !a.lead_deleted {
            m.serialize_entry("person", &Person(a))?;
        }
        if let Some(id) = a.account_id {
            m.serialize_entry("account", &json!({"id": id, "name": a.account_name}))?;
        }
        if a.resource_kind == ResourceKind::Opportunity {
            m.serialize_entry(
                "crm_opportunity",
                &json!({"id": a.resource_guid, "name": a.opportunity_name, "status": a.opportunity_status}),
            )?;
        }
        m.serialize_entry("user", &Owner(a))?;
        m.end()
    }
}

struct Person<'a>(&'a ActivityView);

impl Serialize for Person<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let first = a.lead_first_name.as_deref().unwrap_or_default();
        let last = a.lead_last_name.as_deref().unwrap_or_default();
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("id", &a.lead_id)?;
        m.serialize_entry("guid", &a.lead_guid)?;
        m.serialize_entry("first_name", &a.lead_first_name)?;
        m.serialize_entry("last_name", &a.lead_last_name)?;
        m.serialize_entry("display_name", &crate::domain::join_name(first, last))?;
        m.serialize_entry("email_address", &a.lead_email)?;
        m.end()
    }
}

/// `dynamic_data.user`: the activity's owner.
struct Owner<'a>(&'a ActivityView);

impl Serialize for Owner<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("guid", &self.0.owner_guid)?;
        m.serialize_entry("name", &self.0.owner_name)?;
        m.end()
    }
}

/// A page of histories with its metadata, serialized straight from the rows.
struct ListBody<'a> {
    metadata: Value,
    rows: &'a [ActivityView],
}

impl Serialize for ListBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("metadata", &self.metadata)?;
        m.serialize_entry("data", &Rows(self.rows))?;
        m.end()
    }
}

struct Rows<'a>(&'a [ActivityView]);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(HistoryRow))
    }
}

/// `GET /v2/activity_histories`
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
    let direction = if r.filter.descending { "DESC" } else { "ASC" };
    let page = match app.service.activity_histories(&user, r.filter).await {
        Ok(p) => p,
        Err(e) => return SlError::from(e).into_response(),
    };
    let has_next = page.rows.len() > r.per_page as usize;
    let shown = page.rows.len().min(r.per_page as usize);
    let mut paging = json!({
        "per_page": r.per_page,
        "current_page": r.page,
        "next_page": if has_next { json!(r.page + 1) } else { Value::Null },
        "prev_page": if r.page > 1 { json!(r.page - 1) } else { Value::Null },
    });
    if r.include_counts {
        paging["total_pages"] = json!(page.total.div_ceil(r.per_page as u64));
        paging["total_count"] = json!(page.total);
    }
    SizedJson(
        ListBody {
            metadata: json!({
                "filtering": r.filtering,
                "paging": paging,
                "sorting": {"sort_by": sort_by, "sort_direction": direction},
            }),
            rows: &page.rows[..shown],
        },
        crate::api::page_capacity(shown),
    )
    .into_response()
}

/// `GET /v2/activity_histories/{id}` — `call-12` or `12`; 404 when absent or not visible.
async fn one(
    State(app): State<AppState>,
    Extension(user): Extension<User>,
    Path(id): Path<String>,
) -> Response {
    let Some(f) = query::parse_activity_id(&id) else {
        return SlError::not_found().into_response();
    };
    match app
        .service
        .activity_history(&user, f.id, f.sl_type.as_deref())
        .await
    {
        Ok(Some(a)) => Json(json!({ "data": HistoryRow(&a) })).into_response(),
        Ok(None) => SlError::not_found().into_response(),
        Err(e) => SlError::from(e).into_response(),
    }
}

/// `GET /v2/me` — the token's user; clients call it to check a token.
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

fn only_get<H, T>(h: H) -> MethodRouter<AppState>
where
    H: axum::handler::Handler<T, AppState>,
    T: 'static,
{
    get(h).fallback(method_not_allowed)
}

/// The Salesloft routes, each behind the Bearer/rate-limit guard.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v2/activity_histories", only_get(list))
        .route("/v2/activity_histories/{id}", only_get(one))
        .route("/v2/me", only_get(me))
        .route_layer(middleware::from_fn_with_state(state, guard))
}
