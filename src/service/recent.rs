//! Use case behind LeadSquared's `RetrieveRecentlyModified`: a tenant's activities on leads whose
//! `updated_at` falls in a range, the sync jobs' poll.

use super::Service;
use crate::domain::{
    ActivityQuery, ActivitySort, ActivityView, CountMode, Micros, Page, RecordKind, ResourceKind,
    User,
};
use crate::error::Result;

/// The range, optional type, order and window of a `RetrieveRecentlyModified`.
#[derive(Debug, Clone)]
pub struct RecentFilter {
    pub updated_from: Micros,
    pub updated_to: Micros,
    pub event_code: Option<i64>,
    pub sort: ActivitySort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
}

impl Service {
    /// A page of the activities on leads (not opportunity records, not account activities)
    /// modified in the range (those logged on an opportunity included); a Sales_User's own leads' only.
    pub async fn recently_modified(
        &self,
        caller: &User,
        f: RecentFilter,
    ) -> Result<Page<ActivityView>> {
        let q = ActivityQuery {
            records: RecordKind::Activities,
            resource_kinds: vec![ResourceKind::Person, ResourceKind::Opportunity],
            updated_from: Some(f.updated_from),
            updated_to: Some(f.updated_to),
            event_codes: f.event_code.into_iter().collect(),
            visible_to_owner: caller.only_leads_of(),
            sort: f.sort,
            descending: f.descending,
            offset: f.offset,
            limit: f.limit,
            count: CountMode::Exact,
            ..ActivityQuery::new(caller.tenant_id)
        };
        self.store.list_activities(&q).await
    }
}
