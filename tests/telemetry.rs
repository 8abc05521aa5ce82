//! Request observability over real HTTP against the real binary: `x-request-id` on every answer,
//! `/metrics` in Prometheus' text format counting requests, rate-limit refusals, store calls and
//! the SQLite job queues, and `serve --log-format json` writing one JSON object per log line.

#[path = "common/process.rs"]
mod process;

use std::time::Duration;

use process::{cli, http, Creds, Server};
use serde_json::Value;

/// A fresh SQLite store (kept while the returned directory lives) with one tenant.
fn store_with_tenant() -> (tempfile::TempDir, String, Creds) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let creds = cli(
        &db,
        &[
            "tenant",
            "create",
            "--name",
            "Observed",
            "--admin-email",
            "admin@observed.test",
        ],
    );
    (dir, db, creds)
}

fn lsq_url(base: &str, c: &Creds) -> String {
    format!(
        "{base}/v2/ProspectActivity.svc/ActivityTypes.Get?accessKey={}&secretKey={}",
        c.access_key, c.secret_key
    )
}

fn request_id(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("x-request-id")
        .expect("x-request-id on the answer")
        .to_str()
        .expect("visible ASCII")
        .to_string()
}

/// The value of the sample line `name{labels}` in a Prometheus text payload, if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// `Lead.Create` with this email; the status and the body.
async fn create_lead(client: &reqwest::Client, base: &str, c: &Creds, email: &str) -> (u16, Value) {
    let resp = client
        .post(format!(
            "{base}/v2/LeadManagement.svc/Lead.Create?accessKey={}&secretKey={}",
            c.access_key, c.secret_key
        ))
        .header("x-request-id", format!("lead-{email}"))
        .json(&serde_json::json!([
            {"Attribute": "EmailAddress", "Value": email},
            {"Attribute": "FirstName", "Value": "Ada"},
        ]))
        .send()
        .await
        .expect("Lead.Create");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn scrape(client: &reqwest::Client, base: &str) -> String {
    let resp = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(resp.status(), 200);
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    resp.text().await.expect("metrics body")
}

#[tokio::test]
async fn every_answer_carries_a_request_id_echoed_or_generated() {
    let (_dir, db, creds) = store_with_tenant();
    let server = Server::spawn(&db, &[]);
    let client = http();
    let base = &server.base;

    let sent = client
        .get(format!("{base}/healthz"))
        .header("x-request-id", "trace-42.abc_DEF")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&sent), "trace-42.abc_DEF");

    let generated = client.get(format!("{base}/healthz")).send().await.unwrap();
    let id = request_id(&generated);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "a UUID: {id}");

    // Ids that are not fit to log (spaces, over 128 characters) are replaced.
    for unfit in ["has a space", &"x".repeat(129)] {
        let resp = client
            .get(format!("{base}/healthz"))
            .header("x-request-id", unfit)
            .send()
            .await
            .unwrap();
        let id = request_id(&resp);
        assert!(
            uuid::Uuid::parse_str(&id).is_ok(),
            "{unfit:?} replaced: {id}"
        );
    }

    // Errors too: an unknown endpoint, a wrong method, refused credentials, a good call.
    let not_found = client
        .get(format!("{base}/no/such/endpoint"))
        .header("x-request-id", "nf-1")
        .send()
        .await
        .unwrap();
    assert_eq!(not_found.status(), 404);
    assert_eq!(request_id(&not_found), "nf-1");
    let wrong_method = client
        .delete(format!("{base}/healthz"))
        .header("x-request-id", "wm-1")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(request_id(&wrong_method), "wm-1");
    let refused = client
        .get(format!(
            "{base}/v2/ProspectActivity.svc/ActivityTypes.Get?accessKey=u$rnope&secretKey=nope"
        ))
        .header("x-request-id", "auth-1")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(request_id(&refused), "auth-1");
    let ok = client.get(lsq_url(base, &creds)).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(uuid::Uuid::parse_str(&request_id(&ok)).is_ok());
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_rate_limit_refusals() {
    let (_dir, db, creds) = store_with_tenant();
    let server = Server::spawn(&db, &[]);
    let client = http();
    let base = &server.base;

    for _ in 0..3 {
        client.get(format!("{base}/healthz")).send().await.unwrap();
    }
    client
        .get(format!("{base}/no/such/endpoint?accessKey=secret-in-query"))
        .send()
        .await
        .unwrap();
    let text = scrape(&client, base).await;
    assert_eq!(
        sample(
            &text,
            r#"activity_hub_http_requests_total{method="GET",route="/healthz",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"activity_hub_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"activity_hub_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert!(
        text.contains(r#"activity_hub_http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="+Inf"} 3"#),
        "latency is a histogram: {text}"
    );
    assert!(!text.contains("secret-in-query"), "{text}");

    // LeadSquared allows 25 calls in 5 seconds per access key: the 26th is refused.
    let route = "/v2/ProspectActivity.svc/ActivityTypes.Get";
    let mut refused = 0;
    for _ in 0..26 {
        let status = client
            .get(lsq_url(base, &creds))
            .send()
            .await
            .unwrap()
            .status();
        refused += usize::from(status == 429);
    }
    assert!(refused >= 1, "the 26th call within 5 s is refused");
    let text = scrape(&client, base).await;
    assert_eq!(
        sample(
            &text,
            r#"activity_hub_rate_limit_refusals_total{dialect="leadsquared"}"#
        ),
        Some(refused as f64),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"activity_hub_http_requests_total{{method="GET",route="{route}",status="429"}}"#
            )
        ),
        Some(refused as f64),
        "{text}"
    );
    assert!(!text.contains(&creds.secret_key));
}

