//! `Idempotency-Key` on every write of every dialect: a layer that fingerprints the request and
//! keeps its first answer, and the claim each dialect's authentication makes once it knows the
//! caller's tenant. What is kept, for how long and what a crash leaves: docs/decisions.md.
//!
//! The layer (`layer`) only engages on POST/PUT/PATCH/DELETE carrying the header: it reads the
//! body, hashes the request and leaves a [`Slot`] in the request's extensions, then runs the route.
//! The dialect's own authentication (native `Caller`, LeadSquared `Lsq`, Salesloft `guard`) calls
//! [`claim`] after the caller is authenticated and charged its rate budget, and words what it
//! refuses in the dialect's envelope. After the route answered, the layer stores the answer (or
//! lets the key go), or swaps the dialect's stand-in answer for the stored one on a replay.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::app::AppState;
use crate::domain::time::now_micros;
use crate::domain::User;
use crate::error::Error;
use crate::store::{KeyClaim, KeyRecord, KeyState, Store, StoredAnswer};

/// The request header naming a write's key.
pub const HEADER: &str = "idempotency-key";
/// The answer header marking a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";
/// The longest key accepted, in characters (printable ASCII).
pub const MAX_KEY: usize = 255;
/// The largest answer body kept for replay; a larger one is not kept and its key answers
/// `NotKept` (every write's answer is far smaller: a batch of 100 activities is ~100 KiB).
pub const MAX_KEPT: usize = 1 << 20;
/// How long keys are kept by default (`serve --idempotency-ttl-hours`).
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);
/// A key whose first request has not answered after this long is taken to be left by a process
/// that died mid-request, and may be claimed again. Far longer than any write takes: the body is
/// already read, and every store call is bounded by the store's own timeouts.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(60);
/// How long a retry waits for the first request of its key to answer before it is told 409.
pub const WAIT_FOR_FIRST: Duration = Duration::from_secs(2);
/// How often a waiting retry looks at the key again.
const POLL: Duration = Duration::from_millis(20);
/// Records deleted per pruning statement, and statements per pruning round: the pruner never
/// holds the SQLite writer (or a PostgreSQL transaction) for long.
pub const PRUNE_BATCH: u32 = 1000;
const PRUNE_BATCHES_PER_ROUND: usize = 100;
/// Time between pruning rounds.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Why a request with a key does not run. Each dialect words it in its own envelope, with
/// [`Refusal::status`] and [`Refusal::message`].
#[derive(Debug)]
pub enum Refusal {
    /// The header is not one key of 1-255 printable ASCII characters.
    BadKey(String),
    /// The key was first used with another request (caller, method, path, query or body).
    Mismatch,
    /// The key's first request is still running (after waiting [`WAIT_FOR_FIRST`]).
    InProgress,
    /// The key's first request answered with this status, and its answer was too large to keep.
    NotKept(u16),
    /// The key's first answer is replayed: the layer sends it instead of the dialect's answer.
    Replayed,
    /// The store failed.
    Failed(Error),
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::BadKey(_) => StatusCode::BAD_REQUEST,
            Refusal::Mismatch | Refusal::InProgress | Refusal::NotKept(_) | Refusal::Replayed => {
                StatusCode::CONFLICT
            }
            Refusal::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The native API's error code.
    pub fn native_code(&self) -> &'static str {
        match self {
            Refusal::BadKey(_) => "invalid_request",
            Refusal::Mismatch => "idempotency_key_reused",
            Refusal::InProgress => "idempotency_key_in_progress",
            Refusal::NotKept(_) => "idempotency_answer_not_kept",
            Refusal::Replayed => "idempotent_replayed",
            Refusal::Failed(_) => "internal",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::BadKey(why) => format!("The Idempotency-Key header {why}"),
            Refusal::Mismatch => "The Idempotency-Key was first used with a different request \
                 (method, path, query, body or caller); send a new key for a new request"
                .to_string(),
            Refusal::InProgress => {
                "The first request with this Idempotency-Key is still running; retry shortly"
                    .to_string()
            }
            Refusal::NotKept(status) => format!(
                "The first request with this Idempotency-Key was answered (status {status}), but \
                 its answer was larger than {MAX_KEPT} bytes and is not kept; it was not run again"
            ),
            Refusal::Replayed => "Replayed".to_string(),
            Refusal::Failed(e) => e.to_string(),
        }
    }

    /// `Retry-After` seconds, for `InProgress`.
    pub fn retry_after(&self) -> Option<u64> {
        matches!(self, Refusal::InProgress).then_some(1)
    }
}

