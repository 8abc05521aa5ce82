//! Index coverage of LeadSquared's `Leads.Get` and `Leads.GetByQuickSearch`: the query plans of the
//! statements `find_leads` runs for each lookup it serves and `search_leads` runs, on a tenant
//! with many leads (`EXPLAIN QUERY PLAN` on SQLite,
//! `EXPLAIN` on PostgreSQL). It lives with the Salesloft plans for their shared in-process
//! harness. Ignored by default (it loads ACTIVITY_HUB_LEAD_PLAN_ROWS leads, 100,000 unless set):
//! `cargo test --test salesloft lead_plans -- --ignored --nocapture`; ACTIVITY_HUB_PLAN_OUT=FILE
//! appends the plans to FILE. It fails when a page reads the tenant's leads by a table scan, or
//! sorts every selected lead where the lookup's own index gives the order.

use std::io::Write;

use activity_hub::domain::{LeadDate, LeadFilter, LeadOrder, LeadQuery, NewLead, Role};
use activity_hub::store;

use crate::harness::*;

fn sqlite_plan(path: &str, sql: &str, args: &[i64]) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).expect("open sqlite");
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("prepare explain");
    let rows: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(3))
        .expect("explain")
        .collect::<Result<_, _>>()
        .expect("plan rows");
    rows
}

async fn pg_plan(url: &str, sql: &str, args: &[i64]) -> Vec<String> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let task = tokio::spawn(conn);
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
        .iter()
        .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    let rows = client
        .query(&format!("EXPLAIN {sql}"), &refs)
        .await
        .expect("explain");
    drop(client);
    let _ = task.await;
    rows.iter().map(|r| r.get::<_, String>(0)).collect()
}

/// The SQLite plan of `search_leads`' statement with these parameters.
fn sqlite_search_plan(path: &str, tenant: i64, owner: Option<i64>, key: &str) -> Vec<String> {
    let (low, high) = store::prefix_range(key);
    let conn = rusqlite::Connection::open(path).expect("open sqlite");
    let mut stmt = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN {}",
            store::sqlite::quick_search_sql()
        ))
        .expect("prepare explain");
    let rows: Vec<String> = stmt
        .query_map(rusqlite::params![tenant, owner, low, high, 50], |r| {
            r.get(3)
        })
        .expect("explain")
        .collect::<Result<_, _>>()
        .expect("plan rows");
    rows
}

/// The PostgreSQL plan of `search_leads`' statement with these parameters (a generic plan, as a
/// prepared statement run many times gets, when `generic`).
async fn pg_search_plan(
    url: &str,
    tenant: i64,
    owner: Option<i64>,
    key: &str,
    generic: bool,
) -> Vec<String> {
    let (low, high) = store::prefix_range(key);
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let task = tokio::spawn(conn);
    if generic {
        client
            .batch_execute("SET plan_cache_mode = force_generic_plan")
            .await
            .expect("generic plans");
    }
    let sql = format!("EXPLAIN {}", store::postgres::quick_search_sql());
    let rows = client
        .query(&sql, &[&tenant, &owner, &low, &high, &50i64])
        .await
        .expect("explain");
    drop(client);
    let _ = task.await;
    rows.iter().map(|r| r.get::<_, String>(0)).collect()
}

