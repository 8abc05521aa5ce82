//! Activity types: `ActivityTypes.Get`, `CreateType`, `CustomActivity/GetActivitySetting`,
//! `CustomActivityType/Update`.

use crate::harness::*;

const CREATE_TYPE: &str = "/v2/ProspectActivity.svc/CreateType";

fn by_code(types: &[Value], code: i64) -> Option<Value> {
    types
        .iter()
        .find(|t| t["ActivityEvent"] == json!(code))
        .cloned()
}

#[tokio::test]
async fn a_new_tenant_lists_the_system_types_and_created_types_follow() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);

    let types = srv.activity_types(&admin).await;
    for code in 101..=125 {
        let n = types
            .iter()
            .filter(|t| t["ActivityEvent"] == json!(code))
            .count();
        assert_eq!(n, 1, "system type {code} must be listed once: {types:?}");
    }
    for (code, sl) in [
        (101, "call"),
        (102, "meeting"),
        (103, "sent_email"),
        (104, "received_email"),
        (105, "note"),
    ] {
        let t = by_code(&types, code).unwrap();
        assert_eq!(t["SalesloftType"], sl, "{t}");
        assert_eq!(
            t["EventType"],
            json!(1),
            "system types are EventType 1: {t}"
        );
    }
    assert!(
        by_code(&types, 12000).is_none(),
        "the opportunity type is not an activity type: {types:?}"
    );
    let system_count = types.len();

    let code = srv
        .create_type_body(
            &admin,
            json!({"ActivityEventName": "Store Visit", "Score": 5, "Description": "d",
                   "Direction": 1, "SalesloftType": "meeting"}),
        )
        .await;
    assert_eq!(code, 201);
    let second = srv
        .create_type_body(&admin, json!({"ActivityEventName": "Plain Type"}))
        .await;
    assert_eq!(second, 202, "next free code ≥ 201");

    let types = srv.activity_types(&admin).await;
    assert_eq!(types.len(), system_count + 2, "{types:?}");
    let t = by_code(&types, 201).unwrap();
    assert_eq!(t["ActivityEventName"], "Store Visit", "{t}");
    assert_eq!(
        t["DisplayName"], "Store Visit",
        "DisplayName defaults to the name: {t}"
    );
    assert_eq!(t["Score"], json!(5), "{t}");
    assert_eq!(t["Direction"], json!(1), "{t}");
    assert_eq!(
        t["EventType"],
        json!(2),
        "custom types are EventType 2: {t}"
    );
    assert!(is_guid(t["Id"].as_str().unwrap_or("")), "{t}");
    assert_eq!(t["SalesloftType"], "meeting", "{t}");
    let p = by_code(&types, 202).unwrap();
    assert_eq!(
        p["SalesloftType"], "note",
        "SalesloftType defaults to note: {p}"
    );
    assert_eq!(p["Score"], json!(0), "Score defaults to 0: {p}");
}

#[tokio::test]
async fn create_type_with_explicit_code_and_duplicate_names_or_codes() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);

    let code = srv
        .create_type_body(
            &admin,
            json!({"ActivityEventName": "Store Visit", "ActivityEvent": 250}),
        )
        .await;
    assert_eq!(code, 250, "CreateType honours a given ActivityEvent");
    let count = srv.activity_types(&admin).await.len();

    let (s, b) = srv
        .lsq_post(
            CREATE_TYPE,
            &admin,
            json!({"ActivityEventName": "STORE visit", "Score": 1}),
        )
        .await;
    assert_envelope(
        "duplicate name (other case)",
        s,
        &b,
        500,
        "MXDuplicateEntryException",
        &[],
    );

    // A system type's name is free for a custom type (docs/decisions.md): codes tell them apart.
    let custom_call = srv
        .create_type_body(&admin, json!({"ActivityEventName": "call"}))
        .await;
    assert!(
        custom_call >= 201 && custom_call != 101,
        "custom 'call' gets a custom code: {custom_call}"
    );
    let (s, b) = srv
        .lsq_post(CREATE_TYPE, &admin, json!({"ActivityEventName": "CALL"}))
        .await;
    assert_envelope(
        "second custom type named like the first",
        s,
        &b,
        500,
        "MXDuplicateEntryException",
        &[],
    );

    let (s, b) = srv
        .lsq_post(
            CREATE_TYPE,
            &admin,
            json!({"ActivityEventName": "Another", "ActivityEvent": 250}),
        )
        .await;
    assert_any_envelope("duplicate code", s, &b);

    let (s, b) = srv
        .lsq_post(
            CREATE_TYPE,
            &admin,
            json!({"ActivityEventName": "Steals a system code", "ActivityEvent": 101}),
        )
        .await;
    assert_any_envelope("system code", s, &b);

    let types = srv.activity_types(&admin).await;
    assert_eq!(
        types.len(),
        count + 1,
        "only the custom 'call' was added; failed CreateType calls add nothing: {types:?}"
    );
    assert_eq!(
        by_code(&types, 250).unwrap()["ActivityEventName"],
        "Store Visit"
    );
    assert_ne!(
        by_code(&types, 101).unwrap()["ActivityEventName"],
        "Steals a system code"
    );
}

