//! Paging, sorting and lenient numbers on `Retrieve`.

use crate::harness::*;
use std::collections::HashSet;

/// A lead with `n` activities posted in bulk; the dates cycle over 3 distinct values so that
/// many rows tie on CreatedOn. Returns the ids in posting order.
async fn lead_with(n: usize) -> (Db, Server, Creds, String, i64, Vec<String>) {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv.create_type(&admin, "Paged", 1, json!([])).await;
    let dates = [
        "2022-01-01 09:00:00",
        "2022-01-02 09:00:00",
        "2022-01-03 09:00:00",
    ];
    let mut ids = Vec::new();
    let mut i = 0;
    while i < n {
        let chunk: Vec<Value> = (i..n.min(i + 25))
            .map(|k| {
                json!({"RelatedProspectId": lead, "ActivityEvent": code,
                       "ActivityNote": format!("#{k}"), "ActivityDateTime": dates[k % 3]})
            })
            .collect();
        let (s, b) = srv.bulk_by_lead(&admin, Value::Array(chunk)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        for r in b["Response"].as_array().unwrap() {
            assert_eq!(r["ActivityCreated"], json!(true), "{r}");
            ids.push(r["ProspectActivityId"].as_str().unwrap().to_lowercase());
        }
        i += 25;
    }
    (db, srv, admin, lead, code, ids)
}

fn retrieve_path(lead: &str) -> String {
    format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}")
}

#[tokio::test]
async fn default_page_is_25_rows_and_record_count_is_the_total() {
    let (_db, srv, admin, lead, _code, ids) = lead_with(26).await;
    let r = srv.retrieve(&admin, &lead, json!({})).await;
    assert_eq!(r["RecordCount"], 26, "{r}");
    assert_eq!(r["ProspectActivities"].as_array().unwrap().len(), 25);

    let p2 = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Paging": {"PageIndex": 2, "PageSize": 25}}),
        )
        .await;
    assert_eq!(p2["RecordCount"], 26);
    assert_eq!(p2["ProspectActivities"].as_array().unwrap().len(), 1);
    let mut all: Vec<String> = row_ids(&r).into_iter().chain(row_ids(&p2)).collect();
    all.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(all, want);
}

#[tokio::test]
async fn a_page_past_the_end_is_empty_but_keeps_the_total() {
    let (_db, srv, admin, lead, _code, _ids) = lead_with(5).await;
    for body in [
        json!({"Paging": {"PageIndex": 3, "PageSize": 5}}),
        json!({"Paging": {"Offset": "99", "RowCount": "10"}}),
    ] {
        let r = srv.retrieve(&admin, &lead, body.clone()).await;
        assert_eq!(r["RecordCount"], 5, "{body}: {r}");
        assert_eq!(r["ProspectActivities"], json!([]), "{body}: {r}");
    }
}

