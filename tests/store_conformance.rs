//! One conformance suite for every `Store` backend: each test runs the same scenario on SQLite
//! and, when `ACTIVITY_HUB_TEST_PG` names a server, on a fresh PostgreSQL database, so that both
//! backends are held to one behaviour (errors, ordering, timestamps, atomicity, isolation). Tests
//! that compare the two backends or exercise PostgreSQL alone are reported ignored without it.

#[path = "common/pg.rs"]
mod pg;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use activity_hub::auth::digest;
use activity_hub::domain::{
    starter_types, ActivityQuery, ActivitySort, ActivityUpdate, ActivityView, DataType, FieldDef,
    LeadKey, NewActivity, NewActivityType, NewLead, NewUser, RecordKind, Role, Tenant, TypeKind,
    User,
};
use activity_hub::error::{Error, Unique};
use activity_hub::store::{self, Store};
use uuid::Uuid;

const SUITE: &str = "store_conformance";

enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Pg(#[allow(dead_code)] pg::PgDb),
}

/// One backend under test; the store is declared first so it closes before its database goes.
struct Backend {
    name: &'static str,
    store: Arc<dyn Store>,
    url: String,
    _guard: Guard,
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/conformance.db", dir.path().display());
    let store = store::open(&url).await.expect("open sqlite store");
    Backend {
        name: "sqlite",
        store,
        url,
        _guard: Guard::Sqlite(dir),
    }
}

async fn postgres(test: &str) -> Option<Backend> {
    let admin = pg::admin_url(SUITE)?;
    Some(postgres_on(&admin, test).await)
}

/// A fresh PostgreSQL database for a PostgreSQL-only test; panics when none is configured.
async fn postgres_required(test: &str) -> Backend {
    postgres_on(&pg::required_admin_url(SUITE), test).await
}

async fn postgres_on(admin: &str, test: &str) -> Backend {
    let db = pg::PgDb::create(admin, test);
    let store = store::open(&db.url)
        .await
        .unwrap_or_else(|e| panic!("open postgres store: {e}"));
    Backend {
        name: "postgres",
        store,
        url: db.url.clone(),
        _guard: Guard::Pg(db),
    }
}

/// SQLite always, PostgreSQL when configured.
async fn backends(test: &str) -> Vec<Backend> {
    let mut all = vec![sqlite().await];
    all.extend(postgres(test).await);
    all
}

fn new_user(email: &str, role: Role) -> NewUser {
    let salt = Uuid::new_v4().to_string();
    NewUser {
        guid: Uuid::now_v7(),
        email: email.to_string(),
        first_name: email.split('@').next().unwrap_or_default().to_string(),
        last_name: "Tester".into(),
        role,
        access_key_digest: digest(&format!("a{salt}")),
        secret_key_digest: digest(&format!("s{salt}")),
        api_key_digest: digest(&format!("k{salt}")),
    }
}

async fn tenant(s: &dyn Store, name: &str) -> (Tenant, User) {
    s.create_tenant(
        name,
        new_user(&format!("admin@{name}.test"), Role::Administrator),
        starter_types(),
    )
    .await
    .expect("create tenant")
}

fn lead(owner: i64, email: Option<&str>, phone: Option<&str>) -> NewLead {
    NewLead {
        guid: Uuid::now_v7(),
        first_name: Some("Lee".into()),
        last_name: Some("Ad".into()),
        email: email.map(str::to_string),
        phone: phone.map(str::to_string),
        owner_id: owner,
        ..Default::default()
    }
}

fn activity(type_id: i64, lead_id: i64, user: i64, occurred_at: i64, note: &str) -> NewActivity {
    NewActivity {
        guid: Uuid::now_v7(),
        type_id,
        lead_id: Some(lead_id),
        account_id: None,
        opportunity_id: None,
        owner_id: user,
        created_by: user,
        note: note.to_string(),
        occurred_at,
        score: 0,
        status: "Active".into(),
        fields: BTreeMap::new(),
        pinned: false,
        tags: Vec::new(),
        static_data: Default::default(),
    }
}

