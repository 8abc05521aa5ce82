//! The lead calls LeadSquared's public clients make before they post activities: posting by the
//! lead's email, `Lead.Update`, `Lead.CreateOrUpdate`, `Lead.Capture`, `Leads.GetByEmailaddress`,
//! `Leads.GetByQuickSearch` and `LeadsMetaData.Get`, shaped as those clients send them.

use crate::harness::*;

const CREATE: &str = "/v2/ProspectActivity.svc/Create";

fn attrs(pairs: &[(&str, Value)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(a, v)| json!({"Attribute": a, "Value": v}))
            .collect(),
    )
}

/// GET with the API key as Bearer (the Salesloft and native dialects).
async fn bearer_get(srv: &Server, c: &Creds, path: &str) -> (StatusCode, Value) {
    let auth = format!("Bearer {}", c.api_key);
    let r = srv
        .send(
            reqwest::Method::GET,
            path,
            &[("Authorization", auth.as_str())],
            None,
        )
        .await;
    (r.status, r.json)
}

/// `Leads.GetByEmailaddress` with the address un-encoded, as the PHP library sends it.
async fn leads_by_email(srv: &Server, c: &Creds, email: &str) -> Vec<Value> {
    let (s, b) = srv
        .lsq_get(
            &format!("/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress={email}"),
            c,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "GetByEmailaddress {email}: {b}");
    b.as_array()
        .unwrap_or_else(|| panic!("GetByEmailaddress answers an array: {b}"))
        .clone()
}

fn id_of(b: &Value) -> String {
    b["Message"]["Id"]
        .as_str()
        .unwrap_or_else(|| panic!("no Message.Id: {b}"))
        .to_string()
}

#[tokio::test]
async fn an_activity_posted_by_email_creates_the_lead_once_then_lands_on_it() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let code = srv.create_type(&admin, "Webinar", 5, json!([])).await;

    // Nothing is created when the activity is bad (unknown event code, bad email, bad score).
    for (body, mention) in [
        (
            json!({"EmailAddress": "ada@example.com", "ActivityEvent": 99999}),
            "99999",
        ),
        (
            json!({"EmailAddress": "not-an-email", "ActivityEvent": code}),
            "EmailAddress",
        ),
        (
            json!({"EmailAddress": "ada@example.com", "ActivityEvent": code, "Score": "lots"}),
            "Score",
        ),
    ] {
        let (s, b) = srv.lsq_post(CREATE, &admin, body.clone()).await;
        assert_eq!(b["Status"], "Error", "{body}: {b}");
        assert!(s.is_client_error() || s.is_server_error(), "{body}: {s}");
        assert!(
            b["ExceptionMessage"]
                .as_str()
                .unwrap_or("")
                .contains(mention),
            "{body}: {b}"
        );
    }
    assert!(leads_by_email(&srv, &admin, "ada@example.com")
        .await
        .is_empty());

    // The Ruby gem's shape: strings for numbers, nulls for what it does not know.
    let first = srv
        .post_activity(
            &admin,
            json!({"EmailAddress": "ada@example.com", "ActivityEvent": code.to_string(),
                   "ActivityNote": "signed up", "FirstName": "Ada", "LastName": null,
                   "Phone": null, "Score": "7", "ActivityDateTime": "2024-05-01 10:00:00"}),
        )
        .await;
    let leads = leads_by_email(&srv, &admin, "ada@example.com").await;
    assert_eq!(leads.len(), 1, "{leads:?}");
    let lead = leads[0]["ProspectID"].as_str().unwrap().to_string();
    assert_eq!(leads[0]["FirstName"], "Ada");
    assert!(same_id(
        leads[0]["OwnerId"].as_str().unwrap(),
        &admin.user_id
    ));

    // The same address in other case: the same lead, no second one; Score is the activity's.
    let second = srv
        .post_activity(
            &admin,
            json!({"EmailAddress": "ADA@Example.com", "ActivityEvent": code, "FirstName": "Other"}),
        )
        .await;
    assert_ne!(first, second);
    assert_eq!(srv.record_count(&admin, &lead).await, 2);
    assert_eq!(
        srv.lead_score(&admin, &lead).await,
        7 + 5,
        "Score replaces the first activity's type score"
    );
    let again = leads_by_email(&srv, &admin, "ADA@EXAMPLE.COM").await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0]["FirstName"], "Ada",
        "an existing lead is not changed"
    );
    let ids = srv.activity_ids(&admin, &lead, json!({})).await;
    assert!(ids.contains(&first) && ids.contains(&second), "{ids:?}");
}

