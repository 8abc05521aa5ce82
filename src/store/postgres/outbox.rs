//! PostgreSQL side of webhooks: the outbox rows writes add in their transaction, subscriptions,
//! the delivery log, and the dispatcher's claim (`FOR UPDATE SKIP LOCKED`, so several server
//! processes claim different subscriptions) and finish.

use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::labels::PgLabels;
use super::rows::{
    activity_row, execute, get, lead_row, map_err, query, query_one, query_opt, ACTIVITY_SELECT,
    LEAD_COLS,
};
use super::PgStore;
use crate::domain::time::now_micros;
use crate::domain::{ActivityView, Lead};
use crate::error::{Error, Missing, Result};
use crate::events::salesloft::SlEvent;
use crate::events::{
    self, ActivityFacts, Delivery, DeliveryState, DueDelivery, Event, LeadFacts, NewWebhook,
    Outcome, Webhook,
};

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

/// The tenant's enabled subscriptions to `event`. When there are some, the tenant's row is locked (as
/// every timestamping writer locks it first) so that delivery ids follow commit order.
async fn filters<C: GenericClient>(c: &C, tenant_id: i64, event: Event) -> Result<Vec<Filter>> {
    let rows = query(
        c,
        "SELECT id, events, event_codes, sl_event_type, secret FROM webhooks
          WHERE tenant_id = $1 AND events & $2 <> 0 AND enabled",
        &[&tenant_id, &event.bit()],
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let salesloft = match get::<Option<String>>(r, 3)? {
            None => None,
            // A type this build does not serve (none is stored so) gets nothing.
            Some(name) => match SlEvent::parse(&name) {
                Some(sl) => Some((sl, get(r, 4)?)),
                None => continue,
            },
        };
        out.push(Filter {
            id: get(r, 0)?,
            events: get(r, 1)?,
            event_codes: codes(get(r, 2)?)?,
            salesloft,
        });
    }
    if !out.is_empty() {
        execute(
            c,
            "SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
            &[&tenant_id],
        )
        .await?;
    }
    Ok(out)
}

/// Inserts the pending deliveries `(webhook, event name, payload)` in this order (ids follow
/// it).
async fn enqueue<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    rows: &[(i64, &str, &str)],
) -> Result<Vec<Uuid>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let hooks: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let names: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let payloads: Vec<&str> = rows.iter().map(|r| r.2).collect();
    let guids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    execute(
        c,
        "INSERT INTO webhook_deliveries (tenant_id, webhook_id, guid, event, payload,
            next_attempt_at, created_at, updated_at)
         SELECT $1, v.hook, v.guid, v.event, v.payload, $2, $2, $2
           FROM unnest($3::bigint[], $4::uuid[], $5::text[], $6::text[])
                WITH ORDINALITY AS v(hook, guid, event, payload, ord)
          ORDER BY v.ord",
        &[&tenant_id, &now_micros(), &hooks, &guids, &names, &payloads],
    )
    .await?;
    Ok(guids)
}

