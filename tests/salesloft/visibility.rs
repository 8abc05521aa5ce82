//! Who sees what: tenants never see each other's activities (404 by id, absent from lists, counts
//! and filters); a Sales_User sees only activities on leads it owns; managers see everything.

use crate::filters::fixture;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_activities_are_invisible() {
    let f = fixture().await;
    let app = &f.app;
    let other = app.tenant("Initech").await;
    let ol = app.lead(&other, "Olga", "olga@example.com").await;
    let theirs = app
        .activities(
            &other,
            vec![on_person(
                ol["guid"].as_str().unwrap(),
                "call",
                "2024-01-03T00:00:00Z",
            )],
        )
        .await;
    let their_sl = theirs[0]["salesloft_id"].as_str().unwrap().to_string();
    let their_n = theirs[0]["id"].as_i64().unwrap();
    let their_lead_id = ol["id"].as_i64().unwrap();

    // By id (typed and bare): 404 for Acme, 200 for its owner.
    for id in [their_sl.clone(), their_n.to_string()] {
        let r = app
            .get(&f.admin, &format!("/v2/activity_histories/{id}"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}: {}", r.json);
        assert_eq!(r.json, json!({"error": "Not Found"}));
        let r = app
            .get(&other, &format!("/v2/activity_histories/{id}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{id}");
    }
    // And Acme's records are 404 for Initech.
    let r = app
        .get(&other, &format!("/v2/activity_histories/{}", f.sl(0)))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Lists: never theirs, whatever the filter names.
    let all = app.ids(&f.admin, "per_page=100").await;
    assert_eq!(all.len(), 7);
    assert!(!all.contains(&their_sl));
    for q in [
        format!("id={their_sl}"),
        format!("ids={their_n}"),
        format!("resource_type=person&resource_id={their_lead_id}"),
        format!("user_guid={}", other.user.guid),
        format!(
            "resource_type=crm_opportunity&resource_id={}",
            ol["guid"].as_str().unwrap()
        ),
    ] {
        assert!(app.ids(&f.admin, &q).await.is_empty(), "{q}");
    }
    let p =
        app.histories(&f.admin, "include_paging_counts=true").await["metadata"]["paging"].clone();
    assert_eq!(p["total_count"], json!(7), "counts are per tenant");
    assert_eq!(
        app.ids(&other, "per_page=100").await,
        vec![their_sl.clone()]
    );
    // The cursor of one tenant never yields another's records.
    let body = app
        .histories(
            &other,
            "sort_by=updated_at&sort_direction=asc&updated_at[gt]=1970-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(ids_of(&body), vec![their_sl]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sales_user_sees_only_activities_on_leads_it_owns() {
    let f = fixture().await;
    let app = &f.app;
    // The seller owns lead1, which carries a1 (call) and a2 (pinned note).
    let mine = sorted(vec![f.sl(0), f.sl(1)]);
    assert_eq!(sorted(app.ids(&f.seller, "per_page=100").await), mine);
    let p = app
        .histories(
            &f.seller,
            "include_paging_counts=true&limit_paging_counts=true",
        )
        .await["metadata"]["paging"]
        .clone();
    assert_eq!(p["total_count"], json!(2));
    assert_eq!(p["total_pages"], json!(1));
    // Filters only narrow what it may see.
    assert_eq!(app.ids(&f.seller, "type=call").await, vec![f.sl(0)]);
    assert_eq!(app.ids(&f.seller, "pinned=true").await, vec![f.sl(1)]);
    assert!(app.ids(&f.seller, "resource_type=account").await.is_empty());
    assert!(app
        .ids(&f.seller, "resource_type=crm_opportunity")
        .await
        .is_empty());
    let lid2 = f.lead2["id"].as_i64().unwrap();
    assert!(app
        .ids(
            &f.seller,
            &format!("resource_type=person&resource_id={lid2}")
        )
        .await
        .is_empty());
    assert!(app
        .ids(&f.seller, &format!("user_guid={}", f.manager.user.guid))
        .await
        .is_empty());
    assert!(app
        .ids(&f.seller, &format!("ids[]={}&ids[]={}", f.sl(2), f.sl(3)))
        .await
        .is_empty());
    // The cursor shows the same two records.
    let body = app
        .histories(
            &f.seller,
            "sort_by=updated_at&sort_direction=asc&updated_at[gt]=2000-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(sorted(ids_of(&body)), mine);

    // By id: its own are there; others' (on another lead, an account, an opportunity) are 404.
    for i in 0..2 {
        let r = app
            .get(&f.seller, &format!("/v2/activity_histories/{}", f.sl(i)))
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    for id in [f.sl(2), f.sl(3), f.sl(4), f.sl(5), f.opp_sl()] {
        let r = app
            .get(&f.seller, &format!("/v2/activity_histories/{id}"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
    }

    // A manager and the administrator see everything.
    for who in [&f.manager, &f.admin] {
        assert_eq!(app.ids(who, "per_page=100").await.len(), 7);
        let r = app
            .get(who, &format!("/v2/activity_histories/{}", f.sl(3)))
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }

    // An activity someone else logs on the seller's lead is visible to the seller (it is on a
    // lead it owns).
    let l1 = f.lead1["guid"].as_str().unwrap();
    let by_admin = app
        .activities(
            &f.admin,
            vec![on_person(l1, "meeting", "2024-02-01T00:00:00Z")],
        )
        .await;
    let m = by_admin[0]["salesloft_id"].as_str().unwrap().to_string();
    assert!(app.ids(&f.seller, "type=meeting").await.contains(&m));
    // /v2/me answers for the seller as itself.
    let r = app.get(&f.seller, "/v2/me").await;
    assert_eq!(
        r.json["data"]["guid"],
        json!(f.seller.user.guid.to_string())
    );
}
