//! Cross-cutting behaviour: Bearer auth, the error envelope, 404/405/413, and `/openapi.json`
//! agreeing with the router (every documented route answers, every routed path is documented).

use std::collections::BTreeSet;

use crate::harness::*;

/// Every documented operation with a request that reaches it: path ids are unknown GUIDs.
fn concrete(path: &str) -> String {
    path.replace("{guid}", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        .replace("{id}", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

#[tokio::test]
async fn bearer_is_required_and_checked() {
    let app = App::start().await;
    let admin = app.tenant("Auth").await;
    let before = app.get(&admin, "/api/v1/leads").await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.json);
    let lead_count = before.json["data"].as_array().unwrap().len();

    let wrong = format!("Bearer {}0", admin.bearer());
    let lsq_style = format!("Basic {}", admin.bearer());
    let cases: [(Option<&str>, &str); 5] = [
        (None, "Authorization"),
        (Some("Bearer "), "Authorization"),
        (Some(&lsq_style), "Authorization"),
        (Some(&wrong), "Invalid Bearer Token"),
        (Some("Bearer ak_0000"), "Invalid Bearer Token"),
    ];
    for (auth, needle) in cases {
        for (method, path, body) in [
            ("GET", "/api/v1/leads", None),
            ("GET", "/api/v1/users", None),
            (
                "POST",
                "/api/v1/leads",
                Some(json!({"first_name": "Eve"}).to_string().into_bytes()),
            ),
            ("DELETE", "/api/v1/activities/1", None),
        ] {
            let r = app.raw(method, path, auth, body).await;
            r.assert_error(StatusCode::UNAUTHORIZED, "unauthorized", needle);
        }
    }
    // Nothing was created by the refused POSTs.
    let after = app.get(&admin, "/api/v1/leads").await;
    assert_eq!(after.json["data"].as_array().unwrap().len(), lead_count);

    // A deactivated user's key stops working? Only the CLI deactivates; a valid key of another
    // tenant works but sees only its own tenant (see directory::tenants_are_isolated).
    for scheme in ["bearer", "BEARER", "bEaReR"] {
        let auth = format!("{scheme} {}", admin.bearer());
        let r = app.raw("GET", "/api/v1/leads", Some(&auth), None).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "scheme is case-insensitive (RFC 9110), {scheme}: {}",
            r.json
        );
    }
}

#[tokio::test]
async fn unknown_paths_wrong_methods_and_bad_bodies() {
    let app = App::start().await;
    let admin = app.tenant("Shape").await;

    for path in [
        "/api/v1",
        "/api/v1/nope",
        "/api/v1/leads/x/y",
        "/api/v2/leads",
    ] {
        let r = app.get(&admin, path).await;
        r.assert_error(StatusCode::NOT_FOUND, "not_found", "No such endpoint");
    }

    for (method, path) in [
        ("PUT", "/api/v1/leads"),
        ("DELETE", "/api/v1/users"),
        ("GET", "/api/v1/activities"),
        ("POST", "/api/v1/activities/1"),
        ("GET", "/api/v1/activities/1/tags"),
        ("PATCH", "/api/v1/activities/1/pin"),
        ("POST", "/openapi.json"),
    ] {
        let r = app.call(&admin, method, path, Some(json!({}))).await;
        r.assert_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method",
        );
        assert!(
            r.headers.get("allow").is_some(),
            "{method} {path}: 405 names the allowed methods in Allow"
        );
    }

    // Not JSON, wrong top-level shape, wrong property type, unknown property: 400 naming it.
    let not_json = app
        .raw(
            "POST",
            "/api/v1/leads",
            Some(&format!("Bearer {}", admin.bearer())),
            Some(b"{first_name: 1".to_vec()),
        )
        .await;
    not_json.assert_error(StatusCode::BAD_REQUEST, "invalid_request", "not valid JSON");
    let r = app.post(&admin, "/api/v1/leads", json!([1, 2])).await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", "shape");
    let r = app
        .post(&admin, "/api/v1/leads", json!({"first_name": 7}))
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", "first_name");
    let r = app
        .post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "A", "nickname": "B"}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "invalid_request", "nickname");
    let empty = app
        .raw(
            "POST",
            "/api/v1/accounts",
            Some(&format!("Bearer {}", admin.bearer())),
            None,
        )
        .await;
    empty.assert_error(StatusCode::BAD_REQUEST, "invalid_request", "JSON");

    let r = app.get(&admin, "/api/v1/leads").await;
    assert_eq!(r.json["data"], json!([]), "no lead was created: {}", r.json);
}