#[tokio::test]
async fn create_type_rejects_bad_definitions_and_stores_nothing() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let count = srv.activity_types(&admin).await.len();

    let cases = [
        (json!({"Score": 3}), "ActivityEventName"),
        (
            json!({"ActivityEventName": "Bird", "SalesloftType": "carrier_pigeon"}),
            "SalesloftType",
        ),
        (
            json!({"ActivityEventName": "Too Far", "Fields": [fdef(1, "mx_Custom_51", "String")]}),
            "mx_Custom_51",
        ),
        (
            json!({"ActivityEventName": "Odd Type", "Fields": [fdef(1, "mx_Custom_1", "Hologram")]}),
            "Hologram",
        ),
    ];
    for (body, names) in cases {
        let (s, b) = srv.lsq_post(CREATE_TYPE, &admin, body.clone()).await;
        assert_any_envelope(&format!("CreateType {body}"), s, &b);
        assert!(
            b["ExceptionMessage"].as_str().unwrap().contains(names),
            "message should name {names}: {b}"
        );
    }
    let (s, b) = srv
        .lsq_post(
            CREATE_TYPE,
            &admin,
            json!({"ActivityEventName": "X", "Fields": "x"}),
        )
        .await;
    assert_envelope("Fields: \"x\"", s, &b, 400, "MXInvalidInputException", &[]);

    assert_eq!(srv.activity_types(&admin).await.len(), count);
}

#[tokio::test]
async fn get_activity_setting_returns_field_metadata_and_option_sets_in_all_forms() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(
            &admin,
            "Deal Review",
            0,
            json!([
                fdef_mandatory(1, "mx_Custom_1", "Number"),
                fdef_options(2, "mx_Custom_2", "Dropdown",
                    json!("[{\"Value\":\"Open\",\"Text\":\"Open\"},{\"Value\":\"Won\",\"Text\":\"Won\"}]")),
                fdef_options(3, "mx_Custom_3", "Dropdown", json!(["Red", "Blue"])),
                fdef_options(4, "mx_Custom_4", "MultiSelect", json!([{"Value": "A"}, {"Value": "B"}])),
                fdef(5, "mx_Custom_5", "String"),
            ]),
        )
        .await;

    let st = srv.activity_setting(&admin, code).await;
    assert!(st["ID"].is_string() || st["ID"].is_number(), "{st}");
    assert_eq!(st["Name"], "Deal Review", "{st}");
    assert_eq!(st["DisplayName"], "Deal Review", "{st}");
    let f1 = setting_field(&st, "mx_Custom_1");
    assert_eq!(f1["DataType"], "Number", "{f1}");
    assert_eq!(f1["IsMandatory"], json!(true), "{f1}");
    assert_eq!(f1["DisplayName"], "Field 1", "{f1}");
    assert_eq!(f1["Sequence"], json!(1), "{f1}");
    assert_eq!(
        option_values(&setting_field(&st, "mx_Custom_2")["OptionSet"]),
        vec!["Open", "Won"]
    );
    assert_eq!(
        option_values(&setting_field(&st, "mx_Custom_3")["OptionSet"]),
        vec!["Red", "Blue"]
    );
    let f4 = setting_field(&st, "mx_Custom_4");
    assert_eq!(f4["DataType"], "MultiSelect");
    assert_eq!(option_values(&f4["OptionSet"]), vec!["A", "B"]);
    let f5 = setting_field(&st, "mx_Custom_5");
    assert_eq!(f5["IsMandatory"], json!(false));
    assert_eq!(f5["OptionSet"], "", "OptionSet is \"\" when none: {f5}");

    // The stored option sets are enforced.
    let post = |fields: Value| {
        let mut all = vec![json!({"SchemaName": "mx_Custom_1", "Value": "1"})];
        all.extend(fields.as_array().unwrap().iter().cloned());
        json!({"RelatedProspectId": lead, "ActivityEvent": code, "Fields": all})
    };
    for (schema, good, bad) in [
        ("mx_Custom_2", "Won", "Lost"),
        ("mx_Custom_3", "Blue", "Green"),
        ("mx_Custom_4", "A;B", "A;C"),
    ] {
        srv.post_activity(&admin, post(json!([{"SchemaName": schema, "Value": good}])))
            .await;
        let (s, b) = srv
            .lsq_post(
                "/v2/ProspectActivity.svc/Create",
                &admin,
                post(json!([{"SchemaName": schema, "Value": bad}])),
            )
            .await;
        assert_envelope(
            &format!("{schema}={bad}"),
            s,
            &b,
            500,
            "MXInvalidActivityFieldsException",
            &[schema],
        );
    }
    assert_eq!(srv.record_count(&admin, &lead).await, 3);

    let (s, b) = srv
        .lsq_get(
            "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting?code=999",
            &admin,
        )
        .await;
    assert_any_envelope("unknown code", s, &b);
    let (s, b) = srv
        .lsq_get(
            "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting",
            &admin,
        )
        .await;
    assert_envelope(
        "missing code",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["code"],
    );
}

