//! The embedded SQLite backend: one writer thread that group-commits, reads run on the asking
//! thread (or, past a small budget, on a pool of reader threads), and a checkpointer thread.
//!
//! Every write runs on the writer thread inside a savepoint of a shared transaction. The writer
//! drains whatever writes are queued, runs them, commits once (one fsync with `synchronous=FULL`
//! in WAL mode) and only then answers each caller: a write is acknowledged only once durable, and
//! concurrent requests share the cost of the fsync. A failing write rolls back to its savepoint
//! without touching the others in the batch.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, Row};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{Store, UserCredentials};
use crate::domain::{
    time::now_micros, Account, ActivityQuery, ActivitySort, ActivityType, ActivityUpdate,
    ActivityView, CountMode, FieldDef, Lead, LeadKey, NewAccount, NewActivity, NewActivityType,
    NewLead, NewUser, Page, RecordKind, ResourceKind, Role, Tenant, TypeFilter, TypeKind, User,
    FIRST_CUSTOM_CODE, FIRST_OPPORTUNITY_CODE,
};
use crate::error::{Error, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_salesloft_native.sql"),
    include_str!("../../migrations/sqlite/0003_custom_type_names.sql"),
    include_str!("../../migrations/sqlite/0004_pinned_order.sql"),
    include_str!("../../migrations/sqlite/0005_lead_owner.sql"),
    include_str!("../../migrations/sqlite/0006_resource_type_covering.sql"),
    include_str!("../../migrations/sqlite/0007_fields_are_json_objects.sql"),
];
/// The migration (its number) from which the database refuses field values that are not one JSON
/// object; the rows stored before it are checked before it is applied.
const FIELDS_ARE_OBJECTS: usize = 7;
/// Writes committed together at most; bounds the latency one fsync adds to a batch.
const MAX_BATCH: usize = 512;
/// The most of the database file each connection maps (1 TiB: all of it, in practice). Needs the
/// SQLITE_MAX_MMAP_SIZE build flag in .cargo/config.toml; without it SQLite caps this at 2 GiB.
const MMAP_SIZE: u64 = 1 << 40;
/// Reader threads (and connections); reads beyond this many wait their turn in a queue.
const READERS: usize = 6;
/// How long a read may run on the async worker that asked for it before it is stopped and handed
/// to a reader thread (see `SqliteStore::read`).
const INLINE_BUDGET: std::time::Duration = std::time::Duration::from_millis(3);

/// `INLINE_BUDGET`, unless the environment variable `ACTIVITY_HUB_INLINE_BUDGET_MS` sets another
/// (read once). It exists for profiling under valgrind, where everything runs some 50× slower and
/// nearly every read would otherwise be stopped and run twice (bench/instr_ab.sh sets it).
fn inline_budget() -> std::time::Duration {
    static BUDGET: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| match std::env::var("ACTIVITY_HUB_INLINE_BUDGET_MS") {
        Err(_) => INLINE_BUDGET,
        Ok(v) => match v.parse() {
            Ok(ms) => std::time::Duration::from_millis(ms),
            Err(_) => {
                tracing::warn!(value = %v, "ACTIVITY_HUB_INLINE_BUDGET_MS is not a number of milliseconds; using 3");
                INLINE_BUDGET
            }
        },
    })
}
/// SQLite virtual-machine steps between two looks at the inline budget (a few microseconds).
const BUDGET_CHECK_OPS: i32 = 1000;

/// A write waiting in (or running in) a group-commit batch.
///
/// A batch first runs its writes one after another with no savepoint of their own; only if one
/// fails after changing something is the batch rolled back and run again with each write in its
/// own savepoint, so that the failing one rolls back alone (`run_batch`). Every page a savepoint changes is copied to its statement
/// journal first: that copying was a tenth of a Create's instructions, spent on the writer
/// thread that every write waits for, to guard against failures that almost never happen. A write
/// may therefore run more than once; only its last run counts, and nothing is answered before
/// the batch commits.
trait Job: Send {
    /// Does the work in the open transaction (inside a savepoint of its own when `savepoint`);
    /// false when it failed.
    fn run(&mut self, conn: &Connection, savepoint: bool) -> bool;
    /// Answers the caller: the last run's outcome, given how the batch's commit went.
    fn finish(self: Box<Self>, commit: std::result::Result<(), String>);
}

/// `Job` for a closure `f` and the action to take once its work is committed.
struct WriteJob<T, F, A> {
    f: F,
    after_commit: A,
    outcome: Option<Result<T>>,
    answer: oneshot::Sender<Result<T>>,
}

impl<T, F, A> Job for WriteJob<T, F, A>
where
    T: Send,
    F: FnMut(&Connection) -> Result<T> + Send,
    A: FnOnce() + Send,
{
    fn run(&mut self, conn: &Connection, savepoint: bool) -> bool {
        if savepoint {
            if let Err(e) = conn.execute_batch("SAVEPOINT job") {
                self.outcome = Some(Err(map_err(e)));
                return false;
            }
        }
        let mut outcome = std::panic::catch_unwind(AssertUnwindSafe(|| (self.f)(conn)))
            .unwrap_or_else(|_| Err(Error::Internal("write panicked".into())));
        if savepoint {
            if outcome.is_ok() {
                if let Err(e) = conn.execute_batch("RELEASE job") {
                    outcome = Err(map_err(e));
                }
            }
            if outcome.is_err() {
                // Also after a failed RELEASE, so that what the write did is not committed
                // while its caller hears it failed.
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            }
        }
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn finish(self: Box<Self>, commit: std::result::Result<(), String>) {
        let answer = match (self.outcome, commit) {
            (None, Err(e)) => Err(Error::Unavailable(format!(
                "cannot open a write transaction: {e}"
            ))),
            (None, Ok(())) => Err(Error::Internal("the SQLite writer skipped a write".into())),
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => {
                (self.after_commit)();
                Ok(v)
            }
            (Some(Ok(_)), Err(e)) => Err(Error::Unavailable(format!("commit failed: {e}"))),
        };
        let _ = self.answer.send(answer);
    }
}

pub struct SqliteStore {
    writer: mpsc::UnboundedSender<Box<dyn Job>>,
    readers: Arc<ReaderPool>,
    path: PathBuf,
    labels: Arc<Labels>,
    /// Tells this store's inline connections from another store's (tests open many stores in one
    /// process, sometimes on the same path after deleting the file).
    id: u64,
}

/// The store ids handed out so far.
static STORE_IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

thread_local! {
    /// The read-only connection this async worker thread runs short reads on, and the store it
    /// belongs to. One per thread: a thread that serves another store reopens it.
    static INLINE_READER: std::cell::RefCell<Option<(u64, Connection)>> =
        const { std::cell::RefCell::new(None) };
    /// When the inline read running on this thread must stop (checked by the progress handler).
    static INLINE_DEADLINE: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
    /// Set when the progress handler stopped a statement of the inline read running on this thread.
    static INLINE_STOPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A read: runs on one of the reader threads with that thread's own connection.
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// Reader threads, each owning one read-only connection for the life of the store: its page cache
/// and prepared statements stay warm, and a read costs one hand-off instead of a blocking-pool task
/// plus a connection checkout (profiled: that churn and reopening cost more than the query).
struct ReaderPool {
    jobs: std::sync::mpsc::Sender<ReadJob>,
}

impl ReaderPool {
    fn start(path: &Path) -> std::result::Result<ReaderPool, String> {
        let (tx, rx) = std::sync::mpsc::channel::<ReadJob>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..READERS {
            let conn = open_connection(path, true).map_err(|e| e.to_string())?;
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for the next job, never while running it.
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(&conn),
                        Err(_) => return, // the store was dropped
                    }
                })
                .map_err(|e| e.to_string())?;
        }
        Ok(ReaderPool { jobs: tx })
    }

    fn submit(&self, job: ReadJob) -> Result<()> {
        self.jobs
            .send(job)
            .map_err(|_| Error::Unavailable("the SQLite readers have stopped".into()))
    }
}

