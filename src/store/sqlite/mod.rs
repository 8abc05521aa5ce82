//! The embedded SQLite backend: `SqliteStore`, how it opens, and its `Store` methods.
//!
//! One writer thread group-commits (`writer`), reads run on the asking thread (or, past a small
//! budget, on a pool of reader threads: `reader`), and a checkpointer thread copies the WAL back.

pub mod backup;
mod idempotency;
#[cfg(test)]
mod job_spans;
mod labels;
mod migrate;
mod outbox;
mod query;
mod reader;
mod rows;
mod trash;
mod writer;
mod writes;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, OptionalExtension};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Store, UserCredentials};
use crate::domain::directory::{DirectoryQuery, UserRecord};
use crate::domain::history::{
    ActivityChange, ActivityRef, Actor, ChangeQuery, PurgeBefore, TrashedActivity,
};
use crate::domain::Micros;
use crate::domain::{
    time::now_micros, Account, ActivityQuery, ActivityType, ActivityUpdate, ActivityView, Lead,
    LeadKey, LeadPatch, LeadQuery, NewAccount, NewActivity, NewActivityType, NewLead, NewUser,
    Page, Tenant, User,
};
use crate::error::{Error, Result};
use crate::events::{Delivery, DueDelivery, Event, NewWebhook, Outcome, Webhook};
use crate::store::labels::Labels;
use migrate::migrate;
use query::list_in;
pub use query::{activity_count_sql, activity_page_sql, directory_count_sql, directory_page_sql};

/// The statement `find_leads` runs for `q`, with its parameters (public so that tests and
/// reports can EXPLAIN QUERY PLAN exactly what a `Leads.Get` executes).
pub fn lead_page_sql(q: &LeadQuery) -> (String, Vec<i64>) {
    let (filter, values) = crate::store::lead_query_sql(q, |n| format!("?{n}"));
    (
        format!("SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id {filter}"),
        values,
    )
}
/// The statement of `search_leads` (parameters: tenant, owner or null, the key's prefix range,
/// the limit): the candidates of each searched column's index, the oldest `limit` of them.
pub fn quick_search_sql() -> String {
    let ids = crate::store::quick_search_ids_sql(|n| format!("?{n}"), "", "");
    format!(
        "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id
          WHERE l.id IN ({ids}) ORDER BY l.id LIMIT ?5"
    )
}
use reader::{open_connection, ReaderPool};
use rows::{
    account_row, activity_row, lead_row, query_users, type_by_id, type_row, uuid_col, SqlResult,
    ACCOUNT_SELECT, ACTIVITY_SELECT, LEAD_COLS, TYPE_COLS,
};
use writer::{checkpointer_loop, writer_cache_kib, writer_loop, Job, WriteHealth, WAL_PAGES};
use writes::{insert_lead, insert_rows, insert_type, insert_user};

pub struct SqliteStore {
    /// Bounded: a write that finds it full is refused (see `writer::WRITE_QUEUE`).
    writer: mpsc::Sender<Box<dyn Job>>,
    /// Whether writes are failing for want of space; `ping` reports it.
    health: Arc<WriteHealth>,
    readers: Arc<ReaderPool>,
    path: PathBuf,
    /// The page cache of each inline read connection (`Bounds::read_cache_kib`).
    read_cache_kib: i64,
    labels: Arc<Labels>,
    /// Tells this store's inline connections from another store's (tests open many stores in one
    /// process, sometimes on the same path after deleting the file).
    id: u64,
}

/// What a SQLite store may hold. `writes` and `reads`: how many jobs may wait for the writer
/// thread and for the reader threads; past that a call is refused at once with `Unavailable` (503
/// with `Retry-After`) instead of queued. Each is taken between 1 and [`MAX_QUEUE`].
/// `read_cache_kib`: the page cache of each reading connection (the reader threads' and each
/// async worker's inline one), which fills with the pages reads touch up to that size; the
/// checkpointer's connection takes the same bound (the writer sets its own, `writer_cache_kib`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub writes: usize,
    pub reads: usize,
    pub read_cache_kib: i64,
}

/// The largest queue bound taken (the read queue's slots are allocated up front).
pub const MAX_QUEUE: usize = 65536;

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            writes: writer::WRITE_QUEUE,
            reads: reader::READ_QUEUE,
            read_cache_kib: reader::READ_CACHE_KIB,
        }
    }
}

