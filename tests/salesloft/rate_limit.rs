//! The per-tenant budget (600 cost per minute): pacing headers on every response, 429 with
//! `Retry-After` over budget, shared by a tenant's users, separate between tenants, and off with
//! `--no-rate-limit`.

use crate::harness::*;

fn num(r: &Resp, name: &str) -> u64 {
    r.header(name)
        .unwrap_or_else(|| panic!("{name} missing ({})", r.status))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_cost_and_remaining() {
    let app = App::start(true).await;
    let admin = app.tenant("Paceco").await;
    let lead = app.lead(&admin, "Pa", "pa@example.com").await;
    let made = app
        .activities(
            &admin,
            vec![on_person(
                lead["guid"].as_str().unwrap(),
                "call",
                "2024-01-01T00:00:00Z",
            )],
        )
        .await;
    let sl = made[0]["salesloft_id"].as_str().unwrap().to_string();

    // (path, expected status, expected cost): Salesloft charges by page number, not page size
    // (pages 101-150 cost 3, 151-250 8, 251-500 10, 501+ 30, anything else 1).
    let calls: Vec<(String, StatusCode, u64)> = vec![
        ("/v2/activity_histories".into(), StatusCode::OK, 1),
        (
            "/v2/activity_histories?per_page=100&include_paging_counts=true".into(),
            StatusCode::OK,
            1,
        ),
        ("/v2/activity_histories?page=100".into(), StatusCode::OK, 1),
        ("/v2/activity_histories?page=101".into(), StatusCode::OK, 3),
        ("/v2/activity_histories?page=150".into(), StatusCode::OK, 3),
        ("/v2/activity_histories?page=151".into(), StatusCode::OK, 8),
        (
            "/v2/activity_histories?page=251&per_page=10".into(),
            StatusCode::OK,
            10,
        ),
        ("/v2/activity_histories?page=501".into(), StatusCode::OK, 30),
        (format!("/v2/activity_histories/{sl}"), StatusCode::OK, 1),
        (
            "/v2/activity_histories/call-999999".into(),
            StatusCode::NOT_FOUND,
            1,
        ),
        (
            "/v2/activity_histories?per_page=0".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            1,
        ),
        ("/v2/me".into(), StatusCode::OK, 1),
    ];
    let mut expected_remaining = 600;
    for (path, status, cost) in &calls {
        let r = app.get(&admin, path).await;
        assert_eq!(r.status, *status, "{path}: {}", r.json);
        assert_eq!(num(&r, "x-ratelimit-endpoint-cost"), *cost, "{path}");
        expected_remaining -= cost;
        assert_eq!(
            num(&r, "x-ratelimit-remaining-minute"),
            expected_remaining,
            "{path}"
        );
        assert!(r.header("date").is_some(), "clients pace by Date too");
    }
    // A wrong method is answered with the headers too.
    let r = app.call(&admin, "DELETE", "/v2/me", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.header("x-ratelimit-remaining-minute").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_budget_is_429_per_tenant() {
    let app = App::start(true).await;
    let admin = app.tenant("Busyco").await;
    let colleague = app
        .user(
            &admin,
            "col@busyco.example",
            activity_hub::domain::Role::SalesUser,
        )
        .await;
    let other = app.tenant("Idleco").await;

    // 19 pages past 500 (cost 30 each) and 29 first pages (cost 1): 599 spent.
    for i in 0..19 {
        let r = app.get(&admin, "/v2/activity_histories?page=501").await;
        assert_eq!(r.status, StatusCode::OK, "request {i}");
    }
    for i in 0..28 {
        let r = app.get(&admin, "/v2/activity_histories").await;
        assert_eq!(r.status, StatusCode::OK, "request {i}");
    }
    let r = app.get(&admin, "/v2/activity_histories").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(num(&r, "x-ratelimit-remaining-minute"), 1);
    // A deep page (cost 3) no longer fits; cost 1 does, once.
    let r = app.get(&admin, "/v2/activity_histories?page=101").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.json);
    assert_eq!(num(&r, "x-ratelimit-endpoint-cost"), 3);
    assert_eq!(num(&r, "x-ratelimit-remaining-minute"), 1);
    let r = app.get(&admin, "/v2/me").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(num(&r, "x-ratelimit-remaining-minute"), 0);

    // Now everything of this team is refused, whichever user and endpoint asks.
    for (who, path) in [
        (&admin, "/v2/activity_histories"),
        (&admin, "/v2/activity_histories/call-1"),
        (&colleague, "/v2/me"),
        (&colleague, "/v2/activity_histories?per_page=0"),
    ] {
        let r = app.get(who, path).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{path}");
        let obj = r.json.as_object().expect("JSON object body");
        assert_eq!(obj.len(), 1, "{}", r.json);
        assert!(
            r.json["error"].as_str().is_some_and(|m| m.contains("600")),
            "{}",
            r.json
        );
        let retry = num(&r, "retry-after");
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
        assert_eq!(num(&r, "x-ratelimit-remaining-minute"), 0);
        assert!(r.header("x-ratelimit-endpoint-cost").is_some());
    }
    // Another tenant has its own budget.
    let r = app.get(&other, "/v2/activity_histories").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(num(&r, "x-ratelimit-remaining-minute"), 599);
    // The LeadSquared dialect is limited separately.
    let r = app
        .lsq(&admin, "/v2/ProspectActivity.svc/ActivityTypes.Get", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_rate_limit_never_refuses_and_still_sends_headers() {
    let app = App::start(false).await;
    let admin = app.tenant("Freeco").await;
    for i in 0..30 {
        let r = app.get(&admin, "/v2/activity_histories?page=501").await;
        assert_eq!(r.status, StatusCode::OK, "request {i}");
        assert_eq!(num(&r, "x-ratelimit-endpoint-cost"), 30);
        assert_eq!(
            num(&r, "x-ratelimit-remaining-minute"),
            600,
            "without a limit the whole budget is always left"
        );
    }
}