#[tokio::test]
async fn posting_by_email_respects_sales_user_visibility_and_ownership() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let srv = Server::start(&db);
    let code = srv.create_type(&admin, "Call", 1, json!([])).await;
    srv.create_lead(&admin, "boss@example.com").await;

    // The admin's lead answers the Sales_User exactly as an unknown lead does.
    let (s1, by_email) = srv
        .lsq_post(
            CREATE,
            &rep,
            json!({"EmailAddress": "boss@example.com", "ActivityEvent": code}),
        )
        .await;
    let (s2, by_id) = srv
        .lsq_post(
            CREATE,
            &rep,
            json!({"RelatedProspectId": unknown_guid(), "ActivityEvent": code}),
        )
        .await;
    assert_eq!((s1, &by_email), (s2, &by_id));
    assert_eq!(by_email["Status"], "Error");

    // A new email: the Sales_User's own lead, whatever OwnerId-like field it sends.
    srv.post_activity(
        &rep,
        json!({"EmailAddress": "new@example.com", "ActivityEvent": code, "FirstName": "N"}),
    )
    .await;
    let mine = leads_by_email(&srv, &rep, "new@example.com").await;
    assert_eq!(mine.len(), 1);
    assert!(same_id(mine[0]["OwnerId"].as_str().unwrap(), &rep.user_id));
    assert!(leads_by_email(&srv, &rep, "boss@example.com")
        .await
        .is_empty());
}

#[tokio::test]
async fn concurrent_posts_by_a_new_email_make_one_lead() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = std::sync::Arc::new(Server::start(&db));
    let code = srv.create_type(&admin, "Visit", 2, json!([])).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let srv = srv.clone();
        let admin = admin.clone();
        tasks.push(tokio::spawn(async move {
            srv.lsq_post(
                CREATE,
                &admin,
                json!({"EmailAddress": "race@example.com", "ActivityEvent": code,
                       "ActivityNote": format!("n{i}")}),
            )
            .await
        }));
    }
    for t in tasks {
        let (s, b) = t.await.unwrap();
        assert_success("concurrent Create by email", s, &b);
    }
    let leads = leads_by_email(&srv, &admin, "race@example.com").await;
    assert_eq!(leads.len(), 1);
    let lead = leads[0]["ProspectID"].as_str().unwrap();
    assert_eq!(srv.record_count(&admin, lead).await, 8);
}

#[tokio::test]
async fn lead_update_merges_checks_and_refuses_clashes_changing_nothing() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let id = srv
        .create_lead_with(
            &admin,
            &[
                ("FirstName", "Ada"),
                ("EmailAddress", "ada@example.com"),
                ("Phone", "111"),
                ("mx_City", "London"),
            ],
        )
        .await;
    srv.create_lead_with(
        &admin,
        &[("EmailAddress", "bob@example.com"), ("Phone", "222")],
    )
    .await;
    let before = srv.get_lead(&admin, &id).await;
    let update = format!("/v2/LeadManagement.svc/Lead.Update?leadId={id}");

    let (s, b) = srv
        .lsq_post(
            &update,
            &admin,
            attrs(&[
                ("LastName", json!("Lovelace")),
                ("mx_Tier", json!(2)),
                ("Mobile", json!(null)),
            ]),
        )
        .await;
    assert_success("Lead.Update", s, &b);
    assert_eq!(b["Message"]["AffectedRows"], 1, "{b}");
    let after = srv.get_lead(&admin, &id).await;
    assert_eq!(after["FirstName"], "Ada", "untouched values stay: {after}");
    assert_eq!(after["LastName"], "Lovelace");
    assert_eq!(
        after["mx_City"], "London",
        "custom fields are merged: {after}"
    );
    assert_eq!(after["mx_Tier"], "2");
    assert!(
        after["ModifiedOn"].as_str().unwrap() >= before["ModifiedOn"].as_str().unwrap(),
        "{before} → {after}"
    );

    // Bad input: an envelope naming the problem, and the lead as it was.
    for (body, status, kind, mention) in [
        (
            attrs(&[("EmailAddress", json!("BOB@example.com"))]),
            500,
            "MXDuplicateEntryException",
            "EmailAddress",
        ),
        (
            attrs(&[("Phone", json!("222"))]),
            500,
            "MXDuplicateEntryException",
            "Phone",
        ),
        (
            attrs(&[("EmailAddress", json!("nope"))]),
            500,
            "MXInvalidActivityFieldsException",
            "EmailAddress",
        ),
        (
            attrs(&[("FirstName", json!("x".repeat(300)))]),
            500,
            "MXInvalidActivityFieldsException",
            "FirstName",
        ),
        (
            attrs(&[("Colour", json!("red"))]),
            400,
            "MXInvalidInputException",
            "Colour",
        ),
        (
            attrs(&[("DoNotCall", json!("maybe"))]),
            400,
            "MXInvalidInputException",
            "DoNotCall",
        ),
        (
            json!({"Attribute": "FirstName"}),
            400,
            "MXInvalidInputException",
            "shape",
        ),
    ] {
        let (s, b) = srv.lsq_post(&update, &admin, body.clone()).await;
        assert_envelope(&format!("{body}"), s, &b, status, kind, &[mention]);
    }
    // Clearing every identifying value is refused too.
    let (s, b) = srv
        .lsq_post(
            &update,
            &admin,
            attrs(&[
                ("FirstName", json!("")),
                ("LastName", json!(null)),
                ("EmailAddress", json!("")),
                ("Phone", json!("")),
            ]),
        )
        .await;
    assert_eq!(b["Status"], "Error", "{s} {b}");
    assert_eq!(srv.get_lead(&admin, &id).await, after, "nothing changed");

    // Unknown lead, missing leadId.
    let (s, b) = srv
        .lsq_post(
            &format!(
                "/v2/LeadManagement.svc/Lead.Update?leadId={}",
                unknown_guid()
            ),
            &admin,
            attrs(&[("FirstName", json!("X"))]),
        )
        .await;
    assert_envelope(
        "unknown lead",
        s,
        &b,
        500,
        "MXInvalidEntityException",
        &["Lead"],
    );
    let (s, b) = srv
        .lsq_post(
            "/v2/LeadManagement.svc/Lead.Update",
            &admin,
            attrs(&[("FirstName", json!("X"))]),
        )
        .await;
    assert_envelope(
        "no leadId",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["leadId"],
    );

    // The email may change its own case; lookups find it either way.
    let (s, b) = srv
        .lsq_post(
            &update,
            &admin,
            attrs(&[("EmailAddress", json!("Ada@Example.com"))]),
        )
        .await;
    assert_success("case change", s, &b);
    assert_eq!(
        leads_by_email(&srv, &admin, "ada@example.com").await.len(),
        1
    );
}

