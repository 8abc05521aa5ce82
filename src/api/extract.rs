//! What every dialect reads from a request the same way: the method guard, the body bytes (within
//! the server's body guard), the Bearer token and the failed-login guard. Each dialect keeps its own
//! wording, status and envelope for what goes wrong.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, BodyDataStream, Bytes, HttpBody};
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Request, State};
use axum::handler::Handler;
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::MethodRouter;
use axum::BoxError;
use futures_util::stream::{self, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// Why a body could not be read whole. Each dialect words each in its own envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyUnread {
    /// Larger than [`MAX_BODY`], or the connection failed while it was being read: answered 413.
    TooLarge,
    /// Not whole within the body timeout (`server::BODY_TIMEOUT`): answered 408, connection closed.
    TimedOut,
    /// The process-wide budget of body bytes in flight (`server::BODY_BUDGET`) is spent: answered
    /// 503 with `Retry-After`, connection closed, nothing more of it buffered.
    Busy,
}

/// Reads the whole request body, up to [`MAX_BODY`] bytes (and within the [`BodyGuard`]'s time
/// and budget when the server installed it).
pub async fn body_bytes(body: Body) -> Result<Bytes, BodyUnread> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(c) = cause {
            if let Some(BodyFault(why)) = c.downcast_ref::<BodyFault>() {
                return *why;
            }
            cause = c.source();
        }
        BodyUnread::TooLarge
    })
}

/// A body that fails as `why` when read: what a layer that already read the request's body
/// (and failed) hands the route, so that the route answers the failure in its own words.
pub fn failed_body(why: BodyUnread) -> Body {
    Body::from_stream(stream::once(async move {
        Err::<Bytes, BoxError>(Box::new(BodyFault(why)))
    }))
}

/// The error a guarded body ends with when the [`BodyGuard`] stops it.
#[derive(Debug)]
struct BodyFault(BodyUnread);

impl std::fmt::Display for BodyFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request body stopped: {:?}", self.0)
    }
}

impl std::error::Error for BodyFault {}

/// Bounds how long request bodies take to arrive and how many of their bytes are buffered at once
/// in the whole process, so slow or withheld bodies cannot pin memory and connections.
pub struct BodyGuard {
    timeout: Duration,
    budget: Arc<Semaphore>,
}

impl BodyGuard {
    /// A guard giving each body `timeout` to arrive whole, with `budget` bytes shared by all.
    pub fn new(timeout: Duration, budget: usize) -> BodyGuard {
        BodyGuard {
            timeout,
            budget: Arc::new(Semaphore::new(budget.min(Semaphore::MAX_PERMITS))),
        }
    }
}

/// Middleware wrapping each request body that has one in the [`BodyGuard`]'s limits. When the
/// guard stopped a body, the response closes the connection: the rest of that body is never read.
pub async fn guard_body(State(guard): State<Arc<BodyGuard>>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let stopped = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| {
        let reading = Reading {
            data: Some(body.into_data_stream()),
            held: None,
            budget: guard.budget.clone(),
            deadline: tokio::time::Instant::now() + guard.timeout,
            stopped: stopped.clone(),
        };
        Body::from_stream(stream::unfold(reading, Reading::next))
    });
    let mut resp = next.run(req).await;
    if stopped.load(Ordering::Relaxed) {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// A guarded body being read: the chunks so far hold their bytes of the budget until it ends.
struct Reading {
    data: Option<BodyDataStream>,
    held: Option<OwnedSemaphorePermit>,
    budget: Arc<Semaphore>,
    deadline: tokio::time::Instant,
    stopped: Arc<AtomicBool>,
}

impl Reading {
    /// The next chunk, or the fault that ends the body (dropping the rest and the budget held).
    async fn next(mut self) -> Option<(Result<Bytes, BoxError>, Reading)> {
        let data = self.data.as_mut()?;
        let chunk = match tokio::time::timeout_at(self.deadline, data.next()).await {
            Err(_) => return Some((Err(self.stop(BodyUnread::TimedOut)), self.ended())),
            Ok(None) => return None,
            Ok(Some(Err(e))) => return Some((Err(e.into()), self.ended())),
            Ok(Some(Ok(chunk))) => chunk,
        };
        let n = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
        match self.budget.clone().try_acquire_many_owned(n) {
            Ok(p) => match &mut self.held {
                Some(held) => held.merge(p),
                None => self.held = Some(p),
            },
            Err(_) => return Some((Err(self.stop(BodyUnread::Busy)), self.ended())),
        }
        Some((Ok(chunk), self))
    }

    fn stop(&self, why: BodyUnread) -> BoxError {
        self.stopped.store(true, Ordering::Relaxed);
        Box::new(BodyFault(why))
    }

    /// This reading with the connection's body and the budget let go; its next poll ends.
    fn ended(mut self) -> Reading {
        self.data = None;
        self.held = None;
        self
    }
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
    use axum::routing::post;
    use axum::Router;
    use tower_service::Service;

    /// What `body_bytes` makes of `body` sent through a guard of `budget` bytes and 200 ms.
    async fn read_guarded(budget: usize, body: Body) -> Result<usize, BodyUnread> {
        let guard = Arc::new(BodyGuard::new(Duration::from_millis(200), budget));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
        let mut app = Router::new()
            .route(
                "/",
                post(move |body: Body| async move {
                    let got = body_bytes(body).await.map(|b| b.len());
                    if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                        let _ = tx.send(got);
                    }
                }),
            )
            .layer(axum::middleware::from_fn_with_state(guard, guard_body));
        let req = Request::post("/").body(body).unwrap();
        let resp = app.call(req).await.unwrap();
        let got = rx.await.unwrap();
        // The guard closes the connection when it stopped the body, only then.
        let closes = resp.headers().get(header::CONNECTION).is_some();
        assert_eq!(
            closes,
            matches!(got, Err(BodyUnread::Busy | BodyUnread::TimedOut))
        );
        got
    }

    #[tokio::test]
    async fn the_guard_passes_bodies_within_its_budget_and_time() {
        assert_eq!(
            read_guarded(100, Body::from("x".repeat(100))).await,
            Ok(100)
        );
    }

    #[tokio::test]
    async fn a_body_past_the_budget_is_busy() {
        assert_eq!(
            read_guarded(100, Body::from("x".repeat(101))).await,
            Err(BodyUnread::Busy)
        );
    }

    #[tokio::test]
    async fn a_body_slower_than_the_timeout_timed_out() {
        let chunks = stream::iter([Ok::<_, BoxError>(Bytes::from("{"))])
            .chain(stream::pending::<Result<Bytes, BoxError>>());
        assert_eq!(
            read_guarded(100, Body::from_stream(chunks)).await,
            Err(BodyUnread::TimedOut)
        );
    }

    #[tokio::test]
    async fn a_body_over_max_body_is_too_large() {
        let big = "x".repeat(MAX_BODY + 1);
        assert_eq!(
            read_guarded(2 * MAX_BODY, Body::from(big)).await,
            Err(BodyUnread::TooLarge)
        );
    }

    fn token(value: &str) -> Option<String> {
        use axum::http::HeaderValue;
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