fn custom_type(name: &str, score: i64) -> NewActivityType {
    NewActivityType {
        guid: Uuid::now_v7(),
        event_code: None,
        name: name.to_string(),
        display_name: name.to_string(),
        score,
        description: String::new(),
        direction: 0,
        kind: TypeKind::Custom,
        is_email_type: false,
        salesloft_type: "call".into(),
        fields: vec![FieldDef {
            schema_name: "mx_Custom_1".into(),
            display_name: "Amount".into(),
            data_type: DataType::Number,
            is_mandatory: false,
            sequence: 1,
            options: Vec::new(),
        }],
    }
}

fn clash(e: Error) -> Unique {
    match e {
        Error::Duplicate(u) => u,
        other => panic!("expected Duplicate, got {other:?}"),
    }
}

fn page_query(tenant_id: i64) -> ActivityQuery {
    ActivityQuery {
        sort: ActivitySort::OccurredAt,
        descending: false,
        limit: 1000,
        ..ActivityQuery::new(tenant_id)
    }
}

#[tokio::test]
async fn tenants_users_and_credentials() {
    for b in backends("users").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        assert_eq!(admin.role, Role::Administrator, "{}", b.name);
        assert_eq!(admin.tenant_guid, t.guid);
        assert_eq!(s.count_tenants().await.unwrap(), 1, "{}", b.name);
        assert_eq!(
            s.tenant_by_guid(t.guid).await.unwrap().map(|x| x.id),
            Some(t.id)
        );
        assert!(s.tenant_by_guid(Uuid::new_v4()).await.unwrap().is_none());

        let nu = new_user("Sam@Acme.test", Role::SalesUser);
        let (access, api) = (nu.access_key_digest, nu.api_key_digest);
        let sam = s.create_user(t.id, nu.clone()).await.unwrap();
        let creds = s
            .user_by_access_key(&access)
            .await
            .unwrap()
            .expect("by access key");
        assert_eq!(creds.user.id, sam.id, "{}", b.name);
        assert_eq!(creds.secret_key_digest, nu.secret_key_digest.to_vec());
        assert_eq!(
            s.user_by_api_key(&api).await.unwrap().map(|u| u.id),
            Some(sam.id)
        );
        assert!(s.user_by_api_key(&digest("nope")).await.unwrap().is_none());
        let found = s.user_by_email(t.id, " sam@ACME.test ").await.unwrap();
        assert_eq!(
            found.map(|u| u.id),
            Some(sam.id),
            "{}: email lookup ignores case",
            b.name
        );
        assert_eq!(
            s.user_by_guid(t.id, sam.guid)
                .await
                .unwrap()
                .map(|u| u.email),
            Some("Sam@Acme.test".into())
        );
        let users = s.list_users(t.id).await.unwrap();
        assert_eq!(
            users.iter().map(|u| u.id).collect::<Vec<_>>(),
            vec![admin.id, sam.id]
        );

        let dup = s
            .create_user(t.id, new_user("SAM@acme.test", Role::SalesUser))
            .await
            .unwrap_err();
        assert_eq!(
            clash(dup),
            Unique::UserEmail("SAM@acme.test".into()),
            "{}",
            b.name
        );
        // Another tenant may use the same email.
        let (t2, _) = tenant(s, "other").await;
        s.create_user(t2.id, new_user("sam@acme.test", Role::SalesUser))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn lead_uniqueness_names_the_field() {
    for b in backends("leads").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let mut l = lead(admin.id, Some("Pat@Example.com"), Some("+1 555 0100"));
        l.mobile = Some("+1 555 0199".into());
        l.attributes.insert("mx_City".into(), "Pune".into());
        let created = s.create_lead(t.id, l).await.unwrap();
        assert_eq!(created.owner_id, admin.id);
        assert_eq!(
            created.attributes.get("mx_City").map(String::as_str),
            Some("Pune")
        );
        assert_eq!(created.created_at, created.updated_at);

        let by_email = s
            .lead_by_key(t.id, LeadKey::Email, "pat@EXAMPLE.com")
            .await
            .unwrap();
        assert_eq!(by_email.map(|l| l.id), Some(created.id), "{}", b.name);
        let by_mobile = s
            .lead_by_key(t.id, LeadKey::Mobile, "+1 555 0199")
            .await
            .unwrap();
        assert_eq!(by_mobile.map(|l| l.id), Some(created.id));

        let cases = [
            (
                lead(admin.id, Some("pat@example.COM"), None),
                LeadKey::Email,
            ),
            (lead(admin.id, None, Some("+1 555 0100")), LeadKey::Phone),
            (
                NewLead {
                    mobile: Some("+1 555 0199".into()),
                    ..lead(admin.id, None, None)
                },
                LeadKey::Mobile,
            ),
        ];
        for (l, key) in cases {
            let e = s.create_lead(t.id, l).await.unwrap_err();
            assert_eq!(clash(e), Unique::Lead(key), "{}", b.name);
        }
    }
}

