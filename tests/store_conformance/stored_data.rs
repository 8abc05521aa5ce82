//! Data kept in step by the database itself: each activity's copy of its lead's owner, and field
//! values that can only be JSON objects.

use std::time::Duration;

use activity_hub::domain::{ActivityType, Lead, Role, Tenant, User};
use activity_hub::store::{self, Store};
use uuid::Uuid;

use crate::fixtures::*;

/// A tenant with its admin, one lead of the admin's and one custom type: what the field-value
/// tests store their activities on.
async fn a_lead_and_a_type(s: &dyn Store) -> (Tenant, User, Lead, ActivityType) {
    let (t, admin) = tenant(s, "acme").await;
    let l = s
        .create_lead(t.id, lead(admin.id, Some("l@x.test"), None))
        .await
        .unwrap();
    let ty = s
        .create_activity_type(t.id, custom_type("Visit", 0))
        .await
        .unwrap();
    (t, admin, l, ty)
}

/// A Sales_User's list is read from each activity's copy of its lead's owner (migration 0005).
/// No API moves an activity to another lead or gives a lead a new owner today; the migration's
/// triggers keep the copy right if either ever happens, which is checked here by doing both in SQL.
#[tokio::test]
async fn the_copied_lead_owner_follows_lead_and_owner_changes() {
    for b in backends("leadowner").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let ann = s
            .create_user(t.id, new_user("ann@acme.test", Role::SalesUser))
            .await
            .unwrap();
        let bob = s
            .create_user(t.id, new_user("bob@acme.test", Role::SalesUser))
            .await
            .unwrap();
        let la = s
            .create_lead(t.id, lead(ann.id, Some("la@x.test"), None))
            .await
            .unwrap();
        let lb = s
            .create_lead(t.id, lead(bob.id, Some("lb@x.test"), None))
            .await
            .unwrap();
        let ty = s
            .create_activity_type(t.id, custom_type("Visit", 0))
            .await
            .unwrap();
        s.insert_activities(
            t.id,
            vec![
                activity(ty.id, la.id, admin.id, 1, "a1"),
                activity(ty.id, la.id, admin.id, 2, "a2"),
                activity(ty.id, lb.id, admin.id, 3, "b1"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(
            notes_visible_to(s, t.id, ann.id).await,
            ["a1", "a2"],
            "{}",
            b.name
        );
        assert_eq!(
            notes_visible_to(s, t.id, bob.id).await,
            ["b1"],
            "{}",
            b.name
        );

        exec_sql(
            &b,
            &format!(
                "UPDATE activities SET lead_id = {} WHERE tenant_id = {} AND note = 'a1'",
                lb.id, t.id
            ),
        );
        assert_eq!(
            notes_visible_to(s, t.id, ann.id).await,
            ["a2"],
            "{}",
            b.name
        );
        assert_eq!(
            notes_visible_to(s, t.id, bob.id).await,
            ["a1", "b1"],
            "{}",
            b.name
        );

        exec_sql(
            &b,
            &format!(
                "UPDATE leads SET owner_id = {} WHERE tenant_id = {} AND id = {}",
                bob.id, t.id, la.id
            ),
        );
        assert!(
            notes_visible_to(s, t.id, ann.id).await.is_empty(),
            "{}",
            b.name
        );
        assert_eq!(
            notes_visible_to(s, t.id, bob.id).await,
            ["a1", "a2", "b1"],
            "{}",
            b.name
        );

        // Rows of several leads in one page each show their own lead, as it is now: its owner,
        // its name and email after an edit, and whether it is deleted.
        exec_sql(
            &b,
            &format!(
                "UPDATE leads SET first_name = 'Renamed', email = 'new@x.test' WHERE tenant_id = {} AND id = {}",
                t.id, lb.id
            ),
        );
        s.delete_lead(t.id, la.id).await.unwrap();
        let page = s.list_activities(&page_query(t.id)).await.unwrap();
        let shown: Vec<_> = page
            .rows
            .iter()
            .map(|r| {
                (
                    r.note.as_str(),
                    r.lead_guid,
                    r.lead_owner_id,
                    r.lead_first_name.as_deref(),
                    r.lead_email.as_deref(),
                    r.lead_deleted,
                )
            })
            .collect();
        let (renamed, new_email) = (Some("Renamed"), Some("new@x.test"));
        assert_eq!(
            shown,
            [
                ("a1", Some(lb.guid), Some(bob.id), renamed, new_email, false),
                (
                    "a2",
                    Some(la.guid),
                    Some(bob.id),
                    la.first_name.as_deref(),
                    Some("la@x.test"),
                    true
                ),
                ("b1", Some(lb.guid), Some(bob.id), renamed, new_email, false),
            ],
            "{}",
            b.name
        );
    }
}

/// SQLite pastes stored field values into its pages without parsing them again, so its database
/// refuses any value that is not one JSON object, from anyone (migration 0007); opening a store
/// written before that migration checks the rows it already holds. PostgreSQL stores them as
/// `jsonb` and needs neither.
#[tokio::test]
async fn sqlite_holds_nothing_but_json_objects_as_field_values() {
    let b = sqlite().await;
    let s = &*b.store;
    let (t, admin, l, ty) = a_lead_and_a_type(s).await;
    let mut a = activity(ty.id, l.id, admin.id, 1, "a");
    a.fields.insert("mx_Custom_1".into(), "one".into());
    let ids = s.insert_activities(t.id, vec![a]).await.unwrap();
    let path = b
        .url
        .strip_prefix("sqlite://")
        .expect("sqlite URL")
        .to_string();
    let raw = || {
        let c = rusqlite::Connection::open(&path).expect("open the SQLite file");
        c.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        c
    };
    let set = |value: &str| {
        raw().execute(
            "UPDATE activities SET fields = ?1 WHERE id = ?2",
            rusqlite::params![value, ids[0]],
        )
    };
    for bad in ["not json", "[1]", "\"text\"", "{\"a\":", ""] {
        let e = set(bad).expect_err(bad).to_string();
        assert!(e.contains("fields_must_be_one_json_object"), "{bad}: {e}");
    }
    let copy_with = |fields: &str| {
        raw().execute(
            "INSERT INTO activities (tenant_id, guid, type_id, event_code, lead_id, owner_id,
                 created_by, modified_by, occurred_at, created_at, updated_at, fields, sl_type,
                 res_kind, res_id)
             SELECT tenant_id, ?2, type_id, event_code, lead_id, owner_id, created_by, modified_by,
                 occurred_at, created_at, updated_at + 1000, ?1, sl_type, res_kind, res_id
             FROM activities WHERE id = ?3",
            rusqlite::params![fields, Uuid::now_v7().to_string(), ids[0]],
        )
    };
    let e = copy_with("{\"a\":1").expect_err("insert").to_string();
    assert!(e.contains("fields_must_be_one_json_object"), "{e}");
    // Refused writes changed nothing; an object is taken and read back as stored.
    let fields_now = || async {
        let page = s.list_activities(&page_query(t.id)).await.unwrap();
        page.rows
            .iter()
            .map(|r| r.fields.as_json().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(fields_now().await, [r#"{"mx_Custom_1":"one"}"#]);
    set(r#"{ "mx_Custom_1": "edited" }"#).expect("an object");
    assert_eq!(fields_now().await, [r#"{ "mx_Custom_1": "edited" }"#]);

    // A file from before migration 0007 holding a value that is not an object: opening it fails,
    // naming the activity, and applies nothing; once the value is mended it opens.
    drop(b.store);
    // (Later migrations' tables, indexes and columns go too, so that the file is as version 6 left it.)
    raw()
        .execute_batch(
            "ALTER TABLE activities DROP COLUMN fields_are_an_object;
             DROP INDEX leads_tenant_created; DROP INDEX leads_tenant_modified;
             DROP INDEX leads_live_updated; DROP INDEX leads_live_created;
             DROP INDEX leads_live_owner_updated; DROP INDEX leads_live_owner_created;
             DROP INDEX accounts_tenant_updated; DROP INDEX accounts_tenant_created;
             DROP INDEX users_tenant_updated; DROP INDEX users_tenant_created;
             DROP INDEX users_tenant_id; ALTER TABLE users DROP COLUMN updated_at;
             DROP TRIGGER activity_weekly_counts_insert; DROP TRIGGER activity_weekly_counts_delete;
             DROP TRIGGER activity_weekly_counts_update; DROP TABLE activity_weekly_counts;
             DROP TABLE idempotency_keys;
             DROP TABLE webhook_deliveries; DROP TABLE webhooks;
             DROP TABLE activity_changes; DROP TABLE deleted_activities; DROP INDEX leads_deleted;
             DROP TRIGGER activity_counts_insert; DROP TRIGGER activity_counts_delete;
             DROP TRIGGER activity_counts_update; DROP TABLE activity_counts;
             DROP INDEX leads_search_name; DROP INDEX leads_search_last;
             DROP TRIGGER lead_fields_insert; DROP TRIGGER lead_fields_update;
             DROP TABLE lead_fields;
             PRAGMA user_version = 6;",
        )
        .expect("back to version 6");
    set("[1]").expect("no check before 0007");
    let e = match store::open(&b.url).await {
        Ok(_) => panic!("opened a store whose field values are not all objects"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains(&format!("activities {} ", ids[0])), "{e}");
    assert!(e.contains("not a JSON object"), "{e}");
    let version = |c: &rusqlite::Connection| -> i64 {
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&raw()), 6);
    set("{}").expect("mended");
    let reopened = store::open(&b.url).await.expect("open after mending");
    assert_eq!(
        version(&raw()),
        18,
        "0007 and every later migration applied"
    );
    // Migration 0011 counted the activities stored before it.
    assert_eq!(
        crate::counts::count_drift(b.name, &b.url),
        Vec::<String>::new()
    );
    let page = reopened.list_activities(&page_query(t.id)).await.unwrap();
    assert_eq!((page.total, page.rows.len()), (1, 1));
    let e = set("[2]").expect_err("the check is back").to_string();
    assert!(e.contains("fields_must_be_one_json_object"), "{e}");
    drop(reopened);
}

/// The migration making `lead_fields` (SQLite 0017, PostgreSQL 0016) fills it with the attribute
/// names the tenant's leads hold, deleted leads' included, and the triggers keep it from then on.
#[tokio::test]
async fn the_lead_fields_migration_copies_the_names_leads_hold() {
    for b in backends("leadfields").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let (other, other_admin) = tenant(s, "initech").await;
        let mut live = lead(admin.id, Some("live@x.test"), None);
        live.attributes.insert("mx_Live".into(), "1".into());
        s.create_lead(t.id, live).await.unwrap();
        let mut gone = lead(admin.id, Some("gone@x.test"), None);
        gone.attributes.insert("mx_Gone".into(), "1".into());
        let gone = s.create_lead(t.id, gone).await.unwrap();
        s.delete_lead(t.id, gone.id).await.unwrap();
        let mut theirs = lead(other_admin.id, Some("theirs@x.test"), None);
        theirs.attributes.insert("mx_Theirs".into(), "1".into());
        s.create_lead(other.id, theirs).await.unwrap();
        // Back to the schema before the migration, the leads kept.
        if b.name == "sqlite" {
            exec_sql(
                &b,
                "DROP INDEX leads_search_name; DROP INDEX leads_search_last;
                 DROP TRIGGER lead_fields_insert; DROP TRIGGER lead_fields_update;
                 DROP TABLE lead_fields; PRAGMA user_version = 16;",
            );
        } else {
            exec_sql(
                &b,
                "DROP INDEX leads_search_name, leads_search_last, leads_search_email,
                            leads_search_phone, leads_search_mobile;
                 DROP TRIGGER lead_fields_keep ON leads; DROP FUNCTION lead_fields_keep();
                 DROP TABLE lead_fields; DELETE FROM schema_migrations WHERE version >= 16;",
            );
        }
        let reopened = store::open(&b.url).await.expect("migrate again");
        assert_eq!(
            reopened.lead_attribute_names(t.id, 10).await.unwrap(),
            vec!["mx_Gone".to_string(), "mx_Live".into()],
            "{}",
            b.name
        );
        assert_eq!(
            reopened.lead_attribute_names(other.id, 10).await.unwrap(),
            vec!["mx_Theirs".to_string()],
            "{}",
            b.name
        );
        let mut next = lead(admin.id, Some("next@x.test"), None);
        next.attributes.insert("mx_Next".into(), "1".into());
        reopened.create_lead(t.id, next).await.unwrap();
        assert_eq!(
            reopened.lead_attribute_names(t.id, 10).await.unwrap().len(),
            3,
            "{}",
            b.name
        );
    }
}

/// Field values read back as the canonical text (compact, keys in byte order) on both backends,
/// whatever the database's own form: PostgreSQL prints `jsonb` with spaces and shorter keys first,
/// and its rows are read without unescaping when no value needs it, through an owned map when one
/// does.
#[tokio::test]
async fn field_values_read_back_as_their_canonical_text() {
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![
            ("mx_Custom_10", "ten"),
            ("mx_Custom_9", "nine"),
            ("b", "é ✓ </x>"),
        ],
        vec![
            ("mx_Custom_1", "say \"hi\"\tand\\ more"),
            ("mx_Custom_2", "line\nbreak\u{1}"),
        ],
        vec![("mx_Custom_1", "plain"), ("mx_Custom_2", "back\\slash")],
    ];
    for b in backends("canonicalfields").await {
        let s = &*b.store;
        let (t, admin, l, ty) = a_lead_and_a_type(s).await;
        let mut wanted = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let mut a = activity(ty.id, l.id, admin.id, i as i64 + 1, &format!("n{i}"));
            for (k, v) in case {
                a.fields.insert(k.to_string(), v.to_string());
            }
            wanted.push((
                format!("n{i}"),
                activity_hub::domain::fields::FieldValues::from_map(&a.fields)
                    .as_json()
                    .to_string(),
            ));
            s.insert_activities(t.id, vec![a]).await.unwrap();
        }
        let page = s.list_activities(&page_query(t.id)).await.unwrap();
        let mut got: Vec<(String, String)> = page
            .rows
            .iter()
            .map(|r| (r.note.clone(), r.fields.as_json().to_string()))
            .collect();
        got.sort();
        wanted.sort();
        assert_eq!(got, wanted, "{}", b.name);
    }
}
