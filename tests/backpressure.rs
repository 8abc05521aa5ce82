//! Backpressure under the real binary on a SQLite file: when the writer's or the readers' queue is
//! full, a call is answered at once with 503 and `Retry-After` in its dialect's own error body,
//! changes nothing, and the server serves normally as soon as the queue drains.
//!
//! The writer is blocked on purpose: the test holds the database's write lock from a connection of
//! its own (`BEGIN IMMEDIATE`), so the server's writer thread waits in its own `BEGIN` and writes
//! pile up behind it. Reads are made to queue by load: with `--read-queue 1` and the inline budget
//! at 0 ms (every read of more than a few SQL steps goes to the six reader threads), many clients
//! asking for counted Salesloft pages at once overflow the queue.

#[path = "common/process.rs"]
mod process;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use process::{cli, Creds, Server};
use serde_json::{json, Value};

/// How soon a refused call must be answered: far less than the 10 s the blocked writer waits.
const PROMPT: Duration = Duration::from_secs(2);

/// An answer: status, `Retry-After`, body, and how long it took.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
    took: Duration,
}

async fn answer(req: reqwest::RequestBuilder) -> Answer {
    let t0 = Instant::now();
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    Answer {
        status,
        retry_after,
        body,
        took: t0.elapsed(),
    }
}

/// The answer to the request `make` builds, sent again while it is refused with 503 (for up to
/// 10 s): the server's own jobs that start with it (the idempotency and trash prunes write at once)
/// can hold a two-write queue's slots on a busy machine. A refused write changed nothing.
async fn until_queued(make: impl Fn() -> reqwest::RequestBuilder) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let a = answer(make()).await;
        if a.status != 503 || Instant::now() > deadline {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn lsq_lead(s: &Server, keys: &Creds, email: &str) -> reqwest::RequestBuilder {
    s.client
        .post(format!("{}/v2/LeadManagement.svc/Lead.Create", s.base))
        .header("x-LSQ-AccessKey", &keys.access_key)
        .header("x-LSQ-SecretKey", &keys.secret_key)
        .json(&json!([{"Attribute": "EmailAddress", "Value": email}]))
}

fn native_lead(s: &Server, keys: &Creds, email: &str) -> reqwest::RequestBuilder {
    s.client
        .post(format!("{}/api/v1/leads", s.base))
        .bearer_auth(&keys.api_key)
        .json(&json!({"email": email}))
}

/// The emails of the tenant's leads, through the native API.
async fn lead_emails(s: &Server, keys: &Creds) -> Vec<String> {
    let a = answer(
        s.client
            .get(format!("{}/api/v1/leads?limit=1000", s.base))
            .bearer_auth(&keys.api_key),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let mut emails: Vec<String> = a.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|l| l["email"].as_str().map(str::to_string))
        .collect();
    emails.sort();
    emails
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
            "owner@queue.example",
        ],
    )
}

/// A full write queue: LeadSquared and native writes are refused at once with 503, `Retry-After`
/// and their own envelope, and leave nothing behind; the writes that were queued commit once the
/// writer can go on, and the server takes writes again at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_write_queue_is_refused_promptly_in_each_dialect() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("hub.db");
    let db = format!("sqlite://{}", file.display());
    let keys = tenant(&db, "Queue");
    let s = Arc::new(Server::spawn(
        &db,
        &["--no-rate-limit", "--write-queue", "2"],
    ));
    // Both dialects' credentials are looked up (and cached) before the writer is blocked.
    let warm = until_queued(|| lsq_lead(&s, &keys, "warm@queue.example")).await;
    assert_eq!(warm.status, 200, "{}", warm.body);
    let warm = until_queued(|| native_lead(&s, &keys, "warm2@queue.example")).await;
    assert_eq!(warm.status, 201, "{}", warm.body);

    let lock = rusqlite::Connection::open(&file).expect("open the database");
    lock.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");

    // One write is taken by the writer (which then waits for the lock) and two wait in the queue;
    // they are sent one by one so that the ones that get in are known.
    let mut pending = Vec::new();
    for i in 0..3 {
        let email = format!("queued{i}@queue.example");
        let req = lsq_lead(&s, &keys, &email);
        pending.push((email, tokio::spawn(answer(req))));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for (email, p) in &pending {
        assert!(
            !p.is_finished(),
            "{email} was answered while the writer is blocked"
        );
    }

    let mut refused = Vec::new();
    for i in 0..4 {
        let email = format!("refused{i}@queue.example");
        let a = answer(lsq_lead(&s, &keys, &email)).await;
        assert_eq!(a.status, 503, "{email}: {}", a.body);
        assert!(a.took < PROMPT, "{email} took {:?}", a.took);
        assert_eq!(a.retry_after.as_deref(), Some("1"), "{email}");
        assert_eq!(a.body["Status"], "Error", "{}", a.body);
        assert_eq!(
            a.body["ExceptionType"], "MXServiceUnavailableException",
            "{}",
            a.body
        );
        assert!(
            a.body["ExceptionMessage"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}",
            a.body
        );
        refused.push(email);
    }
    for i in 0..4 {
        let email = format!("refused-native{i}@queue.example");
        let a = answer(native_lead(&s, &keys, &email)).await;
        assert_eq!(a.status, 503, "{email}: {}", a.body);
        assert!(a.took < PROMPT, "{email} took {:?}", a.took);
        assert_eq!(a.retry_after.as_deref(), Some("1"), "{email}");
        assert_eq!(a.body["error"]["code"], "unavailable", "{}", a.body);
        refused.push(email);
    }
    // Reads do not wait for the writer.
    let a = answer(
        s.client
            .get(format!("{}/api/v1/leads", s.base))
            .bearer_auth(&keys.api_key),
    )
    .await;
    assert_eq!(
        a.status, 200,
        "a read while the writer is blocked: {}",
        a.body
    );

    lock.execute_batch("ROLLBACK").expect("release the lock");
    drop(lock);
    let mut accepted = vec![
        "warm2@queue.example".to_string(),
        "warm@queue.example".to_string(),
    ];
    for (email, p) in pending {
        let a = p.await.expect("queued write");
        assert_eq!(a.status, 200, "queued {email}: {}", a.body);
        accepted.push(email);
    }
    // Served normally right after: a write and a read, promptly.
    let a = answer(lsq_lead(&s, &keys, "after@queue.example")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.took < PROMPT, "the first write after took {:?}", a.took);
    accepted.push("after@queue.example".into());
    accepted.sort();
    assert_eq!(
        lead_emails(&s, &keys).await,
        accepted,
        "refused writes left no lead; queued ones committed"
    );
    assert!(
        refusals(&s, "write").await >= refused.len() as f64,
        "the refusals are the write queue's"
    );
}

