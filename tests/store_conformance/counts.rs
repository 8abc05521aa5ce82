//! The kept activity counts (`activity_counts`, migration 0011) against the rows themselves on
//! every backend: random creates, bulk inserts, deletes, pins, owner, lead-owner and Salesloft
//! type changes, then every countable list shape's total compared with the rows its page reads,
//! and the count table (and the weekly counts of the web UI's charts) compared combination by
//! combination with a GROUP BY of `activities`.

use activity_hub::domain::history::Api;
use activity_hub::domain::{
    ActivityQuery, ActivityType, ActivityUpdate, CountMode, LeadPatch, NewAccount, RecordKind,
    ResourceKind, Role, TypeFilter, TypeKind,
};
use activity_hub::store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::fixtures::*;
use crate::pg;

/// Each combination the count table holds that differs from `count(*)` of the activities with
/// it (as text; empty when the table is exact). The same SQL on both backends.
pub(crate) fn count_drift(backend: &str, url: &str) -> Vec<String> {
    let sql = "SELECT coalesce(x.k, y.k) || ' rows ' || coalesce(x.n, 0) || ' kept ' || coalesce(y.n, 0)
      FROM (SELECT tenant_id || '/' || event_code || '/' || sl_type || '/' || res_kind || '/' ||
                   owner_id || '/' || coalesce(lead_owner_id, 0) || '/' ||
                   (CASE WHEN pinned_at IS NULL THEN 0 ELSE 1 END) AS k, count(*) AS n
              FROM activities GROUP BY 1) x
      FULL JOIN (SELECT tenant_id || '/' || event_code || '/' || sl_type || '/' || res_kind || '/' ||
                        owner_id || '/' || lead_owner_id || '/' || pinned AS k, sum(n) AS n
                   FROM activity_counts GROUP BY 1 HAVING sum(n) <> 0) y ON x.k = y.k
     WHERE x.n IS NULL OR y.n IS NULL OR x.n <> y.n";
    texts(backend, url, sql)
}

/// The first column of `sql`'s rows as text, the same SQL on either backend.
fn texts(backend: &str, url: &str, sql: &str) -> Vec<String> {
    if backend == "sqlite" {
        let path = url.strip_prefix("sqlite://").expect("sqlite URL");
        let c = rusqlite::Connection::open(path).expect("open the SQLite file");
        let mut stmt = c.prepare(sql).expect("drift query");
        stmt.query_map([], |r| r.get::<_, String>(0))
            .expect("drift rows")
            .collect::<rusqlite::Result<Vec<_>>>()
            .expect("drift rows")
    } else {
        pg::query_texts(url, sql)
            .expect("drift query")
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect()
    }
}

/// Each (tenant, week, type, owner, lead owner) whose kept weekly count (`activity_weekly_counts`,
/// the web UI's charts) differs from `count(*)` of its activities (as text; empty when exact).
/// The week is the Monday 00:00 UTC starting it, as the migrations compute it.
pub(crate) fn weekly_drift(backend: &str, url: &str) -> Vec<String> {
    let sql = "SELECT coalesce(x.k, y.k) || ' rows ' || coalesce(x.n, 0) || ' kept ' || coalesce(y.n, 0)
      FROM (SELECT tenant_id || '/' ||
                   (occurred_at - (((occurred_at + 259200000000) % 604800000000) + 604800000000)
                                  % 604800000000) || '/' ||
                   type_id || '/' || owner_id || '/' || coalesce(lead_owner_id, 0) AS k,
                   count(*) AS n
              FROM activities GROUP BY 1) x
      FULL JOIN (SELECT tenant_id || '/' || week_start || '/' || type_id || '/' || owner_id || '/' ||
                        lead_owner_id AS k, sum(n) AS n
                   FROM activity_weekly_counts GROUP BY 1 HAVING sum(n) <> 0) y ON x.k = y.k
     WHERE x.n IS NULL OR y.n IS NULL OR x.n <> y.n";
    texts(backend, url, sql)
}

/// Whether the store answers `q`'s count from the count table (and not from the rows).
fn kept(b: &Backend, q: &ActivityQuery) -> bool {
    let sql = if b.name == "sqlite" {
        store::sqlite::activity_count_sql(q).map(|(sql, _)| sql)
    } else {
        store::postgres::activity_count_sql(q).map(|(sql, _)| sql)
    };
    sql.is_some_and(|s| s.contains("activity_counts"))
}