#[tokio::test]
async fn an_owner_change_moves_the_lead_and_its_activities_between_sales_users() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let srv = Server::start(&db);
    let code = srv.create_type(&admin, "Meeting", 3, json!([])).await;
    let lead = srv.create_lead(&admin, "moved@example.com").await;
    let activity = srv.post_simple(&admin, &lead, code, None).await;
    let feed = |c: &Creds| {
        let c = c.clone();
        let srv = &srv;
        async move {
            let (s, b) = bearer_get(srv, &c, "/v2/activity_histories?per_page=100").await;
            assert_eq!(s, StatusCode::OK, "{b}");
            b["data"].as_array().cloned().unwrap_or_default()
        }
    };
    let (_, b) = srv
        .lsq_post(
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
            &rep,
            json!({}),
        )
        .await;
    assert_eq!(b["Status"], "Error", "not the rep's lead yet: {b}");
    assert!(feed(&rep).await.is_empty());
    let before = feed(&admin).await;
    assert_eq!(before.len(), 1);

    let update = format!("/v2/LeadManagement.svc/Lead.Update?leadId={lead}");
    let (s, b) = srv
        .lsq_post(&update, &admin, attrs(&[("OwnerId", json!(rep.user_id))]))
        .await;
    assert_success("owner change", s, &b);
    assert_eq!(srv.record_count(&rep, &lead).await, 1);
    assert_eq!(
        srv.activity_ids(&rep, &lead, json!({})).await,
        vec![activity.clone()]
    );
    let rows = feed(&rep).await;
    assert_eq!(rows.len(), 1, "the rep's feed now has the lead's activity");
    assert!(
        rows[0]["updated_at"].as_str() > before[0]["updated_at"].as_str(),
        "the activity is restamped so cursor clients see it: {} → {}",
        before[0]["updated_at"],
        rows[0]["updated_at"]
    );
    // A Sales_User's OwnerId is ignored, as in Lead.Create: it cannot give the lead away.
    let (s, b) = srv
        .lsq_post(&update, &rep, attrs(&[("OwnerId", json!(admin.user_id))]))
        .await;
    assert_success("rep update", s, &b);
    assert_eq!(srv.record_count(&rep, &lead).await, 1);
    // Back to the admin: the rep loses it in both dialects.
    let (s, b) = srv
        .lsq_post(&update, &admin, attrs(&[("OwnerId", json!(admin.user_id))]))
        .await;
    assert_success("owner back", s, &b);
    assert!(feed(&rep).await.is_empty());
    let (_, b) = srv
        .lsq_post(
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
            &rep,
            json!({}),
        )
        .await;
    assert_eq!(b["Status"], "Error", "{b}");
    // An unknown owner is refused and changes nothing.
    let (s, b) = srv
        .lsq_post(
            &update,
            &admin,
            attrs(&[("OwnerId", json!(unknown_guid()))]),
        )
        .await;
    // Lead values are refused as Lead.Create refuses them.
    assert_envelope(
        "unknown owner",
        s,
        &b,
        500,
        "MXInvalidActivityFieldsException",
        &["OwnerId"],
    );
    assert!(same_id(
        srv.get_lead(&admin, &lead).await["OwnerId"]
            .as_str()
            .unwrap(),
        &admin.user_id
    ));
}

