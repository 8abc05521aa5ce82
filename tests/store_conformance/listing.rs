//! Listing activities alike on every backend: filters, sorts and pages, a lead's activities,
//! tenant isolation, and timestamps that stay unique under concurrent writers.

use std::collections::HashSet;

use activity_hub::domain::{ActivityQuery, ActivitySort, ActivityView, RecordKind, Role};
use uuid::Uuid;

use crate::fixtures::*;

#[tokio::test]
async fn list_filters_sorts_and_pages_alike() {
    for b in backends("list").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let l1 = s
            .create_lead(t.id, lead(admin.id, Some("1@x.test"), None))
            .await
            .unwrap();
        let l2 = s
            .create_lead(t.id, lead(admin.id, Some("2@x.test"), None))
            .await
            .unwrap();
        let ty = s
            .create_activity_type(t.id, custom_type("Numbered", 0))
            .await
            .unwrap();
        let notes = ["beta", "Alpha", "alpha", "Beta", "_x"];
        let amounts = [Some("10"), Some("9.5"), None, Some("-2"), Some("100")];
        let mut batch = Vec::new();
        for i in 0..5 {
            let mut a = activity(ty.id, l1.id, admin.id, 100 + i as i64, notes[i]);
            if let Some(v) = amounts[i] {
                a.fields.insert("mx_Custom_1".into(), v.into());
            }
            batch.push(a);
        }
        // Same occurred_at on l2 for the id tie-break, plus a system type (call, 101).
        let call = s
            .activity_type_by_code(t.id, 101)
            .await
            .unwrap()
            .expect("call type");
        batch.push(activity(call.id, l2.id, admin.id, 500, "c1"));
        batch.push(activity(call.id, l2.id, admin.id, 500, "c2"));
        s.insert_activities(t.id, batch).await.unwrap();

        let notes_of = |q: ActivityQuery| async move {
            let p = s.list_activities(&q).await.unwrap();
            (
                p.total,
                p.rows.into_iter().map(|r| r.note).collect::<Vec<_>>(),
            )
        };
        let base = page_query(t.id);
        assert_eq!(
            notes_of(ActivityQuery {
                lead_id: Some(l1.id),
                ..base.clone()
            })
            .await,
            (5, notes.iter().map(|n| n.to_string()).collect()),
            "{}: lead filter, occurred_at ascending",
            b.name
        );
        assert_eq!(
            notes_of(ActivityQuery {
                descending: true,
                ..base.clone()
            })
            .await
            .1[..2],
            ["c2".to_string(), "c1".to_string()],
            "{}: ties broken by id in the same direction",
            b.name
        );
        assert_eq!(
            notes_of(ActivityQuery {
                event_codes: vec![101],
                ..base.clone()
            })
            .await
            .0,
            2,
            "{}",
            b.name
        );
        assert_eq!(
            notes_of(ActivityQuery {
                event_codes: vec![101, ty.event_code],
                ..base.clone()
            })
            .await
            .0,
            7
        );
        assert_eq!(
            notes_of(ActivityQuery {
                occurred_from: Some(101),
                occurred_to: Some(103),
                ..base.clone()
            })
            .await,
            (3, vec!["Alpha".into(), "alpha".into(), "Beta".into()]),
            "{}: inclusive time bounds",
            b.name
        );
        assert_eq!(
            notes_of(ActivityQuery {
                offset: 2,
                limit: 2,
                ..base.clone()
            })
            .await,
            (7, vec!["alpha".into(), "Beta".into()]),
            "{}: offset/limit page, total of all matches",
            b.name
        );
        assert_eq!(
            notes_of(ActivityQuery {
                records: RecordKind::Opportunities,
                ..base.clone()
            })
            .await
            .0,
            0
        );
        // Text sorts compare bytewise, as SQLite does: upper case before lower case, '_' between.
        assert_eq!(
            notes_of(ActivityQuery {
                lead_id: Some(l1.id),
                sort: ActivitySort::Note,
                ..base.clone()
            })
            .await
            .1,
            vec!["Alpha", "Beta", "_x", "alpha", "beta"],
            "{}",
            b.name
        );
        // Numeric custom-field sort: missing values first ascending.
        assert_eq!(
            notes_of(ActivityQuery {
                lead_id: Some(l1.id),
                sort: ActivitySort::Field {
                    schema_name: "mx_Custom_1".into(),
                    numeric: true
                },
                ..base.clone()
            })
            .await
            .1,
            vec!["alpha", "Beta", "Alpha", "beta", "_x"],
            "{}",
            b.name
        );
        assert_eq!(
            notes_of(ActivityQuery {
                lead_id: Some(l1.id),
                sort: ActivitySort::Field {
                    schema_name: "mx_Custom_1".into(),
                    numeric: false
                },
                descending: true,
                ..base.clone()
            })
            .await
            .1,
            vec!["Alpha", "_x", "beta", "Beta", "alpha"],
            "{}: text field sort descending, missing last",
            b.name
        );
    }
}

