//! The rolling-window rate rule, pure: every limiter backend (memory, PostgreSQL, Redis) decides
//! with it, so a budget behaves the same whichever process or store keeps it.

use std::time::Duration;

/// The outcome of spending cost against a key's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Budget left in the current window after this request (0 when refused).
    pub remaining: u64,
    /// When refused: how long until enough budget is free again.
    pub retry_after: Duration,
}

/// Decides whether `cost` fits in a window of `window_us` microseconds ending at `now_us`, given
/// what was spent in it (`(at_us, cost)`, oldest first; entries older than the window are ignored).
/// A refusal spends nothing; its `retry_after` is when enough of the oldest spending leaves.
pub fn decide(
    spent: &[(i64, u64)],
    now_us: i64,
    window_us: i64,
    limit: u64,
    cost: u64,
) -> Decision {
    let live: Vec<(i64, u64)> = spent
        .iter()
        .copied()
        .filter(|(at, _)| now_us - at < window_us)
        .collect();
    let used: u64 = live.iter().map(|(_, c)| c).sum();
    if used.saturating_add(cost) <= limit {
        return Decision {
            allowed: true,
            remaining: limit - used - cost,
            retry_after: Duration::ZERO,
        };
    }
    let mut freed = 0u64;
    let mut wait_us = window_us;
    for (at, c) in &live {
        freed += c;
        if (used - freed).saturating_add(cost) <= limit {
            wait_us = (at + window_us - now_us).max(0);
            break;
        }
    }
    Decision {
        allowed: false,
        remaining: limit.saturating_sub(used),
        retry_after: Duration::from_micros(wait_us.max(0) as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_and_says_when_room_frees_up() {
        let spent = [(0, 3), (1_000, 2)];
        let d = decide(&spent, 2_000, 10_000, 5, 1);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, Duration::from_micros(8_000));
        let d = decide(&spent, 10_000, 10_000, 5, 3);
        assert!(d.allowed, "the first spending has left the window");
        assert_eq!(d.remaining, 0);
    }
}
