//! Writes: batch inserts, the tenant clock, restamping, and the writing `Store` methods' bodies.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::Row;
use uuid::Uuid;

use super::labels::PgLabels;
use super::rows::{
    execute, get, lead_row, map_err, query, query_one, query_opt, query_users, to_json,
    to_json_text, type_row, LEAD_COLS, TYPE_COLS,
};
use super::trash;
use super::{outbox, PgStore};
use crate::domain::history::Actor;
use crate::domain::{
    time::now_micros, Account, ActivityType, ActivityUpdate, LeadPatch, NewAccount, NewActivity,
    NewActivityType, NewLead, NewUser, Tenant, TypeKind, User,
};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::store::Store;

/// Inserts a user stamped (created_at, updated_at) from the tenant's clock, so that users'
/// updated_at is unique in the tenant (Salesloft's cursor walk); `c` must be in a transaction, which
/// holds the clock's lock until it commits.
pub(super) async fn insert_user<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    u: &NewUser,
) -> Result<i64> {
    let now = tick(c, tenant_id, 1).await?;
    let row = query_one(
        c,
        "INSERT INTO users (tenant_id, guid, email, email_lc, first_name, last_name, role, active,
            access_key_digest, secret_key_digest, api_key_digest, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8, $9, $10, $11, $11) RETURNING id",
        &[
            &tenant_id,
            &u.guid,
            &u.email,
            &u.email.to_lowercase(),
            &u.first_name,
            &u.last_name,
            &u.role.as_str(),
            &&u.access_key_digest[..],
            &&u.secret_key_digest[..],
            &&u.api_key_digest[..],
            &now,
        ],
    )
    .await
    .map_err(|e| match e {
        Error::Duplicate(_) => Error::Duplicate(crate::error::Unique::UserEmail(u.email.clone())),
        other => other,
    })?;
    get(&row, 0)
}

/// Inserts activity types in one statement; types without a code get the next free ones of their
/// range. Callers hold the tenant's row lock, so concurrent processes cannot pick the same code.
async fn insert_types<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    types: &[NewActivityType],
    now: i64,
) -> Result<Vec<i64>> {
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let mut last: HashMap<bool, i64> = HashMap::new();
    let mut codes = Vec::with_capacity(types.len());
    for t in types {
        let code = match t.event_code {
            Some(c) => c,
            None => {
                let opportunity = t.kind == TypeKind::Opportunity;
                // `last` keeps the last code given to each kind in this batch.
                let code = match last.get(&opportunity) {
                    Some(prev) => crate::domain::rules::next_event_code(t.kind, Some(*prev))?,
                    None => {
                        let codes = t.kind.event_codes();
                        let row = query_one(
                            c,
                            "SELECT max(event_code) FROM activity_types
                              WHERE tenant_id = $1 AND event_code >= $2 AND event_code <= $3",
                            &[&tenant_id, codes.start(), codes.end()],
                        )
                        .await?;
                        crate::domain::rules::next_event_code(t.kind, get(&row, 0)?)?
                    }
                };
                last.insert(opportunity, code);
                code
            }
        };
        codes.push(code);
    }
    let guids: Vec<Uuid> = types.iter().map(|t| t.guid).collect();
    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    let names_lc: Vec<String> = types.iter().map(|t| t.name.to_lowercase()).collect();
    let displays: Vec<&str> = types.iter().map(|t| t.display_name.as_str()).collect();
    let scores: Vec<i64> = types.iter().map(|t| t.score).collect();
    let descriptions: Vec<&str> = types.iter().map(|t| t.description.as_str()).collect();
    let directions: Vec<i64> = types.iter().map(|t| t.direction).collect();
    let kinds: Vec<&str> = types.iter().map(|t| t.kind.as_str()).collect();
    let emails: Vec<bool> = types.iter().map(|t| t.is_email_type).collect();
    let sl_types: Vec<&str> = types.iter().map(|t| t.salesloft_type.as_str()).collect();
    let fields: Vec<String> = types
        .iter()
        .map(|t| to_json_text(&t.fields))
        .collect::<Result<_>>()?;
    let rows = query(
        c,
        "INSERT INTO activity_types (tenant_id, guid, event_code, name, name_lc, display_name, score,
            description, direction, kind, is_email_type, salesloft_type, fields, created_at, updated_at)
         SELECT $1, v.guid, v.code, v.name, v.name_lc, v.display_name, v.score, v.description,
                v.direction, v.kind, v.is_email, v.sl_type, v.fields::jsonb, $2, $2
           FROM unnest($3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[],
                       $9::text[], $10::bigint[], $11::text[], $12::boolean[], $13::text[], $14::text[])
                WITH ORDINALITY AS v(guid, code, name, name_lc, display_name, score, description,
                                     direction, kind, is_email, sl_type, fields, ord)
          ORDER BY v.ord
         RETURNING id, guid",
        &[
            &tenant_id,
            &now,
            &guids,
            &codes,
            &names,
            &names_lc,
            &displays,
            &scores,
            &descriptions,
            &directions,
            &kinds,
            &emails,
            &sl_types,
            &fields,
        ],
    )
    .await?;
    ids_in_order(&guids, &rows)
}

