//! Validation of `ProspectActivity.svc/Create`: every rejection has the right status, envelope
//! and message, and stores nothing (no activity, no score).

use crate::harness::*;

const CREATE: &str = "/v2/ProspectActivity.svc/Create";
const SCORE: i64 = 7;

struct Ctx {
    _db: Db,
    srv: Server,
    admin: Creds,
    lead: String,
    code: i64,
}

/// A type scoring 7 with one field of each data type; mx_Custom_6 is mandatory.
async fn setup() -> Ctx {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let srv = Server::start(&db);
    let lead = srv.create_lead(&admin, "lead@acme.test").await;
    let code = srv
        .create_type(
            &admin,
            "Validated",
            SCORE,
            json!([
                fdef(1, "mx_Custom_1", "Number"),
                fdef(2, "mx_Custom_2", "Date"),
                fdef(3, "mx_Custom_3", "DateTime"),
                fdef(4, "mx_Custom_4", "Boolean"),
                fdef_options(5, "mx_Custom_5", "Dropdown", json!(["Open", "Won"])),
                fdef_mandatory(6, "mx_Custom_6", "String"),
                fdef_options(
                    7,
                    "mx_Custom_7",
                    "MultiSelect",
                    json!(["Red", "Green", "Blue"])
                ),
                fdef(8, "mx_Custom_8", "Email"),
                fdef(9, "mx_Custom_9", "Phone"),
                fdef(10, "mx_Custom_10", "String"),
                fdef_options(
                    11,
                    "mx_Custom_11",
                    "SearchableDropdown",
                    json!(["North", "South"])
                ),
            ]),
        )
        .await;
    Ctx {
        _db: db,
        srv,
        admin,
        lead,
        code,
    }
}

impl Ctx {
    /// A Create body with the mandatory field filled and `extra` fields appended.
    fn body(&self, extra: &[(&str, &str)]) -> Value {
        let mut fields = vec![json!({"SchemaName": "mx_Custom_6", "Value": "ok"})];
        for (k, v) in extra {
            fields.push(json!({"SchemaName": k, "Value": v}));
        }
        json!({
            "RelatedProspectId": self.lead,
            "ActivityEvent": self.code,
            "ActivityNote": "validation",
            "IncludeLeadScore": true,
            "Fields": fields,
        })
    }

    async fn assert_nothing_stored(&self, ctx: &str) {
        assert_eq!(
            self.srv.record_count(&self.admin, &self.lead).await,
            0,
            "{ctx}: a rejected post must store no activity"
        );
        assert_eq!(
            self.srv.lead_score(&self.admin, &self.lead).await,
            0,
            "{ctx}: a rejected post must not score"
        );
    }

    /// Posts `body`, expects the given envelope and no change.
    async fn rejected(&self, ctx: &str, body: Value, status: u16, ty: &str, mentions: &[&str]) {
        let (s, b) = self.srv.lsq_post(CREATE, &self.admin, body).await;
        assert_envelope(ctx, s, &b, status, ty, mentions);
        self.assert_nothing_stored(ctx).await;
    }

    /// Each bad value of `schema` → 500 MXInvalidActivityFieldsException naming the field.
    async fn bad_values(&self, schema: &str, values: &[&str]) {
        for v in values {
            self.rejected(
                &format!("{schema}={v:?}"),
                self.body(&[("mx_Custom_10", "fine"), (schema, v)]),
                500,
                "MXInvalidActivityFieldsException",
                &[schema],
            )
            .await;
        }
    }

    /// Posts and returns the LeadScore reported.
    async fn accepted(&self, extra: &[(&str, &str)]) -> Value {
        let (s, b) = self
            .srv
            .lsq_post(CREATE, &self.admin, self.body(extra))
            .await;
        assert_success(&format!("valid values {extra:?}"), s, &b);
        let id = b["Message"]["Id"].as_str().unwrap().to_string();
        self.srv.activity_row(&self.admin, &self.lead, &id).await
    }
}

