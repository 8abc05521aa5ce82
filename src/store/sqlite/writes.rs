//! SQLite write statements: inserts, the tenant clock, restamps, the bodies of the longer writes.

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{lead_row, map_err, to_json, SqlResult, LEAD_COLS};
use uuid::Uuid;

use super::trash;
use crate::domain::history::Actor;
use crate::domain::{
    time::now_micros, ActivityType, ActivityUpdate, LeadPatch, Micros, NewAccount, NewActivity,
    NewActivityType, NewLead, NewUser, Tenant,
};
use crate::error::{Error, Result};
use crate::events::Event;

/// Inserts a user stamped (created_at, updated_at) from the tenant's clock, so that users' updated_at
/// is unique in the tenant as Salesloft's cursor walk needs.
pub(super) fn insert_user(conn: &Connection, tenant_id: i64, u: &NewUser) -> Result<i64> {
    let now = tick(conn, tenant_id, 1)?;
    conn.prepare_cached(
        "INSERT INTO users (tenant_id, guid, email, email_lc, first_name, last_name, role, active,
            access_key_digest, secret_key_digest, api_key_digest, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11, ?11)",
    )
    .db()?
    .execute(params![
        tenant_id,
        u.guid.to_string(),
        u.email,
        u.email.to_lowercase(),
        u.first_name,
        u.last_name,
        u.role.as_str(),
        &u.access_key_digest[..],
        &u.secret_key_digest[..],
        &u.api_key_digest[..],
        now
    ])
    .map_err(|e| match map_err(e) {
        Error::Duplicate(_) => Error::Duplicate(crate::error::Unique::UserEmail(u.email.clone())),
        other => other,
    })?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn insert_type(
    conn: &Connection,
    tenant_id: i64,
    t: &NewActivityType,
    now: i64,
) -> Result<i64> {
    let code = match t.event_code {
        Some(c) => c,
        None => {
            let codes = t.kind.event_codes();
            let highest: Option<i64> = conn
                .prepare_cached(
                    "SELECT max(event_code) FROM activity_types WHERE tenant_id = ?1 AND event_code >= ?2 AND event_code <= ?3",
                )
                .db()?
                .query_row(params![tenant_id, codes.start(), codes.end()], |r| r.get(0))
                .db()?;
            crate::domain::rules::next_event_code(t.kind, highest)?
        }
    };
    conn.prepare_cached(
        "INSERT INTO activity_types (tenant_id, guid, event_code, name, name_lc, display_name, score, description,
            direction, kind, is_email_type, salesloft_type, fields, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
    )
    .db()?
    .execute(params![
        tenant_id,
        t.guid.to_string(),
        code,
        t.name,
        t.name.to_lowercase(),
        t.display_name,
        t.score,
        t.description,
        t.direction,
        t.kind.as_str(),
        t.is_email_type,
        t.salesloft_type,
        to_json(&t.fields)?,
        now
    ])
    .db()?;
    Ok(conn.last_insert_rowid())
}

/// Refuses a lead write whose attribute `names` would take the tenant past
/// `store::MAX_LEAD_FIELDS` custom lead fields (the `lead_fields` triggers then add the new ones
/// in the same transaction).
fn check_lead_fields<'a>(
    c: &Connection,
    tenant_id: i64,
    names: impl Iterator<Item = &'a String>,
) -> Result<()> {
    let mut known = c
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM lead_fields WHERE tenant_id = ?1 AND name = ?2)",
        )
        .db()?;
    let mut new = Vec::new();
    for name in names {
        if !known
            .query_row(params![tenant_id, name], |r| r.get::<_, bool>(0))
            .db()?
        {
            new.push(name.as_str());
        }
    }
    if new.is_empty() {
        return Ok(());
    }
    let have: i64 = c
        .prepare_cached("SELECT count(*) FROM lead_fields WHERE tenant_id = ?1")
        .db()?
        .query_row(params![tenant_id], |r| r.get(0))
        .db()?;
    crate::store::check_new_lead_fields(
        usize::try_from(have).unwrap_or(usize::MAX),
        new.len(),
        new.first().copied(),
    )
}

