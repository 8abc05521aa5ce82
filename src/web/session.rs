//! Web UI sign-in sessions: a bounded in-memory table from a random cookie token to the signed-in
//! key's digest and the session's CSRF token, and the cookies that carry them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use rand::RngCore;
use subtle::ConstantTimeEq;

/// The session cookie: a random token, looked up by its digest.
pub const SESSION_COOKIE: &str = "ah_session";
/// The sign-in form's own CSRF cookie (double submit: the form carries the same value), so that
/// another site cannot sign a browser in under its own key.
pub const LOGIN_COOKIE: &str = "ah_login";
/// How long a session lives after sign-in, however active: the key is checked on every request,
/// but a stolen cookie stops working after this.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Sessions kept at most; signing in past this ends the oldest session.
pub const MAX_SESSIONS: usize = 10_000;

/// What a signed-in browser's cookie stands for.
#[derive(Clone)]
pub struct Session {
    /// The digest of the API key signed in with (the key itself is not kept).
    pub key_digest: [u8; 32],
    /// The token every form that changes something must carry.
    pub csrf: String,
    pub started: Instant,
}

/// The sessions of this process (signing in again after a restart is expected).
pub struct Sessions {
    table: Mutex<HashMap<[u8; 32], Session>>,
    lifetime: Duration,
    capacity: usize,
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub fn tokens_match(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl Sessions {
    pub fn new(lifetime: Duration, capacity: usize) -> Sessions {
        Sessions {
            table: Mutex::new(HashMap::new()),
            lifetime,
            capacity: capacity.max(1),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        // A panic while holding the lock leaves a consistent map (every change is one call).
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session for the key with `key_digest`; returns the cookie token.
    pub fn start(&self, key_digest: [u8; 32]) -> String {
        let token = random_token();
        let now = Instant::now();
        let mut table = self.table();
        if table.len() >= self.capacity {
            table.retain(|_, s| now.duration_since(s.started) < self.lifetime);
        }
        if table.len() >= self.capacity {
            if let Some(oldest) = table.iter().min_by_key(|(_, s)| s.started).map(|(k, _)| *k) {
                table.remove(&oldest);
            }
        }
        table.insert(
            crate::auth::digest(&token),
            Session {
                key_digest,
                csrf: random_token(),
                started: now,
            },
        );
        token
    }

    /// The live session of this cookie token.
    pub fn get(&self, token: &str) -> Option<Session> {
        let id = crate::auth::digest(token);
        let mut table = self.table();
        match table.get(&id) {
            Some(s) if s.started.elapsed() < self.lifetime => Some(s.clone()),
            Some(_) => {
                table.remove(&id);
                None
            }
            None => None,
        }
    }

    /// Ends the session of this cookie token.
    pub fn end(&self, token: &str) {
        self.table().remove(&crate::auth::digest(token));
    }

    pub fn len(&self) -> usize {
        self.table().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Whether the browser reached us over TLS (terminated by a proxy in front, which says so in
/// `X-Forwarded-Proto`): the cookies are then marked `Secure`.
pub fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, whole site; `Secure` over TLS; `max_age`
/// seconds (0 removes the cookie).
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_bounded_in_count_and_lifetime() {
        let s = Sessions::new(Duration::from_secs(3600), 2);
        let a = s.start([1; 32]);
        let b = s.start([2; 32]);
        let c = s.start([3; 32]);
        assert_eq!(s.len(), 2);
        assert!(s.get(&a).is_none(), "the oldest session made room");
        assert_eq!(s.get(&b).map(|x| x.key_digest), Some([2; 32]));
        assert_eq!(s.get(&c).map(|x| x.key_digest), Some([3; 32]));
        s.end(&b);
        assert!(s.get(&b).is_none());

        let short = Sessions::new(Duration::from_millis(1), 10);
        let t = short.start([4; 32]);
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.get(&t).is_none(), "an expired session is gone");
        assert!(short.is_empty());
    }

    #[test]
    fn cookies_and_tokens() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; ah_session=xyz ; b=".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), None);
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("", ""));
        assert!(set_cookie("n", "v", 5, true).ends_with("; Secure"));
        assert!(!set_cookie("n", "v", 5, false).contains("Secure"));
    }
}
