//! What the store keeps for an `Idempotency-Key`: the claim a request makes, the record a retry
//! finds, and the answer kept for replay (`api::idempotency` is the HTTP side).

/// A request's claim on a key of its tenant. Times are microseconds since the Unix epoch.
#[derive(Debug, Clone)]
pub struct KeyClaim {
    pub key: String,
    /// SHA-256 of the request (caller, method, path, query without credentials, body).
    pub fingerprint: Vec<u8>,
    /// Random per claim: only the request holding it may store the answer or let the key go.
    pub owner: i64,
    pub now: i64,
    /// A record claimed before this has expired (the keys' time to live): the key is free again.
    pub expired_before: i64,
    /// A record still unanswered and claimed before this was left by a process that died
    /// mid-request: the key may be claimed again.
    pub abandoned_before: i64,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// The key is this request's: run it, then store its answer or let the key go.
    Claimed,
    /// Another request holds the key (live, unexpired).
    Taken(KeyRecord),
}

/// A live record of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub fingerprint: Vec<u8>,
    /// `None` while the first request is still running.
    pub answer: Option<StoredAnswer>,
}

/// The first answer given to a key's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    /// `None` when the answer was larger than the bound kept (`api::idempotency::MAX_KEPT`).
    pub body: Option<Vec<u8>>,
}
