//! An imported row checked by the API's own rules and turned into the record the store inserts.
//!
//! The rules are the service's and the domain's (`fields::validate`, `rules`, the native checks
//! of status, tags and static data, the lead value checks); what this module adds is resolving
//! references the way files name them (users by e-mail, records by GUID) from lookups the
//! caller made in bulk, so that no row costs a store round trip of its own.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::rows::{AccountRow, ActivityRow, LeadRow, TypeRow};
use crate::api::native::error::ApiError;
use crate::domain::fields::{self, FieldInput};
use crate::domain::time::{now_micros, parse_rfc3339, YEAR_RANGE};
use crate::domain::{
    rules, ActivityType, NewAccount, NewActivity, NewActivityType, NewLead, TypeKind, User,
};
use crate::error::Error;

/// A validation error as the native API words it.
pub fn reason(e: Error) -> String {
    ApiError::from(e).message().to_string()
}

/// The GUID of a row that has none: derived from the file and the line, so that importing the
/// same file again (or resuming it) names the same record and does not store it twice.
pub fn derived_guid(file_key: &str, line: u64) -> Uuid {
    let digest = Sha256::new()
        .chain_update(file_key.as_bytes())
        .chain_update(line.to_le_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A GUID property of a row, or a reason naming it.
pub fn guid(name: &str, value: Option<&str>) -> Result<Option<Uuid>, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => Uuid::parse_str(v)
            .map(Some)
            .map_err(|_| format!("'{name}' must be a GUID, not '{v}'")),
    }
}

/// The tenant's types and users, read once per import.
pub struct Directory {
    pub tenant_id: i64,
    types: HashMap<i64, Arc<ActivityType>>,
    /// By lower-cased e-mail.
    users: HashMap<String, User>,
    /// By id, for export.
    emails: HashMap<i64, String>,
}

impl Directory {
    pub fn new(tenant_id: i64, types: Vec<ActivityType>, users: Vec<User>) -> Directory {
        Directory {
            tenant_id,
            types: types
                .into_iter()
                .map(|t| (t.event_code, Arc::new(t)))
                .collect(),
            emails: users.iter().map(|u| (u.id, u.email.clone())).collect(),
            users: users
                .into_iter()
                .map(|u| (u.email.to_lowercase(), u))
                .collect(),
        }
    }

    pub fn type_by_code(&self, code: i64) -> Option<&Arc<ActivityType>> {
        self.types.get(&code)
    }

    pub fn add_type(&mut self, ty: ActivityType) {
        self.types.insert(ty.event_code, Arc::new(ty));
    }

    pub fn email_of(&self, user_id: i64) -> Option<&str> {
        self.emails.get(&user_id).map(String::as_str)
    }

    /// An active user of the tenant named by `email` in property `name`.
    fn active_user(&self, name: &str, email: Option<&str>) -> Result<i64, String> {
        let email = email
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| format!("'{name}' is required (a user's e-mail)"))?;
        match self.users.get(&email.to_lowercase()) {
            Some(u) if u.active => Ok(u.id),
            _ => Err(format!(
                "'{name}' must be the e-mail of an active user of this tenant, not '{email}'"
            )),
        }
    }

    /// Any user of the tenant (active or not) named by `email`.
    fn user(&self, name: &str, email: &str) -> Result<i64, String> {
        self.users
            .get(&email.trim().to_lowercase())
            .map(|u| u.id)
            .ok_or_else(|| {
                format!("'{name}' must be the e-mail of a user of this tenant, not '{email}'")
            })
    }
}

/// A lead as activities see it: its id and its owner (copied onto each activity for the
/// Sales_User index).
#[derive(Debug, Clone, Copy)]
pub struct LeadRef {
    pub id: i64,
    pub owner_id: i64,
}

/// An opportunity as activities logged on it see it.
#[derive(Debug, Clone, Copy)]
pub struct OpportunityRef {
    pub id: i64,
    pub lead: Option<LeadRef>,
}

/// The records a batch of rows names, looked up in one go in the batch's transaction.
#[derive(Debug, Default)]
pub struct Resolved {
    pub leads: HashMap<Uuid, LeadRef>,
    pub accounts: HashMap<Uuid, i64>,
    pub opportunities: HashMap<Uuid, OpportunityRef>,
}

/// The GUIDs a batch of activity rows names (unparseable ones are left for the row's check).
#[derive(Debug, Default)]
pub struct Wanted {
    pub leads: Vec<Uuid>,
    pub accounts: Vec<Uuid>,
    pub opportunities: Vec<Uuid>,
}

impl Wanted {
    pub fn add(&mut self, row: &ActivityRow) {
        let parse = |v: &Option<String>| v.as_deref().and_then(|s| Uuid::parse_str(s.trim()).ok());
        self.leads.extend(parse(&row.lead));
        self.accounts.extend(parse(&row.account));
        self.opportunities.extend(parse(&row.opportunity));
    }

