//! Texts and dates every backend can hold and serve back: NUL characters, years outside
//! 0001–9999 and overlong lead values are refused with the envelope, naming the field.

use crate::harness::*;

const CREATE: &str = "/v2/ProspectActivity.svc/Create";

async fn setup() -> (Db, Server, Creds, String, i64) {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(
            &admin,
            "Inputs",
            1,
            json!([
                fdef(1, "mx_Custom_1", "String"),
                fdef(2, "mx_Custom_2", "DateTime")
            ]),
        )
        .await;
    (db, srv, admin, lead, code)
}

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field() {
    let (_db, srv, admin, lead, code) = setup().await;
    let base = json!({"RelatedProspectId": lead, "ActivityEvent": code, "ActivityNote": "fine"});
    let mut note = base.clone();
    note["ActivityNote"] = json!("a\u{0}b");
    let mut field = base.clone();
    field["Fields"] = json!([{"SchemaName": "mx_Custom_1", "Value": "x\u{0}"}]);
    for (ctx, body, name) in [
        ("note", note, "ActivityNote"),
        ("field", field, "mx_Custom_1"),
    ] {
        let (s, b) = srv.lsq_post(CREATE, &admin, body).await;
        assert_envelope(
            ctx,
            s,
            &b,
            400,
            "MXInvalidInputException",
            &[name, "must not contain nul characters"],
        );
    }
    assert_eq!(srv.record_count(&admin, &lead).await, 0);

    let (s, b) = srv
        .lead_create(
            &admin,
            &[("FirstName", "Ann"), ("EmailAddress", "a\u{0}@x.test")],
        )
        .await;
    assert_envelope(
        "Lead.Create",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["emailaddress must not contain nul characters"],
    );

    let (s, b) = srv
        .lsq_get(
            "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress?emailAddress=a%00b",
            &admin,
        )
        .await;
    assert_envelope(
        "ByEmailAddress",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["emailaddress must not contain nul characters"],
    );
    // An OptionSet sent as a serialised JSON text holds its own escapes.
    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/CreateType",
            &admin,
            json!({"ActivityEventName": "Opts", "Direction": 0, "Fields": [fdef_options(
                1, "mx_Custom_1", "Dropdown", json!("[\"a\\u0000\"]"))]}),
        )
        .await;
    assert_envelope(
        "OptionSet",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["optionset of field 'mx_custom_1' must not contain nul characters"],
    );
    let (s, b) = srv
        .lsq_get("/v2/LeadManagement.svc/Leads.GetById?id=%00", &admin)
        .await;
    assert_envelope("GetById", s, &b, 400, "MXInvalidInputException", &["id "]);
}

#[tokio::test]
async fn years_outside_0001_to_9999_are_refused() {
    let (_db, srv, admin, lead, code) = setup().await;
    for when in ["-0001-01-01 00:00:00", "0000-06-01 00:00:00"] {
        let body = json!({"RelatedProspectId": lead, "ActivityEvent": code,
            "ActivityNote": "x", "ActivityDateTime": when});
        let (s, b) = srv.lsq_post(CREATE, &admin, body).await;
        assert_envelope(
            when,
            s,
            &b,
            400,
            "MXInvalidInputException",
            &["activitydatetime", "0001 to 9999"],
        );
        let body = json!({"RelatedProspectId": lead, "ActivityEvent": code,
            "Fields": [{"SchemaName": "mx_Custom_2", "Value": when}]});
        let (s, b) = srv.lsq_post(CREATE, &admin, body).await;
        assert_envelope(
            when,
            s,
            &b,
            500,
            "MXInvalidActivityFieldsException",
            &["mx_custom_2", "0001 to 9999"],
        );
    }
    assert_eq!(srv.record_count(&admin, &lead).await, 0);
    // The edges of the range are accepted and served back as they were given.
    for when in ["0001-01-01 00:00:00", "9999-12-31 23:59:59"] {
        let body = json!({"RelatedProspectId": lead, "ActivityEvent": code,
            "ActivityNote": when, "ActivityDateTime": when});
        srv.post_activity(&admin, body).await;
    }
    let page = srv.retrieve(&admin, &lead, json!({})).await;
    let text = page.to_string();
    assert!(text.contains("0001-01-01 00:00:00"), "{text}");
    assert!(text.contains("9999-12-31 23:59:59"), "{text}");
}

#[tokio::test]
async fn lead_values_have_the_same_length_caps_as_the_native_api() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let long = |n: usize| "x".repeat(n);
    let email = format!("{}@acme.test", long(250));
    for (attr, value, max) in [
        ("FirstName", long(500_000), "255"),
        ("LastName", long(256), "255"),
        ("EmailAddress", email, "254"),
        ("Phone", long(51), "50"),
        ("Mobile", long(51), "50"),
        ("mx_Notes", long(4001), "4000"),
    ] {
        let (s, b) = srv
            .lead_create(&admin, &[("FirstName", "Ok"), (attr, &value)])
            .await;
        assert_envelope(
            attr,
            s,
            &b,
            500,
            "MXInvalidActivityFieldsException",
            &[
                &attr.to_lowercase(),
                &format!("longer than {max} characters"),
            ],
        );
    }
    srv.create_lead_with(&admin, &[("FirstName", &long(255)), ("Phone", &long(50))])
        .await;
}
