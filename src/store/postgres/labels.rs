//! Labelling PostgreSQL's activity rows from the shared directories (`store::labels`): what a
//! page names that the directories lack is read in one statement per table, and a tenant's types
//! are dropped when its `types_version` moves.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;

use super::rows::{query, query_users, type_row, TYPE_COLS};
use crate::domain::{ActivityType, ActivityView};
use crate::error::Result;
use crate::store::labels::{fill, ActivityRow, Directory, Labels, Seen, UserLabel};

/// Tenants whose version `TypeVersions` notes at most; past it, it starts over (emptying the
/// type directory with it).
const VERSIONS_CAP: usize = 100_000;

/// The store's directories and the types versions that keep them exact.
pub(super) struct PgLabels {
    labels: Labels,
    versions: TypeVersions,
}

impl PgLabels {
    pub(super) fn new() -> PgLabels {
        PgLabels {
            labels: Labels::new(),
            versions: TypeVersions::new(),
        }
    }

    /// What `label` takes: read before the statement whose rows it labels.
    pub(super) fn generation(&self) -> Seen {
        self.labels.generation()
    }

    /// Empties the type directory: called after this store changed a type.
    pub(super) fn types_changed(&self) {
        self.labels.types.invalidate();
    }

    /// The activities `rows` (as `activity_row` reads them, of tenant `tenant_id`) labelled; what
    /// the directories lack is read with `c` (in the caller's transaction, when it has one).
    pub(super) async fn label<C: GenericClient>(
        &self,
        c: &C,
        tenant_id: i64,
        rows: Vec<(ActivityRow, i64)>,
        seen: Seen,
    ) -> Result<Vec<ActivityView>> {
        if let Some(&(_, version)) = rows.first() {
            self.versions.note(&self.labels.types, tenant_id, version);
        }
        let rows: Vec<ActivityRow> = rows.into_iter().map(|(row, _)| row).collect();
        let labels = &self.labels;
        let users = labels
            .users
            .held(rows.iter().flat_map(ActivityRow::user_ids));
        let types = labels
            .types
            .held(rows.iter().flat_map(ActivityRow::type_ids));
        let (loaded_users, loaded_types) =
            tokio::try_join!(load_users(c, &users.missing), load_types(c, &types.missing))?;
        let users = labels.users.keep(users, loaded_users, seen.users);
        let types = labels.types.keep(types, loaded_types, seen.types);
        fill(rows, &users, &types)
    }
}

/// Each tenant's `types_version` (migration 0019) as this process's pages last read it. Every
/// type the directory holds was loaded after its tenant's version was noted here, by a page that
/// read that version or a later one, so a page that reads a newer version knows the directory
/// may hold a type older than its rows: it empties the directory. Types changed by another
/// process or out of band therefore show on the next page, not after the directory's 10 s.
struct TypeVersions(std::sync::Mutex<HashMap<i64, i64>>);

impl TypeVersions {
    fn new() -> TypeVersions {
        TypeVersions(std::sync::Mutex::new(HashMap::new()))
    }

    /// Notes that a page of `tenant_id` read `version`, emptying `types` when it is newer than
    /// the version noted. An older one (a page whose snapshot predates another's) changes nothing.
    fn note(&self, types: &Directory<ActivityType>, tenant_id: i64, version: i64) {
        let mut noted = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if noted.len() >= VERSIONS_CAP && !noted.contains_key(&tenant_id) {
            // No type loaded before this point may outlive the versions noted for it.
            noted.clear();
            types.invalidate();
        }
        let noted = noted.entry(tenant_id).or_insert(version);
        if *noted < version {
            *noted = version;
            types.invalidate();
        }
    }
}

async fn load_users<C: GenericClient>(c: &C, ids: &[i64]) -> Result<Vec<(i64, UserLabel)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let users = query_users(c, "u.id = ANY($1)", &[&ids]).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let label = UserLabel {
                guid: u.user.guid,
                name: u.user.full_name(),
            };
            (u.user.id, label)
        })
        .collect())
}

async fn load_types<C: GenericClient>(c: &C, ids: &[i64]) -> Result<Vec<(i64, ActivityType)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT {TYPE_COLS} FROM activity_types WHERE id = ANY($1)");
    query(c, &sql, &[&ids])
        .await?
        .iter()
        .map(|r| type_row(r).map(|t| (t.id, t)))
        .collect()
}