/// The ids `RETURNING id, guid` gave, in the order of `guids` (PostgreSQL does not promise that
/// RETURNING follows the SELECT's order, so rows are matched by GUID).
fn ids_in_order(guids: &[Uuid], rows: &[Row]) -> Result<Vec<i64>> {
    let mut by_guid = HashMap::with_capacity(rows.len());
    for r in rows {
        by_guid.insert(get::<Uuid>(r, 1)?, get::<i64>(r, 0)?);
    }
    guids
        .iter()
        .map(|g| {
            by_guid
                .get(g)
                .copied()
                .ok_or_else(|| Error::Internal(format!("inserted row {g} not returned").into()))
        })
        .collect()
}

/// Refuses a lead write whose attribute `names` (distinct) would take the tenant past
/// `store::MAX_LEAD_FIELDS` custom lead fields (the `lead_fields` trigger then adds the new ones
/// in the same transaction). Runs after the write's `tick`, which locks the tenant's row: the
/// tenant's lead writes check and add their fields one after the other.
async fn check_lead_fields<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    names: Vec<&str>,
) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let known: Vec<String> = query(
        c,
        "SELECT name FROM lead_fields WHERE tenant_id = $1 AND name = ANY($2)",
        &[&tenant_id, &names],
    )
    .await?
    .iter()
    .map(|r| get::<String>(r, 0))
    .collect::<Result<_>>()?;
    let new: Vec<&str> = names
        .into_iter()
        .filter(|n| !known.iter().any(|k| k == n))
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let row = query_one(
        c,
        "SELECT count(*) FROM lead_fields WHERE tenant_id = $1",
        &[&tenant_id],
    )
    .await?;
    let have: i64 = get(&row, 0)?;
    crate::store::check_new_lead_fields(
        usize::try_from(have).unwrap_or(usize::MAX),
        new.len(),
        new.first().copied(),
    )
}

