//! Authentication (keys in query or headers, case-insensitive names), tenant isolation and the
//! Sales_User visibility rule.

use crate::harness::*;

const TYPES: &str = "/v2/ProspectActivity.svc/ActivityTypes.Get";
const CREATE: &str = "/v2/ProspectActivity.svc/Create";

#[tokio::test]
async fn missing_or_wrong_keys_get_401_with_a_stable_envelope() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;

    let mut types = Vec::new();
    let no_keys = srv.send(reqwest::Method::GET, TYPES, &[], None).await;
    types.push(assert_any_envelope(
        "no keys",
        no_keys.status,
        &no_keys.json,
    ));
    assert_eq!(no_keys.status, StatusCode::UNAUTHORIZED);

    let only_access = srv
        .send(
            reqwest::Method::GET,
            &format!("{TYPES}?accessKey={}", admin.access_key.replace('$', "%24")),
            &[],
            None,
        )
        .await;
    assert_eq!(
        only_access.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        only_access.text()
    );
    types.push(assert_any_envelope(
        "only accessKey",
        only_access.status,
        &only_access.json,
    ));

    let wrong_secret = admin.with_secret(&"0".repeat(64));
    let (s, b) = srv.lsq_get(TYPES, &wrong_secret).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    types.push(assert_any_envelope("wrong secret", s, &b));

    let mut unknown = admin.clone();
    unknown.access_key = format!("u$r{}", "a".repeat(32));
    let (s, b) = srv.lsq_get(TYPES, &unknown).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    types.push(assert_any_envelope("unknown access key", s, &b));
    assert!(
        !b.to_string().contains(&admin.secret_key),
        "errors never echo secrets"
    );

    // A POST with a wrong secret stores nothing.
    let code = srv.create_type(&admin, "Guarded", 1, json!([])).await;
    let (s, b) = srv
        .lsq_post(
            CREATE,
            &wrong_secret,
            json!({"RelatedProspectId": lead, "ActivityEvent": code}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    types.push(assert_any_envelope("POST with wrong secret", s, &b));
    assert_eq!(srv.record_count(&admin, &lead).await, 0);

    types.dedup();
    assert_eq!(
        types.len(),
        1,
        "one stable ExceptionType for every 401: {types:?}"
    );
}

#[tokio::test]
async fn keys_in_headers_work_and_header_names_are_case_insensitive() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv.create_type(&admin, "Via Headers", 0, json!([])).await;

    let (s, b) = srv.lsq_get_hdr(TYPES, &admin).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(b
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["ActivityEvent"] == json!(code)));

    let (s, b) = srv
        .lsq_post_hdr(
            CREATE,
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": code}),
        )
        .await;
    assert_success("Create with header keys", s, &b);

    let (s, b) = srv
        .lsq_post_hdr(
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["RecordCount"], 1, "{b}");

    // Header names in odd cases, written verbatim on the wire.
    for (ak, sk) in [
        ("X-LSQ-ACCESSKEY", "X-LSQ-SECRETKEY"),
        ("x-lsq-accesskey", "x-lsq-secretkey"),
        ("X-Lsq-AccessKey", "x-LSQ-SecretKEY"),
    ] {
        let req = format!(
            "POST /v2/ProspectActivity.svc/Retrieve?leadId={lead} HTTP/1.1\r\n\
             Host: {host}\r\n{ak}: {a}\r\n{sk}: {s}\r\nContent-Type: application/json\r\n\
             Content-Length: 2\r\nConnection: close\r\n\r\n{{}}",
            host = srv.host_port,
            a = admin.access_key,
            s = admin.secret_key,
        );
        let (status, body) = srv.raw_http(&req);
        assert_eq!(status, 200, "{ak}/{sk}: {body}");
        assert_eq!(body["RecordCount"], 1, "{ak}/{sk}: {body}");
    }

    // Wrong secret in a header is still a 401.
    let (s, b) = srv
        .lsq_get_hdr(TYPES, &admin.with_secret(&"f".repeat(64)))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
}

