//! What every dialect reads from a request the same way: the method guard, the body bytes, the
//! Bearer token and the failed-login guard. Each dialect keeps its own wording, status and
//! envelope for what goes wrong.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::ConnectInfo;
use axum::handler::Handler;
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::routing::MethodRouter;

use crate::app::AppState;
use crate::error::Error;

/// The largest request body any dialect accepts, in bytes.
pub const MAX_BODY: usize = 1 << 20;

/// Answers every method `r` does not route with `refuse`, the dialect's 405 in its own envelope
/// (axum's own 405 has an empty body, where clients of each dialect expect its error body).
pub fn refuse_other_methods<H, T>(r: MethodRouter<AppState>, refuse: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    r.fallback(refuse)
}

/// A body that could not be read whole: larger than [`MAX_BODY`], or the connection failed while
/// it was being read. The dialects answer both as too large.
#[derive(Debug)]
pub struct BodyUnread;

/// Reads the whole request body, up to [`MAX_BODY`] bytes.
pub async fn body_bytes(body: Body) -> Result<Bytes, BodyUnread> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| BodyUnread)
}

/// A rejected path parameter as a status and a sentence each dialect puts in its own envelope:
/// axum's own answer is plain text, which no dialect's clients can parse. A segment that does
/// not decode to UTF-8 (`/…/%FF`) is the client's error (400); the rest are routing mistakes.
pub fn path_rejection(rejection: &PathRejection) -> (StatusCode, String) {
    match rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::InvalidUtf8InPathParam { key } => (
                StatusCode::BAD_REQUEST,
                format!("The path segment '{key}' is not valid UTF-8 once percent-decoded"),
            ),
            _ => (e.status(), e.body_text()),
        },
        other => (other.status(), other.body_text()),
    }
}

/// The token of an `Authorization: Bearer <token>` header, trimmed; `None` when the header is
/// absent, not text, of another scheme or has an empty token. The scheme is matched
/// case-insensitively (RFC 9110), so `bearer` and `BEARER` count too.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .filter(|t| !t.is_empty())
}

/// Why a request's credentials produced no caller.
#[derive(Debug)]
pub enum AuthRefused {
    /// The client's address presented too many refused credentials lately; nothing was looked
    /// up. It may try again after this long.
    LockedOut(Duration),
    /// The check's own error: refused credentials (counted against the address) or a store error.
    Failed(Error),
}

/// Runs the credential `check` of a request that arrived with `extensions`, unless its client
/// address is locked out (`auth::FailedLogins`); a refusal (`Error::Unauthorized`) counts
/// against the address. Requests without a peer address (a router served without
/// `ConnectInfo`) are checked but not counted.
pub async fn authenticate<T>(
    state: &AppState,
    extensions: &Extensions,
    check: impl Future<Output = Result<T, Error>>,
) -> Result<T, AuthRefused> {
    let client = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(wait) = client.and_then(|ip| state.failed_logins.locked_out(ip)) {
        crate::telemetry::login_locked_out();
        return Err(AuthRefused::LockedOut(wait));
    }
    match check.await {
        Ok(v) => Ok(v),
        Err(e) => {
            if let (Error::Unauthorized(_), Some(ip)) = (&e, client) {
                state.failed_logins.record(ip);
            }
            Err(AuthRefused::Failed(e))
        }
    }
}

/// Whole seconds to tell a client to wait (`Retry-After`), at least one.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// The sentence every dialect words a lockout with.
pub fn locked_out_text(state: &AppState) -> String {
    format!(
        "Too many refused credentials from this address ({} within {} seconds); try again later",
        state.failed_logins.limit(),
        state.failed_logins.window().as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn token(value: &str) -> Option<String> {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        bearer_token(&h).map(str::to_string)
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for v in [
            "Bearer ak_1",
            "bearer ak_1",
            "BEARER ak_1",
            "Bearer   ak_1 ",
        ] {
            assert_eq!(token(v).as_deref(), Some("ak_1"), "{v}");
        }
        for v in [
            "Bearer",
            "Bearer ",
            "Basic ak_1",
            "Bearerak_1",
            "Token ak_1",
        ] {
            assert_eq!(token(v), None, "{v}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