/// Inserts leads in one multi-row statement and returns their ids in order. Each is stamped from
/// the tenant's clock (unique updated_at: Salesloft's cursor walk); `c` must be in a transaction.
pub(super) async fn insert_leads<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    leads: &[NewLead],
) -> Result<Vec<i64>> {
    if leads.is_empty() {
        return Ok(Vec::new());
    }
    let now = tick(c, tenant_id, leads.len() as i64).await?;
    let names: std::collections::BTreeSet<&str> = leads
        .iter()
        .flat_map(|l| l.attributes.keys().map(String::as_str))
        .collect();
    check_lead_fields(c, tenant_id, names.into_iter().collect()).await?;
    let guids: Vec<Uuid> = leads.iter().map(|l| l.guid).collect();
    let firsts: Vec<Option<&str>> = leads.iter().map(|l| l.first_name.as_deref()).collect();
    let lasts: Vec<Option<&str>> = leads.iter().map(|l| l.last_name.as_deref()).collect();
    let emails: Vec<Option<&str>> = leads.iter().map(|l| l.email.as_deref()).collect();
    let emails_lc: Vec<Option<String>> = leads
        .iter()
        .map(|l| l.email.as_ref().map(|e| e.to_lowercase()))
        .collect();
    let phones: Vec<Option<&str>> = leads.iter().map(|l| l.phone.as_deref()).collect();
    let mobiles: Vec<Option<&str>> = leads.iter().map(|l| l.mobile.as_deref()).collect();
    let dncs: Vec<bool> = leads.iter().map(|l| l.do_not_call).collect();
    let dnes: Vec<bool> = leads.iter().map(|l| l.do_not_email).collect();
    let owners: Vec<i64> = leads.iter().map(|l| l.owner_id).collect();
    let attributes: Vec<String> = leads
        .iter()
        .map(|l| to_json_text(&l.attributes))
        .collect::<Result<_>>()?;
    let rows = query(
        c,
        "INSERT INTO leads (tenant_id, guid, first_name, last_name, email, email_lc, phone, mobile,
            do_not_call, do_not_email, owner_id, attributes, created_at, updated_at)
         SELECT $1, v.guid, v.first_name, v.last_name, v.email, v.email_lc, v.phone, v.mobile,
                v.dnc, v.dne, v.owner_id, v.attributes::jsonb, $2 + v.ord - 1, $2 + v.ord - 1
           FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::boolean[], $11::boolean[], $12::bigint[], $13::text[])
                WITH ORDINALITY AS v(guid, first_name, last_name, email, email_lc, phone, mobile,
                                     dnc, dne, owner_id, attributes, ord)
          ORDER BY v.ord
         RETURNING id, guid",
        &[
            &tenant_id,
            &now,
            &guids,
            &firsts,
            &lasts,
            &emails,
            &emails_lc,
            &phones,
            &mobiles,
            &dncs,
            &dnes,
            &owners,
            &attributes,
        ],
    )
    .await?;
    ids_in_order(&guids, &rows)
}

/// Advances the tenant's clock by `n` ticks and returns the first of the `n` fresh timestamps.
/// The UPDATE locks the tenant's row until the transaction ends, so writers of one tenant (in any
/// process) take their timestamps and commit one after the other.
pub(super) async fn tick<C: GenericClient>(c: &C, tenant_id: i64, n: i64) -> Result<i64> {
    let row = query_opt(c, TICK, &[&tenant_id, &n, &now_micros()]).await?;
    first_tick(row, n)
}

/// Advances tenant $1's clock by $2 ticks (to at least $3, the wall clock) and returns it.
const TICK: &str =
    "UPDATE tenants SET clock = GREATEST(clock + $2, $3) WHERE id = $1 RETURNING clock";

/// The first of the `n` timestamps `TICK` handed out, from its row.
fn first_tick(row: Option<Row>, n: i64) -> Result<i64> {
    let row = row.ok_or_else(|| Error::NotFound(crate::error::Missing::Tenant(None)))?;
    let last: i64 = get(&row, 0)?;
    Ok(last - n + 1)
}

/// The ids of activities `sql` selects, in id order.
async fn activity_ids<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<i64>> {
    query(c, sql, params)
        .await?
        .iter()
        .map(|r| get::<i64>(r, 0))
        .collect()
}

/// Gives the activities `ids` (in this order) fresh `updated_at`s from the tenant clock, and the
/// Salesloft type `sl_type` when given: what the Salesloft dialect shows of them changed, and
/// cursor clients only see what moved forward.
async fn restamp<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    ids: &[i64],
    sl_type: Option<&str>,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let first = tick(c, tenant_id, ids.len() as i64).await?;
    execute(
        c,
        "UPDATE activities a SET sl_type = coalesce($2, a.sl_type), updated_at = $3 + v.ord - 1
           FROM unnest($4::bigint[]) WITH ORDINALITY AS v(id, ord)
          WHERE a.tenant_id = $1 AND a.id = v.id",
        &[&tenant_id, &sl_type, &first, &ids],
    )
    .await?;
    Ok(())
}

/// Keeps `activities.sl_type` in step with a type whose Salesloft type changed.
async fn restamp_sl_type<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    type_id: i64,
    sl_type: &str,
) -> Result<()> {
    let ids = activity_ids(
        c,
        "SELECT id FROM activities WHERE tenant_id = $1 AND type_id = $2 AND sl_type <> $3 ORDER BY id",
        &[&tenant_id, &type_id, &sl_type],
    )
    .await?;
    restamp(c, tenant_id, &ids, Some(sl_type)).await
}

