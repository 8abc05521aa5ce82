//! Change history and the trash over real HTTP: a change record per edit through each API with
//! its before/after, actor and API; none for a failed edit; delete → restore → purge of
//! activities and leads; Sales_User visibility and other tenants' 404s; LeadSquared's
//! `RetrieveActivityChange` in its documented shape.

use activity_hub::domain::Role;

use crate::harness::*;

/// The activity's change records, oldest first.
async fn changes(app: &App, who: &Who, id: &str) -> Vec<Value> {
    let r = app
        .get(who, &format!("/api/v1/activities/{id}/history"))
        .await;
    App::data(r, StatusCode::OK)
        .as_array()
        .expect("array")
        .clone()
}

/// A type with two custom fields, a lead and an activity on it; (lead, activity, code).
async fn setup(app: &App, admin: &Who, email: &str) -> (Value, Value, i64) {
    let lead = app.lead(admin, "Hi", email).await;
    let r = app
        .post(
            admin,
            "/api/v1/activity_types",
            json!({"name": format!("Tracked {email}"), "score": 7, "fields": [
                {"schema_name": "mx_Custom_1", "data_type": "Number"},
                {"schema_name": "mx_Custom_2", "data_type": "String"}]}),
        )
        .await;
    let code = App::data(r, StatusCode::CREATED)["event_code"]
        .as_i64()
        .unwrap();
    let a = app
        .activity(
            admin,
            json!({"event_code": code, "resource": {"type": "person", "id": s(&lead, "guid")},
                   "fields": {"mx_Custom_1": 1, "mx_Custom_2": "keep"}, "note": "v1"}),
        )
        .await;
    (lead, a, code)
}

