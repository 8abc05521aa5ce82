//! Use cases for activities: posting one or a batch, listing a lead's, reading and editing one.

use crate::domain::history::Api;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use super::Service;
use crate::domain::fields::{self, FieldInput};
use crate::domain::{
    time::now_micros, ActivityQuery, ActivitySort, ActivityType, ActivityUpdate, ActivityView,
    Lead, Micros, NewActivity, Page, RecordKind, TypeKind, User,
};
use crate::error::{Error, Field, Missing, Problem, Result};

/// An activity as a client describes it, before validation against its type.
#[derive(Debug, Clone, Default)]
pub struct ActivityInput {
    pub event_code: Option<i64>,
    pub note: Option<String>,
    pub occurred_at: Option<Micros>,
    /// Who owns the activity; `None` means the caller (unless a Fields `Owner` says otherwise).
    pub owner_email: Option<String>,
    pub fields: Vec<FieldInput>,
    /// LeadSquared's `ValidateDropDownOptions: true`: skip the option-set check.
    pub skip_option_check: bool,
}

/// The outcome of one row of a bulk call, in request order.
#[derive(Debug, Clone)]
pub struct BulkRowResult {
    pub guid: Option<Uuid>,
    pub error: Option<String>,
}

/// The rows of a bulk call as they are validated: each row's outcome in request order, and the
/// records of the valid ones, to be stored together.
#[derive(Default)]
pub(super) struct BulkRows {
    results: Vec<BulkRowResult>,
    valid: Vec<NewActivity>,
}

impl BulkRows {
    /// Records one row's outcome. A validation error is that row's answer; a store failure
    /// (`Internal`, `Unavailable`) is returned to fail the whole call.
    pub(super) fn push(&mut self, outcome: Result<NewActivity>) -> Result<()> {
        match outcome {
            Ok(new) => {
                self.results.push(BulkRowResult {
                    guid: Some(new.guid),
                    error: None,
                });
                self.valid.push(new);
            }
            Err(e @ (Error::Internal(_) | Error::Unavailable(_))) => return Err(e),
            Err(e) => self.results.push(BulkRowResult {
                guid: None,
                error: Some(e.to_string()),
            }),
        }
        Ok(())
    }
}

/// Filters, order and window for listing one lead's activities.
#[derive(Debug, Clone)]
pub struct LeadActivityFilter {
    pub event_code: Option<i64>,
    pub occurred_from: Option<Micros>,
    pub occurred_to: Option<Micros>,
    pub sort: ActivitySort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
}

/// The most activities one `DeleteActivities` call deletes.
pub const MAX_DELETE: u32 = 1000;

/// An edit of an activity's note and fields.
#[derive(Debug, Clone, Default)]
pub struct ActivityPatch {
    /// When given, must be the activity's own event code (LeadSquared sends it as a check).
    pub event_code: Option<i64>,
    pub note: Option<String>,
    pub fields: Vec<FieldInput>,
    pub skip_option_check: bool,
}

/// Activity types looked up once per call (a bulk call names the same codes again and again).
#[derive(Default)]
pub(super) struct TypeCache(HashMap<i64, Option<Arc<ActivityType>>>);

