//! LeadSquared opportunities over real HTTP: Capture, details, opportunities of a lead, bulk
//! activities by opportunity and GetActivitiesOfOpportunity, each with its documented request.

use crate::harness::*;

const CAPTURE: &str = "/v2/OpportunityManagement.svc/Capture";
const DETAILS: &str = "/v2/OpportunityManagement.svc/GetOpportunityDetails";
const OF_LEAD: &str = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead";
const ACTIVITIES: &str = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity";
const BULK: &str = "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId";
const ADMIN: &str = "admin@opp.example";

fn capture_body(email: &str, code: i64, status: &str) -> Value {
    json!({
        "LeadDetails": [
            {"Attribute": "EmailAddress", "Value": email},
            {"Attribute": "FirstName", "Value": "Manish"},
            {"Attribute": "LastName", "Value": "Garg"},
            {"Attribute": "Phone", "Value": format!("+91-{}", email.len() * 1_000_003)},
            {"Attribute": "SearchBy", "Value": "EmailAddress"}
        ],
        "Opportunity": {
            "OpportunityEventCode": code,
            "OpportunityNote": "Opportunity captured from the website",
            "OpportunityDateTime": "2020-10-16 05:57:37",
            "Fields": [{"SchemaName": "Status", "Value": status}]
        }
    })
}

/// Captures an opportunity; returns (opportunity id, lead id).
async fn capture(s: &Server, c: &Creds, email: &str) -> (String, String) {
    let (st, b) = s
        .lsq_post(CAPTURE, c, capture_body(email, 12000, "Open"))
        .await;
    assert_success("Capture", st, &b);
    let id = b["Message"]["Id"].as_str().unwrap().to_string();
    assert_eq!(
        b["Message"]["CreatedOpportunityId"], b["Message"]["Id"],
        "{b}"
    );
    (id, b["Message"]["RelatedId"].as_str().unwrap().to_string())
}

async fn list(s: &Server, c: &Creds, opp: &str, query: &str, body: Value) -> (StatusCode, Value) {
    s.lsq_post(&format!("{ACTIVITIES}?opportunityId={opp}{query}"), c, body)
        .await
}

fn ids(v: &Value) -> Vec<String> {
    v["List"]
        .as_array()
        .unwrap_or_else(|| panic!("no List: {v}"))
        .iter()
        .map(|r| r["ProspectActivityId"].as_str().unwrap().to_string())
        .collect()
}

/// A type for the first row of the documented Bulk by opportunity request (code 208 there; ours
/// gets the next free code).
async fn pan_type(s: &Server, c: &Creds) -> i64 {
    s.create_type(
        c,
        "PAN Collected",
        4,
        json!([
            fdef(1, "mx_Custom_1", "Number"),
            fdef(2, "mx_Custom_2", "String")
        ]),
    )
    .await
}

/// The documented Bulk by opportunity request's body with our event code and owner email.
fn documented_bulk_by_opportunity_body(code: i64, owner: &str) -> Value {
    json!([
        {"ActivityEvent": code, "ActivityNote": "PAN collected", "ActivityOwnerEmail": owner,
         "Fields": [{"SchemaName": "mx_Custom_2", "Value": "AAAAA1111A"}]},
        {"ActivityEvent": 102, "ActivityNote": "Meeting completed", "ActivityOwnerEmail": owner}
    ])
}

async fn bulk(s: &Server, c: &Creds, opp: &str, rows: Value) -> (StatusCode, Value) {
    s.lsq_post(&format!("{BULK}?opportunityId={opp}"), c, rows)
        .await
}

