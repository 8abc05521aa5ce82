//! The mapping table of salesloft.md: activities written through the LeadSquared dialect (and the
//! native API) as `/v2/activity_histories` shows them, field by field.

use crate::harness::*;

/// `Lead.Create` through the LSQ dialect; returns the lead's GUID.
async fn lsq_lead(app: &App, who: &Who, first: &str, last: &str, email: &str) -> String {
    let r = app
        .lsq(
            who,
            "/v2/LeadManagement.svc/Lead.Create",
            Some(json!([
                {"Attribute": "FirstName", "Value": first},
                {"Attribute": "LastName", "Value": last},
                {"Attribute": "EmailAddress", "Value": email}
            ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["Message"]["Id"]
        .as_str()
        .expect("lead id")
        .to_string()
}

/// The lead's integer id (what Salesloft calls the person id), read through the native API.
async fn lead_int_id(app: &App, who: &Who, guid: &str) -> i64 {
    let r = app.get(who, &format!("/api/v1/leads/{guid}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["data"]["id"].as_i64().expect("lead int id")
}

/// `CreateType` through the LSQ dialect; returns the new event code.
async fn lsq_type(app: &App, who: &Who, body: Value) -> i64 {
    let r = app
        .lsq(who, "/v2/ProspectActivity.svc/CreateType", Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["Message"]["Id"].as_i64().expect("type code")
}

/// `ProspectActivity.svc/Create`; returns the activity's GUID.
async fn lsq_activity(app: &App, who: &Who, body: Value) -> String {
    let r = app
        .lsq(who, "/v2/ProspectActivity.svc/Create", Some(body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["Status"], "Success", "{}", r.json);
    r.json["Message"]["Id"]
        .as_str()
        .expect("activity id")
        .to_string()
}

/// The `salesloft_id` (`type-n`) of an activity, read through the native API by GUID.
async fn sl_id(app: &App, who: &Who, guid: &str) -> String {
    let r = app.get(who, &format!("/api/v1/activities/{guid}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["data"]["salesloft_id"]
        .as_str()
        .expect("salesloft_id")
        .to_string()
}

/// `GET /v2/activity_histories/{id}` asserting 200; returns `data`.
async fn one(app: &App, who: &Who, id: &str) -> Value {
    let r = app.get(who, &format!("/v2/activity_histories/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{id}: {}", r.json);
    r.json["data"].clone()
}

fn is_sl_timestamp(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    s.len() == 27
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[26] == b'Z'
        && s[20..26].bytes().all(|c| c.is_ascii_digit())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lsq_written_activities_map_to_activity_histories() {
    let app = App::start(false).await;
    let admin = app.tenant("Mapco").await;
    let lead = lsq_lead(&app, &admin, "Ada", "Lovelace", "ada@example.com").await;
    let lead_id = lead_int_id(&app, &admin, &lead).await;

    // A system type (101 = call) with a note.
    let call = lsq_activity(
        &app,
        &admin,
        json!({"RelatedProspectId": lead, "ActivityEvent": 101, "ActivityNote": "Intro call",
               "ActivityDateTime": "2015-10-11 12:13:44"}),
    )
    .await;
    // A custom type without SalesloftType (→ note) and one that names its Salesloft type.
    let visit = lsq_type(
        &app,
        &admin,
        json!({"ActivityEventName": "Customer Site Visit", "Score": 10,
               "Fields": [{"SchemaName": "mx_Custom_1", "DisplayName": "Rating", "DataType": "Number",
                           "IsMandatory": true, "Sequence": 1, "OptionSet": ""}]}),
    )
    .await;
    let demo = lsq_type(
        &app,
        &admin,
        json!({"ActivityEventName": "Product Demo", "SalesloftType": "meeting"}),
    )
    .await;
    let custom = lsq_activity(
        &app,
        &admin,
        json!({"RelatedProspectId": lead, "ActivityEvent": visit, "ActivityNote": "On site",
               "ActivityDateTime": "2016-01-02 03:04:05",
               "Fields": [{"SchemaName": "mx_Custom_1", "Value": "3"}]}),
    )
    .await;
    let demo_act = lsq_activity(
        &app,
        &admin,
        json!({"RelatedProspectId": lead, "ActivityEvent": demo, "ActivityDateTime": "2016-02-02 00:00:00"}),
    )
    .await;

    // The call.
    let id = sl_id(&app, &admin, &call).await;
    assert!(id.starts_with("call-"), "{id}");
    let h = one(&app, &admin, &id).await;
    assert_eq!(h["id"], json!(id));
    assert_eq!(h["type"], "call");
    assert_eq!(h["occurred_at"], "2015-10-11T12:13:44.000000Z");
    for k in ["created_at", "updated_at", "occurred_at"] {
        assert!(is_sl_timestamp(&h[k]), "{k}: {}", h[k]);
    }
    assert_eq!(h["pinned_at"], Value::Null);
    assert_eq!(h["resource_type"], "person");
    assert_eq!(h["resource_id"], json!(lead_id), "persons have integer ids");
    assert!(h["resource_id"].is_i64());
    assert_eq!(h["user_guid"], json!(admin.user.guid.to_string()));
    assert_eq!(h["tags"], json!([]));
    assert_eq!(h["static_data"]["activity_event"], json!(101));
    assert_eq!(h["static_data"]["note"], "Intro call");
    assert_eq!(h["static_data"]["status"], "Active");
    assert_eq!(h["static_data"]["fields"], json!({}));
    assert!(h["static_data"]["activity_event_name"].is_string(), "{h}");
    let person = &h["dynamic_data"]["person"];
    assert_eq!(person["id"], json!(lead_id));
    assert_eq!(person["guid"], json!(lead));
    assert_eq!(person["first_name"], "Ada");
    assert_eq!(person["last_name"], "Lovelace");
    assert_eq!(person["email_address"], "ada@example.com");
    assert_eq!(
        h["dynamic_data"]["user"]["guid"],
        json!(admin.user.guid.to_string())
    );
    assert_eq!(h["failed_dynamic_resources"], json!([]));

    // The custom type without SalesloftType is a note; its fields are static data.
    let id = sl_id(&app, &admin, &custom).await;
    assert!(id.starts_with("note-"), "{id}");
    let h = one(&app, &admin, &id).await;
    assert_eq!(h["type"], "note");
    assert_eq!(h["static_data"]["activity_event"], json!(visit));
    assert_eq!(
        h["static_data"]["activity_event_name"],
        "Customer Site Visit"
    );
    assert_eq!(h["static_data"]["fields"], json!({"mx_Custom_1": "3"}));
    assert_eq!(h["static_data"]["note"], "On site");
    // The one with SalesloftType meeting is a meeting.
    let demo_id = sl_id(&app, &admin, &demo_act).await;
    assert!(demo_id.starts_with("meeting-"), "{demo_id}");
    assert_eq!(one(&app, &admin, &demo_id).await["type"], "meeting");

    // Listing agrees with the single record, and `type` filters by the mapped type.
    let body = app
        .histories(
            &admin,
            &format!("resource_type=person&resource_id={lead_id}"),
        )
        .await;
    assert_eq!(body["data"].as_array().map(Vec::len), Some(3), "{body}");
    assert_eq!(body["data"][0], one(&app, &admin, &demo_id).await);
    assert_eq!(app.ids(&admin, "type=note").await, vec![id.clone()]);

    // Changing the custom type's SalesloftType re-types its activities and moves updated_at
    // forward (cursor clients must see the change).
    let before = one(&app, &admin, &id).await;
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/CustomActivityType/Update",
            Some(json!({"ActivityEvent": visit, "SalesloftType": "site_visit"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let number = id.trim_start_matches("note-");
    let after = one(&app, &admin, &format!("site_visit-{number}")).await;
    assert_eq!(after["type"], "site_visit");
    assert!(
        after["updated_at"].as_str() > before["updated_at"].as_str(),
        "{before} → {after}"
    );
    let r = app
        .get(&admin, &format!("/v2/activity_histories/{id}"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "the old type prefix no longer names it"
    );
    let cursor = app
        .ids(
            &admin,
            &format!(
                "sort_by=updated_at&sort_direction=asc&updated_at[gt]={}",
                enc(before["updated_at"].as_str().unwrap())
            ),
        )
        .await;
    assert!(
        cursor.contains(&format!("site_visit-{number}")),
        "{cursor:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opportunities_accounts_and_deleted_leads() {
    let app = App::start(false).await;
    let admin = app.tenant("Oppco").await;
    // An opportunity captured through the LSQ dialect, and an activity logged on it in bulk.
    let r = app
        .lsq(
            &admin,
            "/v2/OpportunityManagement.svc/Capture",
            Some(json!({
                "LeadDetails": [
                    {"Attribute": "EmailAddress", "Value": "manish@example.com"},
                    {"Attribute": "FirstName", "Value": "Manish"},
                    {"Attribute": "SearchBy", "Value": "EmailAddress"}
                ],
                "Opportunity": {
                    "OpportunityEventCode": 12000,
                    "OpportunityNote": "Big renewal",
                    "OpportunityDateTime": "2020-10-16 05:57:37",
                    "Fields": [{"SchemaName": "Status", "Value": "Open"}]
                }
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let opp = r.json["Message"]["Id"]
        .as_str()
        .expect("opp id")
        .to_string();
    let lead = r.json["Message"]["RelatedId"]
        .as_str()
        .expect("lead id")
        .to_string();
    let r = app
        .lsq(
            &admin,
            &format!(
                "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId?opportunityId={opp}"
            ),
            Some(json!([{"ActivityEvent": 102, "ActivityNote": "Meeting completed",
                         "ActivityOwnerEmail": admin.user.email,
                         "ActivityDateTime": "2020-10-17 00:00:00"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let meeting = r.json["Response"][0]["ProspectActivityId"]
        .as_str()
        .expect("bulk row id")
        .to_string();

    let id = sl_id(&app, &admin, &meeting).await;
    assert!(id.starts_with("meeting-"), "{id}");
    let h = one(&app, &admin, &id).await;
    // The mapping table's keys, in its order (the row is written by hand, not by serde).
    let keys: Vec<&str> = h.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "id",
            "type",
            "occurred_at",
            "created_at",
            "updated_at",
            "pinned_at",
            "resource_type",
            "resource_id",
            "user_guid",
            "tags",
            "static_data",
            "dynamic_data",
            "failed_dynamic_resources"
        ],
        "{h}"
    );
    let dynamic: Vec<&str> = h["dynamic_data"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(dynamic, ["person", "crm_opportunity", "user"], "{h}");
    assert_eq!(h["resource_type"], "crm_opportunity");
    assert_eq!(
        h["resource_id"],
        json!(opp),
        "opportunity ids are GUID strings"
    );
    assert_eq!(h["dynamic_data"]["crm_opportunity"]["id"], json!(opp));
    assert_eq!(h["dynamic_data"]["crm_opportunity"]["name"], "Big renewal");
    assert_eq!(h["dynamic_data"]["crm_opportunity"]["status"], "Open");
    // An opportunity without a note is named by its type.
    let unnamed = app.opportunity(&admin, &lead, "").await["guid"]
        .as_str()
        .expect("opportunity guid")
        .to_string();
    let r = app
        .lsq(
            &admin,
            &format!(
                "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId?opportunityId={unnamed}"
            ),
            Some(json!([{"ActivityEvent": 101, "ActivityNote": "Called",
                         "ActivityOwnerEmail": admin.user.email}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let call = r.json["Response"][0]["ProspectActivityId"]
        .as_str()
        .expect("bulk row id")
        .to_string();
    let h2 = one(&app, &admin, &sl_id(&app, &admin, &call).await).await;
    assert_eq!(h2["dynamic_data"]["crm_opportunity"]["id"], json!(unnamed));
    assert_eq!(h2["dynamic_data"]["crm_opportunity"]["name"], "Opportunity");
    assert_eq!(h["dynamic_data"]["person"]["guid"], json!(lead));
    assert_eq!(h["occurred_at"], "2020-10-17T00:00:00.000000Z");
    // The resource filter takes the opportunity's GUID string.
    let listed = app
        .ids(
            &admin,
            &format!("resource_type=crm_opportunity&resource_id={opp}&type=meeting"),
        )
        .await;
    assert_eq!(listed, vec![id.clone()]);
    // An integer never names an opportunity.
    assert!(app
        .ids(&admin, "resource_type=crm_opportunity&resource_id=1")
        .await
        .is_empty());

    // An account activity (native API): integer account id, no person.
    let account = app.account(&admin, "Globex").await;
    let acc_guid = account["guid"].as_str().unwrap();
    let made = app
        .activities(
            &admin,
            vec![
                json!({"type": "call", "resource": {"type": "account", "id": acc_guid},
                        "occurred_at": "2021-01-01T00:00:00Z", "tags": ["renewal"], "pinned": true,
                        "static_data": {"call_id": 7}}),
            ],
        )
        .await;
    let acc_id = made[0]["salesloft_id"].as_str().unwrap().to_string();
    let h = one(&app, &admin, &acc_id).await;
    assert_eq!(h["resource_type"], "account");
    assert_eq!(h["resource_id"], account["id"]);
    assert!(h["resource_id"].is_i64());
    assert_eq!(h["dynamic_data"]["account"]["name"], "Globex");
    assert!(h["dynamic_data"].get("person").is_none(), "{h}");
    assert_eq!(h["tags"], json!(["renewal"]));
    assert!(is_sl_timestamp(&h["pinned_at"]), "{h}");
    assert_eq!(
        h["static_data"]["call_id"],
        json!(7),
        "native static_data kept"
    );
    assert_eq!(h["static_data"]["activity_event"], json!(101));

    // A deleted lead: its activities stay, the person becomes a failed dynamic resource.
    let r = app
        .call(&admin, "DELETE", &format!("/api/v1/leads/{lead}"), None)
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.json);
    let h = one(&app, &admin, &id).await;
    assert_eq!(h["failed_dynamic_resources"], json!(["person"]));
    assert!(h["dynamic_data"].get("person").is_none(), "{h}");

    // A deleted activity disappears.
    let r = app
        .call(
            &admin,
            "DELETE",
            &format!("/api/v1/activities/{meeting}"),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.json);
    let r = app
        .get(&admin, &format!("/v2/activity_histories/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json, json!({"error": "Not Found"}));
    assert!(!app.ids(&admin, "per_page=100").await.contains(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_record_ids_and_me() {
    let app = App::start(false).await;
    let admin = app.tenant("Oneco").await;
    let lead = app.lead(&admin, "Lena", "lena@example.com").await;
    let made = app
        .activities(
            &admin,
            vec![on_person(
                lead["guid"].as_str().unwrap(),
                "sent_email",
                "2022-02-02T02:02:02.123456Z",
            )],
        )
        .await;
    let sl = made[0]["salesloft_id"].as_str().unwrap().to_string();
    let n = made[0]["id"].as_i64().unwrap();
    let h = one(&app, &admin, &sl).await;
    assert_eq!(h["occurred_at"], "2022-02-02T02:02:02.123456Z");
    // A bare number names it too; a wrong type prefix, garbage or an unknown number do not.
    assert_eq!(one(&app, &admin, &n.to_string()).await, h);
    for bad in [
        format!("call-{n}"),
        "bogus".to_string(),
        "sent_email-abc".to_string(),
        format!("{}", n + 1000),
        "0".to_string(),
    ] {
        let r = app
            .get(&admin, &format!("/v2/activity_histories/{bad}"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}: {}", r.json);
        assert_eq!(r.json, json!({"error": "Not Found"}), "{bad}");
        assert!(r.header("x-ratelimit-remaining-minute").is_some());
    }

    // /v2/me: the token's user.
    let r = app.get(&admin, "/v2/me").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["data"]["guid"], json!(admin.user.guid.to_string()));
    assert_eq!(r.json["data"]["email"], json!(admin.user.email));
    assert!(r.json["data"]["name"].is_string(), "{}", r.json);
    let r = app
        .get_raw("/v2/me", Some(&format!("bearer {}", admin.bearer())))
        .await;
    assert_eq!(r.status, StatusCode::OK, "the scheme is case-insensitive");

    // Only GET.
    let r = app
        .call(&admin, "POST", "/v2/activity_histories", None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.json["error"].is_string(), "{}", r.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failures_are_401_in_salesloft_shape() {
    let app = App::start(true).await;
    let admin = app.tenant("Authco").await;
    let fake = format!("Bearer ak_{}", "0".repeat(64));
    for path in [
        "/v2/activity_histories",
        "/v2/activity_histories/call-1",
        "/v2/me",
    ] {
        let r = app.get_raw(path, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            r.json,
            json!({"error": "No Bearer Token attached to request"}),
            "{path}"
        );
        for auth in ["Bearer ", "Basic dXNlcjpwYXNz", "Token abc"] {
            let r = app.get_raw(path, Some(auth)).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path} {auth}");
            assert_eq!(
                r.json,
                json!({"error": "No Bearer Token attached to request"}),
                "{path} {auth}"
            );
        }
        for auth in [fake.as_str(), "Bearer not-a-key", "Bearer ak_short"] {
            let r = app.get_raw(path, Some(auth)).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path} {auth}");
            assert_eq!(r.json, json!({"error": "Invalid Bearer Token"}), "{path}");
            // Even a refusal tells the client how to pace itself; nothing was spent.
            assert_eq!(
                r.header("x-ratelimit-remaining-minute").as_deref(),
                Some("600")
            );
            assert_eq!(r.header("x-ratelimit-endpoint-cost").as_deref(), Some("1"));
        }
    }
    // The LSQ keys of the same user are not Bearer keys.
    let r = app
        .get_raw("/v2/me", Some(&format!("Bearer {}", admin.keys.secret_key)))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The failures spent nothing of the tenant's budget.
    let r = app.get(&admin, "/v2/me").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("x-ratelimit-remaining-minute").as_deref(),
        Some("599")
    );
}
