//! The SQLite writer thread (group commit) and the checkpointer thread that keeps the WAL short.
//!
//! Every write runs on the writer thread inside a savepoint of a shared transaction. The writer
//! drains whatever writes are queued, runs them, commits once (one fsync with `synchronous=FULL`
//! in WAL mode) and only then answers each caller: a write is acknowledged only once durable, and
//! concurrent requests share the cost of the fsync. A failing write rolls back to its savepoint
//! without touching the others in the batch.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::rows::map_err;
use super::SqliteStore;
use crate::error::{Error, Result};
use crate::ratelog::RateLimitedLog;
use crate::telemetry::{Queued, StoreQueue};

/// Writes committed together at most; bounds the latency one fsync adds to a batch.
const MAX_BATCH: usize = 512;

/// Writes that may wait for the writer thread; one more is refused at once (503 with
/// `Retry-After`) rather than queued. The queue is the one place overload would otherwise turn into
/// memory and latency: every waiting write holds its request's parsed rows, and each waits for all
/// before it. 256 is half a batch (`MAX_BATCH`): at the writer's rates on a 2-core machine (~600
/// bulk calls of 25 rows, ~7,400 single Creates a second) a full queue is ~0.4 s of bulk calls and
/// ~35 ms of Creates, so a burst the writer clears quickly is not refused; under 512 connections of
/// bulk calls it refused 94 % of them at once (bench/overload.py, docs/benchmarks.md "Overload").
/// `serve --write-queue` sets another bound.
pub const WRITE_QUEUE: usize = 256;

/// A write waiting in (or running in) a group-commit batch.
///
/// A batch first runs its writes one after another with no savepoint of their own; only if one
/// fails after changing something is the batch rolled back and run again with each write in its
/// own savepoint, so that the failing one rolls back alone (`run_batch`). Every page a savepoint changes is copied to its statement
/// journal first: that copying was a tenth of a Create's instructions, spent on the writer
/// thread that every write waits for, to guard against failures that almost never happen. A write
/// may therefore run more than once; only its last run counts, and nothing is answered before
/// the batch commits.
pub(super) trait Job: Send {
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
    /// The caller's span, entered while the job runs: what the writer logs then names the request.
    span: tracing::Span,
    /// Counts the job in the write queue until its first run.
    queued: Option<Queued>,
}

impl<T, F, A> Job for WriteJob<T, F, A>
where
    T: Send,
    F: FnMut(&Connection) -> Result<T> + Send,
    A: FnOnce() + Send,
{
    fn run(&mut self, conn: &Connection, savepoint: bool) -> bool {
        if let Some(queued) = self.queued.take() {
            queued.start();
        }
        let _entered = self.span.enter();
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
        let _entered = self.span.enter();
        let answer = match (self.outcome, commit) {
            (None, Err(e)) => Err(Error::Unavailable(
                format!("cannot open a write transaction: {e}").into(),
            )),
            (None, Ok(())) => Err(Error::Internal("the SQLite writer skipped a write".into())),
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => {
                (self.after_commit)();
                Ok(v)
            }
            (Some(Ok(_)), Err(e)) => Err(Error::Unavailable(format!("commit failed: {e}").into())),
        };
        let _ = self.answer.send(answer);
    }
}

impl SqliteStore {
    /// Runs `f` on the writer thread in the current group-commit batch; resolves once committed.
    /// `f` may run more than once (see `Job`): it must leave everything but the database as it
    /// found it. When the write queue is full the write is refused at once (`Unavailable`: 503
    /// with `Retry-After` in every dialect) instead of waiting behind it (see `WRITE_QUEUE`).
    pub(super) async fn write<T: Send + 'static>(
        &self,
        f: impl FnMut(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.write_then(f, || {}).await
    }

    /// `write`, and `after_commit` on the writer thread once `f`'s work has committed, before
    /// the caller hears of it. It runs even if the caller has stopped waiting (a client that hung
    /// up), which an action after the `await` would not.
    pub(super) async fn write_then<T: Send + 'static>(
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
            span: tracing::Span::current(),
            queued: Some(StoreQueue::write().enqueue()),
        });
        match self.writer.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                StoreQueue::write().refuse();
                return Err(Error::Unavailable(
                    format!(
                        "the write queue is full ({} writes waiting)",
                        self.writer.max_capacity()
                    )
                    .into(),
                ));
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return Err(Error::Unavailable("the SQLite writer has stopped".into()))
            }
        }
        rx.await
            .map_err(|_| Error::Internal("the SQLite writer dropped a write".into()))?
    }
}

