//! Throwaway PostgreSQL databases for tests: one uniquely named database per test, created on the
//! server that `ACTIVITY_HUB_TEST_PG` names and dropped (connections and all) when the guard drops.
//!
//! Without that variable the PostgreSQL half of a suite is skipped, and the suite says so on the
//! terminal (bypassing the test harness's output capture) so that nobody mistakes it for a pass;
//! `.ci/run` sets the variable and fails when it sees the skip notice.

#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable naming the PostgreSQL server for tests (a database URL on it, e.g. its `test` db).
pub const ENV: &str = "ACTIVITY_HUB_TEST_PG";
/// Printed (once per test binary) when the PostgreSQL tests of a suite were skipped.
pub const SKIP_MARKER: &str = "POSTGRES TESTS SKIPPED";
/// Printed (once per test binary) when they ran.
pub const RAN_MARKER: &str = "postgres tests ran";

static NOTICE: Once = Once::new();
static SEQ: AtomicU64 = AtomicU64::new(0);

/// The admin URL when PostgreSQL tests should run; otherwise prints the skip notice (once) and
/// returns `None`.
pub fn admin_url(suite: &str) -> Option<String> {
    let url = std::env::var(ENV).ok().filter(|u| !u.trim().is_empty());
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
