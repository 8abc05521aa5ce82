//! Group commit of activity inserts: the inserts waiting at one moment share one transaction per
//! tenant, so they take the tenant's clock lock, check their references and flush PostgreSQL's WAL
//! once, not once each.
//!
//! Every insert advances its tenant's clock, which locks the tenant's row until commit (see
//! `writes::tick`): one insert per transaction lets a tenant commit one insert per lock hold
//! (tick, insert, WAL flush), whatever the number of connections. Here each tenant's inserts go to
//! one of a few shards (by tenant id), and each shard's worker takes whatever inserts are queued
//! when it comes free and commits them together, as SQLite's writer thread does with its queue.
//! One worker per shard means a tenant's inserts never wait on each other's row lock inside
//! PostgreSQL: they wait in the queue and join the next group. The queues are bounded: when a
//! shard's is full the caller gets `Unavailable` (503 with `Retry-After`) at once instead of memory
//! growing with the load.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};

use super::labels::PgLabels;
use super::outbox;
use super::rows::{get, map_err, query};
use super::writes::insert_activities_in;
use crate::domain::NewActivity;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::telemetry::{Queued, StoreQueue};

/// Inserts waiting in one shard before its callers are refused: several groups' worth of a busy
/// tenant's concurrent writers, and at most this many requests' rows held in memory per shard.
pub(super) const QUEUE: usize = 64;
/// Shards, each with one worker and its queue. One tenant's groups commit one after the other (its
/// clock's row lock), so more shards only help several tenants' writes along; each worker holds a
/// pooled connection while it commits, and the pool (16) must keep room for reads.
pub(super) const SHARDS: usize = 4;
/// Rows one group takes at most: the queued requests after the first join it up to this size, so
/// one transaction's statements stay a few milliseconds long.
pub(super) const MAX_ROWS: usize = 1000;

/// The shards' queues.
pub(super) struct GroupCommit {
    shards: Vec<mpsc::Sender<Pending>>,
}

/// One caller's insert: all its rows commit or none do.
struct Pending {
    tenant_id: i64,
    activities: Vec<NewActivity>,
    /// Answer the score of the (first) activity's lead as this insert left it.
    scored: bool,
    answer: oneshot::Sender<Result<Inserted>>,
    queued: Option<Queued>,
}

/// What one insert gets back: its ids in order, and its lead's score when it asked.
pub(super) struct Inserted {
    pub ids: Vec<i64>,
    pub score: Option<i64>,
}

impl GroupCommit {
    /// Starts the shards' workers on the current Tokio runtime; each stops when its queue is
    /// dropped.
    pub(super) fn start(pool: Pool, labels: Arc<PgLabels>) -> GroupCommit {
        let shards = (0..SHARDS)
            .map(|_| {
                let (queue, rx) = mpsc::channel(QUEUE);
                tokio::spawn(work(pool.clone(), labels.clone(), rx));
                queue
            })
            .collect();
        GroupCommit { shards }
    }

    /// Inserts `activities` (all or none) in the next group of `tenant_id`'s inserts.
    pub(super) async fn insert(
        &self,
        tenant_id: i64,
        activities: Vec<NewActivity>,
        scored: bool,
    ) -> Result<Inserted> {
        let Some(shard) = self
            .shards
            .get(tenant_id.rem_euclid(SHARDS as i64) as usize)
        else {
            return Err(Error::Internal("no write shard for the tenant".into()));
        };
        let (answer, rx) = oneshot::channel();
        let pending = Pending {
            tenant_id,
            activities,
            scored,
            answer,
            queued: Some(StoreQueue::write().enqueue()),
        };
        match shard.try_send(pending) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                StoreQueue::write().refuse();
                return Err(Error::Unavailable(
                    format!("the write queue is full ({QUEUE} writes waiting)").into(),
                ));
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return Err(Error::Unavailable("the write workers have stopped".into()))
            }
        }
        rx.await
            .map_err(|_| Error::Internal("a write worker dropped an insert".into()))?
    }
}