/// `activity_hub_store_queue_refusals_total` of `queue`, from `/metrics`.
async fn refusals(s: &Server, queue: &str) -> f64 {
    let text = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let name = format!("activity_hub_store_queue_refusals_total{{queue=\"{queue}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&name))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

/// A full read queue: counted Salesloft pages beyond what the reader threads and a one-read queue
/// hold are refused at once with 503, `Retry-After` and Salesloft's error body; once the clients
/// stop, the same page answers 200 at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_read_queue_is_refused_promptly_in_salesloft_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let keys = tenant(&db, "Reads");
    let s = Arc::new(Server::spawn_env(
        &db,
        &["--no-rate-limit", "--read-queue", "1"],
        None,
        &[("ACTIVITY_HUB_INLINE_BUDGET_MS", "0")],
    ));
    // A lead with a few thousand activities: its counted page reads them all.
    let a = answer(lsq_lead(&s, &keys, "busy@queue.example")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let lead = a.body["Message"]["Id"]
        .as_str()
        .expect("lead id")
        .to_string();
    for batch in 0..100 {
        let rows: Vec<Value> = (0..25)
            .map(|i| {
                json!({"RelatedProspectId": lead, "ActivityEvent": 105,
                       "ActivityNote": format!("n{batch}-{i}")})
            })
            .collect();
        let a = answer(
            s.client
                .post(format!(
                    "{}/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId",
                    s.base
                ))
                .header("x-LSQ-AccessKey", &keys.access_key)
                .header("x-LSQ-SecretKey", &keys.secret_key)
                .json(&rows),
        )
        .await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let me = answer(
        s.client
            .get(format!("{}/v2/me", s.base))
            .bearer_auth(&keys.api_key),
    )
    .await;
    assert_eq!(me.status, 200, "{}", me.body);
    let page = format!(
        "{}/v2/activity_histories?include_paging_counts=true&per_page=25",
        s.base
    );
    let ok = answer(s.client.get(&page).bearer_auth(&keys.api_key)).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let total = &ok.body["metadata"]["paging"]["total_count"];
    assert!(
        total.as_u64().is_some_and(|n| n >= 2500),
        "the page counts the lead's activities: {}",
        ok.body["metadata"]
    );

    // 48 clients ask for the page without pause until 20 refusals have been seen (or 30 s pass).
    let stop = Instant::now() + Duration::from_secs(30);
    let seen_503 = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..48)
        .map(|_| {
            let (s, page, key) = (s.clone(), page.clone(), keys.api_key.clone());
            let seen_503 = seen_503.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while Instant::now() < stop && seen_503.load(Ordering::Relaxed) < 20 {
                    let a = answer(s.client.get(&page).bearer_auth(&key)).await;
                    match a.status {
                        200 => {}
                        503 => {
                            seen_503.fetch_add(1, Ordering::Relaxed);
                            seen.push(a);
                        }
                        other => panic!("answered {other}: {}", a.body),
                    }
                }
                seen
            })
        })
        .collect();
    let mut refused = Vec::new();
    for c in clients {
        refused.extend(c.await.expect("client"));
    }
    assert!(!refused.is_empty(), "no read was refused in 30 s");
    for a in &refused {
        assert_eq!(a.retry_after.as_deref(), Some("1"));
        assert!(
            a.body["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            a.body
        );
        assert_eq!(a.body.as_object().map(|o| o.len()), Some(1), "{}", a.body);
        assert!(a.took < PROMPT, "a refusal took {:?}", a.took);
    }
    assert!(
        refusals(&s, "read").await >= refused.len() as f64,
        "the refusals are the read queue's"
    );
    let a = answer(s.client.get(&page).bearer_auth(&keys.api_key)).await;
    assert_eq!(a.status, 200, "right after the load: {}", a.body);
    assert!(a.took < PROMPT, "the first page after took {:?}", a.took);
    assert_eq!(&a.body["metadata"]["paging"]["total_count"], total);
}