#[tokio::test]
async fn create_or_update_finds_by_search_by_creates_when_missing_and_reports_clashes() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let path = "/v2/LeadManagement.svc/Lead.CreateOrUpdate?postUpdatedLead=false";
    let body = |first: &str| {
        attrs(&[
            ("EmailAddress", json!("carol@example.com")),
            ("FirstName", json!(first)),
            ("Phone", json!("333")),
            ("SearchBy", json!("EmailAddress")),
        ])
    };
    let (s, b) = srv.lsq_post(path, &admin, body("Carol")).await;
    assert_success("create", s, &b);
    let id = id_of(&b);
    let (s, b) = srv.lsq_post(path, &admin, body("Caroline")).await;
    assert_success("update", s, &b);
    assert_eq!(id_of(&b), id, "found by email, not created again");
    assert_eq!(srv.get_lead(&admin, &id).await["FirstName"], "Caroline");

    // SearchBy Phone finds the same lead; postUpdatedLead=true answers it.
    let (s, b) = srv
        .lsq_post(
            "/v2/LeadManagement.svc/Lead.CreateOrUpdate?postUpdatedLead=true",
            &admin,
            attrs(&[
                ("Phone", json!("333")),
                ("mx_Plan", json!("Gold")),
                ("SearchBy", json!("Phone")),
            ]),
        )
        .await;
    assert_success("by phone", s, &b);
    assert_eq!(id_of(&b), id);
    assert_eq!(b["Message"]["Lead"]["mx_Plan"], "Gold", "{b}");

    // Searching by email for a new address whose phone is taken: the clash, and no lead.
    let (s, b) = srv
        .lsq_post(
            path,
            &admin,
            attrs(&[
                ("EmailAddress", json!("dave@example.com")),
                ("Phone", json!("333")),
                ("SearchBy", json!("EmailAddress")),
            ]),
        )
        .await;
    assert_envelope(
        "phone clash",
        s,
        &b,
        500,
        "MXDuplicateEntryException",
        &["Phone"],
    );
    assert!(leads_by_email(&srv, &admin, "dave@example.com")
        .await
        .is_empty());
    // Bad SearchBy, and nothing to search by.
    let (s, b) = srv
        .lsq_post(
            path,
            &admin,
            attrs(&[
                ("EmailAddress", json!("e@example.com")),
                ("SearchBy", json!("Fax")),
            ]),
        )
        .await;
    assert_envelope(
        "bad SearchBy",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["SearchBy"],
    );
    let (s, b) = srv
        .lsq_post(path, &admin, attrs(&[("FirstName", json!("Nobody"))]))
        .await;
    assert_envelope(
        "no key",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["EmailAddress"],
    );
    assert!(leads_by_email(&srv, &admin, "e@example.com")
        .await
        .is_empty());
}

#[tokio::test]
async fn lead_capture_creates_then_updates_and_lands_on_the_one_store() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let code = srv.create_type(&admin, "Form", 1, json!([])).await;
    let path = "/v2/LeadManagement.svc/Lead.Capture";
    let (s, b) = srv
        .lsq_post(
            path,
            &admin,
            attrs(&[
                ("FirstName", json!("Erin")),
                ("EmailAddress", json!("erin@example.com")),
                ("Phone", json!("444")),
                ("mx_Source_Form", json!("pricing")),
            ]),
        )
        .await;
    assert_success("capture new", s, &b);
    assert_eq!(b["Message"]["IsCreated"], true, "{b}");
    let id = id_of(&b);

    // Captured again by email: updated, not created.
    let (s, b) = srv
        .lsq_post(
            path,
            &admin,
            attrs(&[
                ("EmailAddress", json!("ERIN@example.com")),
                ("LastName", json!("Ek")),
            ]),
        )
        .await;
    assert_success("capture again", s, &b);
    assert_eq!(b["Message"]["IsCreated"], false, "{b}");
    assert_eq!(id_of(&b), id);
    let lead = srv.get_lead(&admin, &id).await;
    assert_eq!(
        (&lead["FirstName"], &lead["LastName"]),
        (&json!("Erin"), &json!("Ek"))
    );
    assert_eq!(lead["EmailAddress"], "ERIN@example.com");

    // LeadUpdateBehavior=DoNotUpdate leaves it; UpdateOnlyEmptyFields fills only blanks.
    let (s, b) = srv
        .lsq_post(
            &format!("{path}?LeadUpdateBehavior=DoNotUpdate"),
            &admin,
            attrs(&[("Phone", json!("444")), ("FirstName", json!("Changed"))]),
        )
        .await;
    assert_success("DoNotUpdate", s, &b);
    assert_eq!(srv.get_lead(&admin, &id).await["FirstName"], "Erin");
    let (s, b) = srv
        .lsq_post(
            &format!("{path}?LeadUpdateBehavior=UpdateOnlyEmptyFields"),
            &admin,
            attrs(&[
                ("ProspectID", json!(id)),
                ("FirstName", json!("Changed")),
                ("Mobile", json!("555")),
            ]),
        )
        .await;
    assert_success("UpdateOnlyEmptyFields", s, &b);
    let lead = srv.get_lead(&admin, &id).await;
    assert_eq!(
        (&lead["FirstName"], &lead["Mobile"]),
        (&json!("Erin"), &json!("555"))
    );
    let (s, b) = srv
        .lsq_post(
            &format!("{path}?LeadUpdateBehavior=Sometimes"),
            &admin,
            attrs(&[("Phone", json!("444"))]),
        )
        .await;
    assert_envelope(
        "bad behaviour",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["LeadUpdateBehavior"],
    );

    // The same lead in the native API and, with an activity on it, in Salesloft's feed.
    let (s, native) = bearer_get(&srv, &admin, &format!("/api/v1/leads/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{native}");
    let native = native["data"].clone();
    assert_eq!(native["email"], "ERIN@example.com");
    assert_eq!(native["attributes"]["mx_Source_Form"], "pricing");
    srv.post_activity(
        &admin,
        json!({"EmailAddress": "erin@example.com", "ActivityEvent": code}),
    )
    .await;
    let (s, feed) = bearer_get(&srv, &admin, "/v2/activity_histories").await;
    assert_eq!(s, StatusCode::OK, "{feed}");
    let rows = feed["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{feed}");
    assert_eq!(rows[0]["resource_type"], "person");
    assert_eq!(rows[0]["resource_id"], native["id"]);
}

