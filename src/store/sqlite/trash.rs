//! SQLite change history and activity trash: change records written in the change's own
//! transaction, the move to and from `deleted_activities`, reading changes back, the purge.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::rows::{to_json, SqlResult};
use crate::domain::history::{
    tracked_values, ActivityChange, ActivityRef, Actor, ChangeAction, ChangeQuery, NewChange,
    PurgeBefore, TrashedActivity,
};
use crate::domain::{Micros, Page};
use crate::error::{Error, Missing, Result};
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
pub(super) fn state(c: &Connection, tenant_id: i64, id: i64) -> Result<Option<State>> {
    let row = c
        .prepare_cached(
            "SELECT a.guid, a.event_code, a.lead_id, a.note, coalesce(u.guid, ''), a.status, a.fields,
                    a.occurred_at, a.pinned_at IS NOT NULL, a.tags, a.static_data
               FROM activities a LEFT JOIN users u ON u.id = a.owner_id
              WHERE a.tenant_id = ?1 AND a.id = ?2",
        )
        .db()?
        .query_row(params![tenant_id, id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, String>(9)?,
                r.get::<_, String>(10)?,
            ))
        })
        .optional()
        .db()?;
    let Some((guid, event_code, lead_id, note, owner, status, fields, at, pinned, tags, data)) =
        row
    else {
        return Ok(None);
    };
    let values =
        tracked_values(note, owner, status, &fields, at, pinned, &tags, &data).map_err(bad_data)?;
    Ok(Some(State {
        guid: Uuid::parse_str(&guid).map_err(bad_data)?,
        event_code,
        lead_id,
        values,
    }))
}

