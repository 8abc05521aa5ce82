//! Reading requests: the JSON body, timestamps, list windows, custom fields and length limits.

use axum::body::Body;
use axum::extract::{FromRequestParts, Path};
use axum::http::{request::Parts, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};
use crate::api::extract::{body_bytes, path_rejection, BodyUnread, MAX_BODY};
use crate::api::params::Params;
use crate::domain::fields::FieldInput;
use crate::domain::text::{json_may_hold_nul, nul_path, NO_NUL};
use crate::domain::time::{parse_rfc3339, YEAR_RANGE};

/// Default and largest page of the list endpoints.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

/// The one parameter of a route's path (`{id}`, `{guid}`) as text; a segment axum cannot decode
/// is answered in the native envelope, where axum's `Path` answers plain text.
pub(super) struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<PathId> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(PathId(id)),
            Err(rejection) => {
                let (status, message) = path_rejection(&rejection);
                let code = if status.is_client_error() {
                    "invalid_request"
                } else {
                    "internal"
                };
                Err(ApiError::new(status, code, message))
            }
        }
    }
}

/// Parses a JSON body, naming the offending property on error (400).
pub(super) async fn body<T: DeserializeOwned>(body: Body) -> ApiResult<T> {
    let bytes = body_bytes(body).await.map_err(|why| match why {
        BodyUnread::TooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request body is larger than {MAX_BODY} bytes"),
        ),
        BodyUnread::TimedOut => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "The request body did not arrive in time",
        ),
        // `Retry-After` is added to every 503 (app::retry_after_on_503).
        BodyUnread::Busy => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The server is receiving too many request bodies; try again shortly",
        ),
    })?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    if let Some(path) = json_may_hold_nul(&bytes)
        .then(|| nul_path(&value))
        .flatten()
    {
        return Err(ApiError::invalid(format!("'{path}' {NO_NUL}")));
    }
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

pub(super) fn time(name: &str, v: Option<&str>) -> ApiResult<Option<i64>> {
    match v {
        None => Ok(None),
        Some(s) => parse_rfc3339(s).map(Some).ok_or_else(|| {
            ApiError::invalid(format!(
                "'{name}' must be an ISO-8601 timestamp with {YEAR_RANGE}, not '{s}'"
            ))
        }),
    }
}

/// The query parameters of a request; one with a NUL in its name or value is refused (422).
pub(super) fn query(raw: Option<&str>) -> ApiResult<Params> {
    match Params::first_with_nul(raw) {
        Some(name) => Err(ApiError::invalid(format!("'{name}' {NO_NUL}"))),
        None => Ok(Params::parse(raw)),
    }
}

/// `after` (exclusive id cursor) and `limit` of a list endpoint.
pub(super) fn window(params: &Params) -> ApiResult<(i64, u32)> {
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
pub(super) fn fields_input(prefix: &str, fields: Map<String, Value>) -> ApiResult<Vec<FieldInput>> {
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

/// Refuses a text property longer than `max` characters (422 naming it).
pub(super) fn check_len(field: &str, value: Option<&str>, max: usize) -> ApiResult<()> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError::invalid(format!(
            "'{field}' is longer than {max} characters"
        ))),
        _ => Ok(()),
    }
}

/// An integer property of a JSON body. JSON has one number type, and JSON Schema (so the
/// document) counts a number with a zero fraction (`208.0`) as the integer it equals; serde
/// refuses it for an `i64`. Such a number is taken as its integer while a double holds every
/// integer up to it exactly (±2^53); a fraction, a larger one, or an integer beyond i64 (which
/// serde_json reads as a rounded double: `-9223372036854775809` would become i64's minimum) is
/// the wrong type (400 naming the property).
pub(super) mod integer {
    use serde::de::{Deserializer, Error, Unexpected, Visitor};
    use serde::Deserialize;
    use std::fmt;

    struct Int(i64);

    impl<'de> Deserialize<'de> for Int {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Int, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Int;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a 64-bit integer")
                }
                fn visit_i64<E: Error>(self, v: i64) -> Result<Int, E> {
                    Ok(Int(v))
                }
                fn visit_u64<E: Error>(self, v: u64) -> Result<Int, E> {
                    i64::try_from(v)
                        .map(Int)
                        .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
                }
                fn visit_f64<E: Error>(self, v: f64) -> Result<Int, E> {
                    // 2^53: beyond it a double no longer tells neighbouring integers apart.
                    const EXACT: f64 = 9_007_199_254_740_992.0;
                    if v.fract() == 0.0 && v.abs() <= EXACT {
                        Ok(Int(v as i64))
                    } else {
                        Err(E::invalid_type(Unexpected::Float(v), &self))
                    }
                }
            }
            d.deserialize_any(V)
        }
    }

    /// `#[serde(deserialize_with = "integer::required")]`, with `#[serde(default)]` if optional.
    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Int::deserialize(d).map(|i| i.0)
    }

    /// `#[serde(default, deserialize_with = "integer::optional")]`: absent or null is `None`.
    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<Int>::deserialize(d).map(|o| o.map(|i| i.0))
    }
}
