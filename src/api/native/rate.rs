//! The native API's own rate limit: a budget per user (API key) that every authenticated call spends, told to clients in `x-ratelimit-*` headers.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use crate::app::AppState;
use crate::domain::User;

/// Cost units per user per rolling minute. Per user rather than per tenant: each API key is one
/// integration or person, and one runaway script should not lock its colleagues out.
pub const NATIVE_BUDGET_PER_MINUTE: u64 = 600;

/// The rolling window of the native budget.
pub const NATIVE_WINDOW: Duration = Duration::from_secs(60);

/// What one export call costs: it streams every visible record in a single response, so it is
/// priced like a run of list pages. Every other call costs 1 — a batch of up to 100 activities
/// included, so that batching is what pays.
pub const EXPORT_COST: u64 = 10;

/// The budget left after an authenticated call, filled by the `Caller` extractor and written to
/// the answer's headers by `budget_headers`.
#[derive(Clone, Default)]
pub(super) struct BudgetSlot(Arc<OnceLock<(u64, u64)>>);

/// The cost of a call to `path`.
fn cost_of(path: &str) -> u64 {
    if path == "/api/v1/export" {
        EXPORT_COST
    } else {
        1
    }
}

/// Spends `user`'s budget for a call to `path`; a 429 (`rate_limited`, `Retry-After`) when it is
/// spent. Records the remaining budget for the answer's headers either way.
pub(super) async fn charge(
    state: &AppState,
    extensions: &axum::http::Extensions,
    path: &str,
    user: &User,
) -> Result<(), ApiError> {
    let slot = extensions.get::<BudgetSlot>();
    let record = |limit: u64, remaining: u64| {
        if let Some(s) = slot {
            let _ = s.0.set((limit, remaining));
        }
    };
    let Some(limiter) = &state.native_limiter else {
        // `--no-rate-limit`: the whole budget, always, so clients never wait.
        record(NATIVE_BUDGET_PER_MINUTE, NATIVE_BUDGET_PER_MINUTE);
        return Ok(());
    };
    let d = limiter
        .acquire(&format!("native-user:{}", user.guid), cost_of(path))
        .await;
    record(limiter.limit(), d.remaining);
    if d.allowed {
        return Ok(());
    }
    crate::telemetry::rate_limit_refused("native");
    let wait = crate::api::extract::retry_after_secs(d.retry_after);
    Err(ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "Rate limit exceeded: {} requests per {} seconds for this API key (an export costs {}); try again in {wait} second(s)",
            limiter.limit(),
            limiter.window().as_secs(),
            EXPORT_COST
        ),
    )
    .retry_after(d.retry_after))
}

/// Middleware of the native routes: gives the request a `BudgetSlot` and, once answered, states
/// the caller's budget in `x-ratelimit-limit` and `x-ratelimit-remaining` (authenticated calls
/// only: the budget belongs to a user).
pub(super) async fn budget_headers(mut req: Request, next: Next) -> Response {
    let slot = BudgetSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut resp = next.run(req).await;
    if let Some((limit, remaining)) = slot.0.get() {
        let h = resp.headers_mut();
        h.insert("x-ratelimit-limit", HeaderValue::from(*limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(*remaining));
    }
    resp
}
