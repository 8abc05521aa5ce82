//! Posting activities (`Create`), reading them back (`Retrieve`, `GetActivityDetails`) and
//! editing them (`CustomActivity/Update`).

use crate::harness::*;
use std::time::Duration;

const CREATE: &str = "/v2/ProspectActivity.svc/Create";

#[tokio::test]
async fn the_documented_create_is_stored_and_the_documented_retrieve_returns_it_in_its_shape() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(&admin, "Seed Activity", 5, documented_create_type_fields())
        .await;
    assert_eq!(code, 201, "the first custom type of a tenant gets code 201");

    let (s, b) = srv
        .lsq_post(CREATE, &admin, documented_create_body(&lead, code))
        .await;
    assert_success("Create (the documented request)", s, &b);
    let id = b["Message"]["Id"].as_str().expect("Message.Id").to_string();
    assert!(is_guid(&id), "{b}");
    assert!(
        b["Message"].get("LeadScore").is_none(),
        "LeadScore only with IncludeLeadScore: {b}"
    );

    // Another activity of a system type, which the documented Retrieve filter must leave out.
    srv.post_activity(
        &admin,
        json!({"RelatedProspectId": lead, "ActivityEvent": 105, "ActivityNote": "a note"}),
    )
    .await;

    let r = srv
        .retrieve(&admin, &lead, documented_retrieve_body())
        .await;
    assert_eq!(r["RecordCount"], 1, "{r}");
    let rows = r["ProspectActivities"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{r}");
    let row = &rows[0];
    // The documented Retrieve response's keys, in its order (the page is written by hand, not by
    // serde).
    let keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "Id",
            "EventCode",
            "EventName",
            "ActivityScore",
            "CreatedOn",
            "ActivityType",
            "IsEmailType",
            "Type",
            "SessionId",
            "TrackLocation",
            "Latitude",
            "Longitude",
            "RelatedProspectId",
            "Data",
            "ActivityFields",
            "ModifiedOn"
        ],
        "{row}"
    );
    assert!(same_id(row["Id"].as_str().unwrap(), &id), "{row}");
    assert_eq!(
        row["EventCode"],
        json!(201),
        "EventCode must be a number: {row}"
    );
    assert_eq!(row["EventName"], "Seed Activity", "{row}");
    assert_eq!(row["ActivityScore"], json!(5), "{row}");
    assert_eq!(
        row["CreatedOn"], "2015-10-11 12:13:44",
        "CreatedOn = ActivityDateTime: {row}"
    );
    assert_eq!(
        row["ActivityType"],
        json!(2),
        "custom types are ActivityType 2: {row}"
    );
    assert_eq!(row["IsEmailType"], json!(false), "{row}");
    assert_eq!(row["Type"], "Inbound", "Direction 0 → Inbound: {row}");
    assert!(row["SessionId"].is_string(), "{row}");
    for k in ["TrackLocation", "Latitude", "Longitude"] {
        assert!(row[k].is_number(), "{k} must be a number: {row}");
    }
    assert!(
        same_id(row["RelatedProspectId"].as_str().unwrap(), &lead),
        "{row}"
    );
    assert!(
        is_lsq_datetime(row["ModifiedOn"].as_str().unwrap_or("")),
        "ModifiedOn format: {row}"
    );

    let created_by = data_value(row, "CreatedByName").expect("Data.CreatedByName");
    assert!(!created_by.trim().is_empty(), "{row}");
    assert_eq!(
        data_value(row, "EventName").as_deref(),
        Some("Seed Activity"),
        "{row}"
    );
    assert_eq!(
        data_value(row, "NotableEventDescription").as_deref(),
        Some("Your Activity Note"),
        "{row}"
    );
    assert_eq!(
        data_value(row, "HasAttachments").as_deref(),
        Some("False"),
        "{row}"
    );

    let af = row["ActivityFields"]
        .as_object()
        .expect("ActivityFields object");
    for (k, v) in documented_create_values() {
        assert_eq!(af.get(k), Some(&json!(v)), "ActivityFields.{k}: {row}");
    }
    for k in ["mx_Custom_10", "mx_Custom_11", "mx_Custom_12"] {
        assert!(af.get(k).is_none(), "empty {k} must not be returned: {row}");
    }
    assert_eq!(af.get("Status"), Some(&json!("Active")), "{row}");
    assert!(
        same_id(af["Owner"].as_str().unwrap_or(""), &admin.user_id),
        "Owner defaults to the caller: {row}"
    );

    // Without a filter both activities come back.
    let all = srv.retrieve(&admin, &lead, json!({})).await;
    assert_eq!(all["RecordCount"], 2, "{all}");
    let codes: Vec<i64> = all["ProspectActivities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["EventCode"].as_i64().unwrap())
        .collect();
    assert!(codes.contains(&105) && codes.contains(&201), "{all}");
}

