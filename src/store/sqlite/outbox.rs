//! SQLite side of webhooks: the outbox rows writes add in their transaction, subscriptions, the
//! delivery log, and the dispatcher's claim and finish.

use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use super::labels::label;
use super::rows::{activity_row, lead_row, SqlResult, ACTIVITY_SELECT, LEAD_COLS};
use crate::domain::time::now_micros;
use crate::domain::{ActivityView, Lead};
use crate::error::{Error, Missing, Result};
use crate::events::salesloft::SlEvent;
use crate::events::{
    self, ActivityFacts, Delivery, DeliveryState, DueDelivery, Event, LeadFacts, NewWebhook,
    Outcome, Webhook,
};
use crate::store::labels::Labels;

/// A subscription's filter, as the write paths read it.
struct Filter {
    id: i64,
    events: i64,
    event_codes: Option<Vec<i64>>,
    /// A Salesloft subscription's event type and callback token.
    salesloft: Option<(&'static SlEvent, String)>,
}

fn codes(text: Option<String>) -> Result<Option<Vec<i64>>> {
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| Error::Internal(format!("stored webhook event codes: {e}").into()))
    })
    .transpose()
}

/// The tenant's enabled subscriptions to `event`: one read of the tenant's (few) subscription
/// rows.
fn filters(c: &Connection, tenant_id: i64, event: Event) -> Result<Vec<Filter>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT id, events, event_codes, sl_event_type, secret FROM webhooks
              WHERE tenant_id = ?1 AND enabled = 1",
        )
        .db()?;
    let rows = stmt
        .query_map(params![tenant_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .db()?;
    let mut out = Vec::new();
    for row in rows {
        let (id, bits, text, sl_event_type, secret) = row.db()?;
        if bits & event.bit() == 0 {
            continue;
        }
        let salesloft = match sl_event_type {
            None => None,
            // A type this build does not serve (none is stored so) gets nothing.
            Some(name) => match SlEvent::parse(&name) {
                Some(sl) => Some((sl, secret)),
                None => continue,
            },
        };
        out.push(Filter {
            id,
            events: bits,
            event_codes: codes(text)?,
            salesloft,
        });
    }
    Ok(out)
}

/// Activity `id` as the dialects render it, read in the write's transaction. `labels` is the
/// event's own (not the readers' directories, which may not hold what this transaction wrote),
/// shared by the activities of one write so that their users and type are read once.
fn activity_view(
    c: &Connection,
    labels: &Labels,
    tenant_id: i64,
    id: i64,
) -> Result<Option<ActivityView>> {
    let sql = format!("{ACTIVITY_SELECT} WHERE a.tenant_id = ?1 AND a.id = ?2");
    let row = c
        .prepare_cached(&sql)
        .db()?
        .query_row(params![tenant_id, id], activity_row)
        .optional()
        .db()?;
    let seen = labels.generation();
    Ok(label(labels, c, row.into_iter().collect(), seen)?.pop())
}

fn lead(c: &Connection, tenant_id: i64, id: i64) -> Result<Option<Lead>> {
    let sql = format!(
        "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id
          WHERE l.tenant_id = ?1 AND l.id = ?2"
    );
    c.prepare_cached(&sql)
        .db()?
        .query_row(params![tenant_id, id], lead_row)
        .optional()
        .db()
}

/// Adds a pending delivery of `payload` for subscription `webhook_id`.
fn enqueue(
    c: &Connection,
    tenant_id: i64,
    webhook_id: i64,
    event: &str,
    payload: &str,
) -> Result<Uuid> {
    let now = now_micros();
    let guid = Uuid::now_v7();
    c.prepare_cached(
        "INSERT INTO webhook_deliveries (tenant_id, webhook_id, guid, event, payload,
            next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)",
    )
    .db()?
    .execute(params![
        tenant_id,
        webhook_id,
        guid.to_string(),
        event,
        payload,
        now
    ])
    .db()?;
    Ok(guid)
}

