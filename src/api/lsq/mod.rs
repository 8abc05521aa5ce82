//! The LeadSquared dialect: `/v2/*.svc/…` endpoints, their auth, error envelope and limits.

// `activities` and `opportunities` are public for their body parsers (`RetrieveBody::into_filter`,
// `CreateBody::into_input`, `CaptureBody::into_input`, …), which the fuzz targets in fuzz/ call.
pub mod activities;
mod calls;
mod changes;
mod docs;
mod lead_search;
mod leads;
pub mod opportunities;
mod recent;
mod types;
mod users;
pub mod wire;

use axum::extract::{FromRequestParts, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{body::Body, Json, Router};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::api::extract::{
    authenticate, body_bytes, locked_out_text, refuse_other_methods, retry_after_secs, AuthRefused,
    BodyUnread, MAX_BODY,
};
use crate::api::params::Params;
use crate::app::AppState;
use crate::domain::text::{self, nul_path};
use crate::domain::User;
use crate::error::Error;

/// An error rendered as LeadSquared's envelope:
/// `{"Status":"Error","ExceptionType":"…","ExceptionMessage":"…"}`.
#[derive(Debug)]
pub struct LsqError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl LsqError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> LsqError {
        LsqError {
            status,
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_input(message: impl Into<String>) -> LsqError {
        LsqError::new(StatusCode::BAD_REQUEST, "MXInvalidInputException", message)
    }

    /// A clash of unique values, worded by the endpoint.
    pub fn duplicate(message: impl Into<String>) -> LsqError {
        LsqError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "MXDuplicateEntryException",
            message,
        )
    }
}

/// An `Idempotency-Key` refusal, as an `MXInvalidInputException` of the refusal's status.
impl From<crate::api::idempotency::Refusal> for LsqError {
    fn from(r: crate::api::idempotency::Refusal) -> LsqError {
        use crate::api::idempotency::Refusal;
        if let Refusal::Failed(e) = r {
            return e.into();
        }
        let mut e = LsqError::new(r.status(), "MXInvalidInputException", r.message());
        e.retry_after = r.retry_after();
        e
    }
}

impl From<Error> for LsqError {
    fn from(e: Error) -> LsqError {
        let (status, kind) = match &e {
            Error::Invalid { field, .. } if field.is_lead_value() => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "MXInvalidActivityFieldsException",
            ),
            Error::InvalidInput(_) | Error::Invalid { .. } => {
                (StatusCode::BAD_REQUEST, "MXInvalidInputException")
            }
            Error::NotFound(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "MXInvalidEntityException",
            ),
            Error::Required(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "MXMandatoryAttributeMissingException",
            ),
            Error::InvalidValue { .. } => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "MXInvalidActivityFieldsException",
            ),
            Error::Duplicate(_) | Error::Conflict(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "MXDuplicateEntryException",
            ),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "MXUnAuthorizedException"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "MXAccessDeniedException"),
            Error::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "MXServiceUnavailableException",
            ),
            Error::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "MXInternalServerException",
            ),
        };
        let message = match e.hidden_text() {
            Some(text) => text.to_string(),
            None => e.to_string(),
        };
        LsqError::new(status, kind, message)
    }
}

