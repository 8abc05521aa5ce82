//! PostgreSQL change history and activity trash: change records written in the change's own
//! transaction, the move to and from `deleted_activities`, reading changes back, the purge.

use deadpool_postgres::GenericClient;
use serde_json::{Map, Value};
use tokio_postgres::types::{Json, ToSql};
use uuid::Uuid;

use super::rows::{execute, get, map_err, query, query_one, query_opt};
use super::PgStore;
use crate::domain::history::{
    tracked_values, ActivityChange, ActivityRef, Actor, ChangeAction, ChangeQuery, NewChange,
    PurgeBefore, TrashedActivity,
};
use crate::domain::{Micros, Page};
use crate::error::{Error, Missing, Result};
use crate::events::Event;
use crate::store::history::{change_filter_sql, change_page_sql, restore_select, ACTIVITY_COLS};

/// An activity's identity and tracked values inside a write transaction.
pub(super) struct State {
    pub guid: Uuid,
    pub event_code: i64,
    pub lead_id: Option<i64>,
    pub values: Map<String, Value>,
}

fn bad_data(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored activity values are not valid JSON: {e}").into())
}

/// The activity `id`'s current state, `None` when there is no such live activity.
pub(super) async fn state<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    id: i64,
) -> Result<Option<State>> {
    let Some(r) = query_opt(
        c,
        "SELECT a.guid, a.event_code, a.lead_id, a.note, coalesce(u.guid::text, ''), a.status,
                a.fields::text, a.occurred_at, a.pinned_at IS NOT NULL, a.tags::text, a.static_data::text
           FROM activities a LEFT JOIN users u ON u.id = a.owner_id
          WHERE a.tenant_id = $1 AND a.id = $2",
        &[&tenant_id, &id],
    )
    .await?
    else {
        return Ok(None);
    };
    let fields: String = get(&r, 6)?;
    let tags: String = get(&r, 9)?;
    let data: String = get(&r, 10)?;
    let values = tracked_values(
        get(&r, 3)?,
        get(&r, 4)?,
        get(&r, 5)?,
        &fields,
        get(&r, 7)?,
        get(&r, 8)?,
        &tags,
        &data,
    )
    .map_err(bad_data)?;
    Ok(Some(State {
        guid: get(&r, 0)?,
        event_code: get(&r, 1)?,
        lead_id: get(&r, 2)?,
        values,
    }))
}

/// Writes one change record stamped `at` (the tenant clock of the change).
pub(super) async fn record<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    actor: Actor,
    at: Micros,
    ch: &NewChange,
) -> Result<()> {
    let before = ch.before.clone().map(|m| Json(Value::Object(m)));
    let after = ch.after.clone().map(|m| Json(Value::Object(m)));
    execute(
        c,
        "INSERT INTO activity_changes (tenant_id, activity_id, activity_guid, event_code, lead_id,
            changed_at, user_id, api, action, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &tenant_id,
            &ch.activity_id,
            &ch.activity_guid,
            &ch.event_code,
            &ch.lead_id,
            &at,
            &actor.user_id,
            &actor.api.as_str(),
            &ch.action.as_str(),
            &before,
            &after,
        ],
    )
    .await?;
    Ok(())
}

/// Records the update of activity `id` from `before` to its current state, stamped `at`; nothing
/// when no tracked value changed.
pub(super) async fn record_update<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    id: i64,
    actor: Actor,
    at: Micros,
    before: State,
) -> Result<()> {
    let after = state(c, tenant_id, id)
        .await?
        .ok_or(Error::NotFound(Missing::Activity(None)))?;
    let (b, a) = crate::domain::history::diff(&before.values, &after.values);
    if a.is_empty() {
        return Ok(());
    }
    let change = NewChange {
        activity_id: id,
        activity_guid: after.guid,
        event_code: after.event_code,
        lead_id: after.lead_id,
        action: ChangeAction::Updated,
        before: Some(b),
        after: Some(a),
    };
    record(c, tenant_id, actor, at, &change).await
}

/// Copies activity `id` into the trash and records its deletion (the caller then deletes the
/// row); `NotFound` when there is no such activity.
pub(super) async fn trash<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    id: i64,
    actor: Actor,
    at: Micros,
) -> Result<()> {
    let before = state(c, tenant_id, id)
        .await?
        .ok_or(Error::NotFound(Missing::Activity(None)))?;
    execute(
        c,
        &format!(
            "INSERT INTO deleted_activities ({ACTIVITY_COLS}, deleted_at, deleted_by)
             SELECT {ACTIVITY_COLS}, $3, $4 FROM activities WHERE tenant_id = $1 AND id = $2"
        ),
        &[&tenant_id, &id, &at, &actor.user_id],
    )
    .await?;
    let change = NewChange {
        activity_id: id,
        activity_guid: before.guid,
        event_code: before.event_code,
        lead_id: before.lead_id,
        action: ChangeAction::Deleted,
        before: Some(before.values),
        after: None,
    };
    record(c, tenant_id, actor, at, &change).await
}

