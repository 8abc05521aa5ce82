//! The native API's own rate limit: 600 cost per user per rolling minute (an export costs 10),
//! refused with 429 `rate_limited` and `Retry-After`, stated in `x-ratelimit-*` on every answer.

use crate::harness::*;
use activity_hub::domain::Role;

fn header(r: &Resp, name: &str) -> u64 {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing: {:?}", r.headers))
        .to_str()
        .expect("ascii header")
        .parse()
        .unwrap_or_else(|e| panic!("{name} not a number: {e}"))
}

/// Spends 59 exports (590) of `who`'s budget, which had `left`; each answer states what is left.
async fn spend_exports(app: &App, who: &Who, left: u64) {
    for i in 0..59u64 {
        let r = app.get(who, "/api/v1/export").await;
        assert_eq!(r.status, StatusCode::OK, "export {i}: {}", r.json);
        assert_eq!(header(&r, "x-ratelimit-remaining"), left - 10 * (i + 1));
    }
}

#[tokio::test]
async fn a_spent_budget_is_answered_429_for_that_user_only() {
    let app = App::launch("native (every test on PostgreSQL)", "native", true).await;
    let admin = app.tenant("Limited").await;
    let colleague = app
        .user(&admin, "colleague@limited.example", Role::SalesUser)
        .await;
    let other = app.tenant("Elsewhere").await;

    let first = app.get(&admin, "/api/v1/users").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(header(&first, "x-ratelimit-limit"), 600);
    assert_eq!(header(&first, "x-ratelimit-remaining"), 599);

    // 599 left: 59 exports leave 9, less than an export's 10.
    spend_exports(&app, &admin, 599).await;
    let refused = app.get(&admin, "/api/v1/export").await;
    refused.assert_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "600 requests per 60 seconds",
    );
    let wait = header(&refused, "retry-after");
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(header(&refused, "x-ratelimit-limit"), 600);
    assert_eq!(header(&refused, "x-ratelimit-remaining"), 9);
    // A call costing 1 still fits, then nothing does, errors (404) included.
    assert_eq!(
        app.get(&admin, "/api/v1/users").await.status,
        StatusCode::OK
    );
    for _ in 0..8 {
        app.get(&admin, &format!("/api/v1/leads/{UNKNOWN}")).await;
    }
    let r = app.get(&admin, "/api/v1/users").await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "try again");
    assert_eq!(header(&r, "x-ratelimit-remaining"), 0);

    // Another user of the same tenant, and a user of another tenant, have budgets of their own.
    for who in [&colleague, &other] {
        let r = app.get(who, "/api/v1/leads").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        assert_eq!(header(&r, "x-ratelimit-remaining"), 599);
    }
    spend_exports(&app, &other, 599).await;
    let r = app.get(&other, "/api/v1/export").await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "API key");

    // The dialects keep their own budgets: the same key still reads Salesloft histories.
    let r = app.get(&admin, "/v2/activity_histories").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

#[tokio::test]
async fn no_rate_limit_lets_every_call_through_and_states_the_whole_budget() {
    let app = App::start().await; // built with `--no-rate-limit`
    let admin = app.tenant("Unlimited").await;
    for _ in 0..70 {
        let r = app.get(&admin, "/api/v1/export").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        assert_eq!(header(&r, "x-ratelimit-limit"), 600);
        assert_eq!(header(&r, "x-ratelimit-remaining"), 600);
    }
}

#[tokio::test]
async fn unauthenticated_answers_carry_no_budget() {
    let app = App::launch("native (every test on PostgreSQL)", "native", true).await;
    let r = app
        .send(app.client.get(format!("{}/api/v1/users", app.base)))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.get("x-ratelimit-remaining").is_none());
}