/// A table scan of the leads, or (unless `may_sort`) a sort of the selected leads.
fn problem(plan: &[String], pg: bool, may_sort: bool) -> Option<String> {
    plan.iter()
        .map(|l| l.trim())
        .find(|l| {
            let scan = if pg {
                l.contains("Seq Scan on leads")
            } else {
                l.starts_with("SCAN l") && !l.contains("INDEX")
            };
            let sort = if pg {
                l.starts_with("Sort ") || l.contains("-> Sort ") || l.starts_with("->  Sort")
            } else {
                l.contains("USE TEMP B-TREE FOR ORDER BY")
            };
            scan || (sort && !may_sort)
        })
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "loads a large tenant and prints query plans; run with --ignored --nocapture"]
async fn lead_plans_of_leads_get() {
    let rows: usize = std::env::var("ACTIVITY_HUB_LEAD_PLAN_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let app = App::start(false).await;
    let admin = app.tenant("Leadplan").await;
    let seller = app
        .user(&admin, "sel@leadplan.example", Role::SalesUser)
        .await;
    let store = app.service.store();
    let tenant = admin.user.tenant_id;
    let mut made = 0;
    while made < rows {
        let batch: Vec<NewLead> = (made..(made + 5_000).min(rows))
            .map(|i| NewLead {
                guid: uuid::Uuid::now_v7(),
                first_name: Some(format!("L{i}")),
                last_name: (i % 2 == 0).then(|| format!("Last{i}")),
                email: Some(format!("l{i}@leadplan.example")),
                phone: Some(format!("+1 555 {i:07}")),
                mobile: (i % 3 == 0).then(|| format!("+44 7700 {i:06}")),
                // One lead in a hundred is the Sales_User's.
                owner_id: if i % 100 == 0 {
                    seller.user.id
                } else {
                    admin.user.id
                },
                ..NewLead::default()
            })
            .collect();
        made += batch.len();
        store.create_leads(tenant, batch).await.expect("leads");
    }
    let other = app.tenant("Otherleads").await;
    let others: Vec<NewLead> = (0..2_000)
        .map(|i| NewLead {
            guid: uuid::Uuid::now_v7(),
            email: Some(format!("o{i}@other.example")),
            owner_id: other.user.id,
            ..NewLead::default()
        })
        .collect();
    store
        .create_leads(other.user.tenant_id, others)
        .await
        .expect("other leads");
    // One second apart, not in id order (as leads created over time and edited since).
    let spread = format!(
        "UPDATE leads SET created_at = 1600000000000000 + ((id * 7919) % {rows}) * 1000000,
                          updated_at = 1650000000000000 + ((id * 104729) % {rows}) * 1000000"
    );
    let pg = on_postgres();
    let sqlite_path = app.db_url.strip_prefix("sqlite://").map(str::to_string);
    if pg {
        let (client, conn) = tokio_postgres::connect(&app.db_url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let task = tokio::spawn(conn);
        client.batch_execute(&spread).await.expect("spread");
        client.batch_execute("ANALYZE").await.expect("analyze");
        drop(client);
        let _ = task.await;
    } else if let Some(p) = &sqlite_path {
        let conn = rusqlite::Connection::open(p).expect("open");
        conn.execute_batch(&spread).expect("spread");
        conn.execute_batch("ANALYZE").expect("analyze");
    }

    let mid: i64 = 1_600_000_000_000_000 + (rows as i64 / 2) * 1_000_000;
    let q = |filter, owner_only, order, descending, offset| LeadQuery {
        tenant_id: tenant,
        filter,
        owner_only,
        order,
        descending,
        offset,
        limit: 100,
    };
    let created_after = LeadFilter::Dated {
        date: LeadDate::Created,
        from: Some(mid),
        until: None,
    };
    let created = LeadOrder::Date(LeadDate::Created);
    let modified = LeadOrder::Date(LeadDate::Modified);
    // (name, query, whether the database may sort the selected range)
    let shapes: Vec<(&str, LeadQuery, bool)> = vec![
        (
            "CreatedOn > mid, sorted by CreatedOn DESC (LeadSquared's example)",
            q(created_after, None, created, true, 0),
            false,
        ),
        (
            "CreatedOn in one day, ASC",
            q(
                LeadFilter::Dated {
                    date: LeadDate::Created,
                    from: Some(mid),
                    until: Some(mid + 86_400_000_000),
                },
                None,
                created,
                false,
                0,
            ),
            false,
        ),
        (
            "ModifiedOn >= mid, sorted by ModifiedOn",
            q(
                LeadFilter::Dated {
                    date: LeadDate::Modified,
                    from: Some(mid + 50_000_000_000_000),
                    until: None,
                },
                None,
                modified,
                true,
                0,
            ),
            false,
        ),
        (
            "CreatedOn > mid, page 50",
            q(created_after, None, created, true, 4_900),
            false,
        ),
        (
            "OwnerId = the Sales_User, sorted by ProspectAutoId",
            q(
                LeadFilter::Owner(seller.user.id),
                None,
                LeadOrder::Id,
                true,
                0,
            ),
            false,
        ),
        (
            "OwnerId, sorted by CreatedOn (the owner's leads sorted)",
            q(LeadFilter::Owner(seller.user.id), None, created, true, 0),
            true,
        ),
        (
            "Sales_User: CreatedOn > mid (own leads only)",
            q(created_after, Some(seller.user.id), created, true, 0),
            true,
        ),
        (
            "CreatedOn > mid, sorted by ModifiedOn (the range sorted)",
            q(created_after, None, modified, true, 0),
            true,
        ),
    ];

    let mut out = format!(
        "=== Leads.Get, {} — {rows} leads in the tenant (+2,000 in another) ===\n",
        if pg {
            "PostgreSQL EXPLAIN"
        } else {
            "SQLite EXPLAIN QUERY PLAN"
        }
    );
    let mut problems = Vec::new();
    for (name, query, may_sort) in &shapes {
        let plan = if pg {
            let (sql, args) = store::postgres::lead_page_sql(query);
            pg_plan(&app.db_url, &sql, &args).await
        } else {
            let (sql, args) = store::sqlite::lead_page_sql(query);
            sqlite_plan(sqlite_path.as_deref().expect("sqlite path"), &sql, &args)
        };
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            n = store.find_leads(query).await.expect("find").len();
            times.push(t.elapsed());
        }
        times.sort();
        out.push_str(&format!(
            "\n--- {name}\ntime: {:.2} ms median of 5 ({n} rows)\n",
            times[2].as_secs_f64() * 1000.0
        ));
        for l in &plan {
            out.push_str(&format!("  {l}\n"));
        }
        if let Some(p) = problem(&plan, pg, *may_sort) {
            problems.push(format!("{name}: {p}"));
        }
    }

    // Leads.GetByQuickSearch: one index range per searched column, whatever the key; the merged
    // candidates (at most 5 × 50) may be sorted.
    out.push_str("\n=== Leads.GetByQuickSearch ===\n");
    let searches: Vec<(&str, Option<i64>, &str)> = vec![
        ("a name prefix", None, "l123"),
        ("a one-letter key (every lead matches)", None, "l"),
        ("an email prefix", None, "l4567@"),
        ("a phone prefix", None, "+1 555 00012"),
        ("a mobile prefix", None, "+44 7700 0001"),
        ("a last name prefix", None, "last12"),
        ("no match", None, "zzz"),
        (
            "Sales_User: a name prefix (own leads only)",
            Some(seller.user.id),
            "l1",
        ),
    ];
    for (name, owner, key) in &searches {
        let mut plans = Vec::new();
        if pg {
            for generic in [false, true] {
                let plan = pg_search_plan(&app.db_url, tenant, *owner, key, generic).await;
                plans.push((if generic { " (generic plan)" } else { "" }, plan));
            }
        } else {
            let path = sqlite_path.as_deref().expect("sqlite path");
            plans.push(("", sqlite_search_plan(path, tenant, *owner, key)));
        }
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            n = store
                .search_leads(tenant, *owner, key, 50)
                .await
                .expect("search")
                .len();
            times.push(t.elapsed());
        }
        times.sort();
        out.push_str(&format!(
            "\n--- {name}: key {key:?}\ntime: {:.2} ms median of 5 ({n} rows)\n",
            times[2].as_secs_f64() * 1000.0
        ));
        for (label, plan) in &plans {
            out.push_str(&format!("plan{label}:\n"));
            for l in plan {
                out.push_str(&format!("  {l}\n"));
            }
            if let Some(p) = problem(plan, pg, true) {
                problems.push(format!("quick search, {name}{label}: {p}"));
            }
            // Each column's range comes from its own index. For a Sales_User the planner may
            // read their own leads by the owner index instead (bounded by the leads they own).
            if owner.is_some() {
                continue;
            }
            let indexes = if pg {
                [
                    "leads_search_name",
                    "leads_search_last",
                    "leads_search_email",
                    "leads_search_phone",
                    "leads_search_mobile",
                ]
            } else {
                [
                    "leads_search_name",
                    "leads_search_last",
                    "leads_tenant_email",
                    "leads_tenant_phone",
                    "leads_tenant_mobile",
                ]
            };
            for index in indexes {
                if !plan.iter().any(|l| l.contains(index)) {
                    problems.push(format!("quick search, {name}{label}: {index} unused"));
                }
            }
        }
    }
    println!("{out}");
    if let Ok(file) = std::env::var("ACTIVITY_HUB_PLAN_OUT") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .expect("plan out");
        f.write_all(out.as_bytes()).expect("write plans");
    }
    assert!(problems.is_empty(), "pages that scan leads: {problems:#?}");
}
