//! The in-process directories of users and activity types that label activity rows.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

use super::rows::{query_users, type_by_id, uuid_col, ActivityRow, SqlResult};
use crate::domain::{ActivityType, ActivityView};
use crate::error::{Error, Result};

/// What an activity shows of its lead.
struct LeadLabel {
    guid: Uuid,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    deleted: bool,
}

/// The leads `rows` name, each read once (rows of one lead usually come together), sorted by id.
/// A lead row goes only together with its activities (the purge), so every id is found.
fn lead_labels(c: &Connection, rows: &[ActivityRow]) -> Result<Found<LeadLabel>> {
    let ids = distinct(rows.iter().filter_map(|r| r.view.lead_id));
    let mut stmt = c
        .prepare_cached(
            "SELECT guid, first_name, last_name, email, deleted_at IS NOT NULL FROM leads WHERE id = ?1",
        )
        .db()?;
    let mut leads = Vec::with_capacity(ids.len());
    for id in ids {
        let lead = stmt
            .query_row([id], |r| {
                Ok(LeadLabel {
                    guid: uuid_col(r, 0)?,
                    first_name: r.get(1)?,
                    last_name: r.get(2)?,
                    email: r.get(3)?,
                    deleted: r.get(4)?,
                })
            })
            .optional()
            .db()?;
        if let Some(lead) = lead {
            leads.push((id, Arc::new(lead)));
        }
    }
    Ok(Found(leads))
}

/// What an activity shows of a user it names.
struct UserLabel {
    guid: Uuid,
    name: String,
}

/// How long a directory trusts what it holds, and how many entries it holds at most.
const DIRECTORY_TTL: std::time::Duration = std::time::Duration::from_secs(10);
const DIRECTORY_CAP: usize = 100_000;

/// Rows of a small table by id, kept in process for the activities that name them: a page looks
/// up its few users and types here instead of joining `users` three times and `activity_types`
/// twice per row (docs/benchmarks.md has what each saved). Emptied every `DIRECTORY_TTL`, so that
/// an out-of-band edit of the table shows as it does for credentials (`auth::CredentialCache`),
/// and at once by `invalidate` when this store changes the table.
pub(super) struct Directory<V> {
    state: std::sync::RwLock<DirectoryState<V>>,
}

struct DirectoryState<V> {
    since: std::time::Instant,
    /// Counts invalidations. A read passes the generation it saw before its snapshot was taken,
    /// and what it loaded is kept only if no invalidation came in between: a row read from a
    /// snapshot older than a change must not outlive that change's `invalidate`.
    generation: u64,
    entries: HashMap<i64, Arc<V>>,
}

impl<V> Directory<V> {
    fn new() -> Directory<V> {
        Directory {
            state: std::sync::RwLock::new(DirectoryState {
                since: std::time::Instant::now(),
                generation: 0,
                entries: HashMap::new(),
            }),
        }
    }

    fn generation(&self) -> u64 {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .generation
    }

