//! Use cases only the native API offers: Salesloft-style activity batches (type, resource, tags,
//! pinned, static_data), pin/tag/edit/delete, accounts, lead deletion and opportunity creation.

use uuid::Uuid;

use super::activities::TypeCache;
use super::{ActivityInput, Service};
use crate::domain::fields::{self, FieldInput};
use crate::domain::history::Api;
use crate::domain::{
    Account, ActivityQuery, ActivitySort, ActivityUpdate, ActivityView, CountMode, Micros,
    NewAccount, Page, RecordKind, ResourceKind, Role, TypeKind, User, FIRST_OPPORTUNITY_CODE,
};
use crate::error::{Error, Field, Missing, Problem, Result};

/// The most activities one native batch may carry.
pub const MAX_BATCH: usize = 100;
/// The most tags an activity may carry, and their longest length.
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_LEN: usize = 100;

/// Where a native activity is logged: a lead, an account or an opportunity, by GUID.
#[derive(Debug, Clone)]
pub struct NativeResource {
    pub kind: ResourceKind,
    pub guid: String,
}

/// One activity of a native batch, before validation.
#[derive(Debug, Clone, Default)]
pub struct NativeActivity {
    /// A Salesloft type (`call`): the tenant's system type for it.
    pub sl_type: Option<String>,
    /// Or an event code (custom types); when both are given they must agree.
    pub event_code: Option<i64>,
    pub resource: Option<NativeResource>,
    pub owner_guid: Option<String>,
    pub occurred_at: Option<Micros>,
    pub note: Option<String>,
    pub status: Option<String>,
    pub fields: Vec<FieldInput>,
    pub tags: Vec<String>,
    pub pinned: bool,
    pub static_data: serde_json::Map<String, serde_json::Value>,
}

/// A new opportunity as the native API describes it.
#[derive(Debug, Clone, Default)]
pub struct NativeOpportunity {
    pub lead_guid: String,
    /// An opportunity type's code; 12000 (the starter opportunity type) when absent.
    pub event_code: Option<i64>,
    pub note: Option<String>,
    pub status: Option<String>,
    pub occurred_at: Option<Micros>,
    pub owner_guid: Option<String>,
    pub fields: Vec<FieldInput>,
}

/// An edit of an activity; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct NativeEdit {
    pub note: Option<String>,
    pub occurred_at: Option<Micros>,
    pub owner_guid: Option<String>,
    pub status: Option<String>,
    pub fields: Vec<FieldInput>,
    pub tags: Option<Vec<String>>,
    pub pinned: Option<bool>,
    pub static_data: Option<serde_json::Map<String, serde_json::Value>>,
}

pub(crate) fn check_tags(tags: &[String]) -> Result<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(Error::InvalidValue {
            field: Field::Tags,
            problem: Problem::TooManyTags {
                max: MAX_TAGS,
                got: tags.len(),
            },
        });
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > MAX_TAG_LEN {
            return Err(Error::InvalidValue {
                field: Field::Tags,
                problem: Problem::TagLength {
                    max: MAX_TAG_LEN,
                    tag: t.to_string(),
                },
            });
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// The system fields a native body sets directly, appended as LSQ-style field inputs so that
/// one validator checks them (after `check_status` has checked `status` in native terms).
fn with_system_fields(
    mut fields: Vec<FieldInput>,
    status: Option<&str>,
    owner: Option<&str>,
) -> Vec<FieldInput> {
    if let Some(s) = status {
        fields.push(FieldInput {
            schema_name: "Status".into(),
            value: s.to_string(),
        });
    }
    if let Some(o) = owner {
        fields.push(FieldInput {
            schema_name: "Owner".into(),
            value: o.to_string(),
        });
    }
    fields
}

/// The `static_data` keys the Salesloft dialect fills from the activity itself.
pub const RESERVED_STATIC_KEYS: [&str; 5] = [
    "activity_event",
    "activity_event_name",
    "note",
    "fields",
    "status",
];

/// Natively given `static_data` may not use a key the Salesloft dialect fills from the activity
/// (it would be silently overwritten there).
pub(crate) fn check_static_data(data: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
    match data
        .keys()
        .find(|k| RESERVED_STATIC_KEYS.contains(&k.as_str()))
    {
        Some(k) => Err(Error::InvalidValue {
            field: Field::StaticDataKey(k.clone()),
            problem: Problem::Reserved {
                keys: &RESERVED_STATIC_KEYS,
            },
        }),
        None => Ok(()),
    }
}

/// `status` must be one of the statuses of the type's kind (`Active`/`Inactive`, or
/// `Open`/`Won`/`Lost` for opportunities), case-insensitively.
pub(crate) fn check_status(kind: TypeKind, status: Option<&str>) -> Result<()> {
    let Some(s) = status else { return Ok(()) };
    let allowed = fields::status_options(kind);
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(s.trim())) {
        return Ok(());
    }
    Err(Error::InvalidValue {
        field: Field::Status,
        problem: Problem::NotOneOf {
            value: s.to_string(),
            allowed,
        },
    })
}

