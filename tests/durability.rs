//! Durability: every write the server acknowledged survives `kill -9` of the server mid-load. Runs
//! the real binary on a SQLite file, kills it with SIGKILL while many writers (single Create and
//! 25-row bulk calls) are in flight, restarts it on the same file and checks that every acknowledged
//! activity id is there, that no bulk call was half applied and that the kept activity counts
//! match the rows. SIGKILL while group commits are in flight is the practical stand-in for a power
//! cut here: the process dies between any two instructions, and only what SQLite fsynced (WAL,
//! `synchronous=FULL`) may be relied upon.

#[path = "common/process.rs"]
mod process;

use process::{cli, Server};

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Starts `serve --no-rate-limit` on the SQLite file `db`.
fn start(db: &str) -> Server {
    Server::spawn(db, &["--no-rate-limit"])
}

struct Client {
    http: reqwest::Client,
    base: String,
    access: String,
    secret: String,
}

impl Client {
    async fn post(&self, path: &str, body: Value) -> reqwest::Result<(u16, Value)> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-LSQ-AccessKey", &self.access)
            .header("x-LSQ-SecretKey", &self.secret)
            .json(&body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await?;
        Ok((status, body))
    }
}

/// Rows per bulk call: the endpoint's maximum, as a real client loading data sends them.
const BULK: usize = 25;
const WRITERS: usize = 16;
/// Kill-and-recover rounds in one test.
const ROUNDS: usize = 4;

/// Counts shared by the writers: acknowledged ids, and requests sent but not yet answered.
struct Progress {
    acked: Mutex<Vec<String>>,
    bulks_acked: AtomicUsize,
    in_flight: AtomicUsize,
}