/// `lead_activities` lists a live lead's activities as `list_activities` does for its id, and
/// finds nothing for an unknown, deleted, other tenant's, or (with `owner_only`) unowned lead.
#[tokio::test]
async fn lead_activities_finds_only_live_visible_leads() {
    for b in backends("lead_activities").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let (other, other_admin) = tenant(s, "other").await;
        let rep = s
            .create_user(t.id, new_user("rep@acme.test", Role::SalesUser))
            .await
            .unwrap();
        let admins = s
            .create_lead(t.id, lead(admin.id, None, None))
            .await
            .unwrap();
        let reps = s.create_lead(t.id, lead(rep.id, None, None)).await.unwrap();
        let foreign = s
            .create_lead(other.id, lead(other_admin.id, None, None))
            .await
            .unwrap();
        let call = s
            .activity_type_by_code(t.id, 101)
            .await
            .unwrap()
            .expect("call type");
        s.insert_activities(
            t.id,
            vec![
                activity(call.id, admins.id, admin.id, 300, "a1"),
                activity(call.id, reps.id, rep.id, 200, "r1"),
                activity(call.id, admins.id, admin.id, 100, "a2"),
            ],
        )
        .await
        .unwrap();
        let q = ActivityQuery {
            records: RecordKind::Activities,
            ..page_query(t.id)
        };
        let notes = |p: Option<activity_hub::domain::Page<ActivityView>>| {
            p.map(|p| {
                (
                    p.total,
                    p.rows.into_iter().map(|r| r.note).collect::<Vec<_>>(),
                )
            })
        };
        let listed = s
            .list_activities(&ActivityQuery {
                lead_id: Some(admins.id),
                ..q.clone()
            })
            .await
            .unwrap();
        let expected = Some((2, vec!["a2".to_string(), "a1".to_string()]));
        assert_eq!(notes(Some(listed)), expected, "{}: list by id", b.name);
        let by_guid = s.lead_activities(admins.guid, None, &q).await.unwrap();
        assert_eq!(notes(by_guid), expected, "{}: by guid", b.name);
        assert_eq!(
            notes(
                s.lead_activities(reps.guid, Some(rep.id), &q)
                    .await
                    .unwrap()
            ),
            Some((1, vec!["r1".to_string()])),
            "{}: a rep's own lead",
            b.name
        );
        for (guid, owner_only, what) in [
            (admins.guid, Some(rep.id), "a lead the rep does not own"),
            (Uuid::now_v7(), None, "an unknown lead"),
            (foreign.guid, None, "another tenant's lead"),
        ] {
            let found = s.lead_activities(guid, owner_only, &q).await.unwrap();
            assert!(found.is_none(), "{}: {what} was found", b.name);
        }
        s.delete_lead(t.id, admins.id).await.unwrap();
        let found = s.lead_activities(admins.guid, None, &q).await.unwrap();
        assert!(found.is_none(), "{}: a deleted lead was found", b.name);
    }
}

#[tokio::test]
async fn tenants_are_isolated() {
    for b in backends("isolation").await {
        let s = &*b.store;
        let (t1, a1) = tenant(s, "one").await;
        let (t2, a2) = tenant(s, "two").await;
        let l1 = s
            .create_lead(t1.id, lead(a1.id, Some("same@x.test"), None))
            .await
            .unwrap();
        // The same email in another tenant is not a duplicate.
        let l2 = s
            .create_lead(t2.id, lead(a2.id, Some("same@x.test"), None))
            .await
            .unwrap();
        let call1 = s
            .activity_type_by_code(t1.id, 101)
            .await
            .unwrap()
            .expect("call");
        let g = activity(call1.id, l1.id, a1.id, 1, "secret");
        let guid = g.guid;
        s.insert_activities(t1.id, vec![g]).await.unwrap();
        assert!(
            s.activity_by_guid(t2.id, guid).await.unwrap().is_none(),
            "{}",
            b.name
        );
        assert!(
            s.lead_by_guid(t2.id, l1.guid).await.unwrap().is_none(),
            "{}",
            b.name
        );
        assert_eq!(
            s.list_activities(&page_query(t2.id)).await.unwrap().total,
            0
        );
        assert_eq!(
            s.list_activities(&ActivityQuery {
                lead_id: Some(l1.id),
                ..page_query(t2.id)
            })
            .await
            .unwrap()
            .total,
            0,
            "{}: another tenant's lead id finds nothing",
            b.name
        );
        assert!(s.user_by_guid(t2.id, a1.guid).await.unwrap().is_none());
        assert_eq!(s.list_users(t2.id).await.unwrap().len(), 1);
        assert_ne!(l1.id, l2.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_get_unique_increasing_timestamps() {
    for b in backends("concurrent").await {
        let (t, admin) = tenant(&*b.store, "acme").await;
        let l = b
            .store
            .create_lead(t.id, lead(admin.id, Some("c@x.test"), None))
            .await
            .unwrap();
        let call = b
            .store
            .activity_type_by_code(t.id, 101)
            .await
            .unwrap()
            .expect("call")
            .id;
        let mut tasks = Vec::new();
        for w in 0..8 {
            let s = b.store.clone();
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..10 {
                    let batch = (0..3)
                        .map(|k| activity(call, l.id, admin.id, w * 1000 + i * 10 + k, "c"))
                        .collect();
                    ids.push(s.insert_activities(t.id, batch).await.expect("insert"));
                }
                ids
            }));
        }
        let mut batches = Vec::new();
        for task in tasks {
            batches.extend(task.await.expect("writer task"));
        }
        let page = b
            .store
            .list_activities(&ActivityQuery {
                sort: ActivitySort::Id,
                ..page_query(t.id)
            })
            .await
            .unwrap();
        assert_eq!(page.total, 240, "{}", b.name);
        let ids: HashSet<i64> = page.rows.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), 240, "{}: ids unique", b.name);
        for w in page.rows.windows(2) {
            assert!(
                w[1].updated_at > w[0].updated_at,
                "{}: in id order, updated_at strictly increases (commit order = timestamp order)",
                b.name
            );
        }
        // Each batch got consecutive timestamps: no other writer's row landed inside it.
        let at: std::collections::HashMap<i64, i64> =
            page.rows.iter().map(|r| (r.id, r.updated_at)).collect();
        for batch in batches {
            let ts: Vec<i64> = batch.iter().map(|id| at[id]).collect();
            assert_eq!(
                ts[2] - ts[0],
                2,
                "{}: batch timestamps are consecutive",
                b.name
            );
        }
    }
}
