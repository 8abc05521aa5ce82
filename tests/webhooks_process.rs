//! Webhooks with the real binary: events committed before a `kill -9` are delivered after the
//! restart (SQLite, and PostgreSQL when `ACTIVITY_HUB_TEST_PG` is set), and two server processes
//! on one PostgreSQL database make each attempt of each delivery once, in commit order.

#[path = "common/pg.rs"]
mod pg;
#[path = "common/process.rs"]
mod process;
#[path = "common/receiver.rs"]
mod receiver;

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use process::{cli, http, Creds, Server};
use receiver::Receiver;
use serde_json::{json, Value};

const SUITE: &str = "webhooks_process";

/// Flags of a server whose dispatcher looks at the outbox every 20 ms and retries after 50 ms.
const FAST: [&str; 6] = [
    "--no-rate-limit",
    "--webhook-poll-ms",
    "20",
    "--webhook-retry-base-ms",
    "50",
    "--webhook-retry-max-delay-ms",
];

fn fast() -> Vec<&'static str> {
    let mut f = FAST.to_vec();
    f.push("200");
    f
}

async fn native(http: &reqwest::Client, base: &str, c: &Creds, path: &str, body: Value) -> Value {
    let resp = http
        .post(format!("{base}{path}"))
        .bearer_auth(&c.api_key)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body["data"].clone()
}

fn tenant(db: &str, name: &str) -> Creds {
    cli(
        db,
        &[
            "tenant",
            "create",
            "--name",
            name,
            "--admin-email",
            &format!("a@{name}.test"),
        ],
    )
}

/// Writes 30 activities while the dispatcher is idle (it polls once every 10 minutes), kills the
/// server with SIGKILL, restarts it with a fast dispatcher: every event arrives, in order.
async fn kill_between_commit_and_delivery(db: &str) {
    let t = tenant(db, "killed");
    let rx = Receiver::start().await;
    let server = Server::spawn(db, &["--no-rate-limit", "--webhook-poll-ms", "600000"]);
    let http = http();
    let hook = native(
        &http,
        &server.base,
        &t,
        "/api/v1/webhooks",
        json!({"url": rx.url, "events": ["activity.created"]}),
    )
    .await;
    assert!(hook["secret"].is_string(), "{hook}");
    let lead = native(
        &http,
        &server.base,
        &t,
        "/api/v1/leads",
        json!({"first_name": "K", "email": "k@killed.test"}),
    )
    .await;
    let mut made = Vec::new();
    for i in 0..10 {
        let rows: Vec<Value> = (0..3)
            .map(|j| json!({"event_code": 101, "note": format!("{i}-{j}"), "resource": {"type": "person", "id": lead["guid"]}}))
            .collect();
        let got = native(
            &http,
            &server.base,
            &t,
            "/api/v1/activities",
            json!({"activities": rows}),
        )
        .await;
        made.extend(got.as_array().unwrap().iter().map(|a| a["guid"].clone()));
    }
    // The dispatcher's one early look came before anything was written.
    assert!(rx.got().is_empty(), "{:?}", rx.got());
    server.stop(); // SIGKILL
    let again = Server::spawn(db, &fast());
    let got = rx.wait_for(made.len()).await;
    let order: Vec<Value> = got.iter().map(|g| g.body["data"]["guid"].clone()).collect();
    assert_eq!(order, made, "every acknowledged event, in commit order");
    drop(again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_committed_before_kill_9_are_delivered_after_restart_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    kill_between_commit_and_delivery(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(pg_tests),
    ignore = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)"
)]
async fn events_committed_before_kill_9_are_delivered_after_restart_postgres() {
    let admin = pg::required_admin_url(SUITE);
    let db = pg::PgDb::create(&admin, "hookkill");
    kill_between_commit_and_delivery(&db.url).await;
}

/// Two servers on one database, writes through both, a receiver that fails the first attempt of
/// every delivery: each delivery arrives exactly twice (one request per attempt), and each
/// subscription's events arrive in commit order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(pg_tests),
    ignore = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)"
)]
async fn two_processes_make_each_attempt_once_in_commit_order() {
    let admin = pg::required_admin_url(SUITE);
    let db = pg::PgDb::create(&admin, "hookmulti");
    let tenants = [tenant(&db.url, "one"), tenant(&db.url, "two")];
    let servers = [
        Server::spawn(&db.url, &fast()),
        Server::spawn(&db.url, &fast()),
    ];
    let http = http();
    let rx = Receiver::start().await;
    rx.fail_first.store(true, Ordering::SeqCst);
    let mut leads = Vec::new();
    for t in &tenants {
        // Two subscriptions per tenant to the same receiver.
        for k in 0..2 {
            let url = format!("{}?tenant={}&sub={k}", rx.url, t.tenant_id);
            native(
                &http,
                &servers[0].base,
                t,
                "/api/v1/webhooks",
                json!({"url": url, "events": ["activity.created", "activity.updated"]}),
            )
            .await;
        }
        leads.push(
            native(
                &http,
                &servers[1].base,
                t,
                "/api/v1/leads",
                json!({"first_name": "M", "email": "m@multi.test"}),
            )
            .await,
        );
    }
    // Concurrent writes through both servers, in both tenants.
    let mut tasks = Vec::new();
    for (i, t) in tenants.iter().enumerate() {
        for s in &servers {
            let (http, base, t, lead) = (http.clone(), s.base.clone(), t.clone(), leads[i].clone());
            tasks.push(tokio::spawn(async move {
                for n in 0..10 {
                    let rows = vec![json!({"event_code": 101, "note": format!("n{n}"),
                                           "resource": {"type": "person", "id": lead["guid"]}})];
                    native(
                        &http,
                        &base,
                        &t,
                        "/api/v1/activities",
                        json!({"activities": rows}),
                    )
                    .await;
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    // 2 tenants × 2 servers × 10 activities, each to 2 subscriptions, each delivery twice.
    let deliveries = 2 * 2 * 10 * 2;
    let got = rx.wait_for(deliveries * 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let got_now = rx.got();
    assert_eq!(got_now.len(), deliveries * 2, "no attempt made twice");
    let mut per_delivery: HashMap<&str, usize> = HashMap::new();
    for g in &got {
        *per_delivery.entry(g.delivery.as_str()).or_default() += 1;
    }
    assert_eq!(per_delivery.len(), deliveries);
    assert!(per_delivery.values().all(|n| *n == 2), "{per_delivery:?}");
    // Commit order per subscription: the activities' updated_at (the tenant clock, taken in
    // commit order) increases along the successful attempts each subscription's URL received.
    let mut per_sub: HashMap<&str, Vec<&str>> = HashMap::new();
    for (i, g) in got.iter().enumerate() {
        let again = got[..i].iter().any(|o| o.delivery == g.delivery);
        if again {
            per_sub
                .entry(g.query.as_str())
                .or_default()
                .push(g.body["data"]["updated_at"].as_str().unwrap());
        }
    }
    assert_eq!(per_sub.len(), 4, "{:?}", per_sub.keys());
    for (sub, stamps) in &per_sub {
        assert_eq!(stamps.len(), 2 * 10, "{sub}");
        assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{sub}: {stamps:?}");
    }
    drop(servers);
}