/// Records `event` for each of the activities `ids` (in this order) in the open transaction, for
/// every subscription of the tenant that wants it. Called before a delete and after an insert or
/// update, so the activity row is there to describe.
pub(super) async fn activities_changed<C: GenericClient>(
    c: &C,
    labels: &PgLabels,
    tenant_id: i64,
    event: Event,
    ids: &[i64],
) -> Result<()> {
    let subs = filters(c, tenant_id, event).await?;
    if subs.is_empty() {
        return Ok(());
    }
    let rows = query(
        c,
        "SELECT a.guid, a.id, a.event_code, l.guid, a.occurred_at, a.updated_at
           FROM activities a LEFT JOIN leads l ON l.id = a.lead_id
          WHERE a.tenant_id = $1 AND a.id = ANY($2::bigint[])
          ORDER BY array_position($2::bigint[], a.id)",
        &[&tenant_id, &ids],
    )
    .await?;
    let at = now_micros();
    // The Salesloft subscriptions render whole records: read in one statement, when there are any.
    let mut views = if subs.iter().any(|s| s.salesloft.is_some()) {
        activity_views(c, labels, tenant_id, ids).await?
    } else {
        std::collections::HashMap::new()
    };
    // (webhook, event name, payload), in the order they are to be inserted.
    let mut out: Vec<(i64, &str, String)> = Vec::new();
    for r in &rows {
        let a = ActivityFacts {
            guid: get(r, 0)?,
            id: get(r, 1)?,
            event_code: get(r, 2)?,
            lead_guid: get(r, 3)?,
            occurred_at: get(r, 4)?,
            updated_at: get(r, 5)?,
        };
        let mut payload: Option<String> = None;
        let view = views.remove(&a.id);
        for s in &subs {
            if let Some((sl, token)) = &s.salesloft {
                if let Some(body) = view.as_ref().and_then(|v| sl.activity_payload(v, token)) {
                    out.push((s.id, sl.name, body));
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
                out.push((s.id, event.name(), body.clone()));
            }
        }
    }
    let rows: Vec<(i64, &str, &str)> = out.iter().map(|(h, e, p)| (*h, *e, p.as_str())).collect();
    enqueue(c, tenant_id, &rows).await?;
    Ok(())
}

/// The activities `ids` as the dialects render them, by id, read in the write's transaction.
async fn activity_views<C: GenericClient>(
    c: &C,
    labels: &PgLabels,
    tenant_id: i64,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, ActivityView>> {
    let sql = format!("{ACTIVITY_SELECT} WHERE a.tenant_id = $1 AND a.id = ANY($2::bigint[])");
    let seen = labels.generation();
    let rows = query(c, &sql, &[&tenant_id, &ids])
        .await?
        .iter()
        .map(activity_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(labels
        .label(c, tenant_id, rows, seen)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect())
}

async fn lead<C: GenericClient>(c: &C, tenant_id: i64, id: i64) -> Result<Option<Lead>> {
    let sql = format!(
        "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id
          WHERE l.tenant_id = $1 AND l.id = $2"
    );
    query_opt(c, &sql, &[&tenant_id, &id])
        .await?
        .map(|r| lead_row(&r))
        .transpose()
}

/// Records `event` for each of the leads `ids` (see `activities_changed`).
pub(super) async fn leads_changed<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    event: Event,
    ids: &[i64],
) -> Result<()> {
    let subs = filters(c, tenant_id, event).await?;
    if subs.is_empty() {
        return Ok(());
    }
    let rows = query(
        c,
        "SELECT id, guid, updated_at FROM leads WHERE tenant_id = $1 AND id = ANY($2::bigint[])
          ORDER BY array_position($2::bigint[], id)",
        &[&tenant_id, &ids],
    )
    .await?;
    let at = now_micros();
    let mut out: Vec<(i64, &str, String)> = Vec::new();
    for r in &rows {
        let l = LeadFacts {
            id: get(r, 0)?,
            guid: get(r, 1)?,
            updated_at: get(r, 2)?,
        };
        let body = events::envelope(event, at, events::lead_data(&l));
        let mut full: Option<Option<Lead>> = None;
        for s in &subs {
            match &s.salesloft {
                None => out.push((s.id, event.name(), body.clone())),
                Some((sl, token)) => {
                    if full.is_none() {
                        full = Some(lead(c, tenant_id, l.id).await?);
                    }
                    if let Some(body) = full
                        .as_ref()
                        .and_then(Option::as_ref)
                        .and_then(|l| sl.person_payload(l, token))
                    {
                        out.push((s.id, sl.name, body));
                    }
                }
            }
        }
    }
    let rows: Vec<(i64, &str, &str)> = out.iter().map(|(h, e, p)| (*h, *e, p.as_str())).collect();
    enqueue(c, tenant_id, &rows).await?;
    Ok(())
}

/// The id of the tenant's native subscription `guid` (the native API names no Salesloft one).
async fn webhook_id<C: GenericClient>(c: &C, tenant_id: i64, guid: Uuid) -> Result<Option<i64>> {
    query_opt(
        c,
        "SELECT id FROM webhooks WHERE tenant_id = $1 AND guid = $2 AND sl_event_type IS NULL",
        &[&tenant_id, &guid],
    )
    .await?
    .map(|r| get(&r, 0))
    .transpose()
}

pub(super) async fn list_webhooks(store: &PgStore, tenant_id: i64) -> Result<Vec<Webhook>> {
    let c = store.client().await?;
    let rows = query(
        &c,
        "SELECT id, guid, url, events, event_codes, secret, created_at, sl_event_type, enabled,
                user_guid
           FROM webhooks WHERE tenant_id = $1 ORDER BY id",
        &[&tenant_id],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Webhook {
                id: get(r, 0)?,
                guid: get(r, 1)?,
                url: get(r, 2)?,
                events: Event::from_bits(get(r, 3)?),
                event_codes: codes(get(r, 4)?)?,
                secret: get(r, 5)?,
                created_at: get(r, 6)?,
                sl_event_type: get(r, 7)?,
                enabled: get(r, 8)?,
                user_guid: get(r, 9)?,
            })
        })
        .collect()
}

