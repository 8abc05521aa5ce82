//! Users, leads, accounts, activity types and opportunities through the native API: happy paths,
//! per-field validation (nothing stored), roles (403), tenant isolation (404), and types and
//! opportunities shared with the LeadSquared dialect.

use activity_hub::domain::Role;

use crate::harness::*;

const UNKNOWN: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

fn len(r: &Resp) -> usize {
    r.json["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data array: {}", r.json))
        .len()
}

#[tokio::test]
async fn users_create_list_and_roles() {
    let app = App::start().await;
    let admin = app.tenant("Users").await;
    let seller = app
        .user(&admin, "seller@users.example", Role::SalesUser)
        .await;

    let r = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "mgr@users.example", "first_name": "Meg", "last_name": "Ryan",
                   "role": "Sales_Manager"}),
        )
        .await;
    let mgr = App::data(r, StatusCode::CREATED);
    assert_eq!(mgr["role"], "Sales_Manager");
    assert_eq!(mgr["email"], "mgr@users.example");
    assert_eq!(mgr["active"], true);
    let key = s(&mgr, "api_key");
    assert!(key.starts_with("ak_") && key.len() == 67, "{key}");
    assert!(s(&mgr, "access_key").starts_with("u$r"));
    assert_eq!(s(&mgr, "secret_key").len(), 64);

    // The new key works, and its user sees the same tenant's users (without keys).
    let auth = format!("Bearer {key}");
    let r = app.raw("GET", "/api/v1/users", Some(&auth), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(len(&r), 3);
    let emails: Vec<&str> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&"seller@users.example"), "{emails:?}");
    assert!(
        r.json["data"][0]["api_key"].is_null(),
        "keys are shown once"
    );

    // Default role is Sales_User.
    let r = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "plain@users.example"}),
        )
        .await;
    assert_eq!(App::data(r, StatusCode::CREATED)["role"], "Sales_User");

    // Validation, each naming the field; nothing stored.
    for (body, status, code, needle) in [
        (
            json!({"email": "not-an-email"}),
            422,
            "validation_failed",
            "email",
        ),
        (
            json!({"email": "y@users.example", "last_name": "z".repeat(256)}),
            422,
            "validation_failed",
            "last_name",
        ),
        (
            json!({"email": "x@users.example", "role": "King"}),
            422,
            "validation_failed",
            "role",
        ),
        (
            json!({"first_name": "NoEmail"}),
            400,
            "invalid_request",
            "email",
        ),
        (json!({"email": 5}), 400, "invalid_request", "email"),
        (
            json!({"email": "mgr@users.example"}),
            409,
            "conflict",
            "mgr@users.example",
        ),
    ] {
        let r = app.post(&admin, "/api/v1/users", body.clone()).await;
        r.assert_error(StatusCode::from_u16(status).unwrap(), code, needle);
    }
    // A Sales_User and a Sales_Manager may not create users.
    let r = app
        .post(
            &seller,
            "/api/v1/users",
            json!({"email": "sneaky@users.example"}),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Administrator");
    let r = app
        .raw(
            "POST",
            "/api/v1/users",
            Some(&auth),
            Some(
                json!({"email": "sneaky2@users.example"})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Administrator");
    let r = app.get(&admin, "/api/v1/users").await;
    assert_eq!(len(&r), 4, "only the two valid creations were stored");
}

#[tokio::test]
async fn leads_create_get_list_delete() {
    let app = App::start().await;
    let admin = app.tenant("Leads").await;
    let seller = app.user(&admin, "s@leads.example", Role::SalesUser).await;
    let other_seller = app.user(&admin, "o@leads.example", Role::SalesUser).await;

    let r = app
        .post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
                   "phone": "+44 20 7946 0000", "attributes": {"mx_City": "London"},
                   "owner_guid": seller.guid(), "do_not_email": true}),
        )
        .await;
    let ada = App::data(r, StatusCode::CREATED);
    assert_eq!(ada["first_name"], "Ada");
    assert_eq!(ada["owner_guid"], json!(seller.guid()));
    assert_eq!(ada["attributes"]["mx_City"], "London");
    assert_eq!(ada["do_not_call"], false);
    assert_eq!(ada["do_not_email"], true);
    // The same lead through LeadSquared's Leads.GetById.
    let r = app
        .lsq(
            &admin,
            &format!(
                "/v2/LeadManagement.svc/Leads.GetById?id={}",
                s(&ada, "guid")
            ),
            None,
        )
        .await;
    let row = &r.json[0];
    assert_eq!(row["EmailAddress"], "ada@example.com", "{}", r.json);
    assert_eq!(row["mx_City"], "London");
    assert_eq!(row["DoNotEmail"], "1");
    assert_eq!(row["OwnerId"], json!(seller.guid()));
    assert!(ada["id"].is_i64());
    let ada_guid = s(&ada, "guid");

    // The seller's own lead; a Sales_User always owns what it creates.
    let r = app
        .post(
            &seller,
            "/api/v1/leads",
            json!({"first_name": "Bob", "owner_guid": other_seller.guid()}),
        )
        .await;
    let bob = App::data(r, StatusCode::CREATED);
    assert_eq!(bob["owner_guid"], json!(seller.guid()));
    let carol = app.lead(&admin, "Carol", "carol@example.com").await;

    let r = app.get(&admin, &format!("/api/v1/leads/{ada_guid}")).await;
    assert_eq!(App::data(r, StatusCode::OK)["email"], "ada@example.com");

    // Lists: the admin sees all three, the seller its two, the other seller none.
    assert_eq!(len(&app.get(&admin, "/api/v1/leads").await), 3);
    assert_eq!(len(&app.get(&seller, "/api/v1/leads").await), 2);
    assert_eq!(len(&app.get(&other_seller, "/api/v1/leads").await), 0);
    let r = app
        .get(&other_seller, &format!("/api/v1/leads/{ada_guid}"))
        .await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", "does not exist");

    // Paging by id cursor.
    let p1 = app.get(&admin, "/api/v1/leads?limit=2").await;
    assert_eq!(len(&p1), 2);
    let next = p1.json["next_after"].as_i64().expect("next_after");
    let p2 = app
        .get(&admin, &format!("/api/v1/leads?limit=2&after={next}"))
        .await;
    assert_eq!(len(&p2), 1);
    assert!(p2.json["next_after"].is_null());
    assert_eq!(p2.json["data"][0]["guid"], carol["guid"]);
    for q in ["limit=0", "limit=1001", "limit=x", "after=x"] {
        let r = app.get(&admin, &format!("/api/v1/leads?{q}")).await;
        let field = q.split('=').next().unwrap();
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", field);
    }

    // Validation per field; nothing stored.
    for (body, status, needle) in [
        (json!({"email": "nope"}), 422, "email"),
        (json!({"mobile": "123456"}), 422, "first_name"),
        (
            json!({"first_name": "X", "owner_guid": UNKNOWN}),
            422,
            "owner_guid",
        ),
        (
            json!({"first_name": "X", "owner_guid": "zzz"}),
            422,
            "owner_guid",
        ),
        (
            json!({"first_name": "X", "attributes": {"mx_A": 1}}),
            400,
            "attributes.mx_A",
        ),
        (
            json!({"first_name": "X", "attributes": {"OwnerId": "someone"}}),
            422,
            "attributes.OwnerId",
        ),
        (
            json!({"first_name": "X", "attributes": {"mx_Long": "y".repeat(4001)}}),
            422,
            "attributes.mx_Long",
        ),
        (json!({"first_name": "x".repeat(256)}), 422, "first_name"),
        (
            json!({"first_name": "X", "phone": "1".repeat(51)}),
            422,
            "phone",
        ),
        (
            json!({"first_name": "X", "do_not_call": "yes"}),
            400,
            "do_not_call",
        ),
        (
            json!({"first_name": "Dup", "email": "ADA@example.com"}),
            409,
            "email",
        ),
    ] {
        let r = app.post(&admin, "/api/v1/leads", body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.json);
        let msg = r.json["error"]["message"].as_str().unwrap().to_lowercase();
        assert!(
            msg.contains(&needle.to_lowercase())
                || msg.contains(&needle.replace('_', "").to_lowercase()),
            "{body}: message should name {needle}: {msg}"
        );
    }
    assert_eq!(len(&app.get(&admin, "/api/v1/leads").await), 3);

    // Delete: a Sales_User may not; unknown/invisible → 404; deleted → gone from lists and GET.
    let r = app
        .delete(&seller, &format!("/api/v1/leads/{ada_guid}"))
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Sales_User");
    let r = app
        .delete(&admin, &format!("/api/v1/leads/{UNKNOWN}"))
        .await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", "does not exist");
    let r = app.delete(&admin, "/api/v1/leads/not-a-guid").await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", "does not exist");
    let r = app
        .delete(&admin, &format!("/api/v1/leads/{ada_guid}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
    let r = app.get(&admin, &format!("/api/v1/leads/{ada_guid}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .delete(&admin, &format!("/api/v1/leads/{ada_guid}"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a second delete finds nothing"
    );
    assert_eq!(len(&app.get(&admin, "/api/v1/leads").await), 2);
    assert_eq!(len(&app.get(&seller, "/api/v1/leads").await), 1);
    // LSQ no longer finds it either.
    let r = app
        .lsq(
            &admin,
            &format!("/v2/LeadManagement.svc/Leads.GetById?id={ada_guid}"),
            None,
        )
        .await;
    assert_eq!(r.json, json!([]), "{}", r.json);
}

#[tokio::test]
async fn accounts_create_and_list() {
    let app = App::start().await;
    let admin = app.tenant("Acc").await;
    let mgr = app.user(&admin, "m@acc.example", Role::SalesManager).await;
    let seller = app.user(&admin, "s@acc.example", Role::SalesUser).await;

    let r = app
        .post(
            &mgr,
            "/api/v1/accounts",
            json!({"name": " Acme Corp ", "domain": "acme.example", "owner_guid": seller.guid()}),
        )
        .await;
    let acme = App::data(r, StatusCode::CREATED);
    assert_eq!(acme["name"], "Acme Corp");
    assert_eq!(acme["domain"], "acme.example");
    assert_eq!(acme["owner_guid"], json!(seller.guid()));
    let globex = app.account(&admin, "Globex").await;
    assert!(globex["id"].as_i64() > acme["id"].as_i64());

    for (body, status, needle) in [
        (json!({"name": ""}), 422, "name"),
        (json!({"name": "x".repeat(256)}), 422, "name"),
        (
            json!({"name": "Y", "owner_guid": UNKNOWN}),
            422,
            "owner_guid",
        ),
        (
            json!({"name": "Z", "domain": "d".repeat(256)}),
            422,
            "domain",
        ),
        (json!({"domain": "no-name.example"}), 400, "name"),
        (json!({"name": "acme corp"}), 409, "acme corp"),
    ] {
        let r = app.post(&admin, "/api/v1/accounts", body.clone()).await;
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
    let r = app
        .post(&seller, "/api/v1/accounts", json!({"name": "Mine"}))
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden", "Sales_User");

    // Everyone lists the tenant's accounts (a Sales_User needs them to read account activity
    // names); paging by id.
    let r = app.get(&seller, "/api/v1/accounts").await;
    assert_eq!(len(&r), 2);
    let r = app.get(&admin, "/api/v1/accounts?limit=1").await;
    assert_eq!(len(&r), 1);
    let after = r.json["next_after"].as_i64().unwrap();
    let r = app
        .get(&admin, &format!("/api/v1/accounts?limit=1&after={after}"))
        .await;
    assert_eq!(r.json["data"][0]["guid"], globex["guid"]);
}

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

#[tokio::test]
async fn tenants_are_isolated() {
    let app = App::start().await;
    let a = app.tenant("Alpha").await;
    let b = app.tenant("Beta").await;
    let lead = app.lead(&a, "Al", "al@alpha.example").await;
    let account = app.account(&a, "Alpha Inc").await;
    let opp = app.opportunity(&a, &s(&lead, "guid"), "Alpha deal").await;
    let act = app
        .activity(
            &a,
            on_person(&s(&lead, "guid"), "call", "2026-01-01T00:00:00Z"),
        )
        .await;
    let r = app
        .post(&a, "/api/v1/activity_types", json!({"name": "Alpha Only"}))
        .await;
    let alpha_code = App::data(r, StatusCode::CREATED)["event_code"].clone();

    // Beta sees none of Alpha's records, by list or by id.
    for path in ["/api/v1/leads", "/api/v1/accounts"] {
        assert_eq!(len(&app.get(&b, path).await), 0, "{path}");
    }
    assert_eq!(app.get(&b, "/api/v1/opportunities").await.json["total"], 0);
    let users = app.get(&b, "/api/v1/users").await;
    assert_eq!(len(&users), 1);
    let types = App::data(app.get(&b, "/api/v1/activity_types").await, StatusCode::OK);
    assert!(!types
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "Alpha Only"));
    let act_id = act["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/leads/{}", s(&lead, "guid")),
        format!("/api/v1/activities/{act_id}"),
        format!("/api/v1/activities/{}", s(&act, "guid")),
        format!("/api/v1/activities/{}", s(&opp, "guid")),
    ] {
        app.get(&b, &path)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", "does not exist");
        app.delete(&b, &path).await.assert_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "does not exist",
        );
    }
    for (method, path, body) in [
        (
            "PATCH",
            format!("/api/v1/activities/{act_id}"),
            Some(json!({"note": "x"})),
        ),
        ("POST", format!("/api/v1/activities/{act_id}/pin"), None),
        ("DELETE", format!("/api/v1/activities/{act_id}/pin"), None),
        (
            "PUT",
            format!("/api/v1/activities/{act_id}/tags"),
            Some(json!({"tags": ["x"]})),
        ),
    ] {
        app.call(&b, method, &path, body).await.assert_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "does not exist",
        );
    }
    // Beta cannot log on Alpha's lead, account, opportunity, nor use Alpha's type or owner.
    let lead_b = app.lead(&b, "Bo", "bo@beta.example").await;
    for (row, needle) in [
        (
            json!({"type": "call", "resource": {"type": "person", "id": lead["guid"]}}),
            "person",
        ),
        (
            json!({"type": "call", "resource": {"type": "account", "id": account["guid"]}}),
            "account",
        ),
        (
            json!({"type": "call", "resource": {"type": "crm_opportunity", "id": opp["guid"]}}),
            "crm_opportunity",
        ),
        (
            json!({"event_code": alpha_code, "resource": {"type": "person", "id": lead_b["guid"]}}),
            "event_code",
        ),
        (
            json!({"type": "call", "owner_guid": a.guid(),
                "resource": {"type": "person", "id": lead_b["guid"]}}),
            "owner",
        ),
    ] {
        let r = app
            .post(&b, "/api/v1/activities", json!({"activities": [row]}))
            .await;
        r.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            needle,
        );
    }
    let r = app
        .post(
            &b,
            "/api/v1/opportunities",
            json!({"lead_guid": lead["guid"]}),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "lead_guid",
    );
    assert!(app.all_histories(&b).await.is_empty());
    // Alpha's records are untouched.
    let r = app.get(&a, &format!("/api/v1/activities/{act_id}")).await;
    assert_eq!(
        App::data(r, StatusCode::OK)["updated_at"],
        act["updated_at"]
    );
}
