//! The schema migrations and how a database is brought up to date, one process at a time.

use deadpool_postgres::Object;

use super::rows::{get, map_err};
use crate::error::Result;

/// Migrations in order; `schema_migrations` records which ones a database has.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_salesloft_native.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/postgres/0003_custom_type_names.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/postgres/0004_pinned_order.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/postgres/0005_lead_owner.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/postgres/0006_resource_type_covering.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/postgres/0007_created_order.sql"),
    ),
    (
        8,
        include_str!("../../../migrations/postgres/0008_lead_dates.sql"),
    ),
    (
        9,
        include_str!("../../../migrations/postgres/0009_directory_clock.sql"),
    ),
    (
        10,
        include_str!("../../../migrations/postgres/0010_activity_counts.sql"),
    ),
    (
        11,
        include_str!("../../../migrations/postgres/0011_history_trash.sql"),
    ),
    (
        12,
        include_str!("../../../migrations/postgres/0012_webhooks.sql"),
    ),
    (
        13,
        include_str!("../../../migrations/postgres/0013_idempotency_keys.sql"),
    ),
    (
        14,
        include_str!("../../../migrations/postgres/0014_activity_weekly_counts.sql"),
    ),
    (
        15,
        include_str!("../../../migrations/postgres/0015_salesloft_webhooks.sql"),
    ),
    (
        16,
        include_str!("../../../migrations/postgres/0016_lead_search_fields.sql"),
    ),
    (
        17,
        include_str!("../../../migrations/postgres/0017_unused_pinned_index.sql"),
    ),
    (
        18,
        include_str!("../../../migrations/postgres/0018_weekly_counts_per_statement.sql"),
    ),
    (
        19,
        include_str!("../../../migrations/postgres/0019_types_version.sql"),
    ),
    (
        20,
        include_str!("../../../migrations/postgres/0020_leads_fillfactor.sql"),
    ),
];
/// Arbitrary constant naming the advisory lock that serialises migrations of processes starting
/// at the same time against one database.
const MIGRATION_LOCK: i64 = 0x6163_7469_7669_7479;

pub(super) async fn migrate(client: &mut Object) -> Result<()> {
    let tx = client.transaction().await.map_err(map_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(map_err)?;
    // Quiet: "already exists, skipping" notices would reach the log (and the CLI's stderr).
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await
        .map_err(map_err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version bigint PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .map_err(map_err)?;
    let row = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(map_err)?;
    let applied: i64 = get(&row, 0)?;
    let mut upgraded = false;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
        tx.batch_execute(sql).await.map_err(map_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(map_err)?;
        upgraded = true;
    }
    if upgraded && applied > 0 {
        analyze_schema(&tx).await?;
    }
    tx.commit().await.map_err(map_err)
}

/// Analyses every table of the schema. A migration of a database that already holds data may add
/// indexes (some on expressions, which have statistics of their own) and fill new tables; until
/// they are analysed the planner takes them for empty, and autovacuum may be off or far behind.
/// Run once, by the process that migrated, inside the migration's transaction. A fresh database
/// is not analysed: its tables are empty (`import` analyses after its own loads).
async fn analyze_schema(tx: &deadpool_postgres::Transaction<'_>) -> Result<()> {
    let rows = tx
        .query(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() \
             ORDER BY tablename",
            &[],
        )
        .await
        .map_err(map_err)?;
    let mut tables = Vec::with_capacity(rows.len());
    for r in &rows {
        tables.push(get::<String>(r, 0)?);
    }
    if !tables.is_empty() {
        tx.batch_execute(&format!("ANALYZE {}", tables.join(", ")))
            .await
            .map_err(map_err)?;
    }
    Ok(())
}
