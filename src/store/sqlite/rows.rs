//! Mapping SQLite rows and errors to the domain: column lists, row readers, column helpers.

use rusqlite::{Connection, OptionalExtension, Row};
use uuid::Uuid;

use crate::domain::directory::UserRecord;
use crate::domain::{
    Account, ActivityType, ActivityView, FieldDef, Lead, LeadKey, ResourceKind, Role, TypeKind,
    User,
};
use crate::error::{Error, Fault, Result, Unique};
use crate::store::labels::ActivityRow;
use crate::store::UserCredentials;

/// Turns a SQLite error into the domain's: unique violations become `Duplicate` naming the field,
/// a busy or locked database, a full disk, a read-only file or an I/O error `Unavailable` (the
/// last three are also noted for the writer: see `writer::SPACE_ERROR`).
pub(super) fn map_err(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, Some(msg)) = &e {
        match f.code {
            rusqlite::ErrorCode::ConstraintViolation if msg.contains("UNIQUE") => {
                // SQLite names the columns: "UNIQUE constraint failed: leads.tenant_id, leads.email_lc".
                let unique = if msg.contains("leads.email_lc") {
                    Unique::Lead(LeadKey::Email)
                } else if msg.contains("leads.mobile") {
                    Unique::Lead(LeadKey::Mobile)
                } else if msg.contains("leads.phone") {
                    Unique::Lead(LeadKey::Phone)
                } else if msg.contains("activity_types.name_lc") {
                    Unique::TypeName
                } else if msg.contains("activity_types.event_code") {
                    Unique::TypeCode
                } else {
                    Unique::Other
                };
                return Error::Duplicate(unique);
            }
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                return Error::Unavailable(Fault::from_source(e))
            }
            rusqlite::ErrorCode::DiskFull
            | rusqlite::ErrorCode::SystemIoFailure
            | rusqlite::ErrorCode::ReadOnly => {
                super::writer::SPACE_ERROR.with(|s| s.set(true));
                return Error::Unavailable(Fault::from_source(e));
            }
            _ => {}
        }
    }
    Error::Internal(Fault::from_source(e))
}

pub(super) trait SqlResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> SqlResult<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(map_err)
    }
}