/// Restamps each activity of a lead whose lead changed (a deleted lead becomes a failed dynamic
/// resource in the Salesloft dialect).
pub(super) async fn restamp_lead_activities<C: GenericClient>(
    c: &C,
    tenant_id: i64,
    lead_id: i64,
) -> Result<()> {
    let ids = activity_ids(
        c,
        "SELECT id FROM activities WHERE tenant_id = $1 AND lead_id = $2 ORDER BY id",
        &[&tenant_id, &lead_id],
    )
    .await?;
    restamp(c, tenant_id, &ids, None).await
}

pub(super) async fn create_tenant(
    store: &PgStore,
    name: &str,
    admin: NewUser,
    types: Vec<NewActivityType>,
) -> Result<(Tenant, User)> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    let now = now_micros();
    let guid = Uuid::now_v7();
    let row = query_one(
        &tx,
        "INSERT INTO tenants (guid, name, clock, created_at) VALUES ($1, $2, 0, $3) RETURNING id",
        &[&guid, &name, &now],
    )
    .await?;
    let tenant = Tenant {
        id: get(&row, 0)?,
        guid,
        name: name.to_string(),
    };
    let user_id = insert_user(&tx, tenant.id, &admin).await?;
    insert_types(&tx, tenant.id, &types, now).await?;
    let user = query_users(&tx, "u.id = $1", &[&user_id])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("created user vanished".into()))?;
    tx.commit().await.map_err(map_err)?;
    Ok((tenant, user.user))
}

/// Locks the tenant's row for the rest of the transaction: every write that takes a code or a
/// timestamp from the tenant takes this lock first, so they queue in one order.
async fn lock_tenant<C: GenericClient>(tx: &C, tenant_id: i64) -> Result<()> {
    query_opt(
        tx,
        "SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE",
        &[&tenant_id],
    )
    .await?
    .ok_or_else(|| Error::NotFound(crate::error::Missing::Tenant(None)))?;
    Ok(())
}

pub(super) async fn create_activity_type(
    store: &PgStore,
    tenant_id: i64,
    ty: NewActivityType,
) -> Result<ActivityType> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    // The tenant's row lock makes "next free code" safe against other processes.
    lock_tenant(&tx, tenant_id).await?;
    let ids = insert_types(&tx, tenant_id, std::slice::from_ref(&ty), now_micros()).await?;
    let id = ids
        .first()
        .copied()
        .ok_or_else(|| Error::Internal("created type vanished".into()))?;
    let sql = format!("SELECT {TYPE_COLS} FROM activity_types WHERE tenant_id = $1 AND id = $2");
    let row = query_one(&tx, &sql, &[&tenant_id, &id]).await?;
    let created = type_row(&row)?;
    tx.commit().await.map_err(map_err)?;
    Ok(created)
}

pub(super) async fn update_activity_type(
    store: &PgStore,
    tenant_id: i64,
    ty: ActivityType,
) -> Result<()> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    // The tenant's row first, as every timestamping write takes it: one lock order.
    lock_tenant(&tx, tenant_id).await?;
    let n = execute(
        &tx,
        "UPDATE activity_types SET name = $3, name_lc = $4, display_name = $5, score = $6,
            description = $7, direction = $8, is_email_type = $9, salesloft_type = $10,
            fields = $11, updated_at = $12
         WHERE tenant_id = $1 AND id = $2",
        &[
            &tenant_id,
            &ty.id,
            &ty.name,
            &ty.name.to_lowercase(),
            &ty.display_name,
            &ty.score,
            &ty.description,
            &ty.direction,
            &ty.is_email_type,
            &ty.salesloft_type,
            &Json(to_json(&ty.fields)?),
            &now_micros(),
        ],
    )
    .await?;
    if n == 0 {
        return Err(Error::NotFound(crate::error::Missing::ActivityType(Some(
            ty.event_code,
        ))));
    }
    restamp_sl_type(&tx, tenant_id, ty.id, &ty.salesloft_type).await?;
    tx.commit().await.map_err(map_err)
}

