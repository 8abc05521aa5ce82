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
                b.iter()
                    .find(|b| b["properties"]["kind"]["enum"] == json!([kind]))
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
    for schema in ["NewUser", "NewLead"] {
        let email = &schemas[schema]["properties"]["email"];
        assert_eq!(email["format"], json!("email"), "{schema}: {email}");
        assert!(email["pattern"].is_string(), "{schema}: {email}");
    }
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
}
