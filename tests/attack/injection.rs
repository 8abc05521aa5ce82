//! Injection-shaped input in every sort, filter, column, search and paging parameter of every list
//! endpoint: a 4xx in the dialect's envelope naming the parameter (or, where the text is just a
//! value to look for, a 200 that finds nothing), never a 5xx, and no change in stored data.

use crate::harness::*;

/// The payloads: SQL, NUL (escaped and literal), bidi controls, a very long text, paths, template
/// and operator syntax, JSON in a string, negative and huge numbers, as text and as JSON values.
fn payloads() -> Vec<Value> {
    let mut v: Vec<Value> = [
        "' OR 1=1 --",
        "\"; DROP TABLE activities; --",
        "1; DELETE FROM leads",
        "%00",
        "\u{0}",
        "a\u{0}' OR 1=1",
        "\u{202E}cod.exe\u{202C}\u{2066}x\u{2069}",
        "../../../etc/passwd",
        "..\\..\\windows",
        "{{7*7}}",
        "${jndi:ldap://x}",
        "$where",
        "{\"$where\": \"this.a == 1\"}",
        "{\"$gt\": \"\"}",
        "[\"' OR 1=1\"]",
        "-1",
        "-9223372036854775809",
        "99999999999999999999999",
        "1e308",
        "NaN",
        "0x7fffffff",
    ]
    .iter()
    .map(|s| json!(s))
    .collect();
    v.push(json!(format!("{}' OR 1=1 --", "x".repeat(20_000))));
    v.extend([
        json!(-1),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e300),
        json!(0.5),
        json!({"$where": "1 == 1"}),
        json!(["' OR 1=1 --"]),
    ]);
    v
}

/// What a parameter may answer to a hostile value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A 4xx in the dialect's envelope naming the parameter.
    Refused,
    /// That, or a 200 finding nothing (the text is a legitimate value to look for).
    RefusedOrEmpty,
    /// That, or the answer without the parameter: a parameter the endpoint does not read (an
    /// unknown property or query name, ignored as the dialect does), an object of unknown keys,
    /// or a cursor before the first record.
    RefusedOrUnfiltered,
    /// Exactly what an unknown id of the right shape gets (the parameter names a record).
    LikeUnknown,
}

struct Target {
    /// How the answer must name the parameter (compared case-insensitively; empty: the hostile
    /// text is the parameter's name, and the envelope is enough).
    field: &'static str,
    expect: Expect,
    build: fn(&World, &Value) -> Req,
    /// The request without the parameter (for `RefusedOrUnfiltered`).
    base: fn(&World) -> Req,
}

/// A payload as query-string text (already percent-encoded).
fn q(v: &Value) -> String {
    match v {
        Value::String(s) => enc(s),
        other => enc(&other.to_string()),
    }
}

const RETRIEVE: &str = "/v2/ProspectActivity.svc/Retrieve";
const ACTS_OF_OPP: &str = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity";
const OPPS_OF_LEAD: &str = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead";

fn retrieve(w: &World, body: Value) -> Req {
    Req::lsq(
        "POST",
        format!("{RETRIEVE}?leadId={}", w.a.lead_guid),
        Some(body),
    )
}
fn acts_of_opp(w: &World, body: Value) -> Req {
    Req::lsq(
        "POST",
        format!("{ACTS_OF_OPP}?opportunityId={}", w.a.opp_guid),
        Some(body),
    )
}
fn opps_of_lead(w: &World, body: Value) -> Req {
    Req::lsq(
        "POST",
        format!("{OPPS_OF_LEAD}?leadId={}", w.a.lead_guid),
        Some(body),
    )
}
fn sl(query: String) -> Req {
    Req::bearer("GET", format!("/v2/activity_histories?{query}"), None)
}

