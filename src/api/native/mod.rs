//! The native API (`/api/v1`): what neither dialect can express — users, leads, accounts, types,
//! opportunities, Salesloft-style activity batches, pin/tag/edit/delete — plus `/openapi.json`.
//! Bearer auth; errors are `{"error":{"code","message"}}` with proper 4xx codes.

mod accounts;
mod activities;
mod activity_types;
mod auth;
pub mod error;
mod export;
mod history;
mod input;
mod leads;
mod opportunities;
mod rate;
mod render;
mod users;
mod webhooks;

use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;

use crate::api::extract::refuse_other_methods;
use crate::app::AppState;

pub use auth::Caller;
pub use error::ApiError;
pub use rate::{EXPORT_COST, NATIVE_BUDGET_PER_MINUTE, NATIVE_WINDOW};

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not accept this HTTP method",
    )
}

async fn no_such_endpoint() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint")
}

/// The `/api/v1` routes and `/openapi.json`; authenticated answers state the caller's budget.
pub fn routes(_state: AppState) -> Router<AppState> {
    let m = |r| refuse_other_methods(r, method_not_allowed);
    Router::new()
        .route("/openapi.json", m(get(crate::api::openapi::serve)))
        .route(
            "/api/v1/users",
            m(get(users::list_users).post(users::create_user)),
        )
        .route(
            "/api/v1/leads",
            m(get(leads::list_leads).post(leads::create_lead)),
        )
        .route(
            "/api/v1/leads/{guid}",
            m(get(leads::get_lead).delete(leads::delete_lead)),
        )
        .route(
            "/api/v1/accounts",
            m(get(accounts::list_accounts).post(accounts::create_account)),
        )
        .route(
            "/api/v1/activity_types",
            m(get(activity_types::list_types).post(activity_types::create_type)),
        )
        .route(
            "/api/v1/opportunities",
            m(get(opportunities::list_opportunities).post(opportunities::create_opportunity)),
        )
        .route("/api/v1/activities", m(post(activities::create_activities)))
        .route(
            "/api/v1/activities/{id}",
            m(get(activities::get_activity)
                .patch(activities::edit_activity)
                .delete(activities::delete_activity)),
        )
        .route(
            "/api/v1/activities/{id}/pin",
            m(post(activities::pin).delete(activities::unpin)),
        )
        .route("/api/v1/activities/{id}/tags", m(put(activities::set_tags)))
        .route(
            "/api/v1/activities/{id}/history",
            m(get(history::activity_history)),
        )
        .route(
            "/api/v1/activities/{id}/restore",
            m(post(history::restore_activity)),
        )
        .route(
            "/api/v1/leads/{guid}/restore",
            m(post(history::restore_lead)),
        )
        .route("/api/v1/export", m(get(export::export)))
        .route(
            "/api/v1/webhooks",
            m(get(webhooks::list_webhooks).post(webhooks::create_webhook)),
        )
        .route(
            "/api/v1/webhooks/{id}",
            m(get(webhooks::get_webhook).delete(webhooks::delete_webhook)),
        )
        .route(
            "/api/v1/webhooks/{id}/test",
            m(post(webhooks::test_webhook)),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            m(get(webhooks::list_deliveries)),
        )
        .route("/api/v1/{*rest}", axum::routing::any(no_such_endpoint))
        .route("/api/v1", axum::routing::any(no_such_endpoint))
        .layer(axum::middleware::from_fn(rate::budget_headers))
}