/// Where the layer and the claim meet, in the request's extensions.
#[derive(Clone)]
pub struct Slot(Arc<Mutex<SlotState>>);

enum SlotState {
    /// The request carries a valid key; `request` is its hash without the caller.
    Ready { key: String, request: [u8; 32] },
    /// The header is refused (the reason).
    Invalid(String),
    /// The key is this request's (`owner` is its claim token).
    Claimed {
        tenant_id: i64,
        key: String,
        owner: i64,
    },
    /// The key's first answer, to send instead of the route's.
    Replay(StoredAnswer),
    /// Nothing more for the layer to do.
    Done,
}

impl Slot {
    fn new(state: SlotState) -> Slot {
        Slot(Arc::new(Mutex::new(state)))
    }

    fn take(&self) -> SlotState {
        match self.0.lock() {
            Ok(mut s) => std::mem::replace(&mut *s, SlotState::Done),
            Err(_) => SlotState::Done,
        }
    }

    fn set(&self, state: SlotState) {
        if let Ok(mut s) = self.0.lock() {
            *s = state;
        }
    }
}

/// How long keys are kept, per server (`AppState::idempotency_ttl`).
fn cutoffs(ttl: Duration) -> (i64, i64, i64) {
    let now = now_micros();
    let micros = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    (
        now,
        now.saturating_sub(micros(ttl)),
        now.saturating_sub(micros(ABANDONED_AFTER)),
    )
}

/// Claims the request's key for `caller`'s tenant, once the dialect has authenticated it. `Ok`
/// when the route should run: no key, or the key is now this request's. A retry of a running
/// first request waits up to [`WAIT_FOR_FIRST`] for its answer.
pub async fn claim(
    app: &AppState,
    extensions: &axum::http::Extensions,
    caller: &User,
) -> Result<(), Refusal> {
    let Some(slot) = extensions.get::<Slot>() else {
        return Ok(());
    };
    let (key, request) = match slot.take() {
        SlotState::Ready { key, request } => (key, request),
        SlotState::Invalid(why) => return Err(Refusal::BadKey(why)),
        other => {
            slot.set(other);
            return Ok(());
        }
    };
    let mut h = Sha256::new();
    h.update(request);
    h.update(caller.id.to_le_bytes());
    let fingerprint = h.finalize().to_vec();
    let store = app.service.store();
    let owner: i64 = rand::random();
    let deadline = Instant::now() + WAIT_FOR_FIRST;
    let mut known: Option<KeyRecord> = None;
    loop {
        let (now, expired_before, abandoned_before) = cutoffs(app.idempotency_ttl);
        let record = match known.take() {
            None => {
                let c = KeyClaim {
                    key: key.clone(),
                    fingerprint: fingerprint.clone(),
                    owner,
                    now,
                    expired_before,
                    abandoned_before,
                };
                match store
                    .claim_idempotency_key(caller.tenant_id, &c)
                    .await
                    .map_err(Refusal::Failed)?
                {
                    KeyState::Claimed => {
                        slot.set(SlotState::Claimed {
                            tenant_id: caller.tenant_id,
                            key,
                            owner,
                        });
                        return Ok(());
                    }
                    KeyState::Taken(record) => record,
                }
            }
            Some(record) => record,
        };
        if record.fingerprint != fingerprint {
            return Err(Refusal::Mismatch);
        }
        match record.answer {
            Some(StoredAnswer {
                body: None, status, ..
            }) => return Err(Refusal::NotKept(status)),
            Some(answer) => {
                slot.set(SlotState::Replay(answer));
                return Err(Refusal::Replayed);
            }
            None => {
                if Instant::now() >= deadline {
                    return Err(Refusal::InProgress);
                }
                tokio::time::sleep(POLL).await;
                let (_, expired_before, abandoned_before) = cutoffs(app.idempotency_ttl);
                // A read, not a claim: only once the record is gone (let go) is it claimed again.
                known = store
                    .idempotency_key(caller.tenant_id, &key, expired_before, abandoned_before)
                    .await
                    .map_err(Refusal::Failed)?;
            }
        }
    }
}