#[tokio::test]
async fn quick_search_matches_prefixes_of_visible_leads_and_metadata_lists_the_schema() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let srv = Server::start(&db);
    srv.create_lead_with(
        &admin,
        &[
            ("FirstName", "Grace"),
            ("LastName", "Hopper"),
            ("EmailAddress", "grace@navy.mil"),
            ("mx_Rank", "RAdm"),
        ],
    )
    .await;
    srv.create_lead_with(&rep, &[("FirstName", "Gregory"), ("Phone", "+1-555-0100")])
        .await;
    srv.create_lead_with(
        &admin,
        &[("FirstName", "100%"), ("EmailAddress", "pct@example.com")],
    )
    .await;
    let search = |c: &Creds, key: &str| {
        let path = format!("/v2/LeadManagement.svc/Leads.GetByQuickSearch?key={key}");
        let c = c.clone();
        let srv = &srv;
        async move {
            let (s, b) = srv.lsq_get(&path, &c).await;
            assert_eq!(s, StatusCode::OK, "{path}: {b}");
            let mut names: Vec<String> = b
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["FirstName"].as_str().unwrap_or("").to_string())
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(search(&admin, "gr").await, vec!["Grace", "Gregory"]);
    assert_eq!(search(&admin, "GRACE%20HOP").await, vec!["Grace"]);
    assert_eq!(search(&admin, "grace@navy").await, vec!["Grace"]);
    assert_eq!(search(&admin, "%2B1-555").await, vec!["Gregory"]);
    assert_eq!(search(&admin, "hopper").await, vec!["Grace"]);
    assert!(
        search(&admin, "race").await.is_empty(),
        "a prefix, not a substring"
    );
    assert_eq!(search(&admin, "100%25").await, vec!["100%"]);
    assert!(search(&admin, "%25").await.is_empty(), "% is no wildcard");
    assert_eq!(
        search(&rep, "gr").await,
        vec!["Gregory"],
        "a Sales_User's own leads"
    );
    let (s, b) = srv
        .lsq_get("/v2/LeadManagement.svc/Leads.GetByQuickSearch", &admin)
        .await;
    assert_envelope("no key", s, &b, 400, "MXInvalidInputException", &["key"]);

    let (s, b) = srv
        .lsq_get("/v2/LeadManagement.svc/LeadsMetaData.Get", &rep)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let fields = b.as_array().unwrap();
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| f["SchemaName"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {b}"))
            .clone()
    };
    assert_eq!(field("EmailAddress")["DataType"], "Email");
    assert_eq!(field("FirstName")["DataType"], "String");
    assert_eq!(field("mx_Rank")["DataType"], "String");
    assert_eq!(field("mx_Rank")["DisplayName"], "Rank");
    assert!(fields.iter().all(|f| f["SchemaName"].is_string()
        && f["DisplayName"].is_string()
        && f["DataType"].is_string()));
}

