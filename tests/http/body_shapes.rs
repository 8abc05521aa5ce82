//! The shapes of LeadSquared bodies the document refuses and the server must refuse too: arrays
//! where an object belongs, a missing body on the Update calls, a Paging value that loses to its
//! other spelling, and scores beyond the bound that keeps a lead's score from overflowing.

use crate::harness::*;

const RETRIEVE: &str = "/v2/ProspectActivity.svc/Retrieve";
const UPDATE: &str = "/v2/ProspectActivity.svc/CustomActivity/Update";
const TYPE_UPDATE: &str = "/v2/ProspectActivity.svc/CustomActivityType/Update";
const CREATE_TYPE: &str = "/v2/ProspectActivity.svc/CreateType";
const OF_LEAD: &str = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead";
const MAX_SCORE: i64 = 1_000_000_000;

struct Ctx {
    _db: Db,
    srv: Server,
    admin: Creds,
    lead: String,
    code: i64,
    activity: String,
}

async fn setup() -> Ctx {
    let db = Db::new();
    let admin = db.tenant("Shapes", "admin@shapes.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@shapes.test").await;
    let code = srv
        .create_type(
            &admin,
            "Shaped",
            3,
            json!([fdef(1, "mx_Custom_1", "String")]),
        )
        .await;
    let activity = srv
        .post_activity(
            &admin,
            json!({"RelatedProspectId": lead, "ActivityEvent": code, "ActivityNote": "kept",
                   "Fields": [{"SchemaName": "mx_Custom_1", "Value": "before"}]}),
        )
        .await;
    Ctx {
        _db: db,
        srv,
        admin,
        lead,
        code,
        activity,
    }
}

impl Ctx {
    async fn post_raw(&self, path: &str, body: &[u8]) -> (StatusCode, Value) {
        let r = self
            .srv
            .lsq_post_raw(path, &self.admin, body, Some("application/json"))
            .await;
        (r.status, r.json)
    }

    fn retrieve_path(&self) -> String {
        format!("{RETRIEVE}?leadId={}", self.lead)
    }
}