fn open_connection(path: &Path, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;",
    )?;
    // Reads through a memory mapping of the database file: a page not in this connection's cache
    // is read in place from the OS page cache instead of by a pread and a copy (measured: Retrieve
    // 10-20 % faster at 20k activities, 27-72 % at 1M, where the 25 rows of a page are scattered).
    // Writes still go through the WAL with write() and fsync. A disk read error then ends the
    // process (SIGBUS) instead of failing one request; the store is a local file either way.
    conn.execute_batch(&format!("PRAGMA mmap_size = {MMAP_SIZE}"))?;
    conn.set_prepared_statement_cache_capacity(64);
    // Query-planner stability: plans never depend on bound values. Without it, a statement that
    // binds a value the planner compared with a partial index's WHERE (activities has several) is
    // re-prepared every time the value changes: profiled at a quarter of a Retrieve's CPU time.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &str) -> std::result::Result<SqliteStore, String> {
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let conn = open_connection(&path, false).map_err(|e| e.to_string())?;
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
        let checkpoint_conn = open_connection(&path, false).map_err(|e| e.to_string())?;
        let (checkpoints, checkpoint_rx) = std::sync::mpsc::sync_channel::<()>(1);
        let (checkpointed_tx, checkpointed) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpointer".into())
            .spawn(move || checkpointer_loop(checkpoint_conn, checkpoint_rx, checkpointed_tx))
            .map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, cache_kib, rx, checkpoints, checkpointed))
            .map_err(|e| e.to_string())?;
        Ok(SqliteStore {
            writer: tx,
            readers: Arc::new(ReaderPool::start(&path)?),
            labels: Arc::new(Labels::new()),
            path,
            id: STORE_IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Runs `f` on the writer thread in the current group-commit batch; resolves once committed.
    /// `f` may run more than once (see `Job`): it must leave everything but the database as it
    /// found it.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnMut(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.write_then(f, || {}).await
    }

    /// `write`, and `after_commit` on the writer thread once `f`'s work has committed, before
    /// the caller hears of it. It runs even if the caller has stopped waiting (a client that hung
    /// up), which an action after the `await` would not.
    async fn write_then<T: Send + 'static>(
        &self,
        f: impl FnMut(&Connection) -> Result<T> + Send + 'static,
        after_commit: impl FnOnce() + Send + 'static,
    ) -> Result<T> {
        let (answer, rx) = oneshot::channel::<Result<T>>();
        let job = Box::new(WriteJob {
            f,
            after_commit,
            outcome: None,
            answer,
        });
        self.writer
            .send(job)
            .map_err(|_| Error::Unavailable("the SQLite writer has stopped".into()))?;
        rx.await
            .map_err(|_| Error::Internal("the SQLite writer dropped a write".into()))?
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
            Ok(labels.label(tx, row.into_iter().collect(), seen)?.pop())
        })
        .await
    }

    /// Runs `f` in one read transaction with the label directories: their generation is noted
    /// before the snapshot is taken, as `Labels::label` and `Directory::get_all` need, so that
    /// whatever `f` reads (rows, their labels, a type) comes from one snapshot.
    async fn read_labelled<T: Send + 'static>(
        &self,
        f: impl Fn(&Connection, &Labels, Seen) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let labels = self.labels.clone();
        self.read(move |c| {
            let seen = labels.generation();
            let tx = c.unchecked_transaction().db()?;
            let out = f(&tx, &labels, seen)?;
            tx.finish().db()?;
            Ok(out)
        })
        .await
    }

    /// Runs `f` on a read-only connection: first on the calling thread, within `INLINE_BUDGET`;
    /// a read that needs longer is stopped (SQLite's progress handler interrupts it) and run again,
    /// from the start, on a reader thread. Reads change nothing, so running one twice is safe.
    ///
    /// Why inline: most reads (a page of 25, a point lookup) take 0.1-0.3 ms, and handing each to a
    /// reader thread and its answer back cost two thread wake-ups and cross-thread frees of every
    /// row; run where the request is, reads take 6-13 % less server CPU (docs/benchmarks.md). The
    /// budget keeps a long read (a deep sort, a large count) from holding an async worker, which
    /// would stall every other connection that worker serves.
    async fn read<T: Send + 'static>(
        &self,
        f: impl Fn(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if let Some(done) = self.read_inline(&f) {
            return done;
        }
        let (tx, rx) = oneshot::channel::<Result<T>>();
        self.readers.submit(Box::new(move |conn| {
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(Error::Internal("read panicked".into())));
            if !conn.is_autocommit() {
                // Never keep an old snapshot for the next read on this connection.
                let _ = conn.execute_batch("ROLLBACK");
            }
            let _ = tx.send(r);
        }))?;
        rx.await
            .map_err(|_| Error::Internal("a SQLite reader dropped a read".into()))?
    }

    /// Runs `f` on this thread's inline connection; `None` when it ran out of budget (or no inline
    /// connection could be opened), so that the caller hands it to a reader thread.
    fn read_inline<T>(&self, f: &impl Fn(&Connection) -> Result<T>) -> Option<Result<T>> {
        INLINE_READER.with(|cell| {
            // A read nested in another inline read (none exists today) takes the reader threads.
            let mut slot = cell.try_borrow_mut().ok()?;
            if slot.as_ref().is_none_or(|(id, _)| *id != self.id) {
                *slot = None; // close the other store's connection first
                let conn = open_connection(&self.path, true).ok()?;
                conn.progress_handler(
                    BUDGET_CHECK_OPS,
                    Some(|| {
                        let stop = INLINE_DEADLINE
                            .with(|d| d.get())
                            .is_some_and(|deadline| std::time::Instant::now() > deadline);
                        if stop {
                            INLINE_STOPPED.with(|s| s.set(true));
                        }
                        stop
                    }),
                );
                // A lock the read must wait for (rare for a WAL reader) is waited for only within
                // the budget; then the read moves to a reader thread, which waits up to 10 s.
                conn.busy_handler(Some(inline_busy)).ok()?;
                *slot = Some((self.id, conn));
            }
            let (_, conn) = slot.as_ref()?;
            INLINE_STOPPED.with(|s| s.set(false));
            INLINE_DEADLINE.with(|d| d.set(Some(std::time::Instant::now() + inline_budget())));
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(Error::Internal("read panicked".into())));
            INLINE_DEADLINE.with(|d| d.set(None));
            if !conn.is_autocommit() {
                // A read left its transaction open (stopped while it was being closed): end it, so
                // that the next read on this connection does not see an old snapshot; a
                // connection that cannot end it is closed.
                if conn.execute_batch("ROLLBACK").is_err() || !conn.is_autocommit() {
                    *slot = None;
                }
            }
            // A stopped statement fails, but a read that swallowed that failure could return a
            // partial answer: whatever it returned is discarded and the read runs again in full.
            if INLINE_STOPPED.with(|s| s.replace(false)) {
                None
            } else {
                Some(r)
            }
        })
    }
}

/// The busy handler of inline connections: wait for a lock while the inline read's budget lasts,
/// then stop the read (it moves to a reader thread).
fn inline_busy(_attempts: i32) -> bool {
    let within_budget = INLINE_DEADLINE
        .with(|d| d.get())
        .is_some_and(|deadline| std::time::Instant::now() < deadline);
    if within_budget {
        std::thread::sleep(std::time::Duration::from_micros(100));
    } else {
        INLINE_STOPPED.with(|s| s.set(true));
    }
    within_budget
}

/// WAL pages after which the checkpointer thread is asked to copy the WAL back (~64 MiB).
const CHECKPOINT_PAGES: i32 = 16384;
/// WAL pages after which the writer checkpoints by itself, because the checkpointer has fallen
/// behind: writes then slow down instead of growing the WAL without bound (~256 MiB).
const CHECKPOINT_PAGES_HARD: i32 = 4 * CHECKPOINT_PAGES;

/// The writer's page cache (KiB) while the database is at most `LOCK_PAGE_OFFSET` bytes.
const WRITER_CACHE_SMALL_KIB: i64 = 32 * 1024;
/// The writer's page cache (KiB) once the database is larger.
const WRITER_CACHE_KIB: i64 = 256 * 1024;
/// Where the page SQLite never uses (the one holding byte 2^30) starts.
const LOCK_PAGE_OFFSET: i64 = 1 << 30;
/// Commits between two looks at the database's size while the writer's cache is small.
const CACHE_SIZE_CHECK_COMMITS: u32 = 256;

/// How much the writer caches, for the database as it is now. A B-tree split in SQLite (3.50)
/// briefly gives a page the number of that never-used page, so that until the commit the cache
/// seems to hold a page far beyond the end of a database smaller than 1 GiB; the commit then
/// scans the cache's whole hash table to drop pages past the end, a cost that grows with the
/// cache. With a 256 MiB cache on a 250k-activity store that scan was a fifth of a Create's
/// server CPU (bench/cpu_ab.py). Past 1 GiB the real pages reach beyond that number and the
/// scan covers only the few new ones, so the larger cache is kept for large stores.
fn writer_cache_kib(conn: &Connection) -> rusqlite::Result<i64> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(writer_cache_for(pages.saturating_mul(page_size)))
}

/// `writer_cache_kib` for a database of `bytes`.
fn writer_cache_for(bytes: i64) -> i64 {
    if bytes > LOCK_PAGE_OFFSET {
        WRITER_CACHE_KIB
    } else {
        WRITER_CACHE_SMALL_KIB
    }
}

thread_local! {
    /// Pages in the WAL after the last commit of the writer running on this thread (set by the
    /// WAL hook, which SQLite calls on the committing thread).
    static WAL_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// Copies the WAL back into the database file whenever the writer asks (PASSIVE: it never blocks
/// the writer or a reader, and copies what no reader still needs). Ends with the writer.
fn checkpointer_loop(
    conn: Connection,
    asks: std::sync::mpsc::Receiver<()>,
    done: std::sync::mpsc::Sender<()>,
) {
    while asks.recv().is_ok() {
        if checkpoint(&conn) && done.send(()).is_err() {
            return;
        }
    }
}

/// A PASSIVE checkpoint on `conn`; whether it succeeded (a failure is logged, the next one
/// retries).
fn checkpoint(conn: &Connection) -> bool {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
            false
        }
    }
}