/// Enables or disables the tenant's Salesloft subscription `id` (see `Store::set_webhook_enabled`).
pub(super) async fn set_webhook_enabled(
    store: &PgStore,
    tenant_id: i64,
    id: i64,
    enabled: bool,
) -> Result<Option<Webhook>> {
    {
        let c = store.client().await?;
        execute(
            &c,
            "UPDATE webhooks SET enabled = $3
              WHERE tenant_id = $1 AND id = $2 AND sl_event_type IS NOT NULL",
            &[&tenant_id, &id, &enabled],
        )
        .await?;
    }
    Ok(list_webhooks(store, tenant_id)
        .await?
        .into_iter()
        .find(|w| w.id == id && w.sl_event_type.is_some()))
}

/// Deletes the tenant's Salesloft subscription `id` and its deliveries, if it has one.
pub(super) async fn delete_sl_webhook(store: &PgStore, tenant_id: i64, id: i64) -> Result<()> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    let held = query_opt(
        &tx,
        "SELECT id FROM webhooks WHERE tenant_id = $1 AND id = $2 AND sl_event_type IS NOT NULL",
        &[&tenant_id, &id],
    )
    .await?;
    if held.is_none() {
        return Ok(());
    }
    remove(&tx, tenant_id, id).await?;
    tx.commit().await.map_err(map_err)
}

pub(super) async fn create_webhook(
    store: &PgStore,
    tenant_id: i64,
    h: NewWebhook,
    max: usize,
) -> Result<Webhook> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    // Serialises subscription changes of the tenant, so the bound holds across processes.
    execute(
        &tx,
        "SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
        &[&tenant_id],
    )
    .await?;
    let held: i64 = get(
        &query_one(
            &tx,
            "SELECT count(*) FROM webhooks WHERE tenant_id = $1",
            &[&tenant_id],
        )
        .await?,
        0,
    )?;
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
    let row = query_one(
        &tx,
        "INSERT INTO webhooks (tenant_id, guid, url, events, event_codes, secret, created_at,
                               sl_event_type, user_guid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        &[
            &tenant_id,
            &h.guid,
            &h.url,
            &Event::bits(&h.events),
            &codes,
            &h.secret,
            &now,
            &h.sl_event_type,
            &h.user_guid,
        ],
    )
    .await?;
    let id = get(&row, 0)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Webhook {
        id,
        guid: h.guid,
        url: h.url,
        events: h.events,
        event_codes: h.event_codes,
        secret: h.secret,
        created_at: now,
        sl_event_type: h.sl_event_type,
        enabled: true,
        user_guid: h.user_guid,
    })
}

pub(super) async fn delete_webhook(store: &PgStore, tenant_id: i64, guid: Uuid) -> Result<()> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    let id = webhook_id(&tx, tenant_id, guid)
        .await?
        .ok_or(Error::NotFound(Missing::Webhook))?;
    remove(&tx, tenant_id, id).await?;
    tx.commit().await.map_err(map_err)
}

/// Deletes the tenant's subscription row `id` (native or Salesloft) and its deliveries.
async fn remove<C: GenericClient>(c: &C, tenant_id: i64, id: i64) -> Result<()> {
    execute(
        c,
        "DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2",
        &[&tenant_id, &id],
    )
    .await?;
    execute(
        c,
        "DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2",
        &[&tenant_id, &id],
    )
    .await?;
    Ok(())
}

pub(super) async fn enqueue_test(
    store: &PgStore,
    tenant_id: i64,
    guid: Uuid,
) -> Result<Option<Uuid>> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    execute(
        &tx,
        "SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
        &[&tenant_id],
    )
    .await?;
    let Some(id) = webhook_id(&tx, tenant_id, guid).await? else {
        return Ok(None);
    };
    let body = events::envelope(
        Event::Test,
        now_micros(),
        serde_json::json!({"webhook_id": guid}),
    );
    let guids = enqueue(&tx, tenant_id, &[(id, Event::Test.name(), body.as_str())]).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(guids.first().copied())
}