#[tokio::test]
async fn unknown_schema_name_is_rejected() {
    let c = setup().await;
    c.bad_values("mx_Custom_40", &["x"]).await;
    c.bad_values("mx_Bogus", &["x"]).await;
}

#[tokio::test]
async fn bad_number_is_rejected() {
    let c = setup().await;
    c.bad_values("mx_Custom_1", &["abc", "12abc", "1.2.3", "NaN", "inf"])
        .await;
}

#[tokio::test]
async fn bad_date_is_rejected() {
    let c = setup().await;
    c.bad_values(
        "mx_Custom_2",
        &["2020-13-01", "01/02/2020", "2021-02-29", "tomorrow"],
    )
    .await;
}

#[tokio::test]
async fn bad_datetime_is_rejected() {
    let c = setup().await;
    c.bad_values(
        "mx_Custom_3",
        &[
            "2020-01-01",
            "2020-01-01 25:00:00",
            "2020-01-01T10:00:00Z",
            "noon",
        ],
    )
    .await;
}

#[tokio::test]
async fn bad_boolean_is_rejected() {
    let c = setup().await;
    c.bad_values("mx_Custom_4", &["maybe", "2"]).await;
}

#[tokio::test]
async fn email_phone_and_long_strings_are_validated() {
    let c = setup().await;
    c.bad_values("mx_Custom_8", &["not-an-email", "a@b"]).await;
    c.bad_values("mx_Custom_9", &["12", "call me"]).await;
    let long = "x".repeat(4001);
    c.bad_values("mx_Custom_10", &[long.as_str()]).await;
}

#[tokio::test]
async fn dropdown_values_outside_the_option_set_are_rejected_unless_validation_is_skipped() {
    let c = setup().await;
    c.bad_values("mx_Custom_5", &["Lost", "open"]).await;
    c.bad_values("mx_Custom_7", &["Red;Purple"]).await;
    c.bad_values("mx_Custom_11", &["East"]).await;

    // "ValidateDropDownOptions": true skips the option check (as LeadSquared documents it).
    let mut body = c.body(&[
        ("mx_Custom_5", "Lost"),
        ("mx_Custom_7", "Red;Purple"),
        ("mx_Custom_11", "East"),
    ]);
    body["ValidateDropDownOptions"] = json!(true);
    let (s, b) = c.srv.lsq_post(CREATE, &c.admin, body).await;
    assert_success("ValidateDropDownOptions: true", s, &b);
    assert_eq!(b["Message"]["LeadScore"], json!(SCORE), "{b}");
    let row = c
        .srv
        .activity_row(&c.admin, &c.lead, b["Message"]["Id"].as_str().unwrap())
        .await;
    assert_eq!(row["ActivityFields"]["mx_Custom_5"], "Lost", "{row}");
    assert_eq!(row["ActivityFields"]["mx_Custom_7"], "Red;Purple", "{row}");
    assert_eq!(row["ActivityFields"]["mx_Custom_11"], "East", "{row}");
    assert_eq!(c.srv.record_count(&c.admin, &c.lead).await, 1);
}

#[tokio::test]
async fn missing_or_empty_mandatory_field_is_rejected() {
    let c = setup().await;
    let mut absent = c.body(&[("mx_Custom_10", "x")]);
    absent["Fields"] = json!([{"SchemaName": "mx_Custom_10", "Value": "x"}]);
    c.rejected(
        "mandatory absent",
        absent,
        500,
        "MXInvalidActivityFieldsException",
        &["mx_Custom_6"],
    )
    .await;
    let mut empty = c.body(&[]);
    empty["Fields"] = json!([{"SchemaName": "mx_Custom_6", "Value": ""}]);
    c.rejected(
        "mandatory empty",
        empty,
        500,
        "MXInvalidActivityFieldsException",
        &["mx_Custom_6"],
    )
    .await;
    let mut no_fields = c.body(&[]);
    no_fields.as_object_mut().unwrap().remove("Fields");
    c.rejected(
        "no Fields at all",
        no_fields,
        500,
        "MXInvalidActivityFieldsException",
        &["mx_Custom_6"],
    )
    .await;
}

