//! `/openapi.json` states the bounds the server enforces: at each documented bound a request is
//! accepted, one step beyond it is refused, so a client (or a fuzzer) generating from the document
//! is never refused for a value the document calls valid.

use crate::harness::*;

/// The schema of query parameter `name` of `GET path`.
fn param<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == json!(name)))
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("{path} documents no '{name}'"))
}

#[track_caller]
fn bound(schema: &Value, key: &str) -> i128 {
    let v = &schema[key];
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
        .unwrap_or_else(|| panic!("no integer '{key}' in {schema}"))
}

#[tokio::test]
async fn the_document_states_the_bounds_the_server_enforces() {
    let app = App::start().await;
    let admin = app.tenant("Bounds").await;
    let doc = app.raw("GET", "/openapi.json", None, None).await.json;
    let schemas = &doc["components"]["schemas"];

    // Query integers: the documented range is accepted, one beyond it is a 400.
    for (path, name) in [
        ("/api/v1/leads", "after"),
        ("/api/v1/accounts", "after"),
        ("/api/v1/opportunities", "offset"),
    ] {
        let s = param(&doc, path, name);
        let (min, max) = (bound(s, "minimum"), bound(s, "maximum"));
        for (v, ok) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
            let r = app.get(&admin, &format!("{path}?{name}={v}")).await;
            if ok {
                assert_eq!(r.status, StatusCode::OK, "{path} {name}={v}: {}", r.json);
            } else {
                r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", name);
            }
        }
    }

    // Activity type codes: custom types within the custom branch's range, opportunity types
    // from the opportunity branch's minimum; names up to maxLength, not blank.
    let ty = &schemas["NewActivityType"];
    let branch = |kind: &str| {
        ty["anyOf"]
            .as_array()
            .and_then(|b| {
                b.iter().find(|b| {
                    b["properties"]["kind"]["enum"]
                        .as_array()
                        .is_some_and(|e| e.contains(&json!(kind)))
                })
            })
            .map(|b| &b["properties"]["event_code"])
            .unwrap_or_else(|| panic!("no '{kind}' branch in {ty}"))
    };
    let custom_min = bound(&ty["properties"]["event_code"], "minimum");
    let custom_max = bound(branch("custom"), "maximum");
    let opportunity_min = bound(branch("opportunity"), "minimum");
    let name_max = bound(&ty["properties"]["name"], "maxLength") as usize;
    assert_eq!(ty["properties"]["name"]["minLength"], json!(1));
    let create = |kind: &str, code: i128, name: String| json!({"name": name, "kind": kind, "event_code": code as i64});
    for (kind, code, ok) in [
        ("custom", custom_min, true),
        ("custom", custom_max, true),
        ("custom", custom_min - 1, false),
        ("custom", custom_max + 1, false),
        ("opportunity", opportunity_min + 1, true),
        ("opportunity", opportunity_min - 1, false),
    ] {
        let body = create(kind, code, format!("{kind} {code}"));
        let r = app.post(&admin, "/api/v1/activity_types", body).await;
        if ok {
            assert_eq!(r.status, StatusCode::CREATED, "{kind} {code}: {}", r.json);
        } else {
            r.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "event_code",
            );
        }
    }
    let long = |n: usize| "n".repeat(n);
    let r = app
        .post(
            &admin,
            "/api/v1/activity_types",
            json!({"name": long(name_max), "event_code": 500}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    for name in [long(name_max + 1), "   ".into()] {
        let r = app
            .post(
                &admin,
                "/api/v1/activity_types",
                json!({"name": name, "event_code": 501}),
            )
            .await;
        r.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "name",
        );
    }

    // Native activities name a system or custom type; the documented range holds them.
    let row = &schemas["NewActivity"]["properties"]["event_code"];
    assert_eq!(bound(row, "maximum"), custom_max, "{row}");
    let lead = app.lead(&admin, "Bo", "bo@bounds.test").await;
    let activity = |code: i128| {
        json!({"activities": [{"event_code": code as i64,
            "resource": {"type": "person", "id": lead["guid"]}}]})
    };
    let r = app
        .post(&admin, "/api/v1/activities", activity(custom_max))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = app
        .post(&admin, "/api/v1/activities", activity(opportunity_min + 1))
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "event_code",
    );
    let opp = &schemas["NewOpportunity"]["properties"]["event_code"];
    assert_eq!(bound(opp, "minimum"), opportunity_min, "{opp}");

    // Names and emails: blank names and malformed emails are documented as invalid.
    let account = &schemas["NewAccount"]["properties"]["name"];
    assert_eq!(account["minLength"], json!(1), "{account}");
    assert!(account["pattern"].is_string(), "{account}");
    let r = app
        .post(&admin, "/api/v1/accounts", json!({"name": "  "}))
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "name",
    );
    // The email rule is the pattern (a `format: email` checker refuses addresses the server
    // takes, and takes some it refuses); white space around it is trimmed.
    for schema in ["NewUser", "NewLead"] {
        let email = &schemas[schema]["properties"]["email"];
        assert!(email["pattern"].is_string(), "{schema}: {email}");
        assert!(email.get("format").is_none(), "{schema}: {email}");
    }
    let r = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "\u{85}\u{3000}spaced@bounds.test\u{2029}"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["data"]["email"], json!("spaced@bounds.test"));
    let r = app
        .post(&admin, "/api/v1/users", json!({"email": "no-domain@host"}))
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "email",
    );
    let r = app
        .post(&admin, "/api/v1/leads", json!({"email": "no-domain@host"}))
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "email",
    );
    assert!(
        schemas["NewLead"]["anyOf"].is_array(),
        "a lead needs a name, email or phone"
    );

    // Tags are trimmed: a blank one is documented as invalid and refused.
    for schema in ["NewActivity", "ActivityEdit", "Tags"] {
        let item = &schemas[schema]["properties"]["tags"]["items"];
        assert!(item["pattern"].is_string(), "{schema}: {item}");
    }
    let r = app
        .post(
            &admin,
            "/api/v1/activities",
            json!({"activities": [{"type": "call", "tags": ["\n\u{a0}"],
                   "resource": {"type": "person", "id": lead["guid"]}}]}),
        )
        .await;
    r.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "tags",
    );
}