pub(super) async fn deliveries(
    store: &PgStore,
    tenant_id: i64,
    guid: Uuid,
    before: Option<i64>,
    limit: u32,
) -> Result<Option<Vec<Delivery>>> {
    let c = store.client().await?;
    let Some(id) = webhook_id(&c, tenant_id, guid).await? else {
        return Ok(None);
    };
    let rows = query(
        &c,
        "SELECT id, guid, event, state, attempts, next_attempt_at, last_status, last_error,
                created_at, updated_at
           FROM webhook_deliveries
          WHERE tenant_id = $1 AND webhook_id = $2 AND id < $3
          ORDER BY id DESC LIMIT $4",
        &[
            &tenant_id,
            &id,
            &before.unwrap_or(i64::MAX),
            &i64::from(limit),
        ],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Delivery {
                id: get(r, 0)?,
                guid: get(r, 1)?,
                event: get(r, 2)?,
                state: DeliveryState::parse(&get::<String>(r, 3)?),
                attempts: i64::from(get::<i32>(r, 4)?),
                next_attempt_at: get(r, 5)?,
                last_status: get::<Option<i32>>(r, 6)?.map(i64::from),
                last_error: get(r, 7)?,
                created_at: get(r, 8)?,
                updated_at: get(r, 9)?,
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Claims due head deliveries (see `Store::claim_deliveries`): the subscriptions are locked with
/// `SKIP LOCKED` while their lease is set, so two processes never take the same one, and a
/// process that dies holding a lease gives it up when the lease runs out.
pub(super) async fn claim(
    store: &PgStore,
    now: i64,
    lease_until: i64,
    limit: u32,
) -> Result<Vec<DueDelivery>> {
    let c = store.client().await?;
    let rows = query(
        &c,
        "WITH due AS (
              SELECT w.id FROM webhooks w
               WHERE w.lease_until < $1
                 AND (SELECT h.next_attempt_at FROM webhook_deliveries h
                       WHERE h.webhook_id = w.id AND h.state = 'pending'
                       ORDER BY h.id LIMIT 1) <= $1
               ORDER BY w.lease_until, w.id
               LIMIT $3
               FOR NO KEY UPDATE SKIP LOCKED),
          leased AS (
              UPDATE webhooks w SET lease_until = $2 FROM due WHERE w.id = due.id
              RETURNING w.id, w.url, w.secret)
         SELECT l.id, l.url, l.secret, d.id, d.guid, d.event, d.payload, d.attempts,
                d.first_attempt_at
           FROM leased l
           CROSS JOIN LATERAL (
                SELECT h.id, h.guid, h.event, h.payload, h.attempts, h.first_attempt_at
                  FROM webhook_deliveries h
                 WHERE h.webhook_id = l.id AND h.state = 'pending'
                 ORDER BY h.id LIMIT 1) d",
        &[&now, &lease_until, &i64::from(limit)],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DueDelivery {
                webhook_id: get(r, 0)?,
                url: get(r, 1)?,
                secret: get(r, 2)?,
                id: get(r, 3)?,
                guid: get(r, 4)?,
                event: get(r, 5)?,
                payload: get(r, 6)?,
                attempts: i64::from(get::<i32>(r, 7)?),
                first_attempt_at: get(r, 8)?,
                lease_until,
            })
        })
        .collect()
}

/// Records an attempt (see `Store::finish_delivery`).
pub(super) async fn finish(store: &PgStore, d: &DueDelivery, o: &Outcome) -> Result<()> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    let status = o.status.map(|s| i32::try_from(s).unwrap_or(0));
    execute(
        &tx,
        "UPDATE webhook_deliveries SET state = $2, attempts = attempts + 1,
                first_attempt_at = coalesce(first_attempt_at, $7), next_attempt_at = $3,
                last_status = $4, last_error = $5, updated_at = $6
          WHERE id = $1 AND state = 'pending'",
        &[
            &d.id,
            &o.state.as_str(),
            &o.next_attempt_at,
            &status,
            &o.error,
            &o.at,
            &d.first_attempt_at.unwrap_or(o.at),
        ],
    )
    .await?;
    // Released at the time of release: a subscription served just now goes behind the others.
    execute(
        &tx,
        "UPDATE webhooks SET lease_until = $3 WHERE id = $1 AND lease_until = $2",
        &[&d.webhook_id, &d.lease_until, &o.at],
    )
    .await?;
    tx.commit().await.map_err(map_err)
}
