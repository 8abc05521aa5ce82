//! The SQLite schema migrations and the check that runs before migration 0007.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_salesloft_native.sql"),
    include_str!("../../../migrations/sqlite/0003_custom_type_names.sql"),
    include_str!("../../../migrations/sqlite/0004_pinned_order.sql"),
    include_str!("../../../migrations/sqlite/0005_lead_owner.sql"),
    include_str!("../../../migrations/sqlite/0006_resource_type_covering.sql"),
    include_str!("../../../migrations/sqlite/0007_fields_are_json_objects.sql"),
    include_str!("../../../migrations/sqlite/0008_created_order.sql"),
    include_str!("../../../migrations/sqlite/0009_lead_dates.sql"),
    include_str!("../../../migrations/sqlite/0010_directory_clock.sql"),
    include_str!("../../../migrations/sqlite/0011_activity_counts.sql"),
    include_str!("../../../migrations/sqlite/0012_history_trash.sql"),
    include_str!("../../../migrations/sqlite/0013_webhooks.sql"),
    include_str!("../../../migrations/sqlite/0014_idempotency_keys.sql"),
    include_str!("../../../migrations/sqlite/0015_activity_weekly_counts.sql"),
    include_str!("../../../migrations/sqlite/0016_salesloft_webhooks.sql"),
    include_str!("../../../migrations/sqlite/0017_lead_search_fields.sql"),
    include_str!("../../../migrations/sqlite/0018_unused_pinned_index.sql"),
];
/// The migration (its number) from which the database refuses field values that are not one JSON
/// object; the rows stored before it are checked before it is applied.
const FIELDS_ARE_OBJECTS: usize = 7;

pub(super) fn migrate(conn: &Connection) -> std::result::Result<(), String> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction().map_err(|e| e.to_string())?;
        if i + 1 == FIELDS_ARE_OBJECTS {
            // Names the rows the migration's CHECK would refuse, which SQLite does not.
            refuse_fields_that_are_not_objects(&tx)?;
        }
        tx.execute_batch(sql).map_err(|e| e.to_string())?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Fails, naming a few of them, if stored activities hold field values that are not one JSON
/// object (only an edit of the file from outside could have stored one): from migration 0007 on,
/// pages paste the stored text into their answers unchecked. One pass over the table, once.
fn refuse_fields_that_are_not_objects(tx: &Connection) -> std::result::Result<(), String> {
    let bad: Vec<i64> = tx
        .prepare(
            "SELECT id FROM activities WHERE \
             CASE WHEN json_valid(fields) THEN json_type(fields) <> 'object' ELSE 1 END LIMIT 5",
        )
        .and_then(|mut s| s.query_map([], |r| r.get::<_, i64>(0))?.collect())
        .map_err(|e: rusqlite::Error| e.to_string())?;
    if bad.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = bad.iter().map(i64::to_string).collect();
    Err(format!(
        "activities {} (and perhaps more) store field values that are not a JSON object; \
         fix or delete them in the file with the sqlite3 shell, then start again \
         (column activities.fields, e.g. set it to '{{}}')",
        ids.join(", ")
    ))
}
