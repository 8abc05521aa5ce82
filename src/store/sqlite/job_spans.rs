//! Tests that a read or write handed to a SQLite thread runs in the span of the call that queued
//! it (so that what it logs names the request) and is counted in the queue metrics.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use rusqlite::Connection;
use serde_json::Value;
use tracing::Instrument;

use super::rows::SqlResult;
use super::SqliteStore;
use crate::error::Result;

/// Everything logged in this test process, as JSON lines with each event's span list.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber as the process's default: the SQLite threads log through
/// the global default, not through a test thread's scoped one.
fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_thread_names(true)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(|| Capture)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// The captured line whose message is `message`.
fn logged(message: &str) -> Value {
    let log = String::from_utf8_lossy(&LOG.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["message"] == message)
        .unwrap_or_else(|| panic!("no line {message:?} in:\n{log}"))
}

/// The request id of the `http` span in a captured line's span list.
fn request_id_of(line: &Value) -> Option<&str> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "http")?["request_id"]
        .as_str()
}

fn on_reader_thread() -> bool {
    std::thread::current()
        .name()
        .is_some_and(|n| n.starts_with("sqlite-reader"))
}

/// Logs `message` once on a reader thread: on the asking thread it first runs a read long
/// enough to be stopped there and handed over.
fn log_on_reader(c: &Connection, message: &'static str) -> Result<()> {
    if !on_reader_thread() {
        let long =
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000000) \
             SELECT count(*) FROM n";
        c.query_row(long, [], |r| r.get::<_, i64>(0)).db()?;
        return Ok(());
    }
    tracing::info!("{message}");
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn jobs_on_the_sqlite_threads_log_in_the_span_of_their_caller() {
    capture_logs();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("t.db").to_str().expect("utf-8 path"))
        .expect("open store");
    let request = tracing::info_span!("http", request_id = "job-span-1");
    async {
        store
            .write(|_| {
                tracing::info!("job-span-1 on the writer");
                Ok(())
            })
            .await
            .expect("write");
        store
            .read(|c| log_on_reader(c, "job-span-1 on a reader"))
            .await
            .expect("read");
    }
    .instrument(request)
    .await;

    for (message, thread) in [
        ("job-span-1 on the writer", "sqlite-writer"),
        ("job-span-1 on a reader", "sqlite-reader"),
    ] {
        let line = logged(message);
        let ran_on = line["threadName"].as_str().unwrap_or_default();
        assert!(ran_on.starts_with(thread), "{line}");
        assert_eq!(request_id_of(&line), Some("job-span-1"), "{line}");
    }

    // Both jobs waited in a queue: each left a sample of its wait, and neither is still counted.
    let metrics = crate::telemetry::prometheus().render();
    for queue in ["read", "write"] {
        let count = format!("activity_hub_store_queue_wait_seconds_count{{queue=\"{queue}\"}} ");
        let samples: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&count))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {count} in:\n{metrics}"));
        assert!(samples >= 1.0, "{queue}: {samples}");
    }
}
