//! SQLite reads: inline on the asking thread within a small budget, else on the reader threads.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::rows::SqlResult;
use super::SqliteStore;
use crate::error::{Error, Result};
use crate::store::labels::{Labels, Seen};
use crate::telemetry::StoreQueue;

/// Reader threads (and connections); reads beyond this many wait their turn in a queue.
const READERS: usize = 6;
/// Reads that may wait for a reader thread; one more is refused at once (503 with `Retry-After`)
/// rather than queued. Only reads that outlast the inline budget come here, so each costs a few
/// milliseconds at least (a counted feed page of a large tenant, a deep sort): 64 of them behind
/// six threads is ~0.5 s of type-filtered counted Salesloft pages at 200k activities (~45 ms
/// each). `serve --read-queue` sets another bound.
pub const READ_QUEUE: usize = 64;

/// The page cache of a reading connection, in KiB, unless `serve --read-cache-mib` says otherwise.
pub const READ_CACHE_KIB: i64 = 64 * 1024;

/// How long a connection waits for a lock another connection holds before its call fails busy.
pub(super) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
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
pub(super) struct ReaderPool {
    /// Bounded at `queue` (see `READ_QUEUE`).
    jobs: std::sync::mpsc::SyncSender<ReadJob>,
    queue: usize,
}

impl ReaderPool {
    /// `queue`: reads that may wait for a thread (at least 1).
    pub(super) fn start(
        path: &Path,
        queue: usize,
        cache_kib: i64,
    ) -> std::result::Result<ReaderPool, String> {
        let queue = queue.max(1);
        let (tx, rx) = std::sync::mpsc::sync_channel::<ReadJob>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..READERS {
            let conn = open_connection(path, true, cache_kib).map_err(|e| e.to_string())?;
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
        Ok(ReaderPool { jobs: tx, queue })
    }

    /// Queues `job`, or refuses it at once when `queue` reads are already waiting.
    fn submit(&self, job: ReadJob) -> Result<()> {
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                StoreQueue::read().refuse();
                Err(Error::Unavailable(
                    format!("the read queue is full ({} reads waiting)", self.queue).into(),
                ))
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                Err(Error::Unavailable("the SQLite readers have stopped".into()))
            }
        }
    }
}