/// The key a request names, or why it is refused.
fn key_of(headers: &HeaderMap) -> Result<String, String> {
    let mut values = headers.get_all(HEADER).iter();
    let (Some(v), None) = (values.next(), values.next()) else {
        return Err("must be sent once".to_string());
    };
    let bytes = v.as_bytes();
    if bytes.is_empty() || bytes.iter().all(|b| *b == b' ') {
        return Err("must not be empty".to_string());
    }
    if bytes.len() > MAX_KEY {
        return Err(format!(
            "must be at most {MAX_KEY} characters, not {}",
            bytes.len()
        ));
    }
    if !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err("must be printable ASCII (characters 0x20-0x7E)".to_string());
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// The query without LeadSquared's credentials (a retry may be sent with the key's other form).
fn query_without_credentials(query: Option<&str>) -> Vec<&str> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            let name: String = form_urlencoded::parse(name.as_bytes())
                .next()
                .map(|(n, _)| n.into_owned())
                .unwrap_or_default();
            !name.eq_ignore_ascii_case("accessKey") && !name.eq_ignore_ascii_case("secretKey")
        })
        .collect()
}

/// SHA-256 of method, path, query (without credentials) and body, each length-prefixed.
fn request_hash(method: &Method, uri: &axum::http::Uri, body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part(method.as_str().as_bytes());
    part(uri.path().as_bytes());
    part(query_without_credentials(uri.query()).join("&").as_bytes());
    part(body);
    h.finalize().into()
}

/// Whether the first answer with this status is kept for retries. Kept: every answer below 500
/// but 408 and 429, which say "not now" rather than what the request did. A 5xx, 408 or 429
/// lets the key go, so that the retry runs.
fn keeps(status: StatusCode) -> bool {
    !(status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS)
}

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// The layer over every route: see the module comment.
pub async fn layer(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if !is_write(req.method()) || !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    let key = key_of(req.headers());
    let (mut parts, body) = req.into_parts();
    let body = match crate::api::extract::body_bytes(body).await {
        Ok(b) => b,
        // The route reads the same failure and answers it in its dialect's words; the key is
        // not claimed.
        Err(why) => {
            let body = crate::api::extract::failed_body(why);
            return next.run(Request::from_parts(parts, body)).await;
        }
    };
    let slot = Slot::new(match key {
        Ok(key) => SlotState::Ready {
            key,
            request: request_hash(&parts.method, &parts.uri, &body),
        },
        Err(why) => SlotState::Invalid(why),
    });
    parts.extensions.insert(slot.clone());
    let req = Request::from_parts(parts, Body::from(body));
    // Run to the end even if the client hangs up: its retry then finds the answer kept.
    let store = app.service.store().clone();
    let task_slot = slot.clone();
    let run = tokio::spawn(
        async move {
            let resp = next.run(req).await;
            settle(store.as_ref(), &task_slot, resp).await
        }
        .instrument(tracing::Span::current()),
    );
    match run.await {
        Ok(resp) => resp,
        Err(e) => {
            // The route panicked: let the key go, then answer as any panic is answered.
            if let SlotState::Claimed {
                tenant_id,
                key,
                owner,
            } = slot.take()
            {
                let store = app.service.store();
                if let Err(err) = store
                    .finish_idempotency_key(tenant_id, &key, owner, None)
                    .await
                {
                    tracing::warn!(error = %err, "could not let an idempotency key go");
                }
            }
            match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .body(Body::empty())
                    .unwrap_or_default(),
            }
        }
    }
}

/// After the route: keep the answer of a claimed key (or let the key go), or replay.
async fn settle(store: &dyn Store, slot: &Slot, resp: Response) -> Response {
    match slot.take() {
        SlotState::Claimed {
            tenant_id,
            key,
            owner,
        } => {
            let (parts, body) = resp.into_parts();
            let (kept, body) = buffer(body).await;
            let answer = keeps(parts.status).then(|| StoredAnswer {
                status: parts.status.as_u16(),
                content_type: parts
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
                body: kept.map(|b| b.to_vec()),
            });
            if let Err(e) = store
                .finish_idempotency_key(tenant_id, &key, owner, answer)
                .await
            {
                // The write stands; a retry within `ABANDONED_AFTER` is told 409 "in progress",
                // after that it runs again (docs/decisions.md, crash windows).
                tracing::warn!(error = %e, "could not keep an idempotent answer");
            }
            Response::from_parts(parts, body)
        }
        SlotState::Replay(answer) => replay(resp, answer),
        _ => resp,
    }
}