impl IntoResponse for LsqError {
    fn into_response(self) -> Response {
        let body = json!({"Status": "Error", "ExceptionType": self.kind, "ExceptionMessage": self.message});
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

pub type LsqResult<T> = Result<T, LsqError>;

/// The authenticated caller of an LSQ endpoint, with the request's query parameters.
pub struct Lsq {
    pub user: User,
    pub params: Params,
}

impl Lsq {
    /// A required query parameter (name matched case-insensitively).
    pub fn param(&self, name: &str) -> LsqResult<&str> {
        self.params
            .get(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| LsqError::bad_input(format!("The query parameter '{name}' is required")))
    }
}

fn credential<'a>(
    params: &'a Params,
    headers: &'a HeaderMap,
    name: &str,
    header: &str,
) -> Option<&'a str> {
    params
        .get(name)
        .or_else(|| headers.get(header).and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Lsq {
    type Rejection = LsqError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Lsq, LsqError> {
        if let Some(name) = Params::first_with_nul(parts.uri.query()) {
            return Err(LsqError::bad_input(format!("{name} {}", text::NO_NUL)));
        }
        let params = Params::parse(parts.uri.query());
        let access = credential(&params, &parts.headers, "accessKey", "x-lsq-accesskey");
        let secret = credential(&params, &parts.headers, "secretKey", "x-lsq-secretkey");
        let (Some(access), Some(secret)) = (access, secret) else {
            return Err(LsqError::new(
                StatusCode::UNAUTHORIZED,
                "MXUnAuthorizedException",
                "accessKey and secretKey are required (query string or x-LSQ-AccessKey / x-LSQ-SecretKey headers)",
            ));
        };
        let check = state.service.authenticate_lsq(access, secret);
        let user = match authenticate(state, &parts.extensions, check).await {
            Ok(user) => user,
            Err(AuthRefused::Failed(e)) => return Err(e.into()),
            Err(AuthRefused::LockedOut(wait)) => {
                let mut e = LsqError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "MXAPIRateLimitExceededException",
                    locked_out_text(state),
                );
                e.retry_after = Some(retry_after_secs(wait));
                return Err(e);
            }
        };
        if let Some(limiter) = &state.lsq_limiter {
            let d = limiter.acquire(&user.guid.to_string(), 1).await;
            if !d.allowed {
                crate::telemetry::rate_limit_refused("leadsquared");
                let mut e = LsqError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "MXAPIRateLimitExceededException",
                    format!(
                        "API calls exceeded the limit of {} in {} second(s)",
                        limiter.limit(),
                        limiter.window().as_secs()
                    ),
                );
                e.retry_after = Some(d.retry_after.as_secs_f64().ceil().max(1.0) as u64);
                return Err(e);
            }
        }
        crate::api::idempotency::claim(state, &parts.extensions, &user)
            .await
            .map_err(LsqError::from)?;
        Ok(Lsq { user, params })
    }
}

/// Reads and parses a JSON body; an empty body or `null` counts as `{}` when `T` allows it.
pub async fn json_body<T: DeserializeOwned>(body: Body) -> LsqResult<T> {
    parse_json_body(&read_body(body).await?)
}

/// Reads and parses the JSON body of a call that changes what it is given (the Update calls):
/// no body, or `null`, is refused rather than read as a change of nothing.
pub async fn json_body_required<T: DeserializeOwned>(body: Body) -> LsqResult<T> {
    let bytes = read_body(body).await?;
    if is_blank(&bytes) || bytes.trim_ascii() == b"null" {
        return Err(LsqError::bad_input(
            "The request body is missing: this call takes a JSON object of the values to change",
        ));
    }
    parse_json_body(&bytes)
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// The body's bytes, or the envelope for a body too large, too slow or refused under load.
async fn read_body(body: Body) -> LsqResult<axum::body::Bytes> {
    body_bytes(body).await.map_err(|why| match why {
        BodyUnread::TooLarge => LsqError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "MXInvalidInputException",
            format!("The request body is larger than the limit of {MAX_BODY} bytes"),
        ),
        BodyUnread::TimedOut => LsqError::new(
            StatusCode::REQUEST_TIMEOUT,
            "MXInvalidInputException",
            "The request body did not arrive in time",
        ),
        BodyUnread::Busy => {
            let mut e = LsqError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "MXServiceUnavailableException",
                "The server is receiving too many request bodies; try again shortly",
            );
            e.retry_after = Some(1);
            e
        }
    })
}

