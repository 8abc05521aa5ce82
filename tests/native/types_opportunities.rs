//! Activity types and opportunities through the native API, shared with the LeadSquared dialect:
//! happy paths, per-field validation (nothing stored) and roles.

use activity_hub::domain::Role;

use crate::harness::*;

#[tokio::test]
async fn activity_types_shared_with_the_lsq_dialect() {
    let app = App::start().await;
    let admin = app.tenant("Types").await;
    let seller = app.user(&admin, "s@types.example", Role::SalesUser).await;
    let lead = app.lead(&admin, "Tina", "tina@example.com").await;

    let starter = app.get(&admin, "/api/v1/activity_types").await;
    let starter = App::data(starter, StatusCode::OK);
    let call = starter
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["event_code"] == 101)
        .expect("system type 101");
    assert_eq!(call["salesloft_type"], "call");
    assert_eq!(call["kind"], "system");

    // A native custom type with a Salesloft type and fields …
    let r = app
        .post(
            &admin,
            "/api/v1/activity_types",
            json!({"name": "Demo Call", "salesloft_type": "call", "score": 7, "direction": 1,
                   "fields": [
                     {"schema_name": "mx_Custom_1", "data_type": "Number", "is_mandatory": true},
                     {"schema_name": "mx_Custom_2", "data_type": "Dropdown",
                      "options": ["Good", "Bad"], "display_name": "Outcome"}]}),
        )
        .await;
    let demo = App::data(r, StatusCode::CREATED);
    let code = demo["event_code"].as_i64().unwrap();
    assert!((201..12000).contains(&code), "{demo}");
    assert_eq!(demo["kind"], "custom");
    assert_eq!(demo["fields"][1]["display_name"], "Outcome");

    // … is listed by LSQ ActivityTypes.Get with its SalesloftType …
    let r = app
        .lsq(&admin, "/v2/ProspectActivity.svc/ActivityTypes.Get", None)
        .await;
    let row = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["ActivityEvent"] == code)
        .unwrap_or_else(|| panic!("native type in ActivityTypes.Get: {}", r.json))
        .clone();
    assert_eq!(row["SalesloftType"], "call");
    assert_eq!(row["Score"], 7);
    assert_eq!(row["EventType"], 2);

    // … usable through LSQ Create (mandatory field enforced there too) …
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/Create",
            Some(json!({"RelatedProspectId": lead["guid"], "ActivityEvent": code,
                        "ActivityNote": "lsq", "Fields": [{"SchemaName": "mx_Custom_2", "Value": "Good"}]})),
        )
        .await;
    assert_eq!(
        r.json["Status"], "Error",
        "mandatory mx_Custom_1: {}",
        r.json
    );
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/Create",
            Some(json!({"RelatedProspectId": lead["guid"], "ActivityEvent": code,
                        "ActivityNote": "lsq", "Fields": [{"SchemaName": "mx_Custom_1", "Value": "3"}]})),
        )
        .await;
    assert_eq!(r.json["Status"], "Success", "{}", r.json);
    // … and it shows up in Salesloft as a `call`.
    let h = app.histories(&admin, "type=call").await;
    assert_eq!(h["data"].as_array().unwrap().len(), 1, "{h}");
    assert_eq!(h["data"][0]["static_data"]["activity_event"], code);

    // A type made through LSQ CreateType is listed and usable natively.
    let r = app
        .lsq(
            &admin,
            "/v2/ProspectActivity.svc/CreateType",
            Some(
                json!({"ActivityEventName": "Site Visit", "Score": 2, "Direction": 0,
                        "SalesloftType": "meeting",
                        "Fields": [{"SchemaName": "mx_Custom_1", "DataType": "String"}]}),
            ),
        )
        .await;
    assert_eq!(r.json["Status"], "Success", "{}", r.json);
    let visit = r.json["Message"]["Id"].as_i64().unwrap();
    let types = App::data(
        app.get(&seller, "/api/v1/activity_types").await,
        StatusCode::OK,
    );
    let t = types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["event_code"] == visit)
        .expect("LSQ type listed natively");
    assert_eq!(t["salesloft_type"], "meeting");
    assert_eq!(t["fields"][0]["schema_name"], "mx_Custom_1");
    let a = app
        .activity(
            &admin,
            json!({"event_code": visit, "resource": {"type": "person", "id": lead["guid"]},
                   "fields": {"mx_Custom_1": "north gate"}}),
        )
        .await;
    assert_eq!(a["type"], "meeting");
    assert_eq!(a["fields"]["mx_Custom_1"], "north gate");

    // Validation per field (422 names it) and roles; nothing stored.
    let n_types = types.as_array().unwrap().len();
    for (body, status, needle) in [
        (json!({"name": ""}), 422, "name"),
        (
            json!({"name": "X", "salesloft_type": "fax"}),
            422,
            "salesloft_type",
        ),
        (json!({"name": "X", "kind": "system"}), 422, "kind"),
        (json!({"name": "X", "direction": 2}), 422, "direction"),
        (json!({"name": "X", "event_code": 150}), 422, "event_code"),
        (
            json!({"name": "X", "kind": "opportunity", "event_code": 300}),
            422,
            "event_code",
        ),
        (
            json!({"name": "X", "fields": [{"schema_name": "mx_Other", "data_type": "String"}]}),
            422,
            "fields[0].schema_name",
        ),
        (
            json!({"name": "X", "fields": [{"schema_name": "mx_Custom_1", "data_type": "Blob"}]}),
            422,
            "fields[0].data_type",
        ),
        (
            json!({"name": "X", "fields": [{"schema_name": "mx_Custom_1", "data_type": "Dropdown"}]}),
            422,
            "options",
        ),
        (
            json!({"name": "X", "fields": [{"schema_name": "mx_Custom_1"}]}),
            400,
            "data_type",
        ),
        (
            json!({"name": "X", "score": 1_000_000_001_i64}),
            422,
            "'score' must be between -1000000000 and 1000000000",
        ),
        (json!({"name": "demo call"}), 409, "demo call"),
        (
            json!({"name": "Y", "event_code": code}),
            409,
            &code.to_string(),
        ),
    ] {
        let r = app
            .post(&admin, "/api/v1/activity_types", body.clone())
            .await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.json);
        let msg = r.json["error"]["message"].as_str().unwrap().to_lowercase();
        assert!(
            msg.contains(&needle.to_lowercase()),
            "{body}: should name {needle}: {msg}"
        );
    }
    let r = app
        .post(&seller, "/api/v1/activity_types", json!({"name": "Mine"}))
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Sales_User");
    let after = App::data(
        app.get(&admin, "/api/v1/activity_types").await,
        StatusCode::OK,
    );
    assert_eq!(after.as_array().unwrap().len(), n_types);
}

