//! Unknown paths, wrong methods, oversized bodies, garbage input, restarts and the rate limit.

use crate::harness::*;

const CREATE: &str = "/v2/ProspectActivity.svc/Create";

#[tokio::test]
async fn unknown_paths_under_v2_get_404_with_the_envelope() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    for path in [
        "/v2/Nope.svc/Thing",
        "/v2/ProspectActivity.svc/DoesNotExist",
        "/v2/ProspectActivity.svc/Create/extra",
        "/v2/",
    ] {
        let (s, b) = srv.lsq_get(path, &admin).await;
        assert_envelope(
            &format!("GET {path}"),
            s,
            &b,
            404,
            "MXNotFoundException",
            &[],
        );
        let (s, b) = srv.lsq_post(path, &admin, json!({})).await;
        assert_envelope(
            &format!("POST {path}"),
            s,
            &b,
            404,
            "MXNotFoundException",
            &[],
        );
    }
}

#[tokio::test]
async fn wrong_method_on_a_known_path_gets_405_with_the_envelope() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let (s, b) = srv.lsq_get(CREATE, &admin).await;
    assert_envelope("GET Create", s, &b, 405, "MXMethodNotAllowedException", &[]);
    let r = srv
        .send(
            reqwest::Method::DELETE,
            &with_keys("/v2/ProspectActivity.svc/ActivityTypes.Get", &admin),
            &[],
            None,
        )
        .await;
    assert_envelope(
        "DELETE ActivityTypes.Get",
        r.status,
        &r.json,
        405,
        "MXMethodNotAllowedException",
        &[],
    );
}

#[tokio::test]
async fn a_body_over_one_mib_gets_413_and_stores_nothing() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv.create_type(&admin, "Big", 5, json!([])).await;

    let note = "n".repeat(1024 * 1024 + 64 * 1024);
    let body = json!({"RelatedProspectId": lead, "ActivityEvent": code, "ActivityNote": note});
    let (s, b) = srv.lsq_post(CREATE, &admin, body).await;
    assert_envelope("1 MiB + 64 KiB", s, &b, 413, "MXInvalidInputException", &[]);
    let msg = b["ExceptionMessage"].as_str().unwrap().to_lowercase();
    assert!(
        ["1048576", "1 mib", "1mib", "1 mb", "1mb", "1024 kb", "1024kb", "1024 kib"]
            .iter()
            .any(|m| msg.contains(m)),
        "the message names the limit: {b}"
    );

    let rows: Vec<Value> = (0..2)
        .map(|_| json!({"RelatedProspectId": lead, "ActivityEvent": code, "ActivityNote": "m".repeat(600 * 1024)}))
        .collect();
    let (s, b) = srv.bulk_by_lead(&admin, Value::Array(rows)).await;
    assert_envelope(
        "bulk over 1 MiB",
        s,
        &b,
        413,
        "MXInvalidInputException",
        &[],
    );

    assert_eq!(srv.record_count(&admin, &lead).await, 0);
    assert_eq!(srv.lead_score(&admin, &lead).await, 0);
}