/// Inserts `activities` (all or none) through the group commit (`group_commit`).
pub(super) async fn insert_activities(
    store: &PgStore,
    tenant_id: i64,
    activities: Vec<NewActivity>,
) -> Result<Vec<i64>> {
    if activities.is_empty() {
        return Ok(Vec::new());
    }
    check_targets(&activities)?;
    let inserted = store.inserts.insert(tenant_id, activities, false).await?;
    Ok(inserted.ids)
}

/// Inserts one activity on a lead and returns the lead's score as its insert left it (read in the
/// insert's transaction, so no second read is needed).
pub(super) async fn insert_activity_scored(
    store: &PgStore,
    tenant_id: i64,
    activity: NewActivity,
) -> Result<i64> {
    if activity.lead_id.is_none() {
        return Err(Error::Internal(
            "insert_activity_scored needs an activity on a lead".into(),
        ));
    }
    let inserted = store
        .inserts
        .insert(tenant_id, vec![activity], true)
        .await?;
    inserted
        .score
        .ok_or(Error::NotFound(crate::error::Missing::Lead))
}

/// Every activity is logged on a lead or an account.
fn check_targets(activities: &[NewActivity]) -> Result<()> {
    if activities
        .iter()
        .any(|a| a.lead_id.is_none() && a.account_id.is_none())
    {
        return Err(Error::InvalidInput(
            "An activity needs a lead or an account".into(),
        ));
    }
    Ok(())
}

/// Inserts `activities` in the transaction `tx` is in and adds each one's score to its lead;
/// their ids in order. A row of an unknown type fails the whole batch.
pub(super) async fn insert_activities_in<C: GenericClient>(
    tx: &C,
    tenant_id: i64,
    activities: &[NewActivity],
) -> Result<Vec<i64>> {
    let guids: Vec<Uuid> = activities.iter().map(|a| a.guid).collect();
    let type_ids: Vec<i64> = activities.iter().map(|a| a.type_id).collect();
    let lead_ids: Vec<Option<i64>> = activities.iter().map(|a| a.lead_id).collect();
    let account_ids: Vec<Option<i64>> = activities.iter().map(|a| a.account_id).collect();
    let opportunity_ids: Vec<Option<i64>> = activities.iter().map(|a| a.opportunity_id).collect();
    let owner_ids: Vec<i64> = activities.iter().map(|a| a.owner_id).collect();
    let created_by: Vec<i64> = activities.iter().map(|a| a.created_by).collect();
    let notes: Vec<&str> = activities.iter().map(|a| a.note.as_str()).collect();
    let occurred: Vec<i64> = activities.iter().map(|a| a.occurred_at).collect();
    let scores: Vec<i64> = activities.iter().map(|a| a.score).collect();
    let statuses: Vec<&str> = activities.iter().map(|a| a.status.as_str()).collect();
    let pinned: Vec<bool> = activities.iter().map(|a| a.pinned).collect();
    let fields: Vec<String> = activities
        .iter()
        .map(|a| to_json_text(&a.fields))
        .collect::<Result<_>>()?;
    let tags: Vec<String> = activities
        .iter()
        .map(|a| to_json_text(&a.tags))
        .collect::<Result<_>>()?;
    let static_data: Vec<String> = activities
        .iter()
        .map(|a| to_json_text(&a.static_data))
        .collect::<Result<_>>()?;
    let n = activities.len() as i64;
    let now = now_micros();
    let scored = activities
        .iter()
        .any(|a| a.score != 0 && a.lead_id.is_some());
    // The statements below go to the server as one flight (one round trip while the tenant's
    // row is locked, instead of one per statement). They are prepared first: a statement the
    // connection has not prepared yet costs a round trip of its own, which inside the flight
    // would let a later statement overtake an earlier one.
    let tick_stmt = tx.prepare_cached(TICK).await.map_err(map_err)?;
    let insert_stmt = tx
        .prepare_cached(INSERT_ACTIVITIES)
        .await
        .map_err(map_err)?;
    let score_stmt = match scored {
        true => Some(tx.prepare_cached(ADD_SCORES).await.map_err(map_err)?),
        false => None,
    };
    let tick_params: [&(dyn ToSql + Sync); 3] = [&tenant_id, &n, &now];
    let insert_params: [&(dyn ToSql + Sync); 17] = [
        &tenant_id,
        &n,
        &guids,
        &type_ids,
        &lead_ids,
        &opportunity_ids,
        &owner_ids,
        &created_by,
        &notes,
        &occurred,
        &scores,
        &statuses,
        &fields,
        &account_ids,
        &pinned,
        &tags,
        &static_data,
    ];
    let score_params: [&(dyn ToSql + Sync); 3] = [&tenant_id, &lead_ids, &scores];
    let add_scores = async {
        match &score_stmt {
            Some(stmt) => tx.execute(stmt, &score_params).await.map(Some),
            None => Ok(None),
        }
    };
    let (clock, rows, added) = tokio::join!(
        tx.query_opt(&tick_stmt, &tick_params),
        tx.query(&insert_stmt, &insert_params),
        add_scores,
    );
    // The first failure is the cause; the statements after it failed on the aborted transaction.
    first_tick(clock.map_err(map_err)?, n)?;
    let rows = rows.map_err(map_err)?;
    added.map_err(map_err)?;
    if rows.len() != activities.len() {
        return Err(Error::NotFound(crate::error::Missing::ActivityType(None)));
    }
    ids_in_order(&guids, &rows)
}