#[tokio::test]
async fn quick_search_takes_each_columns_first_matches_of_the_callers_own_leads() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let srv = Server::start(&db);
    // 60 of the admin's leads match "sam" first; the Sales_User's two come after them by id,
    // and the email column holds one more (a lead whose name does not match).
    for i in 0..60 {
        srv.create_lead_with(&admin, &[("FirstName", &format!("Sam{i:02}"))])
            .await;
    }
    srv.create_lead_with(
        &admin,
        &[("FirstName", "Zed"), ("EmailAddress", "sam@zed.test")],
    )
    .await;
    for last in ["Rep", "Rep2"] {
        srv.create_lead_with(&rep, &[("FirstName", "Sam"), ("LastName", last)])
            .await;
    }
    // Each lead's place in the order of creation (the order of ids).
    let created = |name: &str| match name {
        "Zed" => 60,
        "Sam Rep" => 61,
        "Sam Rep2" => 62,
        n => n.trim_start_matches("Sam").parse::<usize>().unwrap(),
    };
    let search = |c: &Creds, key: &str| {
        let path = format!("/v2/LeadManagement.svc/Leads.GetByQuickSearch?key={key}");
        let c = c.clone();
        let srv = &srv;
        async move {
            let (s, b) = srv.lsq_get(&path, &c).await;
            assert_eq!(s, StatusCode::OK, "{path}: {b}");
            b.as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    let name = format!(
                        "{} {}",
                        l["FirstName"].as_str().unwrap_or(""),
                        l["LastName"].as_str().unwrap_or("")
                    )
                    .trim()
                    .to_string();
                    (created(&name), name)
                })
                .collect::<Vec<(usize, String)>>()
        }
    };
    // The owner filter applies inside each column's range: the Sales_User's two leads are found
    // behind the 60 that are not theirs.
    let mine = search(&rep, "SAM").await;
    assert_eq!(
        mine.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
        vec!["Sam Rep", "Sam Rep2"]
    );
    // More than 50 match: each column's first 50 in its own order (names: "sam rep" before
    // "sam00"), then the oldest 50 of those.
    let all = search(&admin, "sam").await;
    assert_eq!(all.len(), 50, "{all:?}");
    assert!(
        all.windows(2).all(|w| w[0].0 < w[1].0),
        "oldest first: {all:?}"
    );
    let mut names: Vec<&str> = all.iter().map(|(_, n)| n.as_str()).collect();
    names.sort();
    let mut expected: Vec<String> = vec!["Sam Rep".into(), "Sam Rep2".into(), "Zed".into()];
    expected.extend((0..60).map(|i| format!("Sam{i:02}")));
    expected.sort_by_key(|n| n.to_lowercase());
    // Every candidate of the name column's first 50 and the email column's one, oldest 50 kept:
    // the 60 admin leads are the oldest, so the newest candidates drop out.
    let candidates: std::collections::BTreeSet<&str> = expected
        .iter()
        .filter(|n| n.as_str() != "Zed")
        .take(50)
        .map(String::as_str)
        .chain(["Zed"])
        .collect();
    assert!(names.iter().all(|n| candidates.contains(n)), "{names:?}");
    assert!(names.contains(&"Sam00") && names.contains(&"Zed") && !names.contains(&"Sam59"));
}

#[tokio::test]
async fn metadata_lists_custom_fields_from_their_table_and_caps_them_per_tenant() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let other = db.tenant("Other", "admin@other.test");
    let srv = Server::start(&db);
    let custom = |c: &Creds| {
        let c = c.clone();
        let srv = &srv;
        async move {
            let (s, b) = srv
                .lsq_get("/v2/LeadManagement.svc/LeadsMetaData.Get", &c)
                .await;
            assert_eq!(s, StatusCode::OK, "{b}");
            b.as_array()
                .unwrap()
                .iter()
                .filter_map(|f| f["SchemaName"].as_str())
                .filter(|n| n.starts_with("mx_"))
                .map(str::to_string)
                .collect::<Vec<String>>()
        }
    };
    // 498 fields on one lead, then one on a lead that is updated to hold none: both stay.
    let mut first = vec![json!({"Attribute": "EmailAddress", "Value": "many@acme.test"})];
    for i in 0..498 {
        first.push(json!({"Attribute": format!("mx_F{i:03}"), "Value": "v"}));
    }
    let (s, b) = srv
        .lsq_post(
            "/v2/LeadManagement.svc/Lead.Create",
            &admin,
            Value::Array(first),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let id = srv
        .create_lead_with(
            &admin,
            &[("EmailAddress", "one@acme.test"), ("mx_Once", "x")],
        )
        .await;
    let update = format!("/v2/LeadManagement.svc/Lead.Update?leadId={id}");
    let (s, b) = srv
        .lsq_post(&update, &admin, attrs(&[("mx_Once", json!(null))]))
        .await;
    assert_success("Lead.Update", s, &b);
    let fields = custom(&admin).await;
    assert_eq!(fields.len(), 499);
    assert!(
        fields.contains(&"mx_Once".to_string()),
        "a field stays when no lead holds it"
    );
    assert!(
        custom(&other).await.is_empty(),
        "another tenant's fields are its own"
    );

    // Two new fields would make 501: refused, naming the first, nothing created.
    let (s, b) = srv
        .lead_create(
            &admin,
            &[
                ("EmailAddress", "two@acme.test"),
                ("mx_New1", "a"),
                ("mx_New2", "b"),
            ],
        )
        .await;
    assert_envelope(
        "501 fields",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["mx_New1", "500"],
    );
    assert!(leads_by_email(&srv, &admin, "two@acme.test")
        .await
        .is_empty());
    // An update adding them is refused the same way and changes nothing.
    let (s, b) = srv
        .lsq_post(
            &update,
            &admin,
            attrs(&[
                ("FirstName", json!("Changed")),
                ("mx_New1", json!("a")),
                ("mx_New2", json!("b")),
            ]),
        )
        .await;
    assert_envelope(
        "501 by update",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["mx_New1"],
    );
    assert_ne!(srv.get_lead(&admin, &id).await["FirstName"], "Changed");
    assert_eq!(custom(&admin).await, fields);
    // One more makes 500, the most; known fields are always taken.
    srv.create_lead_with(
        &admin,
        &[("EmailAddress", "three@acme.test"), ("mx_New1", "a")],
    )
    .await;
    srv.create_lead_with(
        &admin,
        &[("EmailAddress", "four@acme.test"), ("mx_F000", "a")],
    )
    .await;
    let (s, b) = srv
        .lead_create(
            &admin,
            &[("EmailAddress", "five@acme.test"), ("mx_New2", "b")],
        )
        .await;
    assert_envelope("501st", s, &b, 400, "MXInvalidInputException", &["mx_New2"]);
    assert_eq!(custom(&admin).await.len(), 500);
    // Another tenant has its own 500.
    srv.create_lead_with(
        &other,
        &[("EmailAddress", "x@other.test"), ("mx_New2", "b")],
    )
    .await;
    assert_eq!(custom(&other).await, vec!["mx_New2".to_string()]);
}

