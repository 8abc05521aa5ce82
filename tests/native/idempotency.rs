//! `Idempotency-Key` on writes of the native API, LeadSquared and Salesloft, over real HTTP:
//! replays, refused reuse, concurrent retries, tenant scoping, expiry, bad keys.

use std::time::Duration;

use activity_hub::domain::Role;

use crate::harness::*;

const REPLAYED: &str = "idempotent-replayed";

impl App {
    /// A request with the user's Bearer key, a JSON body and (when given) an Idempotency-Key.
    async fn keyed(
        &self,
        who: &Who,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(m, format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", who.bearer()));
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        self.send(req).await
    }

    /// A LeadSquared POST with the user's keys in the query and an Idempotency-Key.
    async fn lsq_keyed(&self, who: &Who, path: &str, key: &str, body: Value) -> Resp {
        let url = format!(
            "{}{path}?accessKey={}&secretKey={}",
            self.base,
            who.keys.access_key.replace('$', "%24"),
            who.keys.secret_key
        );
        let req = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("Idempotency-Key", key)
            .body(body.to_string());
        self.send(req).await
    }
}

fn replayed(r: &Resp) -> bool {
    r.headers.get(REPLAYED).and_then(|v| v.to_str().ok()) == Some("true")
}

fn call_row(lead_guid: &str, note: &str) -> Value {
    json!({"activities": [{"type": "call", "resource": {"type": "person", "id": lead_guid},
        "occurred_at": "2026-01-02T03:04:05Z", "note": note}]})
}

#[tokio::test]
async fn a_native_retry_replays_the_first_answer_and_writes_nothing() {
    let app = App::start().await;
    let admin = app.tenant("Replay").await;
    let lead = app.lead(&admin, "Ada", "ada@replay.example").await;
    let guid = lead["guid"].as_str().unwrap();
    let body = call_row(guid, "first");

    let first = app
        .keyed(
            &admin,
            "POST",
            "/api/v1/activities",
            Some("k-1"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    assert!(!replayed(&first));
    let again = app
        .keyed(
            &admin,
            "POST",
            "/api/v1/activities",
            Some("k-1"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.json);
    assert!(replayed(&again), "{:?}", again.headers);
    assert_eq!(again.json, first.json, "same body, same ids");
    assert_eq!(
        again.headers.get("content-type"),
        first.headers.get("content-type")
    );
    assert_eq!(app.all_histories(&admin).await.len(), 1);

    // The same key with another body: refused, naming the header; nothing written.
    let other = app
        .keyed(
            &admin,
            "POST",
            "/api/v1/activities",
            Some("k-1"),
            Some(call_row(guid, "second")),
        )
        .await;
    other.assert_error(
        StatusCode::CONFLICT,
        "idempotency_key_reused",
        "Idempotency-Key",
    );
    // The same body on another path (an edit of the activity) is another request too.
    let id = first.json["data"][0]["guid"].as_str().unwrap().to_string();
    let edit = app
        .keyed(
            &admin,
            "PATCH",
            &format!("/api/v1/activities/{id}"),
            Some("k-1"),
            Some(json!({"note": "edited"})),
        )
        .await;
    edit.assert_error(
        StatusCode::CONFLICT,
        "idempotency_key_reused",
        "Idempotency-Key",
    );
    let all = app.all_histories(&admin).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["static_data"]["note"], json!("first"), "{}", all[0]);

    // Without a key the same request writes again, as always.
    let plain = app
        .keyed(&admin, "POST", "/api/v1/activities", None, Some(body))
        .await;
    assert_eq!(plain.status, StatusCode::CREATED);
    assert_eq!(app.all_histories(&admin).await.len(), 2);
}

#[tokio::test]
async fn a_refused_write_is_replayed_too_and_a_delete_is_not_run_twice() {
    let app = App::start().await;
    let admin = app.tenant("Kept").await;
    let lead = app.lead(&admin, "Ada", "ada@kept.example").await;
    let guid = lead["guid"].as_str().unwrap();
    // A 4xx answer is kept: the retry gets the same refusal without running.
    let bad = json!({"activities": [{"type": "no-such-type", "resource": {"type": "person", "id": guid}}]});
    let first = app
        .keyed(
            &admin,
            "POST",
            "/api/v1/activities",
            Some("bad"),
            Some(bad.clone()),
        )
        .await;
    assert_eq!(
        first.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        first.json
    );
    let again = app
        .keyed(&admin, "POST", "/api/v1/activities", Some("bad"), Some(bad))
        .await;
    assert_eq!(again.status, first.status);
    assert_eq!(again.json, first.json);
    assert!(replayed(&again));

    let created = app
        .activity(&admin, call_row(guid, "x")["activities"][0].clone())
        .await;
    let path = format!("/api/v1/activities/{}", created["guid"].as_str().unwrap());
    let del = app.keyed(&admin, "DELETE", &path, Some("del"), None).await;
    assert!(del.status.is_success(), "{} {}", del.status, del.json);
    let del2 = app.keyed(&admin, "DELETE", &path, Some("del"), None).await;
    assert_eq!(del2.status, del.status, "the first answer, not a 404");
    assert!(replayed(&del2));
    let del3 = app
        .keyed(&admin, "DELETE", &path, Some("del-2"), None)
        .await;
    assert_eq!(del3.status, StatusCode::NOT_FOUND, "{}", del3.json);
}

#[tokio::test]
async fn concurrent_retries_of_one_key_write_once() {
    let app = App::start().await;
    let admin = app.tenant("Race").await;
    let lead = app.lead(&admin, "Ada", "ada@race.example").await;
    let body = call_row(lead["guid"].as_str().unwrap(), "raced");
    let tries = (0..8).map(|_| {
        app.keyed(
            &admin,
            "POST",
            "/api/v1/activities",
            Some("race-key"),
            Some(body.clone()),
        )
    });
    let answers = futures_util::future::join_all(tries).await;
    let created: Vec<&Resp> = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert!(!created.is_empty());
    for r in &answers {
        if r.status == StatusCode::CONFLICT {
            r.assert_error(
                StatusCode::CONFLICT,
                "idempotency_key_in_progress",
                "still running",
            );
            assert_eq!(
                r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
                Some("1")
            );
        } else {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
            assert_eq!(r.json, created[0].json, "every answer is the first one");
        }
    }
    assert_eq!(
        created.iter().filter(|r| !replayed(r)).count(),
        1,
        "exactly one ran"
    );
    assert_eq!(app.all_histories(&admin).await.len(), 1);
}

#[tokio::test]
async fn keys_are_per_tenant_and_per_caller() {
    let app = App::start().await;
    let a = app.tenant("TenantA").await;
    let b = app.tenant("TenantB").await;
    let lead_a = app.lead(&a, "Ada", "ada@a.example").await;
    let lead_b = app.lead(&b, "Bob", "bob@b.example").await;
    let ra = app
        .keyed(
            &a,
            "POST",
            "/api/v1/activities",
            Some("shared"),
            Some(call_row(lead_a["guid"].as_str().unwrap(), "a")),
        )
        .await;
    assert_eq!(ra.status, StatusCode::CREATED);
    // Tenant B's first use of the same key runs, and its answer is its own.
    let rb = app
        .keyed(
            &b,
            "POST",
            "/api/v1/activities",
            Some("shared"),
            Some(call_row(lead_b["guid"].as_str().unwrap(), "b")),
        )
        .await;
    assert_eq!(rb.status, StatusCode::CREATED, "{}", rb.json);
    assert!(!replayed(&rb));
    assert_ne!(rb.json["data"][0]["guid"], ra.json["data"][0]["guid"]);
    assert_eq!(app.all_histories(&a).await.len(), 1);
    assert_eq!(app.all_histories(&b).await.len(), 1);
    // Another user of tenant A sending A's very request with A's key is refused, not replayed
    // an answer meant for someone else.
    let manager = app.user(&a, "mgr@a.example", Role::SalesManager).await;
    let rm = app
        .keyed(
            &manager,
            "POST",
            "/api/v1/activities",
            Some("shared"),
            Some(call_row(lead_a["guid"].as_str().unwrap(), "a")),
        )
        .await;
    rm.assert_error(
        StatusCode::CONFLICT,
        "idempotency_key_reused",
        "Idempotency-Key",
    );
}

#[tokio::test]
async fn an_expired_key_may_be_used_again() {
    let app = App::launch_configured("native (every test on PostgreSQL)", "native", false, |s| {
        s.with_idempotency_ttl(Duration::from_millis(700))
    })
    .await;
    let admin = app.tenant("Expiry").await;
    let lead = app.lead(&admin, "Ada", "ada@expiry.example").await;
    let guid = lead["guid"].as_str().unwrap();
    let first = app
        .keyed(
            &admin,
            "POST",
            "/api/v1/activities",
            Some("ttl"),
            Some(call_row(guid, "one")),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(900)).await;
    // Expired: another body with the key runs as a new request.
    let second = app
        .keyed(
            &admin,
            "POST",
            "/api/v1/activities",
            Some("ttl"),
            Some(call_row(guid, "two")),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.json);
    assert!(!replayed(&second));
    assert_eq!(app.all_histories(&admin).await.len(), 2);
    // The pruner's statement deletes expired records in bounded batches.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let store = app.service.store();
    let now = activity_hub::domain::time::now_micros();
    assert_eq!(store.prune_idempotency_keys(now, 1000).await.unwrap(), 1);
    assert_eq!(store.prune_idempotency_keys(now, 1000).await.unwrap(), 0);
}

#[tokio::test]
async fn bad_keys_are_refused_in_each_dialect_and_change_nothing() {
    let app = App::start().await;
    let admin = app.tenant("BadKeys").await;
    let lead = app.lead(&admin, "Ada", "ada@badkeys.example").await;
    let guid = lead["guid"].as_str().unwrap();
    let long = "k".repeat(256);
    for (key, needle) in [("", "empty"), (long.as_str(), "at most 255")] {
        let r = app
            .keyed(
                &admin,
                "POST",
                "/api/v1/activities",
                Some(key),
                Some(call_row(guid, "x")),
            )
            .await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", needle);
        assert!(r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"));
    }
    // Not ASCII (sent as raw header bytes).
    let r = app
        .send(
            app.client
                .post(format!("{}/api/v1/activities", app.base))
                .header("Authorization", format!("Bearer {}", admin.bearer()))
                .header(
                    "Idempotency-Key",
                    reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
                )
                .header("content-type", "application/json")
                .body(call_row(guid, "x").to_string()),
        )
        .await;
    r.assert_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "printable ASCII",
    );
    // Salesloft and LeadSquared word it in their own envelopes.
    let sl = app
        .keyed(
            &admin,
            "POST",
            "/v2/notes",
            Some(&long),
            Some(json!({"content": "n", "associated_with_type": "Person",
                        "associated_with_id": lead["id"]})),
        )
        .await;
    assert_eq!(sl.status, StatusCode::BAD_REQUEST, "{}", sl.json);
    assert!(sl.json["error"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
    let lsq = app
        .lsq_keyed(
            &admin,
            "/v2/ProspectActivity.svc/Create",
            &long,
            json!({"RelatedProspectId": guid, "ActivityEvent": 1, "ActivityNote": "x"}),
        )
        .await;
    assert_eq!(lsq.status, StatusCode::BAD_REQUEST, "{}", lsq.json);
    assert_eq!(lsq.json["ExceptionType"], json!("MXInvalidInputException"));
    assert!(lsq.json["ExceptionMessage"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
    assert_eq!(app.all_histories(&admin).await.len(), 0);
}

#[tokio::test]
async fn leadsquared_create_is_idempotent() {
    let app = App::start().await;
    let admin = app.tenant("LsqKeys").await;
    let lead = app.lead(&admin, "Ada", "ada@lsqkeys.example").await;
    let guid = lead["guid"].as_str().unwrap();
    let ty = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/CreateType",
            Some(json!({"ActivityEventName": "Site visit", "Score": "5", "Direction": 1})),
        )
        .await;
    assert_eq!(ty.status, StatusCode::OK, "{}", ty.json);
    let code = ty.json["Message"]["Id"].as_i64().unwrap();
    let body = json!({"RelatedProspectId": guid, "ActivityEvent": code, "ActivityNote": "Visited"});
    let create = "/v2/ProspectActivity.svc/Create";
    let first = app.lsq_keyed(&admin, create, "lsq-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    let again = app.lsq_keyed(&admin, create, "lsq-1", body.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(replayed(&again));
    assert_eq!(again.json, first.json, "same activity id");
    let mut other = body.clone();
    other["ActivityNote"] = json!("Another visit");
    let refused = app.lsq_keyed(&admin, create, "lsq-1", other).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.json);
    assert_eq!(
        refused.json["ExceptionType"],
        json!("MXInvalidInputException")
    );
    assert!(refused.json["ExceptionMessage"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key"));
    assert_eq!(app.all_histories(&admin).await.len(), 1);
}

#[tokio::test]
async fn salesloft_call_and_note_posts_are_idempotent() {
    let app = App::start().await;
    let admin = app.tenant("SlKeys").await;
    let lead = app.lead(&admin, "Ada", "ada@slkeys.example").await;
    let call = json!({"person_id": lead["id"].to_string(), "to": "+1 555 0100", "duration": 30,
                      "disposition": "Connected", "notes": "Talked pricing"});
    let first = app
        .keyed(
            &admin,
            "POST",
            "/v2/activities/calls",
            Some("sl-call"),
            Some(call.clone()),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    let again = app
        .keyed(
            &admin,
            "POST",
            "/v2/activities/calls",
            Some("sl-call"),
            Some(call),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(replayed(&again));
    assert_eq!(again.json, first.json);
    assert!(
        again.headers.contains_key("x-ratelimit-remaining-minute"),
        "the retry's own budget headers stay"
    );

    let note = json!({"content": "Follow up", "associated_with_type": "Person",
                      "associated_with_id": lead["id"]});
    let n1 = app
        .keyed(
            &admin,
            "POST",
            "/v2/notes",
            Some("sl-note"),
            Some(note.clone()),
        )
        .await;
    assert_eq!(n1.status, StatusCode::OK, "{}", n1.json);
    let n2 = app
        .keyed(&admin, "POST", "/v2/notes", Some("sl-note"), Some(note))
        .await;
    assert!(replayed(&n2));
    assert_eq!(n2.json, n1.json);
    let n3 = app
        .keyed(
            &admin,
            "POST",
            "/v2/notes",
            Some("sl-note"),
            Some(json!({"content": "Other", "associated_with_type": "Person",
                        "associated_with_id": lead["id"]})),
        )
        .await;
    assert_eq!(n3.status, StatusCode::CONFLICT, "{}", n3.json);
    assert!(n3.json["error"]
        .as_str()
        .unwrap()
        .contains("Idempotency-Key was first used with a different request"));
    assert_eq!(app.all_histories(&admin).await.len(), 2);
}