    pub fn dedup(&mut self) {
        for v in [&mut self.leads, &mut self.accounts, &mut self.opportunities] {
            v.sort_unstable();
            v.dedup();
        }
    }
}

/// An activity ready to insert, with what the store copies onto the row from its type, lead and
/// resource.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub new: NewActivity,
    pub event_code: i64,
    pub sl_type: String,
    pub res_kind: &'static str,
    /// `None`: the row is its own resource (an opportunity).
    pub res_id: Option<i64>,
    pub lead_owner_id: Option<i64>,
}

/// Custom field values of a row as the validator takes them; the system fields have properties
/// of their own, as in the native API.
fn field_inputs(
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<FieldInput>, String> {
    fields
        .iter()
        .map(|(k, v)| {
            if ["Status", "Owner", "ActivityEvent_Note"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(k.trim()))
            {
                return Err(format!(
                    "'fields.{k}' is not a custom field: use the 'status', 'owner' or 'note' property"
                ));
            }
            let value = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => String::new(),
                _ => {
                    return Err(format!(
                        "'fields.{k}' must be a string, number, boolean or null"
                    ))
                }
            };
            Ok(FieldInput {
                schema_name: k.clone(),
                value,
            })
        })
        .collect()
}

/// Checks an activity row and builds its record. `guid` is the row's own or derived GUID.
pub fn activity(
    row: &ActivityRow,
    guid: Uuid,
    dir: &Directory,
    refs: &Resolved,
) -> Result<Prepared, String> {
    let code = row
        .event_code
        .ok_or_else(|| "'event_code' is required".to_string())?;
    let ty = dir
        .type_by_code(code)
        .ok_or_else(|| format!("'event_code': this tenant has no activity type {code}"))?;
    let lead = guid_ref("lead", &row.lead)?;
    let account = guid_ref("account", &row.account)?;
    let opportunity = guid_ref("opportunity", &row.opportunity)?;
    let lead_ref = match lead {
        Some(g) => Some(
            *refs
                .leads
                .get(&g)
                .ok_or_else(|| format!("'lead': this tenant has no lead {g}"))?,
        ),
        None => None,
    };
    let is_opportunity = ty.kind == TypeKind::Opportunity;
    // Where the activity is logged, as the native API and the opportunity calls allow it.
    let (lead_ref, account_id, opportunity_id, res_kind, res_id) = if is_opportunity {
        if account.is_some() || opportunity.is_some() {
            return Err(format!(
                "an opportunity (type {code}) is logged on a lead only: 'account' and 'opportunity' must be empty"
            ));
        }
        let l = lead_ref
            .ok_or_else(|| format!("'lead' is required for an opportunity (type {code})"))?;
        (Some(l), None, None, "crm_opportunity", None)
    } else if let Some(g) = opportunity {
        if account.is_some() {
            return Err("'account' and 'opportunity' cannot both be given".into());
        }
        let o = refs
            .opportunities
            .get(&g)
            .ok_or_else(|| format!("'opportunity': this tenant has no opportunity {g}"))?;
        if let (Some(given), Some(its)) = (lead_ref, o.lead) {
            if given.id != its.id {
                return Err(format!(
                    "'lead' must be the lead of opportunity {g}, or empty"
                ));
            }
        }
        (o.lead, None, Some(o.id), "crm_opportunity", Some(o.id))
    } else if let Some(g) = account {
        if lead_ref.is_some() {
            return Err("'lead' and 'account' cannot both be given".into());
        }
        let a = *refs
            .accounts
            .get(&g)
            .ok_or_else(|| format!("'account': this tenant has no account {g}"))?;
        (None, Some(a), None, "account", Some(a))
    } else {
        let l = lead_ref
            .ok_or_else(|| "one of 'lead', 'account' or 'opportunity' is required".to_string())?;
        (Some(l), None, None, "person", Some(l.id))
    };
    let owner_id = dir.active_user("owner", row.owner.as_deref())?;
    let created_by = match row.created_by.as_deref().filter(|e| !e.trim().is_empty()) {
        Some(e) => dir.user("created_by", e)?,
        None => owner_id,
    };
    let occurred_at = match row.occurred_at.as_deref() {
        None => now_micros(),
        Some(s) => parse_rfc3339(s).ok_or_else(|| {
            format!("'occurred_at' must be an ISO-8601 timestamp with {YEAR_RANGE}, not '{s}'")
        })?,
    };
    crate::service::check_status(ty.kind, row.status.as_deref()).map_err(reason)?;
    let mut inputs = match &row.fields {
        Some(f) => field_inputs(f)?,
        None => Vec::new(),
    };
    if let Some(s) = &row.status {
        inputs.push(FieldInput {
            schema_name: "Status".into(),
            value: s.clone(),
        });
    }
    let valid = fields::validate(ty, &inputs, &BTreeMap::new(), false).map_err(reason)?;
    let tags =
        crate::service::check_tags(row.tags.as_deref().unwrap_or_default()).map_err(reason)?;
    let static_data = row.static_data.clone().unwrap_or_default();
    crate::service::check_static_data(&static_data).map_err(reason)?;
    Ok(Prepared {
        new: NewActivity {
            guid,
            type_id: ty.id,
            lead_id: lead_ref.map(|l| l.id),
            account_id,
            opportunity_id,
            owner_id,
            created_by,
            note: row.note.clone().unwrap_or_default(),
            occurred_at,
            score: row.score.unwrap_or(ty.score),
            status: valid
                .status
                .unwrap_or_else(|| fields::status_options(ty.kind)[0].to_string()),
            fields: valid.custom,
            pinned: row.pinned.unwrap_or(false),
            tags,
            static_data,
        },
        event_code: ty.event_code,
        sl_type: ty.salesloft_type.clone(),
        res_kind,
        res_id,
        lead_owner_id: lead_ref.map(|l| l.owner_id),
    })
}