#[tokio::test]
async fn page_size_limits() {
    let (_db, srv, admin, lead, _code, _ids) = lead_with(3).await;
    let one = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Paging": {"PageIndex": 1, "PageSize": 1}}),
        )
        .await;
    assert_eq!(one["ProspectActivities"].as_array().unwrap().len(), 1);
    assert_eq!(one["RecordCount"], 3);
    let max = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Paging": {"PageIndex": 1, "PageSize": 1000}}),
        )
        .await;
    assert_eq!(max["ProspectActivities"].as_array().unwrap().len(), 3);
    let max = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Paging": {"Offset": "0", "RowCount": "1000"}}),
        )
        .await;
    assert_eq!(max["ProspectActivities"].as_array().unwrap().len(), 3);

    for (body, prop) in [
        (
            json!({"Paging": {"PageIndex": 1, "PageSize": 1001}}),
            "PageSize",
        ),
        (
            json!({"Paging": {"Offset": "0", "RowCount": "1001"}}),
            "RowCount",
        ),
    ] {
        let (s, b) = srv
            .lsq_post(&retrieve_path(&lead), &admin, body.clone())
            .await;
        assert_envelope(
            &format!("{body}"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &[prop, "1000"],
        );
    }
    for (body, prop) in [
        (
            json!({"Paging": {"PageIndex": 1, "PageSize": 0}}),
            "PageSize",
        ),
        (
            json!({"Paging": {"PageIndex": 1, "PageSize": -5}}),
            "PageSize",
        ),
        (json!({"Paging": {"Offset": 0, "RowCount": 0}}), "RowCount"),
        (
            json!({"Paging": {"PageIndex": -1, "PageSize": 10}}),
            "PageIndex",
        ),
        (
            json!({"Paging": {"Offset": "-2", "RowCount": "10"}}),
            "Offset",
        ),
    ] {
        let (s, b) = srv
            .lsq_post(&retrieve_path(&lead), &admin, body.clone())
            .await;
        assert_envelope(
            &format!("{body}"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &[prop],
        );
    }
}

#[tokio::test]
async fn offset_and_page_index_zero_and_one_both_mean_the_first_page() {
    let (_db, srv, admin, lead, _code, _ids) = lead_with(5).await;
    let page = |body: Value| {
        let srv = &srv;
        let admin = &admin;
        let lead = &lead;
        async move { srv.activity_ids(admin, lead, body).await }
    };
    let o0 = page(json!({"Paging": {"Offset": "0", "RowCount": "2"}})).await;
    let o1 = page(json!({"Paging": {"Offset": "1", "RowCount": "2"}})).await;
    let o2 = page(json!({"Paging": {"Offset": "2", "RowCount": "2"}})).await;
    let p0 = page(json!({"Paging": {"PageIndex": 0, "PageSize": 2}})).await;
    let p1 = page(json!({"Paging": {"PageIndex": 1, "PageSize": 2}})).await;
    let p2 = page(json!({"Paging": {"PageIndex": 2, "PageSize": 2}})).await;
    let first_two: Vec<String> = page(json!({})).await.into_iter().take(2).collect();
    assert_eq!(o0.len(), 2);
    assert_eq!(o0, o1, "Offset 0 and 1 are both page 1");
    assert_eq!(o0, p0);
    assert_eq!(o0, p1);
    assert_eq!(o0, first_two, "page 1 is the head of the default order");
    assert_eq!(o2, p2, "Offset is a page number, like PageIndex");
    assert_eq!(o2.len(), 2);
    assert!(
        o2.iter().all(|id| !o0.contains(id)),
        "page 2 follows page 1"
    );
}

#[tokio::test]
async fn walking_pages_of_one_row_returns_every_activity_exactly_once() {
    let (_db, srv, admin, lead, _code, ids) = lead_with(9).await;
    let want: HashSet<String> = ids.iter().cloned().collect();
    for (spelling, direction) in [("PageIndex", 1), ("Offset", 0)] {
        let mut seen = Vec::new();
        for page in 1..=10 {
            let body = if spelling == "PageIndex" {
                json!({"Paging": {"PageIndex": page, "PageSize": 1},
                       "Sorting": {"ColumnName": "CreatedOn", "Direction": direction}})
            } else {
                json!({"Paging": {"Offset": page.to_string(), "RowCount": "1"},
                       "Sorting": {"ColumnName": "CreatedOn", "Direction": direction}})
            };
            let r = srv.retrieve(&admin, &lead, body).await;
            assert_eq!(r["RecordCount"], 9, "{r}");
            let got = row_ids(&r);
            if page <= 9 {
                assert_eq!(got.len(), 1, "page {page}: {r}");
            } else {
                assert!(got.is_empty(), "page {page} is past the end: {r}");
            }
            seen.extend(got);
        }
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), 9, "{spelling}: {seen:?}");
        assert_eq!(unique, want, "{spelling}: every activity exactly once");
        // The walk equals one big page in the same order.
        let big = srv
            .activity_ids(
                &admin,
                &lead,
                json!({"Paging": {"PageIndex": 1, "PageSize": 100},
                       "Sorting": {"ColumnName": "CreatedOn", "Direction": direction}}),
            )
            .await;
        assert_eq!(seen, big, "{spelling}: pages concatenate to the full list");
    }
}

