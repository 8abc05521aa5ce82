//! Native activity batches: Salesloft-style attributes, and atomic validation naming the row.

use activity_hub::domain::Role;

use crate::harness::*;

#[tokio::test]
async fn batch_create_with_salesloft_attributes() {
    let app = App::start().await;
    let admin = app.tenant("Batch").await;
    let seller = app.user(&admin, "s@batch.example", Role::SalesUser).await;
    let lead = app.lead(&admin, "Lea", "lea@example.com").await;
    let account = app.account(&admin, "Initech").await;
    let opp = app.opportunity(&admin, &s(&lead, "guid"), "Big deal").await;
    let r = app
        .post(
            &admin,
            "/api/v1/activity_types",
            json!({"name": "Survey", "salesloft_type": "note",
                   "fields": [{"schema_name": "mx_Custom_1", "data_type": "Number"}]}),
        )
        .await;
    let survey = App::data(r, StatusCode::CREATED)["event_code"]
        .as_i64()
        .unwrap();

    let stored = app
        .activities(
            &admin,
            vec![
                json!({"type": "call", "resource": {"type": "person", "id": lead["guid"]},
                       "owner_guid": seller.guid(), "occurred_at": "2026-03-01T10:00:00.123456Z",
                       "note": "intro call", "tags": ["hot", " q1 ", "hot"], "pinned": true,
                       "static_data": {"duration": 300, "direction": "outbound"}}),
                json!({"type": "meeting", "resource": {"type": "account", "id": account["guid"]},
                       "occurred_at": "2026-03-02T10:00:00+02:00"}),
                json!({"type": "note", "resource": {"type": "crm_opportunity", "id": opp["guid"]},
                       "note": "on the deal"}),
                json!({"event_code": survey, "type": "note",
                       "resource": {"type": "person", "id": lead["guid"]},
                       "fields": {"mx_Custom_1": 9}, "status": "Inactive"}),
            ],
        )
        .await;
    assert_eq!(stored.len(), 4);
    let call = &stored[0];
    assert_eq!(call["type"], "call");
    assert_eq!(call["event_code"], 101);
    assert_eq!(
        call["resource"],
        json!({"type": "person", "id": lead["id"]})
    );
    assert_eq!(call["lead_guid"], lead["guid"]);
    assert_eq!(call["owner_guid"], json!(seller.guid()));
    assert_eq!(call["occurred_at"], "2026-03-01T10:00:00.123456Z");
    assert_eq!(call["note"], "intro call");
    assert_eq!(
        call["tags"],
        json!(["hot", "q1"]),
        "trimmed and de-duplicated"
    );
    assert!(call["pinned_at"].is_string(), "{call}");
    assert_eq!(call["static_data"]["duration"], 300);
    assert_eq!(call["status"], "Active");
    assert_eq!(
        call["salesloft_id"],
        json!(format!("call-{}", call["id"].as_i64().unwrap()))
    );
    assert_eq!(
        stored[1]["resource"],
        json!({"type": "account", "id": account["id"]})
    );
    assert_eq!(stored[1]["occurred_at"], "2026-03-02T08:00:00.000000Z");
    assert!(stored[1]["lead_guid"].is_null());
    assert_eq!(
        stored[2]["resource"],
        json!({"type": "crm_opportunity", "id": opp["guid"]})
    );
    assert_eq!(stored[2]["opportunity_guid"], opp["guid"]);
    assert_eq!(stored[3]["fields"]["mx_Custom_1"], "9");
    assert_eq!(stored[3]["status"], "Inactive");
    assert_eq!(stored[3]["type"], "note");

    // created_at/updated_at unique and increasing in batch order.
    let stamps: Vec<String> = stored.iter().map(|a| s(a, "updated_at")).collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");

    // GET by integer id and by GUID.
    let id = call["id"].as_i64().unwrap();
    for key in [id.to_string(), s(call, "guid")] {
        let r = app.get(&admin, &format!("/api/v1/activities/{key}")).await;
        assert_eq!(App::data(r, StatusCode::OK)["guid"], call["guid"]);
    }

    // The Salesloft view of the pinned call: the item shape of salesloft.md.
    let h = app
        .history(&admin, &format!("call-{id}"))
        .await
        .expect("in SL");
    assert_eq!(h["resource_type"], "person");
    assert_eq!(h["resource_id"], lead["id"]);
    assert_eq!(h["user_guid"], json!(seller.guid()));
    assert_eq!(h["tags"], json!(["hot", "q1"]));
    assert_eq!(h["pinned_at"], call["pinned_at"]);
    assert_eq!(h["occurred_at"], "2026-03-01T10:00:00.123456Z");
    assert_eq!(h["updated_at"], call["updated_at"]);
    assert_eq!(h["static_data"]["duration"], 300);
    assert_eq!(h["static_data"]["note"], "intro call");
    assert_eq!(h["failed_dynamic_resources"], json!([]));
    let pinned = app.histories(&admin, "pinned=true").await;
    assert_eq!(pinned["data"].as_array().unwrap().len(), 1, "{pinned}");
    let opp_rows = app.histories(&admin, "resource_type=crm_opportunity").await;
    assert_eq!(opp_rows["data"][0]["resource_id"], opp["guid"]);
    // The person activities are LSQ activities of the lead as well.
    let ids = lsq_ids(&app, &admin, &s(&lead, "guid")).await;
    for a in [&stored[0], &stored[2], &stored[3]] {
        assert!(ids.contains(&s(a, "guid")), "{ids:?} lacks {a}");
    }
}

