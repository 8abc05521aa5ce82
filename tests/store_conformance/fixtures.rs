//! What every conformance test starts from: the backends under test (SQLite, and PostgreSQL when
//! configured), tenants, users, leads, types and activities to store, and SQL run behind a store's back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::pg;
use activity_hub::auth::digest;
use activity_hub::domain::{
    starter_types, ActivityQuery, ActivitySort, DataType, FieldDef, NewActivity, NewActivityType,
    NewLead, NewUser, Role, Tenant, TypeKind, User,
};
use activity_hub::error::{Error, Unique};
use activity_hub::store::{self, Store};
use uuid::Uuid;

pub(crate) const SUITE: &str = "store_conformance";

pub(crate) enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Pg(#[allow(dead_code)] pg::PgDb),
}

/// One backend under test; the store is declared first so it closes before its database goes.
pub(crate) struct Backend {
    pub(crate) name: &'static str,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) url: String,
    pub(crate) _guard: Guard,
}

pub(crate) async fn sqlite() -> Backend {
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

pub(crate) async fn postgres(test: &str) -> Option<Backend> {
    let admin = pg::admin_url(SUITE)?;
    Some(postgres_on(&admin, test).await)
}

/// A fresh PostgreSQL database for a PostgreSQL-only test; panics when none is configured.
pub(crate) async fn postgres_required(test: &str) -> Backend {
    postgres_on(&pg::required_admin_url(SUITE), test).await
}

pub(crate) async fn postgres_on(admin: &str, test: &str) -> Backend {
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
pub(crate) async fn backends(test: &str) -> Vec<Backend> {
    let mut all = vec![sqlite().await];
    all.extend(postgres(test).await);
    all
}

pub(crate) fn new_user(email: &str, role: Role) -> NewUser {
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

pub(crate) async fn tenant(s: &dyn Store, name: &str) -> (Tenant, User) {
    s.create_tenant(
        name,
        new_user(&format!("admin@{name}.test"), Role::Administrator),
        starter_types(),
    )
    .await
    .expect("create tenant")
}

pub(crate) fn lead(owner: i64, email: Option<&str>, phone: Option<&str>) -> NewLead {
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

pub(crate) fn activity(
    type_id: i64,
    lead_id: i64,
    user: i64,
    occurred_at: i64,
    note: &str,
) -> NewActivity {
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

pub(crate) fn custom_type(name: &str, score: i64) -> NewActivityType {
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

pub(crate) fn clash(e: Error) -> Unique {
    match e {
        Error::Duplicate(u) => u,
        other => panic!("expected Duplicate, got {other:?}"),
    }
}

pub(crate) fn page_query(tenant_id: i64) -> ActivityQuery {
    ActivityQuery {
        sort: ActivitySort::OccurredAt,
        descending: false,
        limit: 1000,
        ..ActivityQuery::new(tenant_id)
    }
}

/// Runs `sql` on the backend's database beside the store (for changes no API makes).
pub(crate) fn exec_sql(b: &Backend, sql: &str) {
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
pub(crate) async fn notes_visible_to(s: &dyn Store, tenant_id: i64, owner: i64) -> Vec<String> {
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
