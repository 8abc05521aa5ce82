//! `/v2/people`, `/v2/accounts`, `/v2/users` (and `{id}`): answers valid against Salesloft's own
//! Person, Account and User schemas, ids the history feed gives, filters, sorts, both paging
//! styles and counts, 422s naming the parameter, another tenant's (or another owner's) records
//! answered as unknown ids, and the cursor walk seeing every record once while writes go on.

use std::collections::{BTreeMap, BTreeSet};

use activity_hub::domain::Role;

use crate::harness::*;

/// Salesloft's schemas (tests/salesloft/vendor, extracted unchanged from its published OpenAPI
/// 3.0), as JSON Schema: every property may also be `null` (Salesloft answers null for what a
/// record lacks, and its 3.0 document never says `nullable`), and a User's `role.id` is a string
/// (Salesloft's role ids are "Admin", "User" or a custom role's id, as its Update User documents;
/// the schema's EmbeddedResource says integer).
fn vendor_validator(name: &str) -> jsonschema::Validator {
    let file: Value =
        serde_json::from_str(include_str!("vendor/schemas.json")).expect("vendor schemas");
    let mut schemas = file["components"]["schemas"].clone();
    let names: Vec<String> = schemas
        .as_object()
        .expect("schemas")
        .keys()
        .cloned()
        .collect();
    for n in &names {
        let Some(props) = schemas[n]["properties"].as_object_mut() else {
            continue;
        };
        for (_, p) in props.iter_mut() {
            relax(p);
        }
    }
    schemas["User"]["properties"]["role"] =
        json!({"type": ["object", "null"], "properties": {"id": {"type": "string"}}});
    let root = json!({"schemas": schemas, "$ref": format!("#/schemas/{name}")});
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .expect("schema")
}

/// A property that may also be null, its `$ref`s pointing into the extracted document.
fn relax(p: &mut Value) {
    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
        let target = r.replace("#/components/schemas/", "#/schemas/");
        *p = json!({"anyOf": [{"$ref": target}, {"type": "null"}]});
        return;
    }
    if let Some(items) = p.get_mut("items") {
        if let Some(r) = items.get("$ref").and_then(Value::as_str) {
            let target = r.replace("#/components/schemas/", "#/schemas/");
            *items = json!({"$ref": target});
        }
    }
    if let Some(t) = p.get("type").and_then(Value::as_str) {
        p["type"] = json!([t, "null"]);
    }
}

/// Asserts `record` is valid against Salesloft's `schema` and has every property it names.
#[track_caller]
fn check_record(schema: &str, record: &Value) {
    let v = vendor_validator(schema);
    let errors: Vec<String> = v
        .iter_errors(record)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema}: {errors:?}\n{record}");
    let file: Value =
        serde_json::from_str(include_str!("vendor/schemas.json")).expect("vendor schemas");
    let documented: BTreeSet<&String> = file["components"]["schemas"][schema]["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    let answered: BTreeSet<&String> = record.as_object().expect("object").keys().collect();
    assert_eq!(answered, documented, "{schema}: properties differ");
}

fn data(r: &Resp) -> Vec<Value> {
    r.json["data"].as_array().expect("data array").clone()
}

fn ids(r: &Resp) -> Vec<i64> {
    data(r)
        .iter()
        .map(|x| x["id"].as_i64().expect("id"))
        .collect()
}

#[track_caller]
fn ok(r: Resp, what: &str) -> Resp {
    assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.json);
    r
}

struct World {
    app: App,
    admin: Who,
    seller: Who,
    ada: Value,
    bob: Value,
    sams: Value,
    acme: Value,
}

