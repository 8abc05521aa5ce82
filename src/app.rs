//! Assembles the HTTP server from a store URL: state, routes, operations endpoints, and serving.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;

pub use crate::api::rate_limit::RateBackend;
use crate::api::rate_limit::RateLimiter;
use crate::service::Service;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    /// LeadSquared's per-access-key limit; `None` with `--no-rate-limit`.
    pub lsq_limiter: Option<Arc<RateLimiter>>,
    /// Salesloft's per-tenant budget (600 cost / minute); `None` with `--no-rate-limit`.
    pub sl_limiter: Option<Arc<RateLimiter>>,
    pub metrics: Arc<Metrics>,
}

/// Request counters for `/metrics`, by status class.
#[derive(Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    latency_micros_total: AtomicU64,
}

impl AppState {
    /// Rate budgets live in the store when it keeps shared ones (PostgreSQL), else in memory.
    pub fn new(service: Arc<Service>, rate_limit: bool) -> AppState {
        let backend = RateBackend::Store(service.store().clone());
        AppState::with_rate_backend(service, rate_limit, backend)
    }

    /// Like `new`, with rate budgets kept in `backend` (e.g. Redis for `serve --redis`).
    pub fn with_rate_backend(
        service: Arc<Service>,
        rate_limit: bool,
        backend: RateBackend,
    ) -> AppState {
        AppState {
            service,
            sl_limiter: rate_limit.then(|| {
                Arc::new(RateLimiter::with_backend(
                    crate::api::salesloft::BUDGET_PER_MINUTE,
                    Duration::from_secs(60),
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
            metrics: Arc::new(Metrics::default()),
        }
    }
}

async fn healthz() -> &'static str {
    "ok"
}

/// Readiness for load balancers: 503 while the store does not answer. The endpoint needs no
/// credentials, so the body names the kind of failure only; the detail (host, database, server
/// message) goes to the log.
async fn readyz(State(app): State<AppState>) -> Response {
    match app.service.store().ping().await {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let reason = match e {
                crate::error::Error::Unavailable(_) => "the database does not answer",
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

async fn metrics(State(app): State<AppState>) -> String {
    let mut out = String::from(
        "# HELP activity_hub_http_requests_total HTTP requests answered, by status class.\n\
         # TYPE activity_hub_http_requests_total counter\n",
    );
    for (i, c) in app.metrics.by_class.iter().enumerate() {
        out.push_str(&format!(
            "activity_hub_http_requests_total{{class=\"{}xx\"}} {}\n",
            i + 1,
            c.load(Ordering::Relaxed)
        ));
    }
    out.push_str(&format!(
        "# HELP activity_hub_http_request_seconds_total Time spent answering requests.\n\
         # TYPE activity_hub_http_request_seconds_total counter\n\
         activity_hub_http_request_seconds_total {}\n",
        app.metrics.latency_micros_total.load(Ordering::Relaxed) as f64 / 1e6
    ));
    out
}

/// Counts and logs each request by path only: query strings may carry LSQ keys, never logged.
async fn observe(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let class = (status / 100).clamp(1, 5) as usize - 1;
    app.metrics.by_class[class].fetch_add(1, Ordering::Relaxed);
    let elapsed = start.elapsed();
    app.metrics
        .latency_micros_total
        .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    tracing::debug!(%method, %path, status, micros = elapsed.as_micros() as u64, "request");
    resp
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
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(crate::api::lsq::routes())
        .merge(crate::api::salesloft::routes(state.clone()))
        .merge(crate::api::native::routes(state.clone()))
        .fallback(not_found)
        .layer(middleware::map_response(retry_after_on_503))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// Serves `router` on an already-bound listener until Ctrl-C / SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
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