#[tokio::test]
async fn rows_show_outbound_direction_creator_name_and_default_date_now() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let mgr = db.user(&admin, "fiona@acme.test", "Fiona", "Lopez", "Sales_Manager");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type_body(
            &admin,
            json!({"ActivityEventName": "Outbound Call", "Score": 3, "Direction": 1}),
        )
        .await;

    let before = utc_now();
    let id = srv
        .post_activity(
            &mgr,
            json!({"RelatedProspectId": lead, "ActivityEvent": code, "ActivityNote": "hello"}),
        )
        .await;
    std::thread::sleep(Duration::from_millis(1100));
    let after = utc_now();

    let row = srv.activity_row(&admin, &lead, &id).await;
    assert_eq!(row["Type"], "Outbound", "Direction 1 → Outbound: {row}");
    assert_eq!(row["ActivityScore"], json!(3), "{row}");
    assert_eq!(
        data_value(&row, "CreatedByName").as_deref(),
        Some("Fiona Lopez"),
        "CreatedByName = first + last name of the poster: {row}"
    );
    assert_eq!(
        data_value(&row, "NotableEventDescription").as_deref(),
        Some("hello")
    );
    assert!(
        same_id(
            row["ActivityFields"]["Owner"].as_str().unwrap_or(""),
            &mgr.user_id
        ),
        "Owner defaults to the poster: {row}"
    );
    let created = row["CreatedOn"].as_str().expect("CreatedOn");
    assert!(is_lsq_datetime(created), "{row}");
    assert!(
        before.as_str() <= created && created <= after.as_str(),
        "CreatedOn without ActivityDateTime must be now (UTC): {created} not in [{before}, {after}]"
    );
}

#[tokio::test]
async fn include_lead_score_reports_the_sum_of_type_scores_posted_on_the_lead() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let other = srv.create_lead(&admin, "other@acme.test").await;
    let plus = srv.create_type(&admin, "Plus Ten", 10, json!([])).await;
    let minus = srv.create_type(&admin, "Minus Three", -3, json!([])).await;
    assert_eq!(
        srv.lead_score(&admin, &lead).await,
        0,
        "a new lead scores 0"
    );

    let mut expected = 0;
    for (code, delta) in [
        (plus, 10),
        (minus, -3),
        (plus, 10),
        (minus, -3),
        (minus, -3),
    ] {
        expected += delta;
        let (s, b) = srv
            .lsq_post(
                CREATE,
                &admin,
                json!({"RelatedProspectId": lead, "ActivityEvent": code, "IncludeLeadScore": true}),
            )
            .await;
        assert_success("Create", s, &b);
        assert_eq!(
            b["Message"]["LeadScore"],
            json!(expected),
            "LeadScore must be an integer equal to the running sum: {b}"
        );
    }
    // Without IncludeLeadScore the score still moves, but is not reported.
    let (s, b) = srv
        .lsq_post(
            CREATE,
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": plus}),
        )
        .await;
    assert_success("Create", s, &b);
    assert!(b["Message"].get("LeadScore").is_none(), "{b}");
    expected += 10;

    assert_eq!(srv.lead_score(&admin, &lead).await, expected);
    assert_eq!(
        srv.lead_score(&admin, &other).await,
        0,
        "other leads are not scored"
    );
}