/// A path segment that does not decode to UTF-8 is refused by the router's extractor before any
/// handler runs; every native route with an `{id}`/`{guid}` answers it in the envelope (400).
#[tokio::test]
async fn undecodable_path_segments_are_answered_in_the_envelope() {
    let app = App::start().await;
    let admin = app.tenant("Bytes").await;
    for (method, path) in [
        ("GET", "/api/v1/activities/%FF"),
        ("PATCH", "/api/v1/activities/%C3%28"),
        ("DELETE", "/api/v1/activities/%FF"),
        ("POST", "/api/v1/activities/%FF/pin"),
        ("DELETE", "/api/v1/activities/%FF/pin"),
        ("PUT", "/api/v1/activities/%FF/tags"),
        ("GET", "/api/v1/leads/%FF"),
        ("DELETE", "/api/v1/leads/%FE%FF"),
    ] {
        let body = (method != "GET" && method != "DELETE").then(|| json!({"tags": []}));
        let r = app.call(&admin, method, path, body).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{method} {path}: {}",
            r.json
        );
        r.assert_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "not valid UTF-8",
        );
    }
    // Authentication still comes first: no key, no word about the path.
    let r = app.raw("GET", "/api/v1/activities/%FF", None, None).await;
    r.assert_error(StatusCode::UNAUTHORIZED, "unauthorized", "Bearer");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_and_store_nothing() {
    let app = App::start().await;
    let admin = app.tenant("Big").await;
    let lead = app.lead(&admin, "Big", "big@example.com").await;
    let huge_note = "x".repeat(1 << 20);
    let body = json!({"activities": [{"type": "note", "note": huge_note,
        "resource": {"type": "person", "id": lead["guid"]}}]});
    let r = app.post(&admin, "/api/v1/activities", body).await;
    r.assert_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "1048576 bytes",
    );
    let r = app
        .post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "x".repeat(2 << 20)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.json);
    assert!(app.all_histories(&admin).await.is_empty());
    let leads = app.get(&admin, "/api/v1/leads").await;
    assert_eq!(leads.json["data"].as_array().unwrap().len(), 1);
}

/// The route paths declared in the native router's source (`.route("…", …)`).
fn routed_paths() -> BTreeSet<String> {
    let src = include_str!("../../src/api/native/mod.rs");
    src.split(".route(")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start();
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .filter(|p| !p.contains('*') && p != "/api/v1")
        .collect()
}

