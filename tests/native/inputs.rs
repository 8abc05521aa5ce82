//! Texts and dates every backend can hold and serve back, through the native API and the
//! Salesloft filters: NUL characters, years outside 0001–9999 and overlong lead values.

use crate::harness::*;

const ACTIVITIES: &str = "/api/v1/activities";

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field() {
    let app = App::start().await;
    let admin = app.tenant("Nul").await;
    let lead = app.lead(&admin, "Ann", "ann@nul.test").await;
    let guid = lead["guid"].as_str().unwrap_or_default().to_string();

    let r = app
        .post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "B", "email": "b\u{0}@nul.test"}),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "'email' must not contain NUL characters",
    );
    let mut row = on_person(&guid, "call", "2026-01-01T00:00:00Z");
    row["note"] = json!("a\u{0}b");
    let r = app
        .post(&admin, ACTIVITIES, json!({"activities": [row]}))
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "'activities[0].note' must not contain NUL characters",
    );
    let r = app.get(&admin, "/api/v1/leads?after=%00").await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "'after' must not contain NUL characters",
    );
    let r = app
        .get(&admin, "/v2/activity_histories?sort_by=a%00b")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    assert_eq!(
        r.json["errors"]["sort_by"][0],
        json!("must not contain NUL characters"),
        "{}",
        r.json
    );
    let histories = app.histories(&admin, "").await;
    assert_eq!(histories["data"], json!([]), "nothing stored: {histories}");
}

#[tokio::test]
async fn years_outside_0001_to_9999_are_refused() {
    let app = App::start().await;
    let admin = app.tenant("Years").await;
    let lead = app.lead(&admin, "Ann", "ann@years.test").await;
    let guid = lead["guid"].as_str().unwrap_or_default().to_string();
    for when in ["-0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"] {
        let row = on_person(&guid, "call", when);
        let r = app
            .post(&admin, ACTIVITIES, json!({"activities": [row]}))
            .await;
        r.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "'activities[0].occurred_at' must be an ISO-8601 timestamp with a year from 0001 to 9999",
        );
    }
    let r = app
        .get(
            &admin,
            "/v2/activity_histories?updated_at[gt]=0000-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    assert!(
        r.json["errors"]["updated_at"][0]
            .as_str()
            .is_some_and(|m| m.contains("0001 to 9999")),
        "{}",
        r.json
    );
    // The earliest and latest instants are stored and served as RFC 3339.
    let rows = app
        .activities(
            &admin,
            vec![
                on_person(&guid, "call", "0001-01-01T00:00:00Z"),
                on_person(&guid, "call", "9999-12-31T23:59:59.999999Z"),
            ],
        )
        .await;
    let page = app
        .histories(&admin, "sort_by=occurred_at&sort_direction=ASC")
        .await;
    let when: Vec<&Value> = page["data"]
        .as_array()
        .map(|d| d.iter().map(|h| &h["occurred_at"]).collect())
        .unwrap_or_default();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        when,
        [
            &json!("0001-01-01T00:00:00.000000Z"),
            &json!("9999-12-31T23:59:59.999999Z")
        ],
        "{page}"
    );
}

#[tokio::test]
async fn lead_length_caps_name_the_field() {
    let app = App::start().await;
    let admin = app.tenant("Caps").await;
    let r = app
        .post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "x".repeat(256)}),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "'first_name' is longer than 255 characters",
    );
    let r = app
        .post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "A", "attributes": {"mx_Notes": "x".repeat(4001)}}),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "'attributes.mx_Notes' is longer than 4000 characters",
    );
}
