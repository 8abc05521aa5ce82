//! Throwaway PostgreSQL databases for tests: one uniquely named database per test, created on the
//! server that `ACTIVITY_HUB_TEST_PG` names and dropped (connections and all) when the guard drops.
//!
//! How a run without PostgreSQL shows (libtest has no run-time skip: a test that returns early
//! counts as passed, so none may):
//!
//! - **PostgreSQL-only tests** carry [`IGNORE_WITHOUT_PG`]'s attribute,
//!   `#[cfg_attr(not(pg_tests), ignore = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)")]`.
//!   build.rs sets `cfg(pg_tests)` when `ACTIVITY_HUB_TEST_PG` is set at build time (and rebuilds
//!   when it changes), so `cargo test` without PostgreSQL lists them as ignored, with that reason,
//!   and counts them in every summary line; with PostgreSQL they run. Such a test gets its URL
//!   from [`required_admin_url`], which panics rather than returns when there is none.
//! - **Tests on both backends** (SQLite always, PostgreSQL when configured) run their SQLite half
//!   either way and get the URL from [`admin_url`]; when it is `None` the suite prints
//!   [`SKIP_MARKER`] straight to the terminal (bypassing the harness's output capture), so the
//!   pass is never read as PostgreSQL coverage.
//! - Whenever a suite does use PostgreSQL it prints `postgres tests ran: <suite>` ([`RAN_MARKER`])
//!   once.
//!
//! `.ci/run` sets the variable and fails when the log shows the skip notice, a test ignored for
//! want of PostgreSQL, or a suite without its "postgres tests ran" line.

#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable naming the PostgreSQL server for tests (a database URL on it, e.g. its `test` db).
pub const ENV: &str = "ACTIVITY_HUB_TEST_PG";
/// Printed (once per test binary) when the PostgreSQL half of a suite's tests on both backends was
/// skipped.
pub const SKIP_MARKER: &str = "POSTGRES TESTS SKIPPED";
/// Printed (once per test binary) when they ran.
pub const RAN_MARKER: &str = "postgres tests ran";
/// The reason a PostgreSQL-only test gives when it is ignored (spelled out in each attribute, as
/// `ignore = …` takes a literal only); `.ci/run` fails when it sees it.
pub const IGNORE_WITHOUT_PG: &str = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)";

static NOTICE: Once = Once::new();
static SEQ: AtomicU64 = AtomicU64::new(0);

/// The admin URL when PostgreSQL tests should run; otherwise prints the skip notice (once) and
/// returns `None`. A build made with the variable set (`cfg(pg_tests)`) must also run with it:
/// there a missing URL is a failure.
pub fn admin_url(suite: &str) -> Option<String> {
    let url = std::env::var(ENV).ok().filter(|u| !u.trim().is_empty());
    if url.is_none() && cfg!(pg_tests) {
        panic!("these tests were built with {ENV} set (the PostgreSQL-only tests are in): run them with it too");
    }
    NOTICE.call_once(|| {
        // Straight to the terminal: the harness captures print!/eprint! of passing tests.
        let mut err = std::io::stderr().lock();
        let _ = match &url {
            Some(_) => writeln!(err, "\n{RAN_MARKER}: {suite}"),
            None => writeln!(
                err,
                "\n*** {SKIP_MARKER} in {suite}: set {ENV}=postgres://postgres@127.0.0.1:5432/test \
                 to run them (only the SQLite half ran) ***"
            ),
        };
    });
    url
}

/// The admin URL for a PostgreSQL-only test (one ignored without `cfg(pg_tests)`); panics when
/// there is none, so that such a test can never pass without having run.
pub fn required_admin_url(suite: &str) -> String {
    admin_url(suite).unwrap_or_else(|| panic!("{IGNORE_WITHOUT_PG}: {ENV} is not set"))
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// Runs `f` on a fresh current-thread runtime on its own thread, so that setup and cleanup work
/// from sync code, async tests and `Drop` alike.
fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("test runtime");
        rt.block_on(f())
    })
    .join()
    .expect("database helper thread panicked")
}

/// Runs one SQL batch on the admin database.
pub fn admin_exec(admin: &str, sql: &str) -> Result<(), String> {
    let admin = admin.to_string();
    let sql = sql.to_string();
    blocking(move || {
        Box::pin(async move {
            let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("cannot connect to the test PostgreSQL ({ENV}): {e}"))?;
            let task = tokio::spawn(conn);
            let r = client
                .batch_execute(&sql)
                .await
                .map_err(|e| format!("{sql}: {e}"));
            drop(client);
            let _ = task.await;
            r
        })
    })
}

/// Runs one query on `url` and returns the first column of every row as text.
pub fn query_texts(url: &str, sql: &str) -> Result<Vec<Option<String>>, String> {
    let url = url.to_string();
    let sql = sql.to_string();
    blocking(move || {
        Box::pin(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("cannot connect: {e}"))?;
            let task = tokio::spawn(conn);
            let r = client
                .simple_query(&sql)
                .await
                .map_err(|e| format!("{sql}: {e}"))
                .map(|msgs| {
                    msgs.into_iter()
                        .filter_map(|m| match m {
                            tokio_postgres::SimpleQueryMessage::Row(r) => {
                                Some(r.get(0).map(str::to_string))
                            }
                            _ => None,
                        })
                        .collect()
                });
            drop(client);
            let _ = task.await;
            r
        })
    })
}

/// A database of its own for one test; dropped with `DROP DATABASE … WITH (FORCE)` on drop.
pub struct PgDb {
    pub url: String,
    pub name: String,
    admin: String,
}

impl PgDb {
    /// Creates `ah_<prefix>_<pid>_<n>_<time>` on the server of `admin`; panics when it cannot (a
    /// configured PostgreSQL that does not work is a failure, not a skip).
    pub fn create(admin: &str, prefix: &str) -> PgDb {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "ah_{}_{}_{}_{nanos}",
            prefix
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
        );
        if let Err(e) = admin_exec(admin, &format!("CREATE DATABASE \"{name}\"")) {
            panic!("{e}");
        }
        PgDb {
            url: with_database(admin, &name),
            name,
            admin: admin.to_string(),
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Err(e) = admin_exec(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        ) {
            let _ = writeln!(std::io::stderr(), "warning: {e}");
        }
    }
}
