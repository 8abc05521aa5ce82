//! Tests of the connection-level plumbing no store method shows: the statement cache bound and
//! the state a pipelined snapshot leaves its connection in (real PostgreSQL, a database of their own).

use tokio_postgres::NoTls;

use super::connect::STATEMENT_CACHE_MAX;
use super::pipeline::snapshot_page;
use super::rows::Params;
use super::PgStore;

/// A fresh database on the server of `ACTIVITY_HUB_TEST_PG`, dropped by the returned guard.
struct TestDb {
    admin: tokio_postgres::Client,
    name: String,
    url: String,
}

/// A client of its own on `url`, its connection driven by a spawned task.
async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(conn);
    client
}

impl TestDb {
    async fn create(prefix: &str) -> TestDb {
        let admin_url = std::env::var("ACTIVITY_HUB_TEST_PG").expect("ACTIVITY_HUB_TEST_PG");
        let admin = connect(&admin_url).await;
        let name = format!("ah_unit_{prefix}_{}", std::process::id());
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("drop");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create");
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).expect("url");
        let url = format!("{base}/{name}");
        TestDb { admin, name, url }
    }

    async fn drop_db(self) {
        let _ = self
            .admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}

/// Prepared statements on the connection, as the server counts them.
async fn server_statements(c: &deadpool_postgres::Object) -> i64 {
    c.query_one("SELECT count(*) FROM pg_prepared_statements", &[])
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn a_connection_past_the_statement_bound_is_handed_out_with_an_empty_cache() {
    let db = TestDb::create("stmt_cache").await;
    let store = PgStore::open(&db.url).await.expect("open");
    let mut distinct = 0;
    let mut emptied = false;
    // One connection at a time, so the pool hands back the same one (it holds no other).
    for round in 0..4 {
        let c = store.client().await.expect("client");
        let before = c.statement_cache.size();
        assert!(
            before <= STATEMENT_CACHE_MAX,
            "round {round}: handed out with {before} cached statements"
        );
        if round > 0 && before == 0 {
            emptied = true;
            // The statements left the server too, not only the cache (the Close messages precede
            // this query on the connection): only the counting statement itself is prepared.
            assert_eq!(server_statements(&c).await, 1, "round {round}");
        }
        for _ in 0..100 {
            distinct += 1;
            let stmt = c
                .prepare_cached(&format!("SELECT {distinct}::bigint"))
                .await
                .expect("prepare");
            let n: i64 = c.query_one(&stmt, &[]).await.expect("query").get(0);
            assert_eq!(n, distinct);
        }
        assert!(c.statement_cache.size() > before, "round {round}");
    }
    assert!(emptied, "400 distinct statements never emptied the cache");
    drop(store);
    db.drop_db().await;
}

#[tokio::test]
async fn a_failing_statement_in_a_snapshot_leaves_the_connection_idle() {
    let db = TestDb::create("snapshot").await;
    let store = PgStore::open(&db.url).await.expect("open");
    let c = store.client().await.expect("client");
    let failing = c
        .prepare_cached("SELECT 1 / ($1::bigint - $1::bigint)")
        .await
        .expect("prepare");
    let page = c
        .prepare_cached("SELECT x FROM generate_series(1, $1::bigint) x")
        .await
        .expect("prepare");
    let count_args: Params = vec![Box::new(7_i64)];
    let page_args: Params = vec![Box::new(3_i64)];
    let err = snapshot_page(&c, Some((&failing, &count_args)), (&page, &page_args))
        .await
        .expect_err("division by zero");
    assert!(err.to_string().contains("division by zero"), "{err}");
    // Neither inside the read-only snapshot nor in its aborted state: a write goes through.
    c.batch_execute("CREATE TEMP TABLE probe (x int); DROP TABLE probe")
        .await
        .expect("the connection was left inside the failed snapshot");
    // And the same connection serves the next snapshot.
    let count = c
        .prepare_cached("SELECT $1::bigint")
        .await
        .expect("prepare");
    let (total, rows) = snapshot_page(&c, Some((&count, &count_args)), (&page, &page_args))
        .await
        .expect("snapshot");
    assert_eq!((total, rows.len()), (7, 3));
    drop(c);
    drop(store);
    db.drop_db().await;
}

/// A snapshot's statements run on generic plans without parallel workers or JIT (a generic plan
/// does not know the page's `LIMIT` and would start a worker, or compile itself, for a 26-row
/// page); the settings end with it.
#[tokio::test]
async fn a_snapshot_runs_on_generic_plans_without_workers_or_jit_and_the_connection_keeps_its_defaults(
) {
    let db = TestDb::create("generic").await;
    let store = PgStore::open(&db.url).await.expect("open");
    let c = store.client().await.expect("client");
    let settings = c
        .prepare_cached(
            "SELECT current_setting('plan_cache_mode'), \
                    current_setting('max_parallel_workers_per_gather'), current_setting('jit')",
        )
        .await
        .expect("prepare");
    let outside: (String, String, String) = {
        let row = c.query_one(&settings, &[]).await.expect("settings");
        (row.get(0), row.get(1), row.get(2))
    };
    let none: Params = Vec::new();
    let (_, rows) = snapshot_page(&c, None, (&settings, &none))
        .await
        .expect("snapshot");
    let inside: (String, String, String) = (rows[0].get(0), rows[0].get(1), rows[0].get(2));
    assert_eq!(
        inside,
        ("force_generic_plan".into(), "0".into(), "off".into())
    );
    assert_ne!(outside.1, "0", "the server's default allows workers");
    assert_eq!(
        outside.2, "on",
        "the server's default compiles costly plans"
    );
    let after: (String, String, String) = {
        let row = c.query_one(&settings, &[]).await.expect("settings");
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!(after, outside, "SET LOCAL ends with the snapshot");
    assert_eq!(after.0, "auto");
    drop(c);
    drop(store);
    db.drop_db().await;
}

/// `pg_class.reltuples` of `table`: -1 until the table is first analysed or vacuumed.
async fn reltuples(c: &tokio_postgres::Client, table: &str) -> f32 {
    c.query_one(
        "SELECT reltuples FROM pg_class WHERE oid = $1::text::regclass",
        &[&table],
    )
    .await
    .expect("reltuples")
    .get(0)
}

#[tokio::test]
async fn a_database_with_data_is_analysed_when_a_migration_upgrades_it_and_a_fresh_one_is_not() {
    use super::migrate::MIGRATIONS;
    let fresh = TestDb::create("fresh_analyze").await;
    drop(PgStore::open(&fresh.url).await.expect("open"));
    let c = connect(&fresh.url).await;
    assert_eq!(reltuples(&c, "tenants").await, -1.0, "a fresh database");
    drop(c);
    fresh.drop_db().await;

    // A database of the previous schema version that holds two tenants.
    let db = TestDb::create("upgrade_analyze").await;
    let c = connect(&db.url).await;
    let (last, older) = MIGRATIONS.split_last().expect("migrations");
    c.batch_execute(
        "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, \
         applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .expect("schema_migrations");
    for (version, sql) in older {
        c.batch_execute(sql).await.expect("migration");
        c.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await
        .expect("version");
    }
    c.batch_execute(
        "INSERT INTO tenants (guid, name, created_at) \
         VALUES (gen_random_uuid(), 'a', 1), (gen_random_uuid(), 'b', 1)",
    )
    .await
    .expect("tenants");
    assert_eq!(reltuples(&c, "tenants").await, -1.0, "before the upgrade");

    drop(PgStore::open(&db.url).await.expect("open"));
    let version: i64 = c
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, last.0);
    assert_eq!(reltuples(&c, "tenants").await, 2.0, "after the upgrade");
    drop(c);
    db.drop_db().await;
}
