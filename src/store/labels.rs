//! The in-process directories of users and activity types that label activity rows, and the
//! labelling itself; each backend reads the rows and loads what the directories lack.

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use crate::domain::{ActivityType, ActivityView};
use crate::error::{Error, Result};

/// How long a directory trusts what it holds, and how many entries it holds at most.
const DIRECTORY_TTL: std::time::Duration = std::time::Duration::from_secs(10);
const DIRECTORY_CAP: usize = 100_000;

/// Rows of a small table by id, kept in process for the activities that name them: a page looks
/// up its few users and types here instead of joining `users` three times and `activity_types`
/// twice per row (docs/benchmarks.md has what each saved). Emptied every `DIRECTORY_TTL`, so that
/// an out-of-band edit of the table (another process, another tool) shows as it does for
/// credentials (`auth::CredentialCache`), and at once by `invalidate` when this store changes the
/// table.
pub(crate) struct Directory<V> {
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

/// What a directory holds of a page's ids, and the ids it must load.
pub(crate) struct Held<V> {
    found: Vec<(i64, Arc<V>)>,
    pub(crate) missing: Vec<i64>,
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
    pub(crate) fn invalidate(&self) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.entries.clear();
        state.since = std::time::Instant::now();
    }

    /// The entries of `ids` it holds, and the ids it does not (each once, ascending).
    pub(crate) fn held(&self, ids: impl Iterator<Item = i64>) -> Held<V> {
        // A page names a few distinct ids many times: each is looked up once.
        let ids = distinct(ids);
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let fresh = state.since.elapsed() < DIRECTORY_TTL;
        for id in ids {
            match state.entries.get(&id).filter(|_| fresh) {
                Some(v) => found.push((id, v.clone())),
                None => missing.push(id),
            }
        }
        Held { found, missing }
    }

    /// `held` completed with `loaded` (the rows of its missing ids that exist), which are kept
    /// unless an invalidation came after `seen`, the generation the caller read before its
    /// snapshot.
    pub(crate) fn keep(&self, held: Held<V>, loaded: Vec<(i64, V)>, seen: u64) -> Found<V> {
        let Held { mut found, .. } = held;
        if loaded.is_empty() {
            return Found(found);
        }
        let loaded: Vec<(i64, Arc<V>)> = loaded
            .into_iter()
            .map(|(id, v)| (id, Arc::new(v)))
            .collect();
        found.extend(loaded.iter().cloned());
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
        Found(found)
    }

    /// The entries of `ids`: held ones, and missing ones read with `load` (`None`: no such row).
    /// `seen` is the generation the caller read before its snapshot.
    pub(crate) fn get_all(
        &self,
        ids: impl Iterator<Item = i64>,
        seen: u64,
        mut load: impl FnMut(i64) -> Result<Option<V>>,
    ) -> Result<Found<V>> {
        let held = self.held(ids);
        let mut loaded = Vec::with_capacity(held.missing.len());
        for &id in &held.missing {
            if let Some(v) = load(id)? {
                loaded.push((id, v));
            }
        }
        Ok(self.keep(held, loaded, seen))
    }
}

/// Each of `ids` once, ascending.
pub(crate) fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The entries one page needs, by id (ascending).
pub(crate) struct Found<V>(Vec<(i64, Arc<V>)>);

impl<V> Found<V> {
    /// `entries` by id, ascending.
    pub(crate) fn new(mut entries: Vec<(i64, Arc<V>)>) -> Found<V> {
        entries.sort_unstable_by_key(|(id, _)| *id);
        Found(entries)
    }

    pub(crate) fn get(&self, id: i64) -> Option<&Arc<V>> {
        self.0
            .binary_search_by_key(&id, |(k, _)| *k)
            .ok()
            .map(|i| &self.0[i].1)
    }
}

/// What an activity shows of a user it names.
pub(crate) struct UserLabel {
    pub(crate) guid: Uuid,
    pub(crate) name: String,
}

/// An activity as its row reads, before `Labels::fill` fills in its type and its users.
pub(crate) struct ActivityRow {
    pub(crate) view: ActivityView,
    pub(crate) created_by: i64,
    pub(crate) modified_by: i64,
    /// The type of the opportunity the activity is about (Salesloft `crm_opportunity` resource).
    pub(crate) resource_type_id: Option<i64>,
    /// That opportunity's note, which names it unless empty.
    pub(crate) resource_note: Option<String>,
}

impl ActivityRow {
    /// The users the row names: owner, creator, last modifier.
    pub(crate) fn user_ids(&self) -> [i64; 3] {
        [self.view.owner_id, self.created_by, self.modified_by]
    }

    /// The types the row names: its own, and its opportunity's.
    pub(crate) fn type_ids(&self) -> impl Iterator<Item = i64> {
        std::iter::once(self.view.type_id).chain(self.resource_type_id)
    }
}

/// The directories' generations as a read saw them before its snapshot (see `DirectoryState`).
#[derive(Clone, Copy)]
pub(crate) struct Seen {
    pub(crate) users: u64,
    pub(crate) types: u64,
}

/// The users and activity types that activity rows name, by id. No code path changes a user once
/// created; a type changes only through `update_activity_type`, which invalidates `types`.
pub(crate) struct Labels {
    pub(crate) users: Directory<UserLabel>,
    pub(crate) types: Directory<ActivityType>,
}

impl Labels {
    pub(crate) fn new() -> Labels {
        Labels {
            users: Directory::new(),
            types: Directory::new(),
        }
    }

    /// What a read passes to `keep`: read before the read's snapshot is taken.
    pub(crate) fn generation(&self) -> Seen {
        Seen {
            users: self.users.generation(),
            types: self.types.generation(),
        }
    }
}

/// The activities of `rows` with their types' attributes and their users' GUIDs and names, from
/// `users` and `types`, which hold every id the rows name. The lead's fields are the backend's:
/// as the row read them.
pub(crate) fn fill(
    rows: Vec<ActivityRow>,
    users: &Found<UserLabel>,
    types: &Found<ActivityType>,
) -> Result<Vec<ActivityView>> {
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
            Ok(ActivityView {
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