/// One writer: alternates single Create and 25-row Bulk ByLeadId calls, recording each
/// acknowledged id, until the server goes away. Bulk rows carry the note "bulk N-I-K" so that a
/// half-applied bulk can be recognised afterwards.
async fn writer(client: Arc<Client>, leads: Vec<String>, progress: Arc<Progress>, n: usize) {
    for i in 0.. {
        let lead = &leads[(n + i) % leads.len()];
        progress.in_flight.fetch_add(1, Ordering::SeqCst);
        if i % 2 == 0 {
            let body = json!({"RelatedProspectId": lead, "ActivityEvent": 105,
                              "ActivityNote": format!("single {n}-{i}")});
            let answer = client.post("/v2/ProspectActivity.svc/Create", body).await;
            match answer {
                Ok((200, v)) => {
                    let id = v["Message"]["Id"].as_str().expect("Create id").to_string();
                    progress.acked.lock().unwrap().push(id);
                }
                Ok((status, v)) => panic!("Create answered {status}: {v}"),
                Err(_) => return,
            }
        } else {
            let rows: Vec<Value> = (0..BULK)
                .map(|k| {
                    json!({"RelatedProspectId": leads[(n + i + k) % leads.len()],
                                "ActivityEvent": 101, "ActivityNote": format!("bulk {n}-{i}-{k}")})
                })
                .collect();
            let answer = client
                .post(
                    "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId",
                    Value::Array(rows),
                )
                .await;
            match answer {
                Ok((200, v)) => {
                    let rows = v["Response"].as_array().expect("bulk rows");
                    assert_eq!(rows.len(), BULK, "bulk answer: {v}");
                    let mut acked = progress.acked.lock().unwrap();
                    for r in rows {
                        assert_eq!(r["ActivityCreated"], json!(true), "bulk row failed: {r}");
                        acked.push(r["ProspectActivityId"].as_str().expect("id").to_string());
                    }
                    progress.bulks_acked.fetch_add(1, Ordering::SeqCst);
                }
                Ok((status, v)) => panic!("bulk answered {status}: {v}"),
                Err(_) => return,
            }
        }
        progress.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Every activity (id, note) stored on `lead`, read page by page through Retrieve.
async fn stored_ids(client: &Client, lead: &str) -> Vec<(String, String)> {
    let mut ids = Vec::new();
    for page in 1.. {
        let (status, v) = client
            .post(
                &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
                json!({"Paging": {"PageIndex": page, "PageSize": 1000}}),
            )
            .await
            .expect("Retrieve");
        assert_eq!(status, 200, "Retrieve answered {v}");
        let rows = v["ProspectActivities"].as_array().expect("rows");
        ids.extend(rows.iter().map(|r| {
            let note = r["Data"]
                .as_array()
                .and_then(|d| d.iter().find(|kv| kv["Key"] == "NotableEventDescription"))
                .and_then(|kv| kv["Value"].as_str())
                .unwrap_or_default();
            (r["Id"].as_str().expect("Id").to_string(), note.to_string())
        }));
        if rows.len() < 1000 {
            return ids;
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let keys = cli(
        &db,
        &[
            "tenant",
            "create",
            "--name",
            "Durable",
            "--admin-email",
            "owner@durable.example",
        ],
    );

    let server = start(&db);
    let client = |base: &str| Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        base: base.to_string(),
        access: keys.access_key.clone(),
        secret: keys.secret_key.clone(),
    };
    let c = Arc::new(client(&server.base));
    let mut leads = Vec::new();
    for i in 0..8 {
        let (status, v) = c
            .post(
                "/v2/LeadManagement.svc/Lead.Create",
                json!([{"Attribute": "EmailAddress", "Value": format!("lead{i}@durable.example")}]),
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "Lead.Create answered {v}");
        leads.push(v["Message"]["Id"].as_str().unwrap().to_string());
    }

    // Several rounds: writers in flight, the server killed without warning once enough writes are
    // acknowledged (bulk calls among them), restarted on the same file and checked. Each kill lands
    // at a random point of the writer's batch cycle; several make a narrow window likely to be hit.
    let mut acked: Vec<String> = Vec::new();
    let mut server = server;
    let mut c = c;
    for round in 0..ROUNDS {
        let progress = Arc::new(Progress {
            acked: Mutex::new(Vec::new()),
            bulks_acked: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
        });
        let tasks: Vec<_> = (0..WRITERS)
            .map(|n| {
                let writer_id = round * WRITERS + n;
                tokio::spawn(writer(
                    c.clone(),
                    leads.clone(),
                    progress.clone(),
                    writer_id,
                ))
            })
            .collect();
        let started = Instant::now();
        while (progress.acked.lock().unwrap().len() < 1500
            || progress.bulks_acked.load(Ordering::SeqCst) < 20)
            && started.elapsed() < Duration::from_secs(60)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let in_flight_at_kill = progress.in_flight.load(Ordering::SeqCst);
        server.stop(); // SIGKILL
        for t in tasks {
            t.await.unwrap();
        }
        let this_round = progress.acked.lock().unwrap().clone();
        let bulks_acked = progress.bulks_acked.load(Ordering::SeqCst);
        assert!(
            this_round.len() >= 1500 && bulks_acked >= 20,
            "round {round}: too few writes acknowledged before the kill: {} ids, {bulks_acked} bulk calls",
            this_round.len()
        );
        assert!(
            in_flight_at_kill > 0,
            "round {round}: the server was killed with no write in flight"
        );
        acked.extend(this_round);

        // The file must be intact after recovery, then the server must start on it and show every
        // acknowledged id.
        {
            let conn = rusqlite::Connection::open(dir.path().join("hub.db")).unwrap();
            let check: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok", "round {round}");
            // The kept counts (migration 0011) committed with the rows: no drift after kill -9.
            let drift: Vec<String> = conn
                .prepare(
                    "SELECT coalesce(x.k, y.k) FROM
                       (SELECT tenant_id || '/' || event_code || '/' || sl_type || '/' || res_kind
                               || '/' || owner_id || '/' || coalesce(lead_owner_id, 0) || '/'
                               || (pinned_at IS NOT NULL) AS k, count(*) AS n
                          FROM activities GROUP BY 1) x
                     FULL JOIN
                       (SELECT tenant_id || '/' || event_code || '/' || sl_type || '/' || res_kind
                               || '/' || owner_id || '/' || lead_owner_id || '/' || pinned AS k,
                               sum(n) AS n
                          FROM activity_counts GROUP BY 1 HAVING sum(n) <> 0) y ON x.k = y.k
                     WHERE x.n IS NOT y.n",
                )
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert_eq!(drift, Vec::<String>::new(), "round {round}: count drift");
            let (rows, kept): (i64, i64) = conn
                .query_row(
                    "SELECT (SELECT count(*) FROM activities),
                            (SELECT coalesce(sum(n), 0) FROM activity_counts)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert!(
                rows > 0 && rows == kept,
                "round {round}: {rows} rows, {kept} kept"
            );
        }
        server = start(&db);
        c = Arc::new(client(&server.base));
        let mut stored = HashSet::new();
        let mut bulk_rows: HashMap<String, usize> = HashMap::new();
        for lead in &leads {
            for (id, note) in stored_ids(&c, lead).await {
                if let Some(tag) = note.strip_prefix("bulk ") {
                    // "N-I-K": the bulk call is "N-I".
                    let call = tag.rsplit_once('-').map(|(call, _)| call).unwrap_or(tag);
                    *bulk_rows.entry(call.to_string()).or_default() += 1;
                }
                stored.insert(id);
            }
        }
        let missing: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} of {} acknowledged activities are missing after kill -9, e.g. {:?}",
            missing.len(),
            acked.len(),
            &missing[..missing.len().min(5)]
        );
        // A bulk call is one transaction: all of its rows or none (an unacknowledged one may have
        // committed just before the kill, but never in part).
        let partial: Vec<(&String, &usize)> =
            bulk_rows.iter().filter(|(_, n)| **n != BULK).collect();
        assert!(
            partial.is_empty(),
            "round {round}: half-applied bulk calls: {partial:?}"
        );
        // Unacknowledged in-flight writes may or may not have landed; nothing else may appear.
        let extra = stored.len().saturating_sub(acked.len());
        assert!(
            extra <= (round + 1) * WRITERS * BULK,
            "round {round}: {extra} more activities stored than acknowledged, beyond what was in flight"
        );
    }

    // The recovered store takes new writes.
    let (status, v) = c
        .post(
            "/v2/ProspectActivity.svc/Create",
            json!({"RelatedProspectId": leads[0], "ActivityEvent": 105, "ActivityNote": "after"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "Create after recovery answered {v}");
}
