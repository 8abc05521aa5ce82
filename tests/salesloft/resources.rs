//! Salesloft's activity resources over real HTTP: `/v2/activities/calls`, `/v2/activities/emails`,
//! `/v2/notes`, `/v2/meetings`, `/v2/crm_activities`. Answers validate against Salesloft's own
//! schemas (`vendor/schemas.json`, extracted from the spec by `vendor/extract.py`) and against
//! `/openapi.json`; filters, sorting, paging and 422s; the write round trip across the three APIs;
//! a cursor walk of every resource while another client writes.

use std::collections::{BTreeMap, BTreeSet};

use activity_hub::domain::Role;

use crate::harness::*;

const CALLS: &str = "/v2/activities/calls";
const EMAILS: &str = "/v2/activities/emails";
const NOTES: &str = "/v2/notes";
const MEETINGS: &str = "/v2/meetings";
const CRM: &str = "/v2/crm_activities";

/// Salesloft's schemas as their answers are read: its OpenAPI states no `nullable`, yet its
/// answers carry null for what a record lacks (`sent_at` "or null if it was not sent"), so every
/// property also admits null; `format` is dropped (Meeting states `date` for date-times).
fn vendor_doc() -> Value {
    fn loosen(v: &mut Value) {
        if let Some(props) = v.get_mut("properties").and_then(Value::as_object_mut) {
            for p in props.values_mut() {
                if let Some(Value::Object(m)) = Some(&mut *p) {
                    m.remove("format");
                    m.remove("example");
                    if let Some(Value::String(t)) = m.get("type").cloned() {
                        m.insert("type".into(), json!([t, "null"]));
                    } else if m.contains_key("$ref") {
                        let inner = std::mem::take(p);
                        *p = json!({"anyOf": [inner, {"type": "null"}]});
                    }
                }
                if let Some(items) = p.get_mut("items") {
                    loosen(items);
                }
            }
        }
    }
    let mut doc: Value =
        serde_json::from_str(include_str!("vendor/schemas.json")).expect("vendor schemas");
    for s in doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas")
        .values_mut()
    {
        loosen(s);
    }
    doc
}

/// Validates `record` against Salesloft's schema `name`, failing with every problem.
#[track_caller]
fn assert_vendor_shape(doc: &Value, name: &str, record: &Value) {
    let mut root = doc.clone();
    root["$ref"] = json!(format!("#/components/schemas/{name}"));
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .expect("vendor schema compiles");
    let errors: Vec<String> = v
        .iter_errors(record)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} does not match Salesloft's schema: {errors:?}\n{record}"
    );
    // Every property Salesloft documents is answered (null when there is no data).
    for key in doc["components"]["schemas"][name]["properties"]
        .as_object()
        .expect("properties")
        .keys()
    {
        if name == "Email" && key == "scoped_fields" {
            continue;
        }
        assert!(
            record.get(key).is_some(),
            "{name}.{key} is missing: {record}"
        );
    }
}

/// Validates an answer against the schema `/openapi.json` documents for it.
#[track_caller]
pub(crate) fn assert_documented(
    api: &Value,
    method: &str,
    path: &str,
    status: u16,
    answer: &Value,
) {
    let escaped = path
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D");
    let mut root = api.clone();
    root["$ref"] = json!(format!(
        "#/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"
    ));
    let v = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: {e}"));
    let errors: Vec<String> = v
        .iter_errors(answer)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match /openapi.json: {errors:?}\n{answer}"
    );
}

fn data(r: &Resp) -> Vec<Value> {
    r.json["data"].as_array().expect("data array").clone()
}

fn ids(r: &Resp) -> Vec<i64> {
    data(r)
        .iter()
        .map(|d| d["id"].as_i64().expect("integer id"))
        .collect()
}