#[tokio::test]
async fn a_bad_row_refuses_the_whole_batch() {
    let app = App::start().await;
    let admin = app.tenant("Atomic").await;
    let seller = app.user(&admin, "s@atomic.example", Role::SalesUser).await;
    let lead = app.lead(&admin, "Al", "al@example.com").await;
    let guid = s(&lead, "guid");
    let opp = app.opportunity(&admin, &guid, "deal").await;
    let r = app
        .post(
            &admin,
            "/api/v1/activity_types",
            json!({"name": "Scored", "fields": [
                {"schema_name": "mx_Custom_1", "data_type": "Number", "is_mandatory": true}]}),
        )
        .await;
    let scored = App::data(r, StatusCode::CREATED)["event_code"]
        .as_i64()
        .unwrap();
    let good = || json!({"type": "call", "resource": {"type": "person", "id": guid}});

    // Each bad second row: the status, the error code and what the message must name.
    let mut long_tags: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    long_tags.dedup();
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"resource": {"type": "person", "id": guid}}),
            422,
            "validation_failed",
            "type",
        ),
        (
            json!({"type": "fax", "resource": {"type": "person", "id": guid}}),
            422,
            "validation_failed",
            "type",
        ),
        (
            json!({"event_code": 4242, "resource": {"type": "person", "id": guid}}),
            422,
            "validation_failed",
            "event_code",
        ),
        (
            json!({"event_code": 101, "type": "note", "resource": {"type": "person", "id": guid}}),
            422,
            "validation_failed",
            "event_code",
        ),
        (
            json!({"event_code": 12000, "resource": {"type": "person", "id": guid}}),
            422,
            "validation_failed",
            "opportunit",
        ),
        (
            json!({"type": "call"}),
            422,
            "validation_failed",
            "resource",
        ),
        (
            json!({"type": "call", "resource": {"type": "lead", "id": guid}}),
            422,
            "validation_failed",
            "resource.type",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": UNKNOWN}}),
            422,
            "validation_failed",
            "person",
        ),
        (
            json!({"type": "call", "resource": {"type": "account", "id": UNKNOWN}}),
            422,
            "validation_failed",
            "account",
        ),
        (
            json!({"type": "call", "resource": {"type": "crm_opportunity", "id": UNKNOWN}}),
            422,
            "validation_failed",
            "crm_opportunity",
        ),
        (
            json!({"type": "call", "resource": {"type": "crm_opportunity", "id": guid}}),
            422,
            "validation_failed",
            "crm_opportunity",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "occurred_at": "2026-13-01"}),
            422,
            "validation_failed",
            "occurred_at",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "owner_guid": UNKNOWN}),
            422,
            "validation_failed",
            "owner",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "status": "Done"}),
            422,
            "validation_failed",
            "status",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "tags": [""]}),
            422,
            "validation_failed",
            "tags",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "tags": long_tags}),
            422,
            "validation_failed",
            "tags",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "fields": {"mx_Custom_1": "1"}}),
            422,
            "validation_failed",
            "mx_Custom_1",
        ),
        (
            json!({"event_code": scored, "resource": {"type": "person", "id": guid}}),
            422,
            "validation_failed",
            "mx_Custom_1",
        ),
        (
            json!({"event_code": scored, "resource": {"type": "person", "id": guid}, "fields": {"mx_Custom_1": "lots"}}),
            422,
            "validation_failed",
            "mx_Custom_1",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "pinned": "yes"}),
            400,
            "invalid_request",
            "activities[1].pinned",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "tags": "hot"}),
            400,
            "invalid_request",
            "activities[1].tags",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "static_data": []}),
            400,
            "invalid_request",
            "activities[1].static_data",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "fields": {"mx_Custom_1": [1]}}),
            400,
            "invalid_request",
            "mx_Custom_1",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid},
                   "static_data": {"note": "spoof"}}),
            422,
            "validation_failed",
            "static_data.note",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "fields": {"Status": "Inactive"}}),
            422,
            "validation_failed",
            "fields.Status",
        ),
        (
            json!({"type": "call", "resource": {"type": "person", "id": guid}, "colour": "red"}),
            400,
            "invalid_request",
            "colour",
        ),
    ];
    for (bad, status, code, needle) in cases {
        let r = app
            .post(
                &admin,
                "/api/v1/activities",
                json!({"activities": [good(), bad.clone(), good()]}),
            )
            .await;
        r.assert_error(StatusCode::from_u16(status).unwrap(), code, needle);
        let msg = r.json["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("activities[1]"),
            "{bad}: the row is named: {msg}"
        );
    }
    // Batch size limits and shape.
    let r = app
        .post(&admin, "/api/v1/activities", json!({"activities": []}))
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "activities",
    );
    let many: Vec<Value> = (0..101).map(|_| good()).collect();
    let r = app
        .post(&admin, "/api/v1/activities", json!({"activities": many}))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "100");
    let r = app
        .post(&admin, "/api/v1/activities", json!([good()]))
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", "shape");
    // A Sales_User may not log on accounts nor on another's lead.
    let account = app.account(&admin, "Acct").await;
    let r = app
        .post(
            &seller,
            "/api/v1/activities",
            json!({"activities": [
            {"type": "call", "resource": {"type": "account", "id": account["guid"]}}]}),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "activities[0]");
    let r = app
        .post(
            &seller,
            "/api/v1/activities",
            json!({"activities": [
            {"type": "call", "resource": {"type": "person", "id": guid}}]}),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "person",
    );

    // Nothing of any refused batch was stored: only the opportunity exists (not an activity).
    assert!(app
        .all_histories(&admin)
        .await
        .iter()
        .all(|h| h["type"] != "call"));
    assert!(lsq_ids(&app, &admin, &guid).await.is_empty());
    let _ = opp;
    // 100 rows is fine and all arrive.
    let hundred: Vec<Value> = (0..100).map(|_| good()).collect();
    assert_eq!(app.activities(&admin, hundred).await.len(), 100);
}