/// The store ids handed out so far.
static STORE_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &str) -> std::result::Result<SqliteStore, String> {
        SqliteStore::open_with(path, Bounds::default())
    }

    /// `open`, with the job queues and read caches bounded at `bounds`.
    pub fn open_with(path: &str, bounds: Bounds) -> std::result::Result<SqliteStore, String> {
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        // The writer's own cache size is set below (`writer_cache_kib`).
        let conn =
            open_connection(&path, false, bounds.read_cache_kib).map_err(|e| e.to_string())?;
        // SQLite opens a file it may not write read-only without a word; every write would then
        // fail. Refused here, with the reason, rather than served half-working.
        if conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(|e| e.to_string())?
        {
            return Err(format!(
                "{} cannot be written (a read-only file, directory or file system)",
                path.display()
            ));
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(format!(
                "cannot switch {} to WAL mode (got {mode})",
                path.display()
            ));
        }
        migrate(&conn).map_err(|e| format!("migration failed: {e}"))?;
        // Inline connections are opened later, on first use: an absolute path keeps them on this
        // file even if the working directory changes.
        let path = path.canonicalize().unwrap_or(path);
        // The WAL is checkpointed when it holds ~64 MiB (not SQLite's 4 MiB): a page changed by
        // many commits is copied back once per checkpoint instead of every few commits. The
        // checkpoint runs on a thread of its own (see `checkpointer_loop`), so that the writer,
        // which every write waits for, spends its time on commits only. The writer also caches
        // more of the indexes it inserts into (`writer_cache_kib`). Durability is the WAL's
        // fsync at each commit, not the checkpoint.
        // A batch whose write fails runs again with each write in its own savepoint (see `Job`);
        // SQLite journals the pages a savepoint changes in a statement journal, by default a
        // temporary file. In memory it costs no write() per page: Create and bulk calls took
        // 17-20 % less server CPU (bench/cpu_ab.py). It only ever holds one batch's changed
        // pages, and it plays no part in durability (the WAL does).
        let cache_kib = writer_cache_kib(&conn).map_err(|e| e.to_string())?;
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{cache_kib}; PRAGMA temp_store = MEMORY;"
        ))
        .map_err(|e| e.to_string())?;
        // Replaces SQLite's automatic checkpoint (which would run on the writer thread).
        conn.wal_hook(Some(|_, pages| {
            WAL_PAGES.with(|p| p.set(pages));
            Ok(())
        }));
        let checkpoint_conn =
            open_connection(&path, false, bounds.read_cache_kib).map_err(|e| e.to_string())?;
        let (checkpoints, checkpoint_rx) = std::sync::mpsc::sync_channel::<()>(1);
        let (checkpointed_tx, checkpointed) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpointer".into())
            .spawn(move || checkpointer_loop(checkpoint_conn, checkpoint_rx, checkpointed_tx))
            .map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::channel(bounds.writes.clamp(1, MAX_QUEUE));
        let health = Arc::new(WriteHealth::default());
        let writer_health = health.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                writer_loop(
                    conn,
                    cache_kib,
                    rx,
                    checkpoints,
                    checkpointed,
                    writer_health,
                )
            })
            .map_err(|e| e.to_string())?;
        // `/metrics` shows both job queues from the start, not from the first job queued.
        crate::telemetry::StoreQueue::read();
        crate::telemetry::StoreQueue::write();
        Ok(SqliteStore {
            writer: tx,
            health,
            readers: Arc::new(ReaderPool::start(
                &path,
                bounds.reads.clamp(1, MAX_QUEUE),
                bounds.read_cache_kib,
            )?),
            read_cache_kib: bounds.read_cache_kib,
            labels: Arc::new(Labels::new()),
            path,
            id: STORE_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// The tenant's activity whose `column` (`guid` or `id`) is `key`, with its users' names.
    async fn activity_where(
        &self,
        tenant_id: i64,
        column: &'static str,
        key: SqlValue,
    ) -> Result<Option<ActivityView>> {
        // One snapshot for the row and its lead, which `label` reads separately.
        self.read_labelled(move |tx, labels, seen| {
            let sql = format!("{ACTIVITY_SELECT} WHERE a.tenant_id = ?1 AND a.{column} = ?2");
            let row = tx
                .prepare_cached(&sql)
                .db()?
                .query_row(params![tenant_id, key], activity_row)
                .optional()
                .db()?;
            Ok(labels::label(labels, tx, row.into_iter().collect(), seen)?.pop())
        })
        .await
    }
}

/// How long after the last write that failed for want of space `/readyz` keeps answering 503.
const NOT_READY_AFTER_FAILURE: std::time::Duration = std::time::Duration::from_secs(10);

#[async_trait]
impl Store for SqliteStore {
    /// Not ready while writes fail for want of space (a full disk, an I/O error), even though
    /// reads still answer: every write would fail. Ready again once a write succeeds, or once
    /// [`NOT_READY_AFTER_FAILURE`] has passed without a failed write (no write may come while a
    /// balancer keeps traffic away; the next one tells again).
    async fn ping(&self) -> Result<()> {
        if let Some(since) = self.health.failing_recently(NOT_READY_AFTER_FAILURE) {
            let secs = (now_micros() - since).max(0) / 1_000_000;
            return Err(Error::Unavailable(
                format!("writes to the database file have been failing for {secs} s (disk full, read-only or I/O error)").into(),
            ));
        }
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).db())
            .await
    }

    async fn create_tenant(
        &self,
        name: &str,
        admin: NewUser,
        types: Vec<NewActivityType>,
    ) -> Result<(Tenant, User)> {
        let name = name.to_string();
        let (tenant, user_id) = self
            .write(move |c| writes::create_tenant(c, &name, &admin, &types))
            .await?;
        let user = self
            .read(move |c| query_users(c, "u.id = ?1", params![user_id]))
            .await?
            .pop()
            .ok_or_else(|| Error::Internal("created user vanished".into()))?;
        Ok((tenant, user.user))
    }

    async fn tenant_by_guid(&self, guid: Uuid) -> Result<Option<Tenant>> {
        self.read(move |c| {
            c.prepare_cached("SELECT id, guid, name FROM tenants WHERE guid = ?1")
                .db()?
                .query_row(params![guid.to_string()], |r| {
                    Ok(Tenant {
                        id: r.get(0)?,
                        guid: uuid_col(r, 1)?,
                        name: r.get(2)?,
                    })
                })
                .optional()
                .db()
        })
        .await
    }

    async fn count_tenants(&self) -> Result<u64> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM tenants", [], |r| r.get::<_, i64>(0))
                .db()
                .map(|n| n as u64)
        })
        .await
    }

    async fn create_user(&self, tenant_id: i64, user: NewUser) -> Result<User> {
        let id = self
            .write(move |c| insert_user(c, tenant_id, &user))
            .await?;
        self.read(move |c| query_users(c, "u.id = ?1", params![id]))
            .await?
            .pop()
            .map(|u| u.user)
            .ok_or_else(|| Error::Internal("created user vanished".into()))
    }

    async fn user_by_access_key(&self, digest: &[u8; 32]) -> Result<Option<UserCredentials>> {
        let d = digest.to_vec();
        self.read(move |c| Ok(query_users(c, "u.access_key_digest = ?1", params![d])?.pop()))
            .await
    }

    async fn user_by_api_key(&self, digest: &[u8; 32]) -> Result<Option<User>> {
        let d = digest.to_vec();
        self.read(move |c| {
            Ok(query_users(c, "u.api_key_digest = ?1", params![d])?
                .pop()
                .map(|u| u.user))
        })
        .await
    }

    async fn list_users(&self, tenant_id: i64) -> Result<Vec<User>> {
        self.read(move |c| {
            Ok(query_users(c, "u.tenant_id = ?1", params![tenant_id])?
                .into_iter()
                .map(|u| u.user)
                .collect())
        })
        .await
    }

    async fn user_by_email(&self, tenant_id: i64, email: &str) -> Result<Option<User>> {
        let email = email.trim().to_lowercase();
        self.read(move |c| {
            Ok(query_users(
                c,
                "u.tenant_id = ?1 AND u.email_lc = ?2",
                params![tenant_id, email],
            )?
            .pop()
            .map(|u| u.user))
        })
        .await
    }

    async fn user_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<User>> {
        self.read(move |c| {
            Ok(query_users(
                c,
                "u.tenant_id = ?1 AND u.guid = ?2",
                params![tenant_id, guid.to_string()],
            )?
            .pop()
            .map(|u| u.user))
        })
        .await
    }

    async fn create_lead(&self, tenant_id: i64, lead: NewLead) -> Result<Lead> {
        let guid = lead.guid;
        self.write(move |c| {
            let id = insert_lead(c, tenant_id, &lead)?;
            outbox::leads_changed(c, tenant_id, Event::LeadCreated, &[id])
        })
        .await?;
        self.lead_by_guid(tenant_id, guid)
            .await?
            .ok_or_else(|| Error::Internal("created lead vanished".into()))
    }

    async fn create_leads(&self, tenant_id: i64, leads: Vec<NewLead>) -> Result<Vec<i64>> {
        self.write(move |c| {
            let ids = leads
                .iter()
                .map(|l| insert_lead(c, tenant_id, l))
                .collect::<Result<Vec<_>>>()?;
            outbox::leads_changed(c, tenant_id, Event::LeadCreated, &ids)?;
            Ok(ids)
        })
        .await
    }

    async fn lead_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Lead>> {
        self.read(move |c| {
            let sql = format!(
                "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id WHERE l.tenant_id = ?1 AND l.guid = ?2 AND l.deleted_at IS NULL"
            );
            c.prepare_cached(&sql)
                .db()?
                .query_row(params![tenant_id, guid.to_string()], lead_row)
                .optional()
                .db()
        })
        .await
    }

    async fn lead_by_key(&self, tenant_id: i64, key: LeadKey, value: &str) -> Result<Option<Lead>> {
        let (column, value) = match key {
            LeadKey::Email => ("l.email_lc", value.trim().to_lowercase()),
            LeadKey::Phone => ("l.phone", value.trim().to_string()),
            LeadKey::Mobile => ("l.mobile", value.trim().to_string()),
        };
        self.read(move |c| {
            let sql = format!(
                "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id WHERE l.tenant_id = ?1 AND {column} = ?2 AND l.deleted_at IS NULL"
            );
            c.prepare_cached(&sql)
                .db()?
                .query_row(params![tenant_id, value], lead_row)
                .optional()
                .db()
        })
        .await
    }

    async fn update_lead(&self, tenant_id: i64, lead_id: i64, patch: LeadPatch) -> Result<()> {
        self.write(move |c| {
            writes::update_lead(c, tenant_id, lead_id, &patch)?;
            outbox::leads_changed(c, tenant_id, Event::LeadUpdated, &[lead_id])
        })
        .await
    }

    async fn search_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Lead>> {
        let (low, high) = crate::store::prefix_range(text);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&quick_search_sql()).db()?;
            let rows = stmt
                .query_map(params![tenant_id, owner_id, low, high, limit], lead_row)
                .db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn find_leads(&self, q: &LeadQuery) -> Result<Vec<Lead>> {
        let (sql, values) = lead_page_sql(q);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&sql).db()?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values.iter()), lead_row)
                .db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn lead_attribute_names(&self, tenant_id: i64, limit: u32) -> Result<Vec<String>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT name FROM lead_fields WHERE tenant_id = ?1 ORDER BY name LIMIT ?2",
                )
                .db()?;
            let rows = stmt
                .query_map(params![tenant_id, limit], |r| r.get::<_, String>(0))
                .db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn list_activity_types(&self, tenant_id: i64) -> Result<Vec<ActivityType>> {
        self.read(move |c| {
            let sql = format!(
                "SELECT {TYPE_COLS} FROM activity_types WHERE tenant_id = ?1 ORDER BY event_code"
            );
            let mut stmt = c.prepare_cached(&sql).db()?;
            let rows = stmt.query_map(params![tenant_id], type_row).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn activity_type_by_code(
        &self,
        tenant_id: i64,
        code: i64,
    ) -> Result<Option<Arc<ActivityType>>> {
        // Only the id is read here; the type itself comes from the directory, which parses
        // its field definitions once rather than on every write (a tenth of a Create).
        self.read_labelled(move |tx, labels, seen| {
            let id: Option<i64> = tx
                .prepare_cached(
                    "SELECT id FROM activity_types WHERE tenant_id = ?1 AND event_code = ?2",
                )
                .db()?
                .query_row(params![tenant_id, code], |r| r.get(0))
                .optional()
                .db()?;
            Ok(match id {
                None => None,
                Some(id) => labels
                    .types
                    .get_all(std::iter::once(id), seen.types, |id| type_by_id(tx, id))?
                    .get(id)
                    .cloned(),
            })
        })
        .await
    }

    async fn create_activity_type(
        &self,
        tenant_id: i64,
        ty: NewActivityType,
    ) -> Result<ActivityType> {
        let id = self
            .write(move |c| insert_type(c, tenant_id, &ty, now_micros()))
            .await?;
        self.read(move |c| {
            let sql =
                format!("SELECT {TYPE_COLS} FROM activity_types WHERE tenant_id = ?1 AND id = ?2");
            c.prepare_cached(&sql)
                .db()?
                .query_row(params![tenant_id, id], type_row)
                .db()
        })
        .await
    }

    async fn update_activity_type(&self, tenant_id: i64, ty: ActivityType) -> Result<()> {
        let labels = self.labels.clone();
        // The type directory is emptied after the commit, so that no read can load the old row
        // again once the change is visible.
        self.write_then(
            move |c| writes::update_activity_type(c, tenant_id, &ty),
            move || labels.types.invalidate(),
        )
        .await
    }

    async fn insert_activities(
        &self,
        tenant_id: i64,
        activities: Vec<NewActivity>,
    ) -> Result<Vec<i64>> {
        if activities.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |c| {
            let ids = insert_rows(c, tenant_id, &activities)?;
            outbox::activities_changed(c, tenant_id, Event::ActivityCreated, &ids)?;
            Ok(ids)
        })
        .await
    }

    /// The lead's score is read in the write transaction: a Create costs no second read.
    async fn insert_activity_scored(&self, tenant_id: i64, activity: NewActivity) -> Result<i64> {
        let Some(lead) = activity.lead_id else {
            return Err(Error::Internal(
                "insert_activity_scored needs an activity on a lead".into(),
            ));
        };
        self.write(move |c| {
            let ids = insert_rows(c, tenant_id, std::slice::from_ref(&activity))?;
            outbox::activities_changed(c, tenant_id, Event::ActivityCreated, &ids)?;
            c.prepare_cached("SELECT score FROM leads WHERE tenant_id = ?1 AND id = ?2")
                .db()?
                .query_row(params![tenant_id, lead], |r| r.get(0))
                .db()
        })
        .await
    }

    async fn update_activity(&self, tenant_id: i64, u: ActivityUpdate, actor: Actor) -> Result<()> {
        self.write(move |c| {
            writes::update_activity(c, tenant_id, &u, actor)?;
            outbox::activities_changed(c, tenant_id, Event::ActivityUpdated, &[u.id])
        })
        .await
    }

    async fn activity_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<ActivityView>> {
        self.activity_where(tenant_id, "guid", SqlValue::Text(guid.to_string()))
            .await
    }

    async fn activity_by_id(&self, tenant_id: i64, id: i64) -> Result<Option<ActivityView>> {
        self.activity_where(tenant_id, "id", SqlValue::Integer(id))
            .await
    }

    async fn delete_activity(&self, tenant_id: i64, id: i64, actor: Actor) -> Result<()> {
        self.write(move |c| {
            // Before the row goes to the trash, so the event can describe it; a failed delete
            // rolls it back.
            outbox::activities_changed(c, tenant_id, Event::ActivityDeleted, &[id])?;
            writes::delete_activity(c, tenant_id, id, actor)
        })
        .await
    }

    async fn delete_activities(&self, tenant_id: i64, ids: Vec<i64>, actor: Actor) -> Result<()> {
        // One write job: its savepoint rolls every delete back when one fails.
        self.write(move |c| {
            for &id in &ids {
                outbox::activities_changed(c, tenant_id, Event::ActivityDeleted, &[id])?;
                writes::delete_activity(c, tenant_id, id, actor)?;
            }
            Ok(())
        })
        .await
    }

    async fn trashed_activity(
        &self,
        tenant_id: i64,
        key: ActivityRef,
    ) -> Result<Option<TrashedActivity>> {
        self.read(move |c| trash::trashed(c, tenant_id, key)).await
    }

    async fn restore_activity(
        &self,
        tenant_id: i64,
        id: i64,
        deleted_since: Micros,
        actor: Actor,
    ) -> Result<()> {
        self.write(move |c| writes::restore_activity(c, tenant_id, id, deleted_since, actor))
            .await
    }

    async fn activity_changes(&self, q: &ChangeQuery) -> Result<Page<ActivityChange>> {
        let q = q.clone();
        self.read(move |c| trash::changes(c, &q)).await
    }

    async fn restore_lead(&self, tenant_id: i64, guid: Uuid, deleted_since: Micros) -> Result<()> {
        self.write(move |c| writes::restore_lead(c, tenant_id, guid, deleted_since))
            .await
    }

    async fn purge_expired(&self, p: PurgeBefore) -> Result<u64> {
        self.write(move |c| trash::purge(c, p)).await
    }

    async fn list_leads(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Lead>> {
        self.read(move |c| {
            let sql = format!(
                "SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id
                 WHERE l.tenant_id = ?1 AND l.deleted_at IS NULL AND (?2 IS NULL OR l.owner_id = ?2) AND l.id > ?3
                 ORDER BY l.id LIMIT ?4"
            );
            let mut stmt = c.prepare_cached(&sql).db()?;
            let rows = stmt
                .query_map(params![tenant_id, owner_id, after_id, limit], lead_row)
                .db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn delete_lead(&self, tenant_id: i64, lead_id: i64) -> Result<()> {
        self.write(move |c| writes::delete_lead(c, tenant_id, lead_id))
            .await
    }

    async fn create_account(&self, tenant_id: i64, account: NewAccount) -> Result<Account> {
        let guid = account.guid;
        self.write(move |c| writes::create_account(c, tenant_id, &account))
            .await?;
        self.account_by_guid(tenant_id, guid)
            .await?
            .ok_or_else(|| Error::Internal("created account vanished".into()))
    }

    async fn account_by_guid(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Account>> {
        self.read(move |c| {
            let sql = format!("{ACCOUNT_SELECT} WHERE ac.tenant_id = ?1 AND ac.guid = ?2");
            c.prepare_cached(&sql)
                .db()?
                .query_row(params![tenant_id, guid.to_string()], account_row)
                .optional()
                .db()
        })
        .await
    }

    async fn list_accounts(
        &self,
        tenant_id: i64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Account>> {
        self.read(move |c| {
            let sql = format!(
                "{ACCOUNT_SELECT} WHERE ac.tenant_id = ?1 AND ac.id > ?2 ORDER BY ac.id LIMIT ?3"
            );
            let mut stmt = c.prepare_cached(&sql).db()?;
            let rows = stmt
                .query_map(params![tenant_id, after_id, limit], account_row)
                .db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn people_page(&self, q: &DirectoryQuery) -> Result<Page<Lead>> {
        let q = q.clone();
        self.read(move |c| query::directory_in(c, &q, lead_row))
            .await
    }

    async fn accounts_page(&self, q: &DirectoryQuery) -> Result<Page<Account>> {
        let q = q.clone();
        self.read(move |c| query::directory_in(c, &q, account_row))
            .await
    }

    async fn users_page(&self, q: &DirectoryQuery) -> Result<Page<UserRecord>> {
        let q = q.clone();
        self.read(move |c| query::directory_in(c, &q, rows::user_record_row))
            .await
    }

    async fn create_webhook(
        &self,
        tenant_id: i64,
        hook: NewWebhook,
        max: usize,
    ) -> Result<Webhook> {
        self.write(move |c| outbox::create_webhook(c, tenant_id, &hook, max))
            .await
    }

    async fn list_webhooks(&self, tenant_id: i64) -> Result<Vec<Webhook>> {
        self.read(move |c| outbox::list_webhooks(c, tenant_id))
            .await
    }

    async fn delete_webhook(&self, tenant_id: i64, guid: Uuid) -> Result<()> {
        self.write(move |c| outbox::delete_webhook(c, tenant_id, guid))
            .await
    }

    async fn set_webhook_enabled(
        &self,
        tenant_id: i64,
        id: i64,
        enabled: bool,
    ) -> Result<Option<Webhook>> {
        self.write(move |c| outbox::set_webhook_enabled(c, tenant_id, id, enabled))
            .await
    }

    async fn delete_sl_webhook(&self, tenant_id: i64, id: i64) -> Result<()> {
        self.write(move |c| outbox::delete_sl_webhook(c, tenant_id, id))
            .await
    }

    async fn enqueue_test_event(&self, tenant_id: i64, guid: Uuid) -> Result<Option<Uuid>> {
        self.write(move |c| outbox::enqueue_test(c, tenant_id, guid))
            .await
    }

    async fn webhook_deliveries(
        &self,
        tenant_id: i64,
        guid: Uuid,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Option<Vec<Delivery>>> {
        self.read(move |c| outbox::deliveries(c, tenant_id, guid, before, limit))
            .await
    }

    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        if !self.read(move |c| outbox::any_due(c, now)).await? {
            return Ok(Vec::new());
        }
        self.write(move |c| outbox::claim(c, now, lease_until, limit))
            .await
    }

    async fn finish_delivery(&self, due: &DueDelivery, outcome: &Outcome) -> Result<()> {
        let (due, outcome) = (due.clone(), outcome.clone());
        self.write(move |c| outbox::finish(c, &due, &outcome)).await
    }

    async fn claim_idempotency_key(
        &self,
        tenant_id: i64,
        claim: &crate::store::KeyClaim,
    ) -> Result<crate::store::KeyState> {
        idempotency::claim(self, tenant_id, claim).await
    }

    async fn idempotency_key(
        &self,
        tenant_id: i64,
        key: &str,
        expired_before: i64,
        abandoned_before: i64,
    ) -> Result<Option<crate::store::KeyRecord>> {
        idempotency::record(self, tenant_id, key, expired_before, abandoned_before).await
    }

    async fn finish_idempotency_key(
        &self,
        tenant_id: i64,
        key: &str,
        owner: i64,
        answer: Option<crate::store::StoredAnswer>,
    ) -> Result<()> {
        idempotency::finish(self, tenant_id, key, owner, answer).await
    }

    async fn prune_idempotency_keys(&self, claimed_before: i64, limit: u32) -> Result<u64> {
        idempotency::prune(self, claimed_before, limit).await
    }

    async fn weekly_counts(
        &self,
        tenant_id: i64,
        lead_owner: Option<i64>,
        from: crate::domain::Micros,
        until: crate::domain::Micros,
        limit: u32,
    ) -> Result<Vec<super::WeeklyCount>> {
        self.read(move |c| {
            let sql = super::weekly_counts_sql(lead_owner.is_some(), |n| format!("?{n}"));
            let mut values = vec![tenant_id, from, until, i64::from(limit)];
            values.extend(lead_owner);
            let mut stmt = c.prepare_cached(&sql).db()?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values.iter()), |r| {
                    Ok(super::WeeklyCount {
                        week_start: r.get(0)?,
                        type_id: r.get(1)?,
                        owner_id: r.get(2)?,
                        count: r.get(3)?,
                    })
                })
                .db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn list_activities(&self, q: &ActivityQuery) -> Result<Page<ActivityView>> {
        let q = q.clone();
        // One read transaction so that the count and the page see the same snapshot.
        self.read_labelled(move |tx, labels, seen| list_in(tx, &q, labels, seen))
            .await
    }

    /// The lead, the count and the page in one read transaction (see the trait's doc).
    async fn lead_activities(
        &self,
        lead_guid: Uuid,
        owner_only: Option<i64>,
        q: &ActivityQuery,
    ) -> Result<Option<Page<ActivityView>>> {
        let q = q.clone();
        self.read_labelled(move |tx, labels, seen| {
            let lead: Option<(i64, i64)> = tx
                .prepare_cached(
                    "SELECT id, owner_id FROM leads
                     WHERE tenant_id = ?1 AND guid = ?2 AND deleted_at IS NULL",
                )
                .db()?
                .query_row(params![q.tenant_id, lead_guid.to_string()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .db()?;
            Ok(match lead {
                Some((id, owner)) if crate::domain::lead_visible(owner_only, owner) => {
                    let q = ActivityQuery {
                        lead_id: Some(id),
                        ..q.clone()
                    };
                    Some(list_in(tx, &q, labels, seen)?)
                }
                _ => None,
            })
        })
        .await
    }
}
