//! Integration tests of the native API (`/api/v1`, `/openapi.json`) over real HTTP, on SQLite or
//! (`ACTIVITY_HUB_TEST_BACKEND=postgres`) PostgreSQL. One test binary: `cargo test --test native`.

mod harness;

mod activities;
mod activity_changes;
mod basics;
mod directory;
mod export;
mod idempotency;
mod inputs;
mod openapi_answers;
mod openapi_bounds;
mod openapi_lenient;
mod openapi_routes;
mod rate_limit;
mod trash;
mod types_opportunities;
mod web_ui;
mod webhooks;