#[tokio::test]
async fn log_format_json_writes_one_json_object_per_line_with_the_request_span() {
    let (_dir, db, creds) = store_with_tenant();
    let server = Server::spawn_logging(&db, &["--log-format", "json"], Some("activity_hub=debug"));
    let base = server.base.clone();
    let client = http();
    let resp = client
        .get(lsq_url(&base, &creds))
        .header("x-request-id", "json-log-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The span's log line is written once the answer is; give the writer a moment, then stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = server.stderr();

    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "serving"),
        "{log}"
    );
    let request = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "json-log-1")
        .unwrap_or_else(|| panic!("a line in the request's span: {log}"));
    let span = &request["span"];
    assert_eq!(span["method"], "GET");
    assert_eq!(span["route"], "/v2/ProspectActivity.svc/ActivityTypes.Get");
    assert_eq!(span["tenant"], creds.tenant_id.as_str());
    assert_eq!(span["status"], 200);
    assert!(span["latency_ms"].as_f64().is_some(), "{span}");
    assert!(!log.contains(&creds.secret_key), "no secret in the log");
    assert!(!log.contains(&creds.access_key), "no key in the log");
}

#[tokio::test]
async fn metrics_count_salesloft_refusals_under_their_dialect() {
    let (_dir, db, creds) = store_with_tenant();
    let server = Server::spawn(&db, &[]);
    let client = http();
    let base = &server.base;

    // 600 cost per minute per tenant; a page past 500 costs 30, so the 21st is refused.
    let mut refused = 0;
    for _ in 0..21 {
        let status = client
            .get(format!("{base}/v2/activity_histories?page=501"))
            .bearer_auth(&creds.api_key)
            .send()
            .await
            .unwrap()
            .status();
        refused += usize::from(status == 429);
    }
    assert!(refused >= 1, "over the budget within a minute");
    let text = scrape(&client, base).await;
    assert_eq!(
        sample(
            &text,
            r#"activity_hub_rate_limit_refusals_total{dialect="salesloft"}"#
        ),
        Some(refused as f64),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"activity_hub_rate_limit_refusals_total{dialect="leadsquared"}"#
        ),
        None,
        "{text}"
    );
}