/// Places an error where it happened (`activities[3]`), keeping its kind; a reference to a
/// record that is not there is a validation error of the body, not a 404.
fn located(place: &str, e: Error) -> Error {
    let at = |inner: Field| Field::At {
        place: place.to_string(),
        inner: Box::new(inner),
    };
    match e {
        Error::InvalidInput(m) => Error::InvalidInput(format!("{place}: {m}")),
        Error::Required(field) => Error::Required(at(field)),
        Error::Invalid { field, reason } => Error::Invalid {
            field: at(field),
            reason,
        },
        Error::InvalidValue { field, problem } => Error::InvalidValue {
            field: at(field),
            problem,
        },
        Error::NotFound(missing) => Error::InvalidValue {
            field: at(Field::Record),
            problem: Problem::Missing(missing),
        },
        Error::Forbidden(m) => Error::Forbidden(format!("{place}: {m}")),
        other => other,
    }
}

impl Service {
    /// The activity with this integer id or GUID, if the caller may see it.
    pub async fn native_activity(&self, caller: &User, id: &str) -> Result<ActivityView> {
        let not_found = || Error::NotFound(Missing::Activity(Some(id.to_string())));
        let found = match id.trim().parse::<i64>() {
            Ok(n) => self.store.activity_by_id(caller.tenant_id, n).await?,
            Err(_) => match Uuid::parse_str(id.trim()) {
                Ok(g) => self.store.activity_by_guid(caller.tenant_id, g).await?,
                Err(_) => None,
            },
        };
        found.filter(|a| a.visible_to(caller)).ok_or_else(not_found)
    }

    /// An active user of the caller's tenant by GUID, or a validation error naming `owner_guid`.
    async fn native_owner(&self, caller: &User, guid: &str) -> Result<User> {
        self.active_user_by_guid(caller, guid)
            .await?
            .ok_or_else(|| Error::InvalidValue {
                field: Field::OwnerGuid,
                problem: Problem::NotActiveUserOfTenant {
                    value: guid.to_string(),
                },
            })
    }