#[tokio::test]
async fn retrieve_filters_on_activity_event() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let a = srv.create_type(&admin, "Type A", 1, json!([])).await;
    let b = srv.create_type(&admin, "Type B", 2, json!([])).await;
    for code in [a, b, a, b, b] {
        srv.post_simple(&admin, &lead, code, None).await;
    }
    let ra = srv
        .retrieve(&admin, &lead, json!({"Parameter": {"ActivityEvent": a}}))
        .await;
    assert_eq!(ra["RecordCount"], 2, "{ra}");
    let rows = ra["ProspectActivities"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["EventCode"] == json!(a)), "{ra}");

    let rb = srv
        .retrieve(&admin, &lead, json!({"Parameter": {"ActivityEvent": b}}))
        .await;
    assert_eq!(rb["RecordCount"], 3, "{rb}");
    assert!(rb["ProspectActivities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["EventCode"] == json!(b)));

    assert_eq!(srv.record_count(&admin, &lead).await, 5);
}

#[tokio::test]
async fn retrieve_filters_on_from_and_to_date_inclusively() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv.create_type(&admin, "Dated", 0, json!([])).await;
    let dates = [
        "2020-01-01 00:00:00",
        "2020-02-01 12:00:00",
        "2020-03-01 00:00:00",
        "2020-04-01 00:00:00",
    ];
    let mut ids = Vec::new();
    for d in dates {
        ids.push(
            srv.post_simple(&admin, &lead, code, Some(d))
                .await
                .to_lowercase(),
        );
    }

    let r = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Parameter": {"FromDate": "2020-02-01 12:00:00", "ToDate": "2020-03-01 00:00:00"}}),
        )
        .await;
    assert_eq!(r["RecordCount"], 2, "bounds are inclusive: {r}");
    let mut got = row_ids(&r);
    got.sort();
    let mut want = vec![ids[1].clone(), ids[2].clone()];
    want.sort();
    assert_eq!(got, want, "{r}");

    let r = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Parameter": {"FromDate": "2020-02-15 00:00:00"}}),
        )
        .await;
    assert_eq!(r["RecordCount"], 2, "FromDate alone: {r}");

    let r = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Parameter": {"ToDate": "2020-01-31 23:59:59"}}),
        )
        .await;
    assert_eq!(r["RecordCount"], 1, "ToDate alone: {r}");
    assert_eq!(row_ids(&r), vec![ids[0].clone()]);

    let r = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Parameter": {"ActivityEvent": code, "FromDate": "2021-01-01 00:00:00"}}),
        )
        .await;
    assert_eq!(r["RecordCount"], 0, "{r}");
    assert_eq!(r["ProspectActivities"], json!([]), "{r}");

    let (s, b) = srv
        .lsq_post(
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
            &admin,
            json!({"Parameter": {"FromDate": "yesterday"}}),
        )
        .await;
    let t = assert_any_envelope("Retrieve with a bad FromDate", s, &b);
    assert!(
        b["ExceptionMessage"].as_str().unwrap().contains("FromDate"),
        "the message names FromDate ({t}): {b}"
    );
}

#[tokio::test]
async fn retrieve_on_unknown_malformed_or_missing_lead_id() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);

    let (s, b) = srv
        .lsq_post(
            &format!(
                "/v2/ProspectActivity.svc/Retrieve?leadId={}",
                unknown_guid()
            ),
            &admin,
            json!({}),
        )
        .await;
    assert_envelope(
        "Retrieve unknown lead",
        s,
        &b,
        500,
        "MXInvalidEntityException",
        &["Lead does not exist in the system"],
    );

    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/Retrieve?leadId=xyz",
            &admin,
            json!({}),
        )
        .await;
    assert_envelope(
        "Retrieve leadId=xyz",
        s,
        &b,
        500,
        "MXInvalidEntityException",
        &[],
    );

    let (s, b) = srv
        .lsq_post("/v2/ProspectActivity.svc/Retrieve", &admin, json!({}))
        .await;
    assert_envelope(
        "Retrieve without leadId",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["leadId"],
    );
}

#[tokio::test]
async fn retrieve_accepts_empty_or_absent_body_and_get_file_url() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;

    let r = srv.retrieve(&admin, &lead, json!({})).await;
    assert_eq!(r["RecordCount"], 0);
    assert_eq!(r["ProspectActivities"], json!([]));

    let code = srv.create_type(&admin, "Visit", 0, json!([])).await;
    let id = srv.post_simple(&admin, &lead, code, None).await;

    // No body, no Content-Type.
    let resp = srv
        .send(
            reqwest::Method::POST,
            &with_keys(
                &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
                &admin,
            ),
            &[],
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json["RecordCount"], 1, "{}", resp.text());

    let (s, b) = srv
        .lsq_post(
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}&getFileURL=true"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(row_ids(&b), vec![id.to_lowercase()]);
}