/// The countable shapes of a tenant's lists: none, each filter alone and combined in pairs.
fn shapes(tenant_id: i64, types: &[ActivityType], users: &[i64]) -> Vec<ActivityQuery> {
    let base = page_query(tenant_id);
    let mut sl_types: Vec<String> = types.iter().map(|t| t.salesloft_type.clone()).collect();
    sl_types.sort();
    sl_types.dedup();
    let sl = |t: &str| {
        vec![TypeFilter {
            resource: None,
            sl_types: vec![t.to_string()],
        }]
    };
    let kinds = [
        ResourceKind::Person,
        ResourceKind::Account,
        ResourceKind::Opportunity,
    ];
    let mut out = vec![base.clone()];
    for records in [RecordKind::Activities, RecordKind::Opportunities] {
        out.push(ActivityQuery {
            records,
            ..base.clone()
        });
    }
    for t in types {
        out.push(ActivityQuery {
            event_codes: vec![t.event_code],
            ..base.clone()
        });
        out.push(ActivityQuery {
            event_codes: vec![t.event_code],
            pinned: Some(true),
            ..base.clone()
        });
    }
    for t in &sl_types {
        out.push(ActivityQuery {
            types: sl(t),
            ..base.clone()
        });
        for pinned in [true, false] {
            out.push(ActivityQuery {
                types: sl(t),
                pinned: Some(pinned),
                ..base.clone()
            });
        }
        for &u in users {
            out.push(ActivityQuery {
                types: sl(t),
                owner_ids: vec![u],
                ..base.clone()
            });
            out.push(ActivityQuery {
                types: sl(t),
                visible_to_owner: Some(u),
                ..base.clone()
            });
        }
        for kind in kinds {
            out.push(ActivityQuery {
                types: vec![TypeFilter {
                    resource: Some(kind),
                    sl_types: vec![t.clone()],
                }],
                ..base.clone()
            });
        }
    }
    out.push(ActivityQuery {
        types: vec![TypeFilter {
            resource: None,
            sl_types: sl_types.iter().take(3).cloned().collect(),
        }],
        ..base.clone()
    });
    for kind in kinds {
        out.push(ActivityQuery {
            resource_kinds: vec![kind],
            ..base.clone()
        });
        for &u in users {
            out.push(ActivityQuery {
                resource_kinds: vec![kind],
                owner_ids: vec![u],
                ..base.clone()
            });
        }
    }
    for pinned in [true, false] {
        out.push(ActivityQuery {
            pinned: Some(pinned),
            ..base.clone()
        });
        for &u in users {
            out.push(ActivityQuery {
                pinned: Some(pinned),
                visible_to_owner: Some(u),
                ..base.clone()
            });
        }
    }
    for &u in users {
        out.push(ActivityQuery {
            owner_ids: vec![u],
            ..base.clone()
        });
        out.push(ActivityQuery {
            visible_to_owner: Some(u),
            ..base.clone()
        });
        out.push(ActivityQuery {
            owner_ids: users.to_vec(),
            visible_to_owner: Some(u),
            ..base.clone()
        });
    }
    out
}

/// Every shape's total is the number of rows its page reads (each page holds all of them), the
/// capped count is that number capped, and the count table has no drift.
async fn check(b: &Backend, tenant_id: i64, types: &[ActivityType], users: &[i64], when: &str) {
    let s = &*b.store;
    for q in shapes(tenant_id, types, users) {
        assert!(kept(b, &q), "{}: not counted from the table: {q:?}", b.name);
        let page = s.list_activities(&q).await.unwrap();
        assert!(
            page.rows.len() < q.limit as usize,
            "page too small for the check"
        );
        assert_eq!(
            page.total,
            page.rows.len() as u64,
            "{} {when}: count of {q:?}",
            b.name
        );
        let capped = s
            .list_activities(&ActivityQuery {
                count: CountMode::Capped(3),
                limit: 1,
                ..q.clone()
            })
            .await
            .unwrap();
        assert_eq!(capped.total, page.total.min(3), "{} {when}: capped", b.name);
    }
    assert_eq!(
        count_drift(b.name, &b.url),
        Vec::<String>::new(),
        "{} {when}",
        b.name
    );
    assert_eq!(
        weekly_drift(b.name, &b.url),
        Vec::<String>::new(),
        "{} {when}: weekly counts",
        b.name
    );
}

/// A week in microseconds: the random writes spread activities over four weeks.
const WEEK: i64 = 7 * 24 * 3_600 * 1_000_000;