/// Writes one change record stamped `at` (the tenant clock of the change).
pub(super) fn record(
    c: &Connection,
    tenant_id: i64,
    actor: Actor,
    at: Micros,
    ch: &NewChange,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO activity_changes (tenant_id, activity_id, activity_guid, event_code, lead_id,
            changed_at, user_id, api, action, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .db()?
    .execute(params![
        tenant_id,
        ch.activity_id,
        ch.activity_guid.to_string(),
        ch.event_code,
        ch.lead_id,
        at,
        actor.user_id,
        actor.api.as_str(),
        ch.action.as_str(),
        ch.before.as_ref().map(to_json).transpose()?,
        ch.after.as_ref().map(to_json).transpose()?,
    ])
    .db()?;
    Ok(())
}

/// Records the update of activity `id` from `before` to its current state, stamped `at`; nothing
/// when no tracked value changed (an edit that set the same values).
pub(super) fn record_update(
    c: &Connection,
    tenant_id: i64,
    id: i64,
    actor: Actor,
    at: Micros,
    before: State,
) -> Result<()> {
    let after = state(c, tenant_id, id)?.ok_or(Error::NotFound(Missing::Activity(None)))?;
    let (b, a) = crate::domain::history::diff(&before.values, &after.values);
    if a.is_empty() {
        return Ok(());
    }
    record(
        c,
        tenant_id,
        actor,
        at,
        &NewChange {
            activity_id: id,
            activity_guid: after.guid,
            event_code: after.event_code,
            lead_id: after.lead_id,
            action: ChangeAction::Updated,
            before: Some(b),
            after: Some(a),
        },
    )
}

/// Copies activity `id` into the trash and records its deletion (the caller then deletes the
/// row); `NotFound` when there is no such activity.
pub(super) fn trash(
    c: &Connection,
    tenant_id: i64,
    id: i64,
    actor: Actor,
    at: Micros,
) -> Result<()> {
    let before = state(c, tenant_id, id)?.ok_or(Error::NotFound(Missing::Activity(None)))?;
    c.prepare_cached(&format!(
        "INSERT INTO deleted_activities ({ACTIVITY_COLS}, deleted_at, deleted_by)
         SELECT {ACTIVITY_COLS}, ?3, ?4 FROM activities WHERE tenant_id = ?1 AND id = ?2"
    ))
    .db()?
    .execute(params![tenant_id, id, at, actor.user_id])
    .db()?;
    record(
        c,
        tenant_id,
        actor,
        at,
        &NewChange {
            activity_id: id,
            activity_guid: before.guid,
            event_code: before.event_code,
            lead_id: before.lead_id,
            action: ChangeAction::Deleted,
            before: Some(before.values),
            after: None,
        },
    )
}

/// Moves trashed activity `id` back (same id and guid, fresh `updated_at`), adds its score back
/// to its lead and records the restore. `NotFound` when it is not in the trash or was deleted
/// before `since`; `Conflict` when its lead or opportunity is gone.
pub(super) fn restore(
    c: &Connection,
    tenant_id: i64,
    id: i64,
    since: Micros,
    actor: Actor,
    ts: Micros,
) -> Result<()> {
    let row: Option<(Option<i64>, Option<i64>, i64, i64)> = c
        .prepare_cached(
            "SELECT lead_id, opportunity_id, score, deleted_at FROM deleted_activities
              WHERE tenant_id = ?1 AND id = ?2",
        )
        .db()?
        .query_row(params![tenant_id, id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
        .db()?;
    let Some((lead, opportunity, score, _)) = row.filter(|r| r.3 >= since) else {
        return Err(Error::NotFound(Missing::Activity(None)));
    };
    if let Some(lead) = lead {
        let exists: bool = c
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM leads WHERE tenant_id = ?1 AND id = ?2)")
            .db()?
            .query_row(params![tenant_id, lead], |r| r.get(0))
            .db()?;
        if !exists {
            return Err(Error::Conflict(
                "The activity's lead has been purged: the activity cannot be restored".into(),
            ));
        }
    }
    if let Some(opp) = opportunity {
        let exists: bool = c
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM activities WHERE tenant_id = ?1 AND id = ?2)",
            )
            .db()?
            .query_row(params![tenant_id, opp], |r| r.get(0))
            .db()?;
        if !exists {
            return Err(Error::Conflict(
                "The opportunity this activity was logged on is deleted: restore the opportunity first"
                    .into(),
            ));
        }
    }
    c.prepare_cached(&format!(
        "INSERT INTO activities ({ACTIVITY_COLS}) SELECT {} FROM deleted_activities d
          WHERE d.tenant_id = ?1 AND d.id = ?2",
        restore_select("?3", "?4")
    ))
    .db()?
    .execute(params![tenant_id, id, actor.user_id, ts])
    .db()?;
    c.prepare_cached("DELETE FROM deleted_activities WHERE tenant_id = ?1 AND id = ?2")
        .db()?
        .execute(params![tenant_id, id])
        .db()?;
    if let (Some(lead), true) = (lead, score != 0) {
        c.prepare_cached("UPDATE leads SET score = score + ?3 WHERE tenant_id = ?1 AND id = ?2")
            .db()?
            .execute(params![tenant_id, lead, score])
            .db()?;
    }
    let after = state(c, tenant_id, id)?.ok_or(Error::NotFound(Missing::Activity(None)))?;
    record(
        c,
        tenant_id,
        actor,
        ts,
        &NewChange {
            activity_id: id,
            activity_guid: after.guid,
            event_code: after.event_code,
            lead_id: after.lead_id,
            action: ChangeAction::Restored,
            before: None,
            after: Some(after.values),
        },
    )
}

