//! Changes to native activities: pin/unpin/tag/edit (each moving `updated_at` forward, seen in
//! `/v2/activity_histories`), delete (gone from both dialects), deleted leads, Sales_User
//! visibility, and unique increasing `updated_at`.

use activity_hub::domain::Role;

use crate::harness::*;

#[tokio::test]
async fn pin_tag_edit_move_updated_at_and_show_in_salesloft() {
    let app = App::start().await;
    let admin = app.tenant("Edit").await;
    let seller = app.user(&admin, "s@edit.example", Role::SalesUser).await;
    let lead = app.lead(&admin, "Ed", "ed@example.com").await;
    let guid = s(&lead, "guid");
    let r = app
        .post(
            &admin,
            "/api/v1/activity_types",
            json!({"name": "Rated", "fields": [
                {"schema_name": "mx_Custom_1", "data_type": "Number"},
                {"schema_name": "mx_Custom_2", "data_type": "String"}]}),
        )
        .await;
    let rated = App::data(r, StatusCode::CREATED)["event_code"]
        .as_i64()
        .unwrap();
    let a = app
        .activity(
            &admin,
            json!({"event_code": rated, "resource": {"type": "person", "id": guid},
                   "fields": {"mx_Custom_1": 1, "mx_Custom_2": "keep"}, "note": "v1",
                   "occurred_at": "2026-02-01T00:00:00Z"}),
        )
        .await;
    let id = a["id"].as_i64().unwrap();
    let sl = format!("note-{id}");
    let path = format!("/api/v1/activities/{id}");
    let mut last = s(&a, "updated_at");
    let created = s(&a, "created_at");

    // Each write returns the new state, moves updated_at forward, and SL shows it.
    let steps: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", format!("{path}/pin"), None),
        ("POST", format!("{path}/pin"), None),
        (
            "PUT",
            format!("{path}/tags"),
            Some(json!({"tags": ["b", "a", "b"]})),
        ),
        ("DELETE", format!("{path}/pin"), None),
        (
            "PATCH",
            path.clone(),
            Some(json!({"note": "v2", "fields": {"mx_Custom_1": "2"},
            "occurred_at": "2026-02-03T04:05:06.5Z", "owner_guid": seller.guid(),
            "status": "Inactive", "static_data": {"k": "v"}})),
        ),
        ("PUT", format!("{path}/tags"), Some(json!({"tags": []}))),
        (
            "PATCH",
            path.clone(),
            Some(json!({"pinned": true, "tags": ["x"]})),
        ),
    ];
    let mut first_pin = None;
    for (i, (method, p, body)) in steps.into_iter().enumerate() {
        let r = app.call(&admin, method, &p, body).await;
        let now = App::data(r, StatusCode::OK);
        let stamp = s(&now, "updated_at");
        assert!(stamp > last, "step {i} {method} {p}: {stamp} <= {last}");
        assert_eq!(s(&now, "created_at"), created);
        last = stamp;
        let h = app.history(&admin, &sl).await.expect("in SL");
        assert_eq!(h["updated_at"], now["updated_at"], "step {i}");
        assert_eq!(h["pinned_at"], now["pinned_at"], "step {i}");
        assert_eq!(h["tags"], now["tags"], "step {i}");
        match i {
            0 => first_pin = Some(now["pinned_at"].clone()),
            1 => assert_eq!(
                Some(now["pinned_at"].clone()),
                first_pin,
                "re-pin keeps the time"
            ),
            2 => assert_eq!(h["tags"], json!(["b", "a"])),
            3 => assert!(h["pinned_at"].is_null()),
            4 => {
                assert_eq!(now["note"], "v2");
                assert_eq!(
                    now["fields"],
                    json!({"mx_Custom_1": "2", "mx_Custom_2": "keep"})
                );
                assert_eq!(h["occurred_at"], "2026-02-03T04:05:06.500000Z");
                assert_eq!(h["user_guid"], json!(seller.guid()));
                assert_eq!(h["static_data"]["status"], "Inactive");
                assert_eq!(h["static_data"]["k"], "v");
                assert_eq!(h["static_data"]["note"], "v2");
            }
            5 => assert_eq!(h["tags"], json!([])),
            6 => {
                assert!(h["pinned_at"].is_string());
                assert_eq!(h["tags"], json!(["x"]));
            }
            _ => {}
        }
    }
    // A cursor client asking for changes after the creation sees the activity once, current.
    let after_creation = app
        .histories(
            &admin,
            &format!(
                "sort_by=updated_at&sort_direction=asc&updated_at[gt]={}",
                created
            ),
        )
        .await;
    assert_eq!(after_creation["data"].as_array().unwrap().len(), 1);
    assert_eq!(after_creation["data"][0]["updated_at"], json!(last));
    // LSQ sees the edited note and field.
    let r = app
        .lsq(
            &admin,
            &format!(
                "/v2/ProspectActivity.svc/GetActivityDetails?activityId={}",
                s(&a, "guid")
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert!(r.json.to_string().contains("v2"), "{}", r.json);

    // Invalid edits name the field and change nothing (updated_at stays).
    for (method, p, body, status, needle) in [
        (
            "PATCH",
            path.clone(),
            json!({"fields": {"mx_Custom_1": "abc"}}),
            422,
            "mx_Custom_1",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"fields": {"mx_Custom_7": "1"}}),
            422,
            "mx_Custom_7",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"status": "Won"}),
            422,
            "status",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"owner_guid": UNKNOWN}),
            422,
            "owner",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"occurred_at": "soon"}),
            422,
            "occurred_at",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"tags": ["ok", ""]}),
            422,
            "tags",
        ),
        ("PATCH", path.clone(), json!({"pinned": 1}), 400, "pinned"),
        (
            "PATCH",
            path.clone(),
            json!({"resource": {}}),
            400,
            "resource",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"static_data": {"fields": {}}}),
            422,
            "static_data.fields",
        ),
        (
            "PATCH",
            path.clone(),
            json!({"fields": {"Owner": UNKNOWN}}),
            422,
            "fields.Owner",
        ),
        (
            "PUT",
            format!("{path}/tags"),
            json!({"tags": "x"}),
            400,
            "tags",
        ),
        ("PUT", format!("{path}/tags"), json!({}), 400, "tags"),
    ] {
        let r = app.call(&admin, method, &p, Some(body.clone())).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.json);
        assert!(
            r.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{body}: {}",
            r.json
        );
    }
    let h = app.history(&admin, &sl).await.unwrap();
    assert_eq!(
        h["updated_at"],
        json!(last),
        "refused edits changed nothing"
    );

    // Unknown ids: 404 for every operation.
    for key in ["999999", UNKNOWN, "nonsense"] {
        let p = format!("/api/v1/activities/{key}");
        for (method, p, body) in [
            ("GET", p.clone(), None),
            ("PATCH", p.clone(), Some(json!({"note": "x"}))),
            ("DELETE", p.clone(), None),
            ("POST", format!("{p}/pin"), None),
            ("DELETE", format!("{p}/pin"), None),
            ("PUT", format!("{p}/tags"), Some(json!({"tags": []}))),
        ] {
            app.call(&admin, method, &p, body).await.assert_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "does not exist",
            );
        }
    }
}