#[tokio::test]
async fn every_api_records_who_changed_what() {
    let app = App::start().await;
    let admin = app.tenant("Hist").await;
    let (_, a, code) = setup(&app, &admin, "h@hist.example").await;
    let id = a["id"].as_i64().unwrap().to_string();
    let guid = s(&a, "guid");
    assert!(
        changes(&app, &admin, &id).await.is_empty(),
        "a creation is no change"
    );

    // Native PATCH: only the changed values, before and after.
    let r = app
        .patch(
            &admin,
            &format!("/api/v1/activities/{id}"),
            json!({"note": "v2", "fields": {"mx_Custom_1": "2"}}),
        )
        .await;
    App::data(r, StatusCode::OK);
    // A failed edit (a number field given text) writes no history.
    let r = app
        .patch(
            &admin,
            &format!("/api/v1/activities/{id}"),
            json!({"note": "never", "fields": {"mx_Custom_1": "not a number"}}),
        )
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.json);
    // Pin through the native API, the note through LeadSquared's Update.
    App::data(
        app.call(
            &admin,
            "POST",
            &format!("/api/v1/activities/{id}/pin"),
            None,
        )
        .await,
        StatusCode::OK,
    );
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/CustomActivity/Update",
            Some(json!({"ProspectActivityId": guid, "ActivityEvent": code,
                        "ActivityNote": "v3"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    let h = changes(&app, &admin, &id).await;
    assert_eq!(h.len(), 3, "{h:#?}");
    assert_eq!(h[0]["api"], "native");
    assert_eq!(h[0]["action"], "updated");
    assert_eq!(h[0]["user_guid"], json!(admin.guid()));
    assert_eq!(
        h[0]["before"],
        json!({"note": "v1", "fields": {"mx_Custom_1": "1"}})
    );
    assert_eq!(
        h[0]["after"],
        json!({"note": "v2", "fields": {"mx_Custom_1": "2"}})
    );
    assert_eq!(h[1]["before"], json!({"pinned": false}));
    assert_eq!(h[1]["after"], json!({"pinned": true}));
    assert_eq!(h[2]["api"], "leadsquared");
    assert_eq!(h[2]["before"], json!({"note": "v2"}));
    assert_eq!(h[2]["after"], json!({"note": "v3"}));
    assert!(s(&h[0], "changed_at") < s(&h[1], "changed_at"));
    // Paging by the change id.
    let r = app
        .get(
            &admin,
            &format!("/api/v1/activities/{guid}/history?limit=2"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(data_len(&r), 2);
    let next = r.json["next_after"].as_i64().expect("a next page");
    let r = app
        .get(
            &admin,
            &format!("/api/v1/activities/{guid}/history?limit=2&after={next}"),
        )
        .await;
    assert_eq!(r.json["data"][0]["id"], h[2]["id"]);
    assert_eq!(r.json["next_after"], Value::Null);

    // Salesloft: a note edited with PUT /v2/notes/{id}.
    let lead = app.lead(&admin, "Sl", "sl@hist.example").await;
    let note = app
        .activity(
            &admin,
            json!({"type": "note", "resource": {"type": "person", "id": s(&lead, "guid")},
                   "note": "first"}),
        )
        .await;
    let nid = note["id"].as_i64().unwrap();
    let r = app
        .call(
            &admin,
            "PUT",
            &format!("/v2/notes/{nid}"),
            Some(json!({"content": "second"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let h = changes(&app, &admin, &nid.to_string()).await;
    assert_eq!(h.len(), 1, "{h:#?}");
    assert_eq!(h[0]["api"], "salesloft");
    assert_eq!(h[0]["before"]["note"], "first");
    assert_eq!(h[0]["after"]["note"], "second");

    // LeadSquared's RetrieveActivityChange: the tenant's changes in the window, counted.
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/RetrieveActivityChange",
            Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00",
                        "ToDate": "2999-12-31 23:59:59", "ActivityID": guid},
                        "Paging": {"PageIndex": 1, "PageSize": 2}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["RecordCount"], 3, "{}", r.json);
    let rows = r.json["Activities"].as_array().expect("Activities");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["Activity"]["ProspectActivityId"], json!(guid));
    assert_eq!(
        rows[0]["Activity"]["ActivityEvent"],
        json!(code.to_string())
    );
    assert_eq!(rows[0]["Source"], "native");
    assert_eq!(
        rows[0]["OldValues"],
        json!({"ActivityEvent_Note": "v1", "mx_Custom_1": "1"})
    );
    assert_eq!(
        rows[0]["NewValues"],
        json!({"ActivityEvent_Note": "v2", "mx_Custom_1": "2"})
    );
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/RetrieveActivityChange",
            Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00",
                        "ToDate": "2999-12-31 23:59:59", "ActivityEvents": [code]}})),
        )
        .await;
    assert_eq!(r.json["RecordCount"], 3, "{}", r.json);
    // Bad input: the envelope, naming the parameter.
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/RetrieveActivityChange",
            Some(json!({"Parameter": {"ToDate": "2999-12-31 23:59:59"}})),
        )
        .await;
    assert_eq!(r.json["Status"], "Error", "{}", r.json);
    assert!(
        r.json["ExceptionMessage"]
            .as_str()
            .unwrap_or("")
            .contains("FromDate"),
        "{}",
        r.json
    );
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/RetrieveActivityChange",
            Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00",
                        "ToDate": "2999-12-31 23:59:59", "ActivityEvents": [code],
                        "ActivityID": guid}})),
        )
        .await;
    assert_eq!(r.json["Status"], "Error", "{}", r.json);
}

