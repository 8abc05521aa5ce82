//! `/v2/webhook_subscriptions` over real HTTP: subscriptions made, listed, fetched, disabled and
//! deleted through Salesloft's API; the dispatcher running against the test's store; a receiver
//! on a loopback port that records what arrives and checks Salesloft's signature.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha1::Sha1;

use activity_hub::domain::Role;
use activity_hub::events::dispatch::{self, Config};

use crate::harness::*;
use crate::resources::assert_documented;

#[path = "../common/receiver.rs"]
mod receiver;
use receiver::{Got, Receiver};

const SUBS: &str = "/v2/webhook_subscriptions";

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

/// HMAC-SHA1 of `body` keyed by `key`, computed by the test from the token it chose.
fn hmac_sha1(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[track_caller]
fn assert_signed(g: &Got, token: &str) {
    assert_eq!(
        g.sl_signature,
        hmac_sha1(token.as_bytes(), &g.raw),
        "x-salesloft-signature of {}",
        g.body
    );
}

/// A request with a JSON or form-encoded body.
async fn send(
    app: &App,
    who: &Who,
    method: &str,
    path: &str,
    body: Option<(&str, String)>,
) -> Resp {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app
        .client
        .request(m, format!("{}{path}", app.base))
        .bearer_auth(who.bearer());
    if let Some((kind, text)) = body {
        req = req.header("content-type", kind).body(text);
    }
    app.send(req).await
}

fn json_body(v: Value) -> Option<(&'static str, String)> {
    Some(("application/json", v.to_string()))
}

fn form_body(f: &str) -> Option<(&'static str, String)> {
    Some(("application/x-www-form-urlencoded", f.to_string()))
}

async fn subscribe(app: &App, who: &Who, url: &str, token: &str, event: &str) -> Value {
    let r = send(
        app,
        who,
        "POST",
        SUBS,
        json_body(json!({"callback_url": url, "callback_token": token, "event_type": event})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["data"].clone()
}

/// The record (`data`) of a Salesloft `GET`, with the callback token a delivery adds.
async fn as_delivered(app: &App, who: &Who, path: &str, token: &str) -> Value {
    let r = app.get(who, path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.json);
    let mut record = r.json["data"].clone();
    record["callback_token"] = json!(token);
    record
}

#[tokio::test]
async fn subscriptions_are_managed_and_events_arrive_as_salesloft_sends_them() {
    let app = App::start(true).await;
    let api = app.raw("GET", "/openapi.json", None, None).await.json;
    let admin = app.tenant("Hooks").await;
    let lead = app.lead(&admin, "Ada", "ada@hooks.example").await;
    let lead_id = lead["id"].as_i64().unwrap();
    let rx = Receiver::start().await;
    dispatch::spawn(app.service.store().clone(), fast()).expect("dispatcher");

    // Made with JSON and with a form, as Salesloft's document has it.
    let calls = subscribe(&app, &admin, &rx.url, "tok-calls", "call_created").await;
    assert_eq!(calls["event_type"], json!("call_created"));
    assert_eq!(calls["callback_url"], json!(rx.url));
    assert_eq!(calls["callback_token"], json!("tok-calls"));
    assert_eq!(calls["enabled"], json!(true));
    assert_eq!(calls["user_guid"], json!(admin.guid()));
    assert_eq!(calls["tenant_id"], json!(admin.user.tenant_id));
    let form = format!(
        "callback_url={}&callback_token=tok-notes&event_type=note_updated",
        enc(&rx.url)
    );
    let r = send(&app, &admin, "POST", SUBS, form_body(&form)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_documented(&api, "post", SUBS, 200, &r.json);
    let notes = r.json["data"].clone();
    let created = subscribe(&app, &admin, &rx.url, "tok-created", "note_created").await;
    subscribe(&app, &admin, &rx.url, "tok-people", "person_created").await;
    let ids: Vec<i64> = [&calls, &notes, &created]
        .iter()
        .map(|s| s["id"].as_i64().expect("integer id"))
        .collect();

    // Disabled: note_created gets nothing while it is.
    let path = |id: i64| format!("{SUBS}/{id}");
    let r = send(
        &app,
        &admin,
        "PUT",
        &path(ids[2]),
        form_body("enabled=false"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_documented(&api, "put", &format!("{SUBS}/{{id}}"), 200, &r.json);
    assert_eq!(r.json["data"]["enabled"], json!(false));

    let list = app.get(&admin, SUBS).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    assert_documented(&api, "get", SUBS, 200, &list.json);
    let listed: Vec<i64> = list.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed[..3], ids);
    let off = app.get(&admin, &format!("{SUBS}?enabled=false")).await;
    assert_eq!(
        off.json["data"].as_array().unwrap().len(),
        1,
        "{}",
        off.json
    );
    assert_eq!(off.json["data"][0]["id"], json!(ids[2]));
    let on = app.get(&admin, &format!("{SUBS}?enabled=true")).await;
    assert_eq!(on.json["data"].as_array().unwrap().len(), 3, "{}", on.json);
    let one = app.get(&admin, &path(ids[0])).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.json);
    assert_documented(&api, "get", &format!("{SUBS}/{{id}}"), 200, &one.json);
    assert_eq!(one.json["data"], calls);
    // The native API lists its own subscriptions only.
    let native = app.get(&admin, "/api/v1/webhooks").await;
    assert_eq!(native.json["data"], json!([]), "{}", native.json);

    // A call logged through Salesloft, a note made (while note_created is disabled) and edited.
    let r = send(
        &app,
        &admin,
        "POST",
        "/v2/activities/calls",
        json_body(json!({"person_id": lead_id, "duration": 42, "notes": "Pricing"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let call_id = r.json["data"]["id"].as_i64().unwrap();
    let r = send(
        &app,
        &admin,
        "POST",
        "/v2/notes",
        json_body(json!({"content": "first", "associated_with_type": "person",
                         "associated_with_id": lead_id})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let first_note = r.json["data"]["id"].as_i64().unwrap();
    let r = send(
        &app,
        &admin,
        "PUT",
        &format!("/v2/notes/{first_note}"),
        json_body(json!({"content": "first, edited"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    // Enabled again: the next note is sent, the one made while disabled never is (a
    // subscription's deliveries go in commit order, so it would have come first).
    let r = send(
        &app,
        &admin,
        "PUT",
        &path(ids[2]),
        json_body(json!({"enabled": true})),
    )
    .await;
    assert_eq!(r.json["data"]["enabled"], json!(true), "{}", r.json);
    let r = send(
        &app,
        &admin,
        "POST",
        "/v2/notes",
        json_body(
            json!({"content": "second", "associated_with_type": "person",
                         "associated_with_id": lead_id}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let second_note = r.json["data"]["id"].as_i64().unwrap();
    let bea = app.lead(&admin, "Bea", "bea@hooks.example").await;

    let got = rx.wait_for(4).await;
    let by = |event: &str| -> Vec<Got> {
        got.iter()
            .filter(|g| g.sl_event == event)
            .cloned()
            .collect()
    };

    let call = by("call_created");
    assert_eq!(call.len(), 1, "{got:#?}");
    assert_signed(&call[0], "tok-calls");
    assert_eq!(
        call[0].body,
        as_delivered(
            &app,
            &admin,
            &format!("/v2/activities/calls/{call_id}"),
            "tok-calls"
        )
        .await
    );
    assert_eq!(call[0].body["duration"], json!(42));

    let updated = by("note_updated");
    assert_eq!(updated.len(), 1, "{got:#?}");
    assert_signed(&updated[0], "tok-notes");
    assert_eq!(
        updated[0].body,
        as_delivered(
            &app,
            &admin,
            &format!("/v2/notes/{first_note}"),
            "tok-notes"
        )
        .await
    );
    assert_eq!(updated[0].body["content"], json!("first, edited"));

    let made = by("note_created");
    assert_eq!(made.len(), 1, "{got:#?}");
    assert_signed(&made[0], "tok-created");
    assert_eq!(made[0].body["id"], json!(second_note), "{got:#?}");

    let person = by("person_created");
    assert_eq!(person.len(), 1, "{got:#?}");
    assert_signed(&person[0], "tok-people");
    assert_eq!(
        person[0].body,
        as_delivered(
            &app,
            &admin,
            &format!("/v2/people/{}", bea["id"]),
            "tok-people"
        )
        .await
    );
    assert_eq!(person[0].body["first_name"], json!("Bea"));

    // Deleted, and deleted again: 204 both times; then unknown.
    for _ in 0..2 {
        let r = send(&app, &admin, "DELETE", &path(ids[0]), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    }
    assert_eq!(
        app.get(&admin, &path(ids[0])).await.status,
        StatusCode::NOT_FOUND
    );
    let list = app.get(&admin, SUBS).await;
    assert_eq!(
        list.json["data"].as_array().unwrap().len(),
        3,
        "{}",
        list.json
    );
}

#[tokio::test]
async fn bad_input_other_teams_and_the_cap_are_refused_and_change_nothing() {
    let app = App::start(true).await;
    let api = app.raw("GET", "/openapi.json", None, None).await.json;
    let admin = app.tenant("Strict").await;
    let url = "http://127.0.0.1:9/hook";

    let refused = |r: &Resp| -> Vec<String> {
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
        r.json["errors"]
            .as_object()
            .unwrap_or_else(|| panic!("{}", r.json))
            .keys()
            .cloned()
            .collect()
    };
    let r = send(&app, &admin, "POST", SUBS, json_body(json!({}))).await;
    assert_documented(&api, "post", SUBS, 422, &r.json);
    assert_eq!(
        refused(&r),
        ["callback_token", "callback_url", "event_type"]
    );
    let r = send(
        &app,
        &admin,
        "POST",
        SUBS,
        json_body(
            json!({"callback_url": url, "callback_token": "t", "event_type": "cadence_created"}),
        ),
    )
    .await;
    assert_eq!(refused(&r), ["event_type"]);
    let message = r.json["errors"]["event_type"][0].as_str().unwrap();
    assert!(
        message.contains("cadence_created") && message.contains("call_created"),
        "{message}"
    );
    let r = send(
        &app,
        &admin,
        "POST",
        SUBS,
        form_body(
            "callback_url=ftp%3A%2F%2Fexample.com%2F&callback_token=t&event_type=call_created",
        ),
    )
    .await;
    assert_eq!(refused(&r), ["callback_url"]);
    let r = send(
        &app,
        &admin,
        "POST",
        SUBS,
        json_body(
            json!({"callback_url": url, "callback_token": "  ", "event_type": "note_created"}),
        ),
    )
    .await;
    assert_eq!(refused(&r), ["callback_token"]);
    let r = app.get(&admin, &format!("{SUBS}?enabled=maybe")).await;
    assert_eq!(refused(&r), ["enabled"]);
    assert_eq!(app.get(&admin, SUBS).await.json["data"], json!([]));

    // A seller may not manage them.
    let seller = app
        .user(&admin, "sam@strict.example", Role::SalesUser)
        .await;
    let r = send(
        &app,
        &seller,
        "POST",
        SUBS,
        json_body(
            json!({"callback_url": url, "callback_token": "t", "event_type": "call_created"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    assert!(r.json["error"].is_string(), "{}", r.json);

    // Another team's subscription is unknown here, and stays.
    let other = app.tenant("Other").await;
    let theirs = subscribe(&app, &other, url, "theirs", "person_updated").await;
    let their_path = format!("{SUBS}/{}", theirs["id"]);
    assert_eq!(
        app.get(&admin, &their_path).await.status,
        StatusCode::NOT_FOUND
    );
    let r = send(
        &app,
        &admin,
        "PUT",
        &their_path,
        json_body(json!({"enabled": false})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
    let r = send(&app, &admin, "DELETE", &their_path, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let still = app.get(&other, &their_path).await;
    assert_eq!(still.json["data"], theirs, "{}", still.json);
    let r = send(
        &app,
        &admin,
        "PUT",
        &format!("{SUBS}/abc"),
        json_body(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);

    // A bad `enabled` changes nothing.
    let r = send(
        &app,
        &other,
        "PUT",
        &their_path,
        form_body("enabled=perhaps"),
    )
    .await;
    assert_eq!(refused(&r), ["enabled"]);
    assert_eq!(
        app.get(&other, &their_path).await.json["data"]["enabled"],
        json!(true)
    );

    // One cap for the native API's subscriptions and Salesloft's together.
    let r = app
        .post(
            &other,
            "/api/v1/webhooks",
            json!({"url": url, "events": ["lead.created"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    for i in 0..8 {
        subscribe(&app, &other, url, &format!("t{i}"), "note_created").await;
    }
    let r = send(
        &app,
        &other,
        "POST",
        SUBS,
        json_body(
            json!({"callback_url": url, "callback_token": "t", "event_type": "call_created"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(
        app.get(&other, SUBS).await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        9
    );
}

#[tokio::test]
async fn a_batch_written_natively_reaches_a_salesloft_subscription_in_commit_order() {
    let app = App::start(true).await;
    let admin = app.tenant("Batch").await;
    let lead = app.lead(&admin, "Cy", "cy@batch.example").await;
    let rx = Receiver::start().await;
    dispatch::spawn(app.service.store().clone(), fast()).expect("dispatcher");
    subscribe(&app, &admin, &rx.url, "tok-batch", "call_created").await;

    let on_lead = json!({"type": "person", "id": lead["guid"]});
    let rows = app
        .activities(
            &admin,
            vec![
                json!({"type": "call", "resource": on_lead, "note": "one"}),
                json!({"type": "note", "resource": on_lead, "note": "not a call"}),
                json!({"type": "call", "resource": on_lead, "note": "two"}),
                json!({"type": "call", "resource": on_lead, "note": "three"}),
            ],
        )
        .await;
    let calls: Vec<Value> = [&rows[0], &rows[2], &rows[3]]
        .iter()
        .map(|r| r["id"].clone())
        .collect();

    let got = rx.wait_for(3).await;
    let sent: Vec<Value> = got.iter().map(|g| g.body["id"].clone()).collect();
    assert_eq!(sent, calls, "{got:#?}");
    for g in &got {
        assert_eq!(g.sl_event, "call_created");
        assert_signed(g, "tok-batch");
        let path = format!("/v2/activities/calls/{}", g.body["id"]);
        assert_eq!(g.body, as_delivered(&app, &admin, &path, "tok-batch").await);
    }
}