fn guid_ref(name: &str, value: &Option<String>) -> Result<Option<Uuid>, String> {
    guid(name, value.as_deref())
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Checks a lead row as `Lead.Create` and the native API do; the lead and whether it is deleted.
pub fn lead(row: &LeadRow, guid: Uuid, dir: &Directory) -> Result<(NewLead, bool), String> {
    let mut attributes = BTreeMap::new();
    for (k, v) in row.attributes.iter().flatten() {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => {
                return Err(format!(
                    "'attributes.{k}' must be a string, number or boolean"
                ))
            }
        };
        attributes.insert(k.clone(), v);
    }
    let lead = NewLead {
        guid,
        first_name: text(&row.first_name),
        last_name: text(&row.last_name),
        email: text(&row.email),
        phone: text(&row.phone),
        mobile: text(&row.mobile),
        do_not_call: row.do_not_call.unwrap_or(false),
        do_not_email: row.do_not_email.unwrap_or(false),
        owner_id: dir.active_user("owner", row.owner.as_deref())?,
        attributes,
    };
    if !lead.has_identity() {
        return Err(reason(Error::Required(crate::error::Field::LeadIdentity)));
    }
    crate::service::check_lead_values(&lead).map_err(reason)?;
    Ok((lead, row.deleted.unwrap_or(false)))
}

/// Checks an account row as the native API does.
pub fn account(row: &AccountRow, guid: Uuid, dir: &Directory) -> Result<NewAccount, String> {
    let name = row.name.as_deref().unwrap_or_default().trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err("'name' must be 1 to 255 characters long".into());
    }
    Ok(NewAccount {
        guid,
        name: name.to_string(),
        domain: text(&row.domain),
        owner_id: dir.active_user("owner", row.owner.as_deref())?,
    })
}

/// Checks a type row by the rules of a new type (`rules::check_new_type`). System types are
/// the starter types every tenant has; a row of one is only compared, never created.
pub fn activity_type(row: &TypeRow) -> Result<NewActivityType, String> {
    let kind_text = row.kind.as_deref().unwrap_or("custom");
    let kind = TypeKind::parse(kind_text).ok_or_else(|| {
        format!("'kind' must be system, custom or opportunity, not '{kind_text}'")
    })?;
    let name = row.name.as_deref().unwrap_or_default().trim().to_string();
    let ty = NewActivityType {
        guid: Uuid::now_v7(),
        event_code: row.event_code,
        display_name: row
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .unwrap_or(&name)
            .to_string(),
        name,
        score: row.score.unwrap_or(0),
        description: row.description.clone().unwrap_or_default(),
        direction: row.direction.unwrap_or(0),
        kind,
        is_email_type: row.is_email_type.unwrap_or(false),
        salesloft_type: row.salesloft_type.clone().unwrap_or_else(|| "note".into()),
        fields: row.fields.clone().unwrap_or_default(),
    };
    if kind == TypeKind::System {
        rules::check_type_name(&ty.name).map_err(reason)?;
        return Ok(ty);
    }
    rules::check_new_type(&ty).map_err(reason)?;
    Ok(ty)
}

/// Whether a stored type has the definition a row gives (the GUID and id aside).
pub fn same_type(stored: &ActivityType, row: &NewActivityType) -> bool {
    stored.name == row.name
        && stored.display_name == row.display_name
        && stored.score == row.score
        && stored.description == row.description
        && stored.direction == row.direction
        && stored.kind == row.kind
        && stored.is_email_type == row.is_email_type
        && stored.salesloft_type == row.salesloft_type
        && stored.fields == row.fields
}

/// A type as an export row.
pub fn type_row(t: &ActivityType) -> TypeRow {
    TypeRow {
        event_code: Some(t.event_code),
        name: Some(t.name.clone()),
        display_name: Some(t.display_name.clone()),
        score: Some(t.score),
        description: Some(t.description.clone()),
        direction: Some(t.direction),
        kind: Some(t.kind.as_str().to_string()),
        is_email_type: Some(t.is_email_type),
        salesloft_type: Some(t.salesloft_type.clone()),
        fields: Some(t.fields.clone()),
    }
}
