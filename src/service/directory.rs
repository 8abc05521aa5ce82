//! Use cases behind Salesloft's people, accounts and users lists: the caller's tenant and
//! visibility applied to a `DirectoryQuery`, user GUIDs resolved to ids.

use uuid::Uuid;

use super::Service;
use crate::domain::directory::{DirectoryKind, DirectoryQuery, UserRecord};
use crate::domain::{Account, Lead, Page, Role, User};
use crate::error::Result;

/// `ids` narrowed to `more` (both "any" when `None`).
fn intersect(ids: Option<Vec<i64>>, more: Vec<i64>) -> Option<Vec<i64>> {
    Some(match ids {
        None => more,
        Some(ids) => ids.into_iter().filter(|i| more.contains(i)).collect(),
    })
}

impl Service {
    /// The ids of the tenant's users with these GUIDs (unknown and malformed ones find none).
    async fn user_ids(&self, caller: &User, guids: &[String]) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        for g in guids {
            if let Ok(guid) = Uuid::parse_str(g.trim()) {
                if let Some(u) = self.store.user_by_guid(caller.tenant_id, guid).await? {
                    ids.push(u.id);
                }
            }
        }
        Ok(ids)
    }

    /// The store query a people, accounts or users list runs for `caller` (public so that tests
    /// and reports can EXPLAIN exactly what a request executes): the caller's tenant; for people,
    /// a Sales_User's own leads only (as in the history feed) and `guids` (`owned_by_guid`) as
    /// owners; for users, `guids` (`guid`) as the users asked for. Accounts and users are seen by
    /// every role (as in the native API and LeadSquared's `Users.Get`).
    pub async fn directory_query(
        &self,
        caller: &User,
        mut q: DirectoryQuery,
        guids: &[String],
    ) -> Result<DirectoryQuery> {
        q.tenant_id = caller.tenant_id;
        match q.kind {
            DirectoryKind::People => {
                if caller.role == Role::SalesUser {
                    q.visible_to_owner = Some(caller.id);
                }
                if !guids.is_empty() {
                    let owners = self.user_ids(caller, guids).await?;
                    q.owner_ids = intersect(q.owner_ids, owners);
                }
            }
            DirectoryKind::Accounts => {}
            DirectoryKind::Users => {
                if !guids.is_empty() {
                    let ids = self.user_ids(caller, guids).await?;
                    q.ids = intersect(q.ids, ids);
                }
            }
        }
        Ok(q)
    }

    /// A page of the tenant's live leads as Salesloft lists people (`directory_query`).
    pub async fn people(
        &self,
        caller: &User,
        mut q: DirectoryQuery,
        owner_guids: &[String],
    ) -> Result<Page<Lead>> {
        q.kind = DirectoryKind::People;
        let q = self.directory_query(caller, q, owner_guids).await?;
        self.store.people_page(&q).await
    }

    /// A page of the tenant's accounts (`directory_query`).
    pub async fn accounts(&self, caller: &User, mut q: DirectoryQuery) -> Result<Page<Account>> {
        q.kind = DirectoryKind::Accounts;
        let q = self.directory_query(caller, q, &[]).await?;
        self.store.accounts_page(&q).await
    }

    /// A page of the tenant's users (`directory_query`).
    pub async fn users(
        &self,
        caller: &User,
        mut q: DirectoryQuery,
        guids: &[String],
    ) -> Result<Page<UserRecord>> {
        q.kind = DirectoryKind::Users;
        let q = self.directory_query(caller, q, guids).await?;
        self.store.users_page(&q).await
    }

    /// One record of `kind` by its integer id, if the caller may see it.
    fn one_query(caller: &User, kind: DirectoryKind, id: i64) -> DirectoryQuery {
        let mut q = DirectoryQuery::new(caller.tenant_id, kind);
        q.ids = Some(vec![id]);
        q.limit = 1;
        q
    }

    /// The live lead with this id, if the caller may see it (`None` alike for another tenant's,
    /// another owner's for a Sales_User, a deleted one and none at all).
    pub async fn person(&self, caller: &User, id: i64) -> Result<Option<Lead>> {
        let q = Self::one_query(caller, DirectoryKind::People, id);
        Ok(self.people(caller, q, &[]).await?.rows.pop())
    }

    /// The tenant's account with this id.
    pub async fn account(&self, caller: &User, id: i64) -> Result<Option<Account>> {
        let q = Self::one_query(caller, DirectoryKind::Accounts, id);
        Ok(self.accounts(caller, q).await?.rows.pop())
    }

    /// The tenant's user with this id.
    pub async fn user_record(&self, caller: &User, id: i64) -> Result<Option<UserRecord>> {
        let q = Self::one_query(caller, DirectoryKind::Users, id);
        Ok(self.users(caller, q, &[]).await?.rows.pop())
    }
}