#[tokio::test]
async fn custom_activity_type_update_changes_name_score_direction_and_fields() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(
            &admin,
            "Demo Call",
            5,
            json!([{"SchemaName": "mx_Custom_1", "DisplayName": "Topic", "DataType": "String",
                    "IsMandatory": false, "Sequence": 1, "OptionSet": ""}]),
        )
        .await;
    let old_activity = srv.post_simple(&admin, &lead, code, None).await;
    let type_id = by_code(&srv.activity_types(&admin).await, code).unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();

    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/CustomActivityType/Update",
            &admin,
            json!({
                "ID": type_id,
                "ActivityEvent": code,
                "ActivityEventName": "Demo Call v2",
                "DisplayName": "Demo Call v2",
                "Score": 15,
                "Description": "updated",
                "EventDirection": 1,
                "Direction": 1,
                "Fields": [
                    {"SchemaName": "mx_Custom_1", "DisplayName": "Subject", "DataType": "String",
                     "IsMandatory": false, "Sequence": 1, "OptionSet": ""},
                    {"SchemaName": "mx_Custom_2", "DisplayName": "Amount", "DataType": "Number",
                     "IsMandatory": false, "Sequence": 2, "OptionSet": ""}
                ]
            }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["Status"], "Success", "{b}");

    let t = by_code(&srv.activity_types(&admin).await, code).unwrap();
    assert_eq!(t["ActivityEventName"], "Demo Call v2", "{t}");
    assert_eq!(t["Score"], json!(15), "{t}");
    assert_eq!(t["Direction"], json!(1), "{t}");
    let st = srv.activity_setting(&admin, code).await;
    assert_eq!(st["Name"], "Demo Call v2", "{st}");
    assert_eq!(
        setting_field(&st, "mx_Custom_1")["DisplayName"],
        "Subject",
        "{st}"
    );
    assert_eq!(
        setting_field(&st, "mx_Custom_2")["DataType"],
        "Number",
        "{st}"
    );

    // New activities use the new definition; the old one keeps the score it was posted with.
    let new_activity = srv
        .post_activity(
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": code,
                   "Fields": [{"SchemaName": "mx_Custom_2", "Value": "12.5"}]}),
        )
        .await;
    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/Create",
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": code,
                   "Fields": [{"SchemaName": "mx_Custom_2", "Value": "abc"}]}),
        )
        .await;
    assert_envelope(
        "new Number field",
        s,
        &b,
        500,
        "MXInvalidActivityFieldsException",
        &["mx_Custom_2"],
    );
    let new_row = srv.activity_row(&admin, &lead, &new_activity).await;
    assert_eq!(new_row["ActivityScore"], json!(15), "{new_row}");
    assert_eq!(new_row["EventName"], "Demo Call v2", "{new_row}");
    assert_eq!(new_row["Type"], "Outbound", "{new_row}");
    assert_eq!(
        new_row["ActivityFields"]["mx_Custom_2"], "12.5",
        "{new_row}"
    );
    let old_row = srv.activity_row(&admin, &lead, &old_activity).await;
    assert_eq!(
        old_row["ActivityScore"],
        json!(5),
        "score at posting time: {old_row}"
    );
    assert_eq!(srv.lead_score(&admin, &lead).await, 20);

    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/CustomActivityType/Update",
            &admin,
            json!({"ID": unknown_guid(), "ActivityEvent": 999, "ActivityEventName": "Nope"}),
        )
        .await;
    assert_any_envelope("update unknown type", s, &b);
}