fn people(query: String) -> Req {
    Req::bearer("GET", format!("/v2/people?{query}"), None)
}
fn accounts(query: String) -> Req {
    Req::bearer("GET", format!("/v2/accounts?{query}"), None)
}
fn users(query: String) -> Req {
    Req::bearer("GET", format!("/v2/users?{query}"), None)
}
fn people_base(_: &World) -> Req {
    people(String::new())
}

fn no_base(_: &World) -> Req {
    unreachable!("only RefusedOrUnfiltered targets have a base")
}
fn retrieve_base(w: &World) -> Req {
    retrieve(w, json!({}))
}
fn acts_base(w: &World) -> Req {
    acts_of_opp(w, json!({}))
}
fn opps_base(w: &World) -> Req {
    opps_of_lead(w, json!({}))
}
fn sl_base(_: &World) -> Req {
    sl(String::new())
}

fn targets() -> Vec<Target> {
    use Expect::*;
    fn t(field: &'static str, expect: Expect, build: fn(&World, &Value) -> Req) -> Target {
        Target {
            field,
            expect,
            build,
            base: no_base,
        }
    }
    fn u(field: &'static str, base: fn(&World) -> Req, build: fn(&World, &Value) -> Req) -> Target {
        Target {
            field,
            expect: Expect::RefusedOrUnfiltered,
            build,
            base,
        }
    }
    vec![
        // ----- LeadSquared Retrieve
        t("leadId", LikeUnknown, |_, v| {
            Req::lsq(
                "POST",
                format!("{RETRIEVE}?leadId={}", q(v)),
                Some(json!({})),
            )
        }),
        t("ActivityEvent", RefusedOrEmpty, |w, v| {
            retrieve(w, json!({"Parameter": {"ActivityEvent": v}}))
        }),
        t("FromDate", Refused, |w, v| {
            retrieve(w, json!({"Parameter": {"FromDate": v}}))
        }),
        t("ToDate", Refused, |w, v| {
            retrieve(w, json!({"Parameter": {"ToDate": v}}))
        }),
        u("Parameter", retrieve_base, |w, v| {
            retrieve(w, json!({"Parameter": v}))
        }),
        t("Offset", RefusedOrEmpty, |w, v| {
            retrieve(w, json!({"Paging": {"Offset": v, "RowCount": 10}}))
        }),
        t("RowCount", Refused, |w, v| {
            retrieve(w, json!({"Paging": {"Offset": 0, "RowCount": v}}))
        }),
        t("PageIndex", RefusedOrEmpty, |w, v| {
            retrieve(w, json!({"Paging": {"PageIndex": v}}))
        }),
        t("PageSize", Refused, |w, v| {
            retrieve(w, json!({"Paging": {"PageSize": v}}))
        }),
        u("Paging", retrieve_base, |w, v| {
            retrieve(w, json!({"Paging": v}))
        }),
        t("ColumnName", Refused, |w, v| {
            retrieve(w, json!({"Sorting": {"ColumnName": v}}))
        }),
        t("Direction", Refused, |w, v| {
            retrieve(w, json!({"Sorting": {"Direction": v}}))
        }),
        u("Sorting", retrieve_base, |w, v| {
            retrieve(w, json!({"Sorting": v}))
        }),
        // Retrieve has no columns or fields to choose: such properties change nothing.
        u("Columns", retrieve_base, |w, v| {
            retrieve(w, json!({"Columns": {"Include_CSV": v}}))
        }),
        u("Fields", retrieve_base, |w, v| {
            retrieve(w, json!({"Fields": v}))
        }),
        // ----- LeadSquared GetActivitiesOfOpportunity
        t("opportunityId", LikeUnknown, |_, v| {
            Req::lsq(
                "POST",
                format!("{ACTS_OF_OPP}?opportunityId={}", q(v)),
                Some(json!({})),
            )
        }),
        t("activityEventCode", RefusedOrEmpty, |w, v| {
            Req::lsq(
                "POST",
                format!(
                    "{ACTS_OF_OPP}?opportunityId={}&activityEventCode={}",
                    w.a.opp_guid,
                    q(v)
                ),
                Some(json!({})),
            )
        }),
        t("Include_CSV", Refused, |w, v| {
            acts_of_opp(w, json!({"Columns": {"Include_CSV": v}}))
        }),
        u("Columns", acts_base, |w, v| {
            acts_of_opp(w, json!({"Columns": v}))
        }),
        u("Paging", acts_base, |w, v| {
            acts_of_opp(w, json!({"Paging": v}))
        }),
        u("Sorting", acts_base, |w, v| {
            acts_of_opp(w, json!({"Sorting": v}))
        }),
        t("ColumnName", Refused, |w, v| {
            acts_of_opp(w, json!({"Sorting": {"ColumnName": v}}))
        }),
        t("Direction", Refused, |w, v| {
            acts_of_opp(w, json!({"Sorting": {"Direction": v}}))
        }),
        t("Offset", RefusedOrEmpty, |w, v| {
            acts_of_opp(w, json!({"Paging": {"Offset": v, "RowCount": 10}}))
        }),
        t("RowCount", Refused, |w, v| {
            acts_of_opp(w, json!({"Paging": {"RowCount": v}}))
        }),
        t("PageIndex", RefusedOrEmpty, |w, v| {
            acts_of_opp(w, json!({"Paging": {"PageIndex": v}}))
        }),
        t("PageSize", Refused, |w, v| {
            acts_of_opp(w, json!({"Paging": {"PageSize": v}}))
        }),
        // ----- LeadSquared GetOpportunitiesOfLead
        t("leadId", LikeUnknown, |_, v| {
            Req::lsq(
                "POST",
                format!("{OPPS_OF_LEAD}?leadId={}", q(v)),
                Some(json!({})),
            )
        }),
        t("opportunityType", RefusedOrEmpty, |w, v| {
            Req::lsq(
                "POST",
                format!(
                    "{OPPS_OF_LEAD}?leadId={}&opportunityType={}",
                    w.a.lead_guid,
                    q(v)
                ),
                Some(json!({})),
            )
        }),
        t("PageIndex", RefusedOrEmpty, |w, v| {
            opps_of_lead(w, json!({"Paging": {"PageIndex": v}}))
        }),
        t("PageSize", Refused, |w, v| {
            opps_of_lead(w, json!({"Paging": {"PageSize": v}}))
        }),
        t("Offset", RefusedOrEmpty, |w, v| {
            opps_of_lead(w, json!({"Paging": {"Offset": v}}))
        }),
        u("Paging", opps_base, |w, v| {
            opps_of_lead(w, json!({"Paging": v}))
        }),
        // ----- Salesloft
        t("sort_by", Refused, |_, v| sl(format!("sort_by={}", q(v)))),
        t("sort", Refused, |_, v| sl(format!("sort={}", q(v)))),
        t("sort_direction", Refused, |_, v| {
            sl(format!("sort_direction={}", q(v)))
        }),
        t("per_page", Refused, |_, v| sl(format!("per_page={}", q(v)))),
        t("page", RefusedOrEmpty, |_, v| sl(format!("page={}", q(v)))),
        t("include_paging_counts", Refused, |_, v| {
            sl(format!("include_paging_counts={}", q(v)))
        }),
        t("limit_paging_counts", Refused, |_, v| {
            sl(format!(
                "include_paging_counts=true&limit_paging_counts={}",
                q(v)
            ))
        }),
        t("pinned", Refused, |_, v| sl(format!("pinned={}", q(v)))),
        t("type", Refused, |_, v| sl(format!("type={}", q(v)))),
        t("type", Refused, |_, v| sl(format!("type[]={}", q(v)))),
        t("type", Refused, |_, v| {
            sl(format!("type[person][]={}", q(v)))
        }),
        u("type", sl_base, |_, v| sl(format!("type[{}][]=call", q(v)))),
        t("occurred_at", Refused, |_, v| {
            sl(format!("occurred_at[gt]={}", q(v)))
        }),
        u("occurred_at", sl_base, |_, v| {
            sl(format!("occurred_at[{}]=2026-01-01T00:00:00Z", q(v)))
        }),
        t("updated_at", Refused, |_, v| {
            sl(format!("updated_at[lte]={}", q(v)))
        }),
        t("updated_at", Refused, |_, v| {
            sl(format!("sort_by=updated_at&updated_at[gte]={}", q(v)))
        }),
        t("resource_type", Refused, |_, v| {
            sl(format!("resource_type={}", q(v)))
        }),
        t("resource_id", RefusedOrEmpty, |_, v| {
            sl(format!("resource_type=person&resource_id={}", q(v)))
        }),
        t("resource_id", RefusedOrEmpty, |_, v| {
            sl(format!("resource_type=account&resource_id[]={}", q(v)))
        }),
        t("resource_id", RefusedOrEmpty, |_, v| {
            sl(format!(
                "resource_type=crm_opportunity&resource_id={}",
                q(v)
            ))
        }),
        t("ids", RefusedOrEmpty, |_, v| sl(format!("ids={}", q(v)))),
        t("id", RefusedOrEmpty, |_, v| sl(format!("id[]={}", q(v)))),
        t("user_guid", RefusedOrEmpty, |_, v| {
            sl(format!("user_guid={}", q(v)))
        }),
        // Not Salesloft parameters: ignored, as Salesloft does.
        u("filters", sl_base, |_, v| {
            sl(format!("filters[note]={}", q(v)))
        }),
        u("q", sl_base, |_, v| sl(format!("q={}", q(v)))),
        u("", sl_base, |_, v| sl(format!("{}=1", q(v)))),
        t("id", RefusedOrEmpty, |_, v| {
            Req::bearer("GET", format!("/v2/activity_histories/{}", q(v)), None)
        }),
        // People, accounts, users.
        t("sort_by", Refused, |_, v| {
            people(format!("sort_by={}", q(v)))
        }),
        t("sort_direction", Refused, |_, v| {
            accounts(format!("sort_direction={}", q(v)))
        }),
        t("sort", Refused, |_, v| users(format!("sort={}", q(v)))),
        t("per_page", Refused, |_, v| {
            users(format!("per_page={}", q(v)))
        }),
        t("page", RefusedOrEmpty, |_, v| {
            people(format!("page={}", q(v)))
        }),
        t("ids", RefusedOrEmpty, |_, v| {
            people(format!("ids[]={}", q(v)))
        }),
        t("ids", RefusedOrEmpty, |_, v| {
            accounts(format!("ids={}", q(v)))
        }),
        t("updated_at", Refused, |_, v| {
            people(format!("sort_by=updated_at&updated_at[gt]={}", q(v)))
        }),
        t("created_at", Refused, |_, v| {
            users(format!("created_at[lte]={}", q(v)))
        }),
        t("email_addresses", RefusedOrEmpty, |_, v| {
            people(format!("email_addresses={}", q(v)))
        }),
        t("owned_by_guid", RefusedOrEmpty, |_, v| {
            people(format!("owned_by_guid[]={}", q(v)))
        }),
        t("owner_id", RefusedOrEmpty, |_, v| {
            accounts(format!("owner_id={}", q(v)))
        }),
        t("can_call", Refused, |_, v| {
            people(format!("can_call={}", q(v)))
        }),
        t("name", RefusedOrEmpty, |_, v| {
            accounts(format!("name={}", q(v)))
        }),
        t("domain", RefusedOrEmpty, |_, v| {
            accounts(format!("domain={}", q(v)))
        }),
        t("guid", RefusedOrEmpty, |_, v| {
            users(format!("guid={}", q(v)))
        }),
        t("role_id", Refused, |_, v| {
            users(format!("role_id={}", q(v)))
        }),
        u("", people_base, |_, v| people(format!("{}=1", q(v)))),
        t("id", RefusedOrEmpty, |_, v| {
            Req::bearer("GET", format!("/v2/people/{}", q(v)), None)
        }),
        // ----- native
        u(
            "after",
            |_| Req::bearer("GET", "/api/v1/leads".into(), None),
            |_, v| Req::bearer("GET", format!("/api/v1/leads?after={}", q(v)), None),
        ),
        t("limit", Refused, |_, v| {
            Req::bearer("GET", format!("/api/v1/leads?limit={}", q(v)), None)
        }),
        u(
            "after",
            |_| Req::bearer("GET", "/api/v1/accounts".into(), None),
            |_, v| Req::bearer("GET", format!("/api/v1/accounts?after={}", q(v)), None),
        ),
        t("limit", Refused, |_, v| {
            Req::bearer("GET", format!("/api/v1/accounts?limit={}", q(v)), None)
        }),
        t("offset", RefusedOrEmpty, |_, v| {
            Req::bearer(
                "GET",
                format!("/api/v1/opportunities?offset={}", q(v)),
                None,
            )
        }),
        t("limit", Refused, |_, v| {
            Req::bearer("GET", format!("/api/v1/opportunities?limit={}", q(v)), None)
        }),
        t("lead_guid", LikeUnknown, |_, v| {
            Req::bearer(
                "GET",
                format!("/api/v1/opportunities?lead_guid={}", q(v)),
                None,
            )
        }),
        t("updated_after", Refused, |_, v| {
            Req::bearer(
                "GET",
                format!("/api/v1/export?updated_after={}", q(v)),
                None,
            )
        }),
        u(
            "sort",
            |_| Req::bearer("GET", "/api/v1/leads".into(), None),
            |_, v| Req::bearer("GET", format!("/api/v1/leads?sort={}", q(v)), None),
        ),
        u(
            "filter",
            |_| Req::bearer("GET", "/api/v1/users".into(), None),
            |_, v| Req::bearer("GET", format!("/api/v1/users?filter={}", q(v)), None),
        ),
        u(
            "q",
            |_| Req::bearer("GET", "/api/v1/activity_types".into(), None),
            |_, v| Req::bearer("GET", format!("/api/v1/activity_types?q={}", q(v)), None),
        ),
    ]
}