/// Parses a body already read, as `json_body` does: separate from the reading so that the fuzz
/// targets (fuzz/) run the very parser the endpoints use, without a server.
pub fn parse_json_body<T: DeserializeOwned>(bytes: &[u8]) -> LsqResult<T> {
    let text: &[u8] = if is_blank(bytes) { b"{}" } else { bytes };
    // serde reads a struct from an array of its fields in order as well as from an object; a
    // body that should be an object (a `T` that `{}` makes) is refused as an array.
    if text.trim_ascii_start().starts_with(b"[") && serde_json::from_str::<T>("{}").is_ok() {
        return Err(LsqError::bad_input(
            "The request body has the wrong shape: expected a JSON object, got an array",
        ));
    }
    if text.trim_ascii() == b"null" {
        // `null` is no body; a `T` that cannot be empty reads it and says what it expected.
        if let Ok(empty) = serde_json::from_str::<T>("{}") {
            return Ok(empty);
        }
    }
    // JSON text is UTF-8. serde_json checks that only in the strings it reads, not in the values
    // of properties the body struct ignores, which would let such a body past the NUL check below.
    let text = std::str::from_utf8(text).map_err(|e| {
        LsqError::bad_input(format!(
            "The request body is not valid JSON: it is not UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    if text::json_may_hold_nul(text.as_bytes()) {
        // Fails closed: a body the tree cannot be built from (nested deeper than serde_json's
        // limit inside an ignored property) is refused rather than let through unchecked.
        let tree: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| LsqError::bad_input(format!("The request body is not valid JSON: {e}")))?;
        if let Some(path) = nul_path(&tree) {
            return Err(LsqError::bad_input(format!("{path} {}", text::NO_NUL)));
        }
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            LsqError::bad_input(format!("The request body is not valid JSON: {inner}"))
        } else if path == "." {
            LsqError::bad_input(format!("The request body has the wrong shape: {inner}"))
        } else {
            LsqError::bad_input(format!("Invalid value for '{path}': {inner}"))
        }
    })?;
    // Anything but white space after the JSON value makes the body invalid JSON.
    de.end()
        .map_err(|e| LsqError::bad_input(format!("The request body is not valid JSON: {e}")))?;
    Ok(value)
}

/// A `/v2/` path no route serves: a LeadSquared call this server does not implement is named
/// as such; anything else gets LeadSquared's own answer to an unknown API.
async fn not_found(uri: axum::http::Uri) -> LsqError {
    let message = calls::not_implemented(uri.path()).unwrap_or_else(|| {
        "The API could not be found. Please check the API signature.".to_string()
    });
    LsqError::new(StatusCode::NOT_FOUND, "MXNotFoundException", message)
}

async fn method_not_allowed() -> LsqError {
    LsqError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MXMethodNotAllowedException",
        "This API does not accept this HTTP method",
    )
}

/// The LeadSquared calls in `/openapi.json`, generated from the handlers' `#[utoipa::path]` and the
/// wire types; the errors every call shares are added by `crate::api::openapi`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        activities::create,
        activities::retrieve,
        activities::details,
        activities::update,
        activities::delete,
        activities::bulk_by_lead,
        types::list,
        types::create,
        types::setting,
        types::update,
        leads::create,
        leads::by_id,
        leads::update,
        leads::create_or_update,
        leads::capture,
        leads::by_email,
        leads::quick_search,
        leads::metadata,
        leads::create_custom,
        lead_search::search,
        recent::recently_modified,
        changes::retrieve_changes,
        users::list,
        users::by_email,
        users::by_id,
        users::by_access_key,
        opportunities::capture,
        opportunities::details,
        opportunities::of_lead,
        opportunities::activities,
        opportunities::bulk_by_opportunity,
    ),
    components(schemas(
        docs::ErrorBody,
        wire::Int,
        wire::Bool,
        wire::Text,
        activities::BulkRows,
        docs::PostUpdatedLead,
        docs::LeadUpdateBehavior
    ))
)]
pub struct ApiDoc;

