//! One conformance suite for every `Store` backend: each test runs the same scenario on SQLite
//! and, when `ACTIVITY_HUB_TEST_PG` names a server, on a fresh PostgreSQL database, so that both
//! backends are held to one behaviour (errors, ordering, timestamps, atomicity, isolation). Tests
//! that compare the two backends or exercise PostgreSQL alone are reported ignored without it.
//! One test binary: `cargo test --test store_conformance`.

#[path = "../common/pg.rs"]
mod pg;

mod fixtures;

mod backends;
mod concurrent_inserts;
mod counts;
mod directory;
mod history;
mod leads;
mod listing;
mod records;
mod stored_data;