    /// Validates a whole batch and stores it in one transaction: all rows or none. An error names
    /// the row and, where it can, the attribute (`activities[3].owner_guid: …`).
    pub async fn create_native_activities(
        &self,
        caller: &User,
        rows: Vec<NativeActivity>,
    ) -> Result<Vec<ActivityView>> {
        if rows.is_empty() || rows.len() > MAX_BATCH {
            return Err(Error::InvalidValue {
                field: Field::Activities,
                problem: Problem::BatchSize {
                    max: MAX_BATCH,
                    got: rows.len(),
                },
            });
        }
        let types = self.store.list_activity_types(caller.tenant_id).await?;
        let mut cache = TypeCache::default();
        let mut new = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let at = |e: Error| located(&format!("activities[{i}]"), e);
            let ty = match (&row.sl_type, row.event_code) {
                (None, None) => return Err(at(Error::Required(Field::KindOrEventCode))),
                (sl, Some(code)) => {
                    let ty = types.iter().find(|t| t.event_code == code).ok_or_else(|| {
                        at(Error::InvalidValue {
                            field: Field::EventCode,
                            problem: Problem::NoSuchType { event_code: code },
                        })
                    })?;
                    if let Some(sl) = sl.as_deref().filter(|s| *s != ty.salesloft_type) {
                        return Err(at(Error::InvalidValue {
                            field: Field::EventCode,
                            problem: Problem::KindMismatch {
                                event_code: code,
                                has: ty.salesloft_type.clone(),
                                given: sl.to_string(),
                            },
                        }));
                    }
                    ty
                }
                (Some(sl), None) => types
                    .iter()
                    .find(|t| t.kind == TypeKind::System && t.salesloft_type == *sl)
                    .ok_or_else(|| {
                        at(Error::InvalidValue {
                            field: Field::ActivityKind,
                            problem: Problem::NotAnActivityKind { value: sl.clone() },
                        })
                    })?,
            };
            let code = ty.event_code;
            if ty.kind == TypeKind::Opportunity || code >= FIRST_OPPORTUNITY_CODE {
                return Err(at(Error::InvalidValue {
                    field: Field::EventCode,
                    problem: Problem::OpportunityType { event_code: code },
                }));
            }
            check_status(ty.kind, row.status.as_deref()).map_err(at)?;
            if let Some(g) = row.owner_guid.as_deref() {
                self.native_owner(caller, g).await.map_err(at)?;
            }
            let resource = row
                .resource
                .clone()
                .ok_or_else(|| at(Error::Required(Field::Resource)))?;
            let gone = |what: &'static str| {
                at(Error::InvalidValue {
                    field: Field::Resource,
                    problem: Problem::Gone {
                        what,
                        id: resource.guid.clone(),
                    },
                })
            };
            let (lead_id, account_id, opportunity_id) = match resource.kind {
                ResourceKind::Person => {
                    let lead = self
                        .find_lead(caller, &resource.guid)
                        .await?
                        .ok_or_else(|| gone("person"))?;
                    (lead.id, None, None)
                }
                ResourceKind::Account => {
                    if caller.role == Role::SalesUser {
                        return Err(at(Error::Forbidden(
                            "'resource': a Sales_User may only log activities on its own leads, not on accounts".into(),
                        )));
                    }
                    let account = match Uuid::parse_str(resource.guid.trim()) {
                        Ok(g) => self.store.account_by_guid(caller.tenant_id, g).await?,
                        Err(_) => None,
                    }
                    .ok_or_else(|| gone("account"))?;
                    (0, Some(account.id), None)
                }
                ResourceKind::Opportunity => match self.opportunity(caller, &resource.guid).await {
                    Ok(ctx) => (ctx.lead.id, None, Some(ctx.opportunity.id)),
                    Err(Error::NotFound(_)) => return Err(gone("crm_opportunity")),
                    Err(e) => return Err(e),
                },
            };
            let input = ActivityInput {
                event_code: Some(code),
                note: row.note.clone(),
                occurred_at: row.occurred_at,
                owner_email: None,
                fields: with_system_fields(
                    row.fields.clone(),
                    row.status.as_deref(),
                    row.owner_guid.as_deref(),
                ),
                skip_option_check: false,
            };
            let mut a = self
                .prepare_activity(caller, lead_id, opportunity_id, false, &input, &mut cache)
                .await
                .map_err(at)?;
            if account_id.is_some() {
                a.lead_id = None;
                a.account_id = account_id;
            }
            a.tags = check_tags(&row.tags).map_err(at)?;
            check_static_data(&row.static_data).map_err(at)?;
            a.pinned = row.pinned;
            a.static_data = row.static_data;
            new.push(a);
        }
        let ids = self.store.insert_activities(caller.tenant_id, new).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let a = self
                .store
                .activity_by_id(caller.tenant_id, id)
                .await?
                .ok_or_else(|| Error::Internal(format!("activity {id} vanished").into()))?;
            out.push(a);
        }
        Ok(out)
    }

    /// Edits an activity (note, time, owner, status, fields, tags, pin, static_data); every edit
    /// moves its `updated_at` forward.
    pub async fn edit_activity(
        &self,
        caller: &User,
        id: &str,
        edit: NativeEdit,
    ) -> Result<ActivityView> {
        self.edit_activity_via(caller, Api::Native, id, edit).await
    }

    /// `edit_activity` through `api` (the Salesloft dialect edits notes the same way).
    pub(super) async fn edit_activity_via(
        &self,
        caller: &User,
        api: Api,
        id: &str,
        edit: NativeEdit,
    ) -> Result<ActivityView> {
        let a = self.native_activity(caller, id).await?;
        let ty = self
            .store
            .activity_type_by_code(caller.tenant_id, a.event_code)
            .await?
            .ok_or_else(|| Error::Internal(format!("activity {} has no type", a.id).into()))?;
        check_status(ty.kind, edit.status.as_deref())?;
        let inputs = with_system_fields(edit.fields, edit.status.as_deref(), None);
        let valid = fields::validate(&ty, &inputs, &a.fields.to_map(), false)?;
        let owner_id = match edit.owner_guid.as_deref() {
            Some(g) => Some(self.native_owner(caller, g).await?.id),
            None => None,
        };
        let tags = edit.tags.as_deref().map(check_tags).transpose()?;
        if let Some(data) = &edit.static_data {
            check_static_data(data)?;
        }
        self.store
            .update_activity(
                caller.tenant_id,
                ActivityUpdate {
                    id: a.id,
                    note: valid.note.or(edit.note),
                    owner_id,
                    status: valid.status,
                    fields: Some(valid.custom),
                    occurred_at: edit.occurred_at,
                    pinned: edit.pinned,
                    tags,
                    static_data: edit.static_data,
                },
                caller.actor(api),
            )
            .await?;
        self.store
            .activity_by_id(caller.tenant_id, a.id)
            .await?
            .ok_or_else(|| Error::NotFound(Missing::Activity(Some(id.to_string()))))
    }

    /// Deletes an activity: it disappears from both dialects.
    pub async fn delete_activity(&self, caller: &User, id: &str) -> Result<()> {
        self.delete_activity_via(caller, Api::Native, id).await
    }

    /// `delete_activity` through `api`.
    pub(super) async fn delete_activity_via(
        &self,
        caller: &User,
        api: Api,
        id: &str,
    ) -> Result<()> {
        let a = self.native_activity(caller, id).await?;
        match self
            .store
            .delete_activity(caller.tenant_id, a.id, caller.actor(api))
            .await
        {
            // The store refuses an opportunity that still has activities: a state conflict.
            Err(Error::InvalidInput(m)) => Err(Error::Conflict(m)),
            other => other,
        }
    }

    /// Live leads, by ascending integer id after `after`; a Sales_User lists its own.
    pub async fn list_leads(
        &self,
        caller: &User,
        after: i64,
        limit: u32,
    ) -> Result<Vec<crate::domain::Lead>> {
        let owner = (caller.role == Role::SalesUser).then_some(caller.id);
        self.store
            .list_leads(caller.tenant_id, owner, after, limit)
            .await
    }

    /// Soft-deletes a lead the caller may see. Its activities stay, showing the person as a
    /// failed dynamic resource in the Salesloft dialect.
    pub async fn delete_lead(&self, caller: &User, guid: &str) -> Result<()> {
        if caller.role == Role::SalesUser {
            return Err(Error::Forbidden("A Sales_User may not delete leads".into()));
        }
        let lead = self.visible_lead(caller, guid).await?;
        self.store.delete_lead(caller.tenant_id, lead.id).await
    }

    pub async fn create_account(
        &self,
        caller: &User,
        name: &str,
        domain: Option<String>,
        owner_guid: Option<&str>,
    ) -> Result<Account> {
        if caller.role == Role::SalesUser {
            return Err(Error::Forbidden(
                "A Sales_User may not create accounts".into(),
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 255 {
            return Err(Error::InvalidValue {
                field: Field::AccountName,
                problem: Problem::Length { max: 255 },
            });
        }
        let owner_id = match owner_guid {
            Some(g) => self.native_owner(caller, g).await?.id,
            None => caller.id,
        };
        self.store
            .create_account(
                caller.tenant_id,
                NewAccount {
                    guid: Uuid::now_v7(),
                    name: name.to_string(),
                    domain: domain
                        .map(|d| d.trim().to_string())
                        .filter(|d| !d.is_empty()),
                    owner_id,
                },
            )
            .await
    }

    pub async fn list_accounts(
        &self,
        caller: &User,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Account>> {
        self.store
            .list_accounts(caller.tenant_id, after, limit)
            .await
    }

    /// Creates an opportunity on a lead the caller may see; returns it as stored. Errors name the
    /// native attribute (`lead_guid`, `event_code`, `status`, `owner_guid`, a field).
    pub async fn create_opportunity(
        &self,
        caller: &User,
        o: NativeOpportunity,
    ) -> Result<ActivityView> {
        let lead =
            self.find_lead(caller, &o.lead_guid)
                .await?
                .ok_or_else(|| Error::InvalidValue {
                    field: Field::RelatedLead,
                    problem: Problem::Gone {
                        what: "lead",
                        id: o.lead_guid.clone(),
                    },
                })?;
        let code = o.event_code.unwrap_or(FIRST_OPPORTUNITY_CODE);
        let ty = self
            .store
            .activity_type_by_code(caller.tenant_id, code)
            .await?
            .filter(|t| t.kind == TypeKind::Opportunity)
            .ok_or_else(|| Error::InvalidValue {
                field: Field::EventCode,
                problem: Problem::NotAnOpportunityType { event_code: code },
            })?;
        check_status(ty.kind, o.status.as_deref())?;
        if let Some(g) = o.owner_guid.as_deref() {
            self.native_owner(caller, g).await?;
        }
        let input = ActivityInput {
            event_code: Some(code),
            note: o.note,
            occurred_at: o.occurred_at,
            owner_email: None,
            fields: with_system_fields(o.fields, o.status.as_deref(), o.owner_guid.as_deref()),
            skip_option_check: false,
        };
        let new = self
            .prepare_activity(
                caller,
                lead.id,
                None,
                true,
                &input,
                &mut TypeCache::default(),
            )
            .await?;
        let ids = self
            .store
            .insert_activities(caller.tenant_id, vec![new])
            .await?;
        let id = ids
            .first()
            .copied()
            .ok_or_else(|| Error::Internal("no opportunity id returned".into()))?;
        self.store
            .activity_by_id(caller.tenant_id, id)
            .await?
            .ok_or_else(|| Error::Internal("created opportunity vanished".into()))
    }

    /// One page of the export: the records (activities and opportunities) the caller may see
    /// whose `updated_at` is after `after`, by ascending `updated_at`. `updated_at` is unique per
    /// tenant, so walking pages by the last one seen neither repeats nor skips a record; one
    /// edited during the walk shows up again later with its new state.
    pub async fn export_page(
        &self,
        caller: &User,
        after: Option<Micros>,
        limit: u32,
    ) -> Result<Vec<ActivityView>> {
        let q = ActivityQuery {
            records: RecordKind::Any,
            sort: ActivitySort::UpdatedAt,
            descending: false,
            updated_from: after.map(|a| a.saturating_add(1)),
            visible_to_owner: (caller.role == Role::SalesUser).then_some(caller.id),
            offset: 0,
            limit,
            count: CountMode::None,
            ..ActivityQuery::new(caller.tenant_id)
        };
        Ok(self.store.list_activities(&q).await?.rows)
    }

    /// Opportunities the caller may see, optionally of one lead, newest first.
    pub async fn list_opportunities(
        &self,
        caller: &User,
        lead_guid: Option<&str>,
        offset: u64,
        limit: u32,
    ) -> Result<Page<ActivityView>> {
        let mut q = ActivityQuery {
            records: RecordKind::Opportunities,
            offset,
            limit,
            ..ActivityQuery::new(caller.tenant_id)
        };
        if let Some(g) = lead_guid {
            q.lead_id = Some(self.visible_lead(caller, g).await?.id);
        }
        if caller.role == Role::SalesUser {
            q.visible_to_owner = Some(caller.id);
        }
        self.store.list_activities(&q).await
    }
}
