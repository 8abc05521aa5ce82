//! The LeadSquared and Salesloft parts of `/openapi.json` say what the server enforces: for each
//! sample of a lenient scalar (numbers and booleans sent as strings, LeadSquared dates) or a
//! bounded parameter, a value the document's schema admits is accepted by the server, and the
//! samples it refuses are refused, with the dialect's own error.

use crate::harness::*;
use crate::openapi_answers::{escape, Doc};

/// Whether `value` is valid against the schema at `pointer` (a JSON pointer into the document).
fn admits(doc: &Doc, pointer: &str, value: &Value) -> bool {
    doc.validator(&format!("#{pointer}")).is_valid(value)
}

#[tokio::test]
async fn leadsquared_lenient_values_are_accepted_exactly_where_the_document_admits_them() {
    let app = App::start().await;
    let doc = Doc::of(&app).await;
    let admin = app.tenant("Lenient").await;
    let lead = app.lead(&admin, "Ada", "ada@lenient.example").await;
    let lead = s(&lead, "guid");
    let retrieve = format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}");

    // Page sizes: the integer branch's bounds, and strings around them.
    let page_size = "/components/schemas/LsqPaging/properties/PageSize";
    let int_branch = &doc.doc.pointer(page_size).unwrap()["oneOf"][0];
    let (min, max) = (
        int_branch["minimum"].as_i64().unwrap(),
        int_branch["maximum"].as_i64().unwrap(),
    );
    let samples = [
        json!(min),
        json!(max),
        json!(min - 1),
        json!(max + 1),
        json!(min.to_string()),
        json!(max.to_string()),
        json!(format!(" {max} ")),
        json!(format!("+{min}")),
        json!("0010"),
        json!((max + 1).to_string()),
        json!("0"),
        json!("ten"),
        json!("1.5"),
        json!(true),
        json!(null),
    ];
    let mut verdicts = Vec::new();
    for v in samples {
        let ok = admits(&doc, page_size, &v);
        verdicts.push(ok);
        let r = app
            .lsq(&admin, &retrieve, Some(json!({"Paging": {"PageSize": v}})))
            .await;
        let want = if ok {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(
            r.status, want,
            "PageSize {v} (document admits: {ok}): {}",
            r.json
        );
        doc.check("post", "/v2/ProspectActivity.svc/Retrieve", &r, want);
    }
    assert!(
        verdicts.contains(&true) && verdicts.contains(&false),
        "{verdicts:?}"
    );

    // Booleans and integers as strings, and LeadSquared's date format, on Create.
    let code = {
        let r = app
            .lsq(
                &admin,
                "/v2/ProspectActivity.svc/CreateType",
                Some(json!({"ActivityEventName": "Lenient"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        r.json["Message"]["Id"].as_i64().unwrap()
    };
    let create = |field: &str, v: &Value| {
        let mut body = json!({"RelatedProspectId": lead, "ActivityEvent": code});
        body[field] = v.clone();
        body
    };
    let schema = |name: &str| format!("/components/schemas/LsqNewActivity/properties/{name}");
    let cases: [(&str, Vec<Value>); 3] = [
        (
            "IncludeLeadScore",
            vec![
                json!(true),
                json!("TRUE"),
                json!(" yes "),
                json!("0"),
                json!(1),
                json!(""),
                json!(2),
                json!("maybe"),
                json!([true]),
            ],
        ),
        (
            "ActivityEvent",
            vec![
                json!(code.to_string()),
                json!(format!(" {code}")),
                json!(code as f64),
                json!("2.5e2x"),
                json!(2.5),
                json!({"code": code}),
            ],
        ),
        (
            "ActivityDateTime",
            vec![
                json!("2026-01-02 03:04:05"),
                json!(" 0001-01-01 00:00:00 "),
                json!(""),
                json!(null),
                json!("2026-13-01 00:00:00"),
                json!("2026-01-02T03:04:05Z"),
                json!("yesterday"),
            ],
        ),
    ];
    for (field, values) in cases {
        let mut verdicts = Vec::new();
        for v in values {
            let ok = admits(&doc, &schema(field), &v);
            verdicts.push(ok);
            let r = app
                .lsq(
                    &admin,
                    "/v2/ProspectActivity.svc/Create",
                    Some(create(field, &v)),
                )
                .await;
            let want = if ok {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            assert_eq!(
                r.status, want,
                "{field} {v} (document admits: {ok}): {}",
                r.json
            );
            doc.check("post", "/v2/ProspectActivity.svc/Create", &r, want);
        }
        // Each field's samples hold values the document admits and values it refuses.
        assert!(
            verdicts.contains(&true) && verdicts.contains(&false),
            "{field}: {verdicts:?}"
        );
    }
}

#[tokio::test]
async fn lead_attributes_are_accepted_exactly_where_the_document_admits_them() {
    let app = App::start().await;
    let doc = Doc::of(&app).await;
    let admin = app.tenant("Attributes").await;
    let samples = [
        json!({"Attribute": "DoNotCall", "Value": "yes"}),
        json!({"Attribute": " DoNotEmail ", "Value": 0}),
        json!({"Attribute": " mx_Zone ", "Value": "North"}),
        json!({"Attribute": "Company", "Value": 42}),
        json!({"Attribute": "SearchBy", "Value": "Phone"}),
        json!({"Attribute": "DoNotCall", "Value": "maybe"}),
        json!({"Attribute": "DoNotEmail", "Value": 2}),
        json!({"Attribute": "Shoe", "Value": "42"}),
        json!({"Attribute": "firstname", "Value": "Ada"}),
    ];
    let mut verdicts = Vec::new();
    for (i, attr) in samples.into_iter().enumerate() {
        let ok = admits(&doc, "/components/schemas/LsqAttribute", &attr);
        verdicts.push(ok);
        let body = json!([attr, {"Attribute": "FirstName", "Value": format!("Lead {i}")}]);
        let r = app
            .lsq(&admin, "/v2/LeadManagement.svc/Lead.Create", Some(body))
            .await;
        let want = if ok {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(r.status, want, "{attr} (document admits: {ok}): {}", r.json);
        doc.check("post", "/v2/LeadManagement.svc/Lead.Create", &r, want);
    }
    assert!(
        verdicts.contains(&true) && verdicts.contains(&false),
        "{verdicts:?}"
    );
}

#[tokio::test]
async fn salesloft_parameters_are_accepted_exactly_where_the_document_admits_them() {
    let app = App::start().await;
    let doc = Doc::of(&app).await;
    let admin = app.tenant("Params").await;
    let list = "/v2/activity_histories";
    let params = doc.doc["paths"][list]["get"]["parameters"]
        .as_array()
        .unwrap()
        .clone();
    let pointer_of = |name: &str| {
        let i = params
            .iter()
            .position(|p| p["name"] == json!(name))
            .unwrap_or_else(|| panic!("no parameter {name}"));
        format!("/paths/{}/get/parameters/{i}/schema", escape(list))
    };
    let per_page = &params[params.iter().position(|p| p["name"] == "per_page").unwrap()]["schema"];
    let (min, max) = (
        per_page["minimum"].as_i64().unwrap(),
        per_page["maximum"].as_i64().unwrap(),
    );
    let cases: Vec<(&str, Vec<Value>)> = vec![
        (
            "per_page",
            vec![json!(min), json!(max), json!(min - 1), json!(max + 1)],
        ),
        ("page", vec![json!(1), json!(0)]),
        (
            "sort_direction",
            vec![json!("asc"), json!("DESC"), json!("Desc"), json!("up")],
        ),
        ("sort_by", vec![json!("updated_at"), json!("created_at")]),
        ("pinned", vec![json!(true), json!(false)]),
        ("type", vec![json!(["call", "note"]), json!(["nope"])]),
        (
            "type[person][]",
            vec![json!(["sent_email"]), json!(["call", "nope"])],
        ),
        (
            "resource_type",
            vec![json!(["person", "crm_opportunity"]), json!(["lead"])],
        ),
        ("ids", vec![json!(["call-12", "7"]), json!(["call-x"])]),
        (
            "occurred_at[gte]",
            vec![
                json!("2026-01-02T03:04:05Z"),
                json!("2026-01-02T03:04:05.5+01:00"),
            ],
        ),
    ];
    for (name, values) in cases {
        let mut verdicts = Vec::new();
        for v in values {
            let ok = admits(&doc, &pointer_of(name), &v);
            verdicts.push(ok);
            let query: Vec<String> = match &v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| format!("{name}={}", i.as_str().unwrap()))
                    .collect(),
                Value::String(s) => vec![format!("{name}={}", s.replace('+', "%2B"))],
                other => vec![format!("{name}={other}")],
            };
            let r = app
                .get(&admin, &format!("{list}?{}", query.join("&")))
                .await;
            let want = if ok {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            assert_eq!(
                r.status, want,
                "{name} {v} (document admits: {ok}): {}",
                r.json
            );
            doc.check("get", list, &r, want);
        }
        if name != "pinned" && !name.starts_with("occurred_at") {
            assert!(verdicts.contains(&false), "{name}: {verdicts:?}");
        }
        assert!(verdicts.contains(&true), "{name}: {verdicts:?}");
    }
}
