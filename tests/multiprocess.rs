//! Several `activity-hub serve` processes on one PostgreSQL database behave as one service:
//! unique ids, unique and increasing `updated_at` per tenant under concurrent writes through both
//! processes (a Salesloft cursor reader on the other process misses nothing), bulk calls that stay
//! whole, and rate budgets shared through PostgreSQL or Redis. (Database failures: pg_failures.rs.)
//!
//! Needs `ACTIVITY_HUB_TEST_PG` (without it every test here is reported ignored); the Redis part
//! needs `ACTIVITY_HUB_TEST_REDIS` (e.g. `redis://127.0.0.1:6379`) and prints a skip notice without
//! it.

#[path = "common/pg.rs"]
mod pg;
#[path = "common/process.rs"]
mod process;

use process::{cli, http, Creds, Server};

use std::io::Write;
use std::time::Duration;

use serde_json::{json, Value};

const SUITE: &str = "multiprocess";

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

/// Pages through a tenant's activity histories the way public sync clients do (`updated_at[gt]`
/// cursor, ascending) until a page comes back empty; returns the ids in the order seen.
async fn cursor_walk(
    http: &reqwest::Client,
    base: &str,
    c: &Creds,
    cursor: &mut String,
) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let mut url = format!(
            "{base}/v2/activity_histories?sort_by=updated_at&sort_direction=asc&per_page=100"
        );
        if !cursor.is_empty() {
            url.push_str(&format!("&updated_at[gt]={cursor}"));
        }
        let resp = http
            .get(url)
            .bearer_auth(&c.api_key)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let b: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "activity_histories: {b}");
        let rows = b["data"].as_array().expect("data").clone();
        if rows.is_empty() {
            return seen;
        }
        for r in rows {
            seen.push(r["id"].as_str().expect("id").to_string());
            *cursor = r["updated_at"].as_str().expect("updated_at").to_string();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(pg_tests),
    ignore = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)"
)]
async fn two_servers_on_one_database_are_one_service() {
    let admin = pg::required_admin_url(SUITE);
    let db = pg::PgDb::create(&admin, "multi");
    let tenant = |name: &str| {
        cli(
            &db.url,
            &[
                "tenant",
                "create",
                "--name",
                name,
                "--admin-email",
                &format!("a@{name}.test"),
            ],
        )
    };
    // Two tenants: the guarantees hold per tenant, each with its own clock.
    let tenants = [tenant("multi"), tenant("other")];
    let servers = [
        Server::spawn(&db.url, &["--no-rate-limit"]),
        Server::spawn(&db.url, &["--no-rate-limit"]),
    ];
    let http = http();
    let mut leads: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for t in 0..2 {
        for i in 0..4 {
            leads[t].push(
                create_lead(
                    &http,
                    &servers[i % 2].base,
                    &tenants[t],
                    &format!("l{i}@t{t}.test"),
                )
                .await,
            );
        }
    }

    // While the writers run, a Salesloft sync client reads tenant 0 by cursor through server 1.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let reader = {
        let http = http.clone();
        let c = tenants[0].clone();
        let base = servers[1].base.clone();
        tokio::spawn(async move {
            let mut cursor = String::new();
            let mut seen = Vec::new();
            loop {
                let done = *stop_rx.borrow();
                seen.extend(cursor_walk(&http, &base, &c, &mut cursor).await);
                if done {
                    return seen;
                }
                let _ = tokio::time::timeout(Duration::from_millis(20), stop_rx.changed()).await;
            }
        })
    };

    // 8 writers, alternating between the two processes (and, every fourth, the other tenant):
    // bulk calls of 5 rows (one invalid row in every third call) and single posts.
    let mut tasks = Vec::new();
    for w in 0..8usize {
        let http = http.clone();
        let t = usize::from(w % 4 == 3);
        let creds = tenants[t].clone();
        let leads = leads[t].clone();
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
            (t, bulks, singles)
        }));
    }
    let mut bulks = Vec::new();
    let mut expected = [0usize; 2];
    for task in tasks {
        let (t, b, singles) = task.await.expect("writer");
        expected[t] += singles + b.iter().map(Vec::len).sum::<usize>();
        bulks.extend(b);
    }
    assert_eq!(expected, [6 * (6 * 5 - 2 + 6), 2 * (6 * 5 - 2 + 6)]);
    let _ = stop_tx.send(true);
    let seen = reader.await.expect("cursor reader");

    let one = |sql: &str| -> String {
        pg::query_texts(&db.url, sql)
            .expect("query")
            .into_iter()
            .next()
            .flatten()
            .unwrap_or_default()
    };
    let all = expected[0] + expected[1];
    assert_eq!(
        one("SELECT count(*) || '/' || count(DISTINCT id) FROM activities"),
        format!("{all}/{all}"),
        "ids never collide, across processes and tenants"
    );
    for (t, c) in tenants.iter().enumerate() {
        let tenant = format!("(SELECT id FROM tenants WHERE guid = '{}')", c.tenant_id);
        let n = expected[t];
        assert_eq!(
            one(&format!(
                "SELECT count(*) || '/' || count(DISTINCT updated_at) || '/' || count(DISTINCT created_at) \
                 FROM activities WHERE tenant_id = {tenant}"
            )),
            format!("{n}/{n}/{n}"),
            "tenant {t}: updated_at and created_at unique"
        );
        assert_eq!(
            one(&format!(
                "SELECT count(*) FROM (SELECT updated_at <= lag(updated_at) OVER (ORDER BY id) AS bad \
                 FROM activities WHERE tenant_id = {tenant}) x WHERE bad"
            )),
            "0",
            "tenant {t}: in id order, updated_at strictly increases: commit order = timestamp order"
        );
    }
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
    // The cursor reader saw every row of its tenant exactly once, none of the other tenant's.
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "the cursor returned a row twice");
    assert_eq!(
        seen.len(),
        expected[0],
        "a cursor reader polling during the writes missed rows (or saw another tenant's)"
    );
    // Each process reads what the other wrote.
    for (t, c) in tenants.iter().enumerate() {
        for (i, lead) in leads[t].iter().enumerate() {
            let want = one(&format!(
                "SELECT count(*) FROM activities a JOIN leads l ON l.id = a.lead_id WHERE l.guid = '{lead}'"
            ));
            let (status, b) = lsq(
                &http,
                &servers[(i + 1) % 2].base,
                c,
                &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
                Some(json!({"Paging": {"Offset": 0, "RowCount": 1}})),
            )
            .await;
            assert_eq!(status, 200, "{b}");
            assert_eq!(b["RecordCount"].to_string(), want, "{b}");
        }
    }
}

/// Fires 40 calls at two processes sharing one budget (LSQ: 25 per 5 s per user).
async fn shared_budget_allows_25(a: &Server, b: &Server, c: &Creds) -> (usize, usize) {
    let http = http();
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
#[cfg_attr(
    not(pg_tests),
    ignore = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)"
)]
async fn rate_budgets_are_shared_by_processes() {
    let admin = pg::required_admin_url(SUITE);
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
        let a = Server::spawn(&db.url, &[]);
        let b = Server::spawn(&db.url, &[]);
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
            let a = Server::spawn(&db.url, &["--redis", &redis]);
            let b = Server::spawn(&db.url, &["--redis", &redis]);
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