/// The kept answer, in place of the dialect's stand-in `fresh`, whose other headers (this
/// request's rate budget) stay.
fn replay(fresh: Response, answer: StoredAnswer) -> Response {
    let (mut parts, _) = fresh.into_parts();
    parts.status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    for h in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::RETRY_AFTER,
    ] {
        parts.headers.remove(h);
    }
    if let Some(ct) = answer
        .content_type
        .and_then(|ct| HeaderValue::from_str(&ct).ok())
    {
        parts.headers.insert(header::CONTENT_TYPE, ct);
    }
    parts
        .headers
        .insert(REPLAYED, HeaderValue::from_static("true"));
    Response::from_parts(parts, Body::from(answer.body.unwrap_or_default()))
}

/// The answer body, and its bytes when they fit in [`MAX_KEPT`]; the body handed on is whole
/// either way.
async fn buffer(body: Body) -> (Option<Bytes>, Body) {
    let mut stream = body.into_data_stream();
    let mut held: Vec<Bytes> = Vec::new();
    let mut len = 0usize;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                len += c.len();
                held.push(c);
                if len > MAX_KEPT {
                    let head = futures_util::stream::iter(held.into_iter().map(Ok));
                    return (None, Body::from_stream(head.chain(stream)));
                }
            }
            Err(e) => {
                let head = futures_util::stream::iter(held.into_iter().map(Ok));
                let failed = futures_util::stream::once(async move { Err(e) });
                return (None, Body::from_stream(head.chain(failed)));
            }
        }
    }
    let whole = Bytes::from(held.concat());
    (Some(whole.clone()), Body::from(whole))
}

/// Deletes expired keys in bounded batches every [`PRUNE_EVERY`], for as long as the server runs.
pub async fn prune_loop(store: Arc<dyn Store>, ttl: Duration) {
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    loop {
        tick.tick().await;
        let (_, expired_before, _) = cutoffs(ttl);
        for _ in 0..PRUNE_BATCHES_PER_ROUND {
            match store
                .prune_idempotency_keys(expired_before, PRUNE_BATCH)
                .await
            {
                Ok(n) if n == u64::from(PRUNE_BATCH) => tokio::task::yield_now().await,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "pruning idempotency keys failed");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        let with = |v: &'static [u8]| {
            let mut h = HeaderMap::new();
            h.insert(HEADER, HeaderValue::from_bytes(v).expect("header value"));
            key_of(&h)
        };
        assert_eq!(with(b"abc-123 x"), Ok("abc-123 x".to_string()));
        assert!(with(b"").unwrap_err().contains("empty"));
        assert!(with(&[b'a'; 256]).unwrap_err().contains("at most 255"));
        assert!(with(&[b'a'; 255]).is_ok());
        assert!(with(b"caf\xc3\xa9")
            .unwrap_err()
            .contains("printable ASCII"));
        let mut two = HeaderMap::new();
        two.append(HEADER, HeaderValue::from_static("a"));
        two.append(HEADER, HeaderValue::from_static("b"));
        assert!(key_of(&two).unwrap_err().contains("once"));
    }

    #[test]
    fn credentials_do_not_change_the_fingerprint() {
        let uri = |q: &str| q.parse::<axum::http::Uri>().expect("uri");
        let a = request_hash(
            &Method::POST,
            &uri("/v2/x?accessKey=1&secretKey=2&a=b"),
            b"{}",
        );
        let b = request_hash(&Method::POST, &uri("/v2/x?a=b"), b"{}");
        let c = request_hash(&Method::POST, &uri("/v2/x?a=c"), b"{}");
        let d = request_hash(&Method::POST, &uri("/v2/x?a=b"), b"{ }");
        assert_eq!(a, b);
        assert_ne!(b, c);
        assert_ne!(b, d);
    }

    #[test]
    fn server_errors_and_not_now_answers_let_the_key_go() {
        assert!(keeps(StatusCode::CREATED));
        assert!(keeps(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(!keeps(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!keeps(StatusCode::TOO_MANY_REQUESTS));
        assert!(!keeps(StatusCode::REQUEST_TIMEOUT));
    }
}