async fn exists<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<bool> {
    let row = query_one(c, sql, params).await?;
    get(&row, 0)
}

/// See `Store::restore_activity`.
pub(super) async fn restore_activity(
    store: &PgStore,
    tenant_id: i64,
    id: i64,
    since: Micros,
    actor: Actor,
) -> Result<()> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(map_err)?;
    let ts = super::writes::tick(&tx, tenant_id, 1).await?;
    let row = query_opt(
        &tx,
        "SELECT lead_id, opportunity_id, score, deleted_at FROM deleted_activities
          WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        &[&tenant_id, &id],
    )
    .await?;
    let Some(row) = row else {
        return Err(Error::NotFound(Missing::Activity(None)));
    };
    let (lead, opportunity, score, deleted_at): (Option<i64>, Option<i64>, i64, i64) =
        (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?, get(&row, 3)?);
    if deleted_at < since {
        return Err(Error::NotFound(Missing::Activity(None)));
    }
    if let Some(lead) = lead {
        if !exists(
            &tx,
            "SELECT EXISTS (SELECT 1 FROM leads WHERE tenant_id = $1 AND id = $2 FOR KEY SHARE)",
            &[&tenant_id, &lead],
        )
        .await?
        {
            return Err(Error::Conflict(
                "The activity's lead has been purged: the activity cannot be restored".into(),
            ));
        }
    }
    if let Some(opp) = opportunity {
        if !exists(
            &tx,
            "SELECT EXISTS (SELECT 1 FROM activities WHERE tenant_id = $1 AND id = $2)",
            &[&tenant_id, &opp],
        )
        .await?
        {
            return Err(Error::Conflict(
                "The opportunity this activity was logged on is deleted: restore the opportunity first"
                    .into(),
            ));
        }
    }
    execute(
        &tx,
        &format!(
            "INSERT INTO activities ({ACTIVITY_COLS}) SELECT {} FROM deleted_activities d
              WHERE d.tenant_id = $1 AND d.id = $2",
            restore_select("$3::bigint", "$4::bigint")
        ),
        &[&tenant_id, &id, &actor.user_id, &ts],
    )
    .await?;
    execute(
        &tx,
        "DELETE FROM deleted_activities WHERE tenant_id = $1 AND id = $2",
        &[&tenant_id, &id],
    )
    .await?;
    if let (Some(lead), true) = (lead, score != 0) {
        execute(
            &tx,
            "UPDATE leads SET score = score + $3 WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &lead, &score],
        )
        .await?;
    }
    let after = state(&tx, tenant_id, id)
        .await?
        .ok_or(Error::NotFound(Missing::Activity(None)))?;
    let change = NewChange {
        activity_id: id,
        activity_guid: after.guid,
        event_code: after.event_code,
        lead_id: after.lead_id,
        action: ChangeAction::Restored,
        before: None,
        after: Some(after.values),
    };
    record(&tx, tenant_id, actor, ts, &change).await?;
    // Back in every dialect: subscribers are told as of a new activity (same id and GUID).
    super::outbox::activities_changed(&tx, &store.labels, tenant_id, Event::ActivityCreated, &[id])
        .await?;
    tx.commit().await.map_err(map_err)
}

/// A trashed activity by id or GUID, with its lead's current owner.
pub(super) async fn trashed(
    store: &PgStore,
    tenant_id: i64,
    key: ActivityRef,
) -> Result<Option<TrashedActivity>> {
    let c = store.client().await?;
    const SELECT: &str = "SELECT d.id, d.guid, l.owner_id, d.deleted_at FROM deleted_activities d
        LEFT JOIN leads l ON l.tenant_id = d.tenant_id AND l.id = d.lead_id WHERE d.tenant_id = $1";
    let row = match key {
        ActivityRef::Id(id) => {
            query_opt(&c, &format!("{SELECT} AND d.id = $2"), &[&tenant_id, &id]).await?
        }
        ActivityRef::Guid(g) => {
            query_opt(&c, &format!("{SELECT} AND d.guid = $2"), &[&tenant_id, &g]).await?
        }
    };
    row.map(|r| {
        Ok(TrashedActivity {
            id: get(&r, 0)?,
            guid: get(&r, 1)?,
            lead_owner_id: get(&r, 2)?,
            deleted_at: get(&r, 3)?,
        })
    })
    .transpose()
}

fn parse_json(text: Option<String>) -> Result<Option<Value>> {
    text.map(|t| serde_json::from_str(&t).map_err(bad_data))
        .transpose()
}

fn parse_uuid(text: Option<String>) -> Result<Option<Uuid>> {
    text.map(|t| Uuid::parse_str(&t).map_err(bad_data))
        .transpose()
}