#[tokio::test]
async fn opportunity_types_and_opportunities_work_with_lsq() {
    let app = App::start().await;
    let admin = app.tenant("Opps").await;
    let seller = app.user(&admin, "s@opps.example", Role::SalesUser).await;

    let r = app
        .post(
            &admin,
            "/api/v1/activity_types",
            json!({"name": "Renewal", "kind": "opportunity",
                   "fields": [{"schema_name": "mx_Custom_1", "data_type": "Number"}]}),
        )
        .await;
    let renewal = App::data(r, StatusCode::CREATED);
    let code = renewal["event_code"].as_i64().unwrap();
    assert!(code >= 12000, "{renewal}");
    assert_eq!(renewal["kind"], "opportunity");
    assert_eq!(renewal["salesloft_type"], "opportunity_stage_change");
    // Not an activity type for LSQ's list.
    let r = app
        .lsq(&admin, "/v2/ProspectActivity.svc/ActivityTypes.Get", None)
        .await;
    assert!(
        !r.json
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["ActivityEvent"] == code),
        "{}",
        r.json
    );

    // LSQ Capture with the native opportunity type.
    let r = app
        .lsq(
            &admin,
            "/v2/OpportunityManagement.svc/Capture",
            Some(json!({
                "LeadDetails": [{"Attribute": "EmailAddress", "Value": "cap@example.com"},
                                {"Attribute": "FirstName", "Value": "Cap"}],
                "Opportunity": {"OpportunityEventCode": code, "OpportunityNote": "Renew 2027",
                                "Fields": [{"SchemaName": "mx_Custom_1", "Value": "5000"}]}})),
        )
        .await;
    assert_eq!(r.json["Status"], "Success", "{}", r.json);
    let captured = s(&r.json["Message"], "Id");
    let lead_guid = s(&r.json["Message"], "RelatedId");

    // Native opportunity on the same lead, same type; activities on both; LSQ lists them.
    let r = app
        .post(
            &admin,
            "/api/v1/opportunities",
            json!({"lead_guid": lead_guid, "event_code": code, "note": "Upsell",
                   "status": "Won", "fields": {"mx_Custom_1": 1200},
                   "occurred_at": "2026-01-02T03:04:05Z"}),
        )
        .await;
    let upsell = App::data(r, StatusCode::CREATED);
    assert_eq!(upsell["status"], "Won");
    assert_eq!(upsell["event_code"], code);
    assert_eq!(upsell["fields"]["mx_Custom_1"], "1200");
    assert_eq!(upsell["occurred_at"], "2026-01-02T03:04:05.000000Z");
    let upsell_guid = s(&upsell, "guid");
    let on_opp = app
        .activity(
            &admin,
            json!({"type": "call", "note": "pricing call",
                   "resource": {"type": "crm_opportunity", "id": upsell_guid}}),
        )
        .await;
    assert_eq!(
        on_opp["resource"],
        json!({"type": "crm_opportunity", "id": upsell_guid})
    );
    let r = app
        .lsq(
            &admin,
            &format!(
                "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId={upsell_guid}"
            ),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let list = r.json["List"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.json));
    assert_eq!(list.len(), 1, "{}", r.json);
    assert_eq!(list[0]["ProspectActivityId"], on_opp["guid"]);
    assert_eq!(list[0]["O_Status"], "Won");
    let r = app
        .lsq(
            &admin,
            &format!(
                "/v2/OpportunityManagement.svc/GetOpportunityDetails?OpportunityId={captured}"
            ),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    // Native list: both opportunities, newest first; by lead; the seller sees none.
    let r = app
        .get(
            &admin,
            &format!("/api/v1/opportunities?lead_guid={lead_guid}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["total"], 2, "{}", r.json);
    let guids: Vec<&str> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["guid"].as_str().unwrap())
        .collect();
    assert!(guids.contains(&captured.as_str()) && guids.contains(&upsell_guid.as_str()));
    let r = app.get(&seller, "/api/v1/opportunities").await;
    assert_eq!(r.json["total"], 0, "{}", r.json);
    let r = app
        .get(
            &seller,
            &format!("/api/v1/opportunities?lead_guid={lead_guid}"),
        )
        .await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", "does not exist");

    // Validation; nothing stored.
    for (body, status, needle) in [
        (json!({"lead_guid": UNKNOWN}), 422, "lead_guid"),
        (
            json!({"lead_guid": lead_guid, "event_code": 101}),
            422,
            "event_code",
        ),
        (
            json!({"lead_guid": lead_guid, "event_code": 99999}),
            422,
            "event_code",
        ),
        (
            json!({"lead_guid": lead_guid, "status": "Active"}),
            422,
            "status",
        ),
        (
            json!({"lead_guid": lead_guid, "occurred_at": "yesterday"}),
            422,
            "occurred_at",
        ),
        (
            json!({"lead_guid": lead_guid, "owner_guid": UNKNOWN}),
            422,
            "owner",
        ),
        (
            json!({"lead_guid": lead_guid, "fields": {"mx_Custom_9": "1"}}),
            422,
            "mx_Custom_9",
        ),
        (
            json!({"lead_guid": lead_guid, "fields": {"mx_Custom_1": "many"}}),
            422,
            "mx_Custom_1",
        ),
        (json!({"note": "no lead"}), 400, "lead_guid"),
    ] {
        let r = app
            .post(&admin, "/api/v1/opportunities", body.clone())
            .await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.json);
        let msg = r.json["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{body}: should name {needle}: {msg}");
    }
    let r = app.get(&admin, "/api/v1/opportunities").await;
    assert_eq!(r.json["total"], 2, "{}", r.json);
    for q in ["offset=-1", "limit=0", "lead_guid=zzz"] {
        let r = app.get(&admin, &format!("/api/v1/opportunities?{q}")).await;
        assert!(r.status.is_client_error(), "{q}: {}", r.json);
    }
}