impl Service {
    pub(super) async fn cached_type<'c>(
        &self,
        caller: &User,
        cache: &'c mut TypeCache,
        code: i64,
    ) -> Result<&'c Option<Arc<ActivityType>>> {
        let ty = match cache.0.entry(code) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(
                self.store
                    .activity_type_by_code(caller.tenant_id, code)
                    .await?,
            ),
        };
        Ok(ty)
    }

    /// Resolves who owns an activity: the Fields `Owner` GUID, else `owner_email`, else the caller.
    async fn resolve_owner(
        &self,
        caller: &User,
        owner_guid: Option<&str>,
        owner_email: Option<&str>,
    ) -> Result<i64> {
        if let Some(g) = owner_guid {
            return match self.active_user_by_guid(caller, g).await? {
                Some(u) => Ok(u.id),
                None => Err(Error::InvalidValue {
                    field: Field::ActivityField("Owner".into()),
                    problem: Problem::NoActiveUserWithId { value: g.into() },
                }),
            };
        }
        if let Some(e) = owner_email.map(str::trim).filter(|e| !e.is_empty()) {
            return match self.active_user_by_email(caller, e).await? {
                Some(u) => Ok(u.id),
                None => Err(Error::InvalidValue {
                    field: Field::ActivityOwnerEmail,
                    problem: Problem::NotActiveUserOfAccount { value: e.into() },
                }),
            };
        }
        Ok(caller.id)
    }

    /// Validates `input` and builds the record to insert on lead `lead_id` (and on an opportunity
    /// when `opportunity_id` is given). `opportunity_record` says whether the input describes an
    /// opportunity itself (its type must be of an opportunity kind) or an ordinary activity.
    pub(super) async fn prepare_activity(
        &self,
        caller: &User,
        lead_id: i64,
        opportunity_id: Option<i64>,
        opportunity_record: bool,
        input: &ActivityInput,
        cache: &mut TypeCache,
    ) -> Result<NewActivity> {
        let code = input.event_code.ok_or_else(|| {
            Error::Required(if opportunity_record {
                Field::OpportunityEventCode
            } else {
                Field::EventCode
            })
        })?;
        let ty = match self.cached_type(caller, cache, code).await? {
            Some(t) if (t.kind == TypeKind::Opportunity) == opportunity_record => t.clone(),
            Some(_) if opportunity_record => {
                return Err(Error::NotFound(Missing::NotAnOpportunityType(code)))
            }
            Some(_) => return Err(Error::NotFound(Missing::OpportunityTypeForActivity(code))),
            None => return Err(Error::NotFound(Missing::EventCode(code))),
        };
        let valid = fields::validate(
            &ty,
            &input.fields,
            &Default::default(),
            input.skip_option_check,
        )?;
        let owner_id = self
            .resolve_owner(caller, valid.owner.as_deref(), input.owner_email.as_deref())
            .await?;
        Ok(NewActivity {
            guid: Uuid::now_v7(),
            type_id: ty.id,
            lead_id: Some(lead_id),
            account_id: None,
            opportunity_id,
            owner_id,
            created_by: caller.id,
            note: valid
                .note
                .or_else(|| input.note.clone())
                .unwrap_or_default(),
            occurred_at: input.occurred_at.unwrap_or_else(now_micros),
            score: ty.score,
            status: valid
                .status
                .unwrap_or_else(|| fields::status_options(ty.kind)[0].to_string()),
            fields: valid.custom,
            pinned: false,
            tags: Vec::new(),
            static_data: Default::default(),
        })
    }

    /// Posts one activity on a lead; returns its GUID and the lead's score afterwards.
    pub async fn post_activity(
        &self,
        caller: &User,
        lead_guid: &str,
        input: ActivityInput,
    ) -> Result<(Uuid, i64)> {
        let lead = self.visible_lead(caller, lead_guid).await?;
        let new = self
            .prepare_activity(
                caller,
                lead.id,
                None,
                false,
                &input,
                &mut TypeCache::default(),
            )
            .await?;
        let guid = new.guid;
        // The score as the insert's own transaction left it.
        let score = self
            .store
            .insert_activity_scored(caller.tenant_id, new)
            .await?;
        Ok((guid, score))
    }

    /// Posts up to 25 activities, each on its own lead; every row is validated on its own and the
    /// valid ones are stored together in one transaction (a store failure fails the whole call).
    pub async fn bulk_post_by_lead(
        &self,
        caller: &User,
        rows: Vec<(Option<String>, ActivityInput)>,
    ) -> Result<Vec<BulkRowResult>> {
        let mut cache = TypeCache::default();
        let mut leads: HashMap<String, Option<Lead>> = HashMap::new();
        let mut bulk = BulkRows::default();
        for (lead_guid, input) in &rows {
            let outcome = async {
                let lead_guid = lead_guid
                    .as_deref()
                    .filter(|g| !g.trim().is_empty())
                    .ok_or(Error::Required(Field::RelatedLead))?;
                let lead = match leads.entry(lead_guid.to_string()) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => e.insert(self.find_lead(caller, lead_guid).await?),
                };
                let lead = lead.as_ref().ok_or_else(super::lead_not_found)?;
                self.prepare_activity(caller, lead.id, None, false, input, &mut cache)
                    .await
            }
            .await;
            bulk.push(outcome)?;
        }
        self.commit_bulk(caller, bulk).await
    }

    /// Stores the valid rows of a bulk call in one transaction and answers every row's outcome;
    /// a store failure fails the whole call, so no row is reported stored that was not.
    pub(super) async fn commit_bulk(
        &self,
        caller: &User,
        bulk: BulkRows,
    ) -> Result<Vec<BulkRowResult>> {
        self.store
            .insert_activities(caller.tenant_id, bulk.valid)
            .await?;
        Ok(bulk.results)
    }

    /// A page of one lead's activities, as the caller may see them.
    pub async fn lead_activities(
        &self,
        caller: &User,
        lead_guid: &str,
        f: LeadActivityFilter,
    ) -> Result<Page<ActivityView>> {
        let guid = Uuid::parse_str(lead_guid.trim()).map_err(|_| super::lead_not_found())?;
        let query = ActivityQuery {
            records: RecordKind::Activities,
            event_codes: f.event_code.into_iter().collect(),
            occurred_from: f.occurred_from,
            occurred_to: f.occurred_to,
            sort: f.sort,
            descending: f.descending,
            offset: f.offset,
            limit: f.limit,
            ..ActivityQuery::new(caller.tenant_id)
        };
        // A lead the caller may not see is answered as one that does not exist (`find_lead`).
        self.store
            .lead_activities(guid, caller.only_leads_of(), &query)
            .await?
            .ok_or_else(super::lead_not_found)
    }

    /// Deletes the activities of these custom types on a lead the caller may see, those that
    /// happened in the range when one is given (LeadSquared's `DeleteActivities`). Every code is
    /// checked before anything is deleted: an unknown code is the unknown-code error, a system or
    /// opportunity type is refused. More than `MAX_DELETE` matching activities are refused (a
    /// narrower date range deletes them in parts). Returns how many were deleted.
    pub async fn delete_lead_activities(
        &self,
        caller: &User,
        lead_guid: &str,
        codes: &[i64],
        occurred_from: Option<Micros>,
        occurred_to: Option<Micros>,
    ) -> Result<usize> {
        // The lead first: another tenant's lead answers as an unknown one, whatever the codes.
        let lead = self.visible_lead(caller, lead_guid).await?;
        let mut cache = TypeCache::default();
        for &code in codes {
            match self.cached_type(caller, &mut cache, code).await? {
                None => return Err(Error::NotFound(Missing::EventCode(code))),
                Some(t) if t.kind == TypeKind::Custom => {}
                Some(t) => {
                    let what = if t.kind == TypeKind::System {
                        "a system activity type"
                    } else {
                        "an opportunity type"
                    };
                    return Err(Error::InvalidInput(format!(
                        "Activity event code {code} is {what}: only custom activities can be deleted"
                    )));
                }
            }
        }
        let query = ActivityQuery {
            records: RecordKind::Activities,
            event_codes: codes.to_vec(),
            occurred_from,
            occurred_to,
            sort: ActivitySort::OccurredAt,
            descending: false,
            offset: 0,
            limit: MAX_DELETE,
            ..ActivityQuery::new(caller.tenant_id)
        };
        let page = self
            .store
            .lead_activities(lead.guid, caller.only_leads_of(), &query)
            .await?
            .ok_or_else(super::lead_not_found)?;
        if page.total > u64::from(MAX_DELETE) {
            return Err(Error::InvalidInput(format!(
                "{} activities match, more than the {MAX_DELETE} one call deletes: narrow FromDate and ToDate",
                page.total
            )));
        }
        let ids: Vec<i64> = page.rows.iter().map(|a| a.id).collect();
        let n = ids.len();
        if n > 0 {
            self.store
                .delete_activities(caller.tenant_id, ids, caller.actor(Api::LeadSquared))
                .await?;
        }
        Ok(n)
    }

    /// One activity and its type, if the caller may see its lead.
    pub async fn activity(
        &self,
        caller: &User,
        guid: &str,
    ) -> Result<(ActivityView, Arc<ActivityType>)> {
        let not_found = || Error::NotFound(Missing::Activity(Some(guid.to_string())));
        let id = Uuid::parse_str(guid.trim()).map_err(|_| not_found())?;
        let a = self
            .store
            .activity_by_guid(caller.tenant_id, id)
            .await?
            .filter(|a| a.visible_to(caller))
            .ok_or_else(not_found)?;
        let ty = self
            .store
            .activity_type_by_code(caller.tenant_id, a.event_code)
            .await?
            .ok_or_else(|| Error::Internal(format!("activity {} has no type", a.id).into()))?;
        Ok((a, ty))
    }

    /// Edits an activity's note, owner, status and custom fields; moves its ModifiedOn forward.
    pub async fn update_activity(
        &self,
        caller: &User,
        guid: &str,
        patch: ActivityPatch,
    ) -> Result<Uuid> {
        let (a, ty) = self.activity(caller, guid).await?;
        if let Some(code) = patch.event_code.filter(|c| *c != a.event_code) {
            return Err(Error::InvalidValue {
                field: Field::EventCode,
                problem: Problem::TypeMismatch {
                    given: code,
                    actual: a.event_code,
                },
            });
        }
        let valid = fields::validate(
            &ty,
            &patch.fields,
            &a.fields.to_map(),
            patch.skip_option_check,
        )?;
        let owner_id = match valid.owner.as_deref() {
            Some(g) => Some(self.resolve_owner(caller, Some(g), None).await?),
            None => None,
        };
        self.store
            .update_activity(
                caller.tenant_id,
                ActivityUpdate {
                    id: a.id,
                    note: valid.note.or(patch.note),
                    owner_id,
                    status: valid.status,
                    fields: Some(valid.custom),
                    ..Default::default()
                },
                caller.actor(Api::LeadSquared),
            )
            .await?;
        Ok(a.guid)
    }
}
