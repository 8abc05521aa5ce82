//! Real LeadSquared and Salesloft answers, success and each error class the test can provoke,
//! validate against the `/openapi.json` schema of their operation and status (JSON Schema 2020-12
//! through the `jsonschema` crate, `$ref`s resolved inside the document), and carry the headers
//! that answer documents.

use std::collections::HashMap;
use std::sync::Mutex;

use activity_hub::domain::Role;

use crate::harness::*;

/// The served document and a validator per response schema, compiled on first use.
pub struct Doc {
    pub doc: Value,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
    /// (method, path, status) checked so far.
    seen: Mutex<Vec<(String, String, String)>>,
}

/// `segment` as one token of a JSON pointer inside a URI fragment (RFC 6901).
pub fn escape(segment: &str) -> String {
    segment
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

impl Doc {
    pub async fn of(app: &App) -> Doc {
        Doc {
            doc: app.raw("GET", "/openapi.json", None, None).await.json,
            validators: Mutex::new(HashMap::new()),
            seen: Mutex::new(Vec::new()),
        }
    }

    pub fn validator(&self, pointer: &str) -> std::sync::Arc<jsonschema::Validator> {
        let mut cache = self.validators.lock().unwrap();
        cache
            .entry(pointer.to_string())
            .or_insert_with(|| {
                // The whole document is the root resource, so `#/components/…` resolve; its
                // OpenAPI keys are unknown keywords to JSON Schema and ignored.
                let mut root = self.doc.clone();
                root["$ref"] = json!(pointer);
                let v = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("{pointer}: {e}"));
                std::sync::Arc::new(v)
            })
            .clone()
    }

    /// Asserts `r` is `status` and is what the document says `method path` answers with it.
    #[track_caller]
    pub fn check(&self, method: &str, path: &str, r: &Resp, status: StatusCode) {
        assert_eq!(r.status, status, "{method} {path}: {}", r.json);
        let responses = &self.doc["paths"][path][method]["responses"];
        assert!(responses.is_object(), "{method} {path} is not documented");
        let key = if responses.get(status.as_str()).is_some() {
            status.as_str().to_string()
        } else {
            assert!(
                responses.get("default").is_some(),
                "{method} {path} does not document {status}"
            );
            "default".to_string()
        };
        let answer = &responses[&key];
        if let Some(headers) = answer["headers"].as_object() {
            for name in headers.keys() {
                assert!(
                    r.headers.contains_key(name.as_str()),
                    "{method} {path} {status}: documented header {name} is missing"
                );
            }
        }
        assert!(
            answer["content"]["application/json"]["schema"].is_object(),
            "{method} {path} {key} documents no JSON body"
        );
        let media = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default();
        assert_eq!(media, "application/json", "{method} {path} {status}");
        let pointer = format!(
            "#/paths/{}/{method}/responses/{key}/content/application~1json/schema",
            escape(path)
        );
        let v = self.validator(&pointer);
        let errors: Vec<String> = v
            .iter_errors(&r.json)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match its schema: {errors:?}\n{}",
            r.json
        );
        self.seen.lock().unwrap().push((
            method.to_string(),
            path.to_string(),
            status.as_str().to_string(),
        ));
    }
}