#[tokio::test]
async fn metrics_count_native_refusals_under_their_dialect() {
    let (_dir, db, creds) = store_with_tenant();
    let server = Server::spawn(&db, &[]);
    let client = http();
    let base = &server.base;

    // 600 cost per minute per user; an export costs 10, so the 61st is refused.
    let mut refused = 0;
    for _ in 0..61 {
        let resp = client
            .get(format!("{base}/api/v1/export"))
            .bearer_auth(&creds.api_key)
            .send()
            .await
            .unwrap();
        refused += usize::from(resp.status() == 429);
    }
    assert_eq!(refused, 1, "over the budget within a minute");
    let text = scrape(&client, base).await;
    assert_eq!(
        sample(
            &text,
            r#"activity_hub_rate_limit_refusals_total{dialect="native"}"#
        ),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_time_store_calls_by_operation_and_outcome_and_show_the_sqlite_queues() {
    let (_dir, db, creds) = store_with_tenant();
    let server = Server::spawn(&db, &[]);
    let client = http();
    let base = &server.base;

    let (status, body) = create_lead(&client, base, &creds, "ada@observed.test").await;
    assert_eq!(status, 200, "{body}");
    // The same email again: the store refuses it (a duplicate), an error outcome.
    let (status, body) = create_lead(&client, base, &creds, "ada@observed.test").await;
    assert_ne!(status, 200, "{body}");
    let resp = client.get(lsq_url(base, &creds)).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    let text = scrape(&client, base).await;
    let calls = |op: &str, outcome: &str| {
        sample(
            &text,
            &format!(
                r#"activity_hub_store_call_duration_seconds_count{{op="{op}",outcome="{outcome}"}}"#
            ),
        )
    };
    assert_eq!(calls("create_lead", "ok"), Some(1.0), "{text}");
    assert_eq!(calls("create_lead", "error"), Some(1.0), "{text}");
    assert!(calls("user_by_access_key", "ok") >= Some(1.0), "{text}");
    assert!(calls("list_activity_types", "ok") >= Some(1.0), "{text}");
    assert!(
        text.contains(
            r#"activity_hub_store_call_duration_seconds_bucket{op="create_lead",outcome="ok",le="+Inf"} 1"#
        ),
        "store call durations are a histogram: {text}"
    );

    // Both leads were written by the writer thread, each after a wait in its queue; nothing is
    // queued once they are answered. The read queue is shown before any read has waited in it.
    assert!(
        sample(
            &text,
            r#"activity_hub_store_queue_wait_seconds_count{queue="write"}"#
        ) >= Some(2.0),
        "{text}"
    );
    assert!(
        text.contains(r#"activity_hub_store_queue_wait_seconds_bucket{queue="write",le="+Inf"}"#),
        "queue waits are a histogram: {text}"
    );
    for queue in ["read", "write"] {
        assert_eq!(
            sample(
                &text,
                &format!(r#"activity_hub_store_queue_depth{{queue="{queue}"}}"#)
            ),
            Some(0.0),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_store_failure_is_logged_with_the_request_id_of_the_call_it_failed() {
    let (dir, db, creds) = store_with_tenant();
    let server = Server::spawn_logging(&db, &["--log-format", "json"], Some("activity_hub=info"));
    let client = http();
    let base = &server.base;
    // Every insert of a lead now fails inside the store, as a broken database would.
    let sqlite = rusqlite::Connection::open(dir.path().join("hub.db")).expect("open the database");
    sqlite
        .busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    sqlite
        .execute_batch(
            "CREATE TRIGGER refuse_leads BEFORE INSERT ON leads \
             BEGIN SELECT RAISE(ABORT, 'leads are refused'); END;",
        )
        .expect("create the trigger");

    let (status, body) = create_lead(&client, base, &creds, "bob@observed.test").await;
    assert_eq!(status, 500, "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = server.stderr();
    let failure: Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["level"] == "ERROR" && l["fields"]["error"].to_string().contains("refused"))
        .unwrap_or_else(|| panic!("the store's failure is logged: {log}"));
    assert_eq!(
        failure["span"]["request_id"], "lead-bob@observed.test",
        "{failure}"
    );
    assert_eq!(failure["span"]["tenant"], creds.tenant_id.as_str());
    assert!(
        failure["spans"].as_array().is_some_and(|spans| spans
            .iter()
            .any(|s| s["request_id"] == "lead-bob@observed.test")),
        "{failure}"
    );

    let text = scrape(&client, base).await;
    assert_eq!(
        sample(
            &text,
            r#"activity_hub_store_call_duration_seconds_count{op="create_lead",outcome="error"}"#
        ),
        Some(1.0),
        "{text}"
    );
}
