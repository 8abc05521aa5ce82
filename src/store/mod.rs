//! Storage: one trait with a method per operation the service needs, and its backends.
//!
//! Every method takes the tenant explicitly and every query is scoped by it in SQL, so isolation
//! never depends on filtering results afterwards.

mod instrumented;
pub mod postgres;
pub(crate) mod sql;
pub mod sqlite;

pub use instrumented::InstrumentedStore;

use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use crate::domain::rate::Decision;
use crate::domain::{
    Account, ActivityQuery, ActivityType, ActivityUpdate, ActivityView, Lead, LeadKey, NewAccount,
    NewActivity, NewActivityType, NewLead, NewUser, Page, Tenant, User,
};
use crate::error::{Error, Result};

/// A user found by credentials, with the digest to verify the presented secret against.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub secret_key_digest: Vec<u8>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the store answers (for `/readyz`).
    async fn ping(&self) -> Result<()>;

    /// Creates a tenant with its first user and its starter activity types, in one transaction.
    async fn create_tenant(
        &self,
        name: &str,
        admin: NewUser,
        types: Vec<NewActivityType>,
    ) -> Result<(Tenant, User)>;
    async fn tenant_by_guid(&self, guid: Uuid) -> Result<Option<Tenant>>;
    async fn count_tenants(&self) -> Result<u64>;

    async fn create_user(&self, tenant_id: i64, user: NewUser) -> Result<User>;
    async fn user_by_access_key(&self, digest: &[u8; 32]) -> Result<Option<UserCredentials>>;
    async fn user_by_api_key(&self, digest: &[u8; 32]) -> Result<Option<User>>;
    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>>;
    async fn user_by_email(&self, tenant_id: i64, email: &str) -> Result<Option<User>>;
    async fn user_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<User>>;

    /// Fails with `Error::Duplicate` naming the field when email, phone or mobile is taken.
    async fn create_lead(&self, tenant_id: i64, lead: NewLead) -> Result<Lead>;
    /// Creates many leads in one transaction (demo data, imports).
    async fn create_leads(&self, tenant_id: i64, leads: Vec<NewLead>) -> Result<Vec<i64>>;
    async fn lead_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Lead>>;
    /// The lead whose unique `key` attribute equals `value` (emails compared case-insensitively).
    async fn lead_by_key(&self, tenant_id: i64, key: LeadKey, value: &str) -> Result<Option<Lead>>;

    async fn list_activity_types(&self, tenant_id: i64) -> Result<Vec<ActivityType>>;
    /// Shared rather than owned: every write of an activity looks its type up, and the SQLite
    /// store hands out the copy its type directory keeps instead of parsing the type again.
    async fn activity_type_by_code(
        &self,
        tenant_id: i64,
        code: i64,
    ) -> Result<Option<std::sync::Arc<ActivityType>>>;
    /// Fails with `Error::Duplicate` when the name or code is taken.
    async fn create_activity_type(
        &self,
        tenant_id: i64,
        ty: NewActivityType,
    ) -> Result<ActivityType>;
    async fn update_activity_type(&self, tenant_id: i64, ty: ActivityType) -> Result<()>;

    /// Inserts all activities in one transaction (all or none), adds each one's score to its lead,
    /// and returns their integer ids in order.
    async fn insert_activities(
        &self,
        tenant_id: i64,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<i64>>;
    /// Inserts one activity like `insert_activities` and returns the score of its lead as the same
    /// transaction left it (`None`: this backend does not read it in the write, so the caller
    /// reads the lead again).
    async fn insert_activity_scored(
        &self,
        tenant_id: i64,
        activity: NewActivity,
    ) -> Result<Option<i64>> {
        self.insert_activities(tenant_id, vec![activity]).await?;
        Ok(None)
    }
    async fn update_activity(&self, tenant_id: i64, update: ActivityUpdate) -> Result<()>;
    async fn activity_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<ActivityView>>;
    async fn list_activities(&self, query: &ActivityQuery) -> Result<Page<ActivityView>>;
    /// The activities of the tenant's lead `lead_guid`, listed by `query` with its `lead_id` set
    /// to that lead's; `None` when no such lead exists, it is deleted, or `owner_only` names a
    /// user who does not own it (a Sales_User sees only its own leads' activities).
    ///
    /// Why one method and not `lead_by_guid` then `list_activities`: a backend can do both in one
    /// read transaction. The SQLite store does; resolving the lead in a read of its own was 7.6 %
    /// of a Retrieve's server CPU (docs/benchmarks.md). This default composes the two.
    async fn lead_activities(
        &self,
        lead_guid: Uuid,
        owner_only: Option<i64>,
        query: &ActivityQuery,
    ) -> Result<Option<Page<ActivityView>>> {
        let Some(lead) = self.lead_by_guid(query.tenant_id, lead_guid).await? else {
            return Ok(None);
        };
        if !crate::domain::lead_visible(owner_only, lead.owner_id) {
            return Ok(None);
        }
        let query = ActivityQuery {
            lead_id: Some(lead.id),
            ..query.clone()
        };
        self.list_activities(&query).await.map(Some)
    }

    // --- Salesloft dialect and native API. Defaults let a backend compile before it has them.

    /// One activity by its integer id (Salesloft's `{type}-{id}`).
    async fn activity_by_id(&self, tenant_id: i64, id: i64) -> Result<Option<ActivityView>> {
        let _ = (tenant_id, id);
        Err(unsupported("activity_by_id"))
    }
    /// Deletes an activity (hard delete) and takes its score back from its lead. Refuses an
    /// opportunity that still has activities logged on it.
    async fn delete_activity(&self, tenant_id: i64, id: i64) -> Result<()> {
        let _ = (tenant_id, id);
        Err(unsupported("delete_activity"))
    }
    /// Live (not deleted) leads by ascending id after `after_id`, optionally of one owner.
    async fn list_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Lead>> {
        let _ = (tenant_id, owner_id, after_id, limit);
        Err(unsupported("list_leads"))
    }
    /// Soft-deletes a lead: lookups stop finding it, its activities stay (Salesloft then reports
    /// the person as a failed dynamic resource).
    async fn delete_lead(&self, tenant_id: i64, lead_id: i64) -> Result<()> {
        let _ = (tenant_id, lead_id);
        Err(unsupported("delete_lead"))
    }
    /// Fails with `Error::Duplicate` when the name is taken (case-insensitively).
    async fn create_account(&self, tenant_id: i64, account: NewAccount) -> Result<Account> {
        let _ = (tenant_id, account);
        Err(unsupported("create_account"))
    }
    async fn account_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Account>> {
        let _ = (tenant_id, guid);
        Err(unsupported("account_by_guid"))
    }
    /// Accounts by ascending id after `after_id`.
    async fn list_accounts(
        &self,
        tenant_id: i64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Account>> {
        let _ = (tenant_id, after_id, limit);
        Err(unsupported("list_accounts"))
    }

    /// Spends `cost` from the rolling-window rate budget `key` (at most `limit` per `window`),
    /// shared by every server process on this store. `Ok(None)` when the store keeps no shared
    /// budgets: SQLite is served by one process, whose limiter keeps budgets in memory.
    async fn spend_rate_budget(
        &self,
        _key: &str,
        _limit: u64,
        _window: Duration,
        _cost: u64,
    ) -> Result<Option<Decision>> {
        Ok(None)
    }
}

/// The Salesloft types a list with two or more of them is split into, one index-ordered arm each
/// (then merged), or `None` when one index range already serves it: a single type, a sort other
/// than occurred_at/updated_at, or a lead/opportunity/resource/id filter (already narrow).
/// Each arm reads at most offset+limit rows, so the page costs (offset+limit) × types rows
/// however rare the types are, instead of a walk of the tenant's date index.
pub(crate) fn per_type_arms(q: &ActivityQuery) -> Option<Vec<String>> {
    if !matches!(
        q.sort,
        crate::domain::ActivitySort::OccurredAt | crate::domain::ActivitySort::UpdatedAt
    ) || q.lead_id.is_some()
        || q.opportunity_id.is_some()
        || !q.resources.is_empty()
        || !q.ids.is_empty()
        || q.match_nothing
        || q.types.iter().any(|t| t.sl_types.is_empty())
    {
        return None;
    }
    let mut types: Vec<String> = q
        .types
        .iter()
        .flat_map(|t| t.sl_types.iter().cloned())
        .collect();
    types.sort();
    types.dedup();
    (types.len() >= 2).then_some(types)
}

fn unsupported(what: &str) -> Error {
    Error::Internal(format!("this store backend does not implement {what} yet"))
}

/// Opens the store a `--db` URL names: `sqlite://PATH` (or `sqlite:PATH`), or
/// `postgres://…` / `postgresql://…` (connects, then applies pending migrations). Its calls are
/// traced and timed (see `InstrumentedStore`).
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    open_backend(url)
        .await
        .map(|backend| std::sync::Arc::new(InstrumentedStore::new(backend)) as _)
}

async fn open_backend(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let store = sqlite::SqliteStore::open(path)
            .map_err(|e| Error::Unavailable(format!("cannot open {url}: {e}")))?;
        return Ok(std::sync::Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::open(url)
            .await
            .map_err(Error::Unavailable)?;
        return Ok(std::sync::Arc::new(store));
    }
    Err(Error::InvalidInput(format!(
        "unsupported database URL '{}': expected sqlite://PATH or postgres://…",
        redact_url(url)
    )))
}

/// The URL with any password (in the userinfo or a `password=` query parameter) replaced by
/// `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &base[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &base[..s + 3], &userinfo[..c], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
        assert_eq!(
            super::redact_url("postgres://u@h/db?sslmode=disable&password=secret"),
            "postgres://u@h/db?sslmode=disable&password=***"
        );
    }
}
