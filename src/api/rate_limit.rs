//! Rate limits as rolling windows of spent cost per key (LSQ: 25 calls / 5 s per access key;
//! Salesloft: 600 cost / minute per tenant), kept where every process serving a tenant sees them:
//! in this process's memory (one SQLite server), in the PostgreSQL store, or in Redis.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::rate::decide;
pub use crate::domain::rate::Decision;
use crate::store::SharedBudgets;

/// Where budgets live. Chosen once at start: several server processes share a budget only through
/// shared budgets, so the app uses the store's when it keeps them (PostgreSQL).
#[derive(Clone)]
pub enum RateBackend {
    /// This process's memory: exact for one process, per-process when there are several.
    Memory,
    /// Budgets every process sees: the PostgreSQL store's, or Redis (`serve --redis URL`).
    Shared(Arc<dyn SharedBudgets>),
}

impl RateBackend {
    /// Connects to Redis at `url` (checking it answers), for `serve --redis`.
    pub async fn redis(url: &str) -> Result<RateBackend, String> {
        let budgets = RedisBudgets::connect(url).await?;
        Ok(RateBackend::Shared(Arc::new(budgets)))
    }

    /// The budgets a store keeps (`store::Opened::budgets`), or memory when it keeps none.
    pub fn kept_by(budgets: Option<Arc<dyn SharedBudgets>>) -> RateBackend {
        match budgets {
            Some(b) => RateBackend::Shared(b),
            None => RateBackend::Memory,
        }
    }
}

pub struct RateLimiter {
    limit: u64,
    window: Duration,
    backend: RateBackend,
    /// Names this limiter's keys in a shared backend, so two limiters never share a budget.
    namespace: String,
    memory: Mutex<HashMap<String, VecDeque<(Instant, u64)>>>,
    /// Failures of a shared backend since start; a failing backend lets calls through (logged):
    /// the store's own errors already answer the call when the database itself is down.
    backend_failures: AtomicU64,
}

impl RateLimiter {
    /// A limiter keeping its budgets in this process's memory.
    pub fn new(limit: u64, window: Duration) -> RateLimiter {
        RateLimiter::with_backend(limit, window, RateBackend::Memory)
    }

