//! Use cases for opportunities (LeadSquared's model: an opportunity is an activity record of an
//! opportunity type, on one lead): capture, read, list per lead, bulk activities, activity lists.

use uuid::Uuid;

use super::activities::{BulkRows, TypeCache};
use super::{ActivityInput, BulkRowResult, Service};
use crate::domain::{
    ActivityQuery, ActivitySort, ActivityType, ActivityView, Lead, LeadKey, NewLead, Page,
    RecordKind, TypeKind, User,
};
use crate::error::{Error, Field, Missing, Result, Unique};

/// What `OpportunityManagement.svc/Capture` carries: the lead to find (or create) and the opportunity.
#[derive(Debug, Clone)]
pub struct CaptureInput {
    pub lead: NewLead,
    pub lead_owner_guid: Option<String>,
    pub search_by: LeadKey,
    pub opportunity: ActivityInput,
}

/// Sort, filter and window for listing an opportunity's activities.
#[derive(Debug, Clone)]
pub struct OpportunityActivityFilter {
    pub event_code: Option<i64>,
    pub sort: ActivitySort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
}

/// An opportunity with its type and its lead, as the flat-row endpoints render them.
#[derive(Debug, Clone)]
pub struct OpportunityContext {
    pub opportunity: ActivityView,
    pub opportunity_type: std::sync::Arc<ActivityType>,
    pub lead: Lead,
}

impl Service {
    /// Finds the lead by the `SearchBy` attribute (creating it when absent) and creates the
    /// opportunity on it. The opportunity is validated before any lead is created, so bad input
    /// changes nothing. Returns the opportunity's and the lead's GUIDs.
    pub async fn capture(&self, caller: &User, input: CaptureInput) -> Result<(Uuid, Uuid)> {
        let key = input.search_by;
        let value = match key {
            LeadKey::Email => input.lead.email.clone(),
            LeadKey::Phone => input.lead.phone.clone(),
            LeadKey::Mobile => input.lead.mobile.clone(),
        }
        .ok_or(Error::Required(Field::SearchBy(key)))?;
        let mut cache = TypeCache::default();
        // Validate first against a placeholder lead id; the real id is filled in below.
        let mut opportunity = self
            .prepare_activity(caller, 0, None, true, &input.opportunity, &mut cache)
            .await?;
        let lead = match self.find_lead_by_key(caller, key, &value).await? {
            Some(lead) => lead,
            None => match self
                .create_lead(caller, input.lead.clone(), input.lead_owner_guid.as_deref())
                .await
            {
                Ok(lead) => lead,
                // Another request created it in the meantime: use that one.
                Err(Error::Duplicate(_)) => self
                    .find_lead_by_key(caller, key, &value)
                    .await?
                    .ok_or(Error::Duplicate(Unique::LeadByKey(key)))?,
                Err(e) => return Err(e),
            },
        };
        opportunity.lead_id = Some(lead.id);
        let guid = opportunity.guid;
        self.store
            .insert_activities(caller.tenant_id, vec![opportunity])
            .await?;
        Ok((guid, lead.guid))
    }

    /// The lead with this unique attribute, if any; one the caller may not see is refused
    /// rather than duplicated.
    pub(super) async fn find_lead_by_key(
        &self,
        caller: &User,
        key: LeadKey,
        value: &str,
    ) -> Result<Option<Lead>> {
        match self.store.lead_by_key(caller.tenant_id, key, value).await? {
            Some(l) if !caller.can_see_lead_of(l.owner_id) => {
                Err(Error::Duplicate(Unique::LeadOfAnotherOwner(key)))
            }
            other => Ok(other),
        }
    }

    /// An opportunity, its type and its lead, if the caller may see the lead.
    pub async fn opportunity(&self, caller: &User, guid: &str) -> Result<OpportunityContext> {
        let not_found = || Error::NotFound(Missing::Opportunity);
        let (opportunity, opportunity_type) = match self.activity(caller, guid).await {
            Ok((a, t)) if t.kind == TypeKind::Opportunity => (a, t),
            Ok(_) | Err(Error::NotFound(_)) => return Err(not_found()),
            Err(e) => return Err(e),
        };
        let lead_guid = opportunity.lead_guid.ok_or_else(not_found)?;
        let lead = self
            .store
            .lead_by_guid(caller.tenant_id, lead_guid)
            .await?
            .ok_or_else(not_found)?;
        Ok(OpportunityContext {
            opportunity,
            opportunity_type,
            lead,
        })
    }

    /// A page of a lead's opportunities, optionally of one opportunity type.
    pub async fn lead_opportunities(
        &self,
        caller: &User,
        lead_guid: &str,
        opportunity_type: Option<i64>,
        offset: u64,
        limit: u32,
    ) -> Result<(Lead, Page<ActivityView>)> {
        let lead = self.visible_lead(caller, lead_guid).await?;
        let query = ActivityQuery {
            lead_id: Some(lead.id),
            records: RecordKind::Opportunities,
            event_codes: opportunity_type.into_iter().collect(),
            offset,
            limit,
            ..ActivityQuery::new(caller.tenant_id)
        };
        let page = self.store.list_activities(&query).await?;
        Ok((lead, page))
    }

    /// Posts up to 25 activities on one opportunity (and its lead). Each row is validated on its
    /// own — `ActivityOwnerEmail` must name an active user — and the valid rows are stored together
    /// in one transaction; a store failure fails the whole call.
    pub async fn bulk_post_by_opportunity(
        &self,
        caller: &User,
        opportunity_guid: &str,
        rows: Vec<ActivityInput>,
    ) -> Result<Vec<BulkRowResult>> {
        let ctx = self.opportunity(caller, opportunity_guid).await?;
        let mut cache = TypeCache::default();
        let mut bulk = BulkRows::default();
        for input in &rows {
            let outcome = match input
                .owner_email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
            {
                None => Err(Error::Required(Field::ActivityOwnerEmail)),
                Some(_) => {
                    self.prepare_activity(
                        caller,
                        ctx.lead.id,
                        Some(ctx.opportunity.id),
                        false,
                        input,
                        &mut cache,
                    )
                    .await
                }
            };
            bulk.push(outcome)?;
        }
        self.commit_bulk(caller, bulk).await
    }

    /// A page of the activities logged on an opportunity, sorted in the store.
    pub async fn opportunity_activities(
        &self,
        caller: &User,
        opportunity_guid: &str,
        f: OpportunityActivityFilter,
    ) -> Result<(OpportunityContext, Page<ActivityView>)> {
        let ctx = self.opportunity(caller, opportunity_guid).await?;
        let query = ActivityQuery {
            opportunity_id: Some(ctx.opportunity.id),
            event_codes: f.event_code.into_iter().collect(),
            sort: f.sort,
            descending: f.descending,
            offset: f.offset,
            limit: f.limit,
            ..ActivityQuery::new(caller.tenant_id)
        };
        let page = self.store.list_activities(&query).await?;
        Ok((ctx, page))
    }
}
