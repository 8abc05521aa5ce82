//! The webhook dispatcher `serve` runs: claims due deliveries from the outbox, POSTs them signed,
//! and records each attempt, with retries on an exponential schedule with jitter.
//!
//! Order: a subscription's deliveries go one at a time in id order (its head must be delivered or
//! failed before the next one is tried), so a receiver sees one subscription's events in commit
//! order, with at-least-once repeats when an answer is lost. Bounded: each round claims at most
//! `concurrency` deliveries (one per subscription) and holds only those in memory; a receiver's
//! answer body is never read.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::task::JoinSet;

use super::salesloft::SlEvent;
use super::{signature, DeliveryState, DueDelivery, Outcome};
use crate::domain::time::now_micros;
use crate::store::Store;

/// Longest error text kept in the delivery log.
const MAX_ERROR_LEN: usize = 300;

/// How the dispatcher paces itself (`serve --webhook-…`).
#[derive(Debug, Clone)]
pub struct Config {
    /// Pause between looks at the outbox when nothing was due.
    pub poll: Duration,
    /// Limit on one attempt (connect, send, answer head).
    pub timeout: Duration,
    /// Wait after the first failed attempt; doubled after each further one.
    pub retry_base: Duration,
    /// Longest wait between two attempts.
    pub retry_max_delay: Duration,
    /// After this long since its first attempt a delivery is not tried again: it is failed.
    pub retry_for: Duration,
    /// Deliveries (each of a different subscription) attempted at once.
    pub concurrency: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            poll: Duration::from_millis(250),
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(5),
            retry_max_delay: Duration::from_secs(3600),
            retry_for: Duration::from_secs(24 * 3600),
            concurrency: 8,
        }
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Starts the dispatcher on the current runtime; it runs until the task is aborted.
pub fn spawn(store: Arc<dyn Store>, cfg: Config) -> Result<tokio::task::JoinHandle<()>, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(cfg.timeout)
        .user_agent(concat!("activity-hub-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
    Ok(tokio::spawn(run(store, client, cfg)))
}

async fn run(store: Arc<dyn Store>, client: reqwest::Client, cfg: Config) {
    let cfg = Arc::new(cfg);
    loop {
        let now = now_micros();
        // The lease outlives the attempt; a process killed mid-attempt gives it up then.
        let lease_until = now
            .saturating_add(micros(cfg.timeout))
            .saturating_add(micros(Duration::from_secs(5)));
        let due = match store
            .claim_deliveries(now, lease_until, cfg.concurrency)
            .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim webhook deliveries");
                tokio::time::sleep(cfg.poll).await;
                continue;
            }
        };
        if due.is_empty() {
            tokio::time::sleep(cfg.poll).await;
            continue;
        }
        let mut attempts = JoinSet::new();
        for d in due {
            let (store, client, cfg) = (store.clone(), client.clone(), cfg.clone());
            attempts.spawn(async move {
                let outcome = attempt(&client, &cfg, &d).await;
                if let Err(e) = store.finish_delivery(&d, &outcome).await {
                    // The lease runs out and the delivery is tried again: at least once.
                    tracing::warn!(error = %e, delivery = %d.guid, "cannot record a webhook attempt");
                }
            });
        }
        while attempts.join_next().await.is_some() {}
    }
}

/// One POST of `d` and what it came to.
async fn attempt(client: &reqwest::Client, cfg: &Config, d: &DueDelivery) -> Outcome {
    let timestamp = now_micros() / 1_000_000;
    let request = client
        .post(&d.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-ActivityHub-Delivery", d.guid.to_string());
    // A Salesloft subscription's delivery carries Salesloft's headers, signed with its callback
    // token; its event names (`call_created`) are never a native one's (`activity.created`).
    let request = if SlEvent::parse(&d.event).is_some() {
        request.header("x-salesloft-event", &d.event).header(
            "x-salesloft-signature",
            super::salesloft::signature(&d.secret, d.payload.as_bytes()),
        )
    } else {
        request
            .header("X-ActivityHub-Event", &d.event)
            .header("X-ActivityHub-Timestamp", timestamp.to_string())
            .header(
                "X-ActivityHub-Signature",
                signature(&d.secret, timestamp, d.payload.as_bytes()),
            )
    };
    let sent = request.body(d.payload.clone()).send().await;
    let at = now_micros();
    let (status, error) = match sent {
        Ok(resp) if resp.status().is_success() => {
            return Outcome {
                state: DeliveryState::Delivered,
                status: Some(i64::from(resp.status().as_u16())),
                error: None,
                next_attempt_at: at,
                at,
            }
        }
        Ok(resp) => (
            Some(i64::from(resp.status().as_u16())),
            format!("the receiver answered {}", resp.status()),
        ),
        Err(e) => (None, describe(&e)),
    };
    let made = d.attempts + 1;
    let first = d.first_attempt_at.unwrap_or(at);
    let next = at.saturating_add(backoff(cfg, made));
    let state = if next.saturating_sub(first) > micros(cfg.retry_for) {
        DeliveryState::Failed
    } else {
        DeliveryState::Pending
    };
    Outcome {
        state,
        status,
        error: Some(truncate(error)),
        next_attempt_at: if state == DeliveryState::Failed {
            at
        } else {
            next
        },
        at,
    }
}

/// The wait (µs) after the `made`-th failed attempt: `retry_base` × 2^(made-1), at most
/// `retry_max_delay`, then scaled by a random factor in [0.5, 1) so that the subscriptions a
/// receiver's outage hit do not all come back at once.
fn backoff(cfg: &Config, made: i64) -> i64 {
    let exp = u32::try_from(made.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(30);
    let full = micros(cfg.retry_base)
        .saturating_mul(1i64 << exp)
        .min(micros(cfg.retry_max_delay));
    let factor: f64 = rand::rng().random_range(0.5..1.0);
    (full as f64 * factor) as i64
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".to_string();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn truncate(mut s: String) -> String {
    if s.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let cfg = Config {
            retry_base: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(8),
            ..Config::default()
        };
        for (made, full) in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8), (100, 8)] {
            let b = backoff(&cfg, made);
            assert!(
                b >= full * 500_000 && b < full * 1_000_000,
                "attempt {made}: {b}"
            );
        }
    }
}