/// Opens a connection to `path` whose page cache holds up to `cache_kib` KiB.
pub(super) fn open_connection(
    path: &Path,
    read_only: bool,
    cache_kib: i64,
) -> rusqlite::Result<Connection> {
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
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA cache_size = -{};",
        cache_kib.max(1)
    ))?;
    // No memory mapping of the database file (SQLite's default, set explicitly): every page comes
    // through pread() into the connection's own cache. Through a mapping, a disk read error, or a
    // file truncated under the server, is a SIGBUS that ends the process instead of an error for
    // one request; the mapping saved a copy per page read outside the cache, a cost that did not
    // show above this machine's noise at 5k-200k activities (docs/benchmarks.md, "Memory-mapped
    // reads").
    conn.execute_batch("PRAGMA mmap_size = 0")?;
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
    /// Runs `f` in one read transaction with the label directories: their generation is noted
    /// before the snapshot is taken, as `Labels::label` and `Directory::get_all` need, so that
    /// whatever `f` reads (rows, their labels, a type) comes from one snapshot.
    pub(super) async fn read_labelled<T: Send + 'static>(
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
    pub(super) async fn read<T: Send + 'static>(
        &self,
        f: impl Fn(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        if let Some(done) = self.read_inline(&f) {
            return done;
        }
        let (tx, rx) = oneshot::channel::<Result<T>>();
        // The reader thread runs the read in the caller's span, so that what it logs names the
        // request; the ticket counts the read in the queue's depth and wait.
        let span = tracing::Span::current();
        let queued = StoreQueue::read().enqueue();
        self.readers.submit(Box::new(move |conn| {
            queued.start();
            let _entered = span.enter();
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
                let conn = open_connection(&self.path, true, self.read_cache_kib).ok()?;
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
                // A lock the read must wait for (rare for a WAL reader) is not waited for here: the
                // read moves to a reader thread, which waits up to 10 s.
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

/// The busy handler of inline connections: never waits. A lock a WAL reader must wait for (rare:
/// a connection recovering the WAL index, or a RESTART checkpoint finishing) stops the read, which
/// moves to a reader thread and waits there (`BUSY_TIMEOUT`); an async worker, which serves many
/// other connections, never sleeps on a lock.
fn inline_busy(_attempts: i32) -> bool {
    INLINE_STOPPED.with(|s| s.set(true));
    false
}

#[cfg(test)]
mod tests {
    use rusqlite::params;
    use uuid::Uuid;

    use super::*;

    /// `Bounds::read_cache_kib` sizes the page cache of the inline connections and of the reader
    /// threads' (a read too long for the inline budget runs on a reader thread).
    #[tokio::test(flavor = "current_thread")]
    async fn reading_connections_take_the_cache_size_they_are_given() {
        let dir = tempfile::tempdir().expect("temp dir");
        let bounds = super::super::Bounds {
            read_cache_kib: 2048,
            ..Default::default()
        };
        let store =
            SqliteStore::open_with(dir.path().join("t.db").to_str().expect("utf-8"), bounds)
                .expect("open store");
        let inline: i64 = store
            .read(|c| c.query_row("PRAGMA cache_size", [], |r| r.get(0)).db())
            .await
            .expect("inline read");
        assert_eq!(inline, -2048);
        let (tx, rx) = tokio::sync::oneshot::channel();
        store
            .readers
            .submit(Box::new(move |c| {
                let _ = tx.send(c.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0)));
            }))
            .expect("submit");
        assert_eq!(rx.await.expect("answer").expect("pragma"), -2048);
    }

    /// Connections read the file with pread(), never through a mapping (see `open_connection`).
    #[test]
    fn connections_do_not_map_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        for read_only in [false, true] {
            let path = dir.path().join("t.db");
            let conn = open_connection(&path, read_only, READ_CACHE_KIB).expect("open");
            let mapped: i64 = conn
                .query_row("PRAGMA mmap_size", [], |r| r.get(0))
                .expect("mmap_size");
            assert_eq!(mapped, 0);
        }
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

    /// With every reader thread busy and the queue full, a read too long to run inline is refused
    /// at once (`Unavailable`), not queued; once the readers are free, the reads they held and the
    /// queued one answer in full, and new reads run again.
    #[tokio::test(flavor = "current_thread")]
    async fn a_full_read_queue_refuses_at_once() {
        use std::sync::{Condvar, Mutex};
        let dir = tempfile::tempdir().expect("temp dir");
        let queues = super::super::Bounds {
            writes: 1,
            reads: 1,
            ..Default::default()
        };
        let store = Arc::new(
            SqliteStore::open_with(dir.path().join("t.db").to_str().expect("utf-8"), queues)
                .expect("open store"),
        );
        // Long enough to outlast the inline budget, so that every one of these reads moves to
        // a reader thread; there it waits at the gate until the test opens it.
        let long =
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) \
                    SELECT count(*) FROM n";
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let held_read = |store: Arc<SqliteStore>| {
            let (gate, started_tx) = (gate.clone(), started_tx.clone());
            tokio::spawn(async move {
                store
                    .read(move |c| {
                        let n: i64 = c.query_row(long, [], |r| r.get(0)).db()?;
                        let _ = started_tx.send(());
                        let (open, cv) = &*gate;
                        let mut open = open.lock().map_err(|_| Error::internal("gate"))?;
                        while !*open {
                            open = cv.wait(open).map_err(|_| Error::internal("gate"))?;
                        }
                        Ok(n)
                    })
                    .await
            })
        };
        let mut held = Vec::new();
        for _ in 0..READERS {
            held.push(held_read(store.clone()));
            // Let the task run its inline attempt and hand the read over, then wait until a
            // reader thread has it.
            while started.try_recv().is_err() {
                tokio::task::yield_now().await;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        // One more waits in the queue (every reader is held at the gate).
        let queued = held_read(store.clone());
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!queued.is_finished(), "the queued read was answered");

        let t0 = std::time::Instant::now();
        let refused = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            store.read(move |c| c.query_row(long, [], |r| r.get::<_, i64>(0)).db()),
        )
        .await
        .expect("a read past a full queue is answered, not queued");
        assert!(
            matches!(refused, Err(Error::Unavailable(_))),
            "a read past a full queue: {refused:?}"
        );
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(1),
            "refused after {:?}",
            t0.elapsed()
        );

        {
            let (open, cv) = &*gate;
            *open.lock().expect("gate") = true;
            cv.notify_all();
        }
        for h in held.into_iter().chain(std::iter::once(queued)) {
            assert_eq!(h.await.expect("task").expect("held read"), 300_000);
        }
        let n = store
            .read(move |c| c.query_row(long, [], |r| r.get::<_, i64>(0)).db())
            .await
            .expect("a read once the readers are free");
        assert_eq!(n, 300_000);
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
}
