//! Concurrent inserts, which both backends commit in groups (SQLite's writer thread, PostgreSQL's
//! group commit): each caller still gets the answer of a write committed on its own, and a full
//! queue refuses at once.

use std::collections::HashMap;
use std::time::Duration;

use activity_hub::domain::{ActivityQuery, ActivitySort, NewActivity};
use activity_hub::error::Error;

use crate::fixtures::*;
use crate::pg;

/// A session of its own on `url` holding tenant `tenant_id`'s row lock (the lock every insert's
/// clock tick takes) until it commits; its connection task is returned beside it.
async fn lock_tenant(
    url: &str,
    tenant_id: i64,
) -> (
    tokio_postgres::Client,
    tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
) {
    let (locker, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let conn = tokio::spawn(conn);
    locker
        .batch_execute(&format!(
            "BEGIN; SELECT clock FROM tenants WHERE id = {tenant_id} FOR UPDATE"
        ))
        .await
        .expect("lock the tenant");
    (locker, conn)
}

/// How many transactions inserted tenant `tenant_id`'s activities (their rows' distinct `xmin`).
fn transactions(url: &str, tenant_id: i64) -> usize {
    let sql =
        format!("SELECT count(DISTINCT xmin::text) FROM activities WHERE tenant_id = {tenant_id}");
    let count = pg::query_texts(url, &sql).expect("count transactions");
    count
        .first()
        .cloned()
        .flatten()
        .and_then(|x| x.parse().ok())
        .expect("a count")
}

/// What one concurrent caller sent and got.
enum Sent {
    /// A scored single insert: its note and the score it was answered.
    Scored(String, i64),
    /// A batch: its notes and the ids it was answered, in order.
    Batch(Vec<String>, Vec<i64>),
    /// A batch with a row of an unknown type: its notes; it must fail alone.
    Refused(Vec<String>),
}

/// Many callers insert at once on two leads: scored singles, good batches and one bad batch. Each
/// answer must be what a commit on its own would have given, in the commit order the stored
/// timestamps show: a scored insert gets its lead's score after its own insert and before the
/// next one's, a batch gets its rows' ids in order, the bad batch fails alone and stores nothing.
/// On PostgreSQL the inserts must also have shared transactions (fewer row `xmin`s than inserts).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inserts_answer_as_if_each_had_committed_alone() {
    for b in backends("concurrent").await {
        let (t, admin) = tenant(&*b.store, "acme").await;
        let l1 = b
            .store
            .create_lead(t.id, lead(admin.id, Some("a@x.test"), None))
            .await
            .unwrap();
        let l2 = b
            .store
            .create_lead(t.id, lead(admin.id, Some("b@x.test"), None))
            .await
            .unwrap();
        let ty = b
            .store
            .create_activity_type(t.id, custom_type("Scored", 1))
            .await
            .unwrap();
        // On PostgreSQL the tenant's row is held locked while the inserts are sent, so that they
        // queue behind the group commit's workers and are sure to meet in groups.
        let locker = match b.name {
            "postgres" => Some(lock_tenant(&b.url, t.id).await),
            _ => None,
        };
        let n: i64 = 64;
        let mut tasks = Vec::new();
        for i in 0..n {
            let s = b.store.clone();
            let (tenant_id, user, type_id, l1, l2) = (t.id, admin.id, ty.id, l1.id, l2.id);
            tasks.push(tokio::spawn(async move {
                let row = |lead: i64, note: String, score: i64| {
                    let mut a = activity(type_id, lead, user, 1_000 + i, &note);
                    a.score = score;
                    a
                };
                match i % 8 {
                    0 | 4 => {
                        let rows: Vec<NewActivity> = (0..3)
                            .map(|k| row([l1, l2][k % 2], format!("b{i}.{k}"), 100 + k as i64))
                            .collect();
                        let notes = rows.iter().map(|a| a.note.clone()).collect();
                        Sent::Batch(notes, s.insert_activities(tenant_id, rows).await.unwrap())
                    }
                    7 if i == 7 => {
                        let mut bad = row(l1, "bad.1".into(), 1_000_000);
                        bad.type_id = 987_654;
                        let rows = vec![row(l1, "bad.0".into(), 1_000_000), bad];
                        let e = s.insert_activities(tenant_id, rows).await.unwrap_err();
                        assert!(matches!(e, Error::NotFound(_)), "{e:?}");
                        Sent::Refused(vec!["bad.0".into(), "bad.1".into()])
                    }
                    _ => {
                        let note = format!("s{i}");
                        let score = (i + 1) * 1_000;
                        let got = s
                            .insert_activity_scored(tenant_id, row(l1, note.clone(), score))
                            .await
                            .unwrap();
                        Sent::Scored(note, got)
                    }
                }
            }));
        }
        if let Some((locker, conn)) = locker {
            tokio::time::sleep(Duration::from_millis(300)).await;
            locker.batch_execute("COMMIT").await.expect("unlock");
            drop(locker);
            let _ = conn.await;
        }
        let mut sent = Vec::new();
        for task in tasks {
            sent.push(task.await.expect("insert task"));
        }

        let page = b
            .store
            .list_activities(&ActivityQuery {
                sort: ActivitySort::UpdatedAt,
                descending: false,
                limit: 1000,
                ..ActivityQuery::new(t.id)
            })
            .await
            .unwrap();
        // Replay the commit order: the running score of l1 after each stored row.
        let mut running = 0;
        let mut l1_after: HashMap<String, i64> = HashMap::new();
        let mut id_of: HashMap<String, i64> = HashMap::new();
        let mut last = 0;
        for a in &page.rows {
            assert!(
                a.updated_at > last,
                "{}: timestamps strictly increase",
                b.name
            );
            last = a.updated_at;
            if a.lead_id == Some(l1.id) {
                running += a.score;
            }
            l1_after.insert(a.note.clone(), running);
            id_of.insert(a.note.clone(), a.id);
        }
        let mut stored = 0;
        for s in &sent {
            match s {
                Sent::Scored(note, got) => {
                    assert_eq!(
                        Some(got),
                        l1_after.get(note),
                        "{}: {note} answered the score its own commit left",
                        b.name
                    );
                    stored += 1;
                }
                Sent::Batch(notes, ids) => {
                    let want: Vec<Option<&i64>> = notes.iter().map(|n| id_of.get(n)).collect();
                    assert_eq!(
                        want,
                        ids.iter().map(Some).collect::<Vec<_>>(),
                        "{}: a batch's ids in its order",
                        b.name
                    );
                    stored += notes.len();
                }
                Sent::Refused(notes) => {
                    for n in notes {
                        assert!(!id_of.contains_key(n), "{}: {n} was stored", b.name);
                    }
                }
            }
        }
        assert_eq!(page.rows.len(), stored, "{}", b.name);
        let lead = b.store.lead_by_guid(t.id, l1.guid).await.unwrap();
        assert_eq!(lead.map(|l| l.score), Some(running), "{}", b.name);
        if b.name == "postgres" {
            // The inserts did share transactions: fewer distinct inserting transactions than
            // inserts (otherwise this test proves nothing about the groups).
            let xids = transactions(&b.url, t.id);
            assert!(
                xids < sent.len() - 1,
                "postgres: {xids} transactions for {} inserts",
                sent.len() - 1
            );
        }
    }
}

