//! What differs by backend and must not show: both render the same records, rate budgets
//! shared on PostgreSQL (none on SQLite), clear connection errors, healing after lost connections.

use std::time::Duration;

use activity_hub::domain::Role;
use activity_hub::error::Error;
use activity_hub::store;

use crate::fixtures::*;
use crate::pg;

/// The same scenario on each backend renders the same records (ids and times aside).
#[tokio::test]
#[cfg_attr(
    not(pg_tests),
    ignore = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)"
)]
async fn both_backends_render_the_same() {
    let mut renderings = Vec::new();
    for b in [sqlite().await, postgres_required("same").await] {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let u = s
            .create_user(t.id, new_user("u@acme.test", Role::SalesManager))
            .await
            .unwrap();
        let mut nl = lead(u.id, Some("R@x.test"), Some("12345"));
        nl.do_not_email = true;
        nl.attributes.insert("Company".into(), "Ünïcode ✓".into());
        let l = s.create_lead(t.id, nl).await.unwrap();
        let ty = s
            .create_activity_type(t.id, custom_type("Rendered", 4))
            .await
            .unwrap();
        let mut a = activity(
            ty.id,
            l.id,
            u.id,
            1_700_000_000_000_000,
            "note \"quoted\" ✓",
        );
        a.score = 4;
        a.created_by = admin.id;
        a.fields.insert("mx_Custom_1".into(), "42.5".into());
        a.fields.insert("Status".into(), "x".into());
        s.insert_activities(t.id, vec![a]).await.unwrap();
        let lead = s.lead_by_guid(t.id, l.guid).await.unwrap().expect("lead");
        let rows = s.list_activities(&page_query(t.id)).await.unwrap().rows;
        let types: Vec<String> = s
            .list_activity_types(t.id)
            .await
            .unwrap()
            .into_iter()
            .map(|t| {
                format!(
                    "{} {} {} {} {:?} {} {} {:?}",
                    t.event_code,
                    t.name,
                    t.display_name,
                    t.direction,
                    t.kind,
                    t.is_email_type,
                    t.salesloft_type,
                    t.fields
                )
            })
            .collect();
        let view: Vec<String> = rows
            .into_iter()
            .map(|r| {
                format!(
                    "{} {} {:?} {} {} {} {} {} {} {:?} {} {}",
                    r.event_code,
                    r.type_name,
                    r.type_kind,
                    r.direction,
                    r.owner_name,
                    r.created_by_name,
                    r.modified_by_name,
                    r.note,
                    r.occurred_at,
                    r.fields,
                    r.score,
                    r.status
                )
            })
            .collect();
        renderings.push((
            b.name,
            format!(
                "{:?}|{:?}|{:?}|{}|{}|{}|{:?}\n{}\n{}",
                lead.first_name,
                lead.email,
                lead.phone,
                lead.do_not_email,
                lead.score,
                lead.owner_name,
                lead.attributes,
                view.join("\n"),
                types.join("\n")
            ),
        ));
    }
    let [(_, sqlite), (_, postgres)] = renderings.as_slice() else {
        unreachable!("two backends, two renderings");
    };
    assert_eq!(sqlite, postgres, "SQLite and PostgreSQL render differently");
}

#[tokio::test]
async fn sqlite_keeps_no_shared_rate_budgets() {
    let sqlite = sqlite().await;
    let opened = store::open_with_budgets(&sqlite.url).await.unwrap();
    assert!(opened.budgets.is_none(), "SQLite keeps no shared budgets");
}

#[tokio::test]
#[cfg_attr(
    not(pg_tests),
    ignore = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)"
)]
async fn rate_budgets_are_shared_by_stores_on_one_postgres_database() {
    let b = postgres_required("rate").await;
    let budgets = || async {
        store::open_with_budgets(&b.url)
            .await
            .unwrap()
            .budgets
            .expect("PostgreSQL keeps shared budgets")
    };
    // A second store on the same database stands for a second server process.
    let (one, other) = (budgets().await, budgets().await);
    let w = Duration::from_secs(30);
    let d1 = one.spend("user-1", 3, w, 2).await.unwrap();
    assert!(d1.allowed && d1.remaining == 1);
    let d2 = other.spend("user-1", 3, w, 1).await.unwrap();
    assert!(d2.allowed && d2.remaining == 0, "{d2:?}");
    let d3 = one.spend("user-1", 3, w, 1).await.unwrap();
    assert!(!d3.allowed, "the other process's spending counts: {d3:?}");
    assert!(
        d3.retry_after > Duration::from_secs(25) && d3.retry_after <= w,
        "{d3:?}"
    );
    assert!(other.spend("user-2", 3, w, 3).await.unwrap().allowed);
}

#[tokio::test]
async fn an_unreachable_postgres_is_one_clear_line_with_the_password_hidden() {
    // The URL is shown as user@host:port/db, without the password wherever it was given.
    for url in [
        "postgres://someone:hunter2@127.0.0.1:1/nowhere",
        "postgres://someone@127.0.0.1:1/nowhere?password=hunter2&connect_timeout=3",
    ] {
        let e = match store::open(url).await {
            Ok(_) => panic!("connected to a closed port"),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains("cannot connect to postgres://someone@127.0.0.1:1/nowhere: "),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(pg_tests),
    ignore = "needs ACTIVITY_HUB_TEST_PG (a PostgreSQL URL)"
)]
async fn postgres_heals_after_its_connections_are_killed() {
    let b = postgres_required("heal").await;
    let s = &*b.store;
    let (t, _) = tenant(s, "acme").await;
    let admin = pg::required_admin_url(SUITE);
    let kill = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
        match &b._guard {
            Guard::Pg(db) => db.name.clone(),
            Guard::Sqlite(_) => unreachable!(),
        }
    );
    pg::query_texts(&admin, &kill).expect("terminate backends");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // /readyz's probe retries on a fresh connection; a call may fail once, as Unavailable only.
    s.ping()
        .await
        .expect("ping after the pool's connections were killed");
    for _ in 0..20 {
        match s.list_activity_types(t.id).await {
            Ok(types) => {
                assert!(!types.is_empty());
                return;
            }
            Err(Error::Unavailable(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("a lost connection must be Unavailable, got {e:?}"),
        }
    }
    panic!("the store did not recover");
}