/// Inserts the rows of `insert_activities_in`: $1 the tenant, $2 how many rows, then one array per
/// column. It runs right after `TICK` advanced the tenant's clock by $2, in the same transaction,
/// and reads the clock back: row i gets timestamp clock - $2 + i. The join with activity_types
/// drops rows of unknown types, which the caller's count check turns into a rollback of the whole
/// batch. An opportunity record is its own Salesloft resource, so each row's id is drawn first
/// (in row order, once: the CTE is materialized) to be its `res_id` too.
const INSERT_ACTIVITIES: &str = "WITH v AS MATERIALIZED (
           SELECT nextval((SELECT pg_get_serial_sequence('activities', 'id')::regclass)) AS id, u.*
             FROM unnest($3::uuid[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
                         $8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::text[],
                         $13::text[], $14::bigint[], $15::boolean[], $16::text[], $17::text[])
                  WITH ORDINALITY AS u(guid, type_id, lead_id, opportunity_id, owner_id,
                                       created_by, note, occurred_at, score, status, fields,
                                       account_id, pinned, tags, static_data, ord))
         INSERT INTO activities (id, tenant_id, guid, type_id, event_code,
            lead_id, opportunity_id, owner_id, created_by, modified_by, note, occurred_at,
            created_at, updated_at, score, status, fields, account_id, pinned_at, tags,
            static_data, sl_type, res_kind, res_id, lead_owner_id)
         SELECT v.id, $1, v.guid, t.id, t.event_code, v.lead_id, v.opportunity_id, v.owner_id,
                v.created_by, v.created_by, v.note, v.occurred_at, k.first + v.ord - 1,
                k.first + v.ord - 1, v.score, v.status, v.fields::jsonb, v.account_id,
                CASE WHEN v.pinned THEN k.first + v.ord - 1 END, v.tags::jsonb, v.static_data::json,
                t.salesloft_type,
                CASE WHEN t.kind = 'opportunity' OR v.opportunity_id IS NOT NULL THEN 'crm_opportunity'
                     WHEN v.account_id IS NOT NULL THEN 'account' ELSE 'person' END,
                CASE WHEN t.kind = 'opportunity' THEN v.id
                     WHEN v.opportunity_id IS NOT NULL THEN v.opportunity_id
                     WHEN v.account_id IS NOT NULL THEN v.account_id ELSE v.lead_id END,
                (SELECT l.owner_id FROM leads l WHERE l.tenant_id = $1 AND l.id = v.lead_id)
           FROM v
           JOIN activity_types t ON t.tenant_id = $1 AND t.id = v.type_id
          CROSS JOIN (SELECT clock - $2::bigint + 1 AS first FROM tenants WHERE id = $1) k
          ORDER BY v.ord
         RETURNING id, guid";

/// Adds each activity's score ($3) to its lead ($2).
const ADD_SCORES: &str = "UPDATE leads l SET score = l.score + s.delta
   FROM (SELECT lead_id, sum(score)::bigint AS delta
           FROM unnest($2::bigint[], $3::bigint[]) AS v(lead_id, score)
          WHERE lead_id IS NOT NULL
          GROUP BY lead_id) s
  WHERE l.tenant_id = $1 AND l.id = s.lead_id AND s.delta <> 0";