#[tokio::test]
async fn deleted_activities_disappear_from_both_dialects() {
    let app = App::start().await;
    let admin = app.tenant("Del").await;
    let lead = app.lead(&admin, "Dee", "dee@example.com").await;
    let guid = s(&lead, "guid");
    let opp = app.opportunity(&admin, &guid, "deal").await;
    let rows = app
        .activities(
            &admin,
            vec![
                on_person(&guid, "call", "2026-01-01T00:00:00Z"),
                on_person(&guid, "note", "2026-01-02T00:00:00Z"),
                json!({"type": "meeting", "resource": {"type": "crm_opportunity", "id": opp["guid"]}}),
            ],
        )
        .await;
    let (call, note, meeting) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!(lsq_ids(&app, &admin, &guid).await.len(), 3);

    let r = app
        .delete(&admin, &format!("/api/v1/activities/{}", call["id"]))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    assert_eq!(r.json, Value::Null, "no body");
    // Gone: native GET, SL list and item, LSQ Retrieve and GetActivityDetails.
    let r = app
        .get(&admin, &format!("/api/v1/activities/{}", call["id"]))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(app
        .history(&admin, &format!("call-{}", call["id"]))
        .await
        .is_none());
    let sl_ids = app.history_ids(&admin).await;
    assert!(
        !sl_ids.contains(&format!("call-{}", call["id"])),
        "{sl_ids:?}"
    );
    assert!(sl_ids.contains(&format!("note-{}", note["id"])));
    let lsq = lsq_ids(&app, &admin, &guid).await;
    assert_eq!(lsq.len(), 2);
    assert!(!lsq.contains(&s(call, "guid")));
    let r = app
        .lsq(
            &admin,
            &format!(
                "/v2/ProspectActivity.svc/GetActivityDetails?activityId={}",
                s(call, "guid")
            ),
            None,
        )
        .await;
    assert_eq!(r.json["Status"], "Error", "{}", r.json);

    // An opportunity with activities on it cannot go first (409); after them, it can.
    let opp_path = format!("/api/v1/activities/{}", s(&opp, "guid"));
    let r = app.delete(&admin, &opp_path).await;
    r.assert_error(StatusCode::CONFLICT, "conflict", "delete them first");
    let r = app
        .delete(
            &admin,
            &format!("/api/v1/activities/{}", s(meeting, "guid")),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .lsq(
            &admin,
            &format!(
                "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId={}",
                s(&opp, "guid")
            ),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.json["List"], json!([]), "{}", r.json);
    let r = app.delete(&admin, &opp_path).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    assert_eq!(
        app.get(&admin, "/api/v1/opportunities").await.json["total"],
        0
    );
    let r = app.delete(&admin, &opp_path).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_deleted_lead_is_a_failed_dynamic_resource() {
    let app = App::start().await;
    let admin = app.tenant("Gone").await;
    let lead = app.lead(&admin, "Gus", "gus@example.com").await;
    let keep = app.lead(&admin, "Kit", "kit@example.com").await;
    let guid = s(&lead, "guid");
    let a = app
        .activity(&admin, on_person(&guid, "call", "2026-01-01T00:00:00Z"))
        .await;
    let k = app
        .activity(
            &admin,
            on_person(&s(&keep, "guid"), "call", "2026-01-01T00:00:00Z"),
        )
        .await;
    let before = app
        .history(&admin, &format!("call-{}", a["id"]))
        .await
        .unwrap();
    assert_eq!(before["failed_dynamic_resources"], json!([]));

    let r = app.delete(&admin, &format!("/api/v1/leads/{guid}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);

    let h = app
        .history(&admin, &format!("call-{}", a["id"]))
        .await
        .unwrap();
    assert_eq!(h["failed_dynamic_resources"], json!(["person"]), "{h}");
    assert_eq!(h["resource_type"], "person");
    assert_eq!(h["resource_id"], lead["id"]);
    assert!(
        s(&h, "updated_at") > s(&before, "updated_at"),
        "the change reaches cursor clients: {h}"
    );
    let other = app
        .history(&admin, &format!("call-{}", k["id"]))
        .await
        .unwrap();
    assert_eq!(other["failed_dynamic_resources"], json!([]));
    assert_eq!(
        other["updated_at"], k["updated_at"],
        "other leads' activities untouched"
    );
    // Also in the list, and the native record still reads.
    let list = app.all_histories(&admin).await;
    let row = list.iter().find(|r| r["id"] == h["id"]).expect("listed");
    assert_eq!(row["failed_dynamic_resources"], json!(["person"]));
    // No new activities on a deleted lead.
    let r = app
        .post(
            &admin,
            "/api/v1/activities",
            json!({"activities": [on_person(&guid, "note", "2026-01-02T00:00:00Z")]}),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "person",
    );
}

#[tokio::test]
async fn a_sales_user_sees_and_changes_only_activities_on_its_leads() {
    let app = App::start().await;
    let admin = app.tenant("Vis").await;
    let mgr = app.user(&admin, "m@vis.example", Role::SalesManager).await;
    let sam = app.user(&admin, "sam@vis.example", Role::SalesUser).await;
    let pat = app.user(&admin, "pat@vis.example", Role::SalesUser).await;
    let sams = app.lead(&sam, "Sams", "sams@example.com").await;
    let pats = app.lead(&pat, "Pats", "pats@example.com").await;
    let account = app.account(&admin, "Shared Co").await;

    let mine = app
        .activity(
            &sam,
            on_person(&s(&sams, "guid"), "call", "2026-01-01T00:00:00Z"),
        )
        .await;
    // Owned by Pat but logged on Sam's lead: Sam sees it (visibility follows the lead).
    let on_sams_by_pat = app
        .activity(
            &admin,
            json!({"type": "sent_email", "owner_guid": pat.guid(),
                   "resource": {"type": "person", "id": sams["guid"]}}),
        )
        .await;
    let theirs = app
        .activity(
            &pat,
            on_person(&s(&pats, "guid"), "note", "2026-01-01T00:00:00Z"),
        )
        .await;
    let on_account = app
        .activity(
            &mgr,
            json!({"type": "meeting", "resource": {"type": "account", "id": account["guid"]}}),
        )
        .await;

    let sam_ids = app.history_ids(&sam).await;
    let mut want = vec![s(&mine, "salesloft_id"), s(&on_sams_by_pat, "salesloft_id")];
    want.sort();
    assert_eq!(sam_ids, want);
    assert_eq!(
        app.history_ids(&pat).await,
        vec![s(&theirs, "salesloft_id")]
    );
    assert_eq!(app.history_ids(&mgr).await.len(), 4);

    for hidden in [&theirs, &on_account] {
        let p = format!("/api/v1/activities/{}", hidden["id"]);
        for (method, path, body) in [
            ("GET", p.clone(), None),
            ("PATCH", p.clone(), Some(json!({"note": "mine now"}))),
            ("POST", format!("{p}/pin"), None),
            ("PUT", format!("{p}/tags"), Some(json!({"tags": ["x"]}))),
            ("DELETE", p.clone(), None),
        ] {
            app.call(&sam, method, &path, body).await.assert_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "does not exist",
            );
        }
    }
    // Untouched by Sam's attempts.
    let h = app
        .history(&admin, &s(&theirs, "salesloft_id"))
        .await
        .unwrap();
    assert_eq!(h["updated_at"], theirs["updated_at"]);
    assert!(h["pinned_at"].is_null());

    // Sam edits and deletes on its own lead.
    let r = app
        .call(
            &sam,
            "POST",
            &format!("/api/v1/activities/{}/pin", mine["id"]),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = app
        .delete(
            &sam,
            &format!("/api/v1/activities/{}", on_sams_by_pat["id"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    assert_eq!(app.history_ids(&sam).await, vec![s(&mine, "salesloft_id")]);
}

#[tokio::test]
async fn updated_at_is_unique_and_increasing_across_writes() {
    let app = App::start().await;
    let admin = app.tenant("Clock").await;
    let lead = app.lead(&admin, "Cy", "cy@example.com").await;
    let guid = s(&lead, "guid");
    // Concurrent batches and edits: every updated_at distinct.
    let mut tasks = Vec::new();
    let app = std::sync::Arc::new(app);
    for i in 0..8 {
        let app = app.clone();
        let admin = admin.clone();
        let guid = guid.clone();
        tasks.push(tokio::spawn(async move {
            let rows: Vec<Value> = (0..5)
                .map(|_| on_person(&guid, "call", "2026-01-01T00:00:00Z"))
                .collect();
            let made = app.activities(&admin, rows).await;
            let id = made[0]["id"].clone();
            let r = app
                .call(
                    &admin,
                    "PUT",
                    &format!("/api/v1/activities/{id}/tags"),
                    Some(json!({"tags": [format!("t{i}")]})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = app.all_histories(&admin).await;
    assert_eq!(all.len(), 40);
    let mut stamps: Vec<String> = all.iter().map(|h| s(h, "updated_at")).collect();
    stamps.sort();
    stamps.dedup();
    assert_eq!(stamps.len(), 40, "updated_at unique per tenant");
}
