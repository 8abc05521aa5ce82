//! Leads (`Lead.Create`, `Leads.GetById`) and users (`Users.Get`, `User/Retrieve/…`,
//! `UserByAccessKey.Get`).

use crate::harness::*;

#[tokio::test]
async fn lead_create_then_get_by_id_returns_a_string_valued_lead() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let id = srv
        .create_lead_with(
            &admin,
            &[
                ("FirstName", "Ada"),
                ("LastName", "Lovelace"),
                ("EmailAddress", "ada@example.com"),
                ("Phone", "+44-20-7946-0000"),
                ("Company", "Analytical Engines"),
                ("DoNotCall", "1"),
                ("mx_City", "London"),
            ],
        )
        .await;

    let (s, b) = srv
        .lsq_get(
            &format!("/v2/LeadManagement.svc/Leads.GetById?id={id}"),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let arr = b.as_array().expect("Leads.GetById returns an array");
    assert_eq!(arr.len(), 1, "{b}");
    let l = &arr[0];
    assert!(same_id(l["ProspectID"].as_str().unwrap_or(""), &id), "{l}");
    assert_eq!(l["FirstName"], "Ada", "{l}");
    assert_eq!(l["LastName"], "Lovelace", "{l}");
    assert_eq!(l["EmailAddress"], "ada@example.com", "{l}");
    assert_eq!(l["Phone"], "+44-20-7946-0000", "{l}");
    assert_eq!(l["Company"], "Analytical Engines", "{l}");
    assert_eq!(l["mx_City"], "London", "{l}");
    assert_eq!(l["DoNotCall"], "1", "{l}");
    assert_eq!(l["DoNotEmail"], "0", "{l}");
    assert_eq!(l["Score"], "0", "values are strings: {l}");
    assert!(
        same_id(l["OwnerId"].as_str().unwrap_or(""), &admin.user_id),
        "{l}"
    );
    assert!(
        l.as_object()
            .unwrap()
            .values()
            .all(|v| v.is_string() || v.is_null()),
        "every value of a lead is a string (or null): {l}"
    );

    let (s, b) = srv
        .lsq_get(
            &format!("/v2/LeadManagement.svc/Leads.GetById?id={}", unknown_guid()),
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b, json!([]), "unknown lead → []");

    let (s, b) = srv
        .lsq_get("/v2/LeadManagement.svc/Leads.GetById", &admin)
        .await;
    assert_envelope("missing id", s, &b, 400, "MXInvalidInputException", &["id"]);
}

#[tokio::test]
async fn lead_create_rejects_duplicates_unknown_attributes_and_bad_shapes() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let first = srv
        .create_lead_with(
            &admin,
            &[("EmailAddress", "dup@example.com"), ("Phone", "5551234567")],
        )
        .await;

    let (s, b) = srv
        .lead_create(
            &admin,
            &[("FirstName", "Again"), ("EmailAddress", "DUP@Example.com")],
        )
        .await;
    assert_envelope(
        "duplicate email",
        s,
        &b,
        500,
        "MXDuplicateEntryException",
        &[],
    );
    let (s, b) = srv
        .lead_create(&admin, &[("FirstName", "Again"), ("Phone", "5551234567")])
        .await;
    assert_envelope(
        "duplicate phone",
        s,
        &b,
        500,
        "MXDuplicateEntryException",
        &[],
    );

    let (s, b) = srv
        .lead_create(&admin, &[("FirstName", "Odd"), ("FavouriteColour", "blue")])
        .await;
    assert_envelope(
        "unknown attribute",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["FavouriteColour"],
    );

    let (s, b) = srv
        .lead_create(&admin, &[("Company", "Nameless Inc")])
        .await;
    assert_any_envelope("no FirstName/LastName/EmailAddress/Phone", s, &b);

    let (s, b) = srv
        .lsq_post(
            "/v2/LeadManagement.svc/Lead.Create",
            &admin,
            json!({"Attribute": "EmailAddress", "Value": "obj@example.com"}),
        )
        .await;
    assert_envelope("object body", s, &b, 400, "MXInvalidInputException", &[]);

    // The first lead is intact and a different email still works.
    let l = srv.get_lead(&admin, &first).await;
    assert_eq!(l["EmailAddress"], "dup@example.com");
    srv.create_lead(&admin, "other@example.com").await;
}

