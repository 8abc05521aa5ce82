//! Use cases of change history and the trash: reading an activity's history or a tenant's
//! changes, restoring a deleted activity or lead within the window, and the periodic purge.

use std::time::Duration;

use uuid::Uuid;

use super::Service;
use crate::domain::history::{ActivityChange, ActivityRef, Api, ChangeQuery, PurgeBefore};
use crate::domain::time::now_micros;
use crate::domain::{ActivityView, Lead, Micros, Page, Role, User};
use crate::error::{Error, Missing, Result};

/// How long change records and deleted records are kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Change records older than this are pruned; `None` keeps them forever.
    pub history: Option<Duration>,
    /// A deleted activity or lead can be restored for this long, then it is purged.
    pub restore_window: Duration,
}

const DAY: Duration = Duration::from_secs(86_400);

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            history: Some(DAY * 90),
            restore_window: DAY * 30,
        }
    }
}

impl Retention {
    /// From the `serve` options: days of history (0 = forever) and of the restore window.
    pub fn from_days(history_days: u32, restore_days: u32) -> Retention {
        Retention {
            history: (history_days > 0).then(|| DAY * history_days),
            restore_window: DAY * restore_days,
        }
    }
}

/// Rows the purge removes per statement: each batch is one short transaction.
const PURGE_BATCH: u32 = 500;
/// Batches one sweep runs at most; the rest waits for the next sweep.
const PURGE_MAX_BATCHES: u32 = 1_000;

