//! Webhooks: the events a tenant can subscribe to, subscriptions and their deliveries, the
//! payloads written to the outbox, and the signature receivers verify (`dispatch` sends them;
//! `salesloft` has what Salesloft's own subscriptions are sent).
//!
//! The outbox is the `webhook_deliveries` table: a write that changes an activity or a lead adds
//! one row per matching subscription in its own transaction (see the stores' `outbox` modules),
//! so an acknowledged write never loses its event, and a tenant without subscriptions pays one
//! indexed read that finds nothing.

pub mod dispatch;
pub mod salesloft;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::time::{format_rfc3339_micros, Micros};

/// Subscriptions a tenant may hold at most: each one multiplies the outbox rows of every write.
pub const MAX_WEBHOOKS: usize = 10;
/// Activity event codes one subscription's filter may name at most.
pub const MAX_EVENT_CODES: usize = 100;
/// Longest URL accepted (bytes).
pub const MAX_URL_LEN: usize = 2048;

/// What a subscription can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    ActivityCreated,
    ActivityUpdated,
    ActivityDeleted,
    LeadCreated,
    LeadUpdated,
    /// Sent only by `POST /api/v1/webhooks/{id}/test`, whatever the subscription's events.
    Test,
}

impl Event {
    /// The events a subscription may name.
    pub const SUBSCRIBABLE: [Event; 5] = [
        Event::ActivityCreated,
        Event::ActivityUpdated,
        Event::ActivityDeleted,
        Event::LeadCreated,
        Event::LeadUpdated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Event::ActivityCreated => "activity.created",
            Event::ActivityUpdated => "activity.updated",
            Event::ActivityDeleted => "activity.deleted",
            Event::LeadCreated => "lead.created",
            Event::LeadUpdated => "lead.updated",
            Event::Test => "webhook.test",
        }
    }

    pub fn parse(name: &str) -> Option<Event> {
        Event::SUBSCRIBABLE.into_iter().find(|e| e.name() == name)
    }

    /// The event's bit in a subscription's stored event set.
    pub fn bit(self) -> i64 {
        match self {
            Event::ActivityCreated => 1,
            Event::ActivityUpdated => 2,
            Event::ActivityDeleted => 4,
            Event::LeadCreated => 8,
            Event::LeadUpdated => 16,
            Event::Test => 0,
        }
    }

    /// The events of a stored bit set, in `SUBSCRIBABLE` order.
    pub fn from_bits(bits: i64) -> Vec<Event> {
        Event::SUBSCRIBABLE
            .into_iter()
            .filter(|e| bits & e.bit() != 0)
            .collect()
    }

    pub fn bits(events: &[Event]) -> i64 {
        events.iter().fold(0, |b, e| b | e.bit())
    }
}

/// A subscription as stored (the secret is shown to its creator once, then never).
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    pub guid: Uuid,
    pub url: String,
    pub events: Vec<Event>,
    /// Activity events only for activities of these types; `None`: every type.
    pub event_codes: Option<Vec<i64>>,
    pub secret: String,
    pub created_at: Micros,
    /// Salesloft's event type for a subscription made through `/v2/webhook_subscriptions`
    /// (its `secret` is then the callback token); `None` for a native one.
    pub sl_event_type: Option<String>,
    /// A disabled subscription gets no deliveries (only Salesloft's can be disabled).
    pub enabled: bool,
    /// The user whose key made a Salesloft subscription.
    pub user_guid: Option<Uuid>,
}

/// A subscription to store, already validated.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub guid: Uuid,
    pub url: String,
    pub events: Vec<Event>,
    pub event_codes: Option<Vec<i64>>,
    pub secret: String,
    pub sl_event_type: Option<String>,
    pub user_guid: Option<Uuid>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its turn or for its next attempt.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt of the retry window failed; the subscription's later events go on.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> DeliveryState {
        match s {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        }
    }
}

