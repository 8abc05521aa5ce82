//! Use cases for leads beyond create and read: update, create-or-update and capture by a unique
//! attribute, lookups by email and by text, the attributes the tenant's leads hold, and posting an
//! activity on the lead an email names (creating that lead when there is none).

use uuid::Uuid;

use super::activities::TypeCache;
use super::{check_lead_values, lead_not_found, ActivityInput, Service};
use crate::domain::{Lead, LeadFilter, LeadKey, LeadOrder, LeadPatch, LeadQuery, NewLead, User};
use crate::error::{Error, Field, Result};

/// The most leads `Leads.GetByQuickSearch` answers.
pub const MAX_QUICK_SEARCH: u32 = 50;

/// The most custom attribute names `LeadsMetaData.Get` lists.
const MAX_ATTRIBUTE_NAMES: u32 = crate::store::MAX_LEAD_FIELDS as u32;

/// What a create-or-update does with a lead it finds (`LeadUpdateBehavior` of `Lead.Capture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateBehavior {
    /// Every given value replaces the lead's.
    #[default]
    Update,
    /// The lead is left as it is.
    DoNotUpdate,
    /// Only values the lead does not have yet are set.
    UpdateOnlyEmptyFields,
    /// Email, phone and mobile are left as they are; the rest is updated.
    DoNotUpdateUniqueFields,
}

impl UpdateBehavior {
    /// The part of `patch` this behaviour applies to `found`.
    fn restrict(self, mut patch: LeadPatch, found: &Lead) -> Option<LeadPatch> {
        match self {
            UpdateBehavior::Update => Some(patch),
            UpdateBehavior::DoNotUpdate => None,
            UpdateBehavior::DoNotUpdateUniqueFields => {
                patch.email = None;
                patch.phone = None;
                patch.mobile = None;
                Some(patch)
            }
            UpdateBehavior::UpdateOnlyEmptyFields => {
                let keep = |new: &mut Option<Option<String>>, old: &Option<String>| {
                    if old.is_some() {
                        *new = None;
                    }
                };
                keep(&mut patch.first_name, &found.first_name);
                keep(&mut patch.last_name, &found.last_name);
                keep(&mut patch.email, &found.email);
                keep(&mut patch.phone, &found.phone);
                keep(&mut patch.mobile, &found.mobile);
                patch.do_not_call = None;
                patch.do_not_email = None;
                patch.owner_id = None;
                patch
                    .attributes
                    .retain(|k, _| !found.attributes.contains_key(k));
                Some(patch)
            }
        }
    }
}

/// The lead an activity posted by email goes on, and what to create when there is none.
#[derive(Debug, Clone, Default)]
pub struct LeadByEmail {
    /// The new lead's values; its email is the one looked up.
    pub lead: NewLead,
    /// The activity's score, replacing its type's (LeadSquared's `Score` of a Create by email).
    pub score: Option<i64>,
}

/// What `Leads.Get` looks leads up by: each one served by an index of the leads table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeadLookup {
    /// The lead with this GUID (`ProspectID`).
    Guid(String),
    /// The lead whose unique attribute has this value.
    Key(LeadKey, String),
    /// The leads of the user with this GUID (`OwnerId`).
    Owner(String),
    /// A range of creation or modification dates (the owner is filled in by the service).
    Filter(LeadFilter),
}

/// A `Leads.Get` search: the lookup, the order and the page.
#[derive(Debug, Clone)]
pub struct LeadSearch {
    pub lookup: LeadLookup,
    pub order: LeadOrder,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
}

impl Service {
    /// Checks a change of a lead's values and resolves the owner it names.
    async fn checked_patch(
        &self,
        caller: &User,
        mut patch: LeadPatch,
        owner_guid: Option<&str>,
    ) -> Result<LeadPatch> {
        check_lead_values(&patch.given())?;
        patch.owner_id = self.lead_owner(caller, owner_guid).await?;
        Ok(patch)
    }

    /// Changes a lead the caller may see (`Lead.Update`); a missing or invisible lead is
    /// LeadSquared's "does not exist". Returns the lead as changed.
    pub async fn update_lead(
        &self,
        caller: &User,
        guid: &str,
        patch: LeadPatch,
        owner_guid: Option<&str>,
    ) -> Result<Lead> {
        let patch = self.checked_patch(caller, patch, owner_guid).await?;
        let lead = self.visible_lead(caller, guid).await?;
        self.store
            .update_lead(caller.tenant_id, lead.id, patch)
            .await?;
        self.reread(caller, lead.guid).await
    }