/// Inserts a lead stamped from the tenant's clock (unique updated_at: Salesloft's cursor walk).
pub(super) fn insert_lead(conn: &Connection, tenant_id: i64, l: &NewLead) -> Result<i64> {
    check_lead_fields(conn, tenant_id, l.attributes.keys())?;
    let now = tick(conn, tenant_id, 1)?;
    conn.prepare_cached(
        "INSERT INTO leads (tenant_id, guid, first_name, last_name, email, email_lc, phone, mobile, do_not_call,
            do_not_email, owner_id, attributes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
    )
    .db()?
    .execute(params![
        tenant_id,
        l.guid.to_string(),
        l.first_name,
        l.last_name,
        l.email,
        l.email.as_ref().map(|e| e.to_lowercase()),
        l.phone,
        l.mobile,
        l.do_not_call,
        l.do_not_email,
        l.owner_id,
        to_json(&l.attributes)?,
        now
    ])
    .db()?;
    Ok(conn.last_insert_rowid())
}

/// Advances the tenant's clock by `n` ticks and returns the first of the `n` fresh timestamps.
/// Runs inside the write transaction, so timestamps are handed out in commit order.
/// Two statements, not one with RETURNING: SQLite runs RETURNING as a trigger, and a statement
/// that fires one keeps a statement journal (a copy of the page it changes).
pub(super) fn tick(conn: &Connection, tenant_id: i64, n: i64) -> Result<i64> {
    let changed = conn
        .prepare_cached("UPDATE tenants SET clock = max(clock + ?2, ?3) WHERE id = ?1")
        .db()?
        .execute(params![tenant_id, n, now_micros()])
        .db()?;
    if changed == 0 {
        return Err(Error::NotFound(crate::error::Missing::Tenant(None)));
    }
    let last: i64 = conn
        .prepare_cached("SELECT clock FROM tenants WHERE id = ?1")
        .db()?
        .query_row(params![tenant_id], |r| r.get(0))
        .db()?;
    Ok(last - n + 1)
}