#[tokio::test]
async fn delete_restore_and_purge() {
    let app = App::start().await;
    let admin = app.tenant("Trash").await;
    let (lead, a, _) = setup(&app, &admin, "t@trash.example").await;
    let id = a["id"].as_i64().unwrap().to_string();
    let lead_path = format!("/api/v1/leads/{}", s(&lead, "guid"));
    let score = |r: Resp| App::data(r, StatusCode::OK)["score"].as_i64().unwrap();
    assert_eq!(score(app.get(&admin, &lead_path).await), 7);

    // Restoring a live activity: 404.
    let r = app
        .post(
            &admin,
            &format!("/api/v1/activities/{id}/restore"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);

    let r = app
        .delete(&admin, &format!("/api/v1/activities/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get(&admin, &format!("/api/v1/activities/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(app.history(&admin, &format!("note-{id}")).await.is_none());
    assert_eq!(score(app.get(&admin, &lead_path).await), 0);
    // The history of a deleted activity stays readable, ending with its deletion.
    let h = changes(&app, &admin, &id).await;
    assert_eq!(h.last().unwrap()["action"], "deleted");
    assert_eq!(h.last().unwrap()["before"]["note"], "v1");
    assert_eq!(h.last().unwrap()["after"], Value::Null);

    // Restore: the same id, guid and values, its score back, a fresh updated_at.
    let r = app
        .post(
            &admin,
            &format!("/api/v1/activities/{id}/restore"),
            json!({}),
        )
        .await;
    let back = App::data(r, StatusCode::OK);
    assert_eq!(back["id"], a["id"]);
    assert_eq!(back["guid"], a["guid"]);
    assert_eq!(back["note"], "v1");
    assert_eq!(back["fields"], a["fields"]);
    assert!(s(&back, "updated_at") > s(&a, "updated_at"));
    assert_eq!(score(app.get(&admin, &lead_path).await), 7);
    let h = changes(&app, &admin, &id).await;
    assert_eq!(h.last().unwrap()["action"], "restored");

    // Deleted again and purged: gone for good.
    let r = app
        .delete(&admin, &format!("/api/v1/activities/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let far = activity_hub::domain::time::now_micros() + 400 * 86_400_000_000;
    assert!(app.service.purge_expired(far).await.unwrap() >= 1);
    let r = app
        .post(
            &admin,
            &format!("/api/v1/activities/{id}/restore"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);

    // A lead: deleted, restored; deleted again and purged with its activities.
    let b = app
        .activity(
            &admin,
            json!({"type": "call", "resource": {"type": "person", "id": s(&lead, "guid")}}),
        )
        .await;
    assert_eq!(
        app.delete(&admin, &lead_path).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&admin, &lead_path).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post(&admin, &format!("{lead_path}/restore"), json!({}))
        .await;
    assert_eq!(App::data(r, StatusCode::OK)["guid"], lead["guid"]);
    assert_eq!(app.get(&admin, &lead_path).await.status, StatusCode::OK);
    let r = app
        .post(&admin, &format!("{lead_path}/restore"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a live lead: {}", r.json);
    assert_eq!(
        app.delete(&admin, &lead_path).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(app.service.purge_expired(far).await.unwrap() >= 2);
    let r = app
        .post(&admin, &format!("{lead_path}/restore"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
    let r = app
        .get(&admin, &format!("/api/v1/activities/{}", b["id"]))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "purged with its lead");
}

#[tokio::test]
async fn sales_users_and_other_tenants_see_no_history_and_restore_nothing() {
    let app = App::start().await;
    let admin = app.tenant("Vis").await;
    let seller = app.user(&admin, "s@vis.example", Role::SalesUser).await;
    let other = app.tenant("Other").await;
    let (lead, a, _) = setup(&app, &admin, "v@vis.example").await;
    let id = a["id"].as_i64().unwrap().to_string();
    App::data(
        app.patch(
            &admin,
            &format!("/api/v1/activities/{id}"),
            json!({"note": "v2"}),
        )
        .await,
        StatusCode::OK,
    );
    for who in [&seller, &other] {
        let r = app
            .get(who, &format!("/api/v1/activities/{id}/history"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
        let r = app
            .lsq(
                who,
                "/v2/ProspectActivity.svc/RetrieveActivityChange",
                Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00",
                            "ToDate": "2999-12-31 23:59:59"}})),
            )
            .await;
        assert_eq!(r.json["RecordCount"], 0, "{}", r.json);
    }
    assert_eq!(
        app.delete(&admin, &format!("/api/v1/activities/{id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    for who in [&seller, &other] {
        let r = app
            .post(who, &format!("/api/v1/activities/{id}/restore"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
        let r = app
            .get(who, &format!("/api/v1/activities/{id}/history"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
    }
    let lead_path = format!("/api/v1/leads/{}", s(&lead, "guid"));
    assert_eq!(
        app.delete(&admin, &lead_path).await.status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .post(&other, &format!("{lead_path}/restore"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
    let r = app
        .post(&seller, &format!("{lead_path}/restore"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    // Nothing of that changed the trash: the owner still restores both.
    let r = app
        .post(&admin, &format!("{lead_path}/restore"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = app
        .post(
            &admin,
            &format!("/api/v1/activities/{id}/restore"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    // A seller's own lead: its activity's history is the seller's to read.
    let own = app
        .post(
            &seller,
            "/api/v1/leads",
            json!({"first_name": "Mine", "email": "mine@vis.example"}),
        )
        .await;
    let own = App::data(own, StatusCode::CREATED);
    let mine = app
        .activity(
            &seller,
            json!({"type": "call", "resource": {"type": "person", "id": s(&own, "guid")}}),
        )
        .await;
    let mid = mine["id"].as_i64().unwrap();
    App::data(
        app.call(
            &seller,
            "POST",
            &format!("/api/v1/activities/{mid}/pin"),
            None,
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(changes(&app, &seller, &mid.to_string()).await.len(), 1);
}