#[tokio::test]
async fn an_array_where_an_object_belongs_is_refused() {
    let c = setup().await;
    let path = c.retrieve_path();
    let (s, b) = c.post_raw(&path, b"[null, null]").await;
    assert_envelope(
        "a Retrieve body that is an array",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["expected a JSON object"],
    );
    for (name, body) in [
        ("Sorting", json!({"Sorting": [null, null]})),
        ("Paging", json!({"Paging": [1, 10]})),
        ("Parameter", json!({"Parameter": [201]})),
    ] {
        let (s, b) = c.srv.lsq_post(&path, &c.admin, body).await;
        assert_envelope(
            &format!("{name} as an array"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &[name, "object"],
        );
    }
    // null and no body at all are an empty body.
    for raw in [&b"null"[..], b"", b"{}"] {
        let (s, b) = c.post_raw(&path, raw).await;
        assert_eq!(s, StatusCode::OK, "body {raw:?}: {b}");
        assert_eq!(b["RecordCount"], 1, "body {raw:?}: {b}");
    }
}

#[tokio::test]
async fn update_calls_refuse_a_missing_body_and_change_nothing() {
    let c = setup().await;
    let before = c.srv.activity_row(&c.admin, &c.lead, &c.activity).await;
    for raw in [&b""[..], b"null", b"  \n"] {
        let (s, b) = c
            .post_raw(&format!("{UPDATE}?activityId={}", c.activity), raw)
            .await;
        assert_envelope(
            &format!("CustomActivity/Update with body {raw:?}"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &["body is missing"],
        );
        let (s, b) = c
            .post_raw(&format!("{TYPE_UPDATE}?code={}", c.code), raw)
            .await;
        assert_envelope(
            &format!("CustomActivityType/Update with body {raw:?}"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &["body is missing"],
        );
    }
    let after = c.srv.activity_row(&c.admin, &c.lead, &c.activity).await;
    assert_eq!(before, after, "a refused update changed the activity");
}

#[tokio::test]
async fn every_paging_value_given_is_checked() {
    let c = setup().await;
    let path = c.retrieve_path();
    for (paging, named) in [
        (
            json!({"PageIndex": 1, "PageSize": 10, "RowCount": 0}),
            "RowCount",
        ),
        (json!({"RowCount": 10, "PageSize": 1001}), "PageSize"),
        (json!({"PageIndex": 1, "Offset": -1}), "Offset"),
    ] {
        let (s, b) = c
            .srv
            .lsq_post(&path, &c.admin, json!({ "Paging": paging }))
            .await;
        assert_envelope(
            &format!("Paging {paging}"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &[named],
        );
    }
    // PageSize still wins over a valid RowCount.
    let (s, b) = c
        .srv
        .lsq_post(
            &path,
            &c.admin,
            json!({"Paging": {"PageSize": 1, "RowCount": 5}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["ProspectActivities"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn opportunities_of_a_lead_check_columns_and_sorting() {
    let c = setup().await;
    let path = format!("{OF_LEAD}?leadId={}", c.lead);
    for (body, named) in [
        (
            json!({"Columns": {"Include_CSV": "NoSuchColumn"}}),
            "NoSuchColumn",
        ),
        (
            json!({"Sorting": {"ColumnName": "", "Direction": -1}}),
            "Direction",
        ),
        (
            json!({"Sorting": {"ColumnName": "Nope", "Direction": 1}}),
            "Nope",
        ),
    ] {
        let (s, b) = c.srv.lsq_post(&path, &c.admin, body.clone()).await;
        assert_envelope(
            &format!("GetOpportunitiesOfLead {body}"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &[named],
        );
    }
    let (s, b) = c
        .srv
        .lsq_post(
            &path,
            &c.admin,
            json!({"Columns": {"Include_CSV": "ActivityEvent"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

#[tokio::test]
async fn scores_are_bounded_so_a_lead_score_cannot_overflow() {
    let c = setup().await;
    let types_before = c.srv.activity_types(&c.admin).await.len();
    for score in [MAX_SCORE + 1, -MAX_SCORE - 1, i64::MAX] {
        let (s, b) = c
            .srv
            .lsq_post(
                CREATE_TYPE,
                &c.admin,
                json!({"ActivityEventName": format!("Too much {score}"), "Score": score}),
            )
            .await;
        assert_envelope(
            &format!("CreateType with Score {score}"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &["Score", "1000000000"],
        );
        let (s, b) = c
            .srv
            .lsq_post(
                &format!("{TYPE_UPDATE}?code={}", c.code),
                &c.admin,
                json!({ "Score": score }),
            )
            .await;
        assert_envelope(
            &format!("CustomActivityType/Update with Score {score}"),
            s,
            &b,
            400,
            "MXInvalidInputException",
            &["Score"],
        );
    }
    assert_eq!(c.srv.activity_types(&c.admin).await.len(), types_before);
    assert_eq!(c.srv.activity_setting(&c.admin, c.code).await["Score"], 3);

    // At the bound, activities add up on a 64-bit lead score without overflowing.
    let top = c
        .srv
        .create_type(&c.admin, "Top score", MAX_SCORE, json!([]))
        .await;
    let before = c.srv.lead_score(&c.admin, &c.lead).await;
    for _ in 0..3 {
        c.srv
            .post_activity(
                &c.admin,
                json!({"RelatedProspectId": c.lead, "ActivityEvent": top}),
            )
            .await;
    }
    assert_eq!(
        c.srv.lead_score(&c.admin, &c.lead).await,
        before + 3 * MAX_SCORE
    );

    // Create by email: the new lead's activity score has the same bound.
    let (s, b) = c
        .srv
        .lsq_post(
            "/v2/ProspectActivity.svc/Create",
            &c.admin,
            json!({"EmailAddress": "new@shapes.test", "ActivityEvent": top,
                   "Score": (MAX_SCORE + 1).to_string()}),
        )
        .await;
    assert_envelope(
        "Create by email with a Score beyond the bound",
        s,
        &b,
        400,
        "MXInvalidInputException",
        &["Score"],
    );
}