/// WAL pages after which the checkpointer thread is asked to copy the WAL back (~64 MiB).
const CHECKPOINT_PAGES: i32 = 16384;
/// WAL pages after which the writer checkpoints by itself, because the checkpointer has fallen
/// behind: writes then slow down instead of growing the WAL without bound (~256 MiB).
const CHECKPOINT_PAGES_HARD: i32 = 4 * CHECKPOINT_PAGES;
/// WAL pages past which a checkpoint must also start the WAL over (RESTART, see
/// `checkpoint_restart`): under a steady stream of reads some reader nearly always holds a
/// snapshot that keeps the WAL in use, and PASSIVE checkpoints alone never let it start over.
const RESTART_PAGES: i32 = 2 * CHECKPOINT_PAGES;
/// How long a RESTART checkpoint waits for readers to let go of the WAL. Reads take milliseconds;
/// the writer waits this long at most, once per checkpoint, and tries again later when a long
/// read is in the way.
const RESTART_WAIT: Duration = Duration::from_millis(100);

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
pub(super) fn writer_cache_kib(conn: &Connection) -> rusqlite::Result<i64> {
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
    pub(super) static WAL_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
    /// Set (by `map_err`) when SQLite reported a full disk or an I/O error on this thread; the
    /// writer clears it before each batch and reads it after.
    pub(super) static SPACE_ERROR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether writes are failing for want of space (or an I/O error): set by the writer when a batch
/// fails so, cleared when a batch that changed something commits. `ping` reports the store not
/// ready while it is set, so that a balancer stops sending writes that can only fail.
#[derive(Default)]
pub(super) struct WriteHealth {
    failing: AtomicBool,
    /// When writes started failing, in microseconds since the epoch.
    since: AtomicI64,
    /// When a write last failed so, in microseconds since the epoch.
    last: AtomicI64,
}

impl WriteHealth {
    /// When writes started failing (microseconds since the epoch), or `None` while they succeed.
    pub(super) fn failing_since(&self) -> Option<i64> {
        self.failing
            .load(Ordering::Acquire)
            .then(|| self.since.load(Ordering::Relaxed))
    }

    /// When writes started failing, if one failed within `recent`: readiness looks only that far
    /// back, so that a balancer which stopped sending writes sends them again and the next write
    /// tells whether space is back (it fails again, or it succeeds and clears the state).
    pub(super) fn failing_recently(&self, recent: Duration) -> Option<i64> {
        let since = self.failing_since()?;
        let last = self.last.load(Ordering::Relaxed);
        let recent = i64::try_from(recent.as_micros()).unwrap_or(i64::MAX);
        (crate::domain::time::now_micros().saturating_sub(last) <= recent).then_some(since)
    }

    fn set_failing(&self) {
        let now = crate::domain::time::now_micros();
        self.last.store(now, Ordering::Relaxed);
        if !self.failing.load(Ordering::Relaxed) {
            self.since.store(now, Ordering::Relaxed);
            self.failing.store(true, Ordering::Release);
        }
    }

    fn clear(&self) {
        self.failing.store(false, Ordering::Release);
    }
}

/// Gates the writer's lines about failed batches (see `RateLimitedLog`): a full disk fails every
/// batch, thousands a second.
static BATCH_FAILED_LOG: RateLimitedLog = RateLimitedLog::new(Duration::from_secs(10));
/// Gates the line about a failed checkpoint, which under a full disk is retried often.
static CHECKPOINT_FAILED_LOG: RateLimitedLog = RateLimitedLog::new(Duration::from_secs(10));
/// While writes are failing, the least time between two checkpoints the writer tries.
const PRESSURE_CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Whether `e` says the disk is full, read-only or failing.
fn is_space_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::DiskFull
                | rusqlite::ErrorCode::SystemIoFailure
                | rusqlite::ErrorCode::ReadOnly
        )
    )
}

/// Copies the WAL back into the database file whenever the writer asks (PASSIVE: it never blocks
/// the writer or a reader, and copies what no reader still needs). Ends with the writer.
pub(super) fn checkpointer_loop(
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
    checkpoint_mode(conn, "PASSIVE")
}

/// A TRUNCATE checkpoint on `conn`, run by the writer while writes fail for want of space and
/// once they succeed again. Only TRUNCATE gives the WAL's space back to the file system: PASSIVE
/// and RESTART copy the frames into the database file but leave the WAL file as long as it was
/// (it is reused from its start), so a full disk would stay full. Copying needs room only for the
/// database file to grow by the pages it lacks, not for the WAL, so it can succeed as soon as a
/// little space is freed, and the truncation then returns all of the WAL's. On the writer's
/// connection, between batches, no write can be in the way; it waits (busy timeout) for readers
/// still using the WAL, and a failure leaves the WAL as it was, to be tried again.
fn checkpoint_truncate(conn: &Connection) -> bool {
    checkpoint_mode(conn, "TRUNCATE")
}