/// `cache_kib`: the page cache `open` gave the writer's connection (see `writer_cache_kib`).
fn writer_loop(
    conn: Connection,
    cache_kib: i64,
    mut rx: mpsc::UnboundedReceiver<Box<dyn Job>>,
    checkpoints: std::sync::mpsc::SyncSender<()>,
    checkpointed: std::sync::mpsc::Receiver<()>,
) {
    // WAL pages when the checkpointer was last asked.
    let mut asked_at = 0;
    // Commits until the next look at the database's size, while the writer's cache is small.
    let mut cache_check = (cache_kib != WRITER_CACHE_KIB).then_some(CACHE_SIZE_CHECK_COMMITS);
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let commit = run_batch(&conn, &mut batch);
        for job in batch {
            job.finish(commit.clone());
        }
        if let Some(left) = cache_check.as_mut() {
            *left -= 1;
            if *left == 0 {
                *left = CACHE_SIZE_CHECK_COMMITS;
                if let Ok(WRITER_CACHE_KIB) = writer_cache_kib(&conn) {
                    let _ = conn.execute_batch(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB}"));
                    cache_check = None;
                }
            }
        }
        let wal_pages = WAL_PAGES.with(|p| p.get());
        if wal_pages < asked_at {
            asked_at = 0; // the WAL started over
        }
        if checkpointed.try_recv().is_ok() {
            // The checkpointer copied the WAL as it was when asked; copying the few frames
            // committed since lets the next transaction start the WAL over from its beginning
            // (SQLite restarts it only once every frame is in the database file).
            let _ = checkpoint(&conn);
        } else if wal_pages >= CHECKPOINT_PAGES_HARD {
            let _ = checkpoint(&conn);
        } else if wal_pages >= CHECKPOINT_PAGES && wal_pages >= asked_at + CHECKPOINT_PAGES / 2 {
            // Once per half threshold of growth: each checkpoint ends with an fsync of the
            // database file, which a checkpoint after every commit would add to every commit.
            // Full means a checkpoint is already asked for.
            let _ = checkpoints.try_send(());
            asked_at = wal_pages;
        }
    }
}

/// Runs `batch` in one transaction and commits it: first with no savepoints, and again, each
/// write in a savepoint of its own, if a write that failed had changed something (see `Job`).
/// A write that fails having changed nothing (most refusals: a missing row, a duplicate) is
/// answered with its error and the batch goes on without running again.
fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> std::result::Result<(), String> {
    let begin = || {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| {
            tracing::error!(error = %e, "cannot begin a write transaction");
            e.to_string()
        })
    };
    if !conn.is_autocommit() {
        // Left open by an earlier batch whose ROLLBACK failed: nothing in it was answered as done.
        let _ = conn.execute_batch("ROLLBACK");
    }
    begin()?;
    let mut again = false;
    for job in batch.iter_mut() {
        let before = conn.total_changes();
        if !job.run(conn, false) && (conn.total_changes() != before || conn.is_autocommit()) {
            again = true;
            break;
        }
    }
    if again {
        // Some errors (a full disk, say) have SQLite roll the transaction back by itself.
        if !conn.is_autocommit() {
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "cannot roll a failed batch back");
                return Err(e.to_string());
            }
        }
        begin()?;
        for job in batch.iter_mut() {
            job.run(conn, true);
            if conn.is_autocommit() {
                // SQLite rolled the whole transaction back: nothing of this batch is kept, and a
                // later write must not run outside it (its RELEASE would commit it alone).
                tracing::error!("SQLite rolled a write batch back");
                return Err("the write transaction was rolled back".into());
            }
        }
    }
    conn.execute_batch("COMMIT").map_err(|e| {
        tracing::error!(error = %e, "commit failed");
        let _ = conn.execute_batch("ROLLBACK");
        e.to_string()
    })
}

fn migrate(conn: &Connection) -> std::result::Result<(), String> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction().map_err(|e| e.to_string())?;
        if i + 1 == FIELDS_ARE_OBJECTS {
            // Names the rows the migration's CHECK would refuse, which SQLite does not.
            refuse_fields_that_are_not_objects(&tx)?;
        }
        tx.execute_batch(sql).map_err(|e| e.to_string())?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Fails, naming a few of them, if stored activities hold field values that are not one JSON
/// object (only an edit of the file from outside could have stored one): from migration 0007 on,
/// pages paste the stored text into their answers unchecked. One pass over the table, once.
fn refuse_fields_that_are_not_objects(tx: &Connection) -> std::result::Result<(), String> {
    let bad: Vec<i64> = tx
        .prepare(
            "SELECT id FROM activities WHERE \
             CASE WHEN json_valid(fields) THEN json_type(fields) <> 'object' ELSE 1 END LIMIT 5",
        )
        .and_then(|mut s| s.query_map([], |r| r.get::<_, i64>(0))?.collect())
        .map_err(|e: rusqlite::Error| e.to_string())?;
    if bad.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = bad.iter().map(i64::to_string).collect();
    Err(format!(
        "activities {} (and perhaps more) store field values that are not a JSON object; \
         fix or delete them in the file with the sqlite3 shell, then start again \
         (column activities.fields, e.g. set it to '{{}}')",
        ids.join(", ")
    ))
}

/// Turns a SQLite error into the domain's: unique violations become `Duplicate` naming the field.
fn map_err(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, Some(msg)) = &e {
        match f.code {
            rusqlite::ErrorCode::ConstraintViolation if msg.contains("UNIQUE") => {
                let field = if msg.contains("email") {
                    "EmailAddress"
                } else if msg.contains("mobile") {
                    "Mobile"
                } else if msg.contains("phone") {
                    "Phone"
                } else if msg.contains("name_lc") {
                    "ActivityEventName"
                } else if msg.contains("event_code") {
                    "ActivityEvent"
                } else {
                    "a unique field"
                };
                return Error::Duplicate(format!("A record with the same {field} already exists"));
            }
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                return Error::Unavailable(msg.clone())
            }
            _ => {}
        }
    }
    Error::Internal(e.to_string())
}

trait SqlResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> SqlResult<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(map_err)
    }
}