#[tokio::test]
async fn the_new_lead_calls_count_against_the_rate_limit() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start_rate_limited(&db);
    let started = std::time::Instant::now();
    let mut seen = Vec::new();
    for i in 0..25 {
        let (s, b) = match i % 6 {
            0 => {
                srv.lsq_get(
                    "/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=a@b.com",
                    &admin,
                )
                .await
            }
            1 => {
                srv.lsq_get(
                    "/v2/LeadManagement.svc/Leads.GetByQuickSearch?key=a",
                    &admin,
                )
                .await
            }
            2 => {
                srv.lsq_get("/v2/LeadManagement.svc/LeadsMetaData.Get", &admin)
                    .await
            }
            5 => {
                srv.lsq_post(
                    "/v2/LeadManagement.svc/Leads.Get",
                    &admin,
                    json!({"Parameter": {"LookupName": "EmailAddress", "LookupValue": "a@b.com"}}),
                )
                .await
            }
            3 => {
                srv.lsq_post(
                    "/v2/LeadManagement.svc/Lead.Capture",
                    &admin,
                    attrs(&[("EmailAddress", json!(format!("r{i}@example.com")))]),
                )
                .await
            }
            _ => {
                srv.lsq_post(
                    "/v2/LeadManagement.svc/Lead.CreateOrUpdate",
                    &admin,
                    attrs(&[("EmailAddress", json!(format!("r{i}@example.com")))]),
                )
                .await
            }
        };
        assert_eq!(s, StatusCode::OK, "call {i}: {b}");
        seen.push(s);
    }
    let (s, b) = srv
        .lsq_post(
            "/v2/LeadManagement.svc/Lead.Capture",
            &admin,
            attrs(&[("EmailAddress", json!("late@example.com"))]),
        )
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the test must make its 26 calls within 5 s"
    );
    assert_envelope(
        "26th call",
        s,
        &b,
        429,
        "MXAPIRateLimitExceededException",
        &["25"],
    );
    assert_eq!(seen.len(), 25);
}

#[tokio::test]
async fn unimplemented_leadsquared_calls_are_named_and_typos_are_not() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    for (method, call, why) in [
        ("GET", "SalesActivity.svc/RetrieveSetting", "product"),
        ("POST", "SalesActivity.svc/Create", "product"),
        ("GET", "LeadManagement.svc/Lists.Get", "lists"),
        ("POST", "LeadManagement.svc/Lead.Convert", "visitors"),
        (
            "POST",
            "LeadManagement.svc/Leads.RecentlyModified",
            "does not implement",
        ),
        ("POST", "EmailMarketing.svc/ScheduleEmailToLead", "email"),
    ] {
        let path = with_keys(&format!("/v2/{call}"), &admin);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = srv.send(m, &path, &[], None).await;
        assert_envelope(
            call,
            r.status,
            &r.json,
            404,
            "MXNotFoundException",
            &[call, "does not implement", why],
        );
    }
    for typo in [
        "LeadManagement.svc/Lead.Creat",
        "SalesActivity.svc/Nope",
        "Foo.svc/Bar",
    ] {
        let (s, b) = srv.lsq_get(&format!("/v2/{typo}"), &admin).await;
        assert_envelope(
            typo,
            s,
            &b,
            404,
            "MXNotFoundException",
            &["could not be found"],
        );
        assert!(
            !b["ExceptionMessage"]
                .as_str()
                .unwrap()
                .contains("implement"),
            "{b}"
        );
    }
}

#[tokio::test]
async fn the_php_key_check_without_an_email_is_answered_by_the_keys() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    for path in [
        "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress",
        "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress?emailAddress=",
    ] {
        let (s, b) = srv.lsq_get(path, &admin).await;
        assert_eq!((s, &b), (StatusCode::OK, &json!([])), "{path}");
        assert!(b.get("Status").is_none());
    }
    let mut wrong = admin.clone();
    wrong.secret_key = format!("{}x", wrong.secret_key);
    let (s, b) = srv
        .lsq_get(
            "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress",
            &wrong,
        )
        .await;
    assert_envelope("bad keys", s, &b, 401, "MXUnAuthorizedException", &[]);
}

/// The `/v2/…` paths the LeadSquared router declares, read from its source.
fn routed_calls() -> std::collections::BTreeSet<String> {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/lsq/mod.rs"))
        .unwrap();
    src.split('"')
        .filter(|s| s.starts_with("/v2/") && s.contains(".svc/"))
        .map(str::to_string)
        .collect()
}