/// A trashed activity by id or GUID, with its lead's current owner.
pub(super) fn trashed(
    c: &Connection,
    tenant_id: i64,
    key: ActivityRef,
) -> Result<Option<TrashedActivity>> {
    let (column, value) = match key {
        ActivityRef::Id(id) => ("id", rusqlite::types::Value::Integer(id)),
        ActivityRef::Guid(g) => ("guid", rusqlite::types::Value::Text(g.to_string())),
    };
    let row: Option<(i64, String, Option<i64>, i64)> = c
        .prepare_cached(&format!(
            "SELECT d.id, d.guid, l.owner_id, d.deleted_at FROM deleted_activities d
               LEFT JOIN leads l ON l.tenant_id = d.tenant_id AND l.id = d.lead_id
              WHERE d.tenant_id = ?1 AND d.{column} = ?2"
        ))
        .db()?
        .query_row(params![tenant_id, value], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
        .db()?;
    row.map(|(id, guid, lead_owner_id, deleted_at)| {
        Ok(TrashedActivity {
            id,
            guid: Uuid::parse_str(&guid).map_err(bad_data)?,
            lead_owner_id,
            deleted_at,
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

/// The change records `q` selects, oldest first.
pub(super) fn changes(c: &Connection, q: &ChangeQuery) -> Result<Page<ActivityChange>> {
    let ph = |n: usize| format!("?{n}");
    let total = if q.count {
        let (filter, params) = change_filter_sql(q, ph);
        let n: i64 = c
            .prepare_cached(&format!("SELECT count(*) {filter}"))
            .db()?
            .query_row(params_from_iter(params), |r| r.get(0))
            .db()?;
        u64::try_from(n).unwrap_or(0)
    } else {
        0
    };
    let (sql, params) = change_page_sql(q, ph, "");
    let mut stmt = c.prepare_cached(&sql).db()?;
    let raw = stmt
        .query_map(params_from_iter(params), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<String>>(11)?,
            ))
        })
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    let mut rows = Vec::with_capacity(raw.len());
    for (id, activity_id, guid, event_code, lead, at, user, name, api, action, before, after) in raw
    {
        rows.push(ActivityChange {
            id,
            activity_id,
            activity_guid: Uuid::parse_str(&guid).map_err(bad_data)?,
            event_code,
            lead_guid: parse_uuid(lead)?,
            changed_at: at,
            user_guid: parse_uuid(user)?,
            user_name: name,
            api,
            action,
            before: parse_json(before)?,
            after: parse_json(after)?,
        });
    }
    Ok(Page { total, rows })
}

/// Takes a soft-deleted lead back (deleted at or after `since`), restamping its activities.
/// `NotFound` when there is no such deleted lead; `Duplicate` when a live lead took its email,
/// phone or mobile meanwhile.
pub(super) fn restore_lead(
    c: &Connection,
    tenant_id: i64,
    guid: Uuid,
    since: Micros,
    now: Micros,
) -> Result<i64> {
    let id: Option<i64> = c
        .prepare_cached(
            "UPDATE leads SET deleted_at = NULL, updated_at = ?4
              WHERE tenant_id = ?1 AND guid = ?2 AND deleted_at IS NOT NULL AND deleted_at >= ?3
             RETURNING id",
        )
        .db()?
        .query_row(params![tenant_id, guid.to_string(), since, now], |r| {
            r.get(0)
        })
        .optional()
        .db()?;
    id.ok_or(Error::NotFound(Missing::Lead))
}

/// Purges what `p` names, at most `p.batch` rows of each kind; returns how many rows went.
pub(super) fn purge(c: &Connection, p: PurgeBefore) -> Result<u64> {
    let mut n = 0u64;
    if let Some(before) = p.activities {
        // Tenant by tenant, each over its (tenant, deleted_at) index.
        n += c
            .prepare_cached(
                "DELETE FROM deleted_activities WHERE rowid IN (
                   SELECT d.rowid FROM tenants t JOIN deleted_activities d
                       ON d.tenant_id = t.id AND d.deleted_at < ?1 LIMIT ?2)",
            )
            .db()?
            .execute(params![before, p.batch])
            .db()? as u64;
    }
    if let Some(before) = p.history {
        n += c
            .prepare_cached(
                "DELETE FROM activity_changes WHERE id IN (
                   SELECT ch.id FROM tenants t JOIN activity_changes ch
                       ON ch.tenant_id = t.id AND ch.changed_at < ?1 LIMIT ?2)",
            )
            .db()?
            .execute(params![before, p.batch])
            .db()? as u64;
    }
    if let Some(before) = p.leads {
        let leads: Vec<(i64, i64)> = c
            .prepare_cached(
                "SELECT l.tenant_id, l.id FROM tenants t JOIN leads l
                     ON l.tenant_id = t.id AND l.deleted_at IS NOT NULL AND l.deleted_at < ?1 LIMIT ?2",
            )
            .db()?
            .query_map(params![before, p.batch], |r| Ok((r.get(0)?, r.get(1)?)))
            .db()?
            .collect::<rusqlite::Result<Vec<_>>>()
            .db()?;
        for (tenant_id, lead_id) in leads {
            for sql in [
                "DELETE FROM deleted_activities WHERE tenant_id = ?1 AND lead_id = ?2",
                "DELETE FROM activities WHERE tenant_id = ?1 AND lead_id = ?2",
                "DELETE FROM leads WHERE tenant_id = ?1 AND id = ?2",
            ] {
                n += c
                    .prepare_cached(sql)
                    .db()?
                    .execute(params![tenant_id, lead_id])
                    .db()? as u64;
            }
        }
    }
    Ok(n)
}
