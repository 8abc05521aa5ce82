//! Attack checks over real HTTP (issue 22, item 5): foreign ids on every route, injection-shaped
//! input in every list parameter, and no secret in the server's logs. One test binary
//! (`cargo test --test attack`; `ACTIVITY_HUB_TEST_BACKEND=postgres` runs every test on
//! PostgreSQL).

mod harness;
#[path = "../common/process.rs"]
mod process;

mod foreign_ids;
mod injection;
mod routes;
mod secrets;
