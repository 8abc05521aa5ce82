//! Change history and the trash as every backend must keep them: a change record per update,
//! delete and restore written with the change; restore brings back id, values and score; the
//! purge removes what has expired and nothing else.

use activity_hub::domain::history::{ActivityRef, Api, ChangeQuery, PurgeBefore};
use activity_hub::domain::time::now_micros;
use activity_hub::domain::ActivityUpdate;
use activity_hub::error::Error;

use crate::fixtures::*;

fn changes_of(tenant_id: i64, activity_id: i64) -> ChangeQuery {
    ChangeQuery {
        tenant_id,
        activity_id: Some(activity_id),
        event_codes: Vec::new(),
        changed_from: None,
        changed_to: None,
        owner_only: None,
        after_id: 0,
        offset: 0,
        limit: 100,
        count: true,
    }
}

#[tokio::test]
async fn history_trash_restore_and_purge() {
    for b in backends("history").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let l = s
            .create_lead(t.id, lead(admin.id, Some("a@x.test"), None))
            .await
            .unwrap();
        let ty = s
            .create_activity_type(t.id, custom_type("Scored", 5))
            .await
            .unwrap();
        let mut a = activity(ty.id, l.id, admin.id, 1_000_000, "first");
        a.score = 5;
        a.fields.insert("mx_Custom_1".into(), "1".into());
        let guid = a.guid;
        let id = s.insert_activities(t.id, vec![a]).await.unwrap()[0];
        let actor = admin.actor(Api::LeadSquared);

        // An update records only what changed, with who and which API.
        s.update_activity(
            t.id,
            ActivityUpdate {
                id,
                note: Some("second".into()),
                ..Default::default()
            },
            actor,
        )
        .await
        .unwrap();
        let page = s.activity_changes(&changes_of(t.id, id)).await.unwrap();
        assert_eq!(page.total, 1, "{}", b.name);
        let c = &page.rows[0];
        assert_eq!(
            (c.api.as_str(), c.action.as_str()),
            ("leadsquared", "updated")
        );
        assert_eq!(c.user_guid, Some(admin.guid), "{}", b.name);
        assert_eq!(
            c.before,
            Some(serde_json::json!({"note": "first"})),
            "{}",
            b.name
        );
        assert_eq!(
            c.after,
            Some(serde_json::json!({"note": "second"})),
            "{}",
            b.name
        );
        assert_eq!(c.lead_guid, Some(l.guid));

        // A failed update records nothing.
        let e = s
            .update_activity(
                t.id,
                ActivityUpdate {
                    id: 9_999_999,
                    note: Some("x".into()),
                    ..Default::default()
                },
                actor,
            )
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "{}: {e:?}", b.name);
        assert_eq!(
            s.activity_changes(&changes_of(t.id, id))
                .await
                .unwrap()
                .total,
            1
        );

        // Delete: gone from reads, score taken back, in the trash, recorded.
        let before = s.activity_by_id(t.id, id).await.unwrap().expect("live");
        s.delete_activity(t.id, id, admin.actor(Api::Native))
            .await
            .unwrap();
        assert!(
            s.activity_by_id(t.id, id).await.unwrap().is_none(),
            "{}",
            b.name
        );
        assert_eq!(
            s.lead_by_guid(t.id, l.guid).await.unwrap().unwrap().score,
            0
        );
        let trashed = s
            .trashed_activity(t.id, ActivityRef::Guid(guid))
            .await
            .unwrap()
            .expect("in the trash");
        assert_eq!(trashed.id, id);
        assert_eq!(trashed.lead_owner_id, Some(admin.id));

        // Restore: same id and guid, values, score; a fresh updated_at.
        let since = now_micros() - 3_600_000_000;
        s.restore_activity(t.id, id, since, admin.actor(Api::Native))
            .await
            .unwrap();
        let back = s
            .activity_by_guid(t.id, guid)
            .await
            .unwrap()
            .expect("restored");
        assert_eq!(back.id, id, "{}", b.name);
        assert_eq!(back.note, "second");
        assert_eq!(
            back.fields.to_map().get("mx_Custom_1"),
            Some(&"1".to_string())
        );
        assert!(back.updated_at > before.updated_at, "{}", b.name);
        assert_eq!(
            s.lead_by_guid(t.id, l.guid).await.unwrap().unwrap().score,
            5
        );
        assert!(s
            .trashed_activity(t.id, ActivityRef::Id(id))
            .await
            .unwrap()
            .is_none());
        let actions: Vec<String> = s
            .activity_changes(&changes_of(t.id, id))
            .await
            .unwrap()
            .rows
            .into_iter()
            .map(|c| c.action)
            .collect();
        assert_eq!(actions, ["updated", "deleted", "restored"], "{}", b.name);
        // Restoring what is not in the trash is NotFound.
        let e = s
            .restore_activity(t.id, id, since, admin.actor(Api::Native))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "{}: {e:?}", b.name);

        // Deleted before the window: not restorable; the purge removes it and spares the rest.
        s.delete_activity(t.id, id, admin.actor(Api::Native))
            .await
            .unwrap();
        let later = now_micros() + 1_000_000;
        let e = s
            .restore_activity(t.id, id, later, admin.actor(Api::Native))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "{}: {e:?}", b.name);
        let keep = s
            .insert_activities(
                t.id,
                vec![activity(ty.id, l.id, admin.id, 2_000_000, "keep")],
            )
            .await
            .unwrap()[0];
        let purge = PurgeBefore {
            activities: Some(later),
            leads: Some(later),
            history: None,
            batch: 10,
        };
        assert!(s.purge_expired(purge).await.unwrap() >= 1, "{}", b.name);
        assert!(s
            .trashed_activity(t.id, ActivityRef::Id(id))
            .await
            .unwrap()
            .is_none());
        assert!(
            s.activity_by_id(t.id, keep).await.unwrap().is_some(),
            "{}",
            b.name
        );
        assert_eq!(s.purge_expired(purge).await.unwrap(), 0, "{}", b.name);
        // History outlives the purge until its own retention, then goes.
        assert_eq!(
            s.activity_changes(&changes_of(t.id, id))
                .await
                .unwrap()
                .total,
            4
        );
        let prune = PurgeBefore {
            activities: None,
            leads: None,
            history: Some(later),
            batch: 2,
        };
        let mut pruned = 0;
        loop {
            let n = s.purge_expired(prune).await.unwrap();
            assert!(n <= 2, "bounded batches");
            if n == 0 {
                break;
            }
            pruned += n;
        }
        assert_eq!(pruned, 4, "{}", b.name);

        // A deleted lead: restorable within the window, purged with its activities after it.
        s.delete_lead(t.id, l.id).await.unwrap();
        s.restore_lead(t.id, l.guid, since).await.unwrap();
        assert!(
            s.lead_by_guid(t.id, l.guid).await.unwrap().is_some(),
            "{}",
            b.name
        );
        s.delete_lead(t.id, l.id).await.unwrap();
        let e = s.restore_lead(t.id, l.guid, later).await.unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "{}: {e:?}", b.name);
        assert!(s.purge_expired(purge).await.unwrap() >= 2, "{}", b.name);
        assert!(
            s.activity_by_id(t.id, keep).await.unwrap().is_none(),
            "{}",
            b.name
        );
        let e = s.restore_lead(t.id, l.guid, since).await.unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "{}: {e:?}", b.name);
    }
}