#[tokio::test]
async fn create_leads_is_one_transaction_returning_ids_in_order() {
    for b in backends("bulk_leads").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let batch: Vec<NewLead> = (0..50)
            .map(|i| lead(admin.id, Some(&format!("l{i}@x.test")), None))
            .collect();
        let guids: Vec<Uuid> = batch.iter().map(|l| l.guid).collect();
        let ids = s.create_leads(t.id, batch).await.unwrap();
        assert_eq!(ids.len(), 50);
        for (g, id) in guids.iter().zip(&ids) {
            assert_eq!(
                s.lead_by_guid(t.id, *g).await.unwrap().map(|l| l.id),
                Some(*id),
                "{}",
                b.name
            );
        }
        // One duplicate in a batch: nothing of the batch is stored.
        let bad = vec![
            lead(admin.id, Some("fresh@x.test"), None),
            lead(admin.id, Some("L7@x.test"), None),
        ];
        let fresh = bad[0].guid;
        let e = s.create_leads(t.id, bad).await.unwrap_err();
        assert!(matches!(e, Error::Duplicate(_)), "{}: {e:?}", b.name);
        assert!(
            s.lead_by_guid(t.id, fresh).await.unwrap().is_none(),
            "{}: partial batch stored",
            b.name
        );
    }
}

#[tokio::test]
async fn activity_types_codes_names_and_updates() {
    for b in backends("types").await {
        let s = &*b.store;
        let (t, _) = tenant(s, "acme").await;
        let types = s.list_activity_types(t.id).await.unwrap();
        assert_eq!(types.len(), starter_types().len(), "{}", b.name);
        let codes: Vec<i64> = types.iter().map(|t| t.event_code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(codes, sorted, "{}: types ordered by code", b.name);
        assert_eq!(types[0].event_code, 101);
        assert_eq!(types[0].salesloft_type, "call");

        let a = s
            .create_activity_type(t.id, custom_type("Demo", 5))
            .await
            .unwrap();
        let c = s
            .create_activity_type(t.id, custom_type("Visit", 0))
            .await
            .unwrap();
        assert_eq!((a.event_code, c.event_code), (201, 202), "{}", b.name);
        assert_eq!(a.fields.len(), 1);
        assert_eq!(a.fields[0].data_type, DataType::Number);

        let e = s
            .create_activity_type(t.id, custom_type("DEMO", 0))
            .await
            .unwrap_err();
        assert_eq!(clash(e), Unique::TypeName, "{}", b.name);
        let mut coded = custom_type("Coded", 0);
        coded.event_code = Some(202);
        let e = s.create_activity_type(t.id, coded).await.unwrap_err();
        assert_eq!(clash(e), Unique::TypeCode, "{}", b.name);

        // Looked up (and, on SQLite, kept in its type directory) before the change below: the
        // lookup after it must not answer from what was kept.
        let before = s
            .activity_type_by_code(t.id, 201)
            .await
            .unwrap()
            .expect("type 201");
        assert_eq!(
            (before.name.as_str(), before.score),
            ("Demo", 5),
            "{}",
            b.name
        );
        let mut changed = a.clone();
        changed.name = "Demo call".into();
        changed.score = 9;
        changed.fields.clear();
        s.update_activity_type(t.id, changed).await.unwrap();
        let got = s
            .activity_type_by_code(t.id, 201)
            .await
            .unwrap()
            .expect("type 201");
        assert_eq!(
            (got.name.as_str(), got.score, got.fields.len()),
            ("Demo call", 9, 0),
            "{}",
            b.name
        );
        assert!(s.activity_type_by_code(t.id, 999).await.unwrap().is_none());
    }
}

/// Activities show their type as it is now: a list or lookup after `update_activity_type` never
/// shows the old name, direction or Salesloft type (SQLite keeps types in memory for rows).
#[tokio::test]
async fn activities_show_their_type_as_last_updated() {
    for b in backends("type_labels").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let l = s
            .create_lead(t.id, lead(admin.id, Some("a@x.test"), None))
            .await
            .unwrap();
        let ty = s
            .create_activity_type(t.id, custom_type("Demo", 1))
            .await
            .unwrap();
        let ids = s
            .insert_activities(t.id, vec![activity(ty.id, l.id, admin.id, 1_000, "n")])
            .await
            .unwrap();
        let shown = |a: &ActivityView| {
            (
                a.type_name.clone(),
                a.type_display_name.clone(),
                a.direction,
                a.salesloft_type.clone(),
            )
        };
        // Read once, so that a backend that remembers types has this one.
        let page = s.list_activities(&page_query(t.id)).await.unwrap();
        assert_eq!(
            page.rows.iter().map(shown).collect::<Vec<_>>(),
            vec![("Demo".into(), "Demo".into(), 0, "call".into())],
            "{}",
            b.name
        );
        let mut changed = ty.clone();
        changed.name = "Demo meeting".into();
        changed.display_name = "Demo Meeting".into();
        changed.direction = 1;
        changed.salesloft_type = "meeting".into();
        s.update_activity_type(t.id, changed).await.unwrap();
        let want = (
            "Demo meeting".into(),
            "Demo Meeting".into(),
            1,
            "meeting".into(),
        );
        let page = s.list_activities(&page_query(t.id)).await.unwrap();
        assert_eq!(
            page.rows.iter().map(shown).collect::<Vec<_>>(),
            vec![want.clone()],
            "{}",
            b.name
        );
        let one = s
            .activity_by_id(t.id, ids[0])
            .await
            .unwrap()
            .expect("the activity");
        assert_eq!(shown(&one), want, "{}", b.name);
    }
}

