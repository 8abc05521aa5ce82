//! A log gate for failures that can repeat thousands of times a second (a full disk, say).
//!
//! The first occurrence is logged; further ones within `every` are only counted, and the first one
//! after `every` has passed is logged with how many were left out. Fixed memory: one instant and
//! one counter, whatever the rate.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Lets through at most one log line per `every` (see the module's doc).
pub struct RateLimitedLog {
    every: Duration,
    state: Mutex<Gate>,
}

struct Gate {
    /// When a line was last let through; `None` before the first.
    last: Option<Instant>,
    /// Occurrences left out since then.
    suppressed: u64,
}

impl RateLimitedLog {
    pub const fn new(every: Duration) -> Self {
        RateLimitedLog {
            every,
            state: Mutex::new(Gate {
                last: None,
                suppressed: 0,
            }),
        }
    }

    /// Counts one occurrence at `now`: `Some(n)` when it is to be logged, `n` being how many were
    /// left out since the last line; `None` when it is only counted.
    pub fn admit_at(&self, now: Instant) -> Option<u64> {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match g.last {
            Some(last) if now.saturating_duration_since(last) < self.every => {
                g.suppressed = g.suppressed.saturating_add(1);
                None
            }
            _ => {
                g.last = Some(now);
                Some(std::mem::take(&mut g.suppressed))
            }
        }
    }

    /// `admit_at` now.
    pub fn admit(&self) -> Option<u64> {
        self.admit_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first occurrence passes, the ones within the interval are counted, the next one after
    /// it passes with that count, and the count starts over.
    #[test]
    fn logs_the_first_then_one_summary_per_interval() {
        let log = RateLimitedLog::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(log.admit_at(t0), Some(0));
        for ms in 1..=1000 {
            assert_eq!(log.admit_at(t0 + Duration::from_millis(ms)), None);
        }
        assert_eq!(log.admit_at(t0 + Duration::from_secs(10)), Some(1000));
        assert_eq!(log.admit_at(t0 + Duration::from_secs(11)), None);
        assert_eq!(log.admit_at(t0 + Duration::from_secs(21)), Some(1));
    }
}
