//! Credentials: generating keys with the OS CSPRNG, digesting them for storage, comparing in
//! constant time. Keys carry 128–256 random bits, so a fast digest is as safe as a slow hash here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{rngs::OsRng, TryRngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The three keys of a user, shown once at creation.
#[derive(Debug, Clone)]
pub struct IssuedKeys {
    pub access_key: String,
    pub secret_key: String,
    pub api_key: String,
}

impl IssuedKeys {
    pub fn generate() -> std::io::Result<IssuedKeys> {
        Ok(IssuedKeys {
            access_key: format!("u$r{}", random_hex(16)?),
            secret_key: random_hex(32)?,
            api_key: format!("ak_{}", random_hex(32)?),
        })
    }
}

fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    OsRng
        .try_fill_bytes(&mut buf)
        .map_err(|e| std::io::Error::other(format!("OS random source failed: {e}")))?;
    Ok(hex::encode(buf))
}

pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Constant-time comparison of a presented key with a stored digest.
pub fn matches(presented: &str, stored: &[u8]) -> bool {
    let d = digest(presented);
    stored.len() == d.len() && bool::from(d.as_slice().ct_eq(stored))
}

/// Users found by a key digest, remembered for a short while so that a request does not pay a
/// store round trip to authenticate (profiled: the lookup was a third of the reader hand-offs of
/// a Retrieve, and one of four of a Create).
///
/// Only keys that were found are remembered: a user created a moment ago (by another process or
/// the CLI) is found at once. No code path changes or deactivates a user; an edit made to the
/// store out of band is seen within `ttl`. The map is bounded: it is emptied when full.
pub struct CredentialCache<V> {
    entries: Mutex<HashMap<[u8; 32], (Instant, V)>>,
    ttl: Duration,
    capacity: usize,
}

impl<V: Clone> CredentialCache<V> {
    pub fn new(ttl: Duration, capacity: usize) -> CredentialCache<V> {
        CredentialCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    /// The value remembered for `digest`, if it is younger than the time to live.
    pub fn get(&self, digest: &[u8; 32]) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        match entries.get(digest) {
            Some((at, v)) if at.elapsed() < self.ttl => Some(v.clone()),
            _ => None,
        }
    }

    /// The value for `digest`: remembered, or else loaded (and remembered when found).
    pub async fn get_or_load<E, F>(
        &self,
        digest: [u8; 32],
        load: impl FnOnce() -> F,
    ) -> Result<Option<V>, E>
    where
        F: std::future::Future<Output = Result<Option<V>, E>>,
    {
        if let Some(v) = self.get(&digest) {
            return Ok(Some(v));
        }
        let found = load().await?;
        if let Some(v) = &found {
            self.put(digest, v.clone());
        }
        Ok(found)
    }

    pub fn put(&self, digest: [u8; 32], value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(digest, (Instant::now(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shapes_and_differ() {
        let a = IssuedKeys::generate().unwrap();
        let b = IssuedKeys::generate().unwrap();
        assert!(a.api_key.starts_with("ak_") && a.api_key.len() == 67);
        assert!(a.api_key[3..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.secret_key.len(), 64);
        assert_ne!(a.api_key, b.api_key);
        assert!(matches(&a.secret_key, &digest(&a.secret_key)));
        assert!(!matches(&b.secret_key, &digest(&a.secret_key)));
    }

    #[test]
    fn credential_cache_forgets_after_its_ttl_and_when_full() {
        let cache = CredentialCache::new(Duration::from_millis(50), 2);
        cache.put([1; 32], "one");
        assert_eq!(cache.get(&[1; 32]), Some("one"));
        assert_eq!(cache.get(&[2; 32]), None);
        cache.put([2; 32], "two");
        cache.put([3; 32], "three"); // full: the map starts over
        assert_eq!(cache.get(&[1; 32]), None);
        assert_eq!(cache.get(&[3; 32]), Some("three"));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&[3; 32]), None);
    }
}