/// A GUID column, parsed from the text in place (no String per value: three per activity row).
fn uuid_col(row: &Row, idx: usize) -> rusqlite::Result<Uuid> {
    let text = row.get_ref(idx)?.as_bytes()?;
    Uuid::try_parse_ascii(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A JSON column, parsed from the text in place (no String per value).
fn json_col<T: serde::de::DeserializeOwned>(row: &Row, idx: usize) -> rusqlite::Result<T> {
    serde_json::from_slice(row.get_ref(idx)?.as_bytes()?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// A JSON list-of-strings column; the empty list most rows hold is recognised without a parser
/// (with the next one, profiled at 3 % of a Retrieve).
fn list_col(row: &Row, idx: usize) -> rusqlite::Result<Vec<String>> {
    match row.get_ref(idx)?.as_bytes()? {
        b"[]" => Ok(Vec::new()),
        _ => json_col(row, idx),
    }
}

/// A JSON object column; the empty object most rows hold is recognised without a parser.
fn object_col(
    row: &Row,
    idx: usize,
) -> rusqlite::Result<serde_json::Map<String, serde_json::Value>> {
    match row.get_ref(idx)?.as_bytes()? {
        b"{}" => Ok(serde_json::Map::new()),
        _ => json_col(row, idx),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(Error::internal)
}

const USER_COLS: &str =
    "u.id, u.guid, u.tenant_id, t.guid, u.email, u.first_name, u.last_name, u.role, u.active, u.secret_key_digest";

fn user_row(row: &Row) -> rusqlite::Result<UserCredentials> {
    let role: String = row.get(7)?;
    Ok(UserCredentials {
        user: User {
            id: row.get(0)?,
            guid: uuid_col(row, 1)?,
            tenant_id: row.get(2)?,
            tenant_guid: uuid_col(row, 3)?,
            email: row.get(4)?,
            first_name: row.get(5)?,
            last_name: row.get(6)?,
            role: Role::parse(&role).unwrap_or(Role::SalesUser),
            active: row.get(8)?,
        },
        secret_key_digest: row.get(9)?,
    })
}

fn query_users(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<UserCredentials>> {
    let sql = format!("SELECT {USER_COLS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE {filter} ORDER BY u.id");
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let rows = stmt.query_map(params, user_row).db()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().db()
}

fn insert_user(conn: &Connection, tenant_id: i64, u: &NewUser, now: i64) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO users (tenant_id, guid, email, email_lc, first_name, last_name, role, active,
            access_key_digest, secret_key_digest, api_key_digest, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11)",
    )
    .db()?
    .execute(params![
        tenant_id,
        u.guid.to_string(),
        u.email,
        u.email.to_lowercase(),
        u.first_name,
        u.last_name,
        u.role.as_str(),
        &u.access_key_digest[..],
        &u.secret_key_digest[..],
        &u.api_key_digest[..],
        now
    ])
    .map_err(|e| match map_err(e) {
        Error::Duplicate(_) => Error::Duplicate(format!(
            "A user with email '{}' already exists in this tenant",
            u.email
        )),
        other => other,
    })?;
    Ok(conn.last_insert_rowid())
}

fn insert_type(conn: &Connection, tenant_id: i64, t: &NewActivityType, now: i64) -> Result<i64> {
    let code = match t.event_code {
        Some(c) => c,
        None => {
            let (lo, hi) = match t.kind {
                TypeKind::Opportunity => (FIRST_OPPORTUNITY_CODE, i64::MAX),
                _ => (FIRST_CUSTOM_CODE, FIRST_OPPORTUNITY_CODE),
            };
            let max: Option<i64> = conn
                .prepare_cached(
                    "SELECT max(event_code) FROM activity_types WHERE tenant_id = ?1 AND event_code >= ?2 AND event_code < ?3",
                )
                .db()?
                .query_row(params![tenant_id, lo, hi], |r| r.get(0))
                .db()?;
            max.map_or(lo, |m| m + 1)
        }
    };
    conn.prepare_cached(
        "INSERT INTO activity_types (tenant_id, guid, event_code, name, name_lc, display_name, score, description,
            direction, kind, is_email_type, salesloft_type, fields, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
    )
    .db()?
    .execute(params![
        tenant_id,
        t.guid.to_string(),
        code,
        t.name,
        t.name.to_lowercase(),
        t.display_name,
        t.score,
        t.description,
        t.direction,
        t.kind.as_str(),
        t.is_email_type,
        t.salesloft_type,
        to_json(&t.fields)?,
        now
    ])
    .db()?;
    Ok(conn.last_insert_rowid())
}

const TYPE_COLS: &str = "id, guid, event_code, name, display_name, score, description, direction, kind, is_email_type, salesloft_type, fields";

fn type_row(row: &Row) -> rusqlite::Result<ActivityType> {
    let kind: String = row.get(8)?;
    Ok(ActivityType {
        id: row.get(0)?,
        guid: uuid_col(row, 1)?,
        event_code: row.get(2)?,
        name: row.get(3)?,
        display_name: row.get(4)?,
        score: row.get(5)?,
        description: row.get(6)?,
        direction: row.get(7)?,
        kind: TypeKind::parse(&kind).unwrap_or(TypeKind::Custom),
        is_email_type: row.get(9)?,
        salesloft_type: row.get(10)?,
        fields: json_col::<Vec<FieldDef>>(row, 11)?,
    })
}

/// The activity type with this id, read with `c` (for the type directory).
fn type_by_id(c: &Connection, id: i64) -> Result<Option<ActivityType>> {
    c.prepare_cached(&format!(
        "SELECT {TYPE_COLS} FROM activity_types WHERE id = ?1"
    ))
    .db()?
    .query_row([id], type_row)
    .optional()
    .db()
}

const LEAD_COLS: &str = "l.id, l.guid, l.tenant_id, l.first_name, l.last_name, l.email, l.phone, l.mobile, l.do_not_call,
    l.do_not_email, l.owner_id, o.guid, o.first_name, o.last_name, l.score, l.engagement_score, l.attributes,
    l.created_at, l.updated_at";

fn lead_row(row: &Row) -> rusqlite::Result<Lead> {
    let first: String = row.get(12)?;
    let last: String = row.get(13)?;
    Ok(Lead {
        id: row.get(0)?,
        guid: uuid_col(row, 1)?,
        tenant_id: row.get(2)?,
        first_name: row.get(3)?,
        last_name: row.get(4)?,
        email: row.get(5)?,
        phone: row.get(6)?,
        mobile: row.get(7)?,
        do_not_call: row.get(8)?,
        do_not_email: row.get(9)?,
        owner_id: row.get(10)?,
        owner_guid: uuid_col(row, 11)?,
        owner_name: crate::domain::join_name(&first, &last),
        score: row.get(14)?,
        engagement_score: row.get(15)?,
        attributes: json_col(row, 16)?,
        created_at: row.get(17)?,
        updated_at: row.get(18)?,
    })
}

fn insert_lead(conn: &Connection, tenant_id: i64, l: &NewLead, now: i64) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO leads (tenant_id, guid, first_name, last_name, email, email_lc, phone, mobile, do_not_call,
            do_not_email, owner_id, attributes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
    )
    .db()?
    .execute(params![
        tenant_id,
        l.guid.to_string(),
        l.first_name,
        l.last_name,
        l.email,
        l.email.as_ref().map(|e| e.to_lowercase()),
        l.phone,
        l.mobile,
        l.do_not_call,
        l.do_not_email,
        l.owner_id,
        to_json(&l.attributes)?,
        now
    ])
    .db()?;
    Ok(conn.last_insert_rowid())
}

/// Advances the tenant's clock by `n` ticks and returns the first of the `n` fresh timestamps.
/// Runs inside the write transaction, so timestamps are handed out in commit order.
/// Two statements, not one with RETURNING: SQLite runs RETURNING as a trigger, and a statement
/// that fires one keeps a statement journal (a copy of the page it changes).
fn tick(conn: &Connection, tenant_id: i64, n: i64) -> Result<i64> {
    let changed = conn
        .prepare_cached("UPDATE tenants SET clock = max(clock + ?2, ?3) WHERE id = ?1")
        .db()?
        .execute(params![tenant_id, n, now_micros()])
        .db()?;
    if changed == 0 {
        return Err(Error::NotFound("tenant does not exist".into()));
    }
    let last: i64 = conn
        .prepare_cached("SELECT clock FROM tenants WHERE id = ?1")
        .db()?
        .query_row(params![tenant_id], |r| r.get(0))
        .db()?;
    Ok(last - n + 1)
}

/// The ids of `tenant_id`'s activities that `sql` (its `?1` the tenant) selects, in id order.
fn activity_ids(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<i64>> {
    conn.prepare_cached(sql)
        .db()?
        .query_map(params, |r| r.get(0))
        .db()?
        .collect::<rusqlite::Result<Vec<i64>>>()
        .db()
}

/// Gives the activities `ids` (in this order) fresh `updated_at`s from the tenant clock, and the
/// Salesloft type `sl_type` when given: what the Salesloft dialect shows of them changed, and
/// cursor clients only see what moved forward.
fn restamp(conn: &Connection, tenant_id: i64, ids: &[i64], sl_type: Option<&str>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let first = tick(conn, tenant_id, ids.len() as i64)?;
    let mut update = conn
        .prepare_cached(
            "UPDATE activities SET sl_type = coalesce(?3, sl_type), updated_at = ?4
              WHERE tenant_id = ?1 AND id = ?2",
        )
        .db()?;
    for (i, id) in ids.iter().enumerate() {
        update
            .execute(params![tenant_id, id, sl_type, first + i as i64])
            .db()?;
    }
    Ok(())
}

/// Keeps `activities.sl_type` in step with a type whose Salesloft type changed.
fn restamp_sl_type(conn: &Connection, tenant_id: i64, type_id: i64, sl_type: &str) -> Result<()> {
    let ids = activity_ids(
        conn,
        "SELECT id FROM activities WHERE tenant_id = ?1 AND type_id = ?2 AND sl_type <> ?3 ORDER BY id",
        params![tenant_id, type_id, sl_type],
    )?;
    restamp(conn, tenant_id, &ids, Some(sl_type))
}

/// Restamps each activity of a lead whose lead changed (a deleted lead becomes a failed dynamic
/// resource in the Salesloft dialect).
fn restamp_lead_activities(conn: &Connection, tenant_id: i64, lead_id: i64) -> Result<()> {
    let ids = activity_ids(
        conn,
        "SELECT id FROM activities WHERE tenant_id = ?1 AND lead_id = ?2 ORDER BY id",
        params![tenant_id, lead_id],
    )?;
    restamp(conn, tenant_id, &ids, None)
}

const ACCOUNT_SELECT: &str =
    "SELECT ac.id, ac.guid, ac.name, ac.domain, ac.owner_id, o.guid, ac.created_at, ac.updated_at
  FROM accounts ac JOIN users o ON o.id = ac.owner_id";

fn account_row(row: &Row) -> rusqlite::Result<Account> {
    Ok(Account {
        id: row.get(0)?,
        guid: uuid_col(row, 1)?,
        name: row.get(2)?,
        domain: row.get(3)?,
        owner_id: row.get(4)?,
        owner_guid: uuid_col(row, 5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

/// The columns `activity_row` reads. The activity's type and its opportunity's type are not
/// joined: `Labels` supplies their names from memory (docs/benchmarks.md has what each join cost).
/// Nor is the lead: `Labels` reads each distinct lead of a page once, where a join read it again
/// for every row, though most pages are one lead's. Its owner is the row's own copy
/// (`lead_owner_id`, kept by triggers), which the lead-owner filters and sorts already use.
const ACTIVITY_SELECT: &str =
    "SELECT a.id, a.guid, a.type_id, a.event_code, a.lead_id, a.lead_owner_id,
    a.opportunity_id, a.owner_id, a.created_by, a.modified_by, a.note, a.occurred_at,
    a.created_at, a.updated_at, a.score, a.status, a.fields,
    a.account_id, ac.name, a.res_kind, a.res_id,
    r.guid, r.note, r.type_id, r.status, a.pinned_at, a.tags, a.static_data
  FROM activities a
  LEFT JOIN accounts ac ON ac.id = a.account_id
  LEFT JOIN activities r ON a.res_kind = 'crm_opportunity' AND r.id = a.res_id";

fn opt_uuid_col(row: &Row, idx: usize) -> rusqlite::Result<Option<Uuid>> {
    match row.get_ref(idx)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => uuid_col(row, idx).map(Some),
    }
}

/// An activity as its row reads, before `Labels::label` fills in its type and its users.
struct ActivityRow {
    view: ActivityView,
    created_by: i64,
    modified_by: i64,
    /// The type of the opportunity the activity is about (Salesloft `crm_opportunity` resource).
    resource_type_id: Option<i64>,
    /// That opportunity's note, which names it unless empty.
    resource_note: Option<String>,
}

fn activity_row(row: &Row) -> rusqlite::Result<ActivityRow> {
    let resource_kind = {
        let text = row.get_ref(19)?.as_str()?;
        ResourceKind::parse(text).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                19,
                rusqlite::types::Type::Text,
                format!("unknown resource kind '{text}'").into(),
            )
        })?
    };
    let view = ActivityView {
        id: row.get(0)?,
        guid: uuid_col(row, 1)?,
        type_id: row.get(2)?,
        event_code: row.get(3)?,
        // The type's attributes, the users' names and the lead's are filled in by
        // `Labels::label`.
        type_name: String::new(),
        type_display_name: String::new(),
        type_kind: TypeKind::Custom,
        direction: 0,
        is_email_type: false,
        salesloft_type: String::new(),
        lead_id: row.get(4)?,
        lead_guid: None,
        lead_owner_id: row.get(5)?,
        opportunity_id: row.get(6)?,
        owner_id: row.get(7)?,
        owner_guid: Uuid::nil(),
        owner_name: String::new(),
        created_by_name: String::new(),
        modified_by_name: String::new(),
        note: row.get(10)?,
        occurred_at: row.get(11)?,
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
        score: row.get(14)?,
        status: row.get(15)?,
        // Not parsed again: the database holds nothing but JSON objects here (migration 0007).
        fields: crate::domain::fields::FieldValues::from_stored_object(row.get(16)?),
        lead_first_name: None,
        lead_last_name: None,
        lead_email: None,
        lead_deleted: false,
        account_id: row.get(17)?,
        account_name: row.get(18)?,
        resource_kind,
        resource_id: row.get(20)?,
        resource_guid: opt_uuid_col(row, 21)?,
        opportunity_name: None,
        opportunity_status: row.get(24)?,
        pinned_at: row.get(25)?,
        tags: list_col(row, 26)?,
        static_data: object_col(row, 27)?,
    };
    Ok(ActivityRow {
        view,
        created_by: row.get(8)?,
        modified_by: row.get(9)?,
        resource_note: row.get(22)?,
        resource_type_id: row.get(23)?,
    })
}

/// What an activity shows of its lead.
struct LeadLabel {
    guid: Uuid,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    deleted: bool,
}

/// The leads `rows` name, each read once (rows of one lead usually come together), sorted by id.
/// Leads are never removed (a delete marks them), so every id is found.
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
struct Directory<V> {
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
    fn invalidate(&self) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.entries.clear();
        state.since = std::time::Instant::now();
    }

    /// The entries of `ids`: held ones, and missing ones read with `load` (`None`: no such row).
    /// `seen` is the generation the caller read before its snapshot.
    fn get_all(
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
struct Found<V>(Vec<(i64, Arc<V>)>);

impl<V> Found<V> {
    fn get(&self, id: i64) -> Option<&Arc<V>> {
        self.0
            .binary_search_by_key(&id, |(k, _)| *k)
            .ok()
            .map(|i| &self.0[i].1)
    }
}

/// The directories' generations as a read saw them before its snapshot (see `DirectoryState`).
#[derive(Clone, Copy)]
struct Seen {
    users: u64,
    types: u64,
}

/// The users and activity types that activity rows name, by id. No code path changes a user once
/// created; a type changes only through `update_activity_type`, which invalidates `types`.
struct Labels {
    users: Directory<UserLabel>,
    types: Directory<ActivityType>,
}

impl Labels {
    fn new() -> Labels {
        Labels {
            users: Directory::new(),
            types: Directory::new(),
        }
    }

    /// What `label` needs to be passed: read before the read's snapshot is taken.
    fn generation(&self) -> Seen {
        Seen {
            users: self.users.generation(),
            types: self.types.generation(),
        }
    }

    /// The activities of `rows` with their types' attributes and their users' GUIDs and names;
    /// those the directories do not hold are read with `c` (in the caller's transaction, when it
    /// has one). `seen`: `generation()` from before the caller's first statement.
    fn label(
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
                    Error::Internal(format!(
                        "activity {id} names {what} {of}, which does not exist"
                    ))
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

fn push_in(sql: &mut String, args: &mut Vec<SqlValue>, column: &str, values: Vec<SqlValue>) {
    sql.push_str(&format!(
        " AND {column} IN ({})",
        vec!["?"; values.len()].join(",")
    ));
    args.extend(values);
}

/// The WHERE clause and parameters of an activity list query (shared by the count and the page).
fn activity_filter(q: &ActivityQuery) -> (String, Vec<SqlValue>) {
    let mut sql = String::from("a.tenant_id = ?");
    let mut args = vec![SqlValue::Integer(q.tenant_id)];
    if let Some(lead) = q.lead_id {
        sql.push_str(" AND a.lead_id = ?");
        args.push(SqlValue::Integer(lead));
    }
    if let Some(opp) = q.opportunity_id {
        sql.push_str(" AND a.opportunity_id = ?");
        args.push(SqlValue::Integer(opp));
    }
    match q.records {
        RecordKind::Any => {}
        RecordKind::Activities => {
            // Unary `+`: most of a lead's rows are activities, so walking its (lead, occurred_at)
            // or (lead, updated_at) index in order and skipping opportunities beats a range scan of
            // (lead, event_code) followed by a sort of all its rows. Counting still uses that index.
            sql.push_str(" AND +a.event_code < ?");
            args.push(SqlValue::Integer(FIRST_OPPORTUNITY_CODE));
        }
        RecordKind::Opportunities => {
            sql.push_str(" AND a.event_code >= ?");
            args.push(SqlValue::Integer(FIRST_OPPORTUNITY_CODE));
        }
    }
    if !q.event_codes.is_empty() {
        sql.push_str(" AND a.event_code IN (");
        sql.push_str(&vec!["?"; q.event_codes.len()].join(","));
        sql.push(')');
        args.extend(q.event_codes.iter().map(|c| SqlValue::Integer(*c)));
    }
    if q.match_nothing {
        sql.push_str(" AND 1 = 0");
    }
    if let Some(from) = q.updated_from {
        sql.push_str(" AND a.updated_at >= ?");
        args.push(SqlValue::Integer(from));
    }
    if let Some(to) = q.updated_to {
        sql.push_str(" AND a.updated_at <= ?");
        args.push(SqlValue::Integer(to));
    }
    // Type: one plain alternative is `sl_type IN (…)` (an index range per type); per-resource
    // alternatives are OR-ed conjunctions.
    match q.types.as_slice() {
        [] => {}
        [TypeFilter {
            resource: None,
            sl_types,
        }] => push_in(
            &mut sql,
            &mut args,
            "a.sl_type",
            sl_types.iter().map(|t| SqlValue::Text(t.clone())).collect(),
        ),
        alternatives => {
            let mut parts = Vec::new();
            for alt in alternatives {
                let mut part = format!(
                    "a.sl_type IN ({})",
                    vec!["?"; alt.sl_types.len().max(1)].join(",")
                );
                if alt.sl_types.is_empty() {
                    args.push(SqlValue::Null);
                }
                args.extend(alt.sl_types.iter().map(|t| SqlValue::Text(t.clone())));
                if let Some(kind) = alt.resource {
                    part.push_str(" AND a.res_kind = ?");
                    args.push(SqlValue::Text(kind.as_str().into()));
                }
                parts.push(format!("({part})"));
            }
            sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
        }
    }
    if !q.resource_kinds.is_empty() {
        push_in(
            &mut sql,
            &mut args,
            "a.res_kind",
            q.resource_kinds
                .iter()
                .map(|k| SqlValue::Text(k.as_str().into()))
                .collect(),
        );
    }
    if !q.resources.is_empty() {
        let parts = vec!["(a.res_kind = ? AND a.res_id = ?)"; q.resources.len()].join(" OR ");
        sql.push_str(&format!(" AND ({parts})"));
        for (kind, id) in &q.resources {
            args.push(SqlValue::Text(kind.as_str().into()));
            args.push(SqlValue::Integer(*id));
        }
    }
    if !q.ids.is_empty() {
        let mut parts = Vec::new();
        for f in &q.ids {
            args.push(SqlValue::Integer(f.id));
            match &f.sl_type {
                Some(t) => {
                    parts.push("(a.id = ? AND a.sl_type = ?)");
                    args.push(SqlValue::Text(t.clone()));
                }
                None => parts.push("a.id = ?"),
            }
        }
        sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
    }
    if !q.owner_ids.is_empty() {
        push_in(
            &mut sql,
            &mut args,
            "a.owner_id",
            q.owner_ids.iter().map(|i| SqlValue::Integer(*i)).collect(),
        );
    }
    match q.pinned {
        None => {}
        Some(true) => sql.push_str(" AND a.pinned_at IS NOT NULL"),
        Some(false) => sql.push_str(" AND a.pinned_at IS NULL"),
    }
    if let Some(owner) = q.visible_to_owner {
        // Each activity carries its lead's owner (migration 0005), so this is an index range.
        sql.push_str(" AND a.lead_owner_id = ?");
        args.push(SqlValue::Integer(owner));
    }
    if let Some(from) = q.occurred_from {
        sql.push_str(" AND a.occurred_at >= ?");
        args.push(SqlValue::Integer(from));
    }
    if let Some(to) = q.occurred_to {
        sql.push_str(" AND a.occurred_at <= ?");
        args.push(SqlValue::Integer(to));
    }
    (sql, args)
}

/// The ORDER BY clause (and its parameters) for `q`: the sort key with explicit NULL placement
/// (NULLs first ascending, last descending — PostgreSQL's defaults are the other way round), then
/// the id in the same direction as a total tie-break.
fn activity_order(q: &ActivityQuery) -> (String, Vec<SqlValue>) {
    let dir = if q.descending {
        "DESC NULLS LAST"
    } else {
        "ASC NULLS FIRST"
    };
    let id_dir = if q.descending { "DESC" } else { "ASC" };
    let mut args = Vec::new();
    let key = match &q.sort {
        ActivitySort::OccurredAt => "a.occurred_at".to_string(),
        // Within one opportunity, sort its own rows (found through the opportunity index) rather
        // than walk the tenant-wide updated_at index and filter: the unary `+` keeps SQLite from
        // choosing that index for the ORDER BY.
        ActivitySort::UpdatedAt if q.opportunity_id.is_some() => "+a.updated_at".to_string(),
        ActivitySort::UpdatedAt => "a.updated_at".to_string(),
        ActivitySort::EventCode => "a.event_code".to_string(),
        ActivitySort::Score => "a.score".to_string(),
        ActivitySort::Note => "a.note".to_string(),
        ActivitySort::Status => "a.status".to_string(),
        ActivitySort::CreatedByName => "(SELECT trim(c.first_name || ' ' || c.last_name) FROM users c WHERE c.id = a.created_by)"
                .to_string(),
        ActivitySort::Guid => "a.guid".to_string(),
        ActivitySort::Id => return (format!("a.id {id_dir}"), args),
        ActivitySort::Field {
            schema_name,
            numeric,
        } => {
            args.push(SqlValue::Text(format!(
                "$.\"{}\"",
                schema_name.replace('"', "")
            )));
            if *numeric {
                "CAST(json_extract(a.fields, ?) AS REAL)".to_string()
            } else {
                "json_extract(a.fields, ?)".to_string()
            }
        }
    };
    (format!("{key} {dir}, a.id {id_dir}"), args)
}

/// The page statement `list_activities` runs for `q`, with its parameters (public so that tests
/// and reports can EXPLAIN QUERY PLAN exactly what a request executes).
pub fn activity_page_sql(q: &ActivityQuery) -> (String, Vec<SqlValue>) {
    if let Some(types) = super::per_type_arms(q) {
        return per_type_page_sql(q, &types);
    }
    let (filter, mut args) = activity_filter(q);
    let (order, order_args) = activity_order(q);
    args.extend(order_args);
    args.push(SqlValue::Integer(q.limit as i64));
    args.push(SqlValue::Integer(q.offset.min(i64::MAX as u64) as i64));
    (
        format!("{ACTIVITY_SELECT} WHERE {filter} ORDER BY {order} LIMIT ? OFFSET ?"),
        args,
    )
}

/// A page of two or more types: per type, the first offset+limit matching ids read in order off
/// its (tenant, type, date) index; the page is then cut from those few rows. The unary `+` in
/// the outer ORDER BY keeps SQLite from walking the tenant's date index to probe the id list.
fn per_type_page_sql(q: &ActivityQuery, types: &[String]) -> (String, Vec<SqlValue>) {
    let (order, _) = activity_order(q);
    let arm_limit = (q.offset.saturating_add(u64::from(q.limit))).min(i64::MAX as u64) as i64;
    let mut args = Vec::new();
    let mut arms = Vec::new();
    for t in types {
        let (filter, filter_args) = activity_filter(q);
        args.extend(filter_args);
        args.push(SqlValue::Text(t.clone()));
        args.push(SqlValue::Integer(arm_limit));
        arms.push(format!(
            "SELECT id FROM (SELECT a.id FROM activities a WHERE {filter} AND a.sl_type = ? \
             ORDER BY {order} LIMIT ?)"
        ));
    }
    args.push(SqlValue::Integer(q.tenant_id));
    args.push(SqlValue::Integer(q.limit as i64));
    args.push(SqlValue::Integer(q.offset.min(i64::MAX as u64) as i64));
    (
        format!(
            "{ACTIVITY_SELECT} WHERE a.id IN ({}) AND a.tenant_id = ? ORDER BY +{order} LIMIT ? OFFSET ?",
            arms.join(" UNION ALL ")
        ),
        args,
    )
}

/// The count statement `list_activities` runs for `q` (`None` when it counts nothing). Counting
/// touches only `activities` (and `leads` for visibility), so the planner can answer from a
/// covering index; a cap (`limit_paging_counts`) bounds the work on huge tenants.
pub fn activity_count_sql(q: &ActivityQuery) -> Option<(String, Vec<SqlValue>)> {
    let (filter, mut args) = activity_filter(q);
    match q.count {
        CountMode::None => None,
        CountMode::Exact => Some((
            format!("SELECT count(*) FROM activities a WHERE {filter}"),
            args,
        )),
        CountMode::Capped(cap) => {
            args.push(SqlValue::Integer(cap.min(i64::MAX as u64) as i64));
            Some((
                format!(
                    "SELECT count(*) FROM (SELECT 1 FROM activities a WHERE {filter} LIMIT ?) capped"
                ),
                args,
            ))
        }
    }
}

/// Inserts `activities` in the open write transaction (see `Store::insert_activities`).
fn insert_rows(c: &Connection, tenant_id: i64, activities: &[NewActivity]) -> Result<Vec<i64>> {
    let first = tick(c, tenant_id, activities.len() as i64)?;
    // One row of VALUES, neither INSERT … SELECT from the type nor RETURNING (which SQLite runs
    // as a trigger): SQLite keeps a statement journal (a copy of every page the statement
    // changes) for any statement that may write several rows or fires a trigger, and that
    // copying was a tenth of a Create's instructions on the writer thread.
    let mut type_of = c
        .prepare_cached(
            "SELECT event_code, salesloft_type, kind = 'opportunity' FROM activity_types
             WHERE tenant_id = ?1 AND id = ?2",
        )
        .db()?;
    let mut insert = c
        .prepare_cached(
            "INSERT INTO activities (tenant_id, guid, type_id, event_code, lead_id, opportunity_id, owner_id,
                created_by, modified_by, note, occurred_at, created_at, updated_at, score, status, fields,
                account_id, pinned_at, tags, static_data, sl_type, res_kind, res_id, lead_owner_id)
             VALUES (?1, ?2, ?3, ?18, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13,
                ?14, CASE WHEN ?15 THEN ?10 END, ?16, ?17, ?19,
                CASE WHEN ?20 OR ?5 IS NOT NULL THEN 'crm_opportunity'
                     WHEN ?14 IS NOT NULL THEN 'account' ELSE 'person' END,
                CASE WHEN ?20 THEN 0 WHEN ?5 IS NOT NULL THEN ?5
                     WHEN ?14 IS NOT NULL THEN ?14 ELSE ?4 END,
                (SELECT l.owner_id FROM leads l WHERE l.tenant_id = ?1 AND l.id = ?4))",
        )
        .db()?;
    let mut score = c
        .prepare_cached("UPDATE leads SET score = score + ?3 WHERE tenant_id = ?1 AND id = ?2")
        .db()?;
    let mut self_resource = c
        .prepare_cached("UPDATE activities SET res_id = id WHERE id = ?1")
        .db()?;
    // The types this call names (a bulk call names one or two, again and again).
    let mut types: Vec<(i64, (i64, String, bool))> = Vec::new();
    let mut ids = Vec::with_capacity(activities.len());
    for (i, a) in activities.iter().enumerate() {
        let ts = first + i as i64;
        if a.lead_id.is_none() && a.account_id.is_none() {
            return Err(Error::InvalidInput(
                "An activity needs a lead or an account".into(),
            ));
        }
        let known = match types.iter().position(|(t, _)| *t == a.type_id) {
            Some(i) => i,
            None => {
                let ty: (i64, String, bool) = type_of
                    .query_row(params![tenant_id, a.type_id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()
                    .db()?
                    .ok_or_else(|| Error::NotFound("Activity type does not exist".into()))?;
                types.push((a.type_id, ty));
                types.len() - 1
            }
        };
        let &(event_code, ref sl_type, is_opportunity) = &types[known].1;
        insert
            .execute(params![
                tenant_id,
                a.guid.to_string(),
                a.type_id,
                a.lead_id,
                a.opportunity_id,
                a.owner_id,
                a.created_by,
                a.note,
                a.occurred_at,
                ts,
                a.score,
                a.status,
                to_json(&a.fields)?,
                a.account_id,
                a.pinned,
                to_json(&a.tags)?,
                to_json(&a.static_data)?,
                event_code,
                sl_type,
                is_opportunity
            ])
            .db()?;
        let id = c.last_insert_rowid();
        if is_opportunity {
            // An opportunity record is its own Salesloft resource.
            self_resource.execute(params![id]).db()?;
        }
        ids.push(id);
        if let (Some(lead), true) = (a.lead_id, a.score != 0) {
            score.execute(params![tenant_id, lead, a.score]).db()?;
        }
    }
    Ok(ids)
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
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
            .write(move |c| {
                let now = now_micros();
                let guid = Uuid::now_v7();
                c.prepare_cached(
                    "INSERT INTO tenants (guid, name, clock, created_at) VALUES (?1, ?2, 0, ?3)",
                )
                .db()?
                .execute(params![guid.to_string(), name, now])
                .db()?;
                let tenant = Tenant {
                    id: c.last_insert_rowid(),
                    guid,
                    name: name.clone(),
                };
                let user_id = insert_user(c, tenant.id, &admin, now)?;
                for t in &types {
                    insert_type(c, tenant.id, t, now)?;
                }
                Ok((tenant, user_id))
            })
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
            .write(move |c| insert_user(c, tenant_id, &user, now_micros()))
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
        self.write(move |c| insert_lead(c, tenant_id, &lead, now_micros()))
            .await?;
        self.lead_by_guid(tenant_id, guid)
            .await?
            .ok_or_else(|| Error::Internal("created lead vanished".into()))
    }

    async fn create_leads(&self, tenant_id: i64, leads: Vec<NewLead>) -> Result<Vec<i64>> {
        self.write(move |c| {
            let now = now_micros();
            leads
                .iter()
                .map(|l| insert_lead(c, tenant_id, l, now))
                .collect()
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
            move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE activity_types SET name = ?3, name_lc = ?4, display_name = ?5, score = ?6, description = ?7,
                        direction = ?8, is_email_type = ?9, salesloft_type = ?10, fields = ?11, updated_at = ?12
                     WHERE tenant_id = ?1 AND id = ?2",
                )
                .db()?
                .execute(params![
                    tenant_id,
                    ty.id,
                    ty.name,
                    ty.name.to_lowercase(),
                    ty.display_name,
                    ty.score,
                    ty.description,
                    ty.direction,
                    ty.is_email_type,
                    ty.salesloft_type,
                    to_json(&ty.fields)?,
                    now_micros()
                ])
                .db()?;
            if n == 0 {
                return Err(Error::NotFound(format!("Activity type {} does not exist", ty.event_code)));
            }
            restamp_sl_type(c, tenant_id, ty.id, &ty.salesloft_type)?;
            Ok(())
        },
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
        self.write(move |c| insert_rows(c, tenant_id, &activities))
            .await
    }

    /// The lead's score is read in the write transaction: a Create costs no second read.
    async fn insert_activity_scored(
        &self,
        tenant_id: i64,
        activity: NewActivity,
    ) -> Result<Option<i64>> {
        self.write(move |c| {
            insert_rows(c, tenant_id, std::slice::from_ref(&activity))?;
            match activity.lead_id {
                Some(lead) => c
                    .prepare_cached("SELECT score FROM leads WHERE tenant_id = ?1 AND id = ?2")
                    .db()?
                    .query_row(params![tenant_id, lead], |r| r.get(0))
                    .optional()
                    .db(),
                None => Ok(None),
            }
        })
        .await
    }

    async fn update_activity(&self, tenant_id: i64, u: ActivityUpdate) -> Result<()> {
        self.write(move |c| {
            let ts = tick(c, tenant_id, 1)?;
            let n = c
                .prepare_cached(
                    "UPDATE activities SET note = coalesce(?3, note), owner_id = coalesce(?4, owner_id),
                        status = coalesce(?5, status), fields = coalesce(?6, fields), modified_by = ?7, updated_at = ?8,
                        occurred_at = coalesce(?9, occurred_at),
                        pinned_at = CASE WHEN ?10 IS NULL THEN pinned_at WHEN ?10 THEN coalesce(pinned_at, ?8) END,
                        tags = coalesce(?11, tags), static_data = coalesce(?12, static_data)
                     WHERE tenant_id = ?1 AND id = ?2",
                )
                .db()?
                .execute(params![
                    tenant_id,
                    u.id,
                    u.note,
                    u.owner_id,
                    u.status,
                    u.fields.as_ref().map(to_json).transpose()?,
                    u.modified_by,
                    ts,
                    u.occurred_at,
                    u.pinned,
                    u.tags.as_ref().map(to_json).transpose()?,
                    u.static_data.as_ref().map(to_json).transpose()?
                ])
                .db()?;
            if n == 0 {
                return Err(Error::NotFound("Activity does not exist".into()));
            }
            Ok(())
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

    async fn delete_activity(&self, tenant_id: i64, id: i64) -> Result<()> {
        self.write(move |c| {
            let children: i64 = c
                .prepare_cached(
                    "SELECT count(*) FROM activities WHERE tenant_id = ?1 AND opportunity_id = ?2",
                )
                .db()?
                .query_row(params![tenant_id, id], |r| r.get(0))
                .db()?;
            if children > 0 {
                return Err(Error::InvalidInput(format!(
                    "This opportunity has {children} activities logged on it; delete them first"
                )));
            }
            let deleted: Option<(Option<i64>, i64)> = c
                .prepare_cached(
                    "DELETE FROM activities WHERE tenant_id = ?1 AND id = ?2 RETURNING lead_id, score",
                )
                .db()?
                .query_row(params![tenant_id, id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .db()?;
            match deleted {
                None => Err(Error::NotFound("Activity does not exist".into())),
                Some((Some(lead), score)) if score != 0 => {
                    c.prepare_cached(
                        "UPDATE leads SET score = score - ?3 WHERE tenant_id = ?1 AND id = ?2",
                    )
                    .db()?
                    .execute(params![tenant_id, lead, score])
                    .db()?;
                    Ok(())
                }
                Some(_) => Ok(()),
            }
        })
        .await
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
        self.write(move |c| {
            let now = now_micros();
            let n = c
                .prepare_cached(
                    "UPDATE leads SET deleted_at = ?3, updated_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND deleted_at IS NULL",
                )
                .db()?
                .execute(params![tenant_id, lead_id, now])
                .db()?;
            if n == 0 {
                return Err(Error::NotFound("Lead does not exist".into()));
            }
            restamp_lead_activities(c, tenant_id, lead_id)
        })
        .await
    }

    async fn create_account(&self, tenant_id: i64, account: NewAccount) -> Result<Account> {
        let guid = account.guid;
        self.write(move |c| {
            let now = now_micros();
            c.prepare_cached(
                "INSERT INTO accounts (tenant_id, guid, name, name_lc, domain, owner_id, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )
            .db()?
            .execute(params![
                tenant_id,
                account.guid.to_string(),
                account.name,
                account.name.to_lowercase(),
                account.domain,
                account.owner_id,
                now
            ])
            .map_err(|e| match map_err(e) {
                Error::Duplicate(_) => Error::Duplicate(format!(
                    "An account named '{}' already exists",
                    account.name
                )),
                other => other,
            })?;
            Ok(())
        })
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

/// Counts and reads one page of activities in the read transaction `tx` is in, and labels its
/// rows (`seen`: the directories' generation noted before the transaction began).
fn list_in(
    tx: &Connection,
    q: &ActivityQuery,
    labels: &Labels,
    seen: Seen,
) -> Result<Page<ActivityView>> {
    let total: i64 = match activity_count_sql(q) {
        None => 0,
        Some((sql, args)) => tx
            .prepare_cached(&sql)
            .db()?
            .query_row(params_from_iter(args.iter()), |r| r.get(0))
            .db()?,
    };
    let (sql, page_args) = activity_page_sql(q);
    let mut stmt = tx.prepare_cached(&sql).db()?;
    // Sized for the page up front: an activity row is large, and growing the vector
    // row by row copied the rows read so far (1.5 % of a Retrieve).
    let mut rows = Vec::with_capacity((q.limit as usize).min(1000) + 1);
    for row in stmt
        .query_map(params_from_iter(page_args.iter()), activity_row)
        .db()?
    {
        rows.push(row.db()?);
    }
    drop(stmt);
    let rows = labels.label(tx, rows, seen)?;
    Ok(Page {
        total: total as u64,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build flags in .cargo/config.toml are in effect: SQLite maps the whole file (without
    /// SQLITE_MAX_MMAP_SIZE it would silently cap the mapping at 2 GiB).
    #[test]
    fn connections_map_the_whole_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let conn = open_connection(&dir.path().join("t.db"), false).expect("open");
        let mapped: i64 = conn
            .query_row("PRAGMA mmap_size", [], |r| r.get(0))
            .expect("mmap_size");
        assert_eq!(mapped as u64, MMAP_SIZE);
    }

    async fn add_tenant(store: &SqliteStore, name: &'static str) {
        store
            .write(move |c| {
                c.execute(
                    "INSERT INTO tenants (guid, name, created_at) VALUES (?1, ?2, 0)",
                    params![Uuid::new_v4().to_string(), name],
                )
                .db()
            })
            .await
            .expect("insert tenant");
    }

    /// The name of the thread a read ran on, and what it counted.
    fn count_on(c: &Connection, sql: &str) -> Result<(String, i64)> {
        let n: i64 = c.query_row(sql, [], |r| r.get(0)).db()?;
        let thread = std::thread::current().name().unwrap_or("").to_string();
        Ok((thread, n))
    }

    /// A short read runs where it was asked for; one that outlasts `INLINE_BUDGET` is stopped and
    /// run again, whole, on a reader thread, with the full answer (not the part counted before it
    /// was stopped), and the inline connection is left with no transaction open.
    #[tokio::test(flavor = "current_thread")]
    async fn long_reads_move_to_reader_threads_and_still_answer_in_full() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("t.db").to_str().expect("utf-8 path"))
            .expect("open store");
        let (thread, n) = store
            .read(|c| count_on(c, "SELECT count(*) FROM tenants"))
            .await
            .expect("short read");
        assert_eq!(n, 0);
        assert!(!thread.starts_with("sqlite-reader"), "ran on {thread}");

        // Millions of steps: far beyond 3 ms on any machine.
        let long =
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000000) \
                    SELECT count(*) FROM n";
        let (thread, n) = store
            .read(move |c| count_on(c, long))
            .await
            .expect("long read");
        assert_eq!(n, 5_000_000);
        assert!(thread.starts_with("sqlite-reader"), "ran on {thread}");

        // A read that swallows the failure of its stopped statement inside a transaction it never
        // closes: its partial answer (-1) is not what the caller gets, and no transaction stays
        // open on either connection.
        let (thread, n) = store
            .read(move |c| {
                c.execute_batch("BEGIN").db()?;
                let n = c.query_row(long, [], |r| r.get(0)).unwrap_or(-1);
                let thread = std::thread::current().name().unwrap_or("").to_string();
                Ok((thread, n))
            })
            .await
            .expect("long read that swallows its error");
        assert_eq!(n, 5_000_000);
        assert!(thread.starts_with("sqlite-reader"), "ran on {thread}");
        INLINE_READER.with(|cell| {
            let slot = cell.borrow();
            let (_, conn) = slot.as_ref().expect("the inline connection is kept");
            assert!(conn.is_autocommit(), "a transaction was left open");
        });
        // The next short read runs inline again and sees a write made since.
        add_tenant(&store, "Acme").await;
        let (thread, n) = store
            .read(|c| count_on(c, "SELECT count(*) FROM tenants"))
            .await
            .expect("short read after the long one");
        assert_eq!(n, 1);
        assert!(!thread.starts_with("sqlite-reader"), "ran on {thread}");
    }

    /// Writes queued behind a slow one run as one batch, in the order they were sent. Those that
    /// fail (an error after a change, a panic, an error before any change) leave no trace; the
    /// others, before and after them, commit, each seeing the ones before it as if the failing
    /// ones had never run.
    #[tokio::test(flavor = "current_thread")]
    async fn a_failing_write_rolls_back_alone_in_its_batch() {
        use std::future::Future;
        type Pending<'a> = std::pin::Pin<Box<dyn Future<Output = Result<i64>> + 'a>>;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("t.db").to_str().expect("utf-8 path"))
            .expect("open store");
        // Polled once, a write has sent its job to the writer; polling in turn fixes the order.
        let send = |w: &mut Pending<'_>| {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(
                w.as_mut().poll(&mut cx).is_pending(),
                "answered before its batch"
            );
        };
        let (started, holding) = std::sync::mpsc::channel();
        let mut hold: Pending = Box::pin(store.write(move |_| {
            let _ = started.send(());
            std::thread::sleep(std::time::Duration::from_millis(300));
            Ok(0)
        }));
        send(&mut hold);
        holding
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the writer runs the holding write");
        // What each write does after inserting a tenant named after its place (or before).
        #[derive(Clone, Copy, Debug, PartialEq)]
        enum Then {
            Count,
            Fail,
            Panic,
            FailFirst,
        }
        let plan = [
            Then::Count,
            Then::Fail,
            Then::Count,
            Then::Panic,
            Then::Count,
            Then::FailFirst,
            Then::Count,
        ];
        let mut writes: Vec<Pending> = plan
            .iter()
            .enumerate()
            .map(|(i, &then)| -> Pending<'_> {
                Box::pin(store.write(move |c| {
                    if then == Then::FailFirst {
                        return Err(Error::NotFound(format!("write {i} finds nothing")));
                    }
                    c.execute(
                        "INSERT INTO tenants (guid, name, created_at) VALUES (?1, ?2, 0)",
                        params![Uuid::new_v4().to_string(), format!("t{i}")],
                    )
                    .db()?;
                    match then {
                        Then::Fail => Err(Error::InvalidInput(format!("write {i} fails"))),
                        Then::Panic => panic!("write {i} panics"),
                        _ => c
                            .query_row("SELECT count(*) FROM tenants", [], |r| r.get(0))
                            .db(),
                    }
                }))
            })
            .collect();
        for w in writes.iter_mut() {
            send(w);
        }
        assert_eq!(hold.await.expect("holding write"), 0);
        let mut seen = Vec::new();
        for (w, then) in writes.into_iter().zip(plan) {
            match (then, w.await) {
                (Then::Count, Ok(n)) => seen.push(n),
                (Then::Count, Err(e)) => panic!("a counting write failed: {e}"),
                (_, Ok(n)) => panic!("a {then:?} write was answered {n}"),
                (_, Err(_)) => {}
            }
        }
        // Each counting write counted itself and the counting ones before it.
        assert_eq!(seen, [1, 2, 3, 4]);
        let names: Vec<String> = store
            .read(|c| {
                c.prepare("SELECT name FROM tenants ORDER BY id")
                    .db()?
                    .query_map([], |r| r.get(0))
                    .db()?
                    .collect::<rusqlite::Result<_>>()
                    .db()
            })
            .await
            .expect("names");
        assert_eq!(names, ["t0", "t2", "t4", "t6"]);
    }

    /// The writer caches 32 MiB until the database passes 1 GiB and 256 MiB from then on (see
    /// `writer_cache_kib`); a new store starts small.
    #[tokio::test(flavor = "current_thread")]
    async fn the_writer_cache_grows_only_past_one_gib() {
        assert_eq!(writer_cache_for(0), 32 * 1024);
        assert_eq!(writer_cache_for(1 << 30), 32 * 1024);
        assert_eq!(writer_cache_for((1 << 30) + 4096), 256 * 1024);
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("t.db").to_str().expect("utf-8 path"))
            .expect("open store");
        let kib: i64 = store
            .write(|c| c.query_row("PRAGMA cache_size", [], |r| r.get(0)).db())
            .await
            .expect("cache size");
        assert_eq!(kib, -32 * 1024);
    }

    /// Two stores read on one thread never answer from each other's file, even when the second
    /// lives at the path of the first after that was deleted.
    #[tokio::test(flavor = "current_thread")]
    async fn inline_connections_belong_to_one_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let path = path.to_str().expect("utf-8 path");
        let tenants = "SELECT count(*) FROM tenants";
        let first = SqliteStore::open(path).expect("open first");
        add_tenant(&first, "Acme").await;
        let (_, n) = first
            .read(move |c| count_on(c, tenants))
            .await
            .expect("read");
        assert_eq!(n, 1);
        drop(first);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
        let second = SqliteStore::open(path).expect("open second");
        let (_, n) = second
            .read(move |c| count_on(c, tenants))
            .await
            .expect("read");
        assert_eq!(
            n, 0,
            "read the deleted file through the first store's connection"
        );
    }

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

    /// Under a stream of writes the checkpointer thread copies the WAL back into the database file,
    /// and the WAL starts over instead of growing: 240 MiB written in 1 MiB commits leave a WAL
    /// well under 200 MiB (it would hold all 240 MiB without the checkpointer, whose checkpoint
    /// starts at 64 MiB; the writer's own limit is 256 MiB).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpointer_keeps_the_wal_near_its_threshold() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let store = SqliteStore::open(path.to_str().expect("utf-8 path")).expect("open store");
        store
            .write(|c| c.execute_batch("CREATE TABLE filler (b BLOB)").db())
            .await
            .expect("create table");
        let mut largest_wal = 0;
        let wal = dir.path().join("t.db-wal");
        for _ in 0..240 {
            store
                .write(|c| {
                    c.execute("INSERT INTO filler VALUES (zeroblob(1048576))", [])
                        .db()
                        .map(|_| ())
                })
                .await
                .expect("insert");
            largest_wal = largest_wal.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
        let mib = 1 << 20;
        assert!(
            largest_wal < 200 * mib,
            "the WAL grew to {} MiB",
            largest_wal / mib
        );
        // The database file holds what was checkpointed (a few MiB before any checkpoint).
        let db_size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(db_size > 60 * mib, "database file is {} MiB", db_size / mib);
    }
}