/// The change records `q` selects, oldest first; count and page read one snapshot.
pub(super) async fn changes(store: &PgStore, q: &ChangeQuery) -> Result<Page<ActivityChange>> {
    let ph = |n: usize| format!("${n}");
    let mut c = store.client().await?;
    let tx = c
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(map_err)?;
    let total = if q.count {
        let (filter, params) = change_filter_sql(q, ph);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let row = query_one(&tx, &format!("SELECT count(*) {filter}"), &refs).await?;
        u64::try_from(get::<i64>(&row, 0)?).unwrap_or(0)
    } else {
        0
    };
    let (sql, params) = change_page_sql(q, ph, "::text");
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
    let mut rows = Vec::new();
    for r in query(&tx, &sql, &refs).await? {
        let guid: String = get(&r, 2)?;
        rows.push(ActivityChange {
            id: get(&r, 0)?,
            activity_id: get(&r, 1)?,
            activity_guid: Uuid::parse_str(&guid).map_err(bad_data)?,
            event_code: get(&r, 3)?,
            lead_guid: parse_uuid(get(&r, 4)?)?,
            changed_at: get(&r, 5)?,
            user_guid: parse_uuid(get(&r, 6)?)?,
            user_name: get(&r, 7)?,
            api: get(&r, 8)?,
            action: get(&r, 9)?,
            before: parse_json(get(&r, 10)?)?,
            after: parse_json(get(&r, 11)?)?,
        });
    }
    tx.commit().await.map_err(map_err)?;
    Ok(Page { total, rows })
}

/// See `Store::restore_lead`.
pub(super) async fn restore_lead(
    store: &PgStore,
    tenant_id: i64,
    guid: Uuid,
    since: Micros,
) -> Result<()> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    let now = super::writes::tick(&tx, tenant_id, 1).await?;
    let row = query_opt(
        &tx,
        "UPDATE leads SET deleted_at = NULL, updated_at = $4
          WHERE tenant_id = $1 AND guid = $2 AND deleted_at IS NOT NULL AND deleted_at >= $3
         RETURNING id",
        &[&tenant_id, &guid, &since, &now],
    )
    .await?
    .ok_or(Error::NotFound(Missing::Lead))?;
    let id: i64 = get(&row, 0)?;
    super::writes::restamp_lead_activities(&tx, tenant_id, id).await?;
    super::outbox::leads_changed(&tx, tenant_id, Event::LeadUpdated, &[id]).await?;
    tx.commit().await.map_err(map_err)
}

/// See `Store::purge_expired`: one transaction per kind.
pub(super) async fn purge(store: &PgStore, p: PurgeBefore) -> Result<u64> {
    let mut c = store.client().await?;
    let batch = i64::from(p.batch);
    let mut n = 0u64;
    if let Some(before) = p.activities {
        // Tenant by tenant, each over its (tenant, deleted_at) index.
        n += execute(
            &c,
            "DELETE FROM deleted_activities d USING (
               SELECT x.tenant_id, x.id FROM tenants t CROSS JOIN LATERAL (
                 SELECT tenant_id, id FROM deleted_activities
                  WHERE tenant_id = t.id AND deleted_at < $1 LIMIT $2) x LIMIT $2) v
              WHERE d.tenant_id = v.tenant_id AND d.id = v.id",
            &[&before, &batch],
        )
        .await?;
    }
    if let Some(before) = p.history {
        n += execute(
            &c,
            "DELETE FROM activity_changes ch USING (
               SELECT x.id FROM tenants t CROSS JOIN LATERAL (
                 SELECT id FROM activity_changes
                  WHERE tenant_id = t.id AND changed_at < $1 LIMIT $2) x LIMIT $2) v
              WHERE ch.id = v.id",
            &[&before, &batch],
        )
        .await?;
    }
    if let Some(before) = p.leads {
        let leads = query(
            &c,
            "SELECT x.tenant_id, x.id FROM tenants t CROSS JOIN LATERAL (
               SELECT tenant_id, id FROM leads
                WHERE tenant_id = t.id AND deleted_at IS NOT NULL AND deleted_at < $1 LIMIT $2) x
             LIMIT $2",
            &[&before, &batch],
        )
        .await?;
        for r in leads {
            let (tenant_id, lead_id): (i64, i64) = (get(&r, 0)?, get(&r, 1)?);
            let tx = c.transaction().await.map_err(map_err)?;
            // The clock row first, as every writer locks it: no activity joins the lead meanwhile.
            super::writes::tick(&tx, tenant_id, 0).await?;
            let still = query_opt(
                &tx,
                "SELECT 1 FROM leads WHERE tenant_id = $1 AND id = $2 AND deleted_at < $3 FOR UPDATE",
                &[&tenant_id, &lead_id, &before],
            )
            .await?;
            if still.is_none() {
                continue; // restored meanwhile
            }
            for sql in [
                "DELETE FROM deleted_activities WHERE tenant_id = $1 AND lead_id = $2",
                "DELETE FROM activities WHERE tenant_id = $1 AND lead_id = $2",
                "DELETE FROM leads WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NOT NULL",
            ] {
                n += execute(&tx, sql, &[&tenant_id, &lead_id]).await?;
            }
            tx.commit().await.map_err(map_err)?;
        }
    }
    Ok(n)
}
