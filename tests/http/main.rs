//! Black-box integration tests for the LeadSquared activity API of activity-hub.
//!
//! Every test starts the real binary on its own SQLite file and talks to it over HTTP.
//! One test binary (`cargo test --test http`); the files below are its modules.

mod harness;

mod access;
mod activities;
mod activity_types;
mod body_shapes;
mod bulk;
mod cli;
mod connections;
mod custom_and_delete;
mod demo;
mod import;
mod inputs;
mod lead_calls;
mod lead_search;
mod leads_users;
mod opportunities;
mod paging;
mod robustness;
mod validation;