#[tokio::test]
async fn system_fields_status_owner_and_note_can_be_set_through_fields() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let mgr = db.user(&admin, "mgr@acme.test", "Max", "Grey", "Sales_Manager");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv.create_type(&admin, "Sys Fields", 0, json!([])).await;

    let id = srv
        .post_activity(
            &admin,
            json!({
                "RelatedProspectId": lead,
                "ActivityEvent": code,
                "ActivityNote": "plain note",
                "Fields": [
                    {"SchemaName": "Status", "Value": "Inactive"},
                    {"SchemaName": "Owner", "Value": mgr.user_id},
                    {"SchemaName": "ActivityEvent_Note", "Value": "field note"}
                ]
            }),
        )
        .await;
    let row = srv.activity_row(&admin, &lead, &id).await;
    assert_eq!(row["ActivityFields"]["Status"], "Inactive", "{row}");
    assert!(
        same_id(
            row["ActivityFields"]["Owner"].as_str().unwrap_or(""),
            &mgr.user_id
        ),
        "{row}"
    );
    assert_eq!(
        data_value(&row, "NotableEventDescription").as_deref(),
        Some("field note"),
        "ActivityEvent_Note overrides ActivityNote: {row}"
    );

    for (schema, value) in [("Status", "Maybe"), ("Owner", unknown_guid().as_str())] {
        let (s, b) = srv
            .lsq_post(
                CREATE,
                &admin,
                json!({"RelatedProspectId": lead, "ActivityEvent": code,
                       "Fields": [{"SchemaName": schema, "Value": value}]}),
            )
            .await;
        assert_envelope(
            &format!("{schema}={value}"),
            s,
            &b,
            500,
            "MXInvalidActivityFieldsException",
            &[schema],
        );
    }
    assert_eq!(
        srv.record_count(&admin, &lead).await,
        1,
        "rejected posts store nothing"
    );
}

#[tokio::test]
async fn get_activity_details_returns_type_metadata_with_values() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(
            &admin,
            "Home Visit",
            0,
            json!([
                fdef(1, "mx_Custom_1", "Number"),
                fdef_options(2, "mx_Custom_2", "Dropdown", json!(["Open", "Won"])),
                fdef(3, "mx_Custom_3", "String"),
            ]),
        )
        .await;
    let id = srv
        .post_activity(
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": code, "Fields": [
                {"SchemaName": "mx_Custom_1", "Value": "42"},
                {"SchemaName": "mx_Custom_2", "Value": "Won"}
            ]}),
        )
        .await;

    let (s, d) = srv
        .lsq_get(
            &format!("/v2/ProspectActivity.svc/GetActivityDetails?activityId={id}"),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert!(d["ID"].is_string(), "{d}");
    assert_eq!(d["Name"], "Home Visit", "{d}");
    assert_eq!(d["DisplayName"], "Home Visit", "{d}");
    let f1 = setting_field(&d, "mx_Custom_1");
    assert_eq!(f1["Value"], "42", "{d}");
    assert_eq!(f1["DataType"], "Number", "{d}");
    let f2 = setting_field(&d, "mx_Custom_2");
    assert_eq!(f2["Value"], "Won", "{d}");
    assert_eq!(option_values(&f2["OptionSet"]), vec!["Open", "Won"], "{d}");

    let (s, b) = srv
        .lsq_get(
            &format!(
                "/v2/ProspectActivity.svc/GetActivityDetails?activityId={}",
                unknown_guid()
            ),
            &admin,
        )
        .await;
    assert_envelope(
        "unknown activityId",
        s,
        &b,
        500,
        "MXInvalidEntityException",
        &[],
    );

    let (s, b) = srv
        .lsq_get("/v2/ProspectActivity.svc/GetActivityDetails", &admin)
        .await;
    assert_envelope(
        "missing activityId",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["activityId"],
    );
}