/// A call's path without its query string (the document's key).
fn path_of(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// A LeadSquared call with keys; POST when there is a body.
async fn lsq(
    app: &App,
    doc: &Doc,
    who: &Who,
    url: &str,
    body: Option<Value>,
    want: StatusCode,
) -> Value {
    let method = if body.is_some() { "post" } else { "get" };
    let r = app.lsq(who, url, body).await;
    doc.check(method, path_of(url), &r, want);
    r.json
}

const CREATE_TYPE: &str = "/v2/ProspectActivity.svc/CreateType";
const UPDATE_TYPE: &str = "/v2/ProspectActivity.svc/CustomActivityType/Update";
const CREATE: &str = "/v2/ProspectActivity.svc/Create";
const CAPTURE: &str = "/v2/OpportunityManagement.svc/Capture";

#[tokio::test]
async fn leadsquared_answers_match_the_document() {
    let app = App::start().await;
    let doc = Doc::of(&app).await;
    let admin = app.tenant("Documented").await;
    let seller = app
        .user(&admin, "seller@documented.example", Role::SalesUser)
        .await;
    let (ok, bad, err500) = (
        StatusCode::OK,
        StatusCode::BAD_REQUEST,
        StatusCode::INTERNAL_SERVER_ERROR,
    );

    // Activity types.
    let new_type = json!({"ActivityEventName": "Site visit", "Score": "5", "Direction": 1,
    "Fields": [
        {"SchemaName": "mx_Custom_1", "DisplayName": "Rating", "DataType": "Number", "IsMandatory": "1"},
        {"SchemaName": "mx_Custom_2", "DataType": "Dropdown", "OptionSet": ["Good", "Bad"], "IsMandatory": false},
    ]});
    let created = lsq(&app, &doc, &admin, CREATE_TYPE, Some(new_type.clone()), ok).await;
    let code = created["Message"]["Id"].as_i64().unwrap();
    lsq(
        &app,
        &doc,
        &admin,
        CREATE_TYPE,
        Some(new_type.clone()),
        err500,
    )
    .await;
    lsq(
        &app,
        &doc,
        &seller,
        CREATE_TYPE,
        Some(json!({"ActivityEventName": "Mine"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    lsq(&app, &doc, &admin, CREATE_TYPE,
        Some(json!({"ActivityEventName": "Odd", "Fields": [{"SchemaName": "mx_X", "DataType": "Nope"}]})), bad).await;
    lsq(
        &app,
        &doc,
        &admin,
        UPDATE_TYPE,
        Some(json!({"ActivityEvent": code, "Score": 7})),
        ok,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{UPDATE_TYPE}?code=abc"),
        Some(json!({})),
        bad,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        UPDATE_TYPE,
        Some(json!({"ActivityEvent": 99999})),
        err500,
    )
    .await;
    lsq(
        &app,
        &doc,
        &seller,
        UPDATE_TYPE,
        Some(json!({"ActivityEvent": code})),
        StatusCode::FORBIDDEN,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        "/v2/ProspectActivity.svc/ActivityTypes.Get",
        None,
        ok,
    )
    .await;
    let setting = "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting";
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{setting}?code={code}"),
        None,
        ok,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{setting}?code=abc"),
        None,
        bad,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{setting}?code=99999"),
        None,
        err500,
    )
    .await;

    // Leads.
    let lead_create = "/v2/LeadManagement.svc/Lead.Create";
    let lead = lsq(
        &app,
        &doc,
        &admin,
        lead_create,
        Some(json!([
            {"Attribute": "FirstName", "Value": "Ada"},
            {"Attribute": "EmailAddress", "Value": "ada@documented.example"},
            {"Attribute": "DoNotCall", "Value": 1},
            {"Attribute": "mx_Region", "Value": "North"},
        ])),
        ok,
    )
    .await;
    let lead = lead["Message"]["Id"].as_str().unwrap().to_string();
    lsq(
        &app,
        &doc,
        &admin,
        lead_create,
        Some(json!([{"Attribute": "Shoe", "Value": "42"}])),
        bad,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        lead_create,
        Some(json!({"Attribute": "FirstName"})),
        bad,
    )
    .await;
    let by_id = "/v2/LeadManagement.svc/Leads.GetById";
    let rows = lsq(&app, &doc, &admin, &format!("{by_id}?id={lead}"), None, ok).await;
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    lsq(&app, &doc, &admin, by_id, None, bad).await;
    let update = "/v2/LeadManagement.svc/Lead.Update";
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{update}?leadId={lead}"),
        Some(json!([{"Attribute": "Company", "Value": "Analytical Engines"}])),
        ok,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{update}?leadId={lead}"),
        Some(json!([{"Attribute": "DoNotCall", "Value": "maybe"}])),
        bad,
    )
    .await;
    let upserted = lsq(
        &app,
        &doc,
        &admin,
        "/v2/LeadManagement.svc/Lead.CreateOrUpdate?postUpdatedLead=true",
        Some(
            json!([{"Attribute": "EmailAddress", "Value": "ada@documented.example"},
                    {"Attribute": "SearchBy", "Value": "EmailAddress"},
                    {"Attribute": "LastName", "Value": "Lovelace"}]),
        ),
        ok,
    )
    .await;
    assert_eq!(upserted["Message"]["Id"], json!(lead), "{upserted}");
    let captured = lsq(
        &app,
        &doc,
        &admin,
        "/v2/LeadManagement.svc/Lead.Capture",
        Some(
            json!([{"Attribute": "EmailAddress", "Value": "charles@documented.example"},
                    {"Attribute": "FirstName", "Value": "Charles"}]),
        ),
        ok,
    )
    .await;
    assert_eq!(captured["Message"]["IsCreated"], json!(true), "{captured}");
    let found = lsq(
        &app,
        &doc,
        &admin,
        "/v2/LeadManagement.svc/Leads.GetByEmailaddress?emailaddress=ada@documented.example",
        None,
        ok,
    )
    .await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    let searched = lsq(
        &app,
        &doc,
        &admin,
        "/v2/LeadManagement.svc/Leads.GetByQuickSearch?key=Char",
        None,
        ok,
    )
    .await;
    assert_eq!(searched.as_array().map(Vec::len), Some(1), "{searched}");
    let criteria = lsq(
        &app,
        &doc,
        &admin,
        "/v2/LeadManagement.svc/Leads.Get",
        Some(json!({
            "Parameter": {"LookupName": "CreatedOn", "LookupValue": "2015-01-01 14:36:59", "SqlOperator": ">"},
            "Columns": {"Include_CSV": "ProspectID, FirstName, LastName, EmailAddress, ProspectAutoId"},
            "Sorting": {"ColumnName": "CreatedOn", "Direction": "1"},
            "Paging": {"PageIndex": 1, "PageSize": 100}
        })),
        ok,
    )
    .await;
    assert!(
        criteria.as_array().is_some_and(
            |rows| rows.len() >= 2 && rows.iter().all(|r| r["ProspectAutoId"].is_string())
        ),
        "{criteria}"
    );
    let everything = lsq(
        &app,
        &doc,
        &admin,
        "/v2/LeadManagement.svc/Leads.Get",
        Some(json!({"Parameter": {"LookupName": "EmailAddress", "LookupValue": "ada@documented.example"}})),
        ok,
    )
    .await;
    assert_eq!(everything.as_array().map(Vec::len), Some(1), "{everything}");
    lsq(
        &app,
        &doc,
        &admin,
        "/v2/LeadManagement.svc/Leads.Get",
        Some(json!({"Parameter": {"LookupName": "mx_Region", "LookupValue": "x"}})),
        bad,
    )
    .await;
    let fields = lsq(
        &app,
        &doc,
        &admin,
        "/v2/LeadManagement.svc/LeadsMetaData.Get",
        None,
        ok,
    )
    .await;
    assert!(
        fields
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["SchemaName"] == "mx_Region")),
        "{fields}"
    );

    // Activities.
    let activity = |lead: &str, rating: Value| {
        json!({
        "RelatedProspectId": lead, "ActivityEvent": code.to_string(), "ActivityNote": "Visited",
        "ActivityDateTime": "2026-01-02 03:04:05", "IncludeLeadScore": "true",
        "Fields": [{"SchemaName": "mx_Custom_1", "Value": rating}, {"SchemaName": "mx_Custom_2", "Value": "Good"}]})
    };
    let posted = lsq(
        &app,
        &doc,
        &admin,
        CREATE,
        Some(activity(&lead, json!(3))),
        ok,
    )
    .await;
    assert!(posted["Message"]["LeadScore"].is_i64(), "{posted}");
    let id = posted["Message"]["Id"].as_str().unwrap().to_string();
    let mut bad_date = activity(&lead, json!(3));
    bad_date["ActivityDateTime"] = json!("2026-13-45 99:00:00");
    lsq(&app, &doc, &admin, CREATE, Some(bad_date.clone()), bad).await;
    lsq(
        &app,
        &doc,
        &admin,
        CREATE,
        Some(activity(UNKNOWN, json!(3))),
        err500,
    )
    .await;
    let mut missing = activity(&lead, json!(3));
    missing["Fields"] = json!([]);
    lsq(&app, &doc, &admin, CREATE, Some(missing), err500).await;
    let custom = lsq(
        &app,
        &doc,
        &admin,
        "/v2/ProspectActivity.svc/CreateCustom",
        Some(json!({
            "LeadDetails": [{"Attribute": "EmailAddress", "Value": "custom@documented.example"},
                            {"Attribute": "SearchBy", "Value": "EmailAddress"}],
            "Activity": {"ActivityEvent": code, "ActivityNote": "Form", "ActivityDateTime": "2026-01-02 03:04:05",
                         "Fields": [{"SchemaName": "mx_Custom_1", "Value": "4"}, {"SchemaName": "mx_Custom_2", "Value": "Good"}]}
        })),
        ok,
    )
    .await;
    let custom_lead = custom["Message"]["RelatedId"].as_str().unwrap().to_string();
    lsq(
        &app,
        &doc,
        &admin,
        "/v2/ProspectActivity.svc/CreateCustom",
        Some(
            json!({"LeadDetails": [{"Attribute": "EmailAddress", "Value": "x@documented.example"}],
                    "Activity": {"ActivityEvent": 999_999}}),
        ),
        err500,
    )
    .await;
    let deleted = lsq(
        &app,
        &doc,
        &admin,
        "/v2/ProspectActivity.svc/DeleteActivities",
        Some(
            json!({"ProspectId": custom_lead, "ActivityEventList": [code.to_string()],
                    "FromDate": "2026-01-01 00:00:00", "ToDate": "2026-01-31 23:59:59"}),
        ),
        ok,
    )
    .await;
    assert_eq!(deleted["Message"]["AffectedRows"], json!(1), "{deleted}");
    lsq(
        &app,
        &doc,
        &admin,
        "/v2/ProspectActivity.svc/DeleteActivities",
        Some(json!({"ProspectId": custom_lead, "ActivityEventList": []})),
        bad,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        CREATE,
        Some(json!({"ActivityNote": "x".repeat(1_100_000)})),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        CREATE,
        Some(json!("not an object")),
        bad,
    )
    .await;

    let retrieve = format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}");
    let page = lsq(&app, &doc, &admin, &retrieve,
        Some(json!({"Parameter": {"ActivityEvent": code}, "Paging": {"Offset": "0", "RowCount": "10"}})), ok).await;
    assert_eq!(page["RecordCount"], json!(1), "{page}");
    lsq(
        &app,
        &doc,
        &admin,
        &retrieve,
        Some(json!({"Paging": {"PageSize": 1001}})),
        bad,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        "/v2/ProspectActivity.svc/Retrieve",
        Some(json!({})),
        bad,
    )
    .await;

    let recent = "/v2/ProspectActivity.svc/RetrieveRecentlyModified";
    let modified = lsq(
        &app,
        &doc,
        &admin,
        recent,
        Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00", "ToDate": "2999-12-31 23:59:59"},
                    "Paging": {"PageIndex": 1, "PageSize": 10}})),
        ok,
    )
    .await;
    assert!(
        modified["RecordCount"].as_i64().is_some_and(|n| n >= 1),
        "{modified}"
    );
    lsq(
        &app,
        &doc,
        &admin,
        recent,
        Some(json!({"Parameter": {}})),
        bad,
    )
    .await;

    // DeleteActivities above recorded a deletion: one change at least, with its old values.
    let change_log = "/v2/ProspectActivity.svc/RetrieveActivityChange";
    let changed = lsq(
        &app,
        &doc,
        &admin,
        change_log,
        Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00", "ToDate": "2999-12-31 23:59:59"},
                    "Paging": {"PageIndex": 1, "PageSize": 10}})),
        ok,
    )
    .await;
    assert!(
        changed["RecordCount"].as_i64().is_some_and(|n| n >= 1),
        "{changed}"
    );
    assert_eq!(changed["Activities"][0]["Action"], "deleted", "{changed}");
    lsq(
        &app,
        &doc,
        &admin,
        change_log,
        Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00"}})),
        bad,
    )
    .await;

    let details = "/v2/ProspectActivity.svc/GetActivityDetails";
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{details}?activityId={id}"),
        None,
        ok,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{details}?activityId={UNKNOWN}"),
        None,
        err500,
    )
    .await;

    let update = "/v2/ProspectActivity.svc/CustomActivity/Update";
    lsq(
        &app,
        &doc,
        &admin,
        update,
        Some(json!({"ProspectActivityId": id, "ActivityNote": "Changed"})),
        ok,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        update,
        Some(json!({"ActivityNote": "Whose?"})),
        err500,
    )
    .await;

    let bulk = "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId";
    let answer = lsq(
        &app,
        &doc,
        &admin,
        bulk,
        Some(json!([activity(&lead, json!(4)), bad_date])),
        ok,
    )
    .await;
    assert_eq!(
        answer["Response"][1]["ActivityCreated"],
        json!(false),
        "{answer}"
    );
    lsq(&app, &doc, &admin, bulk, Some(json!([])), bad).await;

    // Users.
    lsq(
        &app,
        &doc,
        &admin,
        "/v2/UserManagement.svc/Users.Get",
        None,
        ok,
    )
    .await;
    let by_email = "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress";
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{by_email}?emailAddress=seller@documented.example"),
        None,
        ok,
    )
    .await;
    // Without an address: `[]`, the key check LeadSquared's PHP library makes.
    lsq(&app, &doc, &admin, by_email, None, ok).await;
    let by_user = "/v2/UserManagement.svc/User/Retrieve/ByUserId";
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{by_user}?userId={}", seller.guid()),
        None,
        ok,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        "/v2/Authentication.svc/UserByAccessKey.Get",
        None,
        ok,
    )
    .await;

    // Opportunities.
    let capture = json!({
        "LeadDetails": [{"Attribute": "EmailAddress", "Value": "grace@documented.example"},
                        {"Attribute": "SearchBy", "Value": "EmailAddress"}],
        "Opportunity": {"OpportunityEventCode": 12000, "OpportunityNote": "Big one",
                        "OpportunityDateTime": "2026-02-03 04:05:06",
                        "Fields": [{"SchemaName": "Status", "Value": "Open"}]}});
    let captured = lsq(&app, &doc, &admin, CAPTURE, Some(capture), ok).await;
    let opp = captured["Message"]["Id"].as_str().unwrap().to_string();
    let opp_lead = captured["Message"]["RelatedId"]
        .as_str()
        .unwrap()
        .to_string();
    lsq(&app, &doc, &admin, CAPTURE, Some(json!({"LeadDetails": [{"Attribute": "EmailAddress", "Value": "x@documented.example"}]})), err500).await;
    lsq(
        &app,
        &doc,
        &admin,
        CAPTURE,
        Some(json!({"LeadDetails": [{"Attribute": "SearchBy", "Value": "Fax"}]})),
        bad,
    )
    .await;
    let opp_details = "/v2/OpportunityManagement.svc/GetOpportunityDetails";
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{opp_details}?OpportunityId={opp}"),
        None,
        ok,
    )
    .await;
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{opp_details}?OpportunityId={UNKNOWN}"),
        None,
        err500,
    )
    .await;
    let of_lead = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead";
    let list = lsq(
        &app,
        &doc,
        &admin,
        &format!("{of_lead}?leadId={opp_lead}"),
        Some(json!({})),
        ok,
    )
    .await;
    assert_eq!(list["RecordCount"], json!(1), "{list}");
    lsq(
        &app,
        &doc,
        &admin,
        &format!("{of_lead}?leadId={opp_lead}&opportunityType=abc"),
        Some(json!({})),
        bad,
    )
    .await;
    let opp_bulk = format!(
        "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId?opportunityId={opp}"
    );
    let mut by_admin = activity("", json!(2));
    by_admin["ActivityOwnerEmail"] = json!("admin@documented.example");
    let answer = lsq(&app, &doc, &admin, &opp_bulk, Some(json!([by_admin])), ok).await;
    assert_eq!(
        answer["Response"][0]["ActivityCreated"],
        json!(true),
        "{answer}"
    );
    let of_opp =
        format!("/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId={opp}");
    let flat = lsq(&app, &doc, &admin, &of_opp,
        Some(json!({"Columns": {"Include_CSV": "ActivityEvent,mx_Custom_1"}, "Paging": {"PageIndex": 1, "PageSize": 10},
                    "Sorting": {"ColumnName": "PACreatedOn", "Direction": "0"}})), ok).await;
    assert!(
        flat["List"].as_array().is_some_and(|l| !l.is_empty()),
        "{flat}"
    );
    lsq(
        &app,
        &doc,
        &admin,
        &of_opp,
        Some(json!({"Columns": {"Include_CSV": "Nope"}})),
        bad,
    )
    .await;

    // Credentials: none, and wrong ones.
    let r = app
        .raw("GET", "/v2/UserManagement.svc/Users.Get", None, None)
        .await;
    doc.check(
        "get",
        "/v2/UserManagement.svc/Users.Get",
        &r,
        StatusCode::UNAUTHORIZED,
    );
    let r = app
        .raw(
            "POST",
            "/v2/ProspectActivity.svc/Create?accessKey=u%24nope&secretKey=nope",
            None,
            Some(b"{}".to_vec()),
        )
        .await;
    doc.check("post", CREATE, &r, StatusCode::UNAUTHORIZED);

    // Every LeadSquared operation was checked with a success (the Salesloft ones are checked
    // by the tests of their own surface).
    let seen = doc.seen.lock().unwrap().clone();
    for (path, item) in doc.doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v2/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            if op["tags"][0] != json!("LeadSquared") {
                continue;
            }
            assert!(
                seen.iter()
                    .any(|(m, p, s)| m == method && p == path && s == "200"),
                "no successful {method} {path} was checked"
            );
        }
    }
}

