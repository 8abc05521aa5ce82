//! Salesloft's webhook event types (`/v2/webhook_subscriptions`): which ones this server serves,
//! the native event each is made of, the payload a receiver gets, and Salesloft's signature.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;

use super::Event;
use crate::api::json_out::{page_capacity, JsonOut};
use crate::api::salesloft::people::person_json;
use crate::api::salesloft::streams::{write_record, Stream, CALLS, EMAILS, MEETINGS, NOTES};
use crate::domain::{ActivityView, Lead};

/// What a Salesloft event type reports on.
#[derive(Clone, Copy)]
pub enum Resource {
    /// A person (a lead).
    Person,
    /// Activities of one Salesloft type, rendered as that resource's `{id}` answer does.
    Activity {
        sl_type: &'static str,
        stream: &'static Stream,
    },
}

/// A served Salesloft event type.
#[derive(Clone, Copy)]
pub struct SlEvent {
    pub name: &'static str,
    pub event: Event,
    pub resource: Resource,
}

const fn activity(
    name: &'static str,
    event: Event,
    sl_type: &'static str,
    stream: &'static Stream,
) -> SlEvent {
    SlEvent {
        name,
        event,
        resource: Resource::Activity { sl_type, stream },
    }
}

/// The Salesloft event types whose records this store keeps. The others Salesloft documents
/// (cadences, steps, tasks, accounts, users, …) name records it does not keep, or changes no
/// write here makes, and are refused when subscribed to.
pub static SERVED: [SlEvent; 10] = [
    activity("call_created", Event::ActivityCreated, "call", &CALLS),
    activity("call_updated", Event::ActivityUpdated, "call", &CALLS),
    activity(
        "email_updated",
        Event::ActivityUpdated,
        "sent_email",
        &EMAILS,
    ),
    activity(
        "meeting_booked",
        Event::ActivityCreated,
        "meeting",
        &MEETINGS,
    ),
    activity(
        "meeting_updated",
        Event::ActivityUpdated,
        "meeting",
        &MEETINGS,
    ),
    activity("note_created", Event::ActivityCreated, "note", &NOTES),
    activity("note_updated", Event::ActivityUpdated, "note", &NOTES),
    activity("note_deleted", Event::ActivityDeleted, "note", &NOTES),
    SlEvent {
        name: "person_created",
        event: Event::LeadCreated,
        resource: Resource::Person,
    },
    SlEvent {
        name: "person_updated",
        event: Event::LeadUpdated,
        resource: Resource::Person,
    },
];

impl SlEvent {
    pub fn parse(name: &str) -> Option<&'static SlEvent> {
        SERVED.iter().find(|e| e.name == name)
    }

    /// The served names, comma-separated, for messages.
    pub fn served_names() -> String {
        SERVED.map(|e| e.name).join(", ")
    }

    /// The body for activity `a`, or `None` when `a` is not of this event type's Salesloft type.
    pub fn activity_payload(&self, a: &ActivityView, callback_token: &str) -> Option<String> {
        match self.resource {
            Resource::Activity { sl_type, stream } if a.salesloft_type == sl_type => {
                let mut o = JsonOut::with_capacity(page_capacity(1));
                write_record(&mut o, stream, a, Some(callback_token));
                Some(o.into_string())
            }
            _ => None,
        }
    }

    /// The body for lead `l` (`None` for an activity event type).
    pub fn person_payload(&self, l: &Lead, callback_token: &str) -> Option<String> {
        match self.resource {
            Resource::Person => Some(with_token(person_json(l), callback_token)),
            Resource::Activity { .. } => None,
        }
    }
}

/// The resource as Salesloft's API renders it, with the subscription's `callback_token` beside
/// its properties: Salesloft documents that it sends the token "in the payload of each event"
/// for the receiver to check, and that the body is the resource object.
fn with_token(mut resource: Value, callback_token: &str) -> String {
    if let Value::Object(m) = &mut resource {
        m.insert("callback_token".into(), json!(callback_token));
    }
    resource.to_string()
}

/// `x-salesloft-signature`'s value: the hex HMAC-SHA1 of the body keyed by the callback token,
/// as Salesloft's delivery headers are documented.
pub fn signature(callback_token: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha1>::new_from_slice(callback_token.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        // RFC 2202 test cases 2 and 6 (a key longer than the block).
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            signature(&"\u{b}".repeat(20), b"Hi There"),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        // A key longer than the block is hashed first (Python's hmac module gives this value).
        assert_eq!(
            signature(&"k".repeat(100), b"body"),
            "f03718b1677c2a248dd73d999528dd1f56a1cc58"
        );
    }

    #[test]
    fn names_parse_and_unknown_ones_do_not() {
        assert!(SlEvent::parse("call_created").is_some());
        assert!(SlEvent::parse("cadence_created").is_none());
        assert!(SlEvent::served_names().contains("note_deleted"));
    }
}
