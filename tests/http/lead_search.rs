//! `Leads.Get` (search by criteria) as LeadSquared documents it and its clients send it: the
//! lookups served, columns, order, pages, Sales_User visibility, tenants kept apart, and the
//! LeadSquared error for what no index serves.

use crate::harness::*;

const GET: &str = "/v2/LeadManagement.svc/Leads.Get";

fn body(name: &str, value: &str, op: &str) -> Value {
    json!({"Parameter": {"LookupName": name, "LookupValue": value, "SqlOperator": op},
           "Paging": {"PageIndex": 1, "PageSize": 100}})
}

/// The `FirstName` of each row, in the answer's order.
async fn names(srv: &Server, c: &Creds, b: Value) -> Vec<String> {
    let (s, r) = srv.lsq_post(GET, c, b.clone()).await;
    assert_eq!(s, StatusCode::OK, "{b}: {r}");
    r.as_array()
        .unwrap_or_else(|| panic!("an array: {r}"))
        .iter()
        .map(|l| l["FirstName"].as_str().unwrap_or("").to_string())
        .collect()
}

fn pause() -> std::time::Duration {
    // Dates on the wire have whole seconds: leads a second apart are told apart by them.
    std::time::Duration::from_millis(1100)
}

#[tokio::test]
async fn leads_get_looks_up_orders_pages_and_picks_columns() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let other = db.tenant("Other", "admin@other.test");
    let srv = Server::start(&db);
    let ada = srv
        .create_lead_with(
            &admin,
            &[
                ("FirstName", "Ada"),
                ("EmailAddress", "ada@acme.test"),
                ("Phone", "+1-555-0101"),
                ("mx_City", "Pune"),
            ],
        )
        .await;
    tokio::time::sleep(pause()).await;
    srv.create_lead_with(&rep, &[("FirstName", "Bob"), ("Mobile", "98450")])
        .await;
    srv.create_lead_with(
        &admin,
        &[("FirstName", "Cy"), ("EmailAddress", "cy@acme.test")],
    )
    .await;
    let ada_row = srv.get_lead(&admin, &ada).await;
    let ada_created = ada_row["CreatedOn"].as_str().unwrap().to_string();

    // LeadSquared's documented request: created after a date, four columns, newest first.
    let documented = json!({
        "Parameter": {"LookupName": "CreatedOn", "LookupValue": "2015-01-01 14:36:59", "SqlOperator": ">"},
        "Columns": {"Include_CSV": "ProspectID, FirstName, LastName, EmailAddress"},
        "Sorting": {"ColumnName": "CreatedOn", "Direction": "1"},
        "Paging": {"PageIndex": 1, "PageSize": 100}
    });
    let (s, r) = srv.lsq_post(GET, &admin, documented.clone()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let rows = r.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{r}");
    for row in rows {
        let mut keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["EmailAddress", "FirstName", "LastName", "ProspectID"],
            "{row}"
        );
    }
    assert_eq!(rows[2]["ProspectID"], json!(ada));
    assert_eq!(rows[2]["LastName"], Value::Null);
    assert_eq!(
        names(&srv, &admin, documented.clone()).await,
        ["Cy", "Bob", "Ada"]
    );

    // Oldest first, and pages of two (numbers sent as strings, as clients do).
    let mut asc = documented.clone();
    asc["Sorting"]["Direction"] = json!(0);
    assert_eq!(names(&srv, &admin, asc.clone()).await, ["Ada", "Bob", "Cy"]);
    asc["Paging"] = json!({"PageIndex": "2", "PageSize": "2"});
    assert_eq!(names(&srv, &admin, asc.clone()).await, ["Cy"]);
    asc["Paging"] = json!({"PageIndex": 3, "PageSize": 2});
    assert!(names(&srv, &admin, asc).await.is_empty());

    // Date comparisons take whole seconds.
    let created = |op: &str| body("CreatedOn", &ada_created, op);
    assert_eq!(names(&srv, &admin, created("=")).await, ["Ada"]);
    assert_eq!(names(&srv, &admin, created("<=")).await, ["Ada"]);
    assert!(names(&srv, &admin, created("<")).await.is_empty());
    let mut after = names(&srv, &admin, created(">")).await;
    after.sort();
    assert_eq!(after, ["Bob", "Cy"]);

    // Unique lookups: the email case-insensitively, the SqlOperator "=" by default.
    let no_op =
        json!({"Parameter": {"LookupName": "EmailAddress", "LookupValue": "ADA@Acme.test"}});
    assert_eq!(names(&srv, &admin, no_op).await, ["Ada"]);
    assert_eq!(
        names(&srv, &admin, body("Phone", "+1-555-0101", "=")).await,
        ["Ada"]
    );
    assert_eq!(
        names(&srv, &admin, body("Mobile", "98450", "=")).await,
        ["Bob"]
    );
    assert_eq!(
        names(&srv, &admin, body("ProspectID", &ada, "=")).await,
        ["Ada"]
    );
    assert!(names(&srv, &admin, body("ProspectID", "not-a-guid", "="))
        .await
        .is_empty());
    assert!(
        names(&srv, &admin, body("EmailAddress", "nobody@acme.test", "="))
            .await
            .is_empty()
    );
    assert_eq!(
        names(&srv, &admin, body("OwnerId", &rep.user_id, "=")).await,
        ["Bob"]
    );
    let mut admins = body("OwnerId", &admin.user_id, "=");
    admins["Sorting"] = json!({"ColumnName": "ProspectAutoId", "Direction": 0});
    assert_eq!(names(&srv, &admin, admins).await, ["Ada", "Cy"]);

    // Columns: ProspectAutoId is the lead's number; fields not kept or not held are null.
    let mut picked = body("ProspectID", &ada, "=");
    picked["Columns"] = json!({"Include_CSV": "ProspectAutoId,mx_City, ProspectStage,firstname"});
    let (s, r) = srv.lsq_post(GET, &admin, picked).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let row = &r[0];
    assert!(
        row["ProspectAutoId"]
            .as_str()
            .is_some_and(|n| n.parse::<i64>().is_ok()),
        "{r}"
    );
    assert_eq!(row["mx_City"], "Pune");
    assert_eq!(row["ProspectStage"], Value::Null);
    assert_eq!(row["FirstName"], "Ada", "names match ignoring case: {r}");
    assert_eq!(row.as_object().unwrap().len(), 4, "{r}");

    // A Sales_User sees its own leads only; another tenant sees none of these.
    let everything = body("CreatedOn", "2000-01-01 00:00:00", ">=");
    assert_eq!(names(&srv, &rep, everything.clone()).await, ["Bob"]);
    assert!(names(&srv, &rep, body("ProspectID", &ada, "="))
        .await
        .is_empty());
    assert!(names(&srv, &rep, body("OwnerId", &admin.user_id, "="))
        .await
        .is_empty());
    assert!(names(&srv, &other, everything.clone()).await.is_empty());
    assert!(names(&srv, &other, body("ProspectID", &ada, "="))
        .await
        .is_empty());
    assert!(
        names(&srv, &other, body("EmailAddress", "ada@acme.test", "="))
            .await
            .is_empty()
    );
    assert!(names(&srv, &other, body("OwnerId", &admin.user_id, "="))
        .await
        .is_empty());

    // Modification dates: a change moves the lead to the front and into a later range.
    tokio::time::sleep(pause()).await;
    let (s, r) = srv
        .lsq_post(
            &format!("/v2/LeadManagement.svc/Lead.Update?leadId={ada}"),
            &admin,
            json!([{"Attribute": "LastName", "Value": "Lovelace"}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let modified = srv.get_lead(&admin, &ada).await["ModifiedOn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        names(&srv, &admin, body("ModifiedOn", &modified, ">=")).await,
        ["Ada"]
    );
    let mut by_modified = everything;
    by_modified["Sorting"] = json!({"ColumnName": "ModifiedOn", "Direction": 1});
    assert_eq!(names(&srv, &admin, by_modified).await[0], "Ada");
}

#[tokio::test]
async fn leads_get_refuses_what_it_does_not_serve_in_the_leadsquared_envelope() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    srv.create_lead(&admin, "ada@acme.test").await;
    let many: Vec<String> = (0..201).map(|i| format!("mx_F{i}")).collect();
    for (what, b, words) in [
        (
            "unindexed field",
            body("mx_City", "Pune", "="),
            vec!["mx_City", "not supported", "EmailAddress"],
        ),
        (
            "LIKE",
            body("EmailAddress", "ada%", "LIKE"),
            vec!["LIKE", "not supported"],
        ),
        (
            "<>",
            body("CreatedOn", "2020-01-01 00:00:00", "<>"),
            vec!["<>"],
        ),
        ("range on a key", body("Phone", "1", ">"), vec!["must be ="]),
        (
            "bad date",
            body("CreatedOn", "2020-13-45", ">"),
            vec!["LookupValue", "yyyy-MM-dd HH:mm:ss"],
        ),
        ("no lookup", json!({}), vec!["LookupName", "required"]),
        (
            "no value",
            body("EmailAddress", " ", "="),
            vec!["LookupValue", "required"],
        ),
        (
            "sort column",
            json!({"Parameter": {"LookupName": "OwnerId", "LookupValue": admin.user_id},
                   "Sorting": {"ColumnName": "FirstName"}}),
            vec!["FirstName", "CreatedOn, ModifiedOn or ProspectAutoId"],
        ),
        (
            "page size",
            json!({"Parameter": {"LookupName": "OwnerId", "LookupValue": admin.user_id},
                   "Paging": {"PageIndex": 1, "PageSize": 1001}}),
            vec!["PageSize", "1000"],
        ),
        (
            "too many columns",
            json!({"Parameter": {"LookupName": "OwnerId", "LookupValue": admin.user_id},
                   "Columns": {"Include_CSV": many.join(",")}}),
            vec!["Include_CSV", "200"],
        ),
        (
            "wrong type",
            json!({"Parameter": {"LookupName": ["EmailAddress"], "LookupValue": "x"}}),
            vec!["Parameter.LookupName"],
        ),
        // serde reads a struct from an array of its fields in order; LeadSquared never sends one.
        (
            "Parameter as an array",
            json!({"Parameter": ["EmailAddress", "ada@acme.test", "="]}),
            vec!["Parameter", "an object or null"],
        ),
        (
            "Sorting as an array",
            json!({"Parameter": {"LookupName": "EmailAddress", "LookupValue": "ada@acme.test"},
                   "Sorting": ["CreatedOn", 0]}),
            vec!["Sorting", "an object or null"],
        ),
        (
            "Paging as an array",
            json!({"Parameter": {"LookupName": "EmailAddress", "LookupValue": "ada@acme.test"},
                   "Paging": [1, 10]}),
            vec!["Paging", "an object or null"],
        ),
    ] {
        let (s, r) = srv.lsq_post(GET, &admin, b).await;
        assert_envelope(what, s, &r, 400, "MXInvalidInputException", &words);
    }
    let (s, r) = srv.lsq_get(GET, &admin).await;
    assert_envelope("GET", s, &r, 405, "MXMethodNotAllowedException", &[]);
}
