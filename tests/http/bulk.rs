//! `Bulk/CustomActivity/Add/ByLeadId`: 1..=25 rows, each validated and stored on its own, with a
//! per-row response.

use crate::harness::*;

fn row(lead: &str, code: i64, note: &str) -> Value {
    json!({"RelatedProspectId": lead, "ActivityEvent": code, "ActivityNote": note,
           "ActivityDateTime": "2021-05-05 10:00:00",
           "Fields": [{"SchemaName": "mx_Custom_1", "Value": "10"}]})
}

async fn setup(score: i64) -> (Db, Server, Creds, String, i64) {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(
            &admin,
            "Bulk Type",
            score,
            json!([
                fdef(1, "mx_Custom_1", "Number"),
                fdef(2, "mx_Custom_2", "String")
            ]),
        )
        .await;
    (db, srv, admin, lead, code)
}

fn responses(b: &Value) -> Vec<Value> {
    b["Response"]
        .as_array()
        .unwrap_or_else(|| panic!("no Response array: {b}"))
        .clone()
}

#[tokio::test]
async fn twenty_five_rows_are_all_created_in_order() {
    let (_db, srv, admin, lead, code) = setup(2).await;
    let rows: Vec<Value> = (1..=25)
        .map(|i| row(&lead, code, &format!("row {i}")))
        .collect();
    let (s, b) = srv.bulk_by_lead(&admin, Value::Array(rows)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let resp = responses(&b);
    assert_eq!(resp.len(), 25, "{b}");
    let mut ids = Vec::new();
    for (i, r) in resp.iter().enumerate() {
        assert_eq!(
            r["RowNumber"],
            json!(i + 1),
            "RowNumber is 1-based, in order: {r}"
        );
        assert_eq!(r["ActivityCreated"], json!(true), "{r}");
        let id = r["ProspectActivityId"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"));
        assert!(is_guid(id), "{r}");
        ids.push(id.to_lowercase());
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 25, "ids are distinct");

    let r = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Paging": {"PageIndex": 1, "PageSize": 100}}),
        )
        .await;
    assert_eq!(r["RecordCount"], 25, "{r}");
    let mut stored = row_ids(&r);
    stored.sort();
    assert_eq!(stored, sorted, "Retrieve returns exactly the created ids");
    // The notes went to the right activities.
    let row7 = srv.activity_row(&admin, &lead, &ids[6]).await;
    assert_eq!(
        data_value(&row7, "NotableEventDescription").as_deref(),
        Some("row 7")
    );
    assert_eq!(row7["ActivityFields"]["mx_Custom_1"], "10");
    assert_eq!(row7["CreatedOn"], "2021-05-05 10:00:00");
    assert_eq!(srv.lead_score(&admin, &lead).await, 50);
}

#[tokio::test]
async fn zero_or_twenty_six_rows_or_a_non_array_are_rejected_whole() {
    let (_db, srv, admin, lead, code) = setup(2).await;

    let (s, b) = srv.bulk_by_lead(&admin, json!([])).await;
    assert_envelope("0 rows", s, &b, 400, "MXInvalidInputException", &[]);

    let rows: Vec<Value> = (1..=26)
        .map(|i| row(&lead, code, &format!("row {i}")))
        .collect();
    let (s, b) = srv.bulk_by_lead(&admin, Value::Array(rows)).await;
    assert_envelope("26 rows", s, &b, 400, "MXInvalidInputException", &["25"]);

    let (s, b) = srv
        .bulk_by_lead(&admin, row(&lead, code, "single object"))
        .await;
    assert_envelope("object body", s, &b, 400, "MXInvalidInputException", &[]);

    let r = srv
        .lsq_post_raw(
            "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId",
            &admin,
            b"[{\"RelatedProspectId\":",
            Some("application/json"),
        )
        .await;
    assert_envelope(
        "invalid JSON",
        r.status,
        &r.json,
        400,
        "MXInvalidInputException",
        &[],
    );

    assert_eq!(srv.record_count(&admin, &lead).await, 0, "nothing stored");
    assert_eq!(srv.lead_score(&admin, &lead).await, 0);
}

#[tokio::test]
async fn mixed_rows_report_the_bad_ones_and_store_the_good_ones() {
    let (_db, srv, admin, lead, code) = setup(3).await;
    let mut bad_number = row(&lead, code, "bad number");
    bad_number["Fields"] = json!([{"SchemaName": "mx_Custom_1", "Value": "ten"}]);
    let mut unknown_field = row(&lead, code, "unknown field");
    unknown_field["Fields"] = json!([{"SchemaName": "mx_Custom_33", "Value": "x"}]);
    let unknown_lead = row(&unknown_guid(), code, "unknown lead");
    let mut unknown_code = row(&lead, code, "unknown code");
    unknown_code["ActivityEvent"] = json!(998);
    let mut no_lead = row(&lead, code, "no lead");
    no_lead.as_object_mut().unwrap().remove("RelatedProspectId");

    let rows = json!([
        row(&lead, code, "good 1"),
        bad_number,
        row(&lead, code, "good 3"),
        unknown_field,
        unknown_lead,
        unknown_code,
        no_lead,
        row(&lead, code, "good 8"),
    ]);
    let (s, b) = srv.bulk_by_lead(&admin, rows).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let resp = responses(&b);
    assert_eq!(resp.len(), 8, "{b}");
    let good = [0usize, 2, 7];
    let mut good_ids = Vec::new();
    for (i, r) in resp.iter().enumerate() {
        assert_eq!(r["RowNumber"], json!(i + 1), "{r}");
        if good.contains(&i) {
            assert_eq!(r["ActivityCreated"], json!(true), "row {}: {r}", i + 1);
            good_ids.push(r["ProspectActivityId"].as_str().unwrap().to_lowercase());
        } else {
            assert_eq!(r["ActivityCreated"], json!(false), "row {}: {r}", i + 1);
            assert!(r["ProspectActivityId"].is_null(), "row {}: {r}", i + 1);
            let msg = r["ExceptionMessage"].as_str().unwrap_or("");
            assert!(
                !msg.is_empty(),
                "row {} needs an ExceptionMessage: {r}",
                i + 1
            );
        }
    }
    let msg = |i: usize| resp[i]["ExceptionMessage"].as_str().unwrap().to_string();
    assert!(msg(1).contains("mx_Custom_1"), "{}", msg(1));
    assert!(msg(3).contains("mx_Custom_33"), "{}", msg(3));
    assert!(msg(4).contains("Lead does not exist"), "{}", msg(4));
    assert!(msg(5).contains("998"), "{}", msg(5));
    assert!(msg(6).contains("RelatedProspectId"), "{}", msg(6));

    let r = srv.retrieve(&admin, &lead, json!({})).await;
    assert_eq!(r["RecordCount"], 3, "only the good rows are stored: {r}");
    let mut stored = row_ids(&r);
    stored.sort();
    good_ids.sort();
    assert_eq!(stored, good_ids);
    assert_eq!(
        srv.lead_score(&admin, &lead).await,
        9,
        "3 good rows × score 3"
    );
}

#[tokio::test]
async fn activity_owner_email_sets_the_owner_and_must_be_a_user() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_Manager");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv.create_type(&admin, "Owned", 0, json!([])).await;

    let (s, b) = srv
        .bulk_by_lead(
            &admin,
            json!([
                {"RelatedProspectId": lead, "ActivityEvent": code, "ActivityOwnerEmail": "rep@acme.test"},
                {"RelatedProspectId": lead, "ActivityEvent": code, "ActivityOwnerEmail": "ghost@acme.test"},
                {"RelatedProspectId": lead, "ActivityEvent": code}
            ]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let resp = responses(&b);
    assert_eq!(resp[0]["ActivityCreated"], json!(true), "{b}");
    assert_eq!(resp[1]["ActivityCreated"], json!(false), "{b}");
    assert!(
        resp[1]["ExceptionMessage"]
            .as_str()
            .unwrap_or("")
            .contains("ghost@acme.test"),
        "{b}"
    );
    assert_eq!(
        resp[2]["ActivityCreated"],
        json!(true),
        "owner email is optional: {b}"
    );

    let owned = srv
        .activity_row(
            &admin,
            &lead,
            resp[0]["ProspectActivityId"].as_str().unwrap(),
        )
        .await;
    assert!(
        same_id(
            owned["ActivityFields"]["Owner"].as_str().unwrap_or(""),
            &rep.user_id
        ),
        "{owned}"
    );
    let default = srv
        .activity_row(
            &admin,
            &lead,
            resp[2]["ProspectActivityId"].as_str().unwrap(),
        )
        .await;
    assert!(
        same_id(
            default["ActivityFields"]["Owner"].as_str().unwrap_or(""),
            &admin.user_id
        ),
        "{default}"
    );
    assert_eq!(srv.record_count(&admin, &lead).await, 2);
}
