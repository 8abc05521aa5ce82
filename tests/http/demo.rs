//! `serve --demo`: the printed credentials work at once, the demo data is there in both dialects,
//! and a second start on the same database leaves it alone.

use crate::harness::*;

/// The keys printed for the demo Administrator (`accessKey=… secretKey=… bearer=…`).
fn admin_keys(banner: &str) -> (String, String, String) {
    let line = banner
        .lines()
        .find(|l| l.trim_start().starts_with("Administrator"))
        .unwrap_or_else(|| panic!("no Administrator line in the demo banner:\n{banner}"));
    let value = |key: &str| -> String {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {line:?}"))
            .to_string()
    };
    (value("accessKey="), value("secretKey="), value("bearer="))
}

/// The `ID` of `name=ID` in the first banner line holding it.
fn banner_param(banner: &str, name: &str) -> String {
    let at = banner
        .find(name)
        .unwrap_or_else(|| panic!("no {name} in the demo banner:\n{banner}"));
    banner[at + name.len()..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect()
}

#[tokio::test]
async fn demo_prints_working_credentials_and_fills_both_dialects_once() {
    let db = Db::new();
    let server = Server::start_with(&db, &["--no-rate-limit", "--demo"]);
    let banner = server.banner.clone();
    assert!(
        banner.contains("Demo tenant created: 200 leads, 40 opportunities, 3000 activities"),
        "{banner}"
    );
    let (access, secret, bearer) = admin_keys(&banner);
    assert!(bearer.starts_with("ak_") && bearer.len() == 67, "{bearer}");
    let admin = Creds {
        tenant_id: String::new(),
        user_id: String::new(),
        access_key: access,
        secret_key: secret,
        api_key: bearer.clone(),
    };

    // The Retrieve example of the banner: the lead has activities, newest first.
    let lead = banner_param(&banner, "leadId=");
    let page = server
        .retrieve(
            &admin,
            &lead,
            json!({"Paging": {"PageIndex": 1, "PageSize": 1000}}),
        )
        .await;
    let count = page["RecordCount"].as_i64().expect("RecordCount");
    assert!(count > 0, "demo lead has no activities: {page}");

    // The custom activity types exist, and the custom opportunity type with its fields.
    let codes: Vec<Value> = server
        .activity_types(&admin)
        .await
        .iter()
        .map(|t| t["ActivityEvent"].clone())
        .collect();
    for code in [201, 202, 203] {
        assert!(
            codes.contains(&json!(code)),
            "type {code} missing: {codes:?}"
        );
    }
    let renewal = server.activity_setting(&admin, 12001).await;
    assert!(renewal.to_string().contains("Amount"), "{renewal}");

    // The GetActivitiesOfOpportunity example: the opportunity has activities and its O_ columns.
    let opportunity = banner_param(&banner, "opportunityId=");
    assert_eq!(
        opportunity.len(),
        36,
        "opportunity id from banner:\n{banner}"
    );
    let (status, body) = server
        .lsq_post(
            &format!(
                "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId={opportunity}"
            ),
            &admin,
            json!({"Paging": {"PageIndex": 1, "PageSize": 1000}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = body["List"].as_array().expect("List");
    assert!(
        !rows.is_empty(),
        "demo opportunity has no activities: {body}"
    );
    let status = rows[0]["O_Status"].as_str().unwrap_or_default();
    assert!(
        ["Open", "Won", "Lost"].contains(&status),
        "O_Status of {}",
        rows[0]
    );

    // Salesloft sees the same store: at least the 3000 activities, counted.
    let resp = server
        .send(
            reqwest::Method::GET,
            "/v2/activity_histories?include_paging_counts=true&per_page=1",
            &[("Authorization", &format!("Bearer {bearer}"))],
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let total = resp.json["metadata"]["paging"]["total_count"]
        .as_i64()
        .expect("total_count");
    assert!(total >= 3000, "activity_histories total_count {total}");
    server.stop();

    // A second start on the same database keeps the data and creates no second tenant.
    let again = Server::start_with(&db, &["--no-rate-limit", "--demo"]);
    assert!(
        again.banner.contains("already holds data") && !again.banner.contains("accessKey="),
        "{}",
        again.banner
    );
    let page = again
        .retrieve(
            &admin,
            &lead,
            json!({"Paging": {"PageIndex": 1, "PageSize": 1000}}),
        )
        .await;
    assert_eq!(page["RecordCount"].as_i64(), Some(count), "{page}");
}