/// The LeadSquared routes, plus a `/v2/` fallback answering unknown paths with the envelope.
pub fn routes() -> Router<AppState> {
    let on_get = |r| refuse_other_methods(r, method_not_allowed);
    Router::new()
        .route(
            "/v2/ProspectActivity.svc/Create",
            on_get(post(activities::create)),
        )
        .route(
            "/v2/ProspectActivity.svc/CreateCustom",
            on_get(post(leads::create_custom)),
        )
        .route(
            "/v2/ProspectActivity.svc/DeleteActivities",
            on_get(post(activities::delete)),
        )
        .route(
            "/v2/ProspectActivity.svc/Retrieve",
            on_get(post(activities::retrieve)),
        )
        .route(
            "/v2/ProspectActivity.svc/RetrieveRecentlyModified",
            on_get(post(recent::recently_modified)),
        )
        .route(
            "/v2/ProspectActivity.svc/RetrieveActivityChange",
            on_get(post(changes::retrieve_changes)),
        )
        .route(
            "/v2/ProspectActivity.svc/GetActivityDetails",
            on_get(get(activities::details)),
        )
        .route(
            "/v2/ProspectActivity.svc/CustomActivity/Update",
            on_get(post(activities::update)),
        )
        .route(
            "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId",
            on_get(post(activities::bulk_by_lead)),
        )
        .route(
            "/v2/ProspectActivity.svc/ActivityTypes.Get",
            on_get(get(types::list)),
        )
        .route(
            "/v2/ProspectActivity.svc/CreateType",
            on_get(post(types::create)),
        )
        .route(
            "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting",
            on_get(get(types::setting)),
        )
        .route(
            "/v2/ProspectActivity.svc/CustomActivityType/Update",
            on_get(post(types::update)),
        )
        .route(
            "/v2/LeadManagement.svc/Lead.Create",
            on_get(post(leads::create)),
        )
        .route(
            "/v2/LeadManagement.svc/Leads.GetById",
            on_get(get(leads::by_id)),
        )
        .route(
            "/v2/LeadManagement.svc/Lead.Update",
            on_get(post(leads::update)),
        )
        .route(
            "/v2/LeadManagement.svc/Lead.CreateOrUpdate",
            on_get(post(leads::create_or_update)),
        )
        .route(
            "/v2/LeadManagement.svc/Lead.Capture",
            on_get(post(leads::capture)),
        )
        .route(
            "/v2/LeadManagement.svc/Leads.GetByEmailaddress",
            on_get(get(leads::by_email)),
        )
        .route(
            "/v2/LeadManagement.svc/Leads.GetByQuickSearch",
            on_get(get(leads::quick_search)),
        )
        .route(
            "/v2/LeadManagement.svc/LeadsMetaData.Get",
            on_get(get(leads::metadata)),
        )
        .route(
            "/v2/LeadManagement.svc/Leads.Get",
            on_get(post(lead_search::search)),
        )
        .route("/v2/UserManagement.svc/Users.Get", on_get(get(users::list)))
        .route(
            "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress",
            on_get(get(users::by_email)),
        )
        .route(
            "/v2/UserManagement.svc/User/Retrieve/ByUserId",
            on_get(get(users::by_id)),
        )
        .route(
            "/v2/Authentication.svc/UserByAccessKey.Get",
            on_get(get(users::by_access_key)),
        )
        .route(
            "/v2/OpportunityManagement.svc/Capture",
            on_get(post(opportunities::capture)),
        )
        .route(
            "/v2/OpportunityManagement.svc/GetOpportunityDetails",
            on_get(get(opportunities::details)),
        )
        .route(
            "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead",
            on_get(post(opportunities::of_lead)),
        )
        .route(
            "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity",
            on_get(post(opportunities::activities)),
        )
        .route(
            "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId",
            on_get(post(opportunities::bulk_by_opportunity)),
        )
        .route("/v2", axum::routing::any(not_found))
        .route("/v2/", axum::routing::any(not_found))
        .route("/v2/{*rest}", axum::routing::any(not_found))
}

/// `State` re-exported for the handler modules.
pub type AppStateExt = State<AppState>;

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Note {
        #[serde(rename = "ActivityNote")]
        note: Option<String>,
    }

    fn refused(body: &[u8]) -> String {
        match parse_json_body::<Note>(body) {
            Ok(n) => panic!("accepted, note {:?}", n.note),
            Err(e) => e.message,
        }
    }

    /// Found by the lsq_bodies fuzz target (fuzz/corpus/lsq_bodies keeps the input): bytes that
    /// are not UTF-8, or nesting past serde_json's depth limit, in a property the body struct
    /// ignores made the NUL check skip the body, and a NUL in `ActivityNote` got through.
    #[test]
    fn a_nul_is_refused_whatever_else_the_body_holds() {
        let not_utf8 = refused(b"{\"x\":\"\xff\",\"ActivityNote\":\"a\\u0000b\"}");
        assert!(not_utf8.contains("not UTF-8 (at byte 6)"), "{not_utf8}");
        let deep = |note: &str| {
            format!(
                "{{\"x\":{}{},\"ActivityNote\":\"{note}\"}}",
                "[".repeat(200),
                "]".repeat(200)
            )
        };
        let nested = refused(deep("a\\u0000b").as_bytes());
        assert!(nested.contains("not valid JSON"), "{nested}");
        let plain = refused(br#"{"ActivityNote":"a\u0000b"}"#);
        assert_eq!(plain, "ActivityNote must not contain NUL characters");
        // Without a NUL the same deep property is ignored as before.
        let ok = parse_json_body::<Note>(deep("ab").as_bytes()).map(|n| n.note);
        assert_eq!(ok.ok().flatten().as_deref(), Some("ab"));
    }
}
