//! Index coverage: the query plans of the main `/v2/activity_histories` shapes, of the activity
//! resources' (`/v2/activities/calls`, `/v2/notes`, …) and of LeadSquared's Retrieve of a lead, on
//! a large tenant (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL), for the exact
//! statements the store runs. Ignored by default (it loads ACTIVITY_HUB_PLAN_ROWS rows, 200,000
//! unless set): `cargo test --test salesloft plans -- --ignored --nocapture`;
//! ACTIVITY_HUB_PLAN_OUT=FILE appends the plans to FILE. It fails when a page is found by scanning
//! the tenant's activities (a table scan, or a sort of every matching row), or a lead's page or
//! count through an index that is not led by the lead.

use std::io::Write;

use activity_hub::api::salesloft::query::{parse_list, parse_raw};
use activity_hub::api::salesloft::streams::{
    parse_stream, Stream, CALLS, CRM_ACTIVITIES, EMAILS, MEETINGS, NOTES,
};
use activity_hub::domain::Role;
use activity_hub::store;

use crate::harness::*;

/// Pins one activity in 50 (the statistics then look like a tenant that uses pins).
const PIN_SOME: &str = "UPDATE activities SET pinned_at = occurred_at WHERE id % 50 = 0";

/// SQLite plan lines (indented by depth) for `sql` with `args`.
fn sqlite_plan(path: &str, sql: &str, args: &[rusqlite::types::Value]) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).expect("open sqlite");
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("prepare explain");
    let rows: Vec<(i64, i64, String)> = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(3)?))
        })
        .expect("explain")
        .collect::<Result<_, _>>()
        .expect("plan rows");
    let mut depth = std::collections::HashMap::new();
    rows.iter()
        .map(|(id, parent, detail)| {
            let d = depth.get(parent).map_or(0, |d| d + 1);
            depth.insert(*id, d);
            format!("{}{detail}", "  ".repeat(d))
        })
        .collect()
}

/// PostgreSQL `EXPLAIN` lines for `sql` with `args`.
async fn pg_plan(
    url: &str,
    sql: &str,
    args: &[Box<dyn tokio_postgres::types::ToSql + Sync + Send>],
) -> Vec<String> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let task = tokio::spawn(conn);
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
        .iter()
        .map(|b| b.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    let rows = client
        .query(&format!("EXPLAIN {sql}"), &refs)
        .await
        .expect("explain");
    drop(client);
    let _ = task.await;
    rows.iter().map(|r| r.get::<_, String>(0)).collect()
}