#[tokio::test]
async fn garbage_never_yields_a_500_without_the_envelope() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(
            &admin,
            "Target",
            3,
            json!([fdef(1, "mx_Custom_1", "Number")]),
        )
        .await;
    let types_before = srv.activity_types(&admin).await.len();

    let deep_array = "[".repeat(5000) + &"]".repeat(5000);
    let deep_object = "{\"a\":".repeat(3000) + "1" + &"}".repeat(3000);
    let big_number = format!("{{\"ActivityEvent\": 1{}}}", "0".repeat(400));
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{}".to_vec(),
        b"123".to_vec(),
        b"\"str\"".to_vec(),
        b"[1,2,3]".to_vec(),
        b"[null]".to_vec(),
        b"[{}]".to_vec(),
        b"{\"Fields\":{}}".to_vec(),
        b"{\"Fields\":[null,1,\"x\",{}]}".to_vec(),
        b"{\"ActivityEvent\":1e400}".to_vec(),
        big_number.into_bytes(),
        b"{\"ActivityEvent\":-1,\"RelatedProspectId\":\"\"}".to_vec(),
        b"{\"RelatedProspectId\":null,\"ActivityEvent\":null,\"Fields\":null}".to_vec(),
        format!("{{\"RelatedProspectId\":\"{lead}\",\"ActivityEvent\":{code},\"ActivityDateTime\":\"9999-99-99 99:99:99\"}}").into_bytes(),
        format!("{{\"RelatedProspectId\":\"{lead}\",\"ActivityEvent\":{code},\"Fields\":[{{\"SchemaName\":\"mx_Custom_1\",\"Value\":[1]}}]}}").into_bytes(),
        b"{\"Paging\":{\"PageIndex\":1e10,\"PageSize\":\"abc\"}}".to_vec(),
        b"{\"Sorting\":{\"ColumnName\":\"'; DROP TABLE activities;--\",\"Direction\":7}}".to_vec(),
        b"{\"Parameter\":{\"ActivityEvent\":\"201; --\",\"FromDate\":\"\\u0000\"}}".to_vec(),
        b"[{\"Attribute\":null,\"Value\":null}]".to_vec(),
        b"[{\"Attribute\":\"EmailAddress\",\"Value\":{}}]".to_vec(),
        b"\xff\xfe\x00garbage\x80".to_vec(),
        deep_array.into_bytes(),
        deep_object.into_bytes(),
    ];
    let paths = [
        CREATE.to_string(),
        format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
        "/v2/ProspectActivity.svc/CreateType".to_string(),
        "/v2/ProspectActivity.svc/CustomActivityType/Update".to_string(),
        "/v2/ProspectActivity.svc/CustomActivity/Update".to_string(),
        "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId".to_string(),
        "/v2/LeadManagement.svc/Lead.Create".to_string(),
    ];
    for path in &paths {
        for body in &bodies {
            for ct in [Some("application/json"), Some("text/plain"), None] {
                let r = srv.lsq_post_raw(path, &admin, body, ct).await;
                let ctx = format!(
                    "POST {path} ({ct:?}) body {:?}",
                    String::from_utf8_lossy(&body[..body.len().min(80)])
                );
                if r.status.is_success() {
                    assert!(
                        r.json.is_object() || r.json.is_array(),
                        "{ctx}: a 2xx must carry JSON: {}",
                        r.text()
                    );
                } else {
                    assert_any_envelope(&ctx, r.status, &r.json);
                    assert!(
                        [400u16, 401, 404, 405, 413, 415, 500].contains(&r.status.as_u16()),
                        "{ctx}: unexpected status {}",
                        r.status
                    );
                }
            }
        }
        // Syntactically invalid JSON is always a 400 MXInvalidInputException.
        let r = srv
            .lsq_post_raw(path, &admin, b"{\"oops\": ", Some("application/json"))
            .await;
        assert_envelope(
            &format!("invalid JSON to {path}"),
            r.status,
            &r.json,
            400,
            "MXInvalidInputException",
            &[],
        );
    }
    for q in [
        "/v2/LeadManagement.svc/Leads.GetById?id=%ZZ",
        "/v2/LeadManagement.svc/Leads.GetById?id=",
        "/v2/LeadManagement.svc/Leads.GetById?id=1&id=2",
        "/v2/ProspectActivity.svc/GetActivityDetails?activityId=%00",
        "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting?code=abc",
        "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting?code=99999999999999999999999",
        "/v2/UserManagement.svc/User/Retrieve/ByUserId?userId=';--",
        "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress?emailAddress=%E2%28%A1",
    ] {
        let r = srv
            .send(reqwest::Method::GET, &with_keys(q, &admin), &[], None)
            .await;
        if !r.status.is_success() {
            assert_any_envelope(&format!("GET {q}"), r.status, &r.json);
        } else {
            assert!(
                r.json.is_object() || r.json.is_array(),
                "GET {q}: {}",
                r.text()
            );
        }
    }

    // The server is alive and nothing was stored by any of it.
    assert_eq!(srv.record_count(&admin, &lead).await, 0);
    assert_eq!(srv.lead_score(&admin, &lead).await, 0);
    assert_eq!(srv.activity_types(&admin).await.len(), types_before);
    srv.post_simple(&admin, &lead, code, None).await;
    assert_eq!(srv.record_count(&admin, &lead).await, 1);
}

