//! Webhooks over real HTTP: subscriptions through `/api/v1/webhooks`, the dispatcher running
//! against the test's store, and a real receiver on a loopback port that checks signatures and
//! records what arrives.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use activity_hub::domain::Role;
use activity_hub::events::dispatch::{self, Config};

use crate::harness::*;

#[path = "../common/receiver.rs"]
mod receiver;
use receiver::{Got, Receiver};

fn fast() -> Config {
    Config {
        poll: Duration::from_millis(20),
        timeout: Duration::from_secs(5),
        retry_base: Duration::from_millis(50),
        retry_max_delay: Duration::from_millis(200),
        retry_for: Duration::from_secs(30),
        concurrency: 4,
    }
}

/// Starts the dispatcher on the app's store; it stops with the test's runtime.
fn dispatcher(app: &App, cfg: Config) {
    dispatch::spawn(app.service.store().clone(), cfg).expect("dispatcher");
}

/// Checks `X-ActivityHub-Signature` with HMAC-SHA256 computed here from the secret.
#[track_caller]
fn assert_signed(g: &Got, secret: &str) {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(g.timestamp.as_bytes());
    mac.update(b".");
    mac.update(&g.raw);
    let want = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(g.signature, want, "signature of {}", g.body);
    let ts: i64 = g.timestamp.parse().expect("timestamp is an integer");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - ts).abs() < 60, "timestamp {ts} is now-ish ({now})");
}

async fn subscribe(
    app: &App,
    who: &Who,
    url: &str,
    events: &[&str],
    codes: Option<Value>,
) -> Value {
    let mut body = json!({"url": url, "events": events});
    if let Some(c) = codes {
        body["event_codes"] = c;
    }
    let r = app.post(who, "/api/v1/webhooks", body).await;
    App::data(
        Resp {
            status: r.status,
            headers: r.headers,
            json: json!({"data": r.json.clone()}),
        },
        StatusCode::CREATED,
    )["data"]
        .clone()
}

const ALL: [&str; 5] = [
    "activity.created",
    "activity.updated",
    "activity.deleted",
    "lead.created",
    "lead.updated",
];