#[tokio::test]
async fn sorting_on_created_on_with_stable_ties() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv.create_type(&admin, "Sorted", 0, json!([])).await;
    // Posted out of date order.
    let mid = srv
        .post_simple(&admin, &lead, code, Some("2019-06-01 00:00:00"))
        .await
        .to_lowercase();
    let new = srv
        .post_simple(&admin, &lead, code, Some("2019-12-01 00:00:00"))
        .await
        .to_lowercase();
    let old = srv
        .post_simple(&admin, &lead, code, Some("2019-01-01 00:00:00"))
        .await
        .to_lowercase();
    // Three ties, posted in this order.
    let t1 = srv
        .post_simple(&admin, &lead, code, Some("2019-03-03 03:03:03"))
        .await
        .to_lowercase();
    let t2 = srv
        .post_simple(&admin, &lead, code, Some("2019-03-03 03:03:03"))
        .await
        .to_lowercase();
    let t3 = srv
        .post_simple(&admin, &lead, code, Some("2019-03-03 03:03:03"))
        .await
        .to_lowercase();

    let asc = vec![
        old.clone(),
        t1.clone(),
        t2.clone(),
        t3.clone(),
        mid.clone(),
        new.clone(),
    ];
    let desc: Vec<String> = asc.iter().rev().cloned().collect();

    let default = srv.activity_ids(&admin, &lead, json!({})).await;
    assert_eq!(
        default, desc,
        "default: newest CreatedOn first, ties newest-posted first"
    );
    let d1 = srv
        .activity_ids(
            &admin,
            &lead,
            json!({"Sorting": {"ColumnName": "CreatedOn", "Direction": 1}}),
        )
        .await;
    assert_eq!(d1, desc);
    let d0 = srv
        .activity_ids(
            &admin,
            &lead,
            json!({"Sorting": {"ColumnName": "CreatedOn", "Direction": 0}}),
        )
        .await;
    assert_eq!(d0, asc, "Direction 0: oldest first, ties in posting order");
    let lenient = srv
        .activity_ids(
            &admin,
            &lead,
            json!({"Sorting": {"ColumnName": "CreatedOn", "Direction": "0"}}),
        )
        .await;
    assert_eq!(lenient, asc, "Direction as a string");
    // Repeating a query gives the same order.
    assert_eq!(srv.activity_ids(&admin, &lead, json!({})).await, default);
}

#[tokio::test]
async fn numbers_may_arrive_as_strings() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv.create_type(&admin, "Lenient", 4, json!([])).await;
    let other = srv.create_type(&admin, "Other", 0, json!([])).await;

    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/Create",
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": code.to_string(),
                   "IncludeLeadScore": "true"}),
        )
        .await;
    assert_success("ActivityEvent as a string", s, &b);
    assert_eq!(
        b["Message"]["LeadScore"],
        json!(4),
        "IncludeLeadScore \"true\": {b}"
    );
    let (s, b) = srv
        .lsq_post(
            "/v2/ProspectActivity.svc/Create",
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": code, "IncludeLeadScore": 1}),
        )
        .await;
    assert_success("IncludeLeadScore 1", s, &b);
    assert_eq!(b["Message"]["LeadScore"], json!(8), "{b}");
    srv.post_simple(&admin, &lead, other, None).await;

    let r = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Parameter": {"ActivityEvent": code.to_string()},
                   "Paging": {"Offset": "0", "RowCount": "10"},
                   "Sorting": {"ColumnName": "CreatedOn", "Direction": "1"}}),
        )
        .await;
    assert_eq!(r["RecordCount"], 2, "{r}");
    assert!(r["ProspectActivities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|row| row["EventCode"] == json!(code)));
    let r = srv
        .retrieve(
            &admin,
            &lead,
            json!({"Paging": {"PageIndex": "1", "PageSize": "1"}}),
        )
        .await;
    assert_eq!(r["RecordCount"], 3);
    assert_eq!(r["ProspectActivities"].as_array().unwrap().len(), 1);
}