/// A tenant with two leads of the Administrator (one with phone, title, company and a custom
/// field, opted out of calls), one of a Sales_User, an account, and activities on a lead and the
/// account.
async fn world() -> World {
    let app = App::start(false).await;
    let admin = app.tenant("Acme").await;
    let seller = app.user(&admin, "sam@acme.example", Role::SalesUser).await;
    let r = app
        .post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com",
                   "phone": "+1 555 0100", "do_not_call": true,
                   "attributes": {"JobTitle": "Engineer", "Company": "Analytical", "mx_Tier": "gold"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let ada = r.json["data"].clone();
    let bob = app.lead(&admin, "Bob", "bob@example.com").await;
    let r = app
        .post(
            &admin,
            "/api/v1/leads",
            json!({"first_name": "Sams", "email": "sams@example.com", "owner_guid": seller.guid()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let sams = r.json["data"].clone();
    let acme = app.account(&admin, "Acme Rockets").await;
    World {
        app,
        admin,
        seller,
        ada,
        bob,
        sams,
        acme,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_follow_salesloft_schemas_and_the_feeds_ids() {
    let w = world().await;
    let app = &w.app;
    let ada_guid = w.ada["guid"].as_str().expect("guid");
    let acts = app
        .activities(
            &w.admin,
            vec![
                on_person(ada_guid, "call", "2024-01-01T00:00:00Z"),
                json!({"type": "note", "resource": {"type": "account", "id": w.acme["guid"]}}),
            ],
        )
        .await;
    let feed = app.histories(&w.admin, "sort_direction=asc").await;
    let resource = |sl: &str| {
        feed["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|a| a["id"] == json!(sl))
            .map(|a| a["resource_id"].clone())
            .expect("in the feed")
    };
    let person_id = resource(acts[0]["salesloft_id"].as_str().expect("sl id"));
    let account_id = resource(acts[1]["salesloft_id"].as_str().expect("sl id"));

    // The person the feed points at, by that id, and in the list.
    let r = ok(
        app.get(&w.admin, &format!("/v2/people/{person_id}")).await,
        "person",
    );
    let p = &r.json["data"];
    check_record("Person", p);
    assert_eq!(p["id"], person_id);
    assert_eq!(p["display_name"], "Ada Lovelace");
    assert_eq!(p["email_address"], "Ada@Example.com");
    assert_eq!(p["full_email_address"], "Ada Lovelace <Ada@Example.com>");
    assert_eq!(p["phone"], "+1 555 0100");
    assert_eq!(p["title"], "Engineer");
    assert_eq!(p["person_company_name"], "Analytical");
    assert_eq!(p["custom_fields"], json!({"mx_Tier": "gold"}));
    assert_eq!(p["contact_restrictions"], json!(["call"]));
    assert_eq!(p["do_not_contact"], false);
    assert_eq!(p["owner"], json!({"id": w.admin.user.id}));
    assert_eq!(p["account"], Value::Null);
    let list = ok(app.get(&w.admin, "/v2/people").await, "people");
    assert_eq!(list.json["data"].as_array().map(Vec::len), Some(3));
    for p in data(&list) {
        check_record("Person", &p);
    }

    let r = ok(
        app.get(&w.admin, &format!("/v2/accounts/{account_id}"))
            .await,
        "account",
    );
    check_record("Account", &r.json["data"]);
    assert_eq!(r.json["data"]["id"], account_id);
    assert_eq!(r.json["data"]["name"], "Acme Rockets");
    for a in data(&ok(app.get(&w.admin, "/v2/accounts").await, "accounts")) {
        check_record("Account", &a);
    }

    let users = ok(app.get(&w.admin, "/v2/users").await, "users");
    assert_eq!(ids(&users), vec![w.seller.user.id, w.admin.user.id]);
    for u in data(&users) {
        check_record("User", &u);
    }
    let r = ok(
        app.get(&w.seller, &format!("/v2/users/{}", w.admin.user.id))
            .await,
        "user",
    );
    let u = &r.json["data"];
    check_record("User", u);
    assert_eq!(u["guid"], json!(w.admin.user.guid));
    assert_eq!(u["email"], json!(w.admin.user.email));
    assert_eq!(u["role"], json!({"id": "Administrator"}));
    assert_eq!(u["team_admin"], true);
    assert_eq!(u["active"], true);
    // Every answer carries the rate headers.
    for h in ["x-ratelimit-endpoint-cost", "x-ratelimit-remaining-minute"] {
        assert!(r.header(h).is_some(), "{h}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_sorts_paging_and_counts() {
    let w = world().await;
    let app = &w.app;
    let id = |v: &Value| v["id"].as_i64().expect("id");
    let (ada, bob, sams) = (id(&w.ada), id(&w.bob), id(&w.sams));
    let people = |q: String| {
        let admin = &w.admin;
        async move { ok(app.get(admin, &format!("/v2/people?{q}")).await, "people") }
    };
    // Newest update first by default; ascending on request; created_at too.
    assert_eq!(ids(&people(String::new()).await), vec![sams, bob, ada]);
    let asc = people("sort_by=updated_at&sort_direction=asc".into()).await;
    assert_eq!(ids(&asc), vec![ada, bob, sams]);
    assert_eq!(
        asc.json["metadata"]["sorting"],
        json!({"sort_by": "updated_at", "sort_direction": "ASC"})
    );
    assert_eq!(
        ids(&people("sort=created_at&sort_direction=ASC".into()).await),
        vec![ada, bob, sams]
    );
    // Filters, each array form.
    for (q, want) in [
        ("email_addresses[]=ada@example.com".to_string(), vec![ada]),
        (
            "email_addresses=BOB@example.com,nobody@x.io".into(),
            vec![bob],
        ),
        (format!("ids[]={ada}&ids[]={sams}"), vec![sams, ada]),
        (
            format!("ids={ada},{bob}&email_addresses=bob@example.com"),
            vec![bob],
        ),
        (format!("owned_by_guid={}", w.seller.guid()), vec![sams]),
        (format!("owner_id[]={}", w.admin.user.id), vec![bob, ada]),
        ("can_call=false".into(), vec![ada]),
        ("can_call=true".into(), vec![sams, bob]),
        ("phone_number=true".into(), vec![ada]),
        ("do_not_contact=true".into(), vec![]),
        ("account_id=5".into(), vec![]),
        ("crm_id=_is_null".into(), vec![sams, bob, ada]),
        (format!("owned_by_guid={}", uuid::Uuid::now_v7()), vec![]),
    ] {
        assert_eq!(ids(&people(q.clone()).await), want, "{q}");
    }
    // Time bounds: updated after Ada's, before Sams's.
    let asc = data(&asc);
    let stamp = |i: usize| enc(asc[i]["updated_at"].as_str().expect("updated_at"));
    assert_eq!(
        ids(&people(format!(
            "updated_at[gt]={}&updated_at[lt]={}",
            stamp(0),
            stamp(2)
        ))
        .await),
        vec![bob]
    );
    // Offset paging with counts, and the page past the end.
    let p1 = people("per_page=2&include_paging_counts=true".into()).await;
    assert_eq!(ids(&p1), vec![sams, bob]);
    assert_eq!(
        p1.json["metadata"]["paging"],
        json!({"per_page": 2, "current_page": 1, "next_page": 2, "prev_page": null,
               "total_pages": 2, "total_count": 3})
    );
    let p2 = people("per_page=2&page=2".into()).await;
    assert_eq!(ids(&p2), vec![ada]);
    assert_eq!(p2.json["metadata"]["paging"]["next_page"], Value::Null);
    assert!(ids(&people("per_page=2&page=3".into()).await).is_empty());
    let capped =
        people("include_paging_counts=true&limit_paging_counts=true&can_call=true".into()).await;
    assert_eq!(capped.json["metadata"]["paging"]["total_count"], 2);
    assert_eq!(
        capped.json["metadata"]["filtering"],
        json!({"can_call": true})
    );

    // Deep pages cost what Salesloft's Rate Limits page charges, on these lists too.
    for (page, cost) in [(1, "1"), (101, "3"), (151, "8"), (251, "10"), (501, "30")] {
        for path in ["/v2/people", "/v2/accounts", "/v2/users"] {
            let r = ok(
                app.get(&w.admin, &format!("{path}?page={page}")).await,
                path,
            );
            assert_eq!(
                r.header("x-ratelimit-endpoint-cost").as_deref(),
                Some(cost),
                "{path} page {page}"
            );
        }
    }

    // A Sales_User sees its own leads only, whatever it asks for.
    let r = ok(
        app.get(&w.seller, "/v2/people?include_paging_counts=true")
            .await,
        "seller",
    );
    assert_eq!(ids(&r), vec![sams]);
    assert_eq!(r.json["metadata"]["paging"]["total_count"], 1);
    let r = ok(
        app.get(&w.seller, &format!("/v2/people?ids={ada},{sams}"))
            .await,
        "seller",
    );
    assert_eq!(ids(&r), vec![sams]);

    // Accounts: name, domain, sort by name, archived.
    let globex = app.account(&w.admin, "globex").await;
    let r = app
        .post(
            &w.admin,
            "/api/v1/accounts",
            json!({"name": "Beta Corp", "domain": "Beta.example"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let (acme, glob, beta) = (id(&w.acme), id(&globex), id(&r.json["data"]));
    for (q, want) in [
        ("", vec![beta, glob, acme]),
        ("sort_by=name&sort_direction=asc", vec![acme, beta, glob]),
        (
            "sort_by=created_at&sort_direction=asc",
            vec![acme, glob, beta],
        ),
        ("name=globex", vec![glob]),
        ("name[]=Globex", vec![]),
        ("domain=beta.EXAMPLE", vec![beta]),
        ("archived=true", vec![]),
        ("archived=false&per_page=1", vec![beta]),
    ] {
        let r = ok(app.get(&w.seller, &format!("/v2/accounts?{q}")).await, q);
        assert_eq!(ids(&r), want, "{q}");
    }

    // Users: roles, activity, guid, sort by email.
    let (a, s) = (w.admin.user.id, w.seller.user.id);
    for (q, want) in [
        ("".to_string(), vec![s, a]),
        ("sort_direction=asc".into(), vec![a, s]),
        ("sort_by=email&sort_direction=asc".into(), vec![a, s]),
        ("role_id=Sales_User".into(), vec![s]),
        ("active=false".into(), vec![]),
        (format!("guid={}", w.admin.guid()), vec![a]),
        (format!("guid={}&ids={s}", w.admin.guid()), vec![]),
        (
            "per_page=1&page=2&include_paging_counts=true".into(),
            vec![a],
        ),
    ] {
        let r = ok(app.get(&w.admin, &format!("/v2/users?{q}")).await, &q);
        assert_eq!(ids(&r), want, "{q}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_get_salesloft_422s_naming_them() {
    let w = world().await;
    let app = &w.app;
    for (path, names) in [
        (
            "/v2/people?per_page=0&page=0&sort_by=title&sort_direction=up&ids=abc&owner_id=-1&updated_at[gt]=soon&created_at[after]=2020-01-01&can_email=maybe",
            &["per_page", "page", "sort_by", "sort_direction", "ids", "owner_id", "updated_at", "created_at", "can_email"][..],
        ),
        (
            "/v2/accounts?per_page=101&sort=counts_people&owner_id=x&archived=yes&include_paging_counts=1",
            &["per_page", "sort", "owner_id", "archived", "include_paging_counts"][..],
        ),
        (
            "/v2/users?sort_by=group&role_id=Admin&active=2&ids=1.5&visible_only=no",
            &["sort_by", "role_id", "active", "ids", "visible_only"][..],
        ),
        ("/v2/people?email_addresses=a%00b", &["email_addresses"][..]),
    ] {
        let before = app.get(&w.admin, "/v2/people").await.json;
        let r = app.get(&w.admin, path).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.json);
        let errors = r.json["errors"].as_object().expect("errors object");
        let named: BTreeSet<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(named, names.iter().copied().collect(), "{path}: {}", r.json);
        for (k, msgs) in errors {
            assert!(
                msgs.as_array().is_some_and(|m| !m.is_empty() && m.iter().all(Value::is_string)),
                "{path} {k}: {msgs}"
            );
        }
        assert!(r.header("x-ratelimit-endpoint-cost").is_some(), "{path}");
        assert_eq!(app.get(&w.admin, "/v2/people").await.json, before);
    }
    // Unknown parameter names are ignored, as Salesloft does.
    let r = ok(
        app.get(&w.admin, "/v2/people?bogus=1&_query=x").await,
        "ignored",
    );
    assert_eq!(ids(&r).len(), 3);
    // A path that is not an id is an unknown record; no token is a 401.
    for path in [
        "/v2/people/abc",
        "/v2/accounts/0",
        "/v2/users/-3",
        "/v2/people/99999999999",
    ] {
        let r = app.get(&w.admin, path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.json, json!({"error": "Not Found"}), "{path}");
    }
    let r = app.get_raw("/v2/users", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json,
        json!({"error": "No Bearer Token attached to request"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_tenants_and_unowned_records_answer_as_unknown_ids() {
    let w = world().await;
    let app = &w.app;
    let other = app.tenant("Initech").await;
    let their_lead = app.lead(&other, "Olga", "olga@example.com").await;
    let their_account = app.account(&other, "Initech Inc").await;
    let unknown = 900_000_000i64;
    let same = |a: &Resp, b: &Resp| {
        assert_eq!((a.status, &a.json), (b.status, &b.json));
    };
    for (path, foreign) in [
        ("/v2/people", their_lead["id"].as_i64().expect("id")),
        ("/v2/accounts", their_account["id"].as_i64().expect("id")),
        ("/v2/users", other.user.id),
    ] {
        let rf = app.get(&w.admin, &format!("{path}/{foreign}")).await;
        let ru = app.get(&w.admin, &format!("{path}/{unknown}")).await;
        assert_eq!(rf.status, StatusCode::NOT_FOUND, "{path}");
        same(&rf, &ru);
        let rf = app.get(&w.admin, &format!("{path}?ids={foreign}")).await;
        assert!(data(&rf).is_empty(), "{path}");
        let mine = app.get(&other, &format!("{path}/{foreign}")).await;
        assert_eq!(mine.status, StatusCode::OK, "{path}: the owner sees it");
    }
    // The lists never hold the other tenant's records, and count only the caller's.
    for (path, n) in [("/v2/people", 3), ("/v2/accounts", 1), ("/v2/users", 2)] {
        let r = ok(
            app.get(&w.admin, &format!("{path}?include_paging_counts=true"))
                .await,
            path,
        );
        assert_eq!(r.json["metadata"]["paging"]["total_count"], n, "{path}");
        assert_eq!(data(&r).len(), n, "{path}");
    }
    let r = app
        .get(
            &w.admin,
            &format!("/v2/people?owned_by_guid={}", other.guid()),
        )
        .await;
    assert!(data(&r).is_empty());
    // A Sales_User's view of a lead it does not own is an unknown id's, as in the feed.
    let ada = w.ada["id"].as_i64().expect("id");
    let rf = app.get(&w.seller, &format!("/v2/people/{ada}")).await;
    let ru = app.get(&w.seller, &format!("/v2/people/{unknown}")).await;
    assert_eq!(rf.status, StatusCode::NOT_FOUND);
    same(&rf, &ru);
    let own = w.sams["id"].as_i64().expect("id");
    ok(
        app.get(&w.seller, &format!("/v2/people/{own}")).await,
        "own",
    );
    // A deleted lead is no person any more.
    let r = app
        .call(
            &w.admin,
            "DELETE",
            &format!("/api/v1/leads/{}", w.bob["guid"].as_str().expect("guid")),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    let bob = w.bob["id"].as_i64().expect("id");
    let r = app.get(&w.admin, &format!("/v2/people/{bob}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Walks `path` by cursor (`updated_at[gt]` = the last updated_at seen, ascending, 7 a page) from
/// the start until a page comes back empty; returns every (id, updated_at) seen, in order.
async fn walk(
    app: &App,
    who: &Who,
    path: &str,
    from: &str,
    seen: &mut Vec<(i64, String)>,
) -> String {
    let mut cursor = from.to_string();
    loop {
        let q = format!(
            "{path}?sort_by=updated_at&sort_direction=asc&per_page=7&updated_at[gt]={}",
            enc(&cursor)
        );
        let r = ok(app.get(who, &q).await, &q);
        let rows = data(&r);
        if rows.is_empty() {
            return cursor;
        }
        for row in rows {
            let at = row["updated_at"].as_str().expect("updated_at").to_string();
            assert!(at > cursor, "{path}: {at} after the cursor {cursor}");
            cursor = at.clone();
            seen.push((row["id"].as_i64().expect("id"), at));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_walks_see_every_record_once_while_others_write() {
    let w = world().await;
    let app = &w.app;
    let writer = Writer::of(app, &w.admin);
    let tenant_guid = w.admin.user.tenant_guid.to_string();
    let service = app.service.clone();
    // Another client writes people (creates and updates), accounts and users meanwhile.
    let task = tokio::spawn(async move {
        for i in 0..40 {
            let (s, lead) = writer
                .send(
                    "POST",
                    "/api/v1/leads",
                    Some(json!({"first_name": format!("W{i}"), "email": format!("w{i}@example.com")})),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{lead}");
            if i % 3 == 0 {
                let guid = lead["data"]["guid"].as_str().expect("guid").to_string();
                let url = format!(
                    "{}/v2/LeadManagement.svc/Lead.Update?leadId={guid}&accessKey={}&secretKey={}",
                    writer.base,
                    writer.who.keys.access_key.replace('$', "%24"),
                    writer.who.keys.secret_key
                );
                let r = writer
                    .client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(
                        json!([{"Attribute": "LastName", "Value": format!("Updated{i}")}])
                            .to_string(),
                    )
                    .send()
                    .await
                    .expect("update");
                assert!(r.status().is_success());
            }
            if i % 2 == 0 {
                let (s, body) = writer
                    .send(
                        "POST",
                        "/api/v1/accounts",
                        Some(json!({"name": format!("Acct {i}")})),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{body}");
                service
                    .create_user(
                        &tenant_guid,
                        &format!("u{i}@acme.example"),
                        "U",
                        "Ser",
                        Role::SalesUser,
                    )
                    .await
                    .expect("user");
            }
        }
    });
    let start = "2000-01-01T00:00:00.000000Z";
    let mut seen: BTreeMap<&str, Vec<(i64, String)>> = BTreeMap::new();
    let mut cursors: BTreeMap<&str, String> = BTreeMap::new();
    let paths = ["/v2/people", "/v2/accounts", "/v2/users"];
    // Walk repeatedly while the writer runs, each walk resuming from its cursor.
    while !task.is_finished() {
        for path in paths {
            let from = cursors
                .get(path)
                .cloned()
                .unwrap_or_else(|| start.to_string());
            let to = walk(app, &w.admin, path, &from, seen.entry(path).or_default()).await;
            cursors.insert(path, to);
        }
    }
    task.await.expect("writer");
    for path in paths {
        let from = cursors
            .get(path)
            .cloned()
            .unwrap_or_else(|| start.to_string());
        walk(app, &w.admin, path, &from, seen.entry(path).or_default()).await;
        let got = &seen[path];
        // No version of a record twice; every record's last version seen is its current one.
        let versions: BTreeSet<&(i64, String)> = got.iter().collect();
        assert_eq!(versions.len(), got.len(), "{path}: a version seen twice");
        let mut last: BTreeMap<i64, &String> = BTreeMap::new();
        for (id, at) in got {
            last.insert(*id, at);
        }
        let now = ok(
            app.get(
                &w.admin,
                &format!("{path}?per_page=100&sort_direction=asc&sort_by=updated_at"),
            )
            .await,
            path,
        );
        let current: BTreeMap<i64, String> = data(&now)
            .iter()
            .map(|r| {
                (
                    r["id"].as_i64().expect("id"),
                    r["updated_at"].as_str().expect("at").to_string(),
                )
            })
            .collect();
        let last: BTreeMap<i64, String> = last.into_iter().map(|(k, v)| (k, v.clone())).collect();
        assert_eq!(last, current, "{path}: the walk missed records or versions");
    }
    assert_eq!(
        seen["/v2/people"]
            .iter()
            .map(|(i, _)| i)
            .collect::<BTreeSet<_>>()
            .len(),
        43
    );
    assert_eq!(seen["/v2/accounts"].len(), 21);
    assert_eq!(seen["/v2/users"].len(), 22);
}
