//! The accept loop: HTTP/1 connections with a head/idle timeout, a write timeout, a cap on open
//! connections, the request-body guard, and graceful shutdown.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::middleware;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower_service::Service;

use crate::api::extract::{guard_body, BodyGuard};

/// How long a connection may take to deliver a complete request head, counted from when it is
/// ready for one: accepted, or its previous response sent. One timer covers idle keep-alive
/// connections and heads trickled a byte at a time; 30 s outlasts any client that is actually
/// sending (a head is a few hundred bytes) and keeps an abandoned or hostile connection's
/// descriptor for at most that long.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request body may take to arrive whole, from when its head was read. 30 s lets the
/// largest body (1 MiB) through at ~35 KB/s; a body trickled slower is answered 408 and its
/// connection closed, so it cannot pin memory and a connection indefinitely.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a write to a connection may stay blocked because its client does not read. hyper has
/// no such timer: a client that sends requests (or asks for a large export) and never reads the
/// answers would otherwise keep its connection, its buffered response and its slot under the cap
/// for ever. A client that reads at all unblocks the write and restarts the timer, so a slow but
/// live reader of a long export is not cut.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections served at once. At the cap a new connection gets a short 503 and is closed, so the
/// listener keeps draining its backlog. 768 leaves a quarter of the common 1,024-descriptor limit
/// for the database, log files and the refusals themselves; raise it with `--max-connections`
/// (and `ulimit -n`) on a host that allows more descriptors.
pub const MAX_CONNECTIONS: usize = 768;

/// Request-body bytes buffered at once across all connections. 64 MiB is 64 maximal (1 MiB)
/// bodies in flight, far more than honest clients keep open, and bounds what slow or withheld
/// bodies can pin; a body that would exceed it is answered 503 with `Retry-After` instead of
/// being buffered.
pub const BODY_BUDGET: usize = 64 << 20;

/// Connections being refused at once (each gets up to [`REFUSAL_LINGER`] to read the 503); past
/// this a connection over the cap is closed without a word, so refusals cannot exhaust descriptors.
const REFUSALS_IN_FLIGHT: usize = 64;

/// How long a refused connection is kept so its client can read the 503 before the close (closing
/// with its request unread would reset the connection and lose the answer).
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// How long shutdown waits for requests in flight once it stops accepting.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The pause after a failed `accept` (e.g. out of descriptors) before trying again, so the loop
/// does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The counter of connections refused at the cap, in `/metrics`.
const CONNECTIONS_REFUSED: &str = "activity_hub_http_connections_refused_total";

/// What a connection over the cap is told before it is closed. No dialect is known before the
/// request is read, so the body is the native envelope.
const OVERLOADED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 100\r\n\
\r\n\
{\"error\":{\"code\":\"overloaded\",\"message\":\"The server is at its connection limit; try again shortly\"}}";

/// The connection and body limits `serve` enforces; [`Limits::default`] is the documented set.
#[derive(Clone, Debug)]
pub struct Limits {
    pub head_timeout: Duration,
    pub body_timeout: Duration,
    pub write_timeout: Duration,
    pub max_connections: usize,
    pub body_budget: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            head_timeout: HEAD_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            write_timeout: WRITE_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            body_budget: BODY_BUDGET,
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes, then waits up to
/// [`SHUTDOWN_GRACE`] for requests in flight.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let guard = Arc::new(BodyGuard::new(limits.body_timeout, limits.body_budget));
    let router = router.layer(middleware::from_fn_with_state(guard, guard_body));
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusing = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper parses up to twice the header count `head_limits` allows, so that a request with a
    // few too many reaches it and is refused in its dialect's envelope, not with hyper's bare 431.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_headers(2 * crate::api::head_limits::MAX_HEADERS);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = open.clone().try_acquire_owned() else {
            refuse(stream, &refusing);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(addr));
            let mut router = router.clone();
            async move {
                let resp: Result<Response, Infallible> = router.call(req.map(Body::new)).await;
                resp
            }
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(Box::pin(stream)), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %addr, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the shutdown grace period; closing them");
    }
    Ok(())
}

/// Tells a connection over the cap 503 and closes it, without holding more than
/// [`REFUSALS_IN_FLIGHT`] such connections; beyond that it is closed at once.
fn refuse(mut stream: TcpStream, refusing: &Arc<Semaphore>) {
    metrics::counter!(CONNECTIONS_REFUSED).increment(1);
    let Ok(slot) = refusing.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            stream.write_all(OVERLOADED).await?;
            stream.shutdown().await?;
            // Reads what the client sent until it closes, so closing does not reset the
            // connection before the client read the answer.
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        })
        .await;
        drop(slot);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_declares_its_body_length() {
        let text = std::str::from_utf8(OVERLOADED).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        serde_json::from_str::<serde_json::Value>(body).unwrap();
    }
}
