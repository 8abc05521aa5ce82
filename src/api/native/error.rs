//! The native error envelope `{"error":{"code","message"}}` and how service errors map onto it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::{Error, Field, Unique};

/// A native error: `{"error":{"code":"…","message":"…"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
    /// `Retry-After` of a 429.
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error telling the client to wait `wait` (`Retry-After`, whole seconds).
    pub(super) fn retry_after(mut self, wait: std::time::Duration) -> ApiError {
        self.retry_after = Some(crate::api::extract::retry_after_secs(wait));
        self
    }

    /// The message a client reads (the import's reject file shows the same words).
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(super) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub(super) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
    }
}

impl From<crate::api::idempotency::Refusal> for ApiError {
    fn from(r: crate::api::idempotency::Refusal) -> ApiError {
        use crate::api::idempotency::Refusal;
        if let Refusal::Failed(e) = r {
            return e.into();
        }
        let mut e = ApiError::new(r.status(), r.native_code(), r.message());
        e.retry_after = r.retry_after();
        e
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let (status, code) = match &e {
            // Wire-level problems (JSON, shapes, query parameters) are answered with 400 by this
            // module before the service runs; what the service refuses is a value it cannot
            // accept: 422.
            Error::InvalidInput(_)
            | Error::InvalidValue { .. }
            | Error::Invalid { .. }
            | Error::Required(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Duplicate(_) | Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let message = match (e.hidden_text(), &e) {
            (Some(text), _) => text.to_string(),
            (None, Error::Duplicate(unique)) => unique_text(unique),
            (None, Error::Invalid { field, reason }) => format!("{} {reason}", field.native_name()),
            (None, Error::Required(field)) => field.required_text(Field::native_name),
            (None, Error::InvalidValue { field, problem }) => {
                problem.text(field, Field::native_name)
            }
            (None, other) => other.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

/// A clash of unique values, in this API's field names.
fn unique_text(unique: &Unique) -> String {
    let same = |field: &str| format!("A record with the same '{field}' already exists");
    match unique {
        Unique::Lead(key) => same(key.native_name()),
        Unique::LeadOfAnotherOwner(key) => format!(
            "A lead with this '{}' already exists and is owned by another user",
            key.native_name()
        ),
        Unique::LeadByKey(key) => {
            format!("A lead with this '{}' already exists", key.native_name())
        }
        Unique::TypeName => same("name"),
        Unique::TypeCode => same("event_code"),
        Unique::UserEmail(_) | Unique::AccountName(_) | Unique::Other => unique.to_string(),
    }
}