fn micros(d: Duration) -> Micros {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A tenant's changes for LeadSquared's `RetrieveActivityChange`.
#[derive(Debug, Clone)]
pub struct ChangeFilter {
    pub from: Micros,
    pub to: Micros,
    pub event_codes: Vec<i64>,
    pub activity_guid: Option<String>,
    pub offset: u64,
    pub limit: u32,
}

impl Service {
    /// When a record deleted now stops being restorable is `deleted_at < now - window`.
    fn deleted_since(&self) -> Micros {
        now_micros().saturating_sub(micros(self.retention.restore_window))
    }

    /// The activity (live or in the trash) by integer id or GUID, if the caller may see it: its
    /// integer id.
    async fn history_subject(&self, caller: &User, id: &str) -> Result<i64> {
        match self.native_activity(caller, id).await {
            Ok(a) => return Ok(a.id),
            Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let not_found = || Error::NotFound(Missing::Activity(Some(id.to_string())));
        let key = match id.trim().parse::<i64>() {
            Ok(n) => ActivityRef::Id(n),
            Err(_) => ActivityRef::Guid(Uuid::parse_str(id.trim()).map_err(|_| not_found())?),
        };
        self.store
            .trashed_activity(caller.tenant_id, key)
            .await?
            .filter(|t| t.visible_to(caller))
            .map(|t| t.id)
            .ok_or_else(not_found)
    }

    /// One page of an activity's change records, oldest first, after change id `after`. The
    /// activity may be live or deleted (still in the trash); the caller must be able to see it.
    pub async fn activity_change_history(
        &self,
        caller: &User,
        id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<ActivityChange>> {
        let activity_id = self.history_subject(caller, id).await?;
        let q = ChangeQuery {
            tenant_id: caller.tenant_id,
            activity_id: Some(activity_id),
            event_codes: Vec::new(),
            changed_from: None,
            changed_to: None,
            owner_only: None,
            after_id: after,
            offset: 0,
            limit,
            count: false,
        };
        Ok(self.store.activity_changes(&q).await?.rows)
    }

    /// The tenant's change records in a time range (LeadSquared's `RetrieveActivityChange`),
    /// counted; a Sales_User's only for its own leads' activities. An activity GUID that is
    /// malformed or names no visible activity selects nothing.
    pub async fn activity_changes(
        &self,
        caller: &User,
        f: ChangeFilter,
    ) -> Result<Page<ActivityChange>> {
        let activity_id = match &f.activity_guid {
            None => None,
            Some(g) => match self.history_subject(caller, g).await {
                Ok(id) => Some(id),
                Err(Error::NotFound(_)) => {
                    return Ok(Page {
                        total: 0,
                        rows: Vec::new(),
                    })
                }
                Err(e) => return Err(e),
            },
        };
        let q = ChangeQuery {
            tenant_id: caller.tenant_id,
            activity_id,
            event_codes: f.event_codes,
            changed_from: Some(f.from),
            changed_to: Some(f.to),
            owner_only: caller.only_leads_of(),
            after_id: 0,
            offset: f.offset,
            limit: f.limit,
            count: true,
        };
        self.store.activity_changes(&q).await
    }

    /// Restores a deleted activity the caller may see, within the restore window; returns it.
    pub async fn restore_activity(&self, caller: &User, id: &str) -> Result<ActivityView> {
        let not_found = || Error::NotFound(Missing::Activity(Some(id.to_string())));
        let key = match id.trim().parse::<i64>() {
            Ok(n) => ActivityRef::Id(n),
            Err(_) => ActivityRef::Guid(Uuid::parse_str(id.trim()).map_err(|_| not_found())?),
        };
        let t = self
            .store
            .trashed_activity(caller.tenant_id, key)
            .await?
            .filter(|t| t.visible_to(caller))
            .ok_or_else(not_found)?;
        match self
            .store
            .restore_activity(
                caller.tenant_id,
                t.id,
                self.deleted_since(),
                caller.actor(Api::Native),
            )
            .await
        {
            Err(Error::NotFound(_)) => return Err(not_found()),
            other => other?,
        }
        self.store
            .activity_by_id(caller.tenant_id, t.id)
            .await?
            .ok_or_else(not_found)
    }

    /// Restores a deleted lead within the restore window; returns it. A Sales_User may not (as
    /// it may not delete one); a lead whose email, phone or mobile a live lead has taken since is
    /// a conflict.
    pub async fn restore_lead(&self, caller: &User, guid: &str) -> Result<Lead> {
        if caller.role == Role::SalesUser {
            return Err(Error::Forbidden(
                "A Sales_User may not restore leads".into(),
            ));
        }
        let g = Uuid::parse_str(guid.trim()).map_err(|_| Error::NotFound(Missing::Lead))?;
        match self
            .store
            .restore_lead(caller.tenant_id, g, self.deleted_since())
            .await
        {
            Err(Error::Duplicate(u)) => {
                return Err(Error::Conflict(format!(
                    "The lead cannot be restored: {}",
                    Error::Duplicate(u)
                )))
            }
            other => other?,
        }
        self.store
            .lead_by_guid(caller.tenant_id, g)
            .await?
            .ok_or(Error::NotFound(Missing::Lead))
    }

    /// One purge sweep as of `now`: trashed activities and deleted leads past the restore
    /// window, change records past the history retention, in bounded batches. Returns how many
    /// rows went.
    pub async fn purge_expired(&self, now: Micros) -> Result<u64> {
        let window = micros(self.retention.restore_window);
        let p = PurgeBefore {
            activities: Some(now.saturating_sub(window)),
            leads: Some(now.saturating_sub(window)),
            history: self
                .retention
                .history
                .map(|h| now.saturating_sub(micros(h))),
            batch: PURGE_BATCH,
        };
        let mut total = 0;
        for _ in 0..PURGE_MAX_BATCHES {
            let n = self.store.purge_expired(p).await?;
            total += n;
            if n == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        Ok(total)
    }

    /// Runs `purge_expired` every `every`, for as long as the server runs; a failed sweep is
    /// logged and tried again at the next.
    pub async fn purge_loop(self: std::sync::Arc<Self>, every: Duration) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match self.purge_expired(now_micros()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "purged expired history and deleted records"),
                Err(e) => tracing::warn!(error = %e, "purge of expired records failed"),
            }
        }
    }
}