/// A RESTART checkpoint on the writer's connection: copies the frames left, then waits (at most
/// [`RESTART_WAIT`]) until no reader uses the WAL, so that the next commit writes it from its
/// beginning. No commit can happen meanwhile (the writer is busy here), so the readers the wait
/// is for are the ones already running.
fn checkpoint_restart(conn: &Connection) -> bool {
    let _ = conn.busy_timeout(RESTART_WAIT);
    let done = checkpoint_mode(conn, "RESTART");
    let _ = conn.busy_timeout(super::reader::BUSY_TIMEOUT);
    done
}

/// `PRAGMA wal_checkpoint(MODE)`; true when every frame was copied (for TRUNCATE: and the WAL
/// emptied).
fn checkpoint_mode(conn: &Connection, mode: &str) -> bool {
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    // (busy, frames in the WAL, frames copied); busy is 1 when a reader or writer was in the way.
    match conn.query_row(&sql, [], |r| r.get::<_, i64>(0)) {
        Ok(busy) => busy == 0 || mode == "PASSIVE",
        Err(e) => {
            if let Some(suppressed) = CHECKPOINT_FAILED_LOG.admit() {
                tracing::warn!(error = %e, mode, suppressed, "WAL checkpoint failed; the next one retries");
            }
            false
        }
    }
}

/// `cache_kib`: the page cache `open` gave the writer's connection (see `writer_cache_kib`).
/// `health`: where the writer notes that writes fail for want of space (see `WriteHealth`).
pub(super) fn writer_loop(
    conn: Connection,
    cache_kib: i64,
    mut rx: mpsc::Receiver<Box<dyn Job>>,
    checkpoints: std::sync::mpsc::SyncSender<()>,
    checkpointed: std::sync::mpsc::Receiver<()>,
    health: Arc<WriteHealth>,
) {
    // When the writer last tried a checkpoint because writes were failing.
    let mut pressure_checkpoint: Option<Instant> = None;
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
        if health.failing_since().is_some()
            && pressure_checkpoint.is_none_or(|t| t.elapsed() >= PRESSURE_CHECKPOINT_EVERY)
        {
            // Writes have been failing for want of space: the WAL's frames are copied into the
            // database file and the WAL truncated when possible, which may be what makes room
            // for this batch.
            pressure_checkpoint = Some(Instant::now());
            checkpoint_truncate(&conn);
        }
        SPACE_ERROR.with(|e| e.set(false));
        let before = conn.total_changes();
        let commit = run_batch(&conn, &mut batch);
        if SPACE_ERROR.with(|e| e.get()) {
            health.set_failing();
        } else if commit.is_ok()
            && conn.total_changes() != before
            && health.failing_since().is_some()
        {
            // Space is back: the WAL grown while writes failed goes back to the file system now,
            // not when it reaches the checkpoint threshold.
            checkpoint_truncate(&conn);
            tracing::warn!("writes succeed again");
            health.clear();
        }
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
            // (SQLite restarts it only once every frame is in the database file and no reader
            // uses the WAL). Past RESTART_PAGES readers have kept it from starting over: wait
            // for them briefly.
            if wal_pages >= RESTART_PAGES {
                let _ = checkpoint_restart(&conn);
            } else {
                let _ = checkpoint(&conn);
            }
        } else if wal_pages >= CHECKPOINT_PAGES_HARD {
            let _ = checkpoint_restart(&conn);
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
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| failed(&e, "cannot begin a write transaction"))
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
                return Err(failed(&e, "cannot roll a failed batch back"));
            }
        }
        begin()?;
        for job in batch.iter_mut() {
            job.run(conn, true);
            if conn.is_autocommit() {
                // SQLite rolled the whole transaction back: nothing of this batch is kept, and a
                // later write must not run outside it (its RELEASE would commit it alone).
                if let Some(suppressed) = BATCH_FAILED_LOG.admit() {
                    tracing::error!(suppressed, "SQLite rolled a write batch back");
                }
                return Err("the write transaction was rolled back".into());
            }
        }
    }
    conn.execute_batch("COMMIT").map_err(|e| {
        let text = failed(&e, "commit failed");
        let _ = conn.execute_batch("ROLLBACK");
        text
    })
}

/// Notes and logs (rate-limited: see `BATCH_FAILED_LOG`) a failure of the batch's transaction;
/// its text, for the callers.
fn failed(e: &rusqlite::Error, what: &'static str) -> String {
    if is_space_error(e) {
        SPACE_ERROR.with(|s| s.set(true));
    }
    if let Some(suppressed) = BATCH_FAILED_LOG.admit() {
        tracing::error!(error = %e, suppressed, "{what}");
    }
    e.to_string()
}