async fn count(s: &Server, c: &Creds, opp: &str) -> i64 {
    let (st, b) = list(s, c, opp, "", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b["RecordCount"].as_i64().unwrap()
}

#[tokio::test]
async fn capture_finds_or_creates_the_lead_and_details_show_the_opportunity() {
    let db = Db::new();
    let admin = db.tenant("Opp", ADMIN);
    let s = Server::start(&db);
    let (opp1, lead1) = capture(&s, &admin, "manish@mailinator.com").await;
    // The same email again (different case): the lead is found, a second opportunity is made.
    let (opp2, lead2) = capture(&s, &admin, "MANISH@mailinator.com").await;
    assert_eq!(lead1, lead2);
    assert_ne!(opp1, opp2);
    let lead = s.get_lead(&admin, &lead1).await;
    assert_eq!(lead["FirstName"], "Manish", "{lead}");

    let (st, d) = s
        .lsq_get(&format!("{DETAILS}?OpportunityId={opp1}"), &admin)
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["ID"], json!(opp1));
    assert_eq!(d["ProspectId"], json!(lead1));
    assert_eq!(d["CreatedOn"], "2020-10-16 05:57:37");
    let field = |name: &str| {
        d["Fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["SchemaName"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(field("Status")["Value"], "Open");
    assert_eq!(
        field("ActivityEvent_Note")["Value"],
        "Opportunity captured from the website"
    );
    assert_eq!(field("Owner")["Value"], json!(admin.user_id));

    let (st, l) = s
        .lsq_post(&format!("{OF_LEAD}?leadId={lead1}"), &admin, json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{l}");
    assert_eq!(l["RecordCount"], 2);
    let mut got = ids(&l);
    got.sort();
    let mut want = vec![opp1.clone(), opp2.clone()];
    want.sort();
    assert_eq!(got, want);
    for row in l["List"].as_array().unwrap() {
        assert_eq!(row["O_Status"], "Open", "{row}");
        assert!(
            row.as_object()
                .unwrap()
                .values()
                .all(|v| v.is_string() || v.is_null()),
            "{row}"
        );
    }
    // An opportunity type filter that matches none.
    let (_, none) = s
        .lsq_post(
            &format!("{OF_LEAD}?leadId={lead1}&opportunityType=12001"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(none["RecordCount"], 0, "{none}");
    // Opportunities are not activities of the lead.
    assert_eq!(s.record_count(&admin, &lead1).await, 0);
}

#[tokio::test]
async fn capture_by_phone_and_bad_capture_input_changes_nothing() {
    let db = Db::new();
    let admin = db.tenant("Opp", ADMIN);
    let s = Server::start(&db);
    let lead = s
        .create_lead_with(&admin, &[("FirstName", "P"), ("Phone", "+1-555-0100")])
        .await;
    let body = json!({
        "LeadDetails": [{"Attribute": "Phone", "Value": "+1-555-0100"}, {"Attribute": "SearchBy", "Value": "Phone"}],
        "Opportunity": {"OpportunityEventCode": "12000"}
    });
    let (st, b) = s.lsq_post(CAPTURE, &admin, body).await;
    assert_success("Capture by phone", st, &b);
    assert_eq!(b["Message"]["RelatedId"], json!(lead));

    // Each of these fails and must not create the lead it names.
    let cases = [
        (
            json!({"Opportunity": {"OpportunityEventCode": 12000},
                "LeadDetails": [{"Attribute": "EmailAddress", "Value": "new1@x.example"},
                                {"Attribute": "SearchBy", "Value": "Fax"}]}),
            400,
            "MXInvalidInputException",
            "SearchBy",
        ),
        (
            capture_body("new2@x.example", 12000, "Maybe"),
            500,
            "MXInvalidActivityFieldsException",
            "Status",
        ),
        (
            capture_body("new3@x.example", 201, "Open"),
            500,
            "MXInvalidEntityException",
            "201",
        ),
        (
            capture_body("new4@x.example", 12999, "Open"),
            500,
            "MXInvalidEntityException",
            "12999",
        ),
        (
            json!({"LeadDetails": [{"Attribute": "EmailAddress", "Value": "new5@x.example"}]}),
            500,
            "MXMandatoryAttributeMissingException",
            "Opportunity",
        ),
        (
            json!({"LeadDetails": [{"Attribute": "FirstName", "Value": "NoEmail"}],
                "Opportunity": {"OpportunityEventCode": 12000}}),
            500,
            "MXMandatoryAttributeMissingException",
            "EmailAddress",
        ),
    ];
    for (i, (body, status, kind, mention)) in cases.into_iter().enumerate() {
        let (st, b) = s.lsq_post(CAPTURE, &admin, body).await;
        assert_envelope(
            &format!("bad capture {i}"),
            st,
            &b,
            status,
            kind,
            &[mention],
        );
    }
    for i in 1..=5 {
        // The lead was not created: creating it now does not collide.
        let (st, b) = s
            .lead_create(&admin, &[("EmailAddress", &format!("new{i}@x.example"))])
            .await;
        assert_success(&format!("lead new{i} is free"), st, &b);
    }
}

#[tokio::test]
async fn the_documented_bulk_by_opportunity_and_opportunity_listing() {
    let db = Db::new();
    let admin = db.tenant("Opp", ADMIN);
    let s = Server::start(&db);
    let code = pan_type(&s, &admin).await;
    let (opp, lead) = capture(&s, &admin, "manish@mailinator.com").await;
    let (st, b) = bulk(
        &s,
        &admin,
        &opp,
        documented_bulk_by_opportunity_body(code, ADMIN),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let rows = b["Response"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["RowNumber"], i + 1);
        assert_eq!(r["ActivityCreated"], true, "{r}");
        assert!(is_guid(r["ProspectActivityId"].as_str().unwrap()));
        assert!(r.get("ExceptionMessage").is_none(), "{r}");
    }
    // The documented GetActivitiesOfOpportunity request's body.
    let (st, l) = list(
        &s,
        &admin,
        &opp,
        "",
        json!({"Columns": {"Include_CSV": "CreatedOn,Status"}, "Paging": {"PageIndex": 1, "PageSize": 100},
               "Sorting": {"ColumnName": "LeadOwner"}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{l}");
    assert_eq!(l["RecordCount"], 2);
    for row in l["List"].as_array().unwrap() {
        let o = row.as_object().unwrap();
        assert!(
            o.values().all(|v| v.is_string() || v.is_null()),
            "every value a string or null: {row}"
        );
        for k in [
            "ProspectId",
            "FirstName",
            "LastName",
            "EmailAddress",
            "Phone",
            "DoNotCall",
            "DoNotEmail",
            "LeadName",
            "LeadOwner",
            "ProspectActivityId",
            "PACreatedOn",
            "Status",
            "Total",
            "O_ProspectActivityId",
            "O_ActivityEventName",
            "O_ActivityEvent",
            "O_Status",
            "O_Owner",
        ] {
            assert!(o.contains_key(k), "missing {k}: {row}");
        }
        // Include_CSV kept only CreatedOn (as PACreatedOn) and Status of the activity columns.
        for k in [
            "ActivityEvent",
            "Score",
            "PAModifiedOn",
            "ActivityEvent_Note",
            "PACreatedByName",
            "mx_Custom_2",
        ] {
            assert!(
                !o.contains_key(k),
                "{k} should be excluded by Include_CSV: {row}"
            );
        }
        assert_eq!(row["ProspectId"], json!(lead));
        assert_eq!(row["LeadName"], "Manish Garg");
        assert_eq!(row["Total"], "2");
        assert_eq!(row["O_ProspectActivityId"], json!(opp));
        assert_eq!(row["O_ActivityEvent"], "12000");
        assert_eq!(row["O_Status"], "Open");
        assert_eq!(row["Status"], "Active");
        assert!(is_lsq_datetime(row["PACreatedOn"].as_str().unwrap()));
    }
    // Without Include_CSV every activity column is there, with the custom field of its type.
    let (_, full) = list(
        &s,
        &admin,
        &opp,
        &format!("&activityEventCode={code}"),
        json!({}),
    )
    .await;
    assert_eq!(full["RecordCount"], 1, "{full}");
    let row = &full["List"][0];
    assert_eq!(row["ActivityEvent"], json!(code.to_string()));
    assert_eq!(row["ActivityEvent_Note"], "PAN collected");
    assert_eq!(row["mx_Custom_2"], "AAAAA1111A");
    assert_eq!(row["Score"], "4");
    // The activities are the lead's too.
    assert_eq!(s.record_count(&admin, &lead).await, 2);
}

#[tokio::test]
async fn bulk_reports_bad_rows_and_stores_only_the_good_ones() {
    let db = Db::new();
    let admin = db.tenant("Opp", ADMIN);
    db.user(&admin, "rep@opp.example", "Rita", "Rep", "Sales_User");
    let s = Server::start(&db);
    let code = pan_type(&s, &admin).await;
    let (opp, _) = capture(&s, &admin, "m@x.example").await;
    let rows = json!([
        {"ActivityEvent": code, "ActivityOwnerEmail": ADMIN, "Fields": [{"SchemaName": "mx_Custom_1", "Value": "7"}]},
        {"ActivityEvent": code, "ActivityOwnerEmail": "nobody@opp.example"},
        {"ActivityEvent": code, "ActivityOwnerEmail": ADMIN, "Fields": [{"SchemaName": "mx_Custom_1", "Value": "seven"}]},
        {"ActivityEvent": code, "ActivityNote": "no owner"},
        {"ActivityEvent": 999, "ActivityOwnerEmail": ADMIN},
        {"ActivityEvent": code, "ActivityOwnerEmail": ADMIN, "ActivityDateTime": "yesterday"},
        {"ActivityEvent": 102, "ActivityOwnerEmail": "rep@opp.example"}
    ]);
    let (st, b) = bulk(&s, &admin, &opp, rows).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let r = b["Response"].as_array().unwrap();
    let created: Vec<bool> = r
        .iter()
        .map(|x| x["ActivityCreated"].as_bool().unwrap())
        .collect();
    assert_eq!(created, [true, false, false, false, false, false, true]);
    for (i, mention) in [
        (1, "nobody@opp.example"),
        (2, "mx_Custom_1"),
        (3, "ActivityOwnerEmail"),
        (4, "999"),
        (5, "yesterday"),
    ] {
        assert_eq!(r[i]["RowNumber"], i + 1);
        assert!(r[i]["ProspectActivityId"].is_null(), "{}", r[i]);
        let msg = r[i]["ExceptionMessage"]
            .as_str()
            .unwrap_or_else(|| panic!("row {i}: {}", r[i]));
        assert!(
            msg.contains(mention),
            "row {i} message should name {mention}: {msg}"
        );
    }
    assert_eq!(count(&s, &admin, &opp).await, 2);
    // The stored ones are exactly the reported ids.
    let (_, l) = list(&s, &admin, &opp, "", json!({})).await;
    let mut got = ids(&l);
    got.sort();
    let mut want = vec![
        r[0]["ProspectActivityId"].as_str().unwrap().to_string(),
        r[6]["ProspectActivityId"].as_str().unwrap().to_string(),
    ];
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn bulk_takes_1_to_25_rows() {
    let db = Db::new();
    let admin = db.tenant("Opp", ADMIN);
    let s = Server::start(&db);
    let (opp, _) = capture(&s, &admin, "m@x.example").await;
    let row = json!({"ActivityEvent": 105, "ActivityOwnerEmail": ADMIN, "ActivityNote": "n"});
    for n in [0usize, 26] {
        let (st, b) = bulk(&s, &admin, &opp, Value::Array(vec![row.clone(); n])).await;
        assert_envelope(
            &format!("{n} rows"),
            st,
            &b,
            400,
            "MXInvalidInputException",
            &["25"],
        );
    }
    assert_eq!(count(&s, &admin, &opp).await, 0);
    let (st, b) = bulk(&s, &admin, &opp, Value::Array(vec![row; 25])).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(b["Response"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["ActivityCreated"] == true));
    assert_eq!(count(&s, &admin, &opp).await, 25);
    let (st, b) = bulk(&s, &admin, &opp, json!({"ActivityEvent": 105})).await;
    assert_envelope(
        "object instead of array",
        st,
        &b,
        400,
        "MXInvalidInputException",
        &[],
    );
}

#[tokio::test]
async fn unknown_or_non_opportunity_ids_are_invalid_entities() {
    let db = Db::new();
    let admin = db.tenant("Opp", ADMIN);
    let s = Server::start(&db);
    let lead = s.create_lead(&admin, "l@x.example").await;
    let activity = s.post_simple(&admin, &lead, 105, None).await;
    let row = json!([{"ActivityEvent": 105, "ActivityOwnerEmail": ADMIN}]);
    for id in [unknown_guid(), activity.clone(), "not-a-guid".to_string()] {
        let (st, b) = bulk(&s, &admin, &id, row.clone()).await;
        assert_envelope(
            "bulk",
            st,
            &b,
            500,
            "MXInvalidEntityException",
            &["Opportunity"],
        );
        let (st, b) = list(&s, &admin, &id, "", json!({})).await;
        assert_envelope(
            "list",
            st,
            &b,
            500,
            "MXInvalidEntityException",
            &["Opportunity"],
        );
        let (st, b) = s
            .lsq_get(&format!("{DETAILS}?OpportunityId={id}"), &admin)
            .await;
        assert_envelope(
            "details",
            st,
            &b,
            500,
            "MXInvalidEntityException",
            &["Opportunity"],
        );
    }
    assert_eq!(s.record_count(&admin, &lead).await, 1);
    let (st, b) = s.lsq_post(ACTIVITIES, &admin, json!({})).await;
    assert_envelope(
        "no opportunityId",
        st,
        &b,
        400,
        "MXInvalidInputException",
        &["opportunityId"],
    );
}

#[tokio::test]
async fn sorting_by_activity_lead_and_custom_columns_and_paging() {
    let db = Db::new();
    let admin = db.tenant("Opp", ADMIN);
    let s = Server::start(&db);
    let code = pan_type(&s, &admin).await;
    let (opp, _) = capture(&s, &admin, "m@x.example").await;
    // Dates and numbers chosen so that each order differs from insertion order.
    let spec = [
        ("2024-01-03 10:00:00", "10"),
        ("2024-01-01 10:00:00", "9"),
        ("2024-01-02 10:00:00", "100"),
        ("2024-01-02 10:00:00", ""),
    ];
    let rows: Vec<Value> = spec
        .iter()
        .map(|(when, n)| {
            json!({"ActivityEvent": code, "ActivityOwnerEmail": ADMIN, "ActivityDateTime": when,
                                "Fields": [{"SchemaName": "mx_Custom_1", "Value": n}]})
        })
        .collect();
    let (_, b) = bulk(&s, &admin, &opp, Value::Array(rows)).await;
    let inserted: Vec<String> = b["Response"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ProspectActivityId"].as_str().unwrap().to_string())
        .collect();
    let pick = |order: &[usize]| {
        order
            .iter()
            .map(|i| inserted[*i].clone())
            .collect::<Vec<_>>()
    };
    let sorted = |col: &str, dir: i64| json!({"Sorting": {"ColumnName": col, "Direction": dir}});

    // PACreatedOn (= ActivityDateTime); ties (rows 2 and 3) broken by insertion order in the same direction.
    assert_eq!(
        ids(&list(&s, &admin, &opp, "", sorted("PACreatedOn", 1)).await.1),
        pick(&[0, 3, 2, 1])
    );
    assert_eq!(
        ids(&list(&s, &admin, &opp, "", sorted("CreatedOn", 0)).await.1),
        pick(&[1, 2, 3, 0])
    );
    assert_eq!(
        ids(&list(&s, &admin, &opp, "", json!({})).await.1),
        pick(&[0, 3, 2, 1]),
        "default: newest first"
    );
    // A number field sorts numerically; the empty value sorts first ascending, last descending.
    assert_eq!(
        ids(&list(&s, &admin, &opp, "", sorted("mx_Custom_1", 0)).await.1),
        pick(&[3, 1, 0, 2])
    );
    assert_eq!(
        ids(&list(&s, &admin, &opp, "", sorted("mx_Custom_1", 1)).await.1),
        pick(&[2, 0, 1, 3])
    );
    // A lead column is the same on every row: the default order (PACreatedOn, then id) decides.
    assert_eq!(
        ids(&list(&s, &admin, &opp, "", sorted("LeadOwner", 0)).await.1),
        pick(&[1, 2, 3, 0])
    );
    assert_eq!(
        ids(&list(&s, &admin, &opp, "", sorted("LeadOwner", 1)).await.1),
        pick(&[0, 3, 2, 1])
    );
    // ModifiedOn follows the order the rows were written in (one bulk call, one clock tick each).
    assert_eq!(
        ids(&list(&s, &admin, &opp, "", sorted("PAModifiedOn", 0))
            .await
            .1),
        pick(&[0, 1, 2, 3])
    );
    // Paging through one row at a time sees every activity once, in order.
    let mut walked = Vec::new();
    for page in 1..=5 {
        let body = json!({"Paging": {"PageIndex": page, "PageSize": 1}, "Sorting": {"ColumnName": "mx_Custom_1", "Direction": 0}});
        let (_, l) = list(&s, &admin, &opp, "", body).await;
        assert_eq!(l["RecordCount"], 4);
        walked.extend(ids(&l));
    }
    assert_eq!(walked, pick(&[3, 1, 0, 2]));
    for (body, mention) in [
        (sorted("NoSuchColumn", 1), "NoSuchColumn"),
        (sorted("mx_Custom_44", 1), "mx_Custom_44"),
        (
            json!({"Columns": {"Include_CSV": "CreatedOn,Bogus"}}),
            "Bogus",
        ),
        (
            json!({"Paging": {"PageIndex": 1, "PageSize": 1001}}),
            "1000",
        ),
    ] {
        let (st, b) = list(&s, &admin, &opp, "", body).await;
        assert_envelope(mention, st, &b, 400, "MXInvalidInputException", &[mention]);
    }
}

#[tokio::test]
async fn tenants_and_sales_users_reach_only_their_opportunities() {
    let db = Db::new();
    let admin = db.tenant("A", ADMIN);
    let seller = db.user(&admin, "seller@opp.example", "Sam", "Seller", "Sales_User");
    let other = db.tenant("B", "admin@b.example");
    let s = Server::start(&db);
    let (admin_opp, admin_lead) = capture(&s, &admin, "admins-lead@x.example").await;
    let row = json!([{"ActivityEvent": 105, "ActivityOwnerEmail": ADMIN}]);
    for who in [&other, &seller] {
        let (st, b) = bulk(&s, who, &admin_opp, row.clone()).await;
        assert_envelope("foreign bulk", st, &b, 500, "MXInvalidEntityException", &[]);
        let (st, b) = list(&s, who, &admin_opp, "", json!({})).await;
        assert_envelope("foreign list", st, &b, 500, "MXInvalidEntityException", &[]);
        let (st, b) = s
            .lsq_get(&format!("{DETAILS}?OpportunityId={admin_opp}"), who)
            .await;
        assert_envelope(
            "foreign details",
            st,
            &b,
            500,
            "MXInvalidEntityException",
            &[],
        );
        let (st, b) = s
            .lsq_post(&format!("{OF_LEAD}?leadId={admin_lead}"), who, json!({}))
            .await;
        assert_envelope(
            "foreign lead's opportunities",
            st,
            &b,
            500,
            "MXInvalidEntityException",
            &[],
        );
    }
    // Capturing on the admin's lead is refused for the Sales_User (not duplicated, not attached).
    let (st, b) = s
        .lsq_post(
            CAPTURE,
            &seller,
            capture_body("admins-lead@x.example", 12000, "Open"),
        )
        .await;
    assert_envelope(
        "seller capture on admin's lead",
        st,
        &b,
        500,
        "MXDuplicateEntryException",
        &["EmailAddress"],
    );
    assert_eq!(count(&s, &admin, &admin_opp).await, 0);
    // The Sales_User's own opportunity works for it, and the admin sees it too.
    let (own, _) = capture(&s, &seller, "sellers-lead@x.example").await;
    let (st, b) = bulk(
        &s,
        &seller,
        &own,
        json!([{"ActivityEvent": 105, "ActivityOwnerEmail": "seller@opp.example"}]),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["Response"][0]["ActivityCreated"], true, "{b}");
    assert_eq!(count(&s, &admin, &own).await, 1);
    // Tenant B's owner email is not an active user of tenant A.
    let (_, b) = bulk(
        &s,
        &admin,
        &admin_opp,
        json!([{"ActivityEvent": 105, "ActivityOwnerEmail": "admin@b.example"}]),
    )
    .await;
    assert_eq!(b["Response"][0]["ActivityCreated"], false, "{b}");
}
