//! Change history and the trash: who changed an activity through which API, the values before
//! and after, and the queries that read them back.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::Micros;

/// The API a change came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Native,
    LeadSquared,
    Salesloft,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Native => "native",
            Api::LeadSquared => "leadsquared",
            Api::Salesloft => "salesloft",
        }
    }
}

/// Who makes a change and through which API: every write that records history takes one, so the
/// store can write the change record in the change's own transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub api: Api,
}

/// What happened to the activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    Updated,
    Deleted,
    Restored,
}

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Updated => "updated",
            ChangeAction::Deleted => "deleted",
            ChangeAction::Restored => "restored",
        }
    }
}

/// The tracked values of an activity as one JSON object: `note`, `owner_guid`, `status`,
/// `occurred_at` (RFC 3339), `pinned`, `tags`, `static_data`, and `fields` (the custom values).
/// `fields`, `tags` and `static_data` are the stored JSON texts.
#[allow(clippy::too_many_arguments)]
pub fn tracked_values(
    note: String,
    owner_guid: String,
    status: String,
    fields: &str,
    occurred_at: Micros,
    pinned: bool,
    tags: &str,
    static_data: &str,
) -> Result<Map<String, Value>, serde_json::Error> {
    let mut m = Map::new();
    m.insert("note".into(), Value::String(note));
    m.insert("owner_guid".into(), Value::String(owner_guid));
    m.insert("status".into(), Value::String(status));
    m.insert(
        "occurred_at".into(),
        Value::String(super::time::format_rfc3339_micros(occurred_at)),
    );
    m.insert("pinned".into(), Value::Bool(pinned));
    m.insert("tags".into(), serde_json::from_str(tags)?);
    m.insert("static_data".into(), serde_json::from_str(static_data)?);
    m.insert("fields".into(), serde_json::from_str(fields)?);
    Ok(m)
}

/// The values that differ between two `tracked_values`, as (before, after). Custom fields are
/// compared one by one: `fields` holds only the changed ones, a missing one as `null`.
pub fn diff(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> (Map<String, Value>, Map<String, Value>) {
    let (mut b, mut a) = (Map::new(), Map::new());
    for (k, new) in after {
        let old = before.get(k).unwrap_or(&Value::Null);
        if old == new {
            continue;
        }
        if let (Value::Object(old_f), Value::Object(new_f)) = (old, new) {
            let (fb, fa) = diff(old_f, new_f);
            // Fields only in `before` were removed.
            let mut fb = fb;
            let mut fa = fa;
            for (fk, fv) in old_f {
                if !new_f.contains_key(fk) {
                    fb.insert(fk.clone(), fv.clone());
                    fa.insert(fk.clone(), Value::Null);
                }
            }
            if !fa.is_empty() {
                b.insert(k.clone(), Value::Object(fb));
                a.insert(k.clone(), Value::Object(fa));
            }
            continue;
        }
        b.insert(k.clone(), old.clone());
        a.insert(k.clone(), new.clone());
    }
    (b, a)
}

/// A change record as the store writes it.
#[derive(Debug, Clone)]
pub struct NewChange {
    pub activity_id: i64,
    pub activity_guid: Uuid,
    pub event_code: i64,
    pub lead_id: Option<i64>,
    pub action: ChangeAction,
    pub before: Option<Map<String, Value>>,
    pub after: Option<Map<String, Value>>,
}

/// A change record as read back.
#[derive(Debug, Clone)]
pub struct ActivityChange {
    pub id: i64,
    pub activity_id: i64,
    pub activity_guid: Uuid,
    pub event_code: i64,
    pub lead_guid: Option<Uuid>,
    pub changed_at: Micros,
    pub user_guid: Option<Uuid>,
    pub user_name: String,
    pub api: String,
    pub action: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Which change records to read: one activity's (by `after_id` cursor), or a tenant's in a
/// time range (by offset), oldest first.
#[derive(Debug, Clone)]
pub struct ChangeQuery {
    pub tenant_id: i64,
    pub activity_id: Option<i64>,
    pub event_codes: Vec<i64>,
    pub changed_from: Option<Micros>,
    pub changed_to: Option<Micros>,
    /// A Sales_User sees the changes of its own leads' activities only.
    pub owner_only: Option<i64>,
    pub after_id: i64,
    pub offset: u64,
    pub limit: u32,
    /// Count the matching records (LeadSquared's `RecordCount`).
    pub count: bool,
}

/// A deleted activity in the trash.
#[derive(Debug, Clone)]
pub struct TrashedActivity {
    pub id: i64,
    pub guid: Uuid,
    /// The current owner of its lead (`None` for an account's activity or a purged lead).
    pub lead_owner_id: Option<i64>,
    pub deleted_at: Micros,
}

impl TrashedActivity {
    /// The rule of `ActivityView::visible_to`.
    pub fn visible_to(&self, user: &super::User) -> bool {
        match self.lead_owner_id {
            Some(owner) => user.can_see_lead_of(owner),
            None => user.role != super::Role::SalesUser,
        }
    }
}

/// What the background task purges in one call, each at most `batch` rows.
#[derive(Debug, Clone, Copy)]
pub struct PurgeBefore {
    /// Trashed activities deleted before this.
    pub activities: Option<Micros>,
    /// Soft-deleted leads deleted before this (with all their activities).
    pub leads: Option<Micros>,
    /// Change records written before this.
    pub history: Option<Micros>,
    pub batch: u32,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn diff_keeps_only_changed_values() {
        let b = json!({"note": "a", "status": "Active", "fields": {"x": "1", "y": "2"}});
        let a = json!({"note": "b", "status": "Active", "fields": {"x": "1", "z": "3"}});
        let (b, a) = super::diff(b.as_object().unwrap(), a.as_object().unwrap());
        assert_eq!(
            json!(b),
            json!({"note": "a", "fields": {"z": null, "y": "2"}})
        );
        assert_eq!(
            json!(a),
            json!({"note": "b", "fields": {"z": "3", "y": null}})
        );
    }
}

/// An activity named by its integer id or its GUID.
#[derive(Debug, Clone, Copy)]
pub enum ActivityRef {
    Id(i64),
    Guid(Uuid),
}