#[tokio::test]
async fn users_get_lists_the_tenant_users() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let mgr = db.user(&admin, "mgr@acme.test", "Max", "Grey", "Sales_Manager");
    let srv = Server::start(&db);

    let (s, b) = srv
        .lsq_get("/v2/UserManagement.svc/Users.Get", &admin)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let users = b.as_array().expect("array");
    assert_eq!(users.len(), 3, "{b}");
    let find = |id: &str| {
        users
            .iter()
            .find(|u| same_id(u["ID"].as_str().unwrap_or(""), id))
            .cloned()
            .unwrap_or_else(|| panic!("user {id} not listed: {b}"))
    };
    let a = find(&admin.user_id);
    assert_eq!(a["EmailAddress"], "admin@acme.test", "{a}");
    assert_eq!(a["Role"], "Administrator", "{a}");
    assert_eq!(num(&a["StatusCode"]), Some(0), "{a}");
    let r = find(&rep.user_id);
    assert_eq!(r["FirstName"], "Rita", "{r}");
    assert_eq!(r["LastName"], "Rep", "{r}");
    assert_eq!(r["Role"], "Sales_User", "{r}");
    assert_eq!(find(&mgr.user_id)["Role"], "Sales_Manager");
}

#[tokio::test]
async fn users_retrieve_by_email_and_by_id() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep+crm@acme.test", "Rita", "Rep", "Sales_User");
    let srv = Server::start(&db);

    // Un-encoded email in the query string, as clients send it.
    let (s, b) = srv
        .lsq_get(
            "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress?emailAddress=admin@acme.test",
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let arr = b.as_array().expect("array");
    assert_eq!(arr.len(), 1, "{b}");
    assert!(
        same_id(arr[0]["UserId"].as_str().unwrap_or(""), &admin.user_id),
        "{b}"
    );
    assert_eq!(arr[0]["EmailAddress"], "admin@acme.test", "{b}");

    // Percent-encoded `+`.
    let (s, b) = srv
        .lsq_get(
            "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress?emailAddress=rep%2Bcrm%40acme.test",
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(
        same_id(b[0]["UserId"].as_str().unwrap_or(""), &rep.user_id),
        "{b}"
    );

    let (s, b) = srv
        .lsq_get(
            "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress?emailAddress=nobody@acme.test",
            &admin,
        )
        .await;
    assert_eq!((s, b), (StatusCode::OK, json!([])));

    for param in ["userId", "UserId"] {
        let (s, b) = srv
            .lsq_get(
                &format!(
                    "/v2/UserManagement.svc/User/Retrieve/ByUserId?{param}={}",
                    rep.user_id
                ),
                &admin,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{param}: {b}");
        let arr = b.as_array().expect("array");
        assert_eq!(arr.len(), 1, "{param}: {b}");
        assert!(
            same_id(arr[0]["UserId"].as_str().unwrap_or(""), &rep.user_id),
            "{b}"
        );
        assert_eq!(arr[0]["EmailAddress"], "rep+crm@acme.test", "{b}");
    }
    let (s, b) = srv
        .lsq_get(
            &format!(
                "/v2/UserManagement.svc/User/Retrieve/ByUserId?userId={}",
                unknown_guid()
            ),
            &admin,
        )
        .await;
    assert_eq!((s, b), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn user_by_access_key_describes_the_caller_and_points_back_at_this_server() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let srv = Server::start(&db);

    for (c, email, role) in [
        (&admin, "admin@acme.test", "Administrator"),
        (&rep, "rep@acme.test", "Sales_User"),
    ] {
        let (s, b) = srv
            .lsq_get("/v2/Authentication.svc/UserByAccessKey.Get", c)
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert!(same_id(b["Id"].as_str().unwrap_or(""), &c.user_id), "{b}");
        assert_eq!(b["EmailAddress"], email, "{b}");
        assert_eq!(b["Role"], role, "{b}");
        assert!(b["Name"].is_string(), "{b}");
        assert!(
            same_id(b["OrgId"].as_str().unwrap_or(""), &c.tenant_id),
            "OrgId is the tenant id: {b}"
        );
        for k in ["api", "app"] {
            let url = b["LSQCommonServiceURLs"][k].as_str().unwrap_or("");
            assert!(
                url.contains(&srv.host_port),
                "LSQCommonServiceURLs.{k} must point at {}: {b}",
                srv.host_port
            );
        }
    }
}