/// JSON Schema counts `500.0` as the integer 500, so a client generating from the document may
/// send it: integer properties take a number with a zero fraction as that integer, and refuse any
/// other fraction as the wrong type.
#[tokio::test]
async fn integers_with_a_zero_fraction_are_the_integers_they_equal() {
    let app = App::start().await;
    let admin = app.tenant("Integers").await;
    let ty = App::data(
        app.post(
            &admin,
            "/api/v1/activity_types",
            json!({"name": "Float codes", "event_code": 500.0, "score": 3.0, "direction": 1.0,
                   "fields": [{"schema_name": "mx_Custom_1", "data_type": "String", "sequence": 2.0}]}),
        )
        .await,
        StatusCode::CREATED,
    );
    assert_eq!(ty["event_code"], json!(500));
    assert_eq!(ty["score"], json!(3));
    assert_eq!(ty["direction"], json!(1));
    assert_eq!(ty["fields"][0]["sequence"], json!(2));

    let lead = app.lead(&admin, "Flo", "flo@integers.test").await;
    let made = app
        .post(
            &admin,
            "/api/v1/activities",
            json!({"activities": [{"event_code": 500.0, "resource": {"type": "person", "id": lead["guid"]}}]}),
        )
        .await;
    assert_eq!(
        App::data(made, StatusCode::CREATED)[0]["event_code"],
        json!(500)
    );
    let opp = app
        .post(
            &admin,
            "/api/v1/opportunities",
            json!({"lead_guid": lead["guid"], "event_code": 12000.0}),
        )
        .await;
    assert_eq!(
        App::data(opp, StatusCode::CREATED)["event_code"],
        json!(12000)
    );

    for (code, shown) in [
        (json!(501.5), "501.5"),
        (json!(1e19), "10000000000000000000"),
    ] {
        let r = app
            .post(
                &admin,
                "/api/v1/activity_types",
                json!({"name": format!("Bad {shown}"), "event_code": code}),
            )
            .await;
        r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", "'event_code'");
    }
    // Integers beyond i64 arrive as rounded doubles: not taken as i64's bounds.
    for (field, literal) in [
        ("score", "-9223372036854775809"),
        ("score", "9223372036854775808"),
        ("event_code", "18446744073709551616"),
    ] {
        let body = format!(r#"{{"name": "Bad {field} {literal}", "{field}": {literal}}}"#);
        let auth = format!("Bearer {}", admin.bearer());
        let r = app
            .raw(
                "POST",
                "/api/v1/activity_types",
                Some(&auth),
                Some(body.into_bytes()),
            )
            .await;
        r.assert_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("'{field}'"),
        );
    }
    let types = app.get(&admin, "/api/v1/activity_types").await;
    let names: Vec<&str> = types.json["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(!names.iter().any(|n| n.starts_with("Bad ")), "{names:?}");
}