#[tokio::test]
async fn resources_answer_salesloft_shapes_from_the_stored_activities() {
    let app = App::start(false).await;
    let vendor = vendor_doc();
    let api = app.raw("GET", "/openapi.json", None, None).await.json;
    let admin = app.tenant("Shapes").await;
    let lead = app.lead(&admin, "Ada", "ada@shapes.example").await;
    let lead_guid = lead["guid"].as_str().unwrap().to_string();
    let lead_id = lead["id"].as_i64().unwrap();
    let account = app.account(&admin, "Acme").await;
    let account_id = account["id"].as_i64().unwrap();
    let on_account = |ty: &str, note: &str| json!({"type": ty, "resource": {"type": "account", "id": account["guid"]}, "note": note});
    let mut call = on_person(&lead_guid, "call", "2026-01-02T03:04:05Z");
    call["static_data"] = json!({"to": "555-0100", "duration": 42, "sentiment": "Interested"});
    call["note"] = json!("left a message");
    let mut mail = on_person(&lead_guid, "sent_email", "2026-01-03T00:00:00Z");
    mail["static_data"] = json!({"subject": "Hello", "bounced": false});
    let mut note = on_person(&lead_guid, "note", "2026-01-04T00:00:00Z");
    note["note"] = json!("remember the demo");
    let mut meeting = on_person(&lead_guid, "meeting", "2026-01-05T10:00:00Z");
    meeting["static_data"] = json!({"title": "Demo"});
    let rows = app
        .activities(
            &admin,
            vec![
                call,
                mail,
                note,
                meeting,
                on_account("note", "account note"),
                on_account("call", "account call"),
            ],
        )
        .await;
    let id = |i: usize| rows[i]["id"].as_i64().unwrap();

    for (path, schema, want) in [
        (CALLS, "Call", vec![id(5), id(0)]),
        (EMAILS, "Email", vec![id(1)]),
        (NOTES, "Note", vec![id(4), id(2)]),
        // Meetings: newest start_time first.
        (MEETINGS, "Meeting", vec![id(3)]),
        (CRM, "CrmActivity", (0..6).rev().map(id).collect()),
    ] {
        let r = app
            .get(&admin, &format!("{path}?include_paging_counts=true"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.json);
        assert_documented(&api, "get", path, 200, &r.json);
        assert_eq!(ids(&r), want, "{path}");
        assert_eq!(
            r.json["metadata"]["paging"]["total_count"],
            json!(want.len())
        );
        assert!(
            r.headers.contains_key("x-ratelimit-endpoint-cost"),
            "{path}"
        );
        for record in data(&r) {
            assert_vendor_shape(&vendor, schema, &record);
            if path == MEETINGS {
                continue; // no {id} operation (Salesloft documents none)
            }
            let one = app.get(&admin, &format!("{path}/{}", record["id"])).await;
            assert_eq!(one.status, StatusCode::OK, "{path}: {}", one.json);
            assert_documented(&api, "get", &format!("{path}/{{id}}"), 200, &one.json);
            assert_eq!(one.json["data"], record, "{path}");
        }
    }

    // The mapping of each resource.
    let r = app.get(&admin, &format!("{CALLS}/{}", id(0))).await.json["data"].clone();
    assert_eq!(r["to"], json!("555-0100"));
    assert_eq!(r["duration"], json!(42));
    assert_eq!(r["sentiment"], json!("Interested"));
    assert_eq!(r["disposition"], Value::Null);
    assert_eq!(r["called_person"], json!({"id": lead_id}));
    assert_eq!(r["crm_activity"], json!({"id": id(0)}));
    assert_eq!(r["user"]["guid"], json!(admin.guid()));
    assert_eq!(r["updated_at"], rows[0]["updated_at"]);
    let r = app.get(&admin, &format!("{CALLS}/{}", id(5))).await.json["data"].clone();
    assert_eq!(r["called_person"], Value::Null, "a call on an account");
    let r = app.get(&admin, &format!("{EMAILS}/{}", id(1))).await.json["data"].clone();
    assert_eq!(r["subject"], json!("Hello"));
    assert_eq!(r["bounced"], json!(false));
    assert_eq!(r["status"], json!("sent"));
    assert_eq!(r["sent_at"], json!("2026-01-03T00:00:00.000000Z"));
    assert_eq!(r["recipient_email_address"], json!("ada@shapes.example"));
    assert_eq!(r["recipient"], json!({"id": lead_id}));
    let r = app.get(&admin, &format!("{NOTES}/{}", id(2))).await.json["data"].clone();
    assert_eq!(r["content"], json!("remember the demo"));
    assert_eq!(r["associated_type"], json!("person"));
    assert_eq!(r["associated_with"], json!({"id": lead_id}));
    let r = app.get(&admin, &format!("{NOTES}/{}", id(4))).await.json["data"].clone();
    assert_eq!(r["associated_type"], json!("account"));
    assert_eq!(r["associated_with"], json!({"id": account_id}));
    let m = app.get(&admin, MEETINGS).await.json["data"][0].clone();
    assert_eq!(m["title"], json!("Demo"));
    assert_eq!(m["start_time"], json!("2026-01-05T10:00:00.000000Z"));
    assert_eq!(m["recipient_name"], json!("Ada Tester"));
    assert_eq!(m["person"], json!({"id": lead_id}));
    let r = app.get(&admin, &format!("{CRM}/{}", id(0))).await.json["data"].clone();
    assert_eq!(r["activity_type"], json!("phone"));
    assert_eq!(r["crm_id"], rows[0]["guid"]);
    assert_eq!(r["description"], json!("left a message"));
    assert_eq!(r["subject"], json!("Call"));
    let r = app.get(&admin, &format!("{CRM}/{}", id(1))).await.json["data"].clone();
    assert_eq!(r["activity_type"], json!("email"));

    // A record of another resource, an unknown id, a malformed one and an undecodable segment.
    for (path, status) in [
        (format!("{NOTES}/{}", id(0)), StatusCode::NOT_FOUND),
        (format!("{CALLS}/{}", id(2)), StatusCode::NOT_FOUND),
        (format!("{EMAILS}/999999999"), StatusCode::NOT_FOUND),
        (format!("{CRM}/call-{}", id(0)), StatusCode::NOT_FOUND),
        (format!("{CALLS}/%FF"), StatusCode::BAD_REQUEST),
    ] {
        let r = app.get(&admin, &path).await;
        assert_eq!(r.status, status, "{path}: {}", r.json);
        assert!(r.json["error"].is_string(), "{path}: {}", r.json);
        let pattern = if path.starts_with(CALLS) {
            format!("{CALLS}/{{id}}")
        } else if path.starts_with(NOTES) {
            format!("{NOTES}/{{id}}")
        } else if path.starts_with(EMAILS) {
            format!("{EMAILS}/{{id}}")
        } else {
            format!("{CRM}/{{id}}")
        };
        assert_documented(&api, "get", &pattern, status.as_u16(), &r.json);
    }

    // An opportunity record is no CRM activity; an activity on it is.
    let opp = app.opportunity(&admin, &lead_guid, "Deal").await;
    let opp_row = app
        .activities(
            &admin,
            vec![
                json!({"type": "call", "resource": {"type": "crm_opportunity", "id": opp["guid"]}}),
            ],
        )
        .await;
    let all = ids(&app.get(&admin, &format!("{CRM}?per_page=100")).await);
    assert!(all.contains(&opp_row[0]["id"].as_i64().unwrap()));
    assert!(!all.contains(&opp["id"].as_i64().unwrap()), "{all:?}");
    assert_eq!(all.len(), 7);
}

#[tokio::test]
async fn filters_sorting_paging_and_422s() {
    let app = App::start(false).await;
    let api = app.raw("GET", "/openapi.json", None, None).await.json;
    let admin = app.tenant("Filters").await;
    let other = app
        .user(&admin, "other@filters.example", Role::SalesManager)
        .await;
    let a = app.lead(&admin, "A", "a@filters.example").await;
    let b = app.lead(&admin, "B", "b@filters.example").await;
    let (a_guid, b_guid) = (
        a["guid"].as_str().unwrap().to_string(),
        b["guid"].as_str().unwrap().to_string(),
    );
    let mut rows = Vec::new();
    for (i, lead) in [&a_guid, &b_guid, &a_guid, &b_guid].iter().enumerate() {
        let mut row = on_person(lead, "call", &format!("2026-02-0{}T00:00:00Z", 4 - i));
        if i == 3 {
            row["owner_guid"] = json!(other.guid());
        }
        rows.push(row);
    }
    rows.push(on_person(&a_guid, "note", "2026-02-01T00:00:00Z"));
    rows.push(on_person(&b_guid, "meeting", "2026-03-01T00:00:00Z"));
    rows.push(on_person(&a_guid, "meeting", "2026-04-01T00:00:00Z"));
    let rows = app.activities(&admin, rows).await;
    let id = |i: usize| rows[i]["id"].as_i64().unwrap();

    let get = |q: String| {
        let app = &app;
        let admin = &admin;
        async move {
            let r = app.get(admin, &q).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.json);
            r
        }
    };
    // Default order: updated_at DESC (the insertion order, reversed).
    assert_eq!(
        ids(&get(CALLS.to_string()).await),
        vec![id(3), id(2), id(1), id(0)]
    );
    let r = get(format!("{CALLS}?sort_by=created_at&sort_direction=asc")).await;
    assert_eq!(ids(&r), vec![id(0), id(1), id(2), id(3)]);
    assert_eq!(
        r.json["metadata"]["sorting"],
        json!({"sort_by": "created_at", "sort_direction": "ASC"})
    );
    let a_id = a["id"].as_i64().unwrap();
    let r = get(format!("{CALLS}?person_id={a_id}")).await;
    assert_eq!(ids(&r), vec![id(2), id(0)]);
    assert_eq!(r.json["metadata"]["filtering"]["person_id"], json!([a_id]));
    let r = get(format!(
        "{CALLS}?ids[]={}&ids[]={}&ids[]={}",
        id(1),
        id(3),
        id(4)
    ))
    .await;
    assert_eq!(ids(&r), vec![id(3), id(1)], "a note's id is no call");
    let r = get(format!("{CALLS}?user_guid={}", other.guid())).await;
    assert_eq!(ids(&r), vec![id(3)]);
    let cursor = enc(rows[1]["updated_at"].as_str().unwrap());
    let r = get(format!(
        "{CALLS}?updated_at[gt]={cursor}&sort_by=updated_at&sort_direction=ASC"
    ))
    .await;
    assert_eq!(ids(&r), vec![id(2), id(3)]);
    // Paging: per_page, next/prev, counts, a page past the end.
    let r = get(format!(
        "{CALLS}?per_page=3&page=1&include_paging_counts=true"
    ))
    .await;
    assert_eq!(ids(&r).len(), 3);
    assert_eq!(
        r.json["metadata"]["paging"],
        json!({"per_page": 3, "current_page": 1, "next_page": 2, "prev_page": null,
               "total_pages": 2, "total_count": 4})
    );
    let r = get(format!("{CALLS}?per_page=3&page=2")).await;
    assert_eq!(ids(&r), vec![id(0)]);
    assert_eq!(r.json["metadata"]["paging"]["next_page"], Value::Null);
    assert_eq!(r.json["metadata"]["paging"]["prev_page"], json!(1));
    assert!(ids(&get(format!("{CALLS}?per_page=3&page=9")).await).is_empty());
    // Meetings: start_time order and bounds, persons, owners.
    let r = get(MEETINGS.to_string()).await;
    assert_eq!(ids(&r), vec![id(6), id(5)]);
    let r = get(format!(
        "{MEETINGS}?start_time[lt]=2026-03-15&sort_direction=asc"
    ))
    .await;
    assert_eq!(ids(&r), vec![id(5)]);
    let r = get(format!("{MEETINGS}?person_ids[]={a_id}")).await;
    assert_eq!(ids(&r), vec![id(6)]);
    let r = get(format!("{MEETINGS}?user_guids={}", other.guid())).await;
    assert!(ids(&r).is_empty());
    // Notes by association.
    let r = get(format!(
        "{NOTES}?associated_with_type=Person&associated_with_id={a_id}"
    ))
    .await;
    assert_eq!(ids(&r), vec![id(4)]);
    let b_id = b["id"].as_i64().unwrap();
    let r = get(format!(
        "{NOTES}?associated_with_type=person&associated_with_id={b_id}"
    ))
    .await;
    assert!(ids(&r).is_empty());
    // Emails by when they were sent: none here.
    assert!(ids(&get(format!("{EMAILS}?sent_at[gte]=2020-01-01")).await).is_empty());

    // 422s name each parameter, all at once, and change nothing.
    for (q, params) in [
        (
            format!("{CALLS}?per_page=0&page=0&sort_by=occurred_at&sort_direction=up&ids=x&updated_at[gt]=yesterday&person_id=-1"),
            vec!["per_page", "page", "sort_by", "sort_direction", "ids", "updated_at", "person_id"],
        ),
        (
            format!("{CALLS}?sentiment=Interested&disposition=x&created_at[gt]=2020-01-01"),
            vec!["sentiment", "disposition", "created_at"],
        ),
        (
            format!("{EMAILS}?status=sent&bounced=true&sort_by=created_at&sent_at[gt]=nope"),
            vec!["status", "bounced", "sort_by", "sent_at"],
        ),
        (
            format!("{NOTES}?associated_with_id=5"),
            vec!["associated_with_id"],
        ),
        (
            format!("{NOTES}?associated_with_type=lead&associated_with_id=x"),
            vec!["associated_with_type", "associated_with_id"],
        ),
        (
            format!("{MEETINGS}?start_time[gt]=later&sort_by=end_time&person_id=1&account_id=2"),
            vec!["start_time", "sort_by", "account_id"],
        ),
        (
            format!("{CRM}?limit_paging_counts=maybe&include_paging_counts=2&sort_by=created_at"),
            vec!["limit_paging_counts", "include_paging_counts", "sort_by"],
        ),
        (format!("{CRM}?ids=1%00"), vec!["ids"]),
    ] {
        let r = app.get(&admin, &q).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {}", r.json);
        let named: BTreeSet<&str> = r.json["errors"]
            .as_object()
            .unwrap_or_else(|| panic!("{q}: {}", r.json))
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(named, params.into_iter().collect(), "{q}: {}", r.json);
        let path = q.split('?').next().unwrap();
        assert_documented(&api, "get", path, 422, &r.json);
    }
}