#[tokio::test]
async fn activities_get_ids_in_order_unique_timestamps_and_scores() {
    for b in backends("activities").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let l = s
            .create_lead(t.id, lead(admin.id, Some("a@x.test"), None))
            .await
            .unwrap();
        let ty = s
            .create_activity_type(t.id, custom_type("Scored", 3))
            .await
            .unwrap();
        let mut batch: Vec<NewActivity> = (0..30)
            .map(|i| {
                let mut a = activity(ty.id, l.id, admin.id, 1_000_000 + i, &format!("n{i}"));
                a.score = 3;
                a.fields.insert("mx_Custom_1".into(), format!("{i}"));
                a
            })
            .collect();
        batch[0].tags = vec!["x".into()];
        let guids: Vec<Uuid> = batch.iter().map(|a| a.guid).collect();
        let ids = s.insert_activities(t.id, batch).await.unwrap();
        assert_eq!(ids.len(), 30);
        let mut last_updated = 0;
        for (i, (g, id)) in guids.iter().zip(&ids).enumerate() {
            let v = s
                .activity_by_guid(t.id, *g)
                .await
                .unwrap()
                .expect("stored activity");
            assert_eq!(v.id, *id, "{}: ids in request order", b.name);
            assert_eq!(v.created_at, v.updated_at);
            assert!(
                v.updated_at > last_updated,
                "{}: timestamps strictly increase",
                b.name
            );
            last_updated = v.updated_at;
            assert_eq!(v.note, format!("n{i}"));
            assert_eq!(v.fields.to_map().get("mx_Custom_1"), Some(&format!("{i}")));
            assert_eq!(v.lead_id, Some(l.id));
            assert_eq!(v.event_code, ty.event_code);
            assert_eq!(v.owner_name, admin.full_name());
        }
        let scored = s.lead_by_guid(t.id, l.guid).await.unwrap().expect("lead");
        assert_eq!(scored.score, 90, "{}: lead score adds up", b.name);

        // An update moves updated_at past every earlier timestamp of the tenant.
        s.update_activity(
            t.id,
            ActivityUpdate {
                id: ids[3],
                modified_by: admin.id,
                note: Some("edited".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let v = s
            .activity_by_guid(t.id, guids[3])
            .await
            .unwrap()
            .expect("activity");
        assert_eq!(v.note, "edited");
        assert!(v.updated_at > last_updated, "{}", b.name);
        let missing = s
            .update_activity(
                t.id,
                ActivityUpdate {
                    id: 9_999_999,
                    modified_by: admin.id,
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(missing, Error::NotFound(_)),
            "{}: {missing:?}",
            b.name
        );
    }
}

/// `insert_activity_scored` stores the activity and returns its lead's score as the insert left it
/// (a zero-score activity included), on both backends.
#[tokio::test]
async fn a_scored_insert_returns_the_leads_new_score() {
    for b in backends("scored").await {
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
        let mut expected = 0;
        for score in [5, 0, -2] {
            let mut a = activity(ty.id, l.id, admin.id, 1_000, "n");
            a.score = score;
            let guid = a.guid;
            expected += score;
            let got = s.insert_activity_scored(t.id, a).await.unwrap();
            assert_eq!(got, expected, "{}", b.name);
            assert!(s.activity_by_guid(t.id, guid).await.unwrap().is_some());
        }
        let stored = s.lead_by_guid(t.id, l.guid).await.unwrap().expect("lead");
        assert_eq!(stored.score, expected, "{}", b.name);
    }
}

#[tokio::test]
async fn a_failing_batch_stores_nothing() {
    for b in backends("atomic").await {
        let s = &*b.store;
        let (t, admin) = tenant(s, "acme").await;
        let l = s
            .create_lead(t.id, lead(admin.id, Some("a@x.test"), None))
            .await
            .unwrap();
        let ty = s
            .create_activity_type(t.id, custom_type("Scored", 2))
            .await
            .unwrap();
        let mut good = activity(ty.id, l.id, admin.id, 5, "ok");
        good.score = 2;
        let bad = activity(987_654, l.id, admin.id, 6, "unknown type");
        let e = s
            .insert_activities(t.id, vec![good, bad])
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "{}: {e:?}", b.name);
        let page = s.list_activities(&page_query(t.id)).await.unwrap();
        assert_eq!(
            page.total, 0,
            "{}: nothing of the failed batch is stored",
            b.name
        );
        assert_eq!(
            s.lead_by_guid(t.id, l.guid).await.unwrap().map(|l| l.score),
            Some(0)
        );
    }
}

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

/// Runs `sql` on the backend's database beside the store (for changes no API makes).
fn exec_sql(b: &Backend, sql: &str) {
    if b.name == "sqlite" {
        let path = b.url.strip_prefix("sqlite://").expect("sqlite URL");
        let c = rusqlite::Connection::open(path).expect("open the SQLite file");
        c.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        c.execute_batch(sql).expect("run SQL");
    } else {
        pg::admin_exec(&b.url, sql).expect("run SQL");
    }
}

/// The notes of the activities a Sales_User owning `owner`'s leads sees, sorted.
async fn notes_visible_to(s: &dyn Store, tenant_id: i64, owner: i64) -> Vec<String> {
    let page = s
        .list_activities(&ActivityQuery {
            visible_to_owner: Some(owner),
            ..page_query(tenant_id)
        })
        .await
        .unwrap();
    let mut notes: Vec<String> = page.rows.into_iter().map(|a| a.note).collect();
    notes.sort();
    assert_eq!(page.total, notes.len() as u64);
    notes
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
    let (t, admin) = tenant(s, "acme").await;
    let l = s
        .create_lead(t.id, lead(admin.id, Some("l@x.test"), None))
        .await
        .unwrap();
    let ty = s
        .create_activity_type(t.id, custom_type("Visit", 0))
        .await
        .unwrap();
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
    raw()
        .execute_batch(
            "ALTER TABLE activities DROP COLUMN fields_are_an_object; PRAGMA user_version = 6;",
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
    assert_eq!(version(&raw()), 7);
    let e = set("[2]").expect_err("the check is back").to_string();
    assert!(e.contains("fields_must_be_one_json_object"), "{e}");
    drop(reopened);
}
