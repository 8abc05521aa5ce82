//! Assembles the HTTP server from a store URL: state, routes, operations endpoints, and serving.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;

pub use crate::api::rate_limit::RateBackend;
use crate::api::rate_limit::RateLimiter;
use crate::auth::{FailedLogins, FAILED_LOGIN_ADDRESSES, FAILED_LOGIN_LIMIT, FAILED_LOGIN_WINDOW};
pub use crate::server::Limits;
use crate::service::Service;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    /// LeadSquared's per-access-key limit; `None` with `--no-rate-limit`.
    pub lsq_limiter: Option<Arc<RateLimiter>>,
    /// Salesloft's per-tenant budget (600 cost / minute); `None` with `--no-rate-limit`.
    pub sl_limiter: Option<Arc<RateLimiter>>,
    /// The native API's per-user budget (`api::native::NATIVE_BUDGET_PER_MINUTE`); `None` with
    /// `--no-rate-limit`.
    pub native_limiter: Option<Arc<RateLimiter>>,
    /// Refused credentials per client address (`auth::FailedLogins`), in this process's memory.
    /// On with `--no-rate-limit` too: it guards the store, not a tenant's budget.
    pub failed_logins: Arc<FailedLogins>,
    /// How long `Idempotency-Key` records are kept (`serve --idempotency-ttl-hours`).
    pub idempotency_ttl: Duration,
}

impl AppState {
    /// The app over `service`, with rate budgets kept in `backend`: the store's when it keeps
    /// shared ones (`RateBackend::kept_by`), Redis for `serve --redis`, else memory.
    pub fn new(service: Arc<Service>, rate_limit: bool, backend: RateBackend) -> AppState {
        AppState {
            service,
            idempotency_ttl: crate::api::idempotency::DEFAULT_TTL,
            failed_logins: Arc::new(FailedLogins::new(
                FAILED_LOGIN_LIMIT,
                FAILED_LOGIN_WINDOW,
                FAILED_LOGIN_ADDRESSES,
            )),
            sl_limiter: rate_limit.then(|| {
                Arc::new(RateLimiter::with_backend(
                    crate::api::salesloft::BUDGET_PER_MINUTE,
                    Duration::from_secs(60),
                    backend.clone(),
                ))
            }),
            native_limiter: rate_limit.then(|| {
                Arc::new(RateLimiter::with_backend(
                    crate::api::native::NATIVE_BUDGET_PER_MINUTE,
                    crate::api::native::NATIVE_WINDOW,
                    backend.clone(),
                ))
            }),
            lsq_limiter: rate_limit.then(|| {
                Arc::new(RateLimiter::with_backend(
                    25,
                    Duration::from_secs(5),
                    backend.clone(),
                ))
            }),
        }
    }
}

impl AppState {
    /// The same state keeping `Idempotency-Key` records for `ttl`.
    pub fn with_idempotency_ttl(mut self, ttl: Duration) -> AppState {
        self.idempotency_ttl = ttl;
        self
    }
}

/// The operations endpoints in `/openapi.json` (no credentials).
#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz, readyz, metrics))]
pub(crate) struct OpsDoc;

/// `{"status":"ready"}`, or `{"status":"unavailable","error":…}` with 503.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Readiness {
    #[schema(pattern = "^(ready|unavailable)$")]
    status: String,
    /// The kind of failure (503 only).
    #[schema(required = false)]
    error: String,
}

#[utoipa::path(get, path = "/healthz", tag = "Operations", operation_id = "healthz",
    summary = "The process is up", security(()),
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness for load balancers: 503 while the store does not answer or cannot take writes. The
/// endpoint needs no credentials, so the body names the kind of failure only; the detail (host,
/// database, server message) goes to the log.
#[utoipa::path(get, path = "/readyz", tag = "Operations", operation_id = "readyz",
    summary = "The store answers and takes writes", security(()),
    responses((status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready (with Retry-After: 1)", body = Readiness,
            headers(("Retry-After" = u64, description = "Seconds before asking again")))))]
async fn readyz(State(app): State<AppState>) -> Response {
    match app.service.store().ping().await {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let reason = match e {
                crate::error::Error::Unavailable(_) => {
                    "the database does not answer or cannot take writes"
                }
                _ => "the database check failed",
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "error": reason})),
            )
                .into_response()
        }
    }
}

/// The process's metrics in Prometheus' text format (see `telemetry`).
#[utoipa::path(get, path = "/metrics", tag = "Operations", operation_id = "metrics",
    summary = "Prometheus metrics", security(()),
    responses((status = 200, description = "Prometheus' text format 0.0.4", body = String, content_type = "text/plain")))]
async fn metrics() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        crate::telemetry::prometheus().render(),
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {"code": "not_found", "message": "No such endpoint"}})),
    )
        .into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(
            json!({"Status": "Error", "ExceptionType": "MXInternalServerException",
                    "ExceptionMessage": "An internal error occurred; it has been logged"}),
        ),
    )
        .into_response()
}

/// A 503 means the store is unreachable for now; every dialect (and `/readyz`) then tells the
/// client to try again in a second, unless the handler set its own `Retry-After`.
async fn retry_after_on_503(mut resp: Response) -> Response {
    if resp.status() == StatusCode::SERVICE_UNAVAILABLE
        && !resp.headers().contains_key(header::RETRY_AFTER)
    {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// The whole HTTP surface over `state`.
pub fn router(state: AppState) -> Router {
    crate::telemetry::prometheus();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(crate::api::lsq::routes())
        .merge(crate::api::salesloft::routes(state.clone()))
        .merge(crate::api::native::routes(state.clone()))
        .merge(crate::web::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::api::idempotency::layer,
        ))
        .layer(middleware::from_fn(crate::api::head_limits::limit_head))
        .layer(middleware::map_response(retry_after_on_503))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(crate::telemetry::observe))
        .with_state(state)
}

/// Serves `router` on an already-bound listener under the default [`Limits`] until Ctrl-C /
/// SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    serve_with(listener, router, Limits::default()).await
}

/// [`serve`] under `limits` (the `serve` command's flags).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
) -> std::io::Result<()> {
    let upkeep = tokio::spawn(crate::telemetry::upkeep());
    let served = crate::server::run(listener, router, limits, shutdown_signal()).await;
    upkeep.abort();
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
