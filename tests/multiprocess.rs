//! Several `activity-hub serve` processes on one PostgreSQL database behave as one service:
//! unique ids, unique and increasing `updated_at` per tenant under concurrent writes through both
//! processes, bulk calls that stay whole, rate budgets shared through PostgreSQL or Redis, and a
//! server that reports a lost database on `/readyz` and heals by itself when it comes back.
//!
//! Needs `ACTIVITY_HUB_TEST_PG` (skipped with a printed notice otherwise); the Redis part needs
//! `ACTIVITY_HUB_TEST_REDIS` (e.g. `redis://127.0.0.1:6379`).

#[path = "common/pg.rs"]
mod pg;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_activity-hub");
const SUITE: &str = "multiprocess";

/// A running `activity-hub serve`; killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--db", db, "--bind", "127.0.0.1:0"])
            .args(extra)
            .env_remove("ACTIVITY_HUB_DB")
            .env_remove("ACTIVITY_HUB_BIND")
            .env_remove("ACTIVITY_HUB_REDIS")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn activity-hub serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let marker = "activity-hub listening on ";
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with(marker) => {
                    return Server {
                        child,
                        base: line[marker.len()..].trim().to_string(),
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = child.kill();
                    panic!("server did not start: {e:?} ({:?})", child.wait());
                }
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
struct Creds {
    tenant_id: String,
    access_key: String,
    secret_key: String,
}

fn cli(db: &str, args: &[&str]) -> Creds {
    let out = Command::new(BIN)
        .args(args)
        .args(["--db", db, "--json"])
        .env_remove("ACTIVITY_HUB_DB")
        .output()
        .expect("run activity-hub");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("CLI prints JSON");
    let s = |k: &str| v[k].as_str().expect("string field").to_string();
    Creds {
        tenant_id: s("tenant_id"),
        access_key: s("access_key"),
        secret_key: s("secret_key"),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

async fn lsq(
    http: &reqwest::Client,
    base: &str,
    c: &Creds,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = format!(
        "{base}{path}{sep}accessKey={}&secretKey={}",
        c.access_key.replace('$', "%24"),
        c.secret_key
    );
    let req = match body {
        Some(b) => http.post(url).json(&b),
        None => http.get(url),
    };
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

async fn create_lead(http: &reqwest::Client, base: &str, c: &Creds, email: &str) -> String {
    let (status, b) = lsq(
        http,
        base,
        c,
        "/v2/LeadManagement.svc/Lead.Create",
        Some(json!([{"Attribute": "EmailAddress", "Value": email}])),
    )
    .await;
    assert_eq!(status, 200, "Lead.Create: {b}");
    b["Message"]["Id"].as_str().expect("lead id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_are_one_service() {
    let Some(admin) = pg::admin_url(SUITE) else {
        return;
    };
    let db = pg::PgDb::create(&admin, "multi");
    let creds = cli(
        &db.url,
        &[
            "tenant",
            "create",
            "--name",
            "Multi",
            "--admin-email",
            "a@multi.test",
        ],
    );
    let servers = [
        Server::start(&db.url, &["--no-rate-limit"]),
        Server::start(&db.url, &["--no-rate-limit"]),
    ];
    let http = client();
    let mut leads = Vec::new();
    for i in 0..4 {
        leads.push(
            create_lead(
                &http,
                &servers[i % 2].base,
                &creds,
                &format!("l{i}@multi.test"),
            )
            .await,
        );
    }

    // 8 writers, alternating between the two processes: bulk calls of 5 rows (one invalid row in
    // every third call) and single posts.
    let mut tasks = Vec::new();
    for w in 0..8usize {
        let http = http.clone();
        let creds = creds.clone();
        let leads = leads.clone();
        let base = servers[w % 2].base.clone();
        tasks.push(tokio::spawn(async move {
            let mut bulks: Vec<Vec<String>> = Vec::new();
            let mut singles = 0;
            for i in 0..6usize {
                let mut rows: Vec<Value> = (0..5)
                    .map(|k| {
                        json!({"RelatedProspectId": leads[(w + i + k) % leads.len()],
                               "ActivityEvent": 101, "ActivityNote": format!("w{w} i{i} k{k}")})
                    })
                    .collect();
                if i % 3 == 0 {
                    rows[2]["ActivityEvent"] = json!(99999);
                }
                let (status, b) = lsq(
                    &http,
                    &base,
                    &creds,
                    "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId",
                    Some(Value::Array(rows)),
                )
                .await;
                assert_eq!(status, 200, "bulk: {b}");
                let ids: Vec<String> = b["Response"]
                    .as_array()
                    .expect("Response rows")
                    .iter()
                    .filter_map(|r| r["ProspectActivityId"].as_str().map(str::to_string))
                    .collect();
                assert_eq!(ids.len(), if i % 3 == 0 { 4 } else { 5 }, "{b}");
                bulks.push(ids);
                let (status, b) = lsq(
                    &http,
                    &base,
                    &creds,
                    "/v2/ProspectActivity.svc/Create",
                    Some(
                        json!({"RelatedProspectId": leads[w % leads.len()], "ActivityEvent": 102}),
                    ),
                )
                .await;
                assert_eq!(status, 200, "create: {b}");
                singles += 1;
            }
            (bulks, singles)
        }));
    }
    let mut bulks = Vec::new();
    let mut expected = 0;
    for t in tasks {
        let (b, singles) = t.await.expect("writer");
        expected += singles + b.iter().map(Vec::len).sum::<usize>();
        bulks.extend(b);
    }
    assert_eq!(expected, 8 * 6 * 5 - 8 * 2 + 8 * 6);

    let one = |sql: &str| -> String {
        pg::query_texts(&db.url, sql)
            .expect("query")
            .into_iter()
            .next()
            .flatten()
            .unwrap_or_default()
    };
    assert_eq!(
        one("SELECT count(*) || '/' || count(DISTINCT id) || '/' || count(DISTINCT updated_at) FROM activities"),
        format!("{expected}/{expected}/{expected}"),
        "ids and updated_at unique"
    );
    assert_eq!(
        one("SELECT count(*) FROM (SELECT updated_at <= lag(updated_at) OVER (ORDER BY id) AS bad FROM activities) x WHERE bad"),
        "0",
        "in id order, updated_at strictly increases: commit order = timestamp order"
    );
    for ids in &bulks {
        let list = ids
            .iter()
            .map(|g| format!("'{g}'"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            one(&format!("SELECT (max(updated_at) - min(updated_at) + 1) || '/' || count(*) FROM activities WHERE guid IN ({list})")),
            format!("{0}/{0}", ids.len()),
            "a bulk call's rows are stored together with consecutive timestamps"
        );
    }
    // Each process reads what the other wrote.
    for (i, lead) in leads.iter().enumerate() {
        let want = one(&format!(
            "SELECT count(*) FROM activities a JOIN leads l ON l.id = a.lead_id WHERE l.guid = '{lead}'"
        ));
        let (status, b) = lsq(
            &http,
            &servers[(i + 1) % 2].base,
            &creds,
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
            Some(json!({"Paging": {"Offset": 0, "RowCount": 1}})),
        )
        .await;
        assert_eq!(status, 200, "{b}");
        assert_eq!(b["RecordCount"].to_string(), want, "{b}");
    }
}

/// Fires 40 calls at two processes sharing one budget (LSQ: 25 per 5 s per user).
async fn shared_budget_allows_25(a: &Server, b: &Server, c: &Creds) -> (usize, usize) {
    let http = client();
    let mut calls = Vec::new();
    for i in 0..40 {
        let http = http.clone();
        let c = c.clone();
        let base = if i % 2 == 0 {
            a.base.clone()
        } else {
            b.base.clone()
        };
        calls.push(tokio::spawn(async move {
            lsq(
                &http,
                &base,
                &c,
                "/v2/Authentication.svc/UserByAccessKey.Get",
                None,
            )
            .await
            .0
        }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for call in calls {
        match call.await.expect("call") {
            200 => ok += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    (ok, limited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_budgets_are_shared_by_processes() {
    let Some(admin) = pg::admin_url(SUITE) else {
        return;
    };
    let db = pg::PgDb::create(&admin, "rate");
    let t = cli(
        &db.url,
        &[
            "tenant",
            "create",
            "--name",
            "Rate",
            "--admin-email",
            "a@rate.test",
        ],
    );
    {
        let a = Server::start(&db.url, &[]);
        let b = Server::start(&db.url, &[]);
        let (ok, limited) = shared_budget_allows_25(&a, &b, &t).await;
        assert_eq!((ok, limited), (25, 15), "PostgreSQL-kept budget");
    }
    match std::env::var("ACTIVITY_HUB_TEST_REDIS")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(redis) => {
            let u = cli(
                &db.url,
                &[
                    "user",
                    "create",
                    "--tenant",
                    &t.tenant_id,
                    "--email",
                    "r@rate.test",
                ],
            );
            let a = Server::start(&db.url, &["--redis", &redis]);
            let b = Server::start(&db.url, &["--redis", &redis]);
            let (ok, limited) = shared_budget_allows_25(&a, &b, &u).await;
            assert_eq!((ok, limited), (25, 15), "Redis-kept budget");
        }
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "\n*** REDIS TESTS SKIPPED: set ACTIVITY_HUB_TEST_REDIS=redis://127.0.0.1:6379 ***"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_reports_a_lost_database_and_heals_by_itself() {
    let Some(admin) = pg::admin_url(SUITE) else {
        return;
    };
    let db = pg::PgDb::create(&admin, "heal");
    let c = cli(
        &db.url,
        &[
            "tenant",
            "create",
            "--name",
            "Heal",
            "--admin-email",
            "a@heal.test",
        ],
    );
    let s = Server::start(&db.url, &["--no-rate-limit"]);
    let http = client();
    let ready = |http: reqwest::Client, base: String| async move {
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    assert_eq!(ready(http.clone(), s.base.clone()).await, 200);
    let lead = create_lead(&http, &s.base, &c, "h@heal.test").await;

    // The database goes away for this server: no new connections, existing ones killed.
    let name = db.name.clone();
    pg::admin_exec(
        &admin,
        &format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"),
    )
    .expect("block connections");
    pg::query_texts(
        &admin,
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"),
    )
    .expect("terminate");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        ready(http.clone(), s.base.clone()).await,
        503,
        "/readyz while the database is gone"
    );
    let (status, b) = lsq(
        &http,
        &s.base,
        &c,
        &format!("/v2/LeadManagement.svc/Leads.GetById?id={lead}"),
        None,
    )
    .await;
    assert_eq!(status, 503, "{b}");
    assert_eq!(b["ExceptionType"], "MXServiceUnavailableException", "{b}");

    pg::admin_exec(
        &admin,
        &format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"),
    )
    .expect("allow connections");
    let deadline = Instant::now() + Duration::from_secs(15);
    while ready(http.clone(), s.base.clone()).await != 200 {
        assert!(Instant::now() < deadline, "/readyz did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, b) = lsq(
        &http,
        &s.base,
        &c,
        &format!("/v2/LeadManagement.svc/Leads.GetById?id={lead}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "API after recovery: {b}");
}

#[test]
fn an_unreachable_database_at_start_is_one_line_and_a_failure() {
    let out = Command::new(BIN)
        .args([
            "serve",
            "--db",
            "postgres://someone:hunter2@127.0.0.1:1/x",
            "--bind",
            "127.0.0.1:0",
        ])
        .env_remove("ACTIVITY_HUB_DB")
        .output()
        .expect("run activity-hub");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].contains("cannot connect to postgres://someone:***@127.0.0.1:1/x: "),
        "{err}"
    );
    assert!(
        !err.contains("hunter2") && !err.contains("panicked"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args([
            "tenant",
            "create",
            "--name",
            "x",
            "--admin-email",
            "a@b.test",
            "--db",
            "postgres://127.0.0.1:1/x",
        ])
        .env_remove("ACTIVITY_HUB_DB")
        .output()
        .expect("run activity-hub");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot connect to postgres://127.0.0.1:1/x")
    );
}