    async fn reread(&self, caller: &User, guid: Uuid) -> Result<Lead> {
        self.store
            .lead_by_guid(caller.tenant_id, guid)
            .await?
            .ok_or_else(lead_not_found)
    }

    /// Finds the lead by `key` (its value taken from `lead`) and updates it with `patch` as
    /// `behavior` says, or creates `lead` when there is none (`Lead.CreateOrUpdate`,
    /// `Lead.Capture`). With no `key`, creates. A lead created meanwhile by another request is
    /// found again and updated; one the caller may not see is refused, never duplicated.
    /// Returns the lead and whether it was created.
    pub async fn create_or_update_lead(
        &self,
        caller: &User,
        key: Option<LeadKey>,
        lead: NewLead,
        patch: LeadPatch,
        owner_guid: Option<&str>,
        behavior: UpdateBehavior,
    ) -> Result<(Lead, bool)> {
        let patch = self.checked_patch(caller, patch, owner_guid).await?;
        let Some(key) = key else {
            let created = self.create_lead(caller, lead, owner_guid).await?;
            return Ok((created, true));
        };
        let value = key_value(&lead, key).ok_or(Error::Required(Field::SearchBy(key)))?;
        let found = match self.find_lead_by_key(caller, key, &value).await? {
            Some(found) => found,
            None => match self.create_lead(caller, lead, owner_guid).await {
                Ok(created) => return Ok((created, true)),
                // Created meanwhile by another request: update that one. When the clash was
                // another unique value (a phone while searching by email), report that clash.
                Err(e @ Error::Duplicate(_)) => {
                    match self.find_lead_by_key(caller, key, &value).await? {
                        Some(found) => found,
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            },
        };
        let Some(patch) = behavior.restrict(patch, &found) else {
            return Ok((found, false));
        };
        self.store
            .update_lead(caller.tenant_id, found.id, patch)
            .await?;
        Ok((self.reread(caller, found.guid).await?, false))
    }

    /// The visible lead with this GUID, for `Lead.Capture`'s `ProspectID` (matched first).
    pub async fn capture_target(&self, caller: &User, guid: &str) -> Result<Option<Lead>> {
        self.find_lead(caller, guid).await
    }

    /// Updates a lead found by `ProspectID` as `behavior` says (`Lead.Capture`).
    pub async fn update_found_lead(
        &self,
        caller: &User,
        found: Lead,
        patch: LeadPatch,
        owner_guid: Option<&str>,
        behavior: UpdateBehavior,
    ) -> Result<Lead> {
        let patch = self.checked_patch(caller, patch, owner_guid).await?;
        let Some(patch) = behavior.restrict(patch, &found) else {
            return Ok(found);
        };
        self.store
            .update_lead(caller.tenant_id, found.id, patch)
            .await?;
        self.reread(caller, found.guid).await
    }

    /// The lead with this email (compared case-insensitively) if the caller may see it.
    pub async fn lead_by_email(&self, caller: &User, email: &str) -> Result<Option<Lead>> {
        Ok(self
            .store
            .lead_by_key(caller.tenant_id, LeadKey::Email, email)
            .await?
            .filter(|l| caller.can_see_lead_of(l.owner_id)))
    }

    /// One page of the leads the caller may see that `search` selects (`Leads.Get`). A lookup
    /// value naming nothing (a malformed GUID, an unknown owner) selects nothing.
    pub async fn search_leads(&self, caller: &User, search: LeadSearch) -> Result<Vec<Lead>> {
        let one = |lead: Option<Lead>| -> Vec<Lead> {
            lead.filter(|l| caller.can_see_lead_of(l.owner_id) && search.offset == 0)
                .into_iter()
                .collect()
        };
        let filter = match &search.lookup {
            LeadLookup::Guid(guid) => return Ok(one(self.find_lead(caller, guid).await?)),
            LeadLookup::Key(key, value) => {
                let lead = self
                    .store
                    .lead_by_key(caller.tenant_id, *key, value)
                    .await?;
                return Ok(one(lead));
            }
            LeadLookup::Owner(guid) => {
                let Ok(guid) = Uuid::parse_str(guid.trim()) else {
                    return Ok(Vec::new());
                };
                match self.store.user_by_guid(caller.tenant_id, guid).await? {
                    Some(owner) => LeadFilter::Owner(owner.id),
                    None => return Ok(Vec::new()),
                }
            }
            LeadLookup::Filter(filter) => *filter,
        };
        self.store
            .find_leads(&LeadQuery {
                tenant_id: caller.tenant_id,
                filter,
                owner_only: caller.only_leads_of(),
                order: search.order,
                descending: search.descending,
                offset: search.offset,
                limit: search.limit,
            })
            .await
    }

    /// Leads the caller may see whose name, email, phone or mobile starts with `text`, at most
    /// `MAX_QUICK_SEARCH`.
    pub async fn quick_search_leads(&self, caller: &User, text: &str) -> Result<Vec<Lead>> {
        self.store
            .search_leads(
                caller.tenant_id,
                caller.only_leads_of(),
                text,
                MAX_QUICK_SEARCH,
            )
            .await
    }

    /// The names of the custom attributes the tenant's leads hold.
    pub async fn lead_attribute_names(&self, caller: &User) -> Result<Vec<String>> {
        self.store
            .lead_attribute_names(caller.tenant_id, MAX_ATTRIBUTE_NAMES)
            .await
    }

    /// Finds the lead by `key` and updates it, or creates it, then posts the activity on it
    /// (`ProspectActivity.svc/CreateCustom`). The activity is checked first, so a bad activity
    /// changes no lead. Returns the activity's GUID and the lead's.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_lead_and_activity(
        &self,
        caller: &User,
        key: Option<LeadKey>,
        lead: NewLead,
        patch: LeadPatch,
        owner_guid: Option<&str>,
        input: ActivityInput,
    ) -> Result<(Uuid, Uuid)> {
        check_lead_values(&lead)?;
        let mut new = self
            .prepare_activity(caller, 0, None, false, &input, &mut TypeCache::default())
            .await?;
        let (lead, _created) = self
            .create_or_update_lead(caller, key, lead, patch, owner_guid, UpdateBehavior::Update)
            .await?;
        new.lead_id = Some(lead.id);
        let guid = new.guid;
        self.store
            .insert_activity_scored(caller.tenant_id, new)
            .await?;
        Ok((guid, lead.guid))
    }

    /// Posts an activity on the lead with this email, creating the lead first (owned by the
    /// caller) when there is none. The activity is checked before any lead is created, so bad
    /// input changes nothing; a lead the caller may not see answers as a missing one does.
    /// Returns the activity's GUID and the lead's score afterwards.
    pub async fn post_activity_by_email(
        &self,
        caller: &User,
        target: LeadByEmail,
        input: ActivityInput,
    ) -> Result<(Uuid, i64)> {
        let email = target
            .lead
            .email
            .clone()
            .ok_or(Error::Required(Field::LeadEmail))?;
        check_lead_values(&target.lead)?;
        let mut new = self
            .prepare_activity(caller, 0, None, false, &input, &mut TypeCache::default())
            .await?;
        if let Some(score) = target.score {
            crate::domain::rules::check_score(score)?;
            new.score = score;
        }
        let visible = |l: Lead| {
            if caller.can_see_lead_of(l.owner_id) {
                Ok(l)
            } else {
                Err(lead_not_found())
            }
        };
        let lead = match self
            .store
            .lead_by_key(caller.tenant_id, LeadKey::Email, &email)
            .await?
        {
            Some(l) => visible(l)?,
            None => match self.create_lead(caller, target.lead, None).await {
                Ok(l) => l,
                Err(e @ Error::Duplicate(_)) => match self
                    .store
                    .lead_by_key(caller.tenant_id, LeadKey::Email, &email)
                    .await?
                {
                    Some(l) => visible(l)?,
                    // The clash was another unique value (the phone): report it.
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            },
        };
        new.lead_id = Some(lead.id);
        let guid = new.guid;
        let score = self
            .store
            .insert_activity_scored(caller.tenant_id, new)
            .await?;
        Ok((guid, score))
    }
}

fn key_value(lead: &NewLead, key: LeadKey) -> Option<String> {
    match key {
        LeadKey::Email => lead.email.clone(),
        LeadKey::Phone => lead.phone.clone(),
        LeadKey::Mobile => lead.mobile.clone(),
    }
}
