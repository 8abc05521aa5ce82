//! Row mapping and statement plumbing: column lists, `*_row` readers, errors, query wrappers.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use serde_json::value::RawValue;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, Json, ToSql};
use tokio_postgres::Row;

use crate::domain::directory::UserRecord;
use crate::domain::fields::FieldValues;
use crate::domain::{
    Account, ActivityType, ActivityView, FieldDef, Lead, LeadKey, ResourceKind, Role, TypeKind,
    User,
};
use crate::error::{Error, Fault, Result, Unique};
use crate::store::labels::ActivityRow;
use crate::store::UserCredentials;

/// A parameter list for statements whose shape is built at run time.
pub(super) type Params = Vec<Box<dyn ToSql + Sync + Send>>;

/// An error and its causes on one line (tokio-postgres puts the useful part in the source).
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}

/// Turns a PostgreSQL error into the domain's: unique violations become `Duplicate` naming the
/// field (by the constraint's name), lost connections and a server shutting down
/// become `Unavailable`.
pub(super) fn map_err(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION {
            return Error::Duplicate(match db.constraint().unwrap_or_default() {
                "leads_tenant_email" => Unique::Lead(LeadKey::Email),
                "leads_tenant_phone" => Unique::Lead(LeadKey::Phone),
                "leads_tenant_mobile" => Unique::Lead(LeadKey::Mobile),
                "activity_types_name" => Unique::TypeName,
                "activity_types_code" => Unique::TypeCode,
                _ => Unique::Other,
            });
        }
        // 08: connection exception, 53: insufficient resources (disk full, out of memory), 57:
        // operator intervention (shutdown, pg_terminate_backend); serialization failures and
        // deadlocks are transient, and so is a read-only database (a standby until failover
        // completes, or one an operator set read-only): the write may succeed on a retry.
        let class = &code.code()[..2.min(code.code().len())];
        if matches!(class, "08" | "53" | "57")
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::READ_ONLY_SQL_TRANSACTION
        {
            return Error::Unavailable(db.message().into());
        }
        return Error::Internal(format!("{}: {}", code.code(), db.message()).into());
    }
    if e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) {
        return Error::Unavailable(Fault::new("lost the database connection", e));
    }
    Error::Internal(Fault::from_source(e))
}

/// A column of `row`, failing (not panicking) when its type is not what the code expects.
pub(super) fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T> {
    row.try_get(idx)
        .map_err(|e| Error::Internal(Fault::new(format!("column {idx}"), e)))
}

/// An activity's custom field values (a `jsonb` object of strings) as their canonical text: read
/// as borrowed pairs when no key or value needs unescaping (`FieldValues::from_plain_pairs`),
/// otherwise through an owned map.
fn field_values(row: &Row, idx: usize) -> Result<FieldValues> {
    let borrowed: std::result::Result<Json<BTreeMap<&str, &RawValue>>, _> = row.try_get(idx);
    if let Some(v) = borrowed
        .ok()
        .and_then(|Json(p)| FieldValues::from_plain_pairs(&p))
    {
        return Ok(v);
    }
    Ok(FieldValues::from_map(&json::<BTreeMap<String, String>>(
        row, idx,
    )?))
}

fn json<T: serde::de::DeserializeOwned>(row: &Row, idx: usize) -> Result<T> {
    let Json(v): Json<T> = get(row, idx)?;
    Ok(v)
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(Error::internal)
}

pub(super) fn to_json_text<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(Error::internal)
}

pub(super) async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await.map_err(map_err)?;
    c.query(&stmt, params).await.map_err(map_err)
}

pub(super) async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>> {
    let stmt = c.prepare_cached(sql).await.map_err(map_err)?;
    c.query_opt(&stmt, params).await.map_err(map_err)
}

pub(super) async fn query_one<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Row> {
    let stmt = c.prepare_cached(sql).await.map_err(map_err)?;
    c.query_one(&stmt, params).await.map_err(map_err)
}

pub(super) async fn execute<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await.map_err(map_err)?;
    c.execute(&stmt, params).await.map_err(map_err)
}