#[tokio::test]
async fn salesloft_answers_match_the_document() {
    let app = App::start().await;
    let doc = Doc::of(&app).await;
    let admin = app.tenant("Histories").await;
    let lead = app.lead(&admin, "Ada", "ada@histories.example").await;
    let lead_guid = s(&lead, "guid");
    let mut row = on_person(&lead_guid, "call", "2026-01-02T03:04:05Z");
    row["tags"] = json!(["q4"]);
    row["static_data"] = json!({"duration": 310});
    app.activities(&admin, vec![row]).await;
    app.opportunity(&admin, &lead_guid, "Deal").await;
    let gone = app.lead(&admin, "Gone", "gone@histories.example").await;
    app.activities(
        &admin,
        vec![on_person(&s(&gone, "guid"), "note", "2026-01-03T00:00:00Z")],
    )
    .await;
    let r = app
        .delete(&admin, &format!("/api/v1/leads/{}", s(&gone, "guid")))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.json);

    let list = "/v2/activity_histories";
    let r = app
        .get(
            &admin,
            &format!("{list}?include_paging_counts=true&per_page=2"),
        )
        .await;
    doc.check("get", list, &r, StatusCode::OK);
    assert_eq!(
        r.json["metadata"]["paging"]["next_page"],
        json!(2),
        "{}",
        r.json
    );
    let r = app
        .get(
            &admin,
            &format!("{list}?per_page=100&sort_by=updated_at&sort_direction=asc"),
        )
        .await;
    doc.check("get", list, &r, StatusCode::OK);
    let all = r.json["data"].as_array().unwrap().clone();
    assert!(
        all.iter()
            .any(|a| a["resource_type"] == json!("crm_opportunity")),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|a| a["failed_dynamic_resources"] == json!(["person"])),
        "{all:?}"
    );
    let r = app
        .get(
            &admin,
            &format!("{list}?per_page=0&type=nope&occurred_at[gt]=yesterday"),
        )
        .await;
    doc.check("get", list, &r, StatusCode::UNPROCESSABLE_ENTITY);

    let one = "/v2/activity_histories/{id}";
    let id = s(&all[0], "id");
    let r = app.get(&admin, &format!("{list}/{id}")).await;
    doc.check("get", one, &r, StatusCode::OK);
    let r = app.get(&admin, &format!("{list}/call-999999")).await;
    doc.check("get", one, &r, StatusCode::NOT_FOUND);
    let r = app.get(&admin, &format!("{list}/%FF")).await;
    doc.check("get", one, &r, StatusCode::BAD_REQUEST);

    let r = app.get(&admin, "/v2/me").await;
    doc.check("get", "/v2/me", &r, StatusCode::OK);
    let r = app.raw("GET", "/v2/me", None, None).await;
    doc.check("get", "/v2/me", &r, StatusCode::UNAUTHORIZED);
    let r = app.raw("GET", list, Some("Bearer ak_nope"), None).await;
    doc.check("get", list, &r, StatusCode::UNAUTHORIZED);

    // People, accounts and users: a page, one record, an unknown one, a bad path, a 422.
    app.account(&admin, "Histories Inc").await;
    for (list, one, bad) in [
        ("/v2/people", "/v2/people/{id}", "sort_by=title&ids=x"),
        ("/v2/accounts", "/v2/accounts/{id}", "archived=maybe"),
        ("/v2/users", "/v2/users/{id}", "role_id=Boss"),
    ] {
        let r = app
            .get(
                &admin,
                &format!("{list}?include_paging_counts=true&per_page=1"),
            )
            .await;
        doc.check("get", list, &r, StatusCode::OK);
        let id = r.json["data"][0]["id"].clone();
        let r = app.get(&admin, &format!("{list}/{id}")).await;
        doc.check("get", one, &r, StatusCode::OK);
        let r = app.get(&admin, &format!("{list}/999999999")).await;
        doc.check("get", one, &r, StatusCode::NOT_FOUND);
        let r = app.get(&admin, &format!("{list}/%FF")).await;
        doc.check("get", one, &r, StatusCode::BAD_REQUEST);
        let r = app.get(&admin, &format!("{list}?{bad}")).await;
        doc.check("get", list, &r, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

/// The budgets' refusals: 429 in each dialect's envelope, with Retry-After (and Salesloft's rate
/// headers) as documented.
#[tokio::test]
async fn rate_limit_answers_match_the_document() {
    let app = App::launch("native (every test on PostgreSQL)", "native", true).await;
    let doc = Doc::of(&app).await;
    let admin = app.tenant("Budget").await;

    let users = "/v2/UserManagement.svc/Users.Get";
    let mut refused = None;
    for _ in 0..40 {
        let r = app.lsq(&admin, users, None).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(r);
            break;
        }
        doc.check("get", users, &r, StatusCode::OK);
    }
    let r = refused.expect("LeadSquared's 25 calls per 5 s were never refused");
    doc.check("get", users, &r, StatusCode::TOO_MANY_REQUESTS);

    // Pages beyond 500 cost 30: the team's 600 is spent within 21 calls.
    let list = "/v2/activity_histories";
    let mut refused = None;
    for _ in 0..30 {
        let r = app.get(&admin, &format!("{list}?page=501")).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(r);
            break;
        }
        doc.check("get", list, &r, StatusCode::OK);
    }
    let r = refused.expect("Salesloft's budget was never spent");
    doc.check("get", list, &r, StatusCode::TOO_MANY_REQUESTS);
}