#[tokio::test]
async fn unknown_or_opportunity_event_code_is_rejected() {
    let c = setup().await;
    let mut body = c.body(&[]);
    body["ActivityEvent"] = json!(999);
    let (s, b) = c.srv.lsq_post(CREATE, &c.admin, body).await;
    assert_eq!(s.as_u16(), 500, "unknown event code: {b}");
    assert_any_envelope("unknown event code", s, &b);
    assert!(
        b["ExceptionMessage"].as_str().unwrap().contains("999"),
        "the message names the code: {b}"
    );
    c.assert_nothing_stored("unknown event code").await;

    let mut body = c.body(&[]);
    body["ActivityEvent"] = json!(12000);
    let (s, b) = c.srv.lsq_post(CREATE, &c.admin, body).await;
    assert_any_envelope("opportunity type code", s, &b);
    c.assert_nothing_stored("opportunity type code").await;
}

#[tokio::test]
async fn unknown_or_malformed_lead_is_rejected() {
    let c = setup().await;
    let mut body = c.body(&[]);
    body["RelatedProspectId"] = json!(unknown_guid());
    c.rejected(
        "unknown lead",
        body,
        500,
        "MXInvalidEntityException",
        &["Lead does not exist in the system"],
    )
    .await;
    let mut body = c.body(&[]);
    body["RelatedProspectId"] = json!("not-a-guid");
    c.rejected(
        "malformed lead id",
        body,
        500,
        "MXInvalidEntityException",
        &[],
    )
    .await;
}

#[tokio::test]
async fn missing_top_level_properties_are_rejected() {
    let c = setup().await;
    for prop in ["RelatedProspectId", "ActivityEvent"] {
        let mut body = c.body(&[]);
        body.as_object_mut().unwrap().remove(prop);
        c.rejected(
            &format!("without {prop}"),
            body,
            500,
            "MXMandatoryAttributeMissingException",
            &[prop],
        )
        .await;
    }
}

#[tokio::test]
async fn invalid_json_is_rejected_with_400() {
    let c = setup().await;
    for raw in [
        &b"{\"RelatedProspectId\": "[..],
        &b"{'RelatedProspectId': 'x'}"[..],
        &b"not json at all"[..],
        &b"{\"a\":1}}"[..],
    ] {
        let r = c
            .srv
            .lsq_post_raw(CREATE, &c.admin, raw, Some("application/json"))
            .await;
        assert_envelope(
            &format!("body {:?}", String::from_utf8_lossy(raw)),
            r.status,
            &r.json,
            400,
            "MXInvalidInputException",
            &[],
        );
    }
    c.assert_nothing_stored("invalid JSON").await;
}

#[tokio::test]
async fn wrong_json_types_are_rejected_with_400() {
    let c = setup().await;
    let mut cases = Vec::new();
    let mut b = c.body(&[]);
    b["Fields"] = json!("x");
    cases.push(("Fields", b));
    let mut b = c.body(&[]);
    b["ActivityEvent"] = json!("abc");
    cases.push(("ActivityEvent", b));
    let mut b = c.body(&[]);
    b["ActivityEvent"] = json!({"code": 201});
    cases.push(("ActivityEvent", b));
    let mut b = c.body(&[]);
    b["RelatedProspectId"] = json!(12345);
    cases.push(("RelatedProspectId", b));
    let mut b = c.body(&[]);
    b["Fields"] = json!([{"SchemaName": "mx_Custom_6", "Value": ["ok"]}]);
    cases.push(("Value", b));
    cases.push(("array body", json!([c.body(&[])])));
    for (what, body) in cases {
        c.rejected(
            &format!("wrong type: {what}"),
            body,
            400,
            "MXInvalidInputException",
            &[],
        )
        .await;
    }
}