fn uuid(text: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Records `event` for each of the activities `ids` (in this order) in the open write
/// transaction, for every subscription of the tenant that wants it. Called before a delete and
/// after an insert or update, so the activity row is there to describe.
pub(super) fn activities_changed(
    c: &Connection,
    tenant_id: i64,
    event: Event,
    ids: &[i64],
) -> Result<()> {
    let subs = filters(c, tenant_id, event)?;
    if subs.is_empty() {
        return Ok(());
    }
    let mut facts = c
        .prepare_cached(
            "SELECT a.guid, a.id, a.event_code, l.guid, a.occurred_at, a.updated_at
               FROM activities a LEFT JOIN leads l ON l.id = a.lead_id
              WHERE a.tenant_id = ?1 AND a.id = ?2",
        )
        .db()?;
    let at = now_micros();
    let labels = Labels::new();
    for &id in ids {
        let Some(a) = facts
            .query_row(params![tenant_id, id], |r| {
                Ok(ActivityFacts {
                    guid: uuid(&r.get::<_, String>(0)?)?,
                    id: r.get(1)?,
                    event_code: r.get(2)?,
                    lead_guid: r
                        .get::<_, Option<String>>(3)?
                        .as_deref()
                        .map(uuid)
                        .transpose()?,
                    occurred_at: r.get(4)?,
                    updated_at: r.get(5)?,
                })
            })
            .optional()
            .db()?
        else {
            continue;
        };
        let mut payload = None;
        let mut view = None;
        for s in &subs {
            if let Some((sl, token)) = &s.salesloft {
                if view.is_none() {
                    view = Some(activity_view(c, &labels, tenant_id, id)?);
                }
                if let Some(body) = view
                    .as_ref()
                    .and_then(Option::as_ref)
                    .and_then(|v| sl.activity_payload(v, token))
                {
                    enqueue(c, tenant_id, s.id, sl.name, &body)?;
                }
                continue;
            }
            if events::matches(
                s.events,
                s.event_codes.as_deref(),
                event,
                Some(a.event_code),
            ) {
                let body = payload
                    .get_or_insert_with(|| events::envelope(event, at, events::activity_data(&a)));
                enqueue(c, tenant_id, s.id, event.name(), body)?;
            }
        }
    }
    Ok(())
}

/// Records `event` for each of the leads `ids` (see `activities_changed`).
pub(super) fn leads_changed(
    c: &Connection,
    tenant_id: i64,
    event: Event,
    ids: &[i64],
) -> Result<()> {
    let subs = filters(c, tenant_id, event)?;
    if subs.is_empty() {
        return Ok(());
    }
    let mut facts = c
        .prepare_cached("SELECT id, guid, updated_at FROM leads WHERE tenant_id = ?1 AND id = ?2")
        .db()?;
    let at = now_micros();
    for &id in ids {
        let Some(l) = facts
            .query_row(params![tenant_id, id], |r| {
                Ok(LeadFacts {
                    id: r.get(0)?,
                    guid: uuid(&r.get::<_, String>(1)?)?,
                    updated_at: r.get(2)?,
                })
            })
            .optional()
            .db()?
        else {
            continue;
        };
        let body = events::envelope(event, at, events::lead_data(&l));
        let mut full = None;
        for s in &subs {
            match &s.salesloft {
                None => {
                    enqueue(c, tenant_id, s.id, event.name(), &body)?;
                }
                Some((sl, token)) => {
                    if full.is_none() {
                        full = Some(lead(c, tenant_id, id)?);
                    }
                    if let Some(body) = full
                        .as_ref()
                        .and_then(Option::as_ref)
                        .and_then(|l| sl.person_payload(l, token))
                    {
                        enqueue(c, tenant_id, s.id, sl.name, &body)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn webhook_row(r: &rusqlite::Row) -> rusqlite::Result<(Webhook, Option<String>)> {
    Ok((
        Webhook {
            id: r.get(0)?,
            guid: uuid(&r.get::<_, String>(1)?)?,
            url: r.get(2)?,
            events: Event::from_bits(r.get(3)?),
            event_codes: None,
            secret: r.get(5)?,
            created_at: r.get(6)?,
            sl_event_type: r.get(7)?,
            enabled: r.get(8)?,
            user_guid: r
                .get::<_, Option<String>>(9)?
                .as_deref()
                .map(uuid)
                .transpose()?,
        },
        r.get(4)?,
    ))
}

const WEBHOOK_COLS: &str =
    "id, guid, url, events, event_codes, secret, created_at, sl_event_type, enabled, user_guid";

pub(super) fn list_webhooks(c: &Connection, tenant_id: i64) -> Result<Vec<Webhook>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {WEBHOOK_COLS} FROM webhooks WHERE tenant_id = ?1 ORDER BY id"
        ))
        .db()?;
    let rows = stmt.query_map(params![tenant_id], webhook_row).db()?;
    let mut out = Vec::new();
    for row in rows {
        let (mut w, text) = row.db()?;
        w.event_codes = codes(text)?;
        out.push(w);
    }
    Ok(out)
}

/// The id of the tenant's native subscription `guid` (the native API names no Salesloft one).
fn webhook_id(c: &Connection, tenant_id: i64, guid: Uuid) -> Result<Option<i64>> {
    c.prepare_cached(
        "SELECT id FROM webhooks WHERE tenant_id = ?1 AND guid = ?2 AND sl_event_type IS NULL",
    )
    .db()?
    .query_row(params![tenant_id, guid.to_string()], |r| r.get(0))
    .optional()
    .db()
}

pub(super) fn create_webhook(
    c: &Connection,
    tenant_id: i64,
    h: &NewWebhook,
    max: usize,
) -> Result<Webhook> {
    let held: i64 = c
        .prepare_cached("SELECT count(*) FROM webhooks WHERE tenant_id = ?1")
        .db()?
        .query_row(params![tenant_id], |r| r.get(0))
        .db()?;
    if held >= max as i64 {
        return Err(Error::Conflict(format!(
            "This tenant already has {held} webhook subscriptions, the most it may hold ({max}); delete one first"
        )));
    }
    let now = now_micros();
    let codes = h
        .event_codes
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::Internal(e.to_string().into()))?;
    c.prepare_cached(
        "INSERT INTO webhooks (tenant_id, guid, url, events, event_codes, secret, created_at,
                               sl_event_type, user_guid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .db()?
    .execute(params![
        tenant_id,
        h.guid.to_string(),
        h.url,
        Event::bits(&h.events),
        codes,
        h.secret,
        now,
        h.sl_event_type,
        h.user_guid.map(|g| g.to_string())
    ])
    .db()?;
    Ok(Webhook {
        id: c.last_insert_rowid(),
        guid: h.guid,
        url: h.url.clone(),
        events: h.events.clone(),
        event_codes: h.event_codes.clone(),
        secret: h.secret.clone(),
        created_at: now,
        sl_event_type: h.sl_event_type.clone(),
        enabled: true,
        user_guid: h.user_guid,
    })
}

/// Enables or disables the tenant's Salesloft subscription `id`; `None` when it has none.
pub(super) fn set_webhook_enabled(
    c: &Connection,
    tenant_id: i64,
    id: i64,
    enabled: bool,
) -> Result<Option<Webhook>> {
    c.prepare_cached(
        "UPDATE webhooks SET enabled = ?3
          WHERE tenant_id = ?1 AND id = ?2 AND sl_event_type IS NOT NULL",
    )
    .db()?
    .execute(params![tenant_id, id, enabled])
    .db()?;
    Ok(list_webhooks(c, tenant_id)?
        .into_iter()
        .find(|w| w.id == id && w.sl_event_type.is_some()))
}

/// Deletes the tenant's Salesloft subscription `id` and its deliveries; nothing when it has none.
pub(super) fn delete_sl_webhook(c: &Connection, tenant_id: i64, id: i64) -> Result<()> {
    let held: Option<i64> = c
        .prepare_cached(
            "SELECT id FROM webhooks
              WHERE tenant_id = ?1 AND id = ?2 AND sl_event_type IS NOT NULL",
        )
        .db()?
        .query_row(params![tenant_id, id], |r| r.get(0))
        .optional()
        .db()?;
    if held.is_none() {
        return Ok(());
    }
    remove(c, tenant_id, id)
}

pub(super) fn delete_webhook(c: &Connection, tenant_id: i64, guid: Uuid) -> Result<()> {
    let id = webhook_id(c, tenant_id, guid)?.ok_or(Error::NotFound(Missing::Webhook))?;
    remove(c, tenant_id, id)
}

/// Deletes the tenant's subscription row `id` (native or Salesloft) and its deliveries.
fn remove(c: &Connection, tenant_id: i64, id: i64) -> Result<()> {
    c.prepare_cached("DELETE FROM webhook_deliveries WHERE tenant_id = ?1 AND webhook_id = ?2")
        .db()?
        .execute(params![tenant_id, id])
        .db()?;
    c.prepare_cached("DELETE FROM webhooks WHERE tenant_id = ?1 AND id = ?2")
        .db()?
        .execute(params![tenant_id, id])
        .db()?;
    Ok(())
}

pub(super) fn enqueue_test(c: &Connection, tenant_id: i64, guid: Uuid) -> Result<Option<Uuid>> {
    let Some(id) = webhook_id(c, tenant_id, guid)? else {
        return Ok(None);
    };
    let body = events::envelope(
        Event::Test,
        now_micros(),
        serde_json::json!({"webhook_id": guid}),
    );
    enqueue(c, tenant_id, id, Event::Test.name(), &body).map(Some)
}

pub(super) fn deliveries(
    c: &Connection,
    tenant_id: i64,
    guid: Uuid,
    before: Option<i64>,
    limit: u32,
) -> Result<Option<Vec<Delivery>>> {
    let Some(id) = webhook_id(c, tenant_id, guid)? else {
        return Ok(None);
    };
    let mut stmt = c
        .prepare_cached(
            "SELECT id, guid, event, state, attempts, next_attempt_at, last_status, last_error,
                    created_at, updated_at
               FROM webhook_deliveries
              WHERE tenant_id = ?1 AND webhook_id = ?2 AND id < ?3
              ORDER BY id DESC LIMIT ?4",
        )
        .db()?;
    let rows = stmt
        .query_map(
            params![tenant_id, id, before.unwrap_or(i64::MAX), limit],
            |r| {
                Ok(Delivery {
                    id: r.get(0)?,
                    guid: uuid(&r.get::<_, String>(1)?)?,
                    event: r.get(2)?,
                    state: DeliveryState::parse(&r.get::<_, String>(3)?),
                    attempts: r.get(4)?,
                    next_attempt_at: r.get(5)?,
                    last_status: r.get(6)?,
                    last_error: r.get(7)?,
                    created_at: r.get(8)?,
                    updated_at: r.get(9)?,
                })
            },
        )
        .db()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().db().map(Some)
}

/// Whether any subscription's head delivery is due at `now`: a read, so that an idle
/// dispatcher does not take the writer thread every round.
pub(super) fn any_due(c: &Connection, now: i64) -> Result<bool> {
    c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM webhooks w
                         WHERE w.lease_until < ?1
                           AND (SELECT h.next_attempt_at FROM webhook_deliveries h
                                 WHERE h.webhook_id = w.id AND h.state = 'pending'
                                 ORDER BY h.id LIMIT 1) <= ?1)",
    )
    .db()?
    .query_row(params![now], |r| r.get(0))
    .db()
}

/// Claims due head deliveries (see `Store::claim_deliveries`). One process writes a SQLite
/// store, so the lease only keeps this process's own dispatcher rounds apart.
pub(super) fn claim(
    c: &Connection,
    now: i64,
    lease_until: i64,
    limit: u32,
) -> Result<Vec<DueDelivery>> {
    let mut due = c
        .prepare_cached(
            "SELECT w.id, w.url, w.secret, d.id, d.guid, d.event, d.payload, d.attempts,
                    d.first_attempt_at
               FROM webhooks w
               JOIN webhook_deliveries d ON d.id = (
                    SELECT h.id FROM webhook_deliveries h
                     WHERE h.webhook_id = w.id AND h.state = 'pending' ORDER BY h.id LIMIT 1)
              WHERE w.lease_until < ?1 AND d.next_attempt_at <= ?1
              ORDER BY w.lease_until, w.id LIMIT ?2",
        )
        .db()?;
    let rows = due
        .query_map(params![now, limit], |r| {
            Ok(DueDelivery {
                webhook_id: r.get(0)?,
                url: r.get(1)?,
                secret: r.get(2)?,
                id: r.get(3)?,
                guid: uuid(&r.get::<_, String>(4)?)?,
                event: r.get(5)?,
                payload: r.get(6)?,
                attempts: r.get(7)?,
                first_attempt_at: r.get(8)?,
                lease_until,
            })
        })
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    let mut lease = c
        .prepare_cached("UPDATE webhooks SET lease_until = ?2 WHERE id = ?1")
        .db()?;
    for d in &rows {
        lease.execute(params![d.webhook_id, lease_until]).db()?;
    }
    Ok(rows)
}

/// Records an attempt (see `Store::finish_delivery`).
pub(super) fn finish(c: &Connection, d: &DueDelivery, o: &Outcome) -> Result<()> {
    c.prepare_cached(
        "UPDATE webhook_deliveries SET state = ?2, attempts = attempts + 1,
                first_attempt_at = coalesce(first_attempt_at, ?7), next_attempt_at = ?3,
                last_status = ?4, last_error = ?5, updated_at = ?6
          WHERE id = ?1 AND state = 'pending'",
    )
    .db()?
    .execute(params![
        d.id,
        o.state.as_str(),
        o.next_attempt_at,
        o.status,
        o.error,
        o.at,
        d.first_attempt_at.unwrap_or(o.at)
    ])
    .db()?;
    // Released at the time of release: a subscription served just now goes behind the others.
    c.prepare_cached("UPDATE webhooks SET lease_until = ?3 WHERE id = ?1 AND lease_until = ?2")
        .db()?
        .execute(params![d.webhook_id, d.lease_until, o.at])
        .db()?;
    Ok(())
}