#[tokio::test]
async fn kept_counts_match_the_rows_after_random_writes() {
    for b in backends("counts").await {
        let s = &*b.store;
        let mut rng = StdRng::seed_from_u64(23);
        let (t, admin) = tenant(s, "counted").await;
        let (other, other_admin) = tenant(s, "other").await;
        let mut users = vec![admin.id];
        for i in 0..3 {
            let u = s
                .create_user(
                    t.id,
                    new_user(&format!("u{i}@counted.test"), Role::SalesUser),
                )
                .await
                .unwrap();
            users.push(u.id);
        }
        let mut leads = Vec::new();
        for i in 0..8 {
            let owner = users[i % users.len()];
            leads.push(
                s.create_lead(t.id, lead(owner, None, None))
                    .await
                    .unwrap()
                    .id,
            );
        }
        let account = s
            .create_account(
                t.id,
                NewAccount {
                    guid: Uuid::now_v7(),
                    name: "Counted Inc".into(),
                    domain: None,
                    owner_id: admin.id,
                },
            )
            .await
            .unwrap();
        let custom = s
            .create_activity_type(t.id, custom_type("Counted", 1))
            .await
            .unwrap();
        let other_lead = s
            .create_lead(other.id, lead(other_admin.id, None, None))
            .await
            .unwrap();
        let mut types: Vec<ActivityType> = s.list_activity_types(t.id).await.unwrap();
        // A handful of Salesloft types, the custom one and the opportunity type.
        types.retain(|ty| {
            ty.id == custom.id
                || ty.kind == TypeKind::Opportunity
                || ["call", "email", "meeting"].contains(&ty.salesloft_type.as_str())
        });
        let other_type = s
            .list_activity_types(other.id)
            .await
            .unwrap()
            .into_iter()
            .find(|ty| ty.kind != TypeKind::Opportunity)
            .expect("a type in the other tenant");

        let mut ids: Vec<i64> = Vec::new();
        for step in 0..240 {
            match rng.random_range(0..100) {
                // A bulk insert of 1 to 6 activities on leads and the account.
                0..=39 => {
                    let n = rng.random_range(1..=6);
                    let mut batch = Vec::new();
                    for _ in 0..n {
                        let ty = &types[rng.random_range(0..types.len())];
                        let owner = users[rng.random_range(0..users.len())];
                        let lead_id = leads[rng.random_range(0..leads.len())];
                        let week = rng.random_range(0..4);
                        let mut a = activity(ty.id, lead_id, owner, week * WEEK + step, "x");
                        if ty.kind != TypeKind::Opportunity && rng.random_bool(0.2) {
                            a.lead_id = None;
                            a.account_id = Some(account.id);
                        }
                        a.pinned = rng.random_bool(0.3);
                        batch.push(a);
                    }
                    ids.extend(s.insert_activities(t.id, batch).await.unwrap());
                    // The other tenant's writes must not move this tenant's counts.
                    s.insert_activities(
                        other.id,
                        vec![activity(
                            other_type.id,
                            other_lead.id,
                            other_admin.id,
                            5,
                            "o",
                        )],
                    )
                    .await
                    .unwrap();
                }
                40..=54 if !ids.is_empty() => {
                    let id = ids.swap_remove(rng.random_range(0..ids.len()));
                    s.delete_activity(t.id, id, admin.actor(Api::Native))
                        .await
                        .unwrap();
                }
                55..=79 if !ids.is_empty() => {
                    let id = ids[rng.random_range(0..ids.len())];
                    let update = ActivityUpdate {
                        id,
                        note: Some(format!("edited {step}")),
                        owner_id: rng
                            .random_bool(0.5)
                            .then(|| users[rng.random_range(0..users.len())]),
                        status: None,
                        fields: None,
                        occurred_at: rng
                            .random_bool(0.3)
                            .then(|| rng.random_range(0..4) * WEEK + step),
                        pinned: rng.random_bool(0.7).then(|| rng.random_bool(0.5)),
                        tags: None,
                        static_data: None,
                    };
                    s.update_activity(t.id, update, admin.actor(Api::Native))
                        .await
                        .unwrap();
                }
                80..=91 => {
                    let lead_id = leads[rng.random_range(0..leads.len())];
                    let owner = users[rng.random_range(0..users.len())];
                    let patch = LeadPatch {
                        owner_id: Some(owner),
                        ..Default::default()
                    };
                    s.update_lead(t.id, lead_id, patch).await.unwrap();
                }
                _ => {
                    // The custom type's Salesloft type changes: its activities move with it.
                    let mut ty = s
                        .list_activity_types(t.id)
                        .await
                        .unwrap()
                        .into_iter()
                        .find(|ty| ty.id == custom.id)
                        .expect("the custom type");
                    ty.salesloft_type = if ty.salesloft_type == "call" {
                        "note".into()
                    } else {
                        "call".into()
                    };
                    s.update_activity_type(t.id, ty).await.unwrap();
                }
            }
            if step % 60 == 59 {
                check(&b, t.id, &types, &users, &format!("step {step}")).await;
            }
        }
        check(&b, t.id, &types, &users, "end").await;
        let all = s.list_activities(&page_query(t.id)).await.unwrap();
        assert!(all.total > 100, "{}: too few rows to mean much", b.name);
        let theirs = s.list_activities(&page_query(other.id)).await.unwrap();
        assert_eq!(theirs.total, theirs.rows.len() as u64, "{}", b.name);
    }
}

/// Filters the table does not keep still count the rows: a lead, a time range, a resource.
#[tokio::test]
async fn other_shapes_count_the_rows() {
    let b = sqlite().await;
    let mut q = ActivityQuery::new(1);
    q.lead_id = Some(3);
    assert!(!kept(&b, &q));
    let mut q = ActivityQuery::new(1);
    q.occurred_from = Some(5);
    assert!(!kept(&b, &q));
    let mut q = ActivityQuery::new(1);
    q.resources = vec![(ResourceKind::Person, 4)];
    assert!(!kept(&b, &q));
    let mut q = ActivityQuery::new(1);
    q.count = CountMode::None;
    assert!(store::sqlite::activity_count_sql(&q).is_none());
}