/// One row of a subscription's delivery log.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub guid: Uuid,
    pub event: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: Micros,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// A subscription's head delivery, claimed by one dispatcher until `lease_until`.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub guid: Uuid,
    pub event: String,
    pub payload: String,
    pub url: String,
    pub secret: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// When the first attempt was made (`None`: this is the first).
    pub first_attempt_at: Option<Micros>,
    pub lease_until: Micros,
}

/// What an attempt came to, as the store records it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub state: DeliveryState,
    pub status: Option<i64>,
    pub error: Option<String>,
    /// When to try again (for `Pending`).
    pub next_attempt_at: Micros,
    pub at: Micros,
}

/// The facts about an activity an activity event carries.
#[derive(Debug, Clone)]
pub struct ActivityFacts {
    pub guid: Uuid,
    pub id: i64,
    pub event_code: i64,
    pub lead_guid: Option<Uuid>,
    pub occurred_at: Micros,
    pub updated_at: Micros,
}

/// The facts about a lead a lead event carries.
#[derive(Debug, Clone)]
pub struct LeadFacts {
    pub id: i64,
    pub guid: Uuid,
    pub updated_at: Micros,
}

/// The body of an event: `{"id","event","created_at","data"}`; `id` is the event's (shared by
/// the deliveries of every subscription it went to), `X-ActivityHub-Delivery` names one delivery.
pub fn envelope(event: Event, at: Micros, data: Value) -> String {
    json!({
        "id": Uuid::now_v7(),
        "event": event.name(),
        "created_at": format_rfc3339_micros(at),
        "data": data,
    })
    .to_string()
}

pub fn activity_data(a: &ActivityFacts) -> Value {
    json!({
        "id": a.id,
        "guid": a.guid,
        "event_code": a.event_code,
        "lead_guid": a.lead_guid,
        "occurred_at": format_rfc3339_micros(a.occurred_at),
        "updated_at": format_rfc3339_micros(a.updated_at),
    })
}

pub fn lead_data(l: &LeadFacts) -> Value {
    json!({"id": l.id, "guid": l.guid, "updated_at": format_rfc3339_micros(l.updated_at)})
}

/// A stored subscription's filter: does `event` about an activity of `event_code` (`None` for
/// lead events) go to it?
pub fn matches(
    events: i64,
    event_codes: Option<&[i64]>,
    event: Event,
    event_code: Option<i64>,
) -> bool {
    if events & event.bit() == 0 {
        return false;
    }
    match (event_codes, event_code) {
        (Some(codes), Some(code)) => codes.contains(&code),
        _ => true,
    }
}

/// A subscription's URL, normalised: http(s) with a host, at most `MAX_URL_LEN` bytes, no
/// credentials; deliveries go to it and nowhere else (redirects are not followed). `Err` says
/// what is wrong, for the dialect to put after the field's name.
pub fn check_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    if url.len() > MAX_URL_LEN {
        return Err(format!("is longer than {MAX_URL_LEN} bytes"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not a valid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("must use http or https, not '{}'", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials".into());
    }
    Ok(parsed.to_string())
}

/// A new signing secret: `whsec_` and 64 hex digits from the OS CSPRNG.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", hex::encode(bytes))
}

/// `X-ActivityHub-Signature`'s value: `v1=` and the hex HMAC-SHA256, keyed by the secret, of
/// `timestamp + "." + body`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_timestamp_dot_body() {
        // Expected value from Python: hmac.new(b"key", b"1.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            signature("key", 1, b"{}"),
            "v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[test]
    fn filters_by_event_and_code() {
        let bits = Event::bits(&[Event::ActivityCreated, Event::LeadUpdated]);
        assert!(matches(bits, None, Event::ActivityCreated, Some(5)));
        assert!(!matches(bits, None, Event::ActivityDeleted, Some(5)));
        assert!(matches(bits, Some(&[5]), Event::ActivityCreated, Some(5)));
        assert!(!matches(bits, Some(&[6]), Event::ActivityCreated, Some(5)));
        assert!(matches(bits, Some(&[6]), Event::LeadUpdated, None));
        assert_eq!(
            Event::from_bits(bits),
            vec![Event::ActivityCreated, Event::LeadUpdated]
        );
    }
}