/// A Salesloft write: JSON, or form-encoded when `form` is given.
async fn send(app: &App, who: &Who, method: &str, path: &str, body: Body<'_>) -> Resp {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let req = app
        .client
        .request(m, format!("{}{path}", app.base))
        .bearer_auth(who.bearer());
    let req = match body {
        Body::Json(v) => req
            .header("content-type", "application/json")
            .body(v.to_string()),
        Body::Form(f) => req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(f.to_string()),
        Body::None => req,
    };
    app.send(req).await
}

enum Body<'a> {
    Json(Value),
    Form(&'a str),
    None,
}

#[tokio::test]
async fn a_call_and_a_note_written_through_salesloft_are_one_record_in_every_api() {
    let app = App::start(true).await;
    let vendor = vendor_doc();
    let api = app.raw("GET", "/openapi.json", None, None).await.json;
    let admin = app.tenant("Writes").await;
    let lead = app.lead(&admin, "Ada", "ada@writes.example").await;
    let lead_guid = lead["guid"].as_str().unwrap().to_string();
    let lead_id = lead["id"].as_i64().unwrap();

    // Log a call; the write spends from the team's budget like a read.
    let before = app.get(&admin, CALLS).await;
    let left: u64 = before
        .header("x-ratelimit-remaining-minute")
        .unwrap()
        .parse()
        .unwrap();
    let body = json!({"person_id": lead_id.to_string(), "to": "+1 555 0100", "duration": 30,
                      "disposition": "Connected", "sentiment": "Interested", "notes": "Talked pricing"});
    let r = send(&app, &admin, "POST", CALLS, Body::Json(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_documented(&api, "post", CALLS, 200, &r.json);
    assert_eq!(r.header("x-ratelimit-endpoint-cost").as_deref(), Some("1"));
    let now: u64 = r
        .header("x-ratelimit-remaining-minute")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(now, left - 1, "a write costs 1 from the budget");
    let call = r.json["data"].clone();
    assert_vendor_shape(&vendor, "Call", &call);
    assert_eq!(call["duration"], json!(30));
    assert_eq!(call["disposition"], json!("Connected"));
    assert_eq!(call["called_person"], json!({"id": lead_id}));
    let call_id = call["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&admin, &format!("{CALLS}/{call_id}")).await.json["data"],
        call
    );

    // The same activity in the history feed, LeadSquared's Retrieve and the native API, with one
    // updated_at.
    let h = app
        .get(&admin, &format!("/v2/activity_histories/call-{call_id}"))
        .await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.json);
    assert_eq!(h.json["data"]["updated_at"], call["updated_at"]);
    assert_eq!(
        h.json["data"]["static_data"]["note"],
        json!("Talked pricing")
    );
    assert_eq!(h.json["data"]["resource_id"], json!(lead_id));
    let native = app
        .get(&admin, &format!("/api/v1/activities/{call_id}"))
        .await;
    assert_eq!(native.status, StatusCode::OK, "{}", native.json);
    assert_eq!(native.json["data"]["updated_at"], call["updated_at"]);
    let crm = app.get(&admin, &format!("{CRM}/{call_id}")).await.json["data"].clone();
    let lsq = app
        .lsq(
            &admin,
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead_guid}"),
            Some(json!({"Parameter": {}, "Paging": {"Offset": "0", "RowCount": "10"}})),
        )
        .await;
    assert_eq!(lsq.status, StatusCode::OK, "{}", lsq.json);
    let found: Vec<&Value> = lsq.json["ProspectActivities"]
        .as_array()
        .expect("activities")
        .iter()
        .filter(|a| a["Id"] == crm["crm_id"])
        .collect();
    assert_eq!(found.len(), 1, "{}", lsq.json);
    assert!(
        found[0]["Data"]
            .as_array()
            .expect("Data")
            .iter()
            .any(|d| d["Key"] == json!("NotableEventDescription")
                && d["Value"] == json!("Talked pricing")),
        "{}",
        found[0]
    );
    assert_eq!(found[0]["RelatedProspectId"], json!(lead_guid));

    // A note, form-encoded as Salesloft documents, on the call.
    let form = format!(
        "content=Follow+up+Friday&associated_with_type=Person&associated_with_id={lead_id}&call_id={call_id}&subject=Next"
    );
    let r = send(&app, &admin, "POST", NOTES, Body::Form(&form)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_documented(&api, "post", NOTES, 200, &r.json);
    let note = r.json["data"].clone();
    assert_vendor_shape(&vendor, "Note", &note);
    assert_eq!(note["content"], json!("Follow up Friday"));
    assert_eq!(note["call"], json!({"id": call_id}));
    assert_eq!(note["associated_with"], json!({"id": lead_id}));
    let note_id = note["id"].as_i64().unwrap();

    // Editing moves updated_at forward, everywhere.
    let r = send(
        &app,
        &admin,
        "PUT",
        &format!("{NOTES}/{note_id}"),
        Body::Json(json!({"content": "Follow up Monday"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_documented(&api, "put", &format!("{NOTES}/{{id}}"), 200, &r.json);
    let edited = r.json["data"].clone();
    assert_eq!(edited["content"], json!("Follow up Monday"));
    assert_eq!(edited["call"], json!({"id": call_id}), "the call stays");
    assert!(
        edited["updated_at"].as_str() > note["updated_at"].as_str(),
        "{edited} after {note}"
    );
    let h = app
        .get(&admin, &format!("/v2/activity_histories/note-{note_id}"))
        .await;
    assert_eq!(h.json["data"]["updated_at"], edited["updated_at"]);
    assert_eq!(
        h.json["data"]["static_data"]["note"],
        json!("Follow up Monday")
    );
    // An integral JSON number written with a fraction is the integer JSON Schema says it is.
    let r = send(
        &app,
        &admin,
        "PUT",
        &format!("{NOTES}/{note_id}"),
        Body::Json(json!({ "content": "Follow up Monday", "call_id": call_id as f64 })),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "call_id {}.0: {}",
        call_id,
        r.json
    );
    assert_eq!(r.json["data"]["call"], json!({"id": call_id}));

    // Deleting is repeatable; the note is gone from every API.
    for _ in 0..2 {
        let r = send(
            &app,
            &admin,
            "DELETE",
            &format!("{NOTES}/{note_id}"),
            Body::None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);
        assert!(r.headers.contains_key("x-ratelimit-remaining-minute"));
    }
    for path in [
        format!("{NOTES}/{note_id}"),
        format!("/v2/activity_histories/note-{note_id}"),
        format!("/api/v1/activities/{note_id}"),
    ] {
        let r = app.get(&admin, &path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.json);
    }
    // A call's id is no note: PUT and DELETE leave it alone.
    let r = send(
        &app,
        &admin,
        "PUT",
        &format!("{NOTES}/{call_id}"),
        Body::Json(json!({"content": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.json);
    let r = send(
        &app,
        &admin,
        "DELETE",
        &format!("{NOTES}/{call_id}"),
        Body::None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&admin, &format!("{CALLS}/{call_id}")).await.json["data"],
        call
    );
    // A path that is no positive 64-bit integer names no note at all: 404, as GET and PUT answer.
    for bad in ["9223372036854775808", "0", "-3", "abc"] {
        let r = send(
            &app,
            &admin,
            "DELETE",
            &format!("{NOTES}/{bad}"),
            Body::None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}: {}", r.json);
        assert_eq!(r.json, json!({"error": "Not Found"}), "{bad}");
    }

    // Notes on accounts; a Sales_User may note its own persons only.
    let account = app.account(&admin, "Acme").await;
    let r = send(
        &app,
        &admin,
        "POST",
        NOTES,
        Body::Json(
            json!({"content": "Renewal", "associated_with_type": "account",
                          "associated_with_id": account["id"]}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["data"]["associated_type"], json!("account"));
    let seller = app
        .user(&admin, "seller@writes.example", Role::SalesUser)
        .await;
    for body in [
        json!({"content": "x", "associated_with_type": "account", "associated_with_id": account["id"]}),
        json!({"content": "x", "associated_with_type": "person", "associated_with_id": lead_id}),
    ] {
        let r = send(&app, &seller, "POST", NOTES, Body::Json(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
        assert!(
            r.json["errors"]["associated_with_id"].is_array(),
            "{}",
            r.json
        );
    }
    // Only an Administrator logs for another user.
    let r = send(
        &app,
        &seller,
        "POST",
        CALLS,
        Body::Json(json!({"person_id": lead_id, "user_guid": admin.guid()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    let r = send(
        &app,
        &admin,
        "POST",
        CALLS,
        Body::Json(json!({"person_id": lead_id, "user_guid": seller.guid()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["data"]["user"]["guid"], json!(seller.guid()));
}

#[tokio::test]
async fn bad_writes_are_refused_by_name_and_change_nothing() {
    let app = App::start(false).await;
    let api = app.raw("GET", "/openapi.json", None, None).await.json;
    let admin = app.tenant("Refusals").await;
    let lead = app.lead(&admin, "Ada", "ada@refusals.example").await;
    let lead_id = lead["id"].as_i64().unwrap();
    let note = send(
        &app,
        &admin,
        "POST",
        NOTES,
        Body::Json(json!({"content": "keep", "associated_with_type": "person", "associated_with_id": lead_id})),
    )
    .await
    .json["data"]["id"]
        .as_i64()
        .unwrap();
    let before = app.get(&admin, &format!("{CRM}?per_page=100")).await.json;

    for (method, path, body, params) in [
        ("POST", CALLS.to_string(), json!({}), vec!["person_id"]),
        (
            "POST",
            CALLS.to_string(),
            json!({"person_id": "x", "duration": -1, "to": ["a"], "action_id": 4}),
            vec!["person_id", "duration", "to", "action_id"],
        ),
        (
            "POST",
            CALLS.to_string(),
            json!({"person_id": 999_999_999}),
            vec!["person_id"],
        ),
        (
            "POST",
            CALLS.to_string(),
            json!({"person_id": lead_id, "user_guid": "nobody", "disposition": "x".repeat(256)}),
            vec!["disposition"],
        ),
        (
            "POST",
            CALLS.to_string(),
            json!({"person_id": lead_id, "user_guid": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}),
            vec!["user_guid"],
        ),
        (
            "POST",
            NOTES.to_string(),
            json!({}),
            vec!["content", "associated_with_type", "associated_with_id"],
        ),
        (
            "POST",
            NOTES.to_string(),
            json!({"content": "x", "associated_with_type": "lead", "associated_with_id": 0}),
            vec!["associated_with_type", "associated_with_id"],
        ),
        (
            "POST",
            NOTES.to_string(),
            json!({"content": "a\u{0}b", "associated_with_type": "person", "associated_with_id": lead_id}),
            vec!["content"],
        ),
        (
            "POST",
            NOTES.to_string(),
            json!({"content": "x", "associated_with_type": "person", "associated_with_id": lead_id, "call_id": note}),
            vec!["call_id"],
        ),
        (
            "PUT",
            format!("{NOTES}/{note}"),
            json!({"call_id": "x"}),
            vec!["content", "call_id"],
        ),
    ] {
        let r = send(&app, &admin, method, &path, Body::Json(body.clone())).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path} {body}: {}",
            r.json
        );
        let named: BTreeSet<&str> = r.json["errors"]
            .as_object()
            .unwrap_or_else(|| panic!("{body}: {}", r.json))
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(named, params.into_iter().collect(), "{body}: {}", r.json);
        let documented = if method == "PUT" {
            format!("{NOTES}/{{id}}")
        } else {
            path.clone()
        };
        assert_documented(&api, &method.to_lowercase(), &documented, 422, &r.json);
    }
    for (body, status) in [
        ("[1]", StatusCode::BAD_REQUEST),
        ("{", StatusCode::BAD_REQUEST),
    ] {
        let r = app
            .raw(
                "POST",
                CALLS,
                Some(&format!("Bearer {}", admin.bearer())),
                Some(body.as_bytes().to_vec()),
            )
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.json);
        assert!(r.json["error"].is_string());
    }
    let r = send(&app, &admin, "PATCH", NOTES, Body::None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.json["error"].is_string());
    let after = app.get(&admin, &format!("{CRM}?per_page=100")).await.json;
    assert_eq!(
        after["data"], before["data"],
        "a refused write changed something"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_walk_of_every_resource_sees_every_record_once_while_another_client_writes() {
    let app = App::start(false).await;
    let admin = app.tenant("Cursor").await;
    let lead = app.lead(&admin, "Ada", "ada@cursor.example").await;
    let lead_guid = lead["guid"].as_str().unwrap().to_string();
    let lead_id = lead["id"].as_i64().unwrap();
    // Some records before the walk starts.
    let mut expected: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    let seeded = app
        .activities(
            &admin,
            ["call", "sent_email", "note", "meeting"]
                .iter()
                .map(|t| on_person(&lead_guid, t, "2026-01-01T00:00:00Z"))
                .collect(),
        )
        .await;
    for (row, path) in seeded.iter().zip([CALLS, EMAILS, NOTES, MEETINGS]) {
        let id = row["id"].as_i64().unwrap();
        expected.entry(path).or_default().insert(id);
        expected.entry(CRM).or_default().insert(id);
    }

    let writer = Writer::of(&app, &admin);
    let lead_guid2 = lead_guid.clone();
    let writing = tokio::spawn(async move {
        let mut made: Vec<(&str, i64)> = Vec::new();
        for i in 0..25 {
            let (s, call) = writer
                .send(
                    "POST",
                    CALLS,
                    Some(json!({"person_id": lead_id, "notes": format!("call {i}")})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{call}");
            made.push((CALLS, call["data"]["id"].as_i64().unwrap()));
            let (s, note) = writer
                .send(
                    "POST",
                    NOTES,
                    Some(
                        json!({"content": format!("note {i}"), "associated_with_type": "person",
                                "associated_with_id": lead_id}),
                    ),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{note}");
            made.push((NOTES, note["data"]["id"].as_i64().unwrap()));
            let (s, rows) = writer
                .send(
                    "POST",
                    "/api/v1/activities",
                    Some(json!({"activities": [
                        on_person(&lead_guid2, "sent_email", "2026-01-02T00:00:00Z"),
                        on_person(&lead_guid2, "meeting", "2026-01-03T00:00:00Z"),
                    ]})),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{rows}");
            made.push((EMAILS, rows["data"][0]["id"].as_i64().unwrap()));
            made.push((MEETINGS, rows["data"][1]["id"].as_i64().unwrap()));
        }
        made
    });

    // Walk every resource in turn, page by page, while the writer runs; then once more to the end.
    let mut seen: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut cursors: BTreeMap<&str, String> = BTreeMap::new();
    let mut finished = false;
    loop {
        let writer_done = writing.is_finished();
        let mut all_caught_up = true;
        for path in [CALLS, EMAILS, NOTES, MEETINGS, CRM] {
            let mut q = format!("{path}?sort_by=updated_at&sort_direction=asc&per_page=7");
            if let Some(c) = cursors.get(path) {
                q.push_str(&format!("&updated_at[gt]={}", enc(c)));
            }
            let r = app.get(&admin, &q).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.json);
            let page = data(&r);
            if page.len() == 7 {
                all_caught_up = false;
            }
            for rec in &page {
                seen.entry(path)
                    .or_default()
                    .push(rec["id"].as_i64().unwrap());
                cursors.insert(path, rec["updated_at"].as_str().unwrap().to_string());
            }
        }
        if finished && all_caught_up {
            break;
        }
        finished = writer_done;
    }
    for (path, id) in writing.await.expect("writer") {
        expected.entry(path).or_default().insert(id);
        expected.entry(CRM).or_default().insert(id);
    }
    for (path, want) in &expected {
        let got = seen.get(path).cloned().unwrap_or_default();
        let unique: BTreeSet<i64> = got.iter().copied().collect();
        assert_eq!(unique.len(), got.len(), "{path}: a record was seen twice");
        assert_eq!(&unique, want, "{path}: the walk missed or invented records");
    }
    assert_eq!(expected[CRM].len(), 4 + 100);
}