pub(super) async fn update_activity(
    store: &PgStore,
    tenant_id: i64,
    u: ActivityUpdate,
    actor: Actor,
) -> Result<()> {
    let fields = u.fields.as_ref().map(to_json).transpose()?.map(Json);
    let tags = u.tags.as_ref().map(to_json).transpose()?.map(Json);
    let static_data = u.static_data.as_ref().map(to_json).transpose()?.map(Json);
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    let ts = tick(&tx, tenant_id, 1).await?;
    let before = trash::state(&tx, tenant_id, u.id)
        .await?
        .ok_or(Error::NotFound(crate::error::Missing::Activity(None)))?;
    let n = execute(
        &tx,
        "UPDATE activities SET note = coalesce($3, note), owner_id = coalesce($4, owner_id),
            status = coalesce($5, status), fields = coalesce($6, fields), modified_by = $7,
            updated_at = $8, occurred_at = coalesce($9, occurred_at),
            pinned_at = CASE WHEN $10::boolean IS NULL THEN pinned_at
                             WHEN $10 THEN coalesce(pinned_at, $8) END,
            tags = coalesce($11, tags), static_data = coalesce($12, static_data)
         WHERE tenant_id = $1 AND id = $2",
        &[
            &tenant_id,
            &u.id,
            &u.note,
            &u.owner_id,
            &u.status,
            &fields,
            &actor.user_id,
            &ts,
            &u.occurred_at,
            &u.pinned,
            &tags,
            &static_data,
        ],
    )
    .await?;
    if n == 0 {
        return Err(Error::NotFound(crate::error::Missing::Activity(None)));
    }
    trash::record_update(&tx, tenant_id, u.id, actor, ts, before).await?;
    outbox::activities_changed(
        &tx,
        &store.labels,
        tenant_id,
        Event::ActivityUpdated,
        &[u.id],
    )
    .await?;
    tx.commit().await.map_err(map_err)
}

pub(super) async fn delete_activity(
    store: &PgStore,
    tenant_id: i64,
    id: i64,
    actor: Actor,
) -> Result<()> {
    delete_activities(store, tenant_id, &[id], actor).await
}

/// Deletes `ids` one after another in one transaction (see `Store::delete_activities`).
pub(super) async fn delete_activities(
    store: &PgStore,
    tenant_id: i64,
    ids: &[i64],
    actor: Actor,
) -> Result<()> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    for &id in ids {
        delete_one_activity(&tx, &store.labels, tenant_id, id, actor).await?;
    }
    tx.commit().await.map_err(map_err)
}

