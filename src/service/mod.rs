//! Use cases, dialect-neutral: permissions, validation against activity types, scoring, paging
//! rules. Dialects call these with already-parsed input and render what comes back.

mod activities;
mod directory;
mod history;
mod leads;
mod native;
mod opportunities;
mod recent;
mod salesloft;
mod trash;
mod types;

pub use activities::{ActivityInput, ActivityPatch, BulkRowResult, LeadActivityFilter, MAX_DELETE};
pub use history::{HistoryFilter, ResourceRef};
pub use leads::{LeadByEmail, LeadLookup, LeadSearch, UpdateBehavior, MAX_QUICK_SEARCH};
pub(crate) use native::{check_static_data, check_status, check_tags};
pub use native::{NativeActivity, NativeEdit, NativeOpportunity, NativeResource};
pub use opportunities::{CaptureInput, OpportunityActivityFilter, OpportunityContext};
pub use recent::RecentFilter;
pub use salesloft::{SalesloftWrite, StreamScope, WriteRefusal};
pub use trash::{ChangeFilter, Retention};
pub use types::{TypePatch, MAX_FIELDS};

use std::sync::Arc;

use uuid::Uuid;

use crate::auth::{self, CredentialCache, IssuedKeys};
use crate::domain::{starter_types, Lead, NewLead, NewUser, Role, Tenant, User};
use crate::error::{Error, Field, Missing, Result};
use crate::store::{Store, UserCredentials};

/// How long an authenticated key is remembered (see `CredentialCache`).
const CREDENTIAL_TTL: std::time::Duration = std::time::Duration::from_secs(10);
/// Keys remembered at most before the cache starts over.
const CREDENTIAL_CAPACITY: usize = 10_000;

/// The use cases over one store. Cheap to clone behind an `Arc`.
pub struct Service {
    store: Arc<dyn Store>,
    /// LeadSquared access-key digest → the user and its secret's digest.
    lsq_keys: CredentialCache<UserCredentials>,
    /// Bearer-key digest → the user.
    api_keys: CredentialCache<User>,
    /// How long change records and deleted records are kept.
    retention: Retention,
}

/// The checks every new or changed lead value passes: lengths, and an email that looks like one.
pub(crate) fn check_lead_values(lead: &NewLead) -> Result<()> {
    crate::domain::rules::check_lead_lengths(lead)?;
    if let Some(email) = &lead.email {
        if !crate::domain::fields::looks_like_email(email) {
            return Err(Error::Invalid {
                field: Field::LeadEmail,
                reason: format!("must be an email address, not '{email}'"),
            });
        }
    }
    Ok(())
}

/// LeadSquared's error for a lead that is missing or that the caller may not see (the two are
/// answered alike, so that no caller learns of another owner's lead).
fn lead_not_found() -> Error {
    Error::NotFound(Missing::Lead)
}

impl Service {
    pub fn new(store: Arc<dyn Store>) -> Service {
        Service {
            store,
            lsq_keys: CredentialCache::new(CREDENTIAL_TTL, CREDENTIAL_CAPACITY),
            api_keys: CredentialCache::new(CREDENTIAL_TTL, CREDENTIAL_CAPACITY),
            retention: Retention::default(),
        }
    }