/// One shard's worker: takes what is queued (up to `MAX_ROWS`), commits it per tenant in queue
/// order, answers each caller, and waits for more.
async fn work(pool: Pool, labels: Arc<PgLabels>, mut queue: mpsc::Receiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut rows = first.activities.len();
        let mut batch = vec![first];
        while rows < MAX_ROWS {
            match queue.try_recv() {
                Ok(next) => {
                    rows += next.activities.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        for (tenant_id, group) in by_tenant(batch) {
            commit_group(&pool, &labels, tenant_id, group).await;
        }
    }
}

/// The batch's inserts per tenant, each tenant's in queue order, tenants in order of first arrival.
fn by_tenant(batch: Vec<Pending>) -> Vec<(i64, Vec<Pending>)> {
    let mut groups: Vec<(i64, Vec<Pending>)> = Vec::new();
    for p in batch {
        match groups.iter_mut().find(|(t, _)| *t == p.tenant_id) {
            Some((_, group)) => group.push(p),
            None => groups.push((p.tenant_id, vec![p])),
        }
    }
    groups
}

/// Where a group's transaction failed: before `COMMIT` was sent nothing was written, so each
/// insert can be tried alone; a failed `COMMIT` may still have committed, so it is everyone's
/// answer.
enum Failed {
    Statements(Error),
    Commit(Error),
}

/// Commits `group` in one transaction and answers its callers. A group that fails before its
/// commit is split in two halves, each committed (or split) in turn, first half first: one
/// caller's bad rows (a lead deleted meanwhile, an unknown type) fail that caller only, at the cost
/// of about two transactions per halving, and the others still commit in queue order. A group
/// that finds the database unavailable is not split: every caller gets that answer at once.
async fn commit_group(pool: &Pool, labels: &PgLabels, tenant_id: i64, mut group: Vec<Pending>) {
    for p in &mut group {
        if let Some(q) = p.queued.take() {
            q.start();
        }
    }
    let mut todo = VecDeque::from([group]);
    while let Some(mut group) = todo.pop_front() {
        let lens: Vec<usize> = group.iter().map(|p| p.activities.len()).collect();
        let scored: Vec<bool> = group.iter().map(|p| p.scored).collect();
        let mut rows: Vec<NewActivity> = Vec::with_capacity(lens.iter().sum());
        for p in &mut group {
            rows.append(&mut p.activities);
        }
        match insert_rows(pool, labels, tenant_id, &scored, &lens, &rows).await {
            Ok(answers) => {
                for (p, a) in group.into_iter().zip(answers) {
                    let _ = p.answer.send(Ok(a));
                }
            }
            // An unavailable database fails every half alike (each after the pool's wait), so
            // only an error of the group's own rows is worth the split.
            Err(Failed::Statements(e))
                if group.len() > 1 && !matches!(e, Error::Unavailable(_)) =>
            {
                tracing::debug!(error = %e, inserts = group.len(), "group insert failed; splitting it");
                for (p, len) in group.iter_mut().zip(&lens).rev() {
                    p.activities = rows.split_off(rows.len() - len);
                }
                let second = group.split_off(group.len() / 2);
                todo.push_front(second);
                todo.push_front(group);
            }
            Err(Failed::Statements(e) | Failed::Commit(e)) => {
                let mut group = group.into_iter();
                if let Some(first) = group.next() {
                    for p in group {
                        let _ = p.answer.send(Err(shared(&e)));
                    }
                    let _ = first.answer.send(Err(e));
                }
            }
        }
    }
}

/// The error a group's other callers get when its commit failed: the store's unavailability as
/// such, anything else as an internal error naming the cause.
fn shared(e: &Error) -> Error {
    match e {
        Error::Unavailable(_) => Error::Unavailable(e.to_string().into()),
        _ => Error::Internal(format!("a group of inserts failed at commit: {e}").into()),
    }
}

/// Inserts `rows` (the inserts' rows one after the other, `lens[i]` of them for insert i) in one
/// transaction with their outbox rows, and reads back the scores the `scored` inserts asked for.
async fn insert_rows(
    pool: &Pool,
    labels: &PgLabels,
    tenant_id: i64,
    scored: &[bool],
    lens: &[usize],
    rows: &[NewActivity],
) -> std::result::Result<Vec<Inserted>, Failed> {
    let mut c = super::pooled(pool).await.map_err(Failed::Statements)?;
    let tx = c
        .transaction()
        .await
        .map_err(|e| Failed::Statements(map_err(e)))?;
    let ids = insert_activities_in(&tx, tenant_id, rows)
        .await
        .map_err(Failed::Statements)?;
    let leads: Vec<i64> = firsts(lens)
        .zip(scored)
        .filter(|(_, s)| **s)
        .filter_map(|(start, _)| rows.get(start).and_then(|a| a.lead_id))
        .collect();
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&tenant_id, &leads];
    let (queued, scores) = tokio::join!(
        outbox::activities_changed(&tx, labels, tenant_id, Event::ActivityCreated, &ids),
        async {
            match leads.is_empty() {
                true => Ok(Vec::new()),
                false => {
                    query(
                        &tx,
                        "SELECT id, score FROM leads WHERE tenant_id = $1 AND id = ANY($2)",
                        &params,
                    )
                    .await
                }
            }
        }
    );
    queued.map_err(Failed::Statements)?;
    let mut score = HashMap::new();
    for row in scores.map_err(Failed::Statements)? {
        let id: i64 = get(&row, 0).map_err(Failed::Statements)?;
        let s: i64 = get(&row, 1).map_err(Failed::Statements)?;
        score.insert(id, s);
    }
    if ids.len() != rows.len() {
        return Err(Failed::Statements(Error::Internal(
            format!("{} ids for {} inserted rows", ids.len(), rows.len()).into(),
        )));
    }
    tx.commit().await.map_err(|e| Failed::Commit(map_err(e)))?;
    Ok(answers(scored, lens, rows, ids, score))
}

/// Where each insert's rows start in the group's rows.
fn firsts(lens: &[usize]) -> impl Iterator<Item = usize> + '_ {
    lens.iter().scan(0, |start, len| {
        let first = *start;
        *start += len;
        Some(first)
    })
}

/// Each insert's ids, and the scores asked for as each insert left them: the group's final score
/// of the lead, less what the later inserts of the group added to it, as if the inserts had
/// committed one after the other in queue order. `ids` holds one id per row (checked before the
/// commit) and `lens` sums to the rows.
fn answers(
    scored: &[bool],
    lens: &[usize],
    rows: &[NewActivity],
    mut ids: Vec<i64>,
    mut score: HashMap<i64, i64>,
) -> Vec<Inserted> {
    let starts: Vec<usize> = firsts(lens).collect();
    let mut out = Vec::with_capacity(lens.len());
    for i in (0..lens.len()).rev() {
        let mine = &rows[starts[i]..starts[i] + lens[i]];
        let own_ids = ids.split_off(starts[i]);
        let asked = match (scored[i], mine.first().and_then(|a| a.lead_id)) {
            (true, Some(lead)) => score.get(&lead).copied(),
            _ => None,
        };
        for a in mine {
            if let Some(s) = a.lead_id.and_then(|l| score.get_mut(&l)) {
                *s -= a.score;
            }
        }
        out.push(Inserted {
            ids: own_ids,
            score: asked,
        });
    }
    out.reverse();
    out
}