/// Moves activity `id` to the trash, takes its score back from its lead and queues its event,
/// in the caller's transaction.
async fn delete_one_activity<C: GenericClient>(
    tx: &C,
    labels: &PgLabels,
    tenant_id: i64,
    id: i64,
    actor: Actor,
) -> Result<()> {
    let at = tick(tx, tenant_id, 1).await?;
    let row = query_one(
        tx,
        "SELECT count(*) FROM activities WHERE tenant_id = $1 AND opportunity_id = $2",
        &[&tenant_id, &id],
    )
    .await?;
    let children: i64 = get(&row, 0)?;
    if children > 0 {
        return Err(Error::InvalidInput(format!(
            "This opportunity has {children} activities logged on it; delete them first"
        )));
    }
    // Before the row goes to the trash, so the event can describe it (and with the tenant locked
    // before the row, the order every writer takes them in).
    outbox::activities_changed(tx, labels, tenant_id, Event::ActivityDeleted, &[id]).await?;
    trash::trash(tx, tenant_id, id, actor, at).await?;
    let deleted = query_opt(
        tx,
        "DELETE FROM activities WHERE tenant_id = $1 AND id = $2 RETURNING lead_id, score",
        &[&tenant_id, &id],
    )
    .await?
    .ok_or_else(|| Error::NotFound(crate::error::Missing::Activity(None)))?;
    let (lead, score): (Option<i64>, i64) = (get(&deleted, 0)?, get(&deleted, 1)?);
    if let (Some(lead), true) = (lead, score != 0) {
        execute(
            tx,
            "UPDATE leads SET score = score - $3 WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &lead, &score],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn delete_lead(store: &PgStore, tenant_id: i64, lead_id: i64) -> Result<()> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    // Lock the tenant's clock row first, as every other writer does (then the lead's row):
    // the same lock order everywhere, and no activity of the lead can be added meanwhile.
    tick(&tx, tenant_id, 0).await?;
    let n = execute(
        &tx,
        "UPDATE leads SET deleted_at = $3, updated_at = $3
          WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL",
        &[&tenant_id, &lead_id, &tick(&tx, tenant_id, 1).await?],
    )
    .await?;
    if n == 0 {
        return Err(Error::NotFound(crate::error::Missing::Lead));
    }
    restamp_lead_activities(&tx, tenant_id, lead_id).await?;
    tx.commit().await.map_err(map_err)
}

pub(super) async fn create_account(
    store: &PgStore,
    tenant_id: i64,
    account: NewAccount,
) -> Result<Account> {
    {
        let mut c = store.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // From the tenant's clock: accounts' updated_at is unique in the tenant (cursor walk).
        let now = tick(&tx, tenant_id, 1).await?;
        execute(
            &tx,
            "INSERT INTO accounts (tenant_id, guid, name, name_lc, domain, owner_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            &[
                &tenant_id,
                &account.guid,
                &account.name,
                &account.name.to_lowercase(),
                &account.domain,
                &account.owner_id,
                &now,
            ],
        )
        .await
        .map_err(|e| match e {
            Error::Duplicate(_) => Error::Duplicate(crate::error::Unique::AccountName(account.name.clone())),
            other => other,
        })?;
        tx.commit().await.map_err(map_err)?;
    }
    store
        .account_by_guid(tenant_id, account.guid)
        .await?
        .ok_or_else(|| Error::Internal("created account vanished".into()))
}

/// Applies a change to a live lead (see `Store::update_lead`).
pub(super) async fn update_lead(
    store: &PgStore,
    tenant_id: i64,
    lead_id: i64,
    patch: &LeadPatch,
) -> Result<()> {
    let mut c = store.client().await?;
    let tx = c.transaction().await.map_err(map_err)?;
    // The tenant's clock row first, then the lead's, as every other writer locks them.
    let stamp = tick(&tx, tenant_id, 1).await?;
    let sql = format!(
        "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id
          WHERE l.tenant_id = $1 AND l.id = $2 AND l.deleted_at IS NULL FOR UPDATE OF l"
    );
    let lead = query_opt(&tx, &sql, &[&tenant_id, &lead_id])
        .await?
        .map(|r| lead_row(&r))
        .transpose()?
        .ok_or(Error::NotFound(crate::error::Missing::Lead))?;
    let new = patch.apply(&lead);
    if !new.has_identity() {
        return Err(Error::Required(crate::error::Field::LeadIdentity));
    }
    check_lead_fields(
        &tx,
        tenant_id,
        new.attributes.keys().map(String::as_str).collect(),
    )
    .await?;
    execute(
        &tx,
        "UPDATE leads SET first_name = $3, last_name = $4, email = $5, email_lc = $6, phone = $7,
            mobile = $8, do_not_call = $9, do_not_email = $10, owner_id = $11,
            attributes = $12::text::jsonb, updated_at = GREATEST($13, updated_at + 1)
          WHERE tenant_id = $1 AND id = $2",
        &[
            &tenant_id,
            &lead_id,
            &new.first_name,
            &new.last_name,
            &new.email,
            &new.email.as_ref().map(|e| e.to_lowercase()),
            &new.phone,
            &new.mobile,
            &new.do_not_call,
            &new.do_not_email,
            &new.owner_id,
            &to_json_text(&new.attributes)?,
            &stamp,
        ],
    )
    .await?;
    if new.owner_id != lead.owner_id {
        restamp_lead_activities(&tx, tenant_id, lead_id).await?;
    }
    outbox::leads_changed(&tx, tenant_id, Event::LeadUpdated, &[lead_id]).await?;
    tx.commit().await.map_err(map_err)
}