/// A GUID column, parsed from the text in place (no String per value: three per activity row).
pub(super) fn uuid_col(row: &Row, idx: usize) -> rusqlite::Result<Uuid> {
    let text = row.get_ref(idx)?.as_bytes()?;
    Uuid::try_parse_ascii(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A JSON column, parsed from the text in place (no String per value).
fn json_col<T: serde::de::DeserializeOwned>(row: &Row, idx: usize) -> rusqlite::Result<T> {
    serde_json::from_slice(row.get_ref(idx)?.as_bytes()?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A JSON list-of-strings column; the empty list most rows hold is recognised without a parser
/// (with the next one, profiled at 3 % of a Retrieve).
fn list_col(row: &Row, idx: usize) -> rusqlite::Result<Vec<String>> {
    match row.get_ref(idx)?.as_bytes()? {
        b"[]" => Ok(Vec::new()),
        _ => json_col(row, idx),
    }
}

/// A JSON object column; the empty object most rows hold is recognised without a parser.
fn object_col(
    row: &Row,
    idx: usize,
) -> rusqlite::Result<serde_json::Map<String, serde_json::Value>> {
    match row.get_ref(idx)?.as_bytes()? {
        b"{}" => Ok(serde_json::Map::new()),
        _ => json_col(row, idx),
    }
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(Error::internal)
}

const USER_COLS: &str =
    "u.id, u.guid, u.tenant_id, t.guid, u.email, u.first_name, u.last_name, u.role, u.active, u.secret_key_digest";

fn user_row(row: &Row) -> rusqlite::Result<UserCredentials> {
    let role: String = row.get(7)?;
    Ok(UserCredentials {
        user: User {
            id: row.get(0)?,
            guid: uuid_col(row, 1)?,
            tenant_id: row.get(2)?,
            tenant_guid: uuid_col(row, 3)?,
            email: row.get(4)?,
            first_name: row.get(5)?,
            last_name: row.get(6)?,
            role: Role::parse(&role).unwrap_or(Role::SalesUser),
            active: row.get(8)?,
        },
        secret_key_digest: row.get(9)?,
    })
}

/// The SELECT of `/v2/users` rows: a user with the times of its record.
pub(super) fn user_record_select() -> String {
    format!("SELECT {USER_COLS}, u.created_at, u.updated_at FROM users u JOIN tenants t ON t.id = u.tenant_id")
}

pub(super) fn user_record_row(row: &Row) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        user: user_row(row)?.user,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

pub(super) fn query_users(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<UserCredentials>> {
    let sql = format!("SELECT {USER_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE {filter} ORDER BY u.id");
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let rows = stmt.query_map(params, user_row).db()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().db()
}

pub(super) const TYPE_COLS: &str = "id, guid, event_code, name, display_name, score, description, direction, kind, is_email_type, salesloft_type, fields";

pub(super) fn type_row(row: &Row) -> rusqlite::Result<ActivityType> {
    let kind: String = row.get(8)?;
    Ok(ActivityType {
        id: row.get(0)?,
        guid: uuid_col(row, 1)?,
        event_code: row.get(2)?,
        name: row.get(3)?,
        display_name: row.get(4)?,
        score: row.get(5)?,
        description: row.get(6)?,
        direction: row.get(7)?,
        kind: TypeKind::parse(&kind).unwrap_or(TypeKind::Custom),
        is_email_type: row.get(9)?,
        salesloft_type: row.get(10)?,
        fields: json_col::<Vec<FieldDef>>(row, 11)?,
    })
}

/// The activity type with this id, read with `c` (for the type directory).
pub(super) fn type_by_id(c: &Connection, id: i64) -> Result<Option<ActivityType>> {
    c.prepare_cached(&format!(
        "SELECT {TYPE_COLS} FROM activity_types WHERE id = ?1"
    ))
    .db()?
    .query_row([id], type_row)
    .optional()
    .db()
}

pub(super) const LEAD_COLS: &str = "l.id, l.guid, l.tenant_id, l.first_name, l.last_name, l.email, l.phone, l.mobile, l.do_not_call,
    l.do_not_email, l.owner_id, o.guid, o.first_name, o.last_name, l.score, l.engagement_score, l.attributes,
    l.created_at, l.updated_at";

pub(super) fn lead_row(row: &Row) -> rusqlite::Result<Lead> {
    let first: String = row.get(12)?;
    let last: String = row.get(13)?;
    Ok(Lead {
        id: row.get(0)?,
        guid: uuid_col(row, 1)?,
        tenant_id: row.get(2)?,
        first_name: row.get(3)?,
        last_name: row.get(4)?,
        email: row.get(5)?,
        phone: row.get(6)?,
        mobile: row.get(7)?,
        do_not_call: row.get(8)?,
        do_not_email: row.get(9)?,
        owner_id: row.get(10)?,
        owner_guid: uuid_col(row, 11)?,
        owner_name: crate::domain::join_name(&first, &last),
        score: row.get(14)?,
        engagement_score: row.get(15)?,
        attributes: json_col(row, 16)?,
        created_at: row.get(17)?,
        updated_at: row.get(18)?,
    })
}

pub(super) const ACCOUNT_SELECT: &str =
    "SELECT ac.id, ac.guid, ac.name, ac.domain, ac.owner_id, o.guid, ac.created_at, ac.updated_at
  FROM accounts ac JOIN users o ON o.id = ac.owner_id";

pub(super) fn account_row(row: &Row) -> rusqlite::Result<Account> {
    Ok(Account {
        id: row.get(0)?,
        guid: uuid_col(row, 1)?,
        name: row.get(2)?,
        domain: row.get(3)?,
        owner_id: row.get(4)?,
        owner_guid: uuid_col(row, 5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

/// The columns `activity_row` reads. The activity's type and its opportunity's type are not
/// joined: `Labels` supplies their names from memory (docs/benchmarks.md has what each join cost).
/// Nor is the lead: `Labels` reads each distinct lead of a page once, where a join read it again
/// for every row, though most pages are one lead's. Its owner is the row's own copy
/// (`lead_owner_id`, kept by triggers), which the lead-owner filters and sorts already use.
pub(super) const ACTIVITY_SELECT: &str =
    "SELECT a.id, a.guid, a.type_id, a.event_code, a.lead_id, a.lead_owner_id,
    a.opportunity_id, a.owner_id, a.created_by, a.modified_by, a.note, a.occurred_at,
    a.created_at, a.updated_at, a.score, a.status, a.fields,
    a.account_id, ac.name, a.res_kind, a.res_id,
    r.guid, r.note, r.type_id, r.status, a.pinned_at, a.tags, a.static_data
  FROM activities a
  LEFT JOIN accounts ac ON ac.id = a.account_id
  LEFT JOIN activities r ON a.res_kind = 'crm_opportunity' AND r.id = a.res_id";

fn opt_uuid_col(row: &Row, idx: usize) -> rusqlite::Result<Option<Uuid>> {
    match row.get_ref(idx)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => uuid_col(row, idx).map(Some),
    }
}

pub(super) fn activity_row(row: &Row) -> rusqlite::Result<ActivityRow> {
    let resource_kind = {
        let text = row.get_ref(19)?.as_str()?;
        ResourceKind::parse(text).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                19,
                rusqlite::types::Type::Text,
                format!("unknown resource kind '{text}'").into(),
            )
        })?
    };
    let view = ActivityView {
        id: row.get(0)?,
        guid: uuid_col(row, 1)?,
        type_id: row.get(2)?,
        event_code: row.get(3)?,
        // The type's attributes, the users' names and the lead's are filled in by
        // `labels::label`.
        type_name: String::new(),
        type_display_name: String::new(),
        type_kind: TypeKind::Custom,
        direction: 0,
        is_email_type: false,
        salesloft_type: String::new(),
        lead_id: row.get(4)?,
        lead_guid: None,
        lead_owner_id: row.get(5)?,
        opportunity_id: row.get(6)?,
        owner_id: row.get(7)?,
        owner_guid: Uuid::nil(),
        owner_name: String::new(),
        created_by_name: String::new(),
        modified_by_name: String::new(),
        note: row.get(10)?,
        occurred_at: row.get(11)?,
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
        score: row.get(14)?,
        status: row.get(15)?,
        // Not parsed again: the database holds nothing but JSON objects here (migration 0007).
        fields: crate::domain::fields::FieldValues::from_stored_object(row.get(16)?),
        lead_first_name: None,
        lead_last_name: None,
        lead_email: None,
        lead_deleted: false,
        account_id: row.get(17)?,
        account_name: row.get(18)?,
        resource_kind,
        resource_id: row.get(20)?,
        resource_guid: opt_uuid_col(row, 21)?,
        opportunity_name: None,
        opportunity_status: row.get(24)?,
        pinned_at: row.get(25)?,
        tags: list_col(row, 26)?,
        static_data: object_col(row, 27)?,
    };
    Ok(ActivityRow {
        view,
        created_by: row.get(8)?,
        modified_by: row.get(9)?,
        resource_note: row.get(22)?,
        resource_type_id: row.get(23)?,
    })
}
