//! Credentials: generating keys with the OS CSPRNG, digesting them for storage, comparing in
//! constant time. Keys carry 128–256 random bits, so a fast digest is as safe as a slow hash here.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// Refused credentials an address may present per [`FAILED_LOGIN_WINDOW`] before it is locked
/// out until the window ends. High enough for a client with a stale key to see its 401s and
/// for the test suites' deliberate bad-key requests; low enough that a guesser's rate is a few
/// lookups a second instead of thousands.
pub const FAILED_LOGIN_LIMIT: u32 = 30;
/// The window failures are counted in, from an address's first failure.
pub const FAILED_LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most (two generations of half each); about 100 bytes per address.
pub const FAILED_LOGIN_ADDRESSES: usize = 100_000;

/// Refused credentials per client address, so that a flood of wrong keys is answered with 429
/// before the store is asked (each refused key is a store lookup: a cache only keeps found keys).
///
/// Counted per peer address; an IPv6 client is counted per /64, the block one host commonly
/// holds. Only failures count: a successful login neither counts nor resets the count. The
/// memory is bounded: when the current generation is full it becomes the previous one and the
/// one before is dropped, so under a flood of new addresses the oldest are forgotten first.
pub struct FailedLogins {
    generations: Mutex<[HashMap<IpAddr, Strikes>; 2]>,
    /// When the last lockout of any address ends, in microseconds after `epoch` (0: none yet).
    /// Every authenticated request asks `locked_out`; while no address is locked out it answers
    /// from this without taking the lock.
    lockouts_end: AtomicU64,
    epoch: Instant,
    limit: u32,
    window: Duration,
    per_generation: usize,
}

#[derive(Clone, Copy)]
struct Strikes {
    since: Instant,
    count: u32,
}

impl FailedLogins {
    pub fn new(limit: u32, window: Duration, capacity: usize) -> FailedLogins {
        FailedLogins {
            generations: Mutex::new([HashMap::new(), HashMap::new()]),
            lockouts_end: AtomicU64::new(0),
            epoch: Instant::now(),
            limit,
            window,
            per_generation: (capacity / 2).max(1),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// How long `client` must still wait when it is locked out; `None` when it may try.
    pub fn locked_out(&self, client: IpAddr) -> Option<Duration> {
        if self.micros_since_epoch(Instant::now()) >= self.lockouts_end.load(Ordering::Acquire) {
            return None;
        }
        let key = counted_as(client);
        let generations = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        let strikes = generations.iter().find_map(|g| g.get(&key))?;
        let elapsed = strikes.since.elapsed();
        (strikes.count >= self.limit && elapsed < self.window).then(|| self.window - elapsed)
    }

    /// Counts one refused credential of `client`.
    pub fn record(&self, client: IpAddr) {
        let key = counted_as(client);
        let mut generations = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        let [current, previous] = &mut *generations;
        let earlier = current.get(&key).or_else(|| previous.get(&key)).copied();
        previous.remove(&key);
        let strikes = match earlier {
            Some(s) if s.since.elapsed() < self.window => Strikes {
                count: s.count.saturating_add(1),
                ..s
            },
            _ => Strikes {
                since: Instant::now(),
                count: 1,
            },
        };
        if strikes.count >= self.limit {
            let ends = self.micros_since_epoch(strikes.since + self.window);
            self.lockouts_end.fetch_max(ends, Ordering::AcqRel);
        }
        if strikes.count == self.limit {
            tracing::warn!(client = %key, failures = self.limit, window_secs = self.window.as_secs(),
                "client locked out after repeated refused credentials");
        }
        if !current.contains_key(&key) && current.len() >= self.per_generation {
            *previous = std::mem::take(current);
        }
        generations[0].insert(key, strikes);
    }
}

impl FailedLogins {
    fn micros_since_epoch(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_micros()).unwrap_or(u64::MAX)
    }
}

/// The address failures are counted under: IPv4 (also when mapped into IPv6) as it is, IPv6 by
/// its /64 network.
fn counted_as(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
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

    #[test]
    fn failed_logins_lock_an_address_out_for_the_rest_of_its_window() {
        let v4 = |n: u8| IpAddr::from([10, 0, 0, n]);
        let f = FailedLogins::new(3, Duration::from_millis(80), 100);
        for _ in 0..2 {
            f.record(v4(1));
        }
        assert_eq!(f.locked_out(v4(1)), None);
        f.record(v4(1));
        let wait = f.locked_out(v4(1)).expect("locked out");
        assert!(wait <= Duration::from_millis(80));
        assert_eq!(f.locked_out(v4(2)), None, "other addresses are not");
        std::thread::sleep(Duration::from_millis(90));
        assert_eq!(f.locked_out(v4(1)), None, "the window ended");
        f.record(v4(1));
        assert_eq!(f.locked_out(v4(1)), None, "a new window starts at one");
    }

    #[test]
    fn failed_logins_count_ipv6_per_64_and_stay_bounded() {
        let f = FailedLogins::new(2, Duration::from_secs(60), 4);
        f.record("2001:db8::1".parse().unwrap());
        f.record("2001:db8::ffff:2".parse().unwrap());
        assert!(f.locked_out("2001:db8::3".parse().unwrap()).is_some());
        assert!(f.locked_out("2001:db8:0:1::3".parse().unwrap()).is_none());
        f.record("::ffff:10.0.0.9".parse().unwrap());
        f.record("10.0.0.9".parse().unwrap());
        assert!(f.locked_out("10.0.0.9".parse().unwrap()).is_some());
        for n in 0..10u8 {
            f.record(IpAddr::from([192, 0, 2, n]));
        }
        let g = f.generations.lock().unwrap();
        assert!(g[0].len() + g[1].len() <= 4, "bounded");
    }
}