/// The rows of a list answer, in whichever dialect.
fn rows(a: &Answer) -> Option<usize> {
    for key in ["ProspectActivities", "List", "data"] {
        if let Some(rows) = a.json[key].as_array() {
            return Some(rows.len());
        }
    }
    // The export is NDJSON: one line per record.
    a.json
        .as_str()
        .map(|s| s.trim_start_matches("<non-JSON> ").lines().count())
}

/// Whether a 4xx answer is in its dialect's envelope and names `field`.
fn names_field(a: &Answer, dialect: Dialect, path: &str, field: &str) -> Result<(), String> {
    let field = field.to_lowercase();
    let j = &a.json;
    let names = |m: &str| field.is_empty() || m.to_lowercase().contains(&field);
    let ok = if dialect == Dialect::Lsq {
        j["Status"] == "Error"
            && j["ExceptionType"].is_string()
            && j["ExceptionMessage"].as_str().is_some_and(names)
    } else if path.starts_with("/v2/") {
        // Salesloft: 422 {"errors":{param:[…]}}, else {"error":"…"}.
        j["errors"].as_object().is_some_and(|e| {
            e.keys()
                .any(|k| field.is_empty() || k.to_lowercase() == field)
        }) || j["error"]
            .as_str()
            .is_some_and(|m| a.status == StatusCode::NOT_FOUND || names(m))
    } else {
        j["error"]["code"].is_string() && j["error"]["message"].as_str().is_some_and(names)
    };
    if ok {
        Ok(())
    } else {
        Err(format!("not an envelope naming '{field}'"))
    }
}