#[cfg(test)]
mod tests {

    #[test]
    fn readiness_looks_back_only_at_recent_failures() {
        let health = WriteHealth::default();
        assert_eq!(health.failing_recently(Duration::from_secs(10)), None);
        health.set_failing();
        assert!(health.failing_recently(Duration::from_secs(10)).is_some());
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(health.failing_recently(Duration::from_millis(1)), None);
        assert!(health.failing_since().is_some(), "the writer still knows");
        health.clear();
        assert_eq!(health.failing_since(), None);
    }

    use rusqlite::params;
    use uuid::Uuid;

    use super::*;
    use crate::store::sqlite::rows::SqlResult;

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
                        return Err(Error::NotFound(crate::error::Missing::Activity(Some(
                            format!("write {i}"),
                        ))));
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

    /// A store in a temp dir (its directory, its path) with an empty `filler` table of blobs.
    async fn filler_store() -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let store = SqliteStore::open(path.to_str().expect("utf-8 path")).expect("open store");
        store
            .write(|c| c.execute_batch("CREATE TABLE filler (b BLOB)").db())
            .await
            .expect("create table");
        (dir, path, store)
    }

    /// Writes `n` 1 MiB blobs into `filler`, one commit each; the largest the WAL grew meanwhile.
    async fn write_mib_blobs(store: &SqliteStore, dir: &tempfile::TempDir, n: usize) -> u64 {
        let wal = dir.path().join("t.db-wal");
        let mut largest_wal = 0;
        for _ in 0..n {
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
        largest_wal
    }

    /// Under a stream of writes the checkpointer thread copies the WAL back into the database file,
    /// and the WAL starts over instead of growing: 320 MiB written in 1 MiB commits leave a WAL
    /// under 240 MiB. Without the checkpointer (asked at 64 MiB) the writer's own checkpoint would
    /// let it reach 256 MiB, and with no checkpoint at all it would hold the whole 320 MiB; the
    /// margin lets the checkpointer be slow on a loaded machine.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpointer_keeps_the_wal_near_its_threshold() {
        let (dir, path, store) = filler_store().await;
        let largest_wal = write_mib_blobs(&store, &dir, 320).await;
        let mib = 1 << 20;
        assert!(
            largest_wal < 240 * mib,
            "the WAL grew to {} MiB of the 320 MiB written",
            largest_wal / mib
        );
        // The database file holds what was checkpointed (a few MiB before any checkpoint).
        let db_size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(db_size > 60 * mib, "database file is {} MiB", db_size / mib);
    }

    /// A stream of writes while two threads read without pause, their snapshots overlapping as a
    /// busy server's readers' do: some reader nearly always holds a snapshot in the WAL, so
    /// PASSIVE checkpoints copy it back but it never starts over; the writer's RESTART
    /// checkpoints still bound it. They are tried from 128 MiB and each waits 100 ms at most for
    /// the readers, so on a loaded machine a few may fail; from 256 MiB one is tried after every
    /// commit. 400 MiB written in 1 MiB commits leave a WAL under 256 MiB and a few commits
    /// (139–178 MiB here, also beside six busy loops); with PASSIVE checkpoints alone it held
    /// all 400 MiB.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_under_a_steady_stream_of_reads() {
        let (dir, path, store) = filler_store().await;
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..2u64)
            .map(|i| {
                let (path, stop) = (path.clone(), stop.clone());
                std::thread::spawn(move || {
                    let conn = super::super::reader::open_connection(
                        &path,
                        true,
                        super::super::reader::READ_CACHE_KIB,
                    )
                    .expect("reader");
                    // Each read holds its snapshot 20 ms, the two 10 ms apart: there is nearly
                    // always one in the WAL.
                    std::thread::sleep(Duration::from_millis(10 * i));
                    let mut reads = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        conn.execute_batch("BEGIN").expect("begin");
                        conn.query_row("SELECT count(*) FROM filler", [], |r| r.get::<_, i64>(0))
                            .expect("read");
                        std::thread::sleep(Duration::from_millis(20));
                        conn.execute_batch("COMMIT").expect("commit");
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        let largest_wal = write_mib_blobs(&store, &dir, 400).await;
        stop.store(true, Ordering::Relaxed);
        let reads: u64 = readers.into_iter().map(|r| r.join().expect("reader")).sum();
        assert!(reads > 100, "the readers kept reading ({reads} reads)");
        let mib = 1 << 20;
        assert!(
            largest_wal < 272 * mib,
            "the WAL grew to {} MiB of the 400 MiB written",
            largest_wal / mib
        );
    }
}