    pub fn with_backend(limit: u64, window: Duration, backend: RateBackend) -> RateLimiter {
        RateLimiter {
            limit,
            window,
            backend,
            namespace: format!("{limit}/{}ms", window.as_millis()),
            memory: Mutex::new(HashMap::new()),
            backend_failures: AtomicU64::new(0),
        }
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Spends `cost` from `key`'s budget if the window has room for it; otherwise spends nothing.
    pub async fn acquire(&self, key: &str, cost: u64) -> Decision {
        let shared = format!("{}:{key}", self.namespace);
        let outcome = match &self.backend {
            RateBackend::Memory => return self.acquire_in_memory(key, cost),
            RateBackend::Shared(budgets) => {
                budgets.spend(&shared, self.limit, self.window, cost).await
            }
        };
        match outcome {
            Ok(decision) => decision,
            Err(e) => {
                let n = self.backend_failures.fetch_add(1, Ordering::Relaxed);
                if n.is_power_of_two() || n == 0 {
                    tracing::warn!(error = %e, failures = n + 1, "rate-limit backend failed; letting the call through");
                }
                Decision {
                    allowed: true,
                    remaining: self.limit.saturating_sub(cost),
                    retry_after: Duration::ZERO,
                }
            }
        }
    }

    fn acquire_in_memory(&self, key: &str, cost: u64) -> Decision {
        let now = Instant::now();
        let mut spent = match self.memory.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if spent.len() > 100_000 {
            // Keys of idle callers: drop the ones whose windows have fully passed.
            spent.retain(|_, q| {
                q.back()
                    .is_some_and(|(t, _)| now.duration_since(*t) < self.window)
            });
        }
        let q = spent.entry(key.to_string()).or_default();
        while q
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        // Times as microseconds before `now`, so the shared rule decides for memory too.
        let window_us = self.window.as_micros().min(i64::MAX as u128) as i64;
        let entries: Vec<(i64, u64)> = q
            .iter()
            .map(|(t, c)| (-(now.duration_since(*t).as_micros() as i64), *c))
            .collect();
        let decision = decide(&entries, 0, window_us, self.limit, cost);
        if decision.allowed {
            q.push_back((now, cost));
        }
        decision
    }
}

/// Budgets in Redis: one sorted set per key (member `cost:unique-id`, score = time in µs), spent
/// by a Lua script so that checking and spending are one atomic step for every process. Times
/// come from the Redis server's clock, the one clock all processes agree on.
#[derive(Clone)]
pub struct RedisBudgets {
    conn: redis::aio::ConnectionManager,
    script: Arc<redis::Script>,
}

/// KEYS[1] budget; ARGV: window µs, limit, cost, unique member id. Returns
/// {allowed 0/1, remaining, retry_after µs}. Mirrors `domain::rate::decide`.
const SPEND_SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do
  used = used + tonumber(string.match(entries[i], '^(%d+):'))
end
if used + cost <= limit then
  redis.call('ZADD', KEYS[1], now, cost .. ':' .. ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return {1, limit - used - cost, 0}
end
local freed = 0
local wait = window
for i = 1, #entries, 2 do
  freed = freed + tonumber(string.match(entries[i], '^(%d+):'))
  if used - freed + cost <= limit then
    wait = tonumber(entries[i + 1]) + window - now
    break
  end
end
if wait < 0 then wait = 0 end
local remaining = limit - used
if remaining < 0 then remaining = 0 end
return {0, remaining, wait}
"#;

impl RedisBudgets {
    async fn connect(url: &str) -> Result<RedisBudgets, String> {
        let fail = |e: String| format!("cannot connect to {}: {e}", crate::store::redact_url(url));
        let client = redis::Client::open(url).map_err(|e| fail(e.to_string()))?;
        // One plain connection first: it fails fast with the real reason (the manager retries).
        tokio::time::timeout(
            Duration::from_secs(5),
            client.get_multiplexed_async_connection(),
        )
        .await
        .map_err(|_| fail("timed out".into()))?
        .map_err(|e| fail(e.to_string()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(5))
            .set_response_timeout(Duration::from_secs(5))
            .set_number_of_retries(2);
        let mut conn = tokio::time::timeout(
            Duration::from_secs(10),
            redis::aio::ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| fail("timed out".into()))?
        .map_err(|e| fail(e.to_string()))?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(RedisBudgets {
            conn,
            script: Arc::new(redis::Script::new(SPEND_SCRIPT)),
        })
    }
}

#[async_trait::async_trait]
impl SharedBudgets for RedisBudgets {
    async fn spend(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
        cost: u64,
    ) -> Result<Decision, String> {
        let mut conn = self.conn.clone();
        let (allowed, remaining, wait_us): (i64, i64, i64) = self
            .script
            .key(format!("activity-hub:rate:{key}"))
            .arg(window.as_micros().min(i64::MAX as u128) as i64)
            .arg(limit)
            .arg(cost)
            .arg(uuid::Uuid::new_v4().simple().to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(|e| format!("redis: {e}"))?;
        Ok(Decision {
            allowed: allowed == 1,
            remaining: remaining.max(0) as u64,
            retry_after: Duration::from_micros(wait_us.max(0) as u64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn allows_the_limit_then_refuses_per_key() {
        let l = RateLimiter::new(3, Duration::from_secs(5));
        for left in [2, 1, 0] {
            assert_eq!(l.acquire("a", 1).await.remaining, left);
        }
        let d = l.acquire("a", 1).await;
        assert!(!d.allowed);
        assert!(d.retry_after <= Duration::from_secs(5) && d.retry_after > Duration::from_secs(4));
        assert!(l.acquire("b", 1).await.allowed);
    }

    #[tokio::test]
    async fn costs_add_up_and_the_window_rolls() {
        let l = RateLimiter::new(10, Duration::from_millis(50));
        assert!(l.acquire("t", 7).await.allowed);
        assert!(!l.acquire("t", 4).await.allowed);
        assert_eq!(l.acquire("t", 3).await.remaining, 0);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(l.acquire("t", 10).await.allowed);
    }
}
