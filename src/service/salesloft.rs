//! Use cases of Salesloft's own activity resources (calls, emails, notes, meetings, CRM
//! activities): views of the stored activities of some Salesloft types, and the writes Salesloft
//! offers on calls and notes, through the same store writes as the other dialects.

use super::{HistoryFilter, NativeActivity, NativeEdit, NativeResource, Service};
use crate::domain::history::Api;
use crate::domain::{
    Account, ActivityQuery, ActivityView, Lead, Page, RecordKind, ResourceKind, Role, TypeKind,
    User,
};
use crate::error::{Error, Result};

/// Which stored activities a Salesloft resource shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamScope {
    /// Activities of these Salesloft types (calls: `call`, notes: `note`, …).
    Types(&'static [&'static str]),
    /// Every activity, whatever its type, but not the opportunity records themselves (CRM
    /// activities: the store is the CRM, so every activity is one).
    AllActivities,
}

impl StreamScope {
    fn holds(self, a: &ActivityView) -> bool {
        match self {
            StreamScope::Types(types) => types.contains(&a.salesloft_type.as_str()),
            StreamScope::AllActivities => a.type_kind != TypeKind::Opportunity,
        }
    }
}

/// A Salesloft activity to log: its type's system type, where, for whom, and its attributes.
#[derive(Debug, Clone)]
pub struct SalesloftWrite {
    pub sl_type: &'static str,
    pub on: ResourceKind,
    /// The person's or account's integer id.
    pub resource_id: i64,
    pub owner_guid: Option<String>,
    pub note: String,
    pub static_data: serde_json::Map<String, serde_json::Value>,
}

/// Why a Salesloft write was refused before the store saw it; the dialect names the parameter.
#[derive(Debug)]
pub enum WriteRefusal {
    /// No person/account with that id the caller may see.
    UnknownResource,
    /// The user GUID names no active user of the tenant.
    UnknownUser,
    /// Another user's GUID, from a caller who is not an Administrator.
    NotAdmin,
    Failed(Error),
}

impl From<Error> for WriteRefusal {
    fn from(e: Error) -> WriteRefusal {
        WriteRefusal::Failed(e)
    }
}

impl Service {
    /// The store query a Salesloft resource list runs (public so that tests can EXPLAIN it).
    pub async fn stream_query(
        &self,
        caller: &User,
        scope: StreamScope,
        mut f: HistoryFilter,
    ) -> Result<ActivityQuery> {
        if let StreamScope::Types(types) = scope {
            f.types = vec![crate::domain::TypeFilter {
                resource: None,
                sl_types: types.iter().map(|t| t.to_string()).collect(),
            }];
        }
        let mut q = self.history_query(caller, f).await?;
        if scope == StreamScope::AllActivities {
            q.records = RecordKind::Activities;
        }
        Ok(q)
    }

    /// One page of a Salesloft resource list.
    pub async fn stream_page(
        &self,
        caller: &User,
        scope: StreamScope,
        f: HistoryFilter,
    ) -> Result<Page<ActivityView>> {
        let q = self.stream_query(caller, scope, f).await?;
        self.store.list_activities(&q).await
    }

    /// One record of a Salesloft resource: an activity the caller may see and the resource holds.
    pub async fn stream_record(
        &self,
        caller: &User,
        scope: StreamScope,
        id: i64,
    ) -> Result<Option<ActivityView>> {
        Ok(self
            .store
            .activity_by_id(caller.tenant_id, id)
            .await?
            .filter(|a| a.visible_to(caller) && scope.holds(a)))
    }

    /// The live lead with this integer id, if the caller may see it.
    pub async fn person_by_id(&self, caller: &User, id: i64) -> Result<Option<Lead>> {
        if id < 1 {
            return Ok(None);
        }
        let owner = (caller.role == Role::SalesUser).then_some(caller.id);
        Ok(self
            .store
            .list_leads(caller.tenant_id, owner, id - 1, 1)
            .await?
            .into_iter()
            .find(|l| l.id == id))
    }

    /// The account with this integer id (every user of the tenant sees every account).
    pub async fn account_by_id(&self, caller: &User, id: i64) -> Result<Option<Account>> {
        if id < 1 {
            return Ok(None);
        }
        Ok(self
            .store
            .list_accounts(caller.tenant_id, id - 1, 1)
            .await?
            .into_iter()
            .find(|a| a.id == id))
    }

    /// Logs one activity of a Salesloft resource (a call, a note) on a person or account, through
    /// the native batch path: the tenant's system type for `sl_type`, the tenant clock.
    pub async fn log_salesloft_activity(
        &self,
        caller: &User,
        w: SalesloftWrite,
    ) -> std::result::Result<ActivityView, WriteRefusal> {
        let guid = match w.on {
            ResourceKind::Person => self
                .person_by_id(caller, w.resource_id)
                .await?
                .map(|l| l.guid),
            ResourceKind::Account if caller.role != Role::SalesUser => self
                .account_by_id(caller, w.resource_id)
                .await?
                .map(|a| a.guid),
            _ => None,
        }
        .ok_or(WriteRefusal::UnknownResource)?;
        if let Some(g) = w.owner_guid.as_deref() {
            let owner = self
                .active_user_by_guid(caller, g)
                .await?
                .ok_or(WriteRefusal::UnknownUser)?;
            if owner.id != caller.id && caller.role != Role::Administrator {
                return Err(WriteRefusal::NotAdmin);
            }
        }
        let row = NativeActivity {
            sl_type: Some(w.sl_type.to_string()),
            resource: Some(NativeResource {
                kind: w.on,
                guid: guid.to_string(),
            }),
            owner_guid: w.owner_guid,
            note: Some(w.note),
            static_data: w.static_data,
            ..NativeActivity::default()
        };
        let mut stored = self.create_native_activities(caller, vec![row]).await?;
        stored
            .pop()
            .ok_or_else(|| WriteRefusal::Failed(Error::Internal("nothing was stored".into())))
    }

    /// Changes the note text of a record of `scope` and sets the keys of `static_patch` in its
    /// static data; `None` when the caller has no such record. Moves its `updated_at` forward.
    pub async fn edit_stream_record(
        &self,
        caller: &User,
        scope: StreamScope,
        id: i64,
        note: String,
        static_patch: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Option<ActivityView>> {
        let Some(a) = self.stream_record(caller, scope, id).await? else {
            return Ok(None);
        };
        let static_data = (!static_patch.is_empty()).then(|| {
            let mut data = a.static_data;
            data.extend(static_patch);
            data
        });
        let edit = NativeEdit {
            note: Some(note),
            static_data,
            ..NativeEdit::default()
        };
        self.edit_activity_via(caller, Api::Salesloft, &id.to_string(), edit)
            .await
            .map(Some)
    }

    /// Deletes a record of `scope`; `false` when the caller has no such record (nothing changes).
    pub async fn delete_stream_record(
        &self,
        caller: &User,
        scope: StreamScope,
        id: i64,
    ) -> Result<bool> {
        if self.stream_record(caller, scope, id).await?.is_none() {
            return Ok(false);
        }
        self.delete_activity_via(caller, Api::Salesloft, &id.to_string())
            .await?;
        Ok(true)
    }
}