#[tokio::test]
async fn openapi_document_matches_the_router() {
    let app = App::start().await;
    let admin = app.tenant("Doc").await;
    let r = app.raw("GET", "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "served without auth");
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let doc = r.json;
    assert!(doc.is_object(), "valid JSON: {doc}");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");

    // Every route the native router declares is documented, and no other native path is (the
    // other surfaces: tests/native/openapi_routes.rs).
    let documented: BTreeSet<String> = paths
        .keys()
        .filter(|p| p.starts_with("/api/") || *p == "/openapi.json")
        .cloned()
        .collect();
    assert_eq!(documented, routed_paths(), "documented vs routed paths");

    // Every $ref resolves.
    let text = doc.to_string();
    for piece in text.split("\"$ref\":\"#/").skip(1) {
        let target = &piece[..piece.find('"').unwrap()];
        let mut node = &doc;
        for part in target.split('/') {
            node = &node[part];
        }
        assert!(!node.is_null(), "dangling $ref #/{target}");
    }

    for (path, ops) in paths.iter().filter(|(p, _)| documented.contains(*p)) {
        let url = concrete(path);
        for method in METHODS {
            let op = &ops[method.to_lowercase()];
            let r = app.call(&admin, method, &url, Some(json!({}))).await;
            if op.is_null() {
                assert_eq!(
                    r.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is not documented, so it must be 405: {}",
                    r.json
                );
                continue;
            }
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(
                r.json["error"]["message"],
                json!("No such endpoint"),
                "{method} {path} is documented but not routed"
            );
            let code = r.status.as_str().to_string();
            assert!(
                !op["responses"][&code].is_null(),
                "{method} {path} answered {code}, which its responses do not list: {}",
                r.json
            );
            if path != "/openapi.json" {
                for needed in ["401", "405", "429"] {
                    assert!(
                        !op["responses"][needed].is_null(),
                        "{method} {path} documents {needed}"
                    );
                }
                // The budget headers every authenticated answer carries.
                let ok = op["responses"]
                    .as_object()
                    .and_then(|rs| rs.iter().find(|(c, _)| c.starts_with('2')))
                    .map(|(_, r)| r.clone())
                    .unwrap_or_else(|| panic!("{method} {path} documents a success"));
                for h in ["x-ratelimit-limit", "x-ratelimit-remaining"] {
                    assert!(!ok["headers"][h].is_null(), "{method} {path} documents {h}");
                    assert!(r.headers.get(h).is_some(), "{method} {path} answers {h}");
                }
                assert!(
                    op["security"].is_null() || op["security"] != json!([]),
                    "{method} {path} needs the Bearer key"
                );
            }
            if !op["requestBody"].is_null() {
                assert!(
                    !op["responses"]["400"].is_null() && !op["responses"]["413"].is_null(),
                    "{method} {path} takes a body: documents 400 and 413"
                );
            }
        }
    }
}

/// The property names of schema `name` in the document.
fn schema_keys(doc: &Value, name: &str) -> BTreeSet<String> {
    let schema = &doc["components"]["schemas"][name];
    let mut keys = BTreeSet::new();
    let parts = match schema["allOf"].as_array() {
        Some(parts) => parts.clone(),
        None => vec![schema.clone()],
    };
    for part in parts {
        let part = match part["$ref"].as_str() {
            Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => part,
        };
        keys.extend(part["properties"].as_object().unwrap().keys().cloned());
    }
    keys
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn documented_response_shapes_match_what_is_served() {
    let app = App::start().await;
    let admin = app.tenant("Shapes").await;
    let doc = app.raw("GET", "/openapi.json", None, None).await.json;
    let r = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "u@shapes.example"}),
        )
        .await;
    let user = App::data(r, StatusCode::CREATED);
    let lead = app.lead(&admin, "Sh", "sh@example.com").await;
    let account = app.account(&admin, "Shape Co").await;
    let r = app
        .post(
            &admin,
            "/api/v1/activity_types",
            json!({"name": "Shaped",
            "fields": [{"schema_name": "mx_Custom_1", "data_type": "String"}]}),
        )
        .await;
    let ty = App::data(r, StatusCode::CREATED);
    let activity = app
        .activity(
            &admin,
            on_person(&s(&lead, "guid"), "call", "2026-01-01T00:00:00Z"),
        )
        .await;
    let opp = app.opportunity(&admin, &s(&lead, "guid"), "deal").await;

    assert_eq!(keys(&user), schema_keys(&doc, "CreatedUser"), "CreatedUser");
    let listed = App::data(app.get(&admin, "/api/v1/users").await, StatusCode::OK);
    assert_eq!(keys(&listed[0]), schema_keys(&doc, "User"), "User");
    assert_eq!(keys(&lead), schema_keys(&doc, "Lead"), "Lead");
    assert_eq!(keys(&account), schema_keys(&doc, "Account"), "Account");
    assert_eq!(keys(&ty), schema_keys(&doc, "ActivityType"), "ActivityType");
    let field_doc = &doc["components"]["schemas"]["ActivityType"]["properties"]["fields"]["items"];
    assert_eq!(
        keys(&ty["fields"][0]),
        field_doc["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect(),
        "ActivityType.fields[]"
    );
    assert_eq!(keys(&activity), schema_keys(&doc, "Activity"), "Activity");
    assert_eq!(keys(&opp), schema_keys(&doc, "Activity"), "opportunity");
    // Envelopes of the lists.
    for (path, schema) in [
        ("/api/v1/leads", "LeadList"),
        ("/api/v1/accounts", "AccountList"),
        ("/api/v1/opportunities", "OpportunityList"),
        ("/api/v1/activity_types", "ActivityTypeList"),
        ("/api/v1/users", "UserList"),
    ] {
        let r = app.get(&admin, path).await;
        assert_eq!(keys(&r.json), schema_keys(&doc, schema), "{path}");
    }
    // The error envelope.
    let r = app.get(&admin, "/api/v1/leads/nope").await;
    assert_eq!(keys(&r.json), schema_keys(&doc, "Error"));
    assert_eq!(
        keys(&r.json["error"]),
        keys(&doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"])
    );
}

/// Refused Bearer keys count per client address across the native and Salesloft dialects: after
/// 30 in a minute the address gets 429 with `Retry-After` in each dialect's body (good keys too),
/// while a good key from another address keeps working.
#[tokio::test]
async fn repeated_refused_bearer_keys_lock_the_address_out() {
    let app = App::start().await;
    let admin = app.tenant("Locked").await;
    let wrong = |n: usize| format!("Bearer ak_{n:064x}");
    for n in 0..30 {
        let path = if n % 2 == 0 {
            "/api/v1/leads"
        } else {
            "/v2/me"
        };
        let r = app.raw("GET", path, Some(&wrong(n)), None).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "attempt {n}: {}",
            r.json
        );
    }
    let retry_after =
        |r: &Resp| -> u64 { r.headers["retry-after"].to_str().unwrap().parse().unwrap() };
    let r = app
        .raw("GET", "/api/v1/leads", Some(&wrong(30)), None)
        .await;
    r.assert_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "refused credentials",
    );
    assert!((1..=60).contains(&retry_after(&r)), "{:?}", r.headers);
    let r = app.get(&admin, "/api/v1/leads").await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "try again");
    let r = app.get(&admin, "/v2/me").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.json);
    assert!(
        r.json["error"]
            .as_str()
            .is_some_and(|m| m.contains("refused credentials")),
        "{}",
        r.json
    );
    assert!((1..=60).contains(&retry_after(&r)), "{:?}", r.headers);

    let other = reqwest::Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    for path in ["/api/v1/leads", "/v2/me"] {
        let ok = other
            .get(format!("{}{path}", app.base))
            .bearer_auth(admin.bearer())
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK, "{path} from 127.0.0.2");
    }
}
