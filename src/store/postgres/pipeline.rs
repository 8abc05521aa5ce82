//! Statements sent to the server as one flight: a read snapshot's BEGIN, statements and COMMIT go
//! out together on one connection and cost one round trip instead of one each.
//!
//! tokio-postgres writes a request to the connection when its future is first polled and answers
//! requests in the order they were sent, so futures joined in order are pipelined. Every message
//! of a flight, COMMIT included, is queued on that first poll: a caller that stops waiting midway
//! (a client that hangs up) leaves no transaction open on the pooled connection.

use deadpool_postgres::Object;
use tokio_postgres::{Row, Statement};

use super::rows::{map_err, refs, Params};
use crate::error::Result;

/// A read-only snapshot, as SQLite's read transaction gives to a count and its page, whose
/// statements run on their generic plans: the page statement joins nine tables, and planning it
/// for each call's values took 5–25 ms against well under 1 ms to run it, while its plan does
/// not depend on the values (the tenant and filter columns lead the indexes it walks). That is the
/// query-planner stability SQLite's connections are set to (docs/decisions.md). PostgreSQL's
/// default (`auto`) keeps planning per call whenever the generic plan's estimate is the higher.
///
/// Parallel workers and JIT compilation are off in the snapshot. A generic plan does not know the
/// page's `LIMIT` value and estimates thousands of rows: past ~100k activities PostgreSQL would
/// plan a `Gather Merge` with a worker for a 26-row page (9.5 ms, ~6 ms of it starting the worker,
/// against 0.85 ms), and without workers the estimate passes `jit_above_cost`, so each execution
/// would compile the plan (112 ms at 1M activities, 60 ms of it JIT, against 0.93 ms).
/// docs/decisions.md, "PostgreSQL backend: speed".
const BEGIN_SNAPSHOT: &str = "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
     SET LOCAL plan_cache_mode = force_generic_plan; \
     SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off";

/// Runs `count` (when given; its first column is the total) and `page` in one read-only
/// repeatable-read snapshot, in one round trip: BEGIN, the count, the page and COMMIT are sent
/// together. A failing statement aborts the transaction; the COMMIT that follows it then rolls
/// back, so the connection goes back to the pool idle, and the first failure is the one reported.
pub(super) async fn snapshot_page(
    c: &Object,
    count: Option<(&Statement, &Params)>,
    page: (&Statement, &Params),
) -> Result<(i64, Vec<Row>)> {
    let count_args = count.map(|(_, args)| refs(args));
    let page_args = refs(page.1);
    let begin = c.batch_execute(BEGIN_SNAPSHOT);
    let total = async {
        match (count, &count_args) {
            (Some((stmt, _)), Some(args)) => c.query_one(stmt, args).await.map(Some),
            _ => Ok(None),
        }
    };
    let rows = c.query(page.0, &page_args);
    let commit = c.batch_execute("COMMIT");
    let (begin, total, rows, commit) = tokio::join!(begin, total, rows, commit);
    begin.map_err(map_err)?;
    let total = match total.map_err(map_err)? {
        Some(row) => super::rows::get(&row, 0)?,
        None => 0,
    };
    let rows = rows.map_err(map_err)?;
    commit.map_err(map_err)?;
    Ok((total, rows))
}