    /// This service keeping history and deleted records for `retention`.
    pub fn with_retention(mut self, retention: Retention) -> Service {
        self.retention = retention;
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn new_user(email: &str, first: &str, last: &str, role: Role) -> Result<(NewUser, IssuedKeys)> {
        let email = email.trim();
        if !crate::domain::fields::looks_like_email(email) {
            return Err(Error::InvalidInput(format!(
                "'{email}' is not a valid email address"
            )));
        }
        let keys = IssuedKeys::generate().map_err(Error::internal)?;
        let user = NewUser {
            guid: Uuid::now_v7(),
            email: email.to_string(),
            first_name: first.trim().to_string(),
            last_name: last.trim().to_string(),
            role,
            access_key_digest: auth::digest(&keys.access_key),
            secret_key_digest: auth::digest(&keys.secret_key),
            api_key_digest: auth::digest(&keys.api_key),
        };
        Ok((user, keys))
    }

    /// Creates a tenant, its Administrator and its starter activity types; returns the keys once.
    pub async fn create_tenant(
        &self,
        name: &str,
        admin_email: &str,
    ) -> Result<(Tenant, User, IssuedKeys)> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidInput("tenant name must not be empty".into()));
        }
        let local = admin_email.split('@').next().unwrap_or_default();
        let (admin, keys) = Self::new_user(admin_email, local, "", Role::Administrator)?;
        let (tenant, user) = self
            .store
            .create_tenant(name, admin, starter_types())
            .await?;
        Ok((tenant, user, keys))
    }

    /// Adds a user to the tenant with the given GUID; returns the keys once.
    pub async fn create_user(
        &self,
        tenant_guid: &str,
        email: &str,
        first: &str,
        last: &str,
        role: Role,
    ) -> Result<(User, IssuedKeys)> {
        let tenant = Uuid::parse_str(tenant_guid.trim())
            .ok()
            .map(|g| self.store.tenant_by_guid(g));
        let tenant = match tenant {
            Some(fut) => fut.await?,
            None => None,
        }
        .ok_or_else(|| Error::NotFound(Missing::Tenant(Some(tenant_guid.to_string()))))?;
        let (new_user, keys) = Self::new_user(email, first, last, role)?;
        let user = self.store.create_user(tenant.id, new_user).await?;
        Ok((user, keys))
    }

    /// The active user holding this LeadSquared key pair.
    pub async fn authenticate_lsq(&self, access_key: &str, secret_key: &str) -> Result<User> {
        let digest = auth::digest(access_key);
        let creds = self
            .lsq_keys
            .get_or_load(digest, || self.store.user_by_access_key(&digest))
            .await?;
        match creds {
            Some(c) if auth::matches(secret_key, &c.secret_key_digest) && c.user.active => {
                crate::telemetry::record_tenant(&c.user.tenant_guid);
                Ok(c.user)
            }
            Some(c) if !c.user.active => Err(Error::Unauthorized(
                "The user of these keys is deactivated".into(),
            )),
            _ => Err(Error::Unauthorized("Invalid AccessKey or SecretKey".into())),
        }
    }

    /// The active user holding this Bearer key.
    pub async fn authenticate_bearer(&self, api_key: &str) -> Result<User> {
        self.authenticate_key_digest(auth::digest(api_key)).await
    }

    /// The active user holding the Bearer key with this digest: what a web session keeps instead
    /// of the key itself.
    pub async fn authenticate_key_digest(&self, digest: [u8; 32]) -> Result<User> {
        let user = self
            .api_keys
            .get_or_load(digest, || self.store.user_by_api_key(&digest))
            .await?;
        match user {
            Some(u) if u.active => {
                crate::telemetry::record_tenant(&u.tenant_guid);
                Ok(u)
            }
            _ => Err(Error::Unauthorized("Invalid Bearer Token".into())),
        }
    }

    pub async fn list_users(&self, caller: &User) -> Result<Vec<User>> {
        self.store.list_users(caller.tenant_id).await
    }

    /// An active user of the caller's tenant by email, if any.
    pub async fn active_user_by_email(&self, caller: &User, email: &str) -> Result<Option<User>> {
        Ok(self
            .store
            .user_by_email(caller.tenant_id, email)
            .await?
            .filter(|u| u.active))
    }

    /// An active user of the caller's tenant by GUID string, if any (a malformed GUID finds none).
    pub async fn active_user_by_guid(&self, caller: &User, guid: &str) -> Result<Option<User>> {
        let Ok(guid) = Uuid::parse_str(guid.trim()) else {
            return Ok(None);
        };
        Ok(self
            .store
            .user_by_guid(caller.tenant_id, guid)
            .await?
            .filter(|u| u.active))
    }

    /// Creates a lead. A Sales_User always owns what it creates; others may name an owner.
    pub async fn create_lead(
        &self,
        caller: &User,
        mut lead: NewLead,
        owner_guid: Option<&str>,
    ) -> Result<Lead> {
        if lead.first_name.is_none()
            && lead.last_name.is_none()
            && lead.email.is_none()
            && lead.phone.is_none()
        {
            return Err(Error::Required(Field::LeadIdentity));
        }
        check_lead_values(&lead)?;
        lead.owner_id = self
            .lead_owner(caller, owner_guid)
            .await?
            .unwrap_or(caller.id);
        lead.guid = Uuid::now_v7();
        self.store.create_lead(caller.tenant_id, lead).await
    }

    /// The id of the owner a caller names for a lead: `None` when it names none or is a
    /// Sales_User (who always owns its leads, as in `Lead.Create`); refused unless an active user
    /// of the tenant.
    async fn lead_owner(&self, caller: &User, owner_guid: Option<&str>) -> Result<Option<i64>> {
        match owner_guid.filter(|_| caller.role != Role::SalesUser) {
            Some(g) => Ok(Some(
                self.active_user_by_guid(caller, g)
                    .await?
                    .ok_or_else(|| Error::Invalid {
                        field: Field::LeadOwner,
                        reason: format!("must be an active user of this tenant, not '{g}'"),
                    })?
                    .id,
            )),
            None => Ok(None),
        }
    }

    /// The lead with this GUID if the caller may see it; `None` otherwise (no existence leak).
    pub async fn find_lead(&self, caller: &User, guid: &str) -> Result<Option<Lead>> {
        let Ok(guid) = Uuid::parse_str(guid.trim()) else {
            return Ok(None);
        };
        Ok(self
            .store
            .lead_by_guid(caller.tenant_id, guid)
            .await?
            .filter(|l| caller.can_see_lead_of(l.owner_id)))
    }

    /// Like `find_lead`, but a missing or invisible lead is LeadSquared's "does not exist" error.
    pub async fn visible_lead(&self, caller: &User, guid: &str) -> Result<Lead> {
        self.find_lead(caller, guid)
            .await?
            .ok_or_else(lead_not_found)
    }
}