/// What makes a plan read every matching row of the tenant to return one page. A page of several
/// types merges per-type arms that each read at most offset+limit rows in index order; sorting
/// that merged handful once, at the top of the plan, is allowed — a sort inside an arm is not.
fn page_scan_problem(plan: &[String], pg: bool) -> Option<String> {
    let merged = if pg {
        plan.iter().any(|l| l.contains("Append"))
    } else {
        plan.iter().any(|l| l.contains("UNION ALL"))
    };
    for (i, line) in plan.iter().enumerate() {
        let l = line.trim();
        if merged && pg {
            // The top sort (child of the root Limit), or an arm's sort of one type's rows found
            // through the type index — PostgreSQL picks that only when its statistics say the
            // type has fewer rows than the arm's limit.
            let sorts_one_type = plan
                .get(i + 2)
                .is_some_and(|n| n.contains("Index Scan using activities_sl_"));
            if l.starts_with("Sort Key:")
                || (line.starts_with("    ->  Sort ") || sorts_one_type) && l.contains("Sort ")
            {
                continue;
            }
        }
        if merged && !pg && line == "USE TEMP B-TREE FOR ORDER BY" {
            continue;
        }
        let bad = if pg {
            l.contains("Seq Scan on activities") || l.starts_with("Sort ") || l.contains("-> Sort ")
        } else {
            (l.starts_with("SCAN a") && !l.contains("INDEX"))
                || l.contains("USE TEMP B-TREE FOR ORDER BY")
        };
        if bad {
            return Some(l.to_string());
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "loads a large tenant and prints query plans; run with --ignored --nocapture"]
async fn plans_of_the_main_shapes() {
    let rows: usize = std::env::var("ACTIVITY_HUB_PLAN_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let app = App::start(false).await;
    let admin = app.tenant("Planco").await;
    let seller = app
        .user(&admin, "sel@planco.example", Role::SalesUser)
        .await;
    let manager = app
        .user(&admin, "man@planco.example", Role::SalesManager)
        .await;
    // A Sales_User owning 1% of the leads, whose activities are the tenant's oldest: walking the
    // tenant's date index to find them would read every newer activity first.
    let rare_seller = app
        .user(&admin, "rare@planco.example", Role::SalesUser)
        .await;
    let mut leads = Vec::new();
    for i in 0..100 {
        let owner = match i {
            99 => &rare_seller,
            i if i % 10 == 0 => &seller,
            _ => &admin,
        };
        let l = app.lead(owner, "L", &format!("l{i}@planco.example")).await;
        leads.push(l["id"].as_i64().unwrap());
    }
    let types = ["call", "note", "sent_email", "meeting"];
    let chunk = rows / leads.len();
    let n = rows as i64;
    for (c, lead) in leads.iter().enumerate().take(99) {
        let who = match c {
            c if c % 10 == 0 => &seller,
            c if c % 3 == 0 => &manager,
            _ => &admin,
        };
        app.seed(who, *lead, types[c % 4], chunk, move |k| {
            1_600_000_000_000_000 + ((k as i64 * 100 + c as i64) * 7919 % n) * 1_000_000
        })
        .await;
    }
    app.seed(&rare_seller, leads[99], "call", chunk, |k| {
        1_500_000_000_000_000 + k as i64 * 1_000_000
    })
    .await;
    // Two rare types (a few dozen rows each, older than everything else) for the multi-type shape.
    for (i, ty) in ["voicemail", "task"].iter().enumerate() {
        app.seed(&admin, leads[1], ty, 40, move |k| {
            1_400_000_000_000_000 + (k as i64 * 2 + i as i64) * 1_000_000
        })
        .await;
    }
    // A second tenant, so that every plan has to separate tenants.
    let other = app.tenant("Otherplan").await;
    let ol = app.lead(&other, "O", "o@other.example").await;
    app.seed(&other, ol["id"].as_i64().unwrap(), "call", 5_000, |k| {
        1_600_000_000_000_000 + k as i64
    })
    .await;

    let pg = on_postgres();
    let sqlite_path = app.db_url.strip_prefix("sqlite://").map(str::to_string);
    if pg {
        let (client, conn) = tokio_postgres::connect(&app.db_url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let task = tokio::spawn(conn);
        client.batch_execute(PIN_SOME).await.expect("pin");
        client.batch_execute("ANALYZE").await.expect("analyze");
        drop(client);
        let _ = task.await;
    } else if let Some(p) = &sqlite_path {
        let conn = rusqlite::Connection::open(p).expect("open");
        conn.execute_batch(PIN_SOME).expect("pin");
        conn.execute_batch("ANALYZE").expect("analyze");
    }

    let mid = "2021-01-01T00:00:00Z";
    let shapes: Vec<(&str, String, &Who)> = vec![
        (
            "no filter (default: occurred_at DESC)",
            String::new(),
            &admin,
        ),
        ("type filter", "type=call".into(), &admin),
        (
            "type filter, two types",
            "type[]=call&type[]=note".into(),
            &admin,
        ),
        ("type per resource", "type[person][]=call".into(), &admin),
        (
            "resource filter",
            format!("resource_type=person&resource_id={}", leads[7]),
            &admin,
        ),
        (
            "resource filter + type, by updated_at",
            format!(
                "resource_type=person&resource_id={}&type=meeting&sort_by=updated_at",
                leads[7]
            ),
            &admin,
        ),
        (
            "updated_at[gt] cursor ASC",
            format!("sort_by=updated_at&sort_direction=asc&updated_at[gt]={mid}&per_page=100"),
            &admin,
        ),
        (
            "occurred_at DESC with bounds",
            format!("sort_by=occurred_at&sort_direction=desc&occurred_at[lt]={mid}"),
            &admin,
        ),
        (
            "user_guid filter",
            format!("user_guid={}", manager.user.guid),
            &admin,
        ),
        ("pinned=true", "pinned=true".into(), &admin),
        ("Sales_User (own leads only)", String::new(), &seller),
        (
            "Sales_User owning 1% of the leads",
            String::new(),
            &rare_seller,
        ),
        (
            "Sales_User owning 1% of the leads, by updated_at",
            "sort_by=updated_at".into(),
            &rare_seller,
        ),
        (
            "two rare types",
            "type[]=voicemail&type[]=task".into(),
            &admin,
        ),
        (
            "two rare types per resource, by updated_at ASC",
            "type[person][]=voicemail&type[person][]=task&sort_by=updated_at&sort_direction=asc"
                .into(),
            &admin,
        ),
        (
            "two rare types, page 2",
            "type[]=voicemail&type[]=task&page=2".into(),
            &admin,
        ),
        ("deep page (page=200)", "page=200".into(), &admin),
        ("counts, exact", "include_paging_counts=true".into(), &admin),
        (
            "counts, limit_paging_counts",
            "include_paging_counts=true&limit_paging_counts=true".into(),
            &admin,
        ),
        (
            "counts with type filter, limit_paging_counts",
            "type=call&include_paging_counts=true&limit_paging_counts=true".into(),
            &admin,
        ),
    ];

    let mut out = format!(
        "=== {} — {} activities in the tenant (+5,000 in another) ===\n",
        if pg {
            "PostgreSQL EXPLAIN"
        } else {
            "SQLite EXPLAIN QUERY PLAN"
        },
        chunk * leads.len()
    );
    let mut queries = Vec::new();
    for (name, q, who) in &shapes {
        let req =
            parse_list(&parse_raw(Some(q))).unwrap_or_else(|e| panic!("{q}: {:?}", e.to_json()));
        let query = app
            .service
            .history_query(&who.user, req.filter)
            .await
            .expect("history query");
        queries.push((
            name.to_string(),
            format!("GET /v2/activity_histories?{q}"),
            query,
        ));
    }
    // The activity resources: each a one-type (or all-activities) view with its own sort keys.
    let person = leads[4];
    let note_lead = leads[1];
    let stream_shapes: Vec<(&str, &Stream, &str, String, &Who)> = vec![
        (
            "calls, default (updated_at DESC)",
            &CALLS,
            "/v2/activities/calls",
            String::new(),
            &admin,
        ),
        (
            "calls, updated_at[gt] cursor ASC",
            &CALLS,
            "/v2/activities/calls",
            format!("sort_by=updated_at&sort_direction=asc&updated_at[gt]={mid}&per_page=100"),
            &admin,
        ),
        (
            "calls, by created_at",
            &CALLS,
            "/v2/activities/calls",
            "sort_by=created_at".into(),
            &admin,
        ),
        (
            "calls of a person",
            &CALLS,
            "/v2/activities/calls",
            format!("person_id={person}"),
            &admin,
        ),
        (
            "calls, counts limited",
            &CALLS,
            "/v2/activities/calls",
            "include_paging_counts=true&limit_paging_counts=true".into(),
            &admin,
        ),
        (
            "calls, Sales_User",
            &CALLS,
            "/v2/activities/calls",
            String::new(),
            &seller,
        ),
        (
            "emails by send_time with sent_at bounds",
            &EMAILS,
            "/v2/activities/emails",
            format!("sort_by=send_time&sent_at[lt]={mid}"),
            &admin,
        ),
        (
            "emails, updated_at[gt] cursor ASC",
            &EMAILS,
            "/v2/activities/emails",
            format!("sort_by=updated_at&sort_direction=asc&updated_at[gt]={mid}"),
            &admin,
        ),
        ("notes, default", &NOTES, "/v2/notes", String::new(), &admin),
        (
            "notes of a person",
            &NOTES,
            "/v2/notes",
            format!("associated_with_type=person&associated_with_id={note_lead}"),
            &admin,
        ),
        (
            "meetings, default (start_time DESC)",
            &MEETINGS,
            "/v2/meetings",
            String::new(),
            &admin,
        ),
        (
            "meetings, updated_at[gt] cursor ASC",
            &MEETINGS,
            "/v2/meetings",
            format!("sort_by=updated_at&sort_direction=asc&updated_at[gt]={mid}"),
            &admin,
        ),
        (
            "crm_activities, default (updated_at DESC)",
            &CRM_ACTIVITIES,
            "/v2/crm_activities",
            String::new(),
            &admin,
        ),
        (
            "crm_activities, updated_at[gt] cursor ASC",
            &CRM_ACTIVITIES,
            "/v2/crm_activities",
            format!("sort_by=updated_at&sort_direction=asc&updated_at[gt]={mid}&per_page=100"),
            &admin,
        ),
        (
            "notes, by created_at ASC",
            &NOTES,
            "/v2/notes",
            "sort_by=created_at&sort_direction=asc".into(),
            &admin,
        ),
        (
            "crm_activities, Sales_User owning 1% of the leads",
            &CRM_ACTIVITIES,
            "/v2/crm_activities",
            String::new(),
            &rare_seller,
        ),
    ];
    for (name, stream, path, q, who) in &stream_shapes {
        let (req, _) = parse_stream(&parse_raw(Some(q)), stream)
            .unwrap_or_else(|e| panic!("{q}: {:?}", e.to_json()));
        let query = app
            .service
            .stream_query(&who.user, stream.scope, req.filter)
            .await
            .expect("stream query");
        queries.push((name.to_string(), format!("GET {path}?{q}"), query));
    }

    // LeadSquared's Retrieve of one lead, with and without `ActivityEvent`: each page and count
    // reads the lead's own entries of an index led by the lead (`activities_lead_occurred` in time
    // order, or `activities_lead_event` when the event code is given).
    let note_code = app
        .service
        .store()
        .list_activity_types(admin.user.tenant_id)
        .await
        .expect("types")
        .into_iter()
        .find(|t| t.salesloft_type == "note" && t.event_code < 200)
        .expect("note type")
        .event_code;
    let lead_query = |event_codes: Vec<i64>| activity_hub::domain::ActivityQuery {
        lead_id: Some(note_lead),
        records: activity_hub::domain::RecordKind::Activities,
        event_codes,
        limit: 26,
        ..activity_hub::domain::ActivityQuery::new(admin.user.tenant_id)
    };
    let lead_shapes = [
        ("LeadSquared Retrieve of a lead", lead_query(Vec::new())),
        (
            "LeadSquared Retrieve of a lead, ActivityEvent",
            lead_query(vec![note_code]),
        ),
    ];
    let lead_shape_names: Vec<String> = lead_shapes.iter().map(|(n, _)| n.to_string()).collect();
    for (name, query) in lead_shapes {
        let url =
            format!("POST /v2/ProspectActivity.svc/Retrieve?leadId=<the GUID of lead {note_lead}>");
        queries.push((name.to_string(), url, query));
    }

    let mut problems = Vec::new();
    for (name, url, query) in &queries {
        out.push_str(&format!("\n--- {name}: {url}\n"));
        let (page, count) = if pg {
            let (sql, args) = store::postgres::activity_page_sql(query);
            let page = pg_plan(&app.db_url, &sql, &args).await;
            let count = match store::postgres::activity_count_sql(query) {
                Some((sql, args)) => Some(pg_plan(&app.db_url, &sql, &args).await),
                None => None,
            };
            (page, count)
        } else {
            let path = sqlite_path.as_deref().expect("sqlite path");
            let (sql, args) = store::sqlite::activity_page_sql(query);
            let page = sqlite_plan(path, &sql, &args);
            let count = store::sqlite::activity_count_sql(query)
                .map(|(sql, args)| sqlite_plan(path, &sql, &args));
            (page, count)
        };
        // Wall-clock median of five list_activities calls (page + count) through the store; printed
        // for comparison only (speed is judged in benchmarks, not asserted here).
        let mut times = Vec::new();
        let mut first_ids = None;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            let page = app
                .service
                .store()
                .list_activities(query)
                .await
                .expect("list");
            times.push(t.elapsed());
            first_ids.get_or_insert(page.rows.len());
        }
        times.sort();
        out.push_str(&format!(
            "time: {:.2} ms median of 5 ({} rows)\n",
            times[2].as_secs_f64() * 1000.0,
            first_ids.unwrap_or(0)
        ));
        out.push_str("page:\n");
        for l in &page {
            out.push_str(&format!("  {l}\n"));
        }
        if let Some(c) = &count {
            out.push_str("count:\n");
            for l in c {
                out.push_str(&format!("  {l}\n"));
            }
        }
        if let Some(p) = page_scan_problem(&page, pg) {
            problems.push(format!("{name}: {p}"));
        }
        // A lead's page found through an index that is not led by the lead (the tenant's date
        // index, filtered) would read the tenant's newer activities first without a sort to show.
        // Every `activities_lead_*` index is led by (tenant_id, lead_id).
        if lead_shape_names.contains(name) {
            for (what, plan) in [("page", Some(&page)), ("count", count.as_ref())] {
                if let Some(plan) = plan {
                    if !plan.iter().any(|l| l.contains("activities_lead_")) {
                        problems.push(format!(
                            "{name}: the {what} is not found by the lead's index"
                        ));
                    }
                }
            }
        }
    }
    println!("{out}");
    if let Ok(path) = std::env::var("ACTIVITY_HUB_PLAN_OUT") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("plan output file");
        f.write_all(out.as_bytes()).expect("write plans");
    }
    assert!(
        problems.is_empty(),
        "pages found by scanning: {problems:#?}"
    );
}

/// What makes a people, accounts or users page read every row of the tenant: a table scan of the
/// listed table (`table`, aliased `alias`), or a sort of every matching row. `narrow` shapes (an
/// id or email list) find their few rows by index and may sort them.
fn directory_scan_problem(
    plan: &[String],
    pg: bool,
    (table, alias): (&str, &str),
    narrow: bool,
) -> Option<String> {
    plan.iter().map(|l| l.trim()).find_map(|l| {
        let bad = if pg {
            l.contains(&format!("Seq Scan on {table} "))
                || (!narrow && (l.starts_with("Sort ") || l.contains("-> Sort ")))
        } else {
            (l.starts_with(&format!("SCAN {alias}")) && !l.contains("INDEX"))
                || (!narrow && l.contains("USE TEMP B-TREE FOR ORDER BY"))
        };
        bad.then(|| l.to_string())
    })
}

/// The plans of the `/v2/people`, `/v2/accounts` and `/v2/users` shapes on a tenant with many
/// leads (ACTIVITY_HUB_PLAN_LEADS, 50,000 unless set), a tenth as many accounts and 200 users,
/// beside a second tenant; it fails when a page is found by scanning. Ignored by default, like
/// the activity plans:
/// `cargo test --test salesloft plans_of_the_directory -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "loads a large tenant and prints query plans; run with --ignored --nocapture"]
async fn plans_of_the_directory_shapes() {
    use activity_hub::api::salesloft::people::directory_request;
    use activity_hub::domain::directory::DirectoryKind;
    use activity_hub::domain::{NewAccount, NewLead};

    let leads: usize = std::env::var("ACTIVITY_HUB_PLAN_LEADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let app = App::start(false).await;
    let admin = app.tenant("Dirplan").await;
    let other = app.tenant("Otherdir").await;
    let store = app.service.store().clone();
    let mut users = vec![admin.clone()];
    for i in 0..200 {
        let role = if i % 4 == 0 {
            Role::SalesManager
        } else {
            Role::SalesUser
        };
        users.push(
            app.user(&admin, &format!("u{i}@dirplan.example"), role)
                .await,
        );
    }
    let seller = users[2].clone();
    for (tenant, n, tag) in [(&admin, leads, "d"), (&other, 5_000, "o")] {
        let mut i = 0;
        while i < n {
            let batch: Vec<NewLead> = (i..n.min(i + 1000))
                .map(|k| NewLead {
                    guid: uuid::Uuid::now_v7(),
                    first_name: Some(format!("L{k}")),
                    email: Some(format!("{tag}{k}@dirplan.example")),
                    owner_id: if tag == "o" {
                        tenant.user.id
                    } else {
                        users[k % users.len()].user.id
                    },
                    ..Default::default()
                })
                .collect();
            i += batch.len();
            store
                .create_leads(tenant.user.tenant_id, batch)
                .await
                .expect("leads");
        }
        for k in 0..n / 10 {
            store
                .create_account(
                    tenant.user.tenant_id,
                    NewAccount {
                        guid: uuid::Uuid::now_v7(),
                        name: format!("{tag} Account {k}"),
                        domain: Some(format!("{tag}{k}.example")),
                        owner_id: tenant.user.id,
                    },
                )
                .await
                .expect("account");
        }
    }
    let pg = on_postgres();
    let sqlite_path = app.db_url.strip_prefix("sqlite://").map(str::to_string);
    if pg {
        let (client, conn) = tokio_postgres::connect(&app.db_url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let task = tokio::spawn(conn);
        client.batch_execute("ANALYZE").await.expect("analyze");
        drop(client);
        let _ = task.await;
    } else if let Some(p) = &sqlite_path {
        let conn = rusqlite::Connection::open(p).expect("open");
        conn.execute_batch("ANALYZE").expect("analyze");
    }

    let mid = "2000-01-01T00:00:00Z";
    let owner = users[7].user.guid.to_string();
    use DirectoryKind::*;
    let shapes: Vec<(&str, DirectoryKind, String, &Who, bool)> = vec![
        ("people, default (updated_at DESC)", People, String::new(), &admin, false),
        (
            "people, updated_at[gt] cursor ASC",
            People,
            format!("sort_by=updated_at&sort_direction=asc&updated_at[gt]={mid}&per_page=100"),
            &admin,
            false,
        ),
        ("people, created_at ASC", People, "sort_by=created_at&sort_direction=asc".into(), &admin, false),
        ("people, Sales_User", People, String::new(), &seller, false),
        (
            "people, Sales_User cursor ASC",
            People,
            format!("sort_by=updated_at&sort_direction=asc&updated_at[gt]={mid}"),
            &seller,
            false,
        ),
        ("people, owned_by_guid", People, format!("owned_by_guid={owner}"), &admin, false),
        ("people, deep page (page=200)", People, "page=200".into(), &admin, false),
        ("people, email_addresses", People, "email_addresses=d17@dirplan.example".into(), &admin, true),
        ("people, ids", People, "ids=1,2,3".into(), &admin, true),
        ("people, counts exact", People, "include_paging_counts=true".into(), &admin, false),
        (
            "people, counts capped",
            People,
            "include_paging_counts=true&limit_paging_counts=true".into(),
            &admin,
            false,
        ),
        ("accounts, default", Accounts, String::new(), &admin, false),
        (
            "accounts, updated_at[gt] cursor ASC",
            Accounts,
            format!("sort_by=updated_at&sort_direction=asc&updated_at[gt]={mid}&include_paging_counts=true"),
            &admin,
            false,
        ),
        ("accounts, name ASC", Accounts, "sort_by=name&sort_direction=asc".into(), &admin, false),
        ("accounts, created_at", Accounts, "sort_by=created_at".into(), &admin, false),
        ("users, default (id DESC)", Users, String::new(), &admin, false),
        (
            "users, updated_at[gt] cursor ASC",
            Users,
            format!("sort_by=updated_at&sort_direction=asc&updated_at[gt]={mid}"),
            &admin,
            false,
        ),
        ("users, email ASC", Users, "sort_by=email&sort_direction=asc&include_paging_counts=true".into(), &admin, false),
    ];
    let mut out = format!(
        "=== {} — {leads} leads, {} accounts, {} users in the tenant (+5,000 leads in another) ===\n",
        if pg { "PostgreSQL EXPLAIN" } else { "SQLite EXPLAIN QUERY PLAN" },
        leads / 10,
        users.len()
    );
    let mut problems = Vec::new();
    for (name, kind, q, who, narrow) in &shapes {
        let (query, guids) = directory_request(*kind, q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let query = app
            .service
            .directory_query(&who.user, query, &guids)
            .await
            .expect("directory query");
        let (path, table) = match kind {
            People => ("people", ("leads", "l")),
            Accounts => ("accounts", ("accounts", "ac")),
            Users => ("users", ("users", "u")),
        };
        out.push_str(&format!("\n--- {name}: GET /v2/{path}?{q}\n"));
        let (page, count) = if pg {
            let (sql, args) = store::postgres::directory_page_sql(&query);
            let page = pg_plan(&app.db_url, &sql, &args).await;
            let count = match store::postgres::directory_count_sql(&query) {
                Some((sql, args)) => Some(pg_plan(&app.db_url, &sql, &args).await),
                None => None,
            };
            (page, count)
        } else {
            let p = sqlite_path.as_deref().expect("sqlite path");
            let (sql, args) = store::sqlite::directory_page_sql(&query);
            let page = sqlite_plan(p, &sql, &args);
            let count = store::sqlite::directory_count_sql(&query)
                .map(|(sql, args)| sqlite_plan(p, &sql, &args));
            (page, count)
        };
        let s = app.service.store();
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            n = match kind {
                People => s.people_page(&query).await.expect("page").rows.len(),
                Accounts => s.accounts_page(&query).await.expect("page").rows.len(),
                Users => s.users_page(&query).await.expect("page").rows.len(),
            };
            times.push(t.elapsed());
        }
        times.sort();
        out.push_str(&format!(
            "time: {:.2} ms median of 5 ({n} rows)\npage:\n",
            times[2].as_secs_f64() * 1000.0
        ));
        for l in &page {
            out.push_str(&format!("  {l}\n"));
        }
        if let Some(c) = &count {
            out.push_str("count:\n");
            for l in c {
                out.push_str(&format!("  {l}\n"));
            }
        }
        // Counts are printed, not judged (as for activities): a count reads what it counts, and
        // PostgreSQL rightly scans a table that is mostly one tenant's.
        if let Some(p) = directory_scan_problem(&page, pg, table, *narrow) {
            problems.push(format!("{name}: {p}"));
        }
    }
    println!("{out}");
    if let Ok(path) = std::env::var("ACTIVITY_HUB_PLAN_OUT") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("plan output file");
        f.write_all(out.as_bytes()).expect("write plans");
    }
    assert!(
        problems.is_empty(),
        "pages found by scanning: {problems:#?}"
    );
}