pub(super) fn refs(params: &Params) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

const USER_COLS: &str =
    "u.id, u.guid, u.tenant_id, t.guid, u.email, u.first_name, u.last_name, u.role, u.active, u.secret_key_digest";

fn user_row(row: &Row) -> Result<UserCredentials> {
    let role: String = get(row, 7)?;
    Ok(UserCredentials {
        user: User {
            id: get(row, 0)?,
            guid: get(row, 1)?,
            tenant_id: get(row, 2)?,
            tenant_guid: get(row, 3)?,
            email: get(row, 4)?,
            first_name: get(row, 5)?,
            last_name: get(row, 6)?,
            role: Role::parse(&role).unwrap_or(Role::SalesUser),
            active: get(row, 8)?,
        },
        secret_key_digest: get(row, 9)?,
    })
}

/// The SELECT of `/v2/users` rows: a user with the times of its record.
pub(super) fn user_record_select() -> String {
    format!("SELECT {USER_COLS}, u.created_at, u.updated_at FROM users u JOIN tenants t ON t.id = u.tenant_id")
}

pub(super) fn user_record_row(row: &Row) -> Result<UserRecord> {
    Ok(UserRecord {
        user: user_row(row)?.user,
        created_at: get(row, 10)?,
        updated_at: get(row, 11)?,
    })
}

