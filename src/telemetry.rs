//! Request observability: the per-request span and `x-request-id`, the Prometheus metrics behind
//! `/metrics` (requests, store calls, the SQLite job queues), and the log format chosen with
//! `serve --log-format`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

/// The header a request id arrives in (when the client or a proxy sets one) and is echoed in.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id longer than this is replaced by a generated one, so that ids stay fit
/// for a log line and a metrics system's label.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Histogram buckets of request latency, in seconds: a cached read answers in well under a
/// millisecond, a bulk write or export page can take seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Histogram buckets of the time a store job waits in its queue, in seconds: an idle thread takes
/// a job within microseconds, a busy writer makes it wait for the batch before.
const QUEUE_WAIT_BUCKETS: &[f64] = &[
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 1.0,
];

const REQUESTS_TOTAL: &str = "activity_hub_http_requests_total";
const REQUEST_DURATION: &str = "activity_hub_http_request_duration_seconds";
const RATE_LIMIT_REFUSALS: &str = "activity_hub_rate_limit_refusals_total";
const LOGIN_LOCKOUTS: &str = "activity_hub_login_lockout_refusals_total";
const STORE_CALL_DURATION: &str = "activity_hub_store_call_duration_seconds";
const STORE_QUEUE_DEPTH: &str = "activity_hub_store_queue_depth";
const STORE_QUEUE_WAIT: &str = "activity_hub_store_queue_wait_seconds";
const STORE_QUEUE_REFUSALS: &str = "activity_hub_store_queue_refusals_total";

/// How `serve` writes its log lines to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event, span fields in front.
    Text,
    /// One JSON object per line, with the current span's fields (request id, route, tenant).
    Json,
}

/// Installs the process's log subscriber: `RUST_LOG` filters (default `info`), stderr receives.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal: the request span's fields are formatted for every
    // request, and styling them cost more than the rest of the span.
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        // The span list too: a line logged inside a store call's span (the current one) still
        // carries the request's id, which only the enclosing `http` span holds.
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}

/// The process-wide Prometheus recorder's handle, installing the recorder on first use. The
/// `metrics` macros record into one global recorder, so every router in a process (tests start
/// several) shares it and `/metrics` shows the whole process.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // Only an empty bucket list is refused, and LATENCY_BUCKETS is not empty; without buckets
        // the exporter would render a summary instead.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(STORE_CALL_DURATION.into()), LATENCY_BUCKETS)
            })
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(STORE_QUEUE_WAIT.into()), QUEUE_WAIT_BUCKETS)
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics shows nothing");
        }
        metrics::describe_counter!(
            REQUESTS_TOTAL,
            "HTTP requests answered, by method, route and status."
        );
        metrics::describe_histogram!(
            REQUEST_DURATION,
            metrics::Unit::Seconds,
            "Time from receiving a request to its response head, by method, route and status."
        );
        metrics::describe_counter!(
            RATE_LIMIT_REFUSALS,
            "Calls refused with 429 because a rate budget was spent, by dialect."
        );
        metrics::describe_counter!(
            LOGIN_LOCKOUTS,
            "Calls refused with 429 unchecked because their address presented too many refused credentials."
        );
        metrics::describe_histogram!(
            STORE_CALL_DURATION,
            metrics::Unit::Seconds,
            "Time a call into the store took, by operation and outcome (ok or error)."
        );
        metrics::describe_gauge!(
            STORE_QUEUE_DEPTH,
            "Store jobs waiting, by queue (read: SQLite's reader threads; write: SQLite's writer or PostgreSQL's group-commit workers)."
        );
        metrics::describe_histogram!(
            STORE_QUEUE_WAIT,
            metrics::Unit::Seconds,
            "Time a store job waited in its queue before it was started, by queue."
        );
        metrics::describe_counter!(
            STORE_QUEUE_REFUSALS,
            "Store jobs refused (503) because their queue was full, by queue."
        );
        handle
    })
}