#[tokio::test]
async fn data_survives_a_restart_on_the_same_db_file() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(&admin, "Durable", 6, documented_create_type_fields())
        .await;
    let id = srv
        .post_activity(&admin, documented_create_body(&lead, code))
        .await;
    let row_before = srv.activity_row(&admin, &lead, &id).await;
    let lead_before = srv.get_lead(&admin, &lead).await;
    let setting_before = srv.activity_setting(&admin, code).await;
    srv.stop(); // SIGKILL: an acknowledged write must already be durable.

    let srv = Server::start(&db);
    assert_eq!(
        srv.record_count(&admin, &lead).await,
        1,
        "keys, lead and activity survive"
    );
    assert_eq!(srv.activity_row(&admin, &lead, &id).await, row_before);
    assert_eq!(srv.get_lead(&admin, &lead).await, lead_before);
    assert_eq!(srv.lead_score(&admin, &lead).await, 6);
    assert_eq!(srv.activity_setting(&admin, code).await, setting_before);
    let types = srv.activity_types(&admin).await;
    assert!(types
        .iter()
        .any(|t| t["ActivityEvent"] == json!(code) && t["ActivityEventName"] == "Durable"));

    // Work continues where it stopped.
    let next = srv.create_type(&admin, "After Restart", 0, json!([])).await;
    assert!(next > code, "codes are not reused: {next} after {code}");
    let (s, b) = srv
        .lead_create(&admin, &[("EmailAddress", "LEAD@acme.test")])
        .await;
    assert_envelope(
        "email still taken",
        s,
        &b,
        500,
        "MXDuplicateEntryException",
        &[],
    );
    srv.post_activity(&admin, documented_create_body(&lead, code))
        .await;
    assert_eq!(srv.record_count(&admin, &lead).await, 2);
}

#[tokio::test]
async fn the_26th_call_in_5_seconds_is_rate_limited_per_key() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let other = db.user(&admin, "other@acme.test", "Oscar", "Other", "Sales_Manager");
    let srv = Server::start_rate_limited(&db);
    let path = with_keys("/v2/ProspectActivity.svc/ActivityTypes.Get", &admin);

    let started = std::time::Instant::now();
    for i in 1..=25 {
        let r = srv.send(reqwest::Method::GET, &path, &[], None).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "call {i} is within the limit: {}",
            r.text()
        );
    }
    let r = srv.send(reqwest::Method::GET, &path, &[], None).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the test must make its 26 calls within 5 s"
    );
    assert_envelope(
        "26th call",
        r.status,
        &r.json,
        429,
        "MXAPIRateLimitExceededException",
        &["25"],
    );
    let retry_after: u64 = r
        .headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("429 without Retry-After: {:?}", r.headers))
        .to_str()
        .unwrap()
        .trim()
        .parse()
        .expect("Retry-After in whole seconds");
    assert!((1..=5).contains(&retry_after), "Retry-After {retry_after}");

    // Another user's key has its own bucket.
    let (s, b) = srv
        .lsq_get("/v2/ProspectActivity.svc/ActivityTypes.Get", &other)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // Keys in headers count against the same bucket as keys in the query.
    let (s, b) = srv
        .lsq_get_hdr("/v2/ProspectActivity.svc/ActivityTypes.Get", &admin)
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
}
