//! Use cases behind Salesloft's activity histories: turning a dialect-neutral history filter into
//! the one `ActivityQuery` (resolving user and opportunity GUIDs, applying visibility).

use uuid::Uuid;

use super::Service;
use crate::domain::{
    ActivityIdFilter, ActivityQuery, ActivitySort, ActivityView, CountMode, Micros, Page,
    ResourceKind, Role, TypeFilter, User,
};
use crate::error::Result;

/// A resource id as a client wrote it: integers name persons and accounts, strings opportunities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef {
    Int(i64),
    Text(String),
}

/// Filters, order and window of a history listing, already validated by the dialect.
#[derive(Debug, Clone)]
pub struct HistoryFilter {
    pub types: Vec<TypeFilter>,
    pub occurred_from: Option<Micros>,
    pub occurred_to: Option<Micros>,
    pub updated_from: Option<Micros>,
    pub updated_to: Option<Micros>,
    pub pinned: Option<bool>,
    pub resource_kinds: Vec<ResourceKind>,
    /// Only meaningful with `resource_kinds` (the dialect enforces that).
    pub resource_ids: Vec<ResourceRef>,
    pub ids: Vec<ActivityIdFilter>,
    pub user_guids: Vec<String>,
    pub sort: ActivitySort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
    pub count: CountMode,
}

impl Service {
    /// A page of the tenant's activities as Salesloft lists them; a Sales_User sees only the
    /// activities on leads it owns.
    pub async fn activity_histories(
        &self,
        caller: &User,
        f: HistoryFilter,
    ) -> Result<Page<ActivityView>> {
        let q = self.history_query(caller, f).await?;
        self.store.list_activities(&q).await
    }

    /// The store query a history listing runs (public so that tests and reports can EXPLAIN the
    /// exact statements a request produces).
    pub async fn history_query(&self, caller: &User, f: HistoryFilter) -> Result<ActivityQuery> {
        let mut q = ActivityQuery {
            types: f.types,
            occurred_from: f.occurred_from,
            occurred_to: f.occurred_to,
            updated_from: f.updated_from,
            updated_to: f.updated_to,
            pinned: f.pinned,
            resource_kinds: f.resource_kinds.clone(),
            ids: f.ids,
            sort: f.sort,
            descending: f.descending,
            offset: f.offset,
            limit: f.limit,
            count: f.count,
            ..ActivityQuery::new(caller.tenant_id)
        };
        if caller.role == Role::SalesUser {
            q.visible_to_owner = Some(caller.id);
        }
        if !f.user_guids.is_empty() {
            for g in &f.user_guids {
                if let Ok(guid) = Uuid::parse_str(g.trim()) {
                    if let Some(u) = self.store.user_by_guid(caller.tenant_id, guid).await? {
                        q.owner_ids.push(u.id);
                    }
                }
            }
            // Only unknown users asked for: nothing can match.
            q.match_nothing |= q.owner_ids.is_empty();
        }
        if !f.resource_ids.is_empty() {
            for kind in &f.resource_kinds {
                for r in &f.resource_ids {
                    if let Some(id) = self.resolve_resource(caller, *kind, r).await? {
                        q.resources.push((*kind, id));
                    }
                }
            }
            q.match_nothing |= q.resources.is_empty();
        }
        Ok(q)
    }

    /// The integer id the store keeps for a resource reference, if it names one of this kind.
    async fn resolve_resource(
        &self,
        caller: &User,
        kind: ResourceKind,
        r: &ResourceRef,
    ) -> Result<Option<i64>> {
        Ok(match (kind, r) {
            (ResourceKind::Person | ResourceKind::Account, ResourceRef::Int(i)) => Some(*i),
            (ResourceKind::Opportunity, ResourceRef::Text(s)) => match Uuid::parse_str(s.trim()) {
                Ok(guid) => self
                    .store
                    .activity_by_guid(caller.tenant_id, guid)
                    .await?
                    .filter(|a| {
                        a.resource_kind == ResourceKind::Opportunity && a.resource_id == a.id
                    })
                    .map(|a| a.id),
                Err(_) => None,
            },
            _ => None,
        })
    }

    /// One activity by integer id, if the caller may see it; `expected_type` (from `call-12`) must
    /// match its Salesloft type.
    pub async fn activity_history(
        &self,
        caller: &User,
        id: i64,
        expected_type: Option<&str>,
    ) -> Result<Option<ActivityView>> {
        Ok(self
            .store
            .activity_by_id(caller.tenant_id, id)
            .await?
            .filter(|a| a.visible_to(caller))
            .filter(|a| expected_type.is_none_or(|t| t == a.salesloft_type)))
    }
}