/// The ids of `tenant_id`'s activities that `sql` (its `?1` the tenant) selects, in id order.
fn activity_ids(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<i64>> {
    conn.prepare_cached(sql)
        .db()?
        .query_map(params, |r| r.get(0))
        .db()?
        .collect::<rusqlite::Result<Vec<i64>>>()
        .db()
}

/// Gives the activities `ids` (in this order) fresh `updated_at`s from the tenant clock, and the
/// Salesloft type `sl_type` when given: what the Salesloft dialect shows of them changed, and
/// cursor clients only see what moved forward.
fn restamp(conn: &Connection, tenant_id: i64, ids: &[i64], sl_type: Option<&str>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let first = tick(conn, tenant_id, ids.len() as i64)?;
    let mut update = conn
        .prepare_cached(
            "UPDATE activities SET sl_type = coalesce(?3, sl_type), updated_at = ?4
              WHERE tenant_id = ?1 AND id = ?2",
        )
        .db()?;
    for (i, id) in ids.iter().enumerate() {
        update
            .execute(params![tenant_id, id, sl_type, first + i as i64])
            .db()?;
    }
    Ok(())
}

/// Keeps `activities.sl_type` in step with a type whose Salesloft type changed.
fn restamp_sl_type(conn: &Connection, tenant_id: i64, type_id: i64, sl_type: &str) -> Result<()> {
    let ids = activity_ids(
        conn,
        "SELECT id FROM activities WHERE tenant_id = ?1 AND type_id = ?2 AND sl_type <> ?3 ORDER BY id",
        params![tenant_id, type_id, sl_type],
    )?;
    restamp(conn, tenant_id, &ids, Some(sl_type))
}

/// Restamps each activity of a lead whose lead changed (a deleted lead becomes a failed dynamic
/// resource in the Salesloft dialect).
fn restamp_lead_activities(conn: &Connection, tenant_id: i64, lead_id: i64) -> Result<()> {
    let ids = activity_ids(
        conn,
        "SELECT id FROM activities WHERE tenant_id = ?1 AND lead_id = ?2 ORDER BY id",
        params![tenant_id, lead_id],
    )?;
    restamp(conn, tenant_id, &ids, None)
}

/// Inserts `activities` in the open write transaction (see `Store::insert_activities`).
pub(super) fn insert_rows(
    c: &Connection,
    tenant_id: i64,
    activities: &[NewActivity],
) -> Result<Vec<i64>> {
    let first = tick(c, tenant_id, activities.len() as i64)?;
    // One row of VALUES, neither INSERT … SELECT from the type nor RETURNING (which SQLite runs
    // as a trigger): SQLite keeps a statement journal (a copy of every page the statement
    // changes) for any statement that may write several rows or fires a trigger, and that
    // copying was a tenth of a Create's instructions on the writer thread.
    let mut type_of = c
        .prepare_cached(
            "SELECT event_code, salesloft_type, kind = 'opportunity' FROM activity_types
             WHERE tenant_id = ?1 AND id = ?2",
        )
        .db()?;
    let mut insert = c
        .prepare_cached(
            "INSERT INTO activities (tenant_id, guid, type_id, event_code, lead_id, opportunity_id, owner_id,
                created_by, modified_by, note, occurred_at, created_at, updated_at, score, status, fields,
                account_id, pinned_at, tags, static_data, sl_type, res_kind, res_id, lead_owner_id)
             VALUES (?1, ?2, ?3, ?18, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13,
                ?14, CASE WHEN ?15 THEN ?10 END, ?16, ?17, ?19,
                CASE WHEN ?20 OR ?5 IS NOT NULL THEN 'crm_opportunity'
                     WHEN ?14 IS NOT NULL THEN 'account' ELSE 'person' END,
                CASE WHEN ?20 THEN 0 WHEN ?5 IS NOT NULL THEN ?5
                     WHEN ?14 IS NOT NULL THEN ?14 ELSE ?4 END,
                (SELECT l.owner_id FROM leads l WHERE l.tenant_id = ?1 AND l.id = ?4))",
        )
        .db()?;
    let mut score = c
        .prepare_cached("UPDATE leads SET score = score + ?3 WHERE tenant_id = ?1 AND id = ?2")
        .db()?;
    let mut self_resource = c
        .prepare_cached("UPDATE activities SET res_id = id WHERE id = ?1")
        .db()?;
    // The types this call names (a bulk call names one or two, again and again).
    let mut types: Vec<(i64, (i64, String, bool))> = Vec::new();
    let mut ids = Vec::with_capacity(activities.len());
    for (i, a) in activities.iter().enumerate() {
        let ts = first + i as i64;
        if a.lead_id.is_none() && a.account_id.is_none() {
            return Err(Error::InvalidInput(
                "An activity needs a lead or an account".into(),
            ));
        }
        let known = match types.iter().position(|(t, _)| *t == a.type_id) {
            Some(i) => i,
            None => {
                let ty: (i64, String, bool) = type_of
                    .query_row(params![tenant_id, a.type_id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()
                    .db()?
                    .ok_or_else(|| Error::NotFound(crate::error::Missing::ActivityType(None)))?;
                types.push((a.type_id, ty));
                types.len() - 1
            }
        };
        let &(event_code, ref sl_type, is_opportunity) = &types[known].1;
        insert
            .execute(params![
                tenant_id,
                a.guid.to_string(),
                a.type_id,
                a.lead_id,
                a.opportunity_id,
                a.owner_id,
                a.created_by,
                a.note,
                a.occurred_at,
                ts,
                a.score,
                a.status,
                to_json(&a.fields)?,
                a.account_id,
                a.pinned,
                to_json(&a.tags)?,
                to_json(&a.static_data)?,
                event_code,
                sl_type,
                is_opportunity
            ])
            .db()?;
        let id = c.last_insert_rowid();
        if is_opportunity {
            // An opportunity record is its own Salesloft resource.
            self_resource.execute(params![id]).db()?;
        }
        ids.push(id);
        if let (Some(lead), true) = (a.lead_id, a.score != 0) {
            score.execute(params![tenant_id, lead, a.score]).db()?;
        }
    }
    Ok(ids)
}

/// Creates the tenant, its admin and its activity types (see `Store::create_tenant`); the tenant
/// and the admin's id.
pub(super) fn create_tenant(
    c: &Connection,
    name: &str,
    admin: &NewUser,
    types: &[NewActivityType],
) -> Result<(Tenant, i64)> {
    let now = now_micros();
    let guid = Uuid::now_v7();
    c.prepare_cached("INSERT INTO tenants (guid, name, clock, created_at) VALUES (?1, ?2, 0, ?3)")
        .db()?
        .execute(params![guid.to_string(), name, now])
        .db()?;
    let tenant = Tenant {
        id: c.last_insert_rowid(),
        guid,
        name: name.to_string(),
    };
    let user_id = insert_user(c, tenant.id, admin)?;
    for t in types {
        insert_type(c, tenant.id, t, now)?;
    }
    Ok((tenant, user_id))
}

/// Changes the activity type and restamps its activities (see `Store::update_activity_type`).
pub(super) fn update_activity_type(
    c: &Connection,
    tenant_id: i64,
    ty: &ActivityType,
) -> Result<()> {
    let n = c
        .prepare_cached(
            "UPDATE activity_types SET name = ?3, name_lc = ?4, display_name = ?5, score = ?6, description = ?7,
                        direction = ?8, is_email_type = ?9, salesloft_type = ?10, fields = ?11, updated_at = ?12
                     WHERE tenant_id = ?1 AND id = ?2",
        )
        .db()?
        .execute(params![
            tenant_id,
            ty.id,
            ty.name,
            ty.name.to_lowercase(),
            ty.display_name,
            ty.score,
            ty.description,
            ty.direction,
            ty.is_email_type,
            ty.salesloft_type,
            to_json(&ty.fields)?,
            now_micros()
        ])
        .db()?;
    if n == 0 {
        return Err(Error::NotFound(crate::error::Missing::ActivityType(Some(
            ty.event_code,
        ))));
    }
    restamp_sl_type(c, tenant_id, ty.id, &ty.salesloft_type)?;
    Ok(())
}

/// Applies `u` to its activity (see `Store::update_activity`).
pub(super) fn update_activity(
    c: &Connection,
    tenant_id: i64,
    u: &ActivityUpdate,
    actor: Actor,
) -> Result<()> {
    let before = trash::state(c, tenant_id, u.id)?
        .ok_or(Error::NotFound(crate::error::Missing::Activity(None)))?;
    let ts = tick(c, tenant_id, 1)?;
    let n = c
        .prepare_cached(
            "UPDATE activities SET note = coalesce(?3, note), owner_id = coalesce(?4, owner_id),
                        status = coalesce(?5, status), fields = coalesce(?6, fields), modified_by = ?7, updated_at = ?8,
                        occurred_at = coalesce(?9, occurred_at),
                        pinned_at = CASE WHEN ?10 IS NULL THEN pinned_at WHEN ?10 THEN coalesce(pinned_at, ?8) END,
                        tags = coalesce(?11, tags), static_data = coalesce(?12, static_data)
                     WHERE tenant_id = ?1 AND id = ?2",
        )
        .db()?
        .execute(params![
            tenant_id,
            u.id,
            u.note,
            u.owner_id,
            u.status,
            u.fields.as_ref().map(to_json).transpose()?,
            actor.user_id,
            ts,
            u.occurred_at,
            u.pinned,
            u.tags.as_ref().map(to_json).transpose()?,
            u.static_data.as_ref().map(to_json).transpose()?
        ])
        .db()?;
    if n == 0 {
        return Err(Error::NotFound(crate::error::Missing::Activity(None)));
    }
    trash::record_update(c, tenant_id, u.id, actor, ts, before)
}

/// Moves the activity to the trash and takes its score off its lead (see
/// `Store::delete_activity`).
pub(super) fn delete_activity(c: &Connection, tenant_id: i64, id: i64, actor: Actor) -> Result<()> {
    let children: i64 = c
        .prepare_cached(
            "SELECT count(*) FROM activities WHERE tenant_id = ?1 AND opportunity_id = ?2",
        )
        .db()?
        .query_row(params![tenant_id, id], |r| r.get(0))
        .db()?;
    if children > 0 {
        return Err(Error::InvalidInput(format!(
            "This opportunity has {children} activities logged on it; delete them first"
        )));
    }
    let at = tick(c, tenant_id, 1)?;
    trash::trash(c, tenant_id, id, actor, at)?;
    let deleted: Option<(Option<i64>, i64)> = c
        .prepare_cached(
            "DELETE FROM activities WHERE tenant_id = ?1 AND id = ?2 RETURNING lead_id, score",
        )
        .db()?
        .query_row(params![tenant_id, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .db()?;
    match deleted {
        None => Err(Error::NotFound(crate::error::Missing::Activity(None))),
        Some((Some(lead), score)) if score != 0 => {
            c.prepare_cached(
                "UPDATE leads SET score = score - ?3 WHERE tenant_id = ?1 AND id = ?2",
            )
            .db()?
            .execute(params![tenant_id, lead, score])
            .db()?;
            Ok(())
        }
        Some(_) => Ok(()),
    }
}

/// Puts a trashed activity back (see `Store::restore_activity`).
pub(super) fn restore_activity(
    c: &Connection,
    tenant_id: i64,
    id: i64,
    since: Micros,
    actor: Actor,
) -> Result<()> {
    let ts = tick(c, tenant_id, 1)?;
    trash::restore(c, tenant_id, id, since, actor, ts)?;
    // Back in every dialect: subscribers are told as of a new activity (same id and GUID).
    super::outbox::activities_changed(c, tenant_id, Event::ActivityCreated, &[id])
}

/// Takes a deleted lead back and restamps its activities (see `Store::restore_lead`).
pub(super) fn restore_lead(
    c: &Connection,
    tenant_id: i64,
    guid: Uuid,
    since: Micros,
) -> Result<()> {
    let now = tick(c, tenant_id, 1)?;
    let id = trash::restore_lead(c, tenant_id, guid, since, now)?;
    restamp_lead_activities(c, tenant_id, id)?;
    super::outbox::leads_changed(c, tenant_id, Event::LeadUpdated, &[id])
}

/// Marks the lead deleted and restamps its activities (see `Store::delete_lead`).
pub(super) fn delete_lead(c: &Connection, tenant_id: i64, lead_id: i64) -> Result<()> {
    let now = tick(c, tenant_id, 1)?;
    let n = c
        .prepare_cached(
            "UPDATE leads SET deleted_at = ?3, updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND deleted_at IS NULL",
        )
        .db()?
        .execute(params![tenant_id, lead_id, now])
        .db()?;
    if n == 0 {
        return Err(Error::NotFound(crate::error::Missing::Lead));
    }
    restamp_lead_activities(c, tenant_id, lead_id)
}

/// Inserts the account (see `Store::create_account`).
pub(super) fn create_account(c: &Connection, tenant_id: i64, account: &NewAccount) -> Result<()> {
    // From the tenant's clock: accounts' updated_at is unique in the tenant (cursor walk).
    let now = tick(c, tenant_id, 1)?;
    c.prepare_cached(
        "INSERT INTO accounts (tenant_id, guid, name, name_lc, domain, owner_id, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )
    .db()?
    .execute(params![
        tenant_id,
        account.guid.to_string(),
        account.name,
        account.name.to_lowercase(),
        account.domain,
        account.owner_id,
        now
    ])
    .map_err(|e| match map_err(e) {
        Error::Duplicate(_) => Error::Duplicate(crate::error::Unique::AccountName(account.name.clone())),
        other => other,
    })?;
    Ok(())
}

/// Applies a change to a live lead (see `Store::update_lead`).
pub(super) fn update_lead(
    c: &Connection,
    tenant_id: i64,
    lead_id: i64,
    patch: &LeadPatch,
) -> Result<()> {
    let sql = format!(
        "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id
          WHERE l.tenant_id = ?1 AND l.id = ?2 AND l.deleted_at IS NULL"
    );
    let lead = c
        .prepare_cached(&sql)
        .db()?
        .query_row(params![tenant_id, lead_id], lead_row)
        .optional()
        .db()?
        .ok_or(Error::NotFound(crate::error::Missing::Lead))?;
    let new = patch.apply(&lead);
    if !new.has_identity() {
        return Err(Error::Required(crate::error::Field::LeadIdentity));
    }
    check_lead_fields(c, tenant_id, new.attributes.keys())?;
    let stamp = tick(c, tenant_id, 1)?;
    c.prepare_cached(
        "UPDATE leads SET first_name = ?3, last_name = ?4, email = ?5, email_lc = ?6, phone = ?7,
            mobile = ?8, do_not_call = ?9, do_not_email = ?10, owner_id = ?11, attributes = ?12,
            updated_at = max(?13, updated_at + 1)
          WHERE tenant_id = ?1 AND id = ?2",
    )
    .db()?
    .execute(params![
        tenant_id,
        lead_id,
        new.first_name,
        new.last_name,
        new.email,
        new.email.as_ref().map(|e| e.to_lowercase()),
        new.phone,
        new.mobile,
        new.do_not_call,
        new.do_not_email,
        new.owner_id,
        to_json(&new.attributes)?,
        stamp
    ])
    .map_err(map_err)?;
    if new.owner_id != lead.owner_id {
        restamp_lead_activities(c, tenant_id, lead_id)?;
    }
    Ok(())
}