#[tokio::test]
async fn query_parameter_names_are_matched_case_insensitively() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv.create_type(&admin, "Case", 0, json!([])).await;
    srv.post_simple(&admin, &lead, code, None).await;

    let ak = admin.access_key.replace('$', "%24");
    for (akn, skn, lidn) in [
        ("accessKey", "secretKey", "leadId"),
        ("AccessKey", "SecretKey", "LeadId"),
        ("ACCESSKEY", "secretkey", "leadid"),
    ] {
        let path = format!(
            "/v2/ProspectActivity.svc/Retrieve?{lidn}={lead}&{akn}={ak}&{skn}={}",
            admin.secret_key
        );
        let r = srv
            .send(
                reqwest::Method::POST,
                &path,
                &[],
                Some((b"{}".to_vec(), Some("application/json"))),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        assert_eq!(r.json["RecordCount"], 1, "{path}: {}", r.text());
    }

    // The access key un-encoded (`$` as is) works too.
    let path = format!(
        "/v2/LeadManagement.svc/Leads.GetById?Id={lead}&accessKey={}&secretKey={}",
        admin.access_key, admin.secret_key
    );
    let r = srv.send(reqwest::Method::GET, &path, &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json.as_array().map(|a| a.len()), Some(1), "{}", r.text());
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let db = Db::new();
    let a = db.tenant("Tenant A", "admin@a.test");
    let b = db.tenant("Tenant B", "admin@b.test");
    let srv = Server::start(&db);

    let lead_a = srv.create_lead(&a, "shared@example.com").await;
    let code_a = srv
        .create_type(
            &a,
            "Alpha Visit",
            9,
            json!([fdef(1, "mx_Custom_1", "String")]),
        )
        .await;
    let act_a = srv
        .post_activity(
            &a,
            json!({"RelatedProspectId": lead_a, "ActivityEvent": code_a,
                   "Fields": [{"SchemaName": "mx_Custom_1", "Value": "secret A"}]}),
        )
        .await;
    let row_a = srv.activity_row(&a, &lead_a, &act_a).await;

    // B cannot read A's lead, its activities or the activity itself.
    let unknown = unknown_guid();
    let (s_unknown, b_unknown) = srv
        .lsq_post(
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={unknown}"),
            &b,
            json!({}),
        )
        .await;
    let (s, body) = srv
        .lsq_post(
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead_a}"),
            &b,
            json!({}),
        )
        .await;
    assert_envelope(
        "B retrieves A's lead",
        s,
        &body,
        500,
        "MXInvalidEntityException",
        &["Lead does not exist in the system"],
    );
    assert_eq!(
        (s, &body["ExceptionType"]),
        (s_unknown, &b_unknown["ExceptionType"])
    );
    let (s, body) = srv
        .lsq_get(
            &format!("/v2/LeadManagement.svc/Leads.GetById?id={lead_a}"),
            &b,
        )
        .await;
    assert_eq!((s, body), (StatusCode::OK, json!([])));
    let (s, body) = srv
        .lsq_get(
            &format!("/v2/ProspectActivity.svc/GetActivityDetails?activityId={act_a}"),
            &b,
        )
        .await;
    assert_envelope(
        "B reads A's activity",
        s,
        &body,
        500,
        "MXInvalidEntityException",
        &[],
    );

    // B's types: A's type is invisible; B may reuse its name and gets its own code 201.
    let types_b = srv.activity_types(&b).await;
    assert!(
        types_b
            .iter()
            .all(|t| t["ActivityEventName"] != "Alpha Visit"),
        "{types_b:?}"
    );
    let (s, body) = srv
        .lsq_get(
            &format!("/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting?code={code_a}"),
            &b,
        )
        .await;
    assert_any_envelope("B reads A's type setting", s, &body);
    let code_b = srv.create_type(&b, "Alpha Visit", 1, json!([])).await;
    assert_eq!(code_b, 201, "codes are per tenant");
    let st = srv.activity_setting(&b, code_b).await;
    assert!(
        st["Fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["SchemaName"] != "mx_Custom_1"),
        "B's type is its own: {st}"
    );

    // B cannot post on A's lead (with its own type code), in bulk or alone, nor edit A's activity.
    let (s, body) = srv
        .lsq_post(
            CREATE,
            &b,
            json!({"RelatedProspectId": lead_a, "ActivityEvent": code_b}),
        )
        .await;
    assert_envelope(
        "B posts on A's lead",
        s,
        &body,
        500,
        "MXInvalidEntityException",
        &["Lead does not exist in the system"],
    );
    let (s, body) = srv
        .bulk_by_lead(
            &b,
            json!([{"RelatedProspectId": lead_a, "ActivityEvent": code_b}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body["Response"][0]["ActivityCreated"],
        json!(false),
        "{body}"
    );
    let (s, body) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/CustomActivity/Update",
            &b,
            json!({"ProspectActivityId": act_a, "ActivityEvent": code_b, "ActivityNote": "hijack"}),
        )
        .await;
    assert_any_envelope("B updates A's activity", s, &body);

    // A's data is untouched.
    assert_eq!(srv.record_count(&a, &lead_a).await, 1);
    assert_eq!(srv.lead_score(&a, &lead_a).await, 9);
    assert_eq!(srv.activity_row(&a, &lead_a, &act_a).await, row_a);

    // Users are per tenant.
    let (s, users) = srv.lsq_get("/v2/UserManagement.svc/Users.Get", &b).await;
    assert_eq!(s, StatusCode::OK);
    let users = users.as_array().unwrap().clone();
    assert_eq!(users.len(), 1, "{users:?}");
    assert!(users.iter().all(|u| u["EmailAddress"] != "admin@a.test"));
    let (_, body) = srv
        .lsq_get(
            "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress?emailAddress=admin@a.test",
            &b,
        )
        .await;
    assert_eq!(body, json!([]));
    let (_, body) = srv
        .lsq_get(
            &format!(
                "/v2/UserManagement.svc/User/Retrieve/ByUserId?userId={}",
                a.user_id
            ),
            &b,
        )
        .await;
    assert_eq!(body, json!([]));

    // Lead uniqueness is per tenant too.
    let lead_b = srv.create_lead(&b, "shared@example.com").await;
    assert_ne!(lead_a.to_lowercase(), lead_b.to_lowercase());
    assert_eq!(srv.record_count(&b, &lead_b).await, 0);
}

#[tokio::test]
async fn a_sales_user_sees_only_its_own_leads_and_others_see_all() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let mgr = db.user(&admin, "mgr@acme.test", "Max", "Grey", "Sales_Manager");
    let srv = Server::start(&db);
    let code = srv.create_type(&admin, "Visible", 2, json!([])).await;

    let admin_lead = srv.create_lead(&admin, "admin-lead@acme.test").await;
    let admin_act = srv.post_simple(&admin, &admin_lead, code, None).await;
    let rep_lead = srv.create_lead(&rep, "rep-lead@acme.test").await;
    assert!(
        same_id(
            srv.get_lead(&rep, &rep_lead).await["OwnerId"]
                .as_str()
                .unwrap_or(""),
            &rep.user_id
        ),
        "a Sales_User owns the leads it creates"
    );
    srv.post_simple(&rep, &rep_lead, code, None).await;

    // The rep gets exactly the unknown-lead answer for the admin's lead.
    let retrieve = |lead: &str| format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}");
    let (s0, b0) = srv
        .lsq_post(&retrieve(&unknown_guid()), &rep, json!({}))
        .await;
    let (s1, b1) = srv.lsq_post(&retrieve(&admin_lead), &rep, json!({})).await;
    assert_envelope(
        "rep retrieves admin's lead",
        s1,
        &b1,
        500,
        "MXInvalidEntityException",
        &["Lead does not exist in the system"],
    );
    assert_eq!(s0, s1);
    assert_eq!(b0["ExceptionType"], b1["ExceptionType"]);

    let (s, b) = srv
        .lsq_post(
            CREATE,
            &rep,
            json!({"RelatedProspectId": admin_lead, "ActivityEvent": code}),
        )
        .await;
    assert_envelope(
        "rep posts on admin's lead",
        s,
        &b,
        500,
        "MXInvalidEntityException",
        &["Lead does not exist in the system"],
    );
    let (s, b) = srv
        .lsq_get(
            &format!("/v2/LeadManagement.svc/Leads.GetById?id={admin_lead}"),
            &rep,
        )
        .await;
    assert_eq!((s, b), (StatusCode::OK, json!([])));
    let (s_unknown, b_unknown) = srv
        .lsq_get(
            &format!(
                "/v2/ProspectActivity.svc/GetActivityDetails?activityId={}",
                unknown_guid()
            ),
            &rep,
        )
        .await;
    let (s, b) = srv
        .lsq_get(
            &format!("/v2/ProspectActivity.svc/GetActivityDetails?activityId={admin_act}"),
            &rep,
        )
        .await;
    assert_any_envelope("rep reads admin's activity", s, &b);
    assert_eq!(
        (s, &b["ExceptionType"]),
        (s_unknown, &b_unknown["ExceptionType"])
    );
    let (s, b) = srv
        .bulk_by_lead(
            &rep,
            json!([{"RelatedProspectId": admin_lead, "ActivityEvent": code}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["Response"][0]["ActivityCreated"], json!(false), "{b}");
    assert_eq!(
        srv.record_count(&admin, &admin_lead).await,
        1,
        "nothing stored"
    );
    assert_eq!(srv.lead_score(&admin, &admin_lead).await, 2);

    // The rep works on its own lead.
    assert_eq!(srv.record_count(&rep, &rep_lead).await, 1);
    assert_eq!(srv.lead_score(&rep, &rep_lead).await, 2);

    // Administrator and Sales_Manager see everything.
    for c in [&admin, &mgr] {
        assert_eq!(srv.record_count(c, &rep_lead).await, 1);
        assert_eq!(srv.record_count(c, &admin_lead).await, 1);
        srv.get_lead(c, &rep_lead).await;
        srv.get_lead(c, &admin_lead).await;
    }
    srv.post_simple(&admin, &rep_lead, code, None).await;
    assert_eq!(
        srv.record_count(&rep, &rep_lead).await,
        2,
        "the rep sees activities others post on its lead"
    );
}

/// The value of the Prometheus sample `series` (name and labels) on the server's `/metrics`.
async fn metric(srv: &Server, series: &str) -> f64 {
    let text = srv
        .send(reqwest::Method::GET, "/metrics", &[], None)
        .await
        .text();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

/// After 30 refused credentials in a minute an address is answered 429 with `Retry-After` in the
/// envelope, without a store lookup — even for good keys — while other addresses keep working.
/// On with `--no-rate-limit` too (the server under test runs with it).
#[tokio::test]
async fn repeated_refused_keys_lock_the_address_out_without_store_lookups() {
    const LIMIT: usize = 30;
    const LOOKUPS: &str =
        r#"activity_hub_store_call_duration_seconds_count{op="user_by_access_key",outcome="ok"}"#;
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    // Unknown access keys: never cached, so each refusal is a store lookup.
    let unknown = |n: usize| {
        let mut c = admin.clone();
        c.access_key = format!("u$r{n:032x}");
        c
    };
    for n in 0..LIMIT {
        let (s, b) = srv.lsq_get(TYPES, &unknown(n)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {n}: {b}");
    }
    let lookups = metric(&srv, LOOKUPS).await;
    assert!(lookups >= LIMIT as f64, "{lookups}");

    for n in LIMIT..LIMIT + 10 {
        let r = srv
            .send(
                reqwest::Method::GET,
                &with_keys(TYPES, &unknown(n)),
                &[],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
        assert_eq!(r.json["Status"], json!("Error"), "{}", r.text());
        assert_eq!(
            r.json["ExceptionType"],
            json!("MXAPIRateLimitExceededException")
        );
        assert!(
            r.json["ExceptionMessage"]
                .as_str()
                .is_some_and(|m| m.contains("refused credentials")),
            "{}",
            r.text()
        );
        let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "Retry-After {wait}");
    }
    // The address is locked out before anything is looked up, good keys included.
    let (s, b) = srv.lsq_get(TYPES, &admin).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
    assert_eq!(metric(&srv, LOOKUPS).await, lookups, "no store lookup");
    assert_eq!(
        metric(&srv, "activity_hub_login_lockout_refusals_total").await,
        11.0
    );

    // Another address (127.0.0.2, also loopback) is not affected.
    let other = reqwest::Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let good = other
        .get(srv.url(&with_keys(TYPES, &admin)))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    let bad = other
        .get(srv.url(&with_keys(TYPES, &unknown(999))))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
}