/// While another session holds the tenant's row lock, PostgreSQL's group commit cannot commit:
/// the workers hold what they took, the queue fills, and further inserts are refused at once with
/// `Unavailable` (503 with `Retry-After` in every dialect) instead of waiting in memory. Once the
/// lock goes, every accepted insert commits.
#[tokio::test]
#[cfg_attr(
    not(pg_tests),
    ignore = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)"
)]
async fn postgres_refuses_inserts_past_its_queue_and_commits_every_accepted_one() {
    let b = postgres_required("queue").await;
    let (t, admin) = tenant(&*b.store, "acme").await;
    let l = b
        .store
        .create_lead(t.id, lead(admin.id, Some("a@x.test"), None))
        .await
        .unwrap();
    let ty = b
        .store
        .create_activity_type(t.id, custom_type("Plain", 0))
        .await
        .unwrap();
    let (locker, conn) = lock_tenant(&b.url, t.id).await;

    // The tenant's shard queue (64) plus what its worker can hold (a group of at most 1,000 rows):
    // the refusal comes before.
    let bound = 64 + 1000 + 1;
    let mut accepted = Vec::new();
    let mut refused = None;
    for i in 0..bound {
        let s = b.store.clone();
        let a = activity(ty.id, l.id, admin.id, 1_000 + i as i64, &format!("n{i}"));
        let task = tokio::spawn(async move { s.insert_activities(t.id, vec![a]).await });
        // One turn for the task to queue its insert (or be refused) before the next one.
        tokio::time::sleep(Duration::from_millis(1)).await;
        if task.is_finished() {
            match task.await.expect("task") {
                Err(e @ Error::Unavailable(_)) => {
                    refused = Some((i, e.to_string()));
                    break;
                }
                other => panic!("insert {i} finished while the tenant was locked: {other:?}"),
            }
        }
        accepted.push(task);
    }
    let (at, why) = refused.expect("an insert refused once the queue was full");
    assert!(why.contains("write queue is full"), "{why}");
    assert!(
        at >= 64,
        "refused after {at} inserts, before the queue was full"
    );

    locker.batch_execute("COMMIT").await.expect("unlock");
    let n = accepted.len();
    for task in accepted {
        task.await
            .expect("task")
            .expect("an accepted insert commits");
    }
    let page = b.store.list_activities(&page_query(t.id)).await.unwrap();
    assert_eq!(page.total as usize, n);
    let xids = transactions(&b.url, t.id);
    assert!(
        xids <= 16,
        "{xids} transactions for {n} queued inserts: they did not commit in groups"
    );
    drop(locker);
    let _ = conn.await;
}