pub(super) async fn query_users<C: GenericClient>(
    c: &C,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<UserCredentials>> {
    let sql = format!(
        "SELECT {USER_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE {filter} ORDER BY u.id"
    );
    query(c, &sql, params).await?.iter().map(user_row).collect()
}

pub(super) const TYPE_COLS: &str = "id, guid, event_code, name, display_name, score, description, direction, kind, is_email_type, salesloft_type, fields";

pub(super) fn type_row(row: &Row) -> Result<ActivityType> {
    let kind: String = get(row, 8)?;
    Ok(ActivityType {
        id: get(row, 0)?,
        guid: get(row, 1)?,
        event_code: get(row, 2)?,
        name: get(row, 3)?,
        display_name: get(row, 4)?,
        score: get(row, 5)?,
        description: get(row, 6)?,
        direction: get(row, 7)?,
        kind: TypeKind::parse(&kind).unwrap_or(TypeKind::Custom),
        is_email_type: get(row, 9)?,
        salesloft_type: get(row, 10)?,
        fields: json::<Vec<FieldDef>>(row, 11)?,
    })
}

pub(super) const LEAD_COLS: &str = "l.id, l.guid, l.tenant_id, l.first_name, l.last_name, l.email, l.phone, l.mobile, l.do_not_call,
    l.do_not_email, l.owner_id, o.guid, o.first_name, o.last_name, l.score, l.engagement_score, l.attributes,
    l.created_at, l.updated_at";

pub(super) fn lead_row(row: &Row) -> Result<Lead> {
    let first: String = get(row, 12)?;
    let last: String = get(row, 13)?;
    Ok(Lead {
        id: get(row, 0)?,
        guid: get(row, 1)?,
        tenant_id: get(row, 2)?,
        first_name: get(row, 3)?,
        last_name: get(row, 4)?,
        email: get(row, 5)?,
        phone: get(row, 6)?,
        mobile: get(row, 7)?,
        do_not_call: get(row, 8)?,
        do_not_email: get(row, 9)?,
        owner_id: get(row, 10)?,
        owner_guid: get(row, 11)?,
        owner_name: crate::domain::join_name(&first, &last),
        score: get(row, 14)?,
        engagement_score: get(row, 15)?,
        attributes: json(row, 16)?,
        created_at: get(row, 17)?,
        updated_at: get(row, 18)?,
    })
}

pub(super) const ACCOUNT_SELECT: &str =
    "SELECT ac.id, ac.guid, ac.name, ac.domain, ac.owner_id, o.guid, ac.created_at, ac.updated_at
  FROM accounts ac JOIN users o ON o.id = ac.owner_id";

pub(super) fn account_row(row: &Row) -> Result<Account> {
    Ok(Account {
        id: get(row, 0)?,
        guid: get(row, 1)?,
        name: get(row, 2)?,
        domain: get(row, 3)?,
        owner_id: get(row, 4)?,
        owner_guid: get(row, 5)?,
        created_at: get(row, 6)?,
        updated_at: get(row, 7)?,
    })
}

/// The columns `activity_row` reads; every statement built on it binds the tenant as $1, whose
/// `types_version` (migration 0019) it reads once. Users and types are not joined:
/// `store::labels` supplies their names from memory, so PostgreSQL starts a four-table plan for
/// every page and sends no label columns (docs/benchmarks.md measures this against joining them).
/// The lead is joined: most pages are one lead's, and a second statement for it would cost a
/// round trip.
pub(super) const ACTIVITY_SELECT: &str =
    "SELECT a.id, a.guid, a.type_id, a.event_code, a.lead_id, l.owner_id,
    a.opportunity_id, a.owner_id, a.created_by, a.modified_by, a.note, a.occurred_at,
    a.created_at, a.updated_at, a.score, a.status, a.fields,
    a.account_id, ac.name, a.res_kind, a.res_id,
    r.guid, r.note, r.type_id, r.status, a.pinned_at, a.tags, a.static_data,
    l.guid, l.first_name, l.last_name, l.email, l.deleted_at,
    (SELECT tn.types_version FROM tenants tn WHERE tn.id = $1)
  FROM activities a
  LEFT JOIN leads l ON l.id = a.lead_id
  LEFT JOIN accounts ac ON ac.id = a.account_id
  LEFT JOIN activities r ON a.res_kind = 'crm_opportunity' AND r.id = a.res_id";

/// An activity as `ACTIVITY_SELECT` reads it, before `labels::label` fills in its type and its
/// users, and its tenant's `types_version`.
pub(super) fn activity_row(row: &Row) -> Result<(ActivityRow, i64)> {
    let res_kind: String = get(row, 19)?;
    let resource_kind = ResourceKind::parse(&res_kind)
        .ok_or_else(|| Error::Internal(format!("unknown resource kind '{res_kind}'").into()))?;
    let view = ActivityView {
        id: get(row, 0)?,
        guid: get(row, 1)?,
        type_id: get(row, 2)?,
        event_code: get(row, 3)?,
        // The type's attributes and the users' names are filled in by `labels::label`.
        type_name: String::new(),
        type_display_name: String::new(),
        type_kind: TypeKind::Custom,
        direction: 0,
        is_email_type: false,
        salesloft_type: String::new(),
        lead_id: get(row, 4)?,
        lead_guid: get(row, 28)?,
        lead_owner_id: get(row, 5)?,
        opportunity_id: get(row, 6)?,
        owner_id: get(row, 7)?,
        owner_guid: uuid::Uuid::nil(),
        owner_name: String::new(),
        created_by_name: String::new(),
        modified_by_name: String::new(),
        note: get(row, 10)?,
        occurred_at: get(row, 11)?,
        created_at: get(row, 12)?,
        updated_at: get(row, 13)?,
        score: get(row, 14)?,
        status: get(row, 15)?,
        fields: field_values(row, 16)?,
        lead_first_name: get(row, 29)?,
        lead_last_name: get(row, 30)?,
        lead_email: get(row, 31)?,
        lead_deleted: get::<Option<i64>>(row, 32)?.is_some(),
        account_id: get(row, 17)?,
        account_name: get(row, 18)?,
        resource_kind,
        resource_id: get(row, 20)?,
        resource_guid: get(row, 21)?,
        opportunity_name: None,
        opportunity_status: get(row, 24)?,
        pinned_at: get(row, 25)?,
        tags: json(row, 26)?,
        static_data: json(row, 27)?,
    };
    let activity = ActivityRow {
        view,
        created_by: get(row, 8)?,
        modified_by: get(row, 9)?,
        resource_note: get(row, 22)?,
        resource_type_id: get(row, 23)?,
    };
    Ok((activity, get(row, 33)?))
}