#[tokio::test]
async fn events_arrive_signed_and_in_commit_order() {
    let app = App::start().await;
    let admin = app.tenant("Hooked").await;
    let rx = Receiver::start().await;
    let hook = subscribe(&app, &admin, &rx.url, &ALL, None).await;
    let secret = hook["secret"]
        .as_str()
        .expect("secret shown once")
        .to_string();
    assert!(secret.starts_with("whsec_"), "{hook}");
    let id = hook["id"].as_str().unwrap().to_string();
    // Listed and read without the secret.
    let listed = app.get(&admin, "/api/v1/webhooks").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json["data"][0]["id"], json!(id));
    assert!(
        listed.json["data"][0].get("secret").is_none(),
        "{}",
        listed.json
    );
    let one = app.get(&admin, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(one.json["data"]["url"], json!(rx.url));
    assert!(one.json["data"].get("secret").is_none());

    // Writes through the native API and LeadSquared, before the dispatcher runs.
    let lead = app.lead(&admin, "Ada", "ada@hooked.example").await;
    let lead_guid = lead["guid"].as_str().unwrap().to_string();
    let rows: Vec<Value> = (0..3)
        .map(|i| json!({"event_code": 101, "note": format!("n{i}"), "resource": {"type": "person", "id": lead_guid}}))
        .collect();
    let made = app.activities(&admin, rows).await;
    let first = &made[0];
    let r = app
        .patch(
            &admin,
            &format!("/api/v1/activities/{}", first["id"]),
            json!({"note": "changed"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = app
        .delete(&admin, &format!("/api/v1/activities/{}", made[1]["id"]))
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/Create",
            Some(json!({"RelatedProspectId": lead_guid, "ActivityEvent": 101, "ActivityNote": "lsq"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    dispatcher(&app, fast());
    let got = rx.wait_for(7).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.got().len(), 7, "each event once: {:?}", rx.got());
    let events: Vec<&str> = got.iter().map(|g| g.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "lead.created",
            "activity.created",
            "activity.created",
            "activity.created",
            "activity.updated",
            "activity.deleted",
            "activity.created"
        ]
    );
    for g in &got {
        assert_signed(g, &secret);
        assert_eq!(g.body["event"], json!(g.event), "{}", g.body);
        assert!(!g.delivery.is_empty());
    }
    assert_eq!(got[0].body["data"]["guid"], json!(lead_guid));
    for (i, a) in made.iter().enumerate() {
        assert_eq!(got[1 + i].body["data"]["guid"], a["guid"]);
        assert_eq!(got[1 + i].body["data"]["event_code"], json!(101));
        assert_eq!(got[1 + i].body["data"]["lead_guid"], json!(lead_guid));
    }
    assert_eq!(got[4].body["data"]["guid"], first["guid"]);
    assert_eq!(got[5].body["data"]["guid"], made[1]["guid"]);

    // The delivery log: newest first, all delivered at the first attempt.
    let log = app
        .get(&admin, &format!("/api/v1/webhooks/{id}/deliveries"))
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.json);
    let rows = log.json["data"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0]["event"], json!("activity.created"));
    assert_eq!(rows[6]["event"], json!("lead.created"));
    assert_eq!(rows[6]["guid"], json!(got[0].delivery));
    for d in rows {
        assert_eq!(d["state"], json!("delivered"), "{d}");
        assert_eq!(d["attempts"], json!(1));
        assert_eq!(d["last_status"], json!(200));
    }
    // Paged with `before`.
    let page = app
        .get(&admin, &format!("/api/v1/webhooks/{id}/deliveries?limit=2"))
        .await;
    assert_eq!(page.json["data"].as_array().unwrap().len(), 2);
    let next = page.json["next_before"].as_i64().expect("next_before");
    let rest = app
        .get(
            &admin,
            &format!("/api/v1/webhooks/{id}/deliveries?before={next}&limit=200"),
        )
        .await;
    assert_eq!(rest.json["data"].as_array().unwrap().len(), 5);

    // The test event goes through the same path.
    let t = app
        .post(&admin, &format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(t.status, StatusCode::ACCEPTED, "{}", t.json);
    let got = rx.wait_for(8).await;
    assert_eq!(got[7].event, "webhook.test");
    assert_eq!(
        got[7].delivery,
        t.json["data"]["delivery"].as_str().unwrap()
    );
    assert_signed(&got[7], &secret);

    // Deleted: no more deliveries.
    let r = app.delete(&admin, &format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.lead(&admin, "Bob", "bob@hooked.example").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.got().len(), 8);
    let r = app.get(&admin, &format!("/api/v1/webhooks/{id}")).await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", "Webhook");
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_then_the_delivery_fails_and_later_events_go_on() {
    let app = App::start().await;
    let admin = app.tenant("Retry").await;
    let rx = Receiver::start().await;
    let hook = subscribe(&app, &admin, &rx.url, &["lead.created"], None).await;
    let id = hook["id"].as_str().unwrap().to_string();
    // First event: 500, 503, then 200.
    rx.answers.lock().unwrap().extend([500, 503]);
    app.lead(&admin, "One", "one@retry.example").await;
    app.lead(&admin, "Two", "two@retry.example").await;
    dispatcher(
        &app,
        Config {
            retry_for: Duration::from_millis(1500),
            ..fast()
        },
    );
    let got = rx.wait_for(4).await;
    // The second lead waits for the first: one subscription, one delivery in flight, in order.
    let leads: Vec<&str> = got
        .iter()
        .map(|g| g.body["data"]["guid"].as_str().unwrap())
        .collect();
    assert_eq!(leads[0], leads[1]);
    assert_eq!(leads[0], leads[2]);
    assert_ne!(leads[2], leads[3]);
    assert_eq!(
        got[0].delivery, got[2].delivery,
        "a retry is the same delivery"
    );
    let log = app
        .get(&admin, &format!("/api/v1/webhooks/{id}/deliveries"))
        .await;
    let rows = log.json["data"].as_array().unwrap().clone();
    assert_eq!(rows[1]["attempts"], json!(3), "{}", log.json);
    assert_eq!(rows[1]["state"], json!("delivered"));
    assert_eq!(rows[0]["state"], json!("delivered"));

    // Now the receiver keeps failing: after the retry window the delivery is failed.
    rx.answers.lock().unwrap().extend([500; 1000]);
    app.lead(&admin, "Three", "three@retry.example").await;
    let mut failed = None;
    for _ in 0..200 {
        let log = app
            .get(&admin, &format!("/api/v1/webhooks/{id}/deliveries?limit=1"))
            .await;
        if log.json["data"][0]["state"] == json!("failed") {
            failed = Some(log.json["data"][0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = failed.expect("failed within the retry window");
    assert!(failed["attempts"].as_i64().unwrap() >= 2, "{failed}");
    assert_eq!(failed["last_status"], json!(500));
    assert!(
        failed["last_error"].as_str().unwrap().contains("500"),
        "{failed}"
    );
    // The subscription goes on with the next event.
    rx.answers.lock().unwrap().clear();
    let four = app.lead(&admin, "Four", "four@retry.example").await;
    for _ in 0..200 {
        if rx.got().last().unwrap().body["data"]["guid"] == four["guid"] {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the event after a failed one was not delivered: {:?}",
        rx.got().last()
    );
}

#[tokio::test]
async fn activity_type_filter_and_tenant_isolation() {
    let app = App::start().await;
    let a = app.tenant("Alpha").await;
    let b = app.tenant("Beta").await;
    let rx_a = Receiver::start().await;
    let rx_b = Receiver::start().await;
    let hook_a = subscribe(
        &app,
        &a,
        &rx_a.url,
        &["activity.created"],
        Some(json!([102])),
    )
    .await;
    let hook_b = subscribe(&app, &b, &rx_b.url, &["activity.created"], None).await;
    assert_eq!(hook_a["event_codes"], json!([102]));
    let ida = hook_a["id"].as_str().unwrap();
    let lead_a = app.lead(&a, "A", "a@alpha.example").await;
    let lead_b = app.lead(&b, "B", "b@beta.example").await;
    let on = |lead: &Value, code: i64| json!({"event_code": code, "resource": {"type": "person", "id": lead["guid"]}});
    let made_a = app
        .activities(&a, vec![on(&lead_a, 101), on(&lead_a, 102)])
        .await;
    app.activities(&b, vec![on(&lead_b, 101)]).await;
    dispatcher(&app, fast());
    let got_a = rx_a.wait_for(1).await;
    let got_b = rx_b.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx_a.got().len(), 1, "only type 102 goes to A");
    assert_eq!(got_a[0].body["data"]["guid"], made_a[1]["guid"]);
    assert_eq!(rx_b.got().len(), 1, "B gets only its own tenant's event");
    assert_eq!(got_b[0].body["data"]["lead_guid"], lead_b["guid"]);

    // B sees none of A's subscriptions, exactly as unknown ids.
    let list_b = app.get(&b, "/api/v1/webhooks").await;
    assert_eq!(list_b.json["data"].as_array().unwrap().len(), 1);
    assert_eq!(list_b.json["data"][0]["id"], hook_b["id"]);
    for (method, path) in [
        ("GET", format!("/api/v1/webhooks/{ida}")),
        ("GET", format!("/api/v1/webhooks/{ida}/deliveries")),
        ("POST", format!("/api/v1/webhooks/{ida}/test")),
        ("DELETE", format!("/api/v1/webhooks/{ida}")),
    ] {
        let r = app.call(&b, method, &path, None).await;
        r.assert_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Webhook subscription does not exist",
        );
        let unknown = path.replace(ida, "0190b8f0-0000-7000-8000-000000000000");
        let u = app.call(&b, method, &unknown, None).await;
        assert_eq!(u.json, r.json, "{method} {path}");
    }
    assert_eq!(
        app.get(&a, &format!("/api/v1/webhooks/{ida}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_subscriptions_are_refused_and_change_nothing() {
    let app = App::start().await;
    let admin = app.tenant("Strict").await;
    let seller = app
        .user(&admin, "sam@strict.example", Role::SalesUser)
        .await;
    let ok = "http://127.0.0.1:9/hook";
    let cases = [
        (
            json!({"url": "ftp://example.com/x", "events": ["lead.created"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'url' must use http or https",
        ),
        (
            json!({"url": "not a url", "events": ["lead.created"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'url' is not a valid URL",
        ),
        (
            json!({"url": format!("http://h/{}", "x".repeat(3000)), "events": ["lead.created"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'url' is longer than",
        ),
        (
            json!({"url": "http://u:p@example.com/", "events": ["lead.created"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'url' must not carry credentials",
        ),
        (
            json!({"url": ok, "events": ["activity.exploded"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'events[0]' is not an event: 'activity.exploded'",
        ),
        (
            json!({"url": ok, "events": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'events' must name at least one event",
        ),
        (
            json!({"url": ok, "events": ["lead.created"], "event_codes": (0..101).collect::<Vec<i64>>()}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'event_codes' names at most 100 codes",
        ),
        (
            json!({"url": ok, "events": ["lead.created"], "event_codes": [4242]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'event_codes[0]' is not an activity type of this tenant: 4242",
        ),
        (
            json!({"url": ok, "events": ["lead.created"], "event_codes": ["x"]}),
            StatusCode::BAD_REQUEST,
            "'event_codes[0]'",
        ),
        (
            json!({"url": ok, "events": ["lead.created"], "secret": "mine"}),
            StatusCode::BAD_REQUEST,
            "secret",
        ),
        (
            json!({"events": ["lead.created"]}),
            StatusCode::BAD_REQUEST,
            "url",
        ),
    ];
    for (body, status, needle) in cases {
        let r = app.post(&admin, "/api/v1/webhooks", body.clone()).await;
        let code = if status == StatusCode::BAD_REQUEST {
            "invalid_request"
        } else {
            "validation_failed"
        };
        r.assert_error(status, code, needle);
    }
    let r = app
        .post(
            &seller,
            "/api/v1/webhooks",
            json!({"url": ok, "events": ["lead.created"]}),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Administrator");
    let r = app.get(&seller, "/api/v1/webhooks").await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Administrator");
    let listed = app.get(&admin, "/api/v1/webhooks").await;
    assert_eq!(listed.json["data"], json!([]), "nothing was stored");

    // At most 10 per tenant.
    for _ in 0..10 {
        subscribe(&app, &admin, ok, &["lead.created"], None).await;
    }
    let r = app
        .post(
            &admin,
            "/api/v1/webhooks",
            json!({"url": ok, "events": ["lead.created"]}),
        )
        .await;
    r.assert_error(
        StatusCode::CONFLICT,
        "conflict",
        "the most it may hold (10)",
    );
    let listed = app.get(&admin, "/api/v1/webhooks").await;
    assert_eq!(listed.json["data"].as_array().unwrap().len(), 10);
    let id = listed.json["data"][0]["id"].as_str().unwrap();
    let r = app
        .get(&admin, &format!("/api/v1/webhooks/{id}/deliveries?limit=0"))
        .await;
    r.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "'limit' must be 1..=200",
    );
    let r = app.get(&admin, "/api/v1/webhooks/not-a-guid").await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", "Webhook");
}