/// Moves recorded latencies into the histograms; `/metrics` does it too, this bounds the memory
/// they take when nothing scrapes. Runs until dropped.
pub async fn upkeep() {
    let handle = prometheus();
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// Counts a call refused by a rate limit (`dialect`: "leadsquared", "salesloft" or "native").
pub fn rate_limit_refused(dialect: &'static str) {
    metrics::counter!(RATE_LIMIT_REFUSALS, "dialect" => dialect).increment(1);
}

/// Counts a call refused because its address is locked out (`auth::FailedLogins`).
pub fn login_locked_out() {
    metrics::counter!(LOGIN_LOCKOUTS).increment(1);
}

/// Records how long a store call took (`op`: the `Store` method) and whether it failed.
pub fn store_call(op: &'static str, ok: bool, elapsed: Duration) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::histogram!(STORE_CALL_DURATION, "op" => op, "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

/// The depth gauge and wait histogram of one store job queue, looked up once: a job then costs
/// an `Instant` and two atomic updates of the gauge.
pub struct StoreQueue {
    depth: metrics::Gauge,
    wait: metrics::Histogram,
    refused: metrics::Counter,
}

impl StoreQueue {
    /// The queue of reads waiting for a reader thread, shared by every store in the process.
    pub fn read() -> &'static StoreQueue {
        static READ: OnceLock<StoreQueue> = OnceLock::new();
        READ.get_or_init(|| StoreQueue::named("read"))
    }

    /// The queue of writes waiting for SQLite's writer thread or PostgreSQL's group-commit
    /// workers, shared by every store in the process.
    pub fn write() -> &'static StoreQueue {
        static WRITE: OnceLock<StoreQueue> = OnceLock::new();
        WRITE.get_or_init(|| StoreQueue::named("write"))
    }

    fn named(queue: &'static str) -> StoreQueue {
        // Handles taken before the recorder is installed would record nowhere.
        prometheus();
        StoreQueue {
            depth: metrics::gauge!(STORE_QUEUE_DEPTH, "queue" => queue),
            wait: metrics::histogram!(STORE_QUEUE_WAIT, "queue" => queue),
            refused: metrics::counter!(STORE_QUEUE_REFUSALS, "queue" => queue),
        }
    }

    /// Counts a job refused because the queue was full.
    pub fn refuse(&self) {
        self.refused.increment(1);
    }

    /// Counts a job into the queue; the job keeps the ticket until a thread starts it.
    pub fn enqueue(&'static self) -> Queued {
        self.depth.increment(1.0);
        Queued {
            queue: self,
            at: Instant::now(),
        }
    }
}

/// A job waiting in a `StoreQueue`: it leaves the queue's depth when dropped, whether a thread
/// started it (`start`) or it was dropped unrun.
pub struct Queued {
    queue: &'static StoreQueue,
    at: Instant,
}

impl Queued {
    /// The job starts: records how long it waited.
    pub fn start(self) {
        self.queue.wait.record(self.at.elapsed().as_secs_f64());
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.queue.depth.decrement(1.0);
    }
}

/// The client's request id if it is fit to log and echo (1 to 128 visible ASCII characters).
fn client_request_id(value: &HeaderValue) -> Option<&str> {
    let id = value.to_str().ok()?;
    let sane = !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id.bytes().all(|b| b.is_ascii_graphic());
    sane.then_some(id)
}

/// Wraps every request: a request id (the client's if sane, else a new UUID v7) echoed in the
/// response's `x-request-id`, an `http` span that handlers' log lines carry (the dialects record
/// `tenant` on it once authenticated), and the request counter and latency histogram. The span
/// names the route pattern, never the URI: query strings may carry LeadSquared keys.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let request_id = match req.headers().get(&REQUEST_ID).and_then(client_request_id) {
        Some(id) => id.to_string(),
        None => uuid::Uuid::now_v7().to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        req.headers_mut().insert(REQUEST_ID, v);
    }
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let span = tracing::info_span!(
        "http",
        request_id = %request_id,
        method = %method,
        route = %route,
        tenant = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let mut resp = next.run(req).instrument(span.clone()).await;
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    span.record("status", status);
    span.record("latency_ms", elapsed.as_secs_f64() * 1000.0);
    span.in_scope(|| tracing::debug!("request answered"));
    let labels = [
        ("method", method.as_str().to_string()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(REQUEST_DURATION, &labels).record(elapsed.as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// Notes the authenticated caller's tenant on the current request's span.
pub fn record_tenant(tenant: &uuid::Uuid) {
    tracing::Span::current().record("tenant", tracing::field::display(tenant));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_kept_only_when_short_and_visible_ascii() {
        let ok = HeaderValue::from_static("abc-123_X.y");
        assert_eq!(client_request_id(&ok), Some("abc-123_X.y"));
        for bad in ["", "has space", &"x".repeat(129)] {
            let v = HeaderValue::from_str(bad).unwrap();
            assert_eq!(client_request_id(&v), None, "{bad:?}");
        }
        let non_ascii = HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
        assert_eq!(client_request_id(&non_ascii), None);
    }
}