/// Every payload into every target, as A's Administrator: the expected answer, never a 5xx, none
/// of B's data, and both tenants exactly as before.
#[tokio::test]
async fn injection_shaped_input_is_refused_by_name_and_changes_nothing() {
    let w = World::build().await;
    let before = w.snapshots().await;
    let payloads = payloads();
    let mut tried = 0;
    let mut failures = Vec::new();
    for target in targets() {
        let baseline = if target.expect == Expect::RefusedOrUnfiltered {
            Some(w.app.send_as(&w.a_admin, &(target.base)(&w)).await)
        } else {
            None
        };
        for p in &payloads {
            let req = (target.build)(&w, p);
            let r = w.app.send_as(&w.a_admin, &req).await;
            tried += 1;
            let shown: String = p.to_string().chars().take(60).collect();
            let what = format!(
                "{} {} [{}] = {shown}",
                req.method,
                req.path.chars().take(120).collect::<String>(),
                target.field
            );
            w.assert_no_b_data(&what, &r.text, "");
            if r.status.is_server_error() && target.expect != Expect::LikeUnknown {
                failures.push(format!("{what}: {} {}", r.status, r.text));
                continue;
            }
            // A value that takes the URI past the server's limit is refused for the URI's length
            // before any parameter is read (414 in the dialect's envelope, saying so).
            let uri_len = req.path.len();
            let verdict = match target.expect {
                _ if uri_len > 16 * 1024 => {
                    if r.status == StatusCode::URI_TOO_LONG && r.text.contains("limit") {
                        Ok(())
                    } else {
                        Err(format!("a {uri_len}-byte URI was not refused as too long"))
                    }
                }
                Expect::Refused => {
                    if r.status.is_client_error() {
                        names_field(&r, req.dialect, &req.path, target.field)
                    } else {
                        Err("not refused".into())
                    }
                }
                Expect::RefusedOrEmpty => {
                    if r.status.is_client_error() {
                        names_field(&r, req.dialect, &req.path, target.field)
                    } else if r.status == StatusCode::OK && rows(&r) == Some(0) {
                        Ok(())
                    } else {
                        Err("neither refused nor an empty answer".into())
                    }
                }
                Expect::LikeUnknown => {
                    let unknown = uuid::Uuid::now_v7().to_string();
                    let u = w
                        .app
                        .send_as(&w.a_admin, &(target.build)(&w, &json!(unknown)))
                        .await;
                    let text = match p {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let norm = |a: &Answer, id: &str| (a.status, without_id(&a.json, id));
                    // A NUL is refused before any lookup, naming the parameter.
                    if text.contains('\0') {
                        if r.status.is_client_error() {
                            names_field(&r, req.dialect, &req.path, target.field)
                        } else {
                            Err("a NUL was not refused".into())
                        }
                    } else if norm(&r, &text) == norm(&u, &unknown)
                        || norm(&r, text.trim()) == norm(&u, &unknown)
                    {
                        Ok(())
                    } else {
                        Err(format!(
                            "answered unlike an unknown id: {} {}",
                            u.status, u.text
                        ))
                    }
                }
                Expect::RefusedOrUnfiltered => {
                    let b = baseline.as_ref().expect("baseline");
                    if r.status.is_client_error() {
                        names_field(&r, req.dialect, &req.path, target.field)
                    } else if r.status == b.status && r.json == b.json
                        || r.status == StatusCode::OK && rows(&r) == Some(0)
                    {
                        Ok(())
                    } else {
                        Err(format!(
                            "not the answer without it: {} {}",
                            b.status, b.text
                        ))
                    }
                }
            };
            if let Err(why) = verdict {
                failures.push(format!(
                    "{what}: {why}; got {} {}",
                    r.status,
                    r.text.chars().take(400).collect::<String>()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {tried} hostile values were mishandled:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        w.snapshots().await,
        before,
        "hostile values in list parameters changed stored data"
    );
    assert!(tried > 2000, "{tried}");
}
