//! `ProspectActivity.svc/CreateCustom` (a lead updated or created, and an activity posted on it)
//! and `ProspectActivity.svc/DeleteActivities` (a lead's activities of some custom types), as
//! LeadSquared documents them: the documented bodies, bad input changing nothing, Sales_User and
//! tenant boundaries, and both counted by the rate limit.

use crate::harness::*;

const CUSTOM: &str = "/v2/ProspectActivity.svc/CreateCustom";
const DELETE: &str = "/v2/ProspectActivity.svc/DeleteActivities";

/// LeadSquared's documented CreateCustom body, with this email and event code.
fn documented(email: &str, code: i64) -> Value {
    json!({
        "LeadDetails": [
            {"Attribute": "EmailAddress", "Value": email},
            {"Attribute": "mx_City", "Value": "Bangalore"},
            {"Attribute": "SearchBy", "Value": "EmailAddress"}
        ],
        "Activity": {
            "ActivityEvent": code,
            "ActivityNote": "Note for the activity",
            "ActivityDateTime": "2026-01-02 03:04:05",
            "Fields": [
                {"SchemaName": "mx_Custom_1", "Value": "123"},
                {"SchemaName": "mx_Custom_2", "Value": "2016-07-07 10:55:00"}
            ]
        }
    })
}