    /// Forgets every entry; called after a committed change to the table.
    pub(super) fn invalidate(&self) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.entries.clear();
        state.since = std::time::Instant::now();
    }

    /// The entries of `ids`: held ones, and missing ones read with `load` (`None`: no such row).
    /// `seen` is the generation the caller read before its snapshot.
    pub(super) fn get_all(
        &self,
        ids: impl Iterator<Item = i64>,
        seen: u64,
        mut load: impl FnMut(i64) -> Result<Option<V>>,
    ) -> Result<Found<V>> {
        // A page names a few distinct ids many times: each is looked up once.
        let ids = distinct(ids);
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            let fresh = state.since.elapsed() < DIRECTORY_TTL;
            for id in ids {
                match state.entries.get(&id).filter(|_| fresh) {
                    Some(v) => found.push((id, v.clone())),
                    None => missing.push(id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(Found(found));
        }
        let mut loaded = Vec::with_capacity(missing.len());
        for id in missing {
            if let Some(v) = load(id)? {
                let v = Arc::new(v);
                found.push((id, v.clone()));
                loaded.push((id, v));
            }
        }
        found.sort_unstable_by_key(|(id, _)| *id);
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if state.since.elapsed() >= DIRECTORY_TTL
            || state.entries.len() + loaded.len() > DIRECTORY_CAP
        {
            state.entries.clear();
            state.since = std::time::Instant::now();
        }
        if state.generation == seen {
            state.entries.extend(loaded);
        }
        Ok(Found(found))
    }
}

/// Each of `ids` once, ascending.
fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The entries one page needs, by id (ascending).
pub(super) struct Found<V>(Vec<(i64, Arc<V>)>);

impl<V> Found<V> {
    pub(super) fn get(&self, id: i64) -> Option<&Arc<V>> {
        self.0
            .binary_search_by_key(&id, |(k, _)| *k)
            .ok()
            .map(|i| &self.0[i].1)
    }
}

/// The directories' generations as a read saw them before its snapshot (see `DirectoryState`).
#[derive(Clone, Copy)]
pub(super) struct Seen {
    users: u64,
    pub(super) types: u64,
}

/// The users and activity types that activity rows name, by id. No code path changes a user once
/// created; a type changes only through `update_activity_type`, which invalidates `types`.
pub(super) struct Labels {
    users: Directory<UserLabel>,
    pub(super) types: Directory<ActivityType>,
}

impl Labels {
    pub(super) fn new() -> Labels {
        Labels {
            users: Directory::new(),
            types: Directory::new(),
        }
    }

    /// What `label` needs to be passed: read before the read's snapshot is taken.
    pub(super) fn generation(&self) -> Seen {
        Seen {
            users: self.users.generation(),
            types: self.types.generation(),
        }
    }

    /// The activities of `rows` with their types' attributes and their users' GUIDs and names;
    /// those the directories do not hold are read with `c` (in the caller's transaction, when it
    /// has one). `seen`: `generation()` from before the caller's first statement.
    pub(super) fn label(
        &self,
        c: &Connection,
        rows: Vec<ActivityRow>,
        seen: Seen,
    ) -> Result<Vec<ActivityView>> {
        let users = self.users.get_all(
            rows.iter()
                .flat_map(|r| [r.view.owner_id, r.created_by, r.modified_by]),
            seen.users,
            |id| {
                Ok(query_users(c, "u.id = ?1", [id])?.pop().map(|u| UserLabel {
                    guid: u.user.guid,
                    name: u.user.full_name(),
                }))
            },
        )?;
        let types = self.types.get_all(
            rows.iter()
                .flat_map(|r| std::iter::once(r.view.type_id).chain(r.resource_type_id)),
            seen.types,
            |id| type_by_id(c, id),
        )?;
        let leads = lead_labels(c, &rows)?;
        rows.into_iter()
            .map(|r| {
                let id = r.view.id;
                let missing = |what: &str, of: i64| {
                    Error::Internal(
                        format!("activity {id} names {what} {of}, which does not exist").into(),
                    )
                };
                let user = |of: i64| users.get(of).ok_or_else(|| missing("user", of));
                let owner = user(r.view.owner_id)?;
                let ty = types
                    .get(r.view.type_id)
                    .ok_or_else(|| missing("activity type", r.view.type_id))?;
                // An opportunity is named by its note, or by its type when the note is empty.
                let opportunity_name = match (r.resource_note, r.resource_type_id) {
                    (Some(note), _) if !note.is_empty() => Some(note),
                    (_, Some(t)) => types.get(t).map(|t| t.display_name.clone()),
                    _ => None,
                };
                // As the join read it: no lead fields for an account's activity.
                let lead = r.view.lead_id.and_then(|of| leads.get(of));
                Ok(ActivityView {
                    lead_guid: lead.map(|l| l.guid),
                    lead_first_name: lead.and_then(|l| l.first_name.clone()),
                    lead_last_name: lead.and_then(|l| l.last_name.clone()),
                    lead_email: lead.and_then(|l| l.email.clone()),
                    lead_deleted: lead.is_some_and(|l| l.deleted),
                    type_name: ty.name.clone(),
                    type_display_name: ty.display_name.clone(),
                    type_kind: ty.kind,
                    direction: ty.direction,
                    is_email_type: ty.is_email_type,
                    salesloft_type: ty.salesloft_type.clone(),
                    owner_guid: owner.guid,
                    owner_name: owner.name.clone(),
                    created_by_name: user(r.created_by)?.name.clone(),
                    modified_by_name: user(r.modified_by)?.name.clone(),
                    opportunity_name,
                    ..r.view
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page's ids come back once each, in order; a load made from a snapshot older than an
    /// invalidation is answered but not kept, and a load made after it is kept.
    #[test]
    fn a_directory_keeps_nothing_loaded_across_an_invalidation() {
        let d: Directory<String> = Directory::new();
        let loads = std::cell::Cell::new(0);
        let load = |id: i64| {
            loads.set(loads.get() + 1);
            Ok(Some(format!("v{id}")))
        };
        let seen = d.generation();
        d.invalidate();
        let found = d.get_all([3, 1, 3, 2, 1].into_iter(), seen, load).unwrap();
        let ids: Vec<i64> = found.0.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert_eq!(found.get(2).map(|v| v.as_str()), Some("v2"));
        assert_eq!(loads.get(), 3);
        // Loaded from before the invalidation: not kept, so loaded again.
        d.get_all([1].into_iter(), d.generation(), load).unwrap();
        assert_eq!(loads.get(), 4);
        // Loaded with the current generation: kept.
        d.get_all([1].into_iter(), d.generation(), load).unwrap();
        assert_eq!(loads.get(), 4);
        assert!(d
            .get_all([9].into_iter(), d.generation(), |_| Ok(None))
            .unwrap()
            .get(9)
            .is_none());
    }
}