#[tokio::test]
async fn custom_activity_update_changes_fields_note_and_modified_on() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(
            &admin,
            "Editable",
            4,
            json!([
                fdef(1, "mx_Custom_1", "String"),
                fdef(2, "mx_Custom_2", "Number")
            ]),
        )
        .await;
    let first = srv
        .post_activity(
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": code, "ActivityNote": "old note",
                   "ActivityDateTime": "2020-01-01 10:00:00",
                   "Fields": [{"SchemaName": "mx_Custom_1", "Value": "before"},
                              {"SchemaName": "mx_Custom_2", "Value": "1"}]}),
        )
        .await;
    let second = srv
        .post_activity(
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": code,
                   "ActivityDateTime": "2020-06-01 10:00:00"}),
        )
        .await;
    let before = srv.activity_row(&admin, &lead, &first).await;
    let score_before = srv.lead_score(&admin, &lead).await;

    std::thread::sleep(Duration::from_millis(1100));
    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/CustomActivity/Update",
            &admin,
            json!({"ProspectActivityId": first, "ActivityEvent": code, "ActivityNote": "new note",
                   "Fields": [{"SchemaName": "mx_Custom_1", "Value": "after"}]}),
        )
        .await;
    assert_success("CustomActivity/Update", s, &b);
    assert!(
        same_id(b["Message"]["Id"].as_str().unwrap_or(""), &first),
        "{b}"
    );

    let after = srv.activity_row(&admin, &lead, &first).await;
    assert_eq!(after["ActivityFields"]["mx_Custom_1"], "after", "{after}");
    assert_eq!(
        after["ActivityFields"]["mx_Custom_2"], "1",
        "fields not in the update keep their value: {after}"
    );
    assert_eq!(
        data_value(&after, "NotableEventDescription").as_deref(),
        Some("new note")
    );
    assert_eq!(
        after["CreatedOn"], before["CreatedOn"],
        "CreatedOn does not move"
    );
    let (m0, m1) = (
        before["ModifiedOn"].as_str().unwrap(),
        after["ModifiedOn"].as_str().unwrap(),
    );
    assert!(m1 > m0, "ModifiedOn must move forward: {m0} → {m1}");
    assert_eq!(
        srv.record_count(&admin, &lead).await,
        2,
        "an update adds no activity"
    );
    assert_eq!(
        srv.lead_score(&admin, &lead).await,
        score_before,
        "an update does not score"
    );

    // Sorting on ModifiedOn puts the updated (older) activity first; CreatedOn does not.
    let by_created = srv
        .activity_ids(
            &admin,
            &lead,
            json!({"Sorting": {"ColumnName": "CreatedOn", "Direction": 1}}),
        )
        .await;
    assert_eq!(
        by_created,
        vec![second.to_lowercase(), first.to_lowercase()]
    );
    let by_modified = srv
        .activity_ids(
            &admin,
            &lead,
            json!({"Sorting": {"ColumnName": "ModifiedOn", "Direction": 1}}),
        )
        .await;
    assert_eq!(
        by_modified,
        vec![first.to_lowercase(), second.to_lowercase()]
    );

    // GetActivityDetails sees the new value.
    let (s, d) = srv
        .lsq_get(
            &format!("/v2/ProspectActivity.svc/GetActivityDetails?activityId={first}"),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(setting_field(&d, "mx_Custom_1")["Value"], "after", "{d}");

    // A bad value is rejected and changes nothing.
    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/CustomActivity/Update",
            &admin,
            json!({"ProspectActivityId": first, "ActivityEvent": code,
                   "Fields": [{"SchemaName": "mx_Custom_2", "Value": "not a number"}]}),
        )
        .await;
    assert_envelope(
        "Update with a bad Number",
        s,
        &b,
        500,
        "MXInvalidActivityFieldsException",
        &["mx_Custom_2"],
    );
    let unchanged = srv.activity_row(&admin, &lead, &first).await;
    assert_eq!(unchanged["ActivityFields"], after["ActivityFields"]);
    assert_eq!(unchanged["ModifiedOn"], after["ModifiedOn"]);

    // Unknown activity.
    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/CustomActivity/Update",
            &admin,
            json!({"ProspectActivityId": unknown_guid(), "ActivityEvent": code,
                   "Fields": [{"SchemaName": "mx_Custom_1", "Value": "x"}]}),
        )
        .await;
    assert_envelope(
        "Update unknown activity",
        s,
        &b,
        500,
        "MXInvalidEntityException",
        &[],
    );
}