async fn leads_with_email(srv: &Server, c: &Creds, email: &str) -> Vec<Value> {
    let (s, b) = srv
        .lsq_get(
            &format!("/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress={email}"),
            c,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b.as_array().unwrap().clone()
}

#[tokio::test]
async fn create_custom_updates_or_creates_the_lead_and_posts_the_activity() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let srv = Server::start(&db);
    let code = srv
        .create_type(
            &admin,
            "Form fill",
            7,
            json!([
                fdef(1, "mx_Custom_1", "String"),
                fdef(2, "mx_Custom_2", "DateTime")
            ]),
        )
        .await;

    // Bad input creates no lead: an unknown code, a bad date, a missing part.
    let mut unknown = documented("new@acme.test", 999_999);
    let (s, b) = srv.lsq_post(CUSTOM, &admin, unknown.clone()).await;
    assert_envelope(
        "unknown code",
        s,
        &b,
        500,
        "MXInvalidEntityException",
        &["999999"],
    );
    unknown["Activity"]["ActivityEvent"] = json!(code);
    unknown["Activity"]["ActivityDateTime"] = json!("2026-13-45 00:00:00");
    let (s, b) = srv.lsq_post(CUSTOM, &admin, unknown).await;
    assert_envelope(
        "bad date",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["ActivityDateTime"],
    );
    let mut no_activity = documented("new@acme.test", code);
    no_activity.as_object_mut().unwrap().remove("Activity");
    let (s, b) = srv.lsq_post(CUSTOM, &admin, no_activity).await;
    assert_envelope(
        "no Activity",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["Activity"],
    );
    let mut listed = documented("new@acme.test", code);
    listed["Activity"] = json!([code, "A note"]);
    let (s, b) = srv.lsq_post(CUSTOM, &admin, listed).await;
    assert_envelope(
        "Activity as an array",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["Activity", "an object or null"],
    );
    let (s, b) = srv
        .lsq_post(CUSTOM, &admin, json!({"Activity": {"ActivityEvent": code}}))
        .await;
    assert_envelope(
        "no LeadDetails",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["LeadDetails"],
    );
    assert!(leads_with_email(&srv, &admin, "new@acme.test")
        .await
        .is_empty());

    // The documented request creates the lead and posts the activity on it.
    let (s, b) = srv
        .lsq_post(CUSTOM, &admin, documented("new@acme.test", code))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["Status"], "Success");
    let activity = b["Message"]["Id"].as_str().unwrap().to_string();
    let lead = b["Message"]["RelatedId"].as_str().unwrap().to_string();
    let found = leads_with_email(&srv, &admin, "new@acme.test").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["ProspectID"], json!(lead));
    assert_eq!(found[0]["mx_City"], "Bangalore");
    assert_eq!(
        found[0]["Score"], "7",
        "the activity's score is added to the lead"
    );
    let row = srv.activity_row(&admin, &lead, &activity).await;
    assert_eq!(row["EventCode"], json!(code));
    assert_eq!(row["ActivityFields"]["mx_Custom_1"], "123");
    assert_eq!(row["CreatedOn"], "2026-01-02 03:04:05");

    // Again with the same email (any case): the same lead, updated, and a second activity.
    let mut again = documented("NEW@acme.test", code);
    again["LeadDetails"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Attribute": "FirstName", "Value": "Nina"}));
    let (s, b) = srv.lsq_post(CUSTOM, &admin, again).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["Message"]["RelatedId"], json!(lead));
    assert_eq!(srv.record_count(&admin, &lead).await, 2);
    assert_eq!(srv.get_lead(&admin, &lead).await["FirstName"], "Nina");

    // SearchBy Phone finds the lead by its phone.
    let phoned = srv
        .create_lead_with(
            &admin,
            &[("FirstName", "Pat"), ("Phone", "+91-98450-98450")],
        )
        .await;
    let by_phone = json!({
        "LeadDetails": [{"Attribute": "Phone", "Value": "+91-98450-98450"},
                        {"Attribute": "SearchBy", "Value": "Phone"}],
        "Activity": {"ActivityEvent": code.to_string(), "ActivityNote": null}
    });
    let (s, b) = srv.lsq_post(CUSTOM, &admin, by_phone).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["Message"]["RelatedId"], json!(phoned));
    assert_eq!(srv.record_count(&admin, &phoned).await, 1);

    // A Sales_User cannot reach another owner's lead through its email: refused, nothing posted.
    let (s, b) = srv
        .lsq_post(CUSTOM, &rep, documented("new@acme.test", code))
        .await;
    assert_envelope(
        "someone else's lead",
        s,
        &b,
        500,
        "MXDuplicateEntryException",
        &[],
    );
    assert_eq!(srv.record_count(&admin, &lead).await, 2);

    // Another tenant with the same email gets its own lead.
    let other = db.tenant("Other", "admin@other.test");
    let other_code = srv.create_type(&other, "Form fill", 1, json!([])).await;
    let (s, b) = srv
        .lsq_post(
            CUSTOM,
            &other,
            json!({"LeadDetails": [{"Attribute": "EmailAddress", "Value": "new@acme.test"}],
                   "Activity": {"ActivityEvent": other_code}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_ne!(b["Message"]["RelatedId"], json!(lead));
    assert_eq!(srv.record_count(&admin, &lead).await, 2);
}

#[tokio::test]
async fn delete_activities_deletes_the_named_custom_types_in_the_range_only() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    let other = db.tenant("Other", "admin@other.test");
    let srv = Server::start(&db);
    let call = srv.create_type(&admin, "Call", 3, json!([])).await;
    let visit = srv.create_type(&admin, "Visit", 5, json!([])).await;
    let lead = srv.create_lead(&admin, "ada@acme.test").await;
    srv.post_simple(&admin, &lead, call, Some("2020-03-01 10:00:00"))
        .await;
    let late_call = srv
        .post_simple(&admin, &lead, call, Some("2021-03-01 10:00:00"))
        .await;
    let the_visit = srv
        .post_simple(&admin, &lead, visit, Some("2020-03-01 10:00:00"))
        .await;
    assert_eq!(srv.lead_score(&admin, &lead).await, 11);

    // Bad input deletes nothing.
    for (what, body, status, kind, words) in [
        (
            "unknown code among good ones",
            json!({"ProspectId": lead, "ActivityEventList": [call.to_string(), "999999"]}),
            500,
            "MXInvalidEntityException",
            vec!["999999"],
        ),
        (
            "system type",
            json!({"ProspectId": lead, "ActivityEventList": [101]}),
            400,
            "MXInvalidInputException",
            vec!["101", "custom"],
        ),
        (
            "opportunity type",
            json!({"ProspectId": lead, "ActivityEventList": [12000]}),
            400,
            "MXInvalidInputException",
            vec!["12000", "opportunity"],
        ),
        (
            "no codes",
            json!({"ProspectId": lead, "ActivityEventList": []}),
            400,
            "MXInvalidInputException",
            vec!["ActivityEventList"],
        ),
        (
            "101 entries, all the same code",
            json!({"ProspectId": lead, "ActivityEventList": vec![call; 101]}),
            400,
            "MXInvalidInputException",
            vec!["ActivityEventList", "100 entries"],
        ),
        (
            "a blank lead",
            json!({"ProspectId": "  ", "ActivityEventList": [call]}),
            400,
            "MXInvalidInputException",
            vec!["ProspectId"],
        ),
        (
            "no lead",
            json!({"ActivityEventList": [call]}),
            400,
            "MXInvalidInputException",
            vec!["ProspectId"],
        ),
        (
            "dates the wrong way round",
            json!({"ProspectId": lead, "ActivityEventList": [call],
                   "FromDate": "2021-01-01 00:00:00", "ToDate": "2020-01-01 00:00:00"}),
            400,
            "MXInvalidInputException",
            vec!["ToDate"],
        ),
        (
            "bad date",
            json!({"ProspectId": lead, "ActivityEventList": [call], "FromDate": "yesterday"}),
            400,
            "MXInvalidInputException",
            vec!["FromDate"],
        ),
        (
            "unknown lead",
            json!({"ProspectId": "00000000-0000-0000-0000-000000000000", "ActivityEventList": [call]}),
            500,
            "MXInvalidEntityException",
            vec!["Lead does not exist"],
        ),
    ] {
        let (s, b) = srv.lsq_post(DELETE, &admin, body).await;
        assert_envelope(what, s, &b, status, kind, &words);
    }
    // Another tenant's caller and a Sales_User who does not own the lead: as an unknown lead.
    for who in [&other, &rep] {
        let (s, b) = srv
            .lsq_post(
                DELETE,
                who,
                json!({"ProspectId": lead, "ActivityEventList": [call]}),
            )
            .await;
        assert_envelope(
            "not theirs",
            s,
            &b,
            500,
            "MXInvalidEntityException",
            &["Lead does not exist"],
        );
    }
    assert_eq!(srv.record_count(&admin, &lead).await, 3);

    // LeadSquared's documented body: codes as strings, a range, a webhook URL (not called).
    let (s, b) = srv
        .lsq_post(
            DELETE,
            &admin,
            json!({"ProspectId": lead, "ActivityEventList": [call.to_string(), "166"],
                   "FromDate": "2020-01-01 00:00:00", "ToDate": "2020-12-31 23:59:59",
                   "StatusWebhookURL": "https://myurl"}),
        )
        .await;
    assert_envelope(
        "166 is no type here",
        s,
        &b,
        500,
        "MXInvalidEntityException",
        &["166"],
    );
    let (s, b) = srv
        .lsq_post(
            DELETE,
            &admin,
            json!({"ProspectId": lead, "ActivityEventList": [call.to_string()],
                   "FromDate": "2020-01-01 00:00:00", "ToDate": "2020-03-01 10:00:00",
                   "StatusWebhookURL": "https://myurl"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["Message"]["Message"],
        "Your request for delete activities has been queued."
    );
    assert_eq!(
        b["Message"]["AffectedRows"], 1,
        "ToDate takes its whole second: {b}"
    );
    let left = srv.activity_ids(&admin, &lead, json!({})).await;
    assert_eq!(left.len(), 2);
    assert!(
        left.contains(&late_call) && left.contains(&the_visit),
        "{left:?}"
    );
    assert_eq!(
        srv.lead_score(&admin, &lead).await,
        8,
        "the score is taken back"
    );

    // Without a range: every activity of the type on the lead; the other type stays.
    let (s, b) = srv
        .lsq_post(
            DELETE,
            &admin,
            json!({"ProspectId": lead, "ActivityEventList": [call]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["Message"]["AffectedRows"], 1);
    assert_eq!(
        srv.activity_ids(&admin, &lead, json!({})).await,
        vec![the_visit.clone()]
    );
    let (s, b) = srv
        .lsq_get(
            &format!("/v2/ProspectActivity.svc/GetActivityDetails?activityId={late_call}"),
            &admin,
        )
        .await;
    assert!(
        s.is_server_error() || s.is_client_error(),
        "deleted: {s} {b}"
    );
}

/// What deleting a lead's activities left behind, read from the store: the change records
/// (action, API, user), the trashed rows, and the lead's score.
fn deletion_effects(db: &Db, email: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
    let lead = format!("(SELECT id FROM leads WHERE email_lc = '{email}')");
    (
        db.texts(&format!(
            "SELECT action || ' ' || api || ' ' || CAST(user_id AS TEXT) FROM activity_changes
              WHERE lead_id = {lead} ORDER BY id"
        )),
        db.texts(&format!(
            "SELECT CAST(count(*) AS TEXT) FROM deleted_activities WHERE lead_id = {lead}"
        )),
        db.texts(&format!(
            "SELECT CAST(score AS TEXT) FROM leads WHERE id = {lead}"
        )),
    )
}

#[tokio::test]
async fn delete_activities_is_all_or_nothing_and_does_what_single_deletes_do() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    // A subscription to deletions, so each delete queues a webhook delivery.
    let auth = format!("Bearer {}", admin.api_key);
    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["activity.deleted"]});
    let r = srv
        .send(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            &[("Authorization", auth.as_str())],
            Some((hook.to_string().into_bytes(), Some("application/json"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let call = srv.create_type(&admin, "Call", 3, json!([])).await;
    let batch = srv.create_lead(&admin, "batch@acme.test").await;
    let single = srv.create_lead(&admin, "single@acme.test").await;
    let days = ["2020-03-01", "2020-03-02", "2020-03-03"];
    let mut posted = Vec::new();
    for lead in [&batch, &single] {
        for d in days {
            posted.push(
                srv.post_simple(&admin, lead, call, Some(&format!("{d} 10:00:00")))
                    .await,
            );
        }
    }
    let deliveries = || {
        db.texts(
            "SELECT CAST(count(*) AS TEXT) FROM webhook_deliveries WHERE event = 'activity.deleted'",
        )
    };
    let counted = || {
        db.texts(&format!(
            "SELECT CAST(coalesce(sum(n), 0) AS TEXT) FROM activity_counts WHERE event_code = {call}"
        ))
    };
    assert_eq!(counted(), vec!["6"]);

    // The third delete of the call fails (the last activity of a lead cannot go): none goes.
    db.exec(
        "CREATE TRIGGER fail_last BEFORE DELETE ON activities
           WHEN (SELECT count(*) FROM activities WHERE lead_id = OLD.lead_id) <= 1
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        "CREATE FUNCTION fail_last() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF (SELECT count(*) FROM activities WHERE lead_id = OLD.lead_id) <= 1 THEN
             RAISE EXCEPTION 'injected failure';
           END IF;
           RETURN OLD;
         END $$;
         CREATE TRIGGER fail_last BEFORE DELETE ON activities
           FOR EACH ROW EXECUTE FUNCTION fail_last();",
    );
    let (s, b) = srv
        .lsq_post(
            DELETE,
            &admin,
            json!({"ProspectId": batch, "ActivityEventList": [call]}),
        )
        .await;
    assert!(s.is_server_error(), "the injected failure: {s} {b}");
    assert_eq!(srv.record_count(&admin, &batch).await, 3, "none deleted");
    assert_eq!(
        srv.lead_score(&admin, &batch).await,
        9,
        "no score taken back"
    );
    assert_eq!(
        deletion_effects(&db, "batch@acme.test"),
        (vec![], vec!["0".to_string()], vec!["9".to_string()]),
        "no change record, nothing trashed"
    );
    assert_eq!(deliveries(), vec!["0"], "no event queued");
    assert_eq!(counted(), vec!["6"]);
    db.exec(
        "DROP TRIGGER fail_last;",
        "DROP TRIGGER fail_last ON activities; DROP FUNCTION fail_last();",
    );

    // One call deleting three, and three calls deleting one each: the same effects.
    let (s, b) = srv
        .lsq_post(
            DELETE,
            &admin,
            json!({"ProspectId": batch, "ActivityEventList": [call]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["Message"]["AffectedRows"], 3);
    assert_eq!(deliveries(), vec!["3"]);
    assert_eq!(counted(), vec!["3"]);
    for d in days {
        let (s, b) = srv
            .lsq_post(
                DELETE,
                &admin,
                json!({"ProspectId": single, "ActivityEventList": [call],
                       "FromDate": format!("{d} 00:00:00"), "ToDate": format!("{d} 23:59:59")}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["Message"]["AffectedRows"], 1);
    }
    assert_eq!(deliveries(), vec!["6"]);
    assert_eq!(counted(), vec!["0"]);
    let batched = deletion_effects(&db, "batch@acme.test");
    let one_by_one = deletion_effects(&db, "single@acme.test");
    assert_eq!(batched, one_by_one);
    assert_eq!(batched.0.len(), 3, "{batched:?}");
    assert!(
        batched
            .0
            .iter()
            .all(|c| c.starts_with("deleted leadsquared ")),
        "{batched:?}"
    );
    assert_eq!(batched.1, vec!["3"]);
    assert_eq!(batched.2, vec!["0"], "every score taken back");
    for lead in [&batch, &single] {
        assert_eq!(srv.record_count(&admin, lead).await, 0);
    }
    // Each one deleted by the batch is in the trash, restorable with its score.
    let id = db.texts(&format!(
        "SELECT CAST(id AS TEXT) FROM deleted_activities WHERE CAST(guid AS TEXT) = '{}'",
        posted[0]
    ));
    assert_eq!(id.len(), 1, "{id:?}");
    let r = srv
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/activities/{}/restore", id[0]),
            &[("Authorization", auth.as_str())],
            Some((b"{}".to_vec(), Some("application/json"))),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        srv.activity_ids(&admin, &batch, json!({})).await,
        vec![posted[0].clone()]
    );
    assert_eq!(srv.lead_score(&admin, &batch).await, 3);
}

#[tokio::test]
async fn create_custom_and_delete_activities_count_against_the_rate_limit() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start_rate_limited(&db);
    let started = std::time::Instant::now();
    // 25 calls: one makes the type, then CreateCustom and DeleteActivities by turns.
    let code = srv.create_type(&admin, "Form fill", 1, json!([])).await;
    let mut lead = String::new();
    for i in 1..25 {
        let (s, b) = if i % 2 == 1 {
            srv.lsq_post(
                CUSTOM,
                &admin,
                json!({"LeadDetails": [{"Attribute": "EmailAddress", "Value": "r@example.com"}],
                       "Activity": {"ActivityEvent": code}}),
            )
            .await
        } else {
            srv.lsq_post(
                DELETE,
                &admin,
                json!({"ProspectId": lead, "ActivityEventList": [code]}),
            )
            .await
        };
        assert_eq!(s, StatusCode::OK, "call {i}: {b}");
        if i % 2 == 1 {
            lead = b["Message"]["RelatedId"].as_str().unwrap().to_string();
        } else {
            assert_eq!(b["Message"]["AffectedRows"], 1, "{b}");
        }
    }
    let (s, b) = srv
        .lsq_post(
            DELETE,
            &admin,
            json!({"ProspectId": lead, "ActivityEventList": [code]}),
        )
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the test must make its 26 calls within 5 s"
    );
    assert_envelope(
        "26th call",
        s,
        &b,
        429,
        "MXAPIRateLimitExceededException",
        &["25"],
    );
}