/// `(method, path)` of each call README's list names.
fn readme_calls() -> Vec<(String, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- lsq-calls:begin -->")
        .expect("README list start");
    let end = readme
        .find("<!-- lsq-calls:end -->")
        .expect("README list end");
    readme[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .map(|l| {
            let call = l.split('`').next().unwrap();
            let (method, path) = call.split_once(' ').unwrap();
            (method.to_string(), path.to_string())
        })
        .collect()
}

#[tokio::test]
async fn the_readme_lists_exactly_the_leadsquared_calls_the_router_serves() {
    let listed = readme_calls();
    let listed_paths: std::collections::BTreeSet<String> =
        listed.iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(listed_paths.len(), listed.len(), "listed twice: {listed:?}");
    assert_eq!(listed_paths, routed_calls(), "README list vs router");

    // Each is served with the method listed: without keys, the auth refusal and not a 404/405.
    let db = Db::new();
    let srv = Server::start(&db);
    for (method, path) in &listed {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = srv.send(m, path, &[], None).await;
        assert_envelope(
            &format!("{method} {path}"),
            r.status,
            &r.json,
            401,
            "MXUnAuthorizedException",
            &[],
        );
    }
}

#[tokio::test]
async fn retrieve_recently_modified_pages_a_tenants_activities_by_modification_date() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let srv = Server::start(&db);
    let code = srv.create_type(&admin, "Demo", 1, json!([])).await;
    let a = srv.create_lead(&admin, "a@example.com").await;
    let r = srv.create_lead(&rep, "r@example.com").await;
    let mut ids = Vec::new();
    for lead in [&a, &a, &r] {
        ids.push(
            srv.post_simple(&admin, lead, code, Some("2024-03-01 10:00:00"))
                .await,
        );
    }
    let path = "/v2/ProspectActivity.svc/RetrieveRecentlyModified";
    let range = |from: &str, to: &str, page: i64, size: &str| {
        json!({"Parameter": {"FromDate": from, "ToDate": to},
               "Paging": {"PageIndex": page, "PageSize": size},
               "Sorting": {"ColumnName": "ModifiedOn", "Direction": "1"}})
    };
    let all = range("2000-01-01 00:00:00", "2100-01-01 00:00:00", 1, "2");
    let (s, b) = srv.lsq_post(path, &admin, all.clone()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["RecordCount"], 3, "{b}");
    let page1: Vec<String> = b["ProspectActivities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        page1,
        vec![ids[2].clone(), ids[1].clone()],
        "newest change first"
    );
    let row = &b["ProspectActivities"][0];
    assert!(
        same_id(row["RelatedProspectId"].as_str().unwrap(), &r),
        "{row}"
    );
    assert_eq!(row["EventCode"], code);
    let (_, b) = srv
        .lsq_post(
            path,
            &admin,
            range("2000-01-01 00:00:00", "2100-01-01 00:00:00", 2, "2"),
        )
        .await;
    assert_eq!(b["ProspectActivities"][0]["Id"].as_str().unwrap(), ids[0]);

    // An edit moves an activity to the front; a range before everything finds nothing.
    let (s, b) = srv
        .lsq_post(
            &format!(
                "/v2/ProspectActivity.svc/CustomActivity/Update?activityId={}",
                ids[0]
            ),
            &admin,
            json!({"ActivityEvent": code, "ActivityNote": "edited"}),
        )
        .await;
    assert_success("update", s, &b);
    let (_, b) = srv.lsq_post(path, &admin, all.clone()).await;
    assert_eq!(
        b["ProspectActivities"][0]["Id"].as_str().unwrap(),
        ids[0],
        "{b}"
    );
    let (_, b) = srv
        .lsq_post(
            path,
            &admin,
            range("2000-01-01 00:00:00", "2001-01-01 00:00:00", 1, "10"),
        )
        .await;
    assert_eq!(b["RecordCount"], 0, "{b}");

    // A Sales_User: its own leads' activities only.
    let (_, b) = srv.lsq_post(path, &rep, all).await;
    assert_eq!(b["RecordCount"], 1, "{b}");
    assert_eq!(b["ProspectActivities"][0]["Id"].as_str().unwrap(), ids[2]);

    for (body, mention) in [
        (
            json!({"Parameter": {"ToDate": "2100-01-01 00:00:00"}}),
            "FromDate",
        ),
        (
            json!({"Parameter": {"FromDate": "yesterday", "ToDate": "2100-01-01 00:00:00"}}),
            "FromDate",
        ),
        (
            json!({"Parameter": {"FromDate": "2024-01-02 00:00:00", "ToDate": "2024-01-01 00:00:00"}}),
            "ToDate",
        ),
        (
            range("2000-01-01 00:00:00", "2100-01-01 00:00:00", 1, "0"),
            "PageSize",
        ),
    ] {
        let (s, b) = srv.lsq_post(path, &admin, body.clone()).await;
        assert_envelope(
            &format!("{body}"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &[mention],
        );
    }
}