#[tokio::test]
async fn bad_activity_date_time_is_rejected() {
    let c = setup().await;
    for v in ["2015-13-45 12:00:00", "11/10/2015 12:13:44", "soon"] {
        let mut body = c.body(&[]);
        body["ActivityDateTime"] = json!(v);
        let (s, b) = c.srv.lsq_post(CREATE, &c.admin, body).await;
        assert_any_envelope(&format!("ActivityDateTime {v}"), s, &b);
        assert!(
            b["ExceptionMessage"]
                .as_str()
                .unwrap()
                .contains("ActivityDateTime"),
            "the message names ActivityDateTime: {b}"
        );
        c.assert_nothing_stored(v).await;
    }
}

#[tokio::test]
async fn valid_values_of_every_data_type_are_stored_as_sent() {
    let c = setup().await;
    let max = "y".repeat(4000);
    let row = c
        .accepted(&[
            ("mx_Custom_1", "-3.5"),
            ("mx_Custom_2", "2020-02-29"),
            ("mx_Custom_3", "2020-01-02 03:04:05"),
            ("mx_Custom_4", "yes"),
            ("mx_Custom_5", "Won"),
            ("mx_Custom_7", "Red;Blue"),
            ("mx_Custom_8", "a.b@example.com"),
            ("mx_Custom_9", "+1 (555) 010-2030"),
            ("mx_Custom_10", max.as_str()),
            ("mx_Custom_11", "South"),
        ])
        .await;
    let af = &row["ActivityFields"];
    for (k, v) in [
        ("mx_Custom_1", "-3.5"),
        ("mx_Custom_2", "2020-02-29"),
        ("mx_Custom_3", "2020-01-02 03:04:05"),
        ("mx_Custom_4", "yes"),
        ("mx_Custom_5", "Won"),
        ("mx_Custom_6", "ok"),
        ("mx_Custom_7", "Red;Blue"),
        ("mx_Custom_8", "a.b@example.com"),
        ("mx_Custom_9", "+1 (555) 010-2030"),
        ("mx_Custom_10", max.as_str()),
        ("mx_Custom_11", "South"),
    ] {
        assert_eq!(af[k], json!(v), "{k} stored as sent: {af}");
    }

    // Other accepted spellings.
    let row = c
        .accepted(&[
            ("mx_Custom_1", "12"),
            ("mx_Custom_2", "2020-01-02 03:04:05"),
            ("mx_Custom_4", "FALSE"),
        ])
        .await;
    assert_eq!(row["ActivityFields"]["mx_Custom_4"], "FALSE");
    let row = c.accepted(&[("mx_Custom_4", "0")]).await;
    assert_eq!(row["ActivityFields"]["mx_Custom_4"], "0");

    // "" is "no value" for every non-mandatory type and is not returned.
    let row = c
        .accepted(&[
            ("mx_Custom_1", ""),
            ("mx_Custom_2", ""),
            ("mx_Custom_3", ""),
            ("mx_Custom_4", ""),
            ("mx_Custom_5", ""),
            ("mx_Custom_8", ""),
            ("mx_Custom_9", ""),
        ])
        .await;
    let af = row["ActivityFields"].as_object().unwrap();
    for k in [
        "mx_Custom_1",
        "mx_Custom_2",
        "mx_Custom_3",
        "mx_Custom_4",
        "mx_Custom_5",
    ] {
        assert!(af.get(k).is_none(), "empty {k} not returned: {row}");
    }
    assert_eq!(c.srv.record_count(&c.admin, &c.lead).await, 4);
    assert_eq!(c.srv.lead_score(&c.admin, &c.lead).await, 4 * SCORE);
}
