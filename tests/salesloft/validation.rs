//! Every 422 of salesloft.md: `{"errors":{param:[msg]}}` naming the parameter, nothing else in the
//! body; several problems reported at once; unknown parameter names ignored.

use crate::harness::*;

/// Asserts a 422 whose `errors` names exactly `params`, each with at least one non-empty message.
async fn rejects(app: &App, who: &Who, query: &str, params: &[&str]) {
    let r = app
        .get(who, &format!("/v2/activity_histories?{query}"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{query}: {}",
        r.json
    );
    let errors = r.json["errors"]
        .as_object()
        .unwrap_or_else(|| panic!("{query}: no errors object in {}", r.json));
    assert_eq!(r.json.as_object().map(|o| o.len()), Some(1), "{}", r.json);
    let mut named: Vec<&str> = errors.keys().map(String::as_str).collect();
    named.sort();
    let mut want = params.to_vec();
    want.sort();
    assert_eq!(named, want, "{query}: {}", r.json);
    for p in params {
        let msgs = errors[*p].as_array().expect("messages array");
        assert!(!msgs.is_empty(), "{query}");
        assert!(
            msgs.iter()
                .all(|m| m.as_str().is_some_and(|s| !s.is_empty())),
            "{query}: {}",
            r.json
        );
    }
    // A refused request still carries the pacing headers.
    assert!(r.header("x-ratelimit-endpoint-cost").is_some(), "{query}");
    assert!(
        r.header("x-ratelimit-remaining-minute").is_some(),
        "{query}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invalid_value_is_a_422_naming_its_parameter() {
    let app = App::start(false).await;
    let admin = app.tenant("Valco").await;
    let lead = app.lead(&admin, "Val", "val@example.com").await;
    app.activities(
        &admin,
        vec![on_person(
            lead["guid"].as_str().unwrap(),
            "call",
            "2024-01-01T00:00:00Z",
        )],
    )
    .await;
    let cases: &[(&str, &str)] = &[
        // per_page: 1..100
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=-1", "per_page"),
        ("per_page=ten", "per_page"),
        ("per_page=2.5", "per_page"),
        // page: ≥ 1
        ("page=0", "page"),
        ("page=-3", "page"),
        ("page=first", "page"),
        // counts flags
        ("include_paging_counts=maybe", "include_paging_counts"),
        ("include_paging_counts=1", "include_paging_counts"),
        ("limit_paging_counts=yes", "limit_paging_counts"),
        // sort keys (and the alias), directions
        ("sort_by=foo", "sort_by"),
        ("sort_by=created_at", "sort_by"),
        ("sort=foo", "sort"),
        ("sort_direction=up", "sort_direction"),
        ("sort_direction=descending", "sort_direction"),
        // types: plain, array, comma list, per resource
        ("type=bogus", "type"),
        ("type[]=call&type[]=bogus", "type"),
        ("type=call,bogus", "type"),
        ("type[person][]=bogus", "type"),
        ("type[lead][]=call", "type"),
        ("type[person][x][y]=call", "type"),
        // timestamps and their comparisons
        ("occurred_at[gt]=yesterday", "occurred_at"),
        ("occurred_at[lte]=2019-13-45T00:00:00Z", "occurred_at"),
        ("updated_at[gt]=2019-01-01T99:00:00Z", "updated_at"),
        ("updated_at[lt]=", "updated_at"),
        ("updated_at[after]=2019-01-01T00:00:00Z", "updated_at"),
        ("occurred_at=2019-01-01T00:00:00Z", "occurred_at"),
        // pinned
        ("pinned=maybe", "pinned"),
        ("pinned=", "pinned"),
        // resources
        ("resource_type=lead", "resource_type"),
        (
            "resource_type[]=person&resource_type[]=deal",
            "resource_type",
        ),
        ("resource_id=5", "resource_id"),
        ("resource_id[]=5&resource_id[]=6", "resource_id"),
        ("resource_type=person&resource_id=abc", "resource_id"),
        ("resource_type=account&resource_id=1,x", "resource_id"),
        // ids
        ("id=bogus-1", "id"),
        ("ids=call-x", "ids"),
        ("ids[]=-5", "ids"),
    ];
    for (q, p) in cases {
        rejects(&app, &admin, q, &[p]).await;
    }
    // resource_id with an invalid resource_type: the type is what is wrong.
    rejects(
        &app,
        &admin,
        "resource_type=lead&resource_id=5",
        &["resource_type"],
    )
    .await;
    // All problems at once, each under its own name.
    rejects(
        &app,
        &admin,
        "per_page=0&page=0&sort_by=foo&sort_direction=up&type=bogus&pinned=maybe\
         &occurred_at[gt]=x&updated_at[lt]=y&resource_type=lead&include_paging_counts=2",
        &[
            "per_page",
            "page",
            "sort_by",
            "sort_direction",
            "type",
            "pinned",
            "occurred_at",
            "updated_at",
            "resource_type",
            "include_paging_counts",
        ],
    )
    .await;
    rejects(
        &app,
        &admin,
        "resource_id=1&per_page=500",
        &["resource_id", "per_page"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_say_what_is_wrong() {
    let app = App::start(false).await;
    let admin = app.tenant("Msgco").await;
    let e = app
        .get(
            &admin,
            "/v2/activity_histories?type=carrier_pigeon&per_page=101&resource_id=3",
        )
        .await
        .json;
    let msg = |p: &str| e["errors"][p][0].as_str().unwrap_or_default().to_string();
    assert!(msg("type").contains("carrier_pigeon"), "{e}");
    assert!(msg("per_page").contains("100"), "{e}");
    assert!(msg("resource_id").contains("resource_type"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_edge_values_and_unknown_names_are_accepted() {
    let app = App::start(false).await;
    let admin = app.tenant("Edgeco").await;
    let lead = app.lead(&admin, "Ed", "ed@example.com").await;
    let lg = lead["guid"].as_str().unwrap().to_string();
    app.activities(
        &admin,
        vec![
            on_person(&lg, "call", "2024-01-01T00:00:00Z"),
            on_person(&lg, "note", "2024-01-02T00:00:00Z"),
        ],
    )
    .await;
    let baseline = app.ids(&admin, "").await;
    assert_eq!(baseline.len(), 2);
    // Unknown parameter names (and unknown bracketed names) change nothing.
    for q in [
        "foo=bar",
        "per_pag=1000",
        "filter[type]=bogus",
        "include_paging_count=maybe",
        "user_id=7&cadence_id[]=x",
        "_resource[]=person,1",
        "Type=bogus",
    ] {
        let body = app.histories(&admin, q).await;
        assert_eq!(ids_of(&body), baseline, "{q}");
        assert!(
            body["metadata"]["filtering"]
                .as_object()
                .is_some_and(|f| f.is_empty()),
            "{q}: {body}"
        );
    }
    // Boundaries and spellings that are valid.
    for q in [
        "per_page=1",
        "per_page=100",
        "page=1",
        "sort_direction=asc",
        "sort_direction=DESC",
        "sort_direction=Asc",
        "sort_by=occurred_at",
        "sort=updated_at",
        "include_paging_counts=false",
        "include_paging_counts=TRUE",
        "pinned=false",
        "pinned=true",
        "type=",
        "type[]=review",
        "type[account][]=account_added_to_cadence",
        "occurred_at[gt]=2024-01-01T00:00:00.000000Z",
        "occurred_at[gte]=2024-01-01",
        "updated_at[lt]=2099-01-01T00:00:00%2B02:00",
        "updated_at[lt]=2099-01-01T00:00:00+02:00",
        "occurred_at[lte]=2024-01-01T00:00:00",
        "resource_type=crm_opportunity&resource_id=not-a-guid",
        "id=call-999999",
        "user_guid=not-a-guid",
    ] {
        app.histories(&admin, q).await;
    }
    // The lenient timestamp forms mean the same instant.
    for q in [
        "occurred_at[lte]=2024-01-01T00:00:00Z",
        "occurred_at[lte]=2024-01-01T00:00:00",
        "occurred_at[lte]=2024-01-01",
        "occurred_at[lte]=2024-01-01T02:00:00%2B02:00",
        "occurred_at[lte]=2024-01-01T02:00:00+02:00",
    ] {
        assert_eq!(app.ids(&admin, q).await, vec![baseline[1].clone()], "{q}");
    }
    // A refused request changed nothing: the same listing afterwards.
    let r = app.get(&admin, "/v2/activity_histories?per_page=0").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.ids(&admin, "").await, baseline);
}

/// An id that does not decode to UTF-8 gets Salesloft's `{"error":…}` body, as does the
/// LeadSquared dialect's envelope for such a path: never axum's plain-text rejection.
#[tokio::test]
async fn undecodable_path_segments_get_the_dialects_error_body() {
    let app = App::start(false).await;
    let admin = app.tenant("Bytes").await;
    let r = app.get(&admin, "/v2/activity_histories/%FF").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
    let msg = r.json["error"].as_str().unwrap_or_default();
    assert!(msg.contains("not valid UTF-8"), "{}", r.json);

    let r = app
        .lsq(&admin, "/v2/ProspectActivity.svc/%FF/Retrieve", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
    assert_eq!(r.json["Status"], json!("Error"), "{}", r.json);
    let r = app
        .lsq(&admin, "/v2/LeadManagement.svc/Leads.GetById?id=%FF", None)
        .await;
    assert_eq!(r.json, json!([]), "no such lead: {}", r.json);
}
