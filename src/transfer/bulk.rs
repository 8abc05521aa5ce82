//! The bulk side of import and export: one connection of its own to the store's database, big
//! transactions, prepared statements on SQLite and `COPY` on PostgreSQL.
//!
//! It writes what the store's own insert writes (src/store/sqlite/writes.rs `insert_rows`, and
//! its PostgreSQL twin): timestamps from the tenant clock (unique, increasing, in commit order),
//! the columns copied from the type, the resource and the lead's owner, and each activity's score
//! added to its lead, so that imported rows keep every invariant the Salesloft cursor walk and
//! the Sales_User index rely on.

use std::collections::HashMap;

use futures_util::SinkExt;
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::check::{LeadRef, OpportunityRef, Prepared, Resolved, Wanted};
use super::rows::{ActivityRow, LeadRow};
use crate::domain::time::{format_rfc3339_micros, now_micros};

type Res<T> = std::result::Result<T, String>;

fn db<E: std::fmt::Display>(e: E) -> String {
    format!("database error: {e}")
}

/// The (name, SQL text) pairs `sql` lists on PostgreSQL: indexes or constraints with the text
/// that creates them again.
async fn named_statements(c: &tokio_postgres::Client, sql: &str) -> Res<Vec<(String, String)>> {
    c.query(sql, &[])
        .await
        .map_err(db)?
        .iter()
        .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
        .collect()
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// What one batch's insert did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Inserted {
    pub inserted: u64,
    /// Rows whose GUID the tenant already had (an earlier run of the same file): skipped.
    pub present: u64,
}

pub enum Bulk {
    Sqlite(rusqlite::Connection),
    Pg(tokio_postgres::Client),
}

impl Bulk {
    /// Opens the database `url` names (its schema already migrated by `store::open`).
    pub async fn open(url: &str) -> Res<Bulk> {
        if let Some(path) = crate::store::sqlite_path(url) {
            let c = rusqlite::Connection::open(path).map_err(db)?;
            // WAL (set by the store), durable commits like the server's, and a generous wait
            // for the server's writer: a running server keeps serving between our batches.
            // Temporary files on disk: building a deferred index sorts the whole table, and the
            // sorter's runs beyond its in-memory share (bounded by `cache_size`) go to temporary
            // files, which in memory would grow with the table (RSS 1.1 GiB at 10M rows).
            c.execute_batch(
                "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 60000;
                 PRAGMA cache_size = -262144; PRAGMA temp_store = FILE;",
            )
            .map_err(db)?;
            return Ok(Bulk::Sqlite(c));
        }
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", crate::store::redact_url(url)))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "import connection closed");
            }
        });
        Ok(Bulk::Pg(client))
    }

    /// The tenant `guid` names, or the only tenant when none is given: its id and GUID.
    pub async fn tenant(&self, guid: Option<Uuid>) -> Res<(i64, Uuid)> {
        let found: Vec<(i64, Uuid)> = match self {
            Bulk::Sqlite(c) => {
                let mut stmt = c
                    .prepare("SELECT id, guid FROM tenants WHERE ?1 IS NULL OR guid = ?1 ORDER BY id LIMIT 2")
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![guid.map(|g| g.to_string())], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                    })
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(db)?;
                rows.into_iter()
                    .map(|(id, g)| Uuid::parse_str(&g).map(|g| (id, g)).map_err(db))
                    .collect::<Res<_>>()?
            }
            Bulk::Pg(c) => c
                .query(
                    "SELECT id, guid FROM tenants WHERE $1::uuid IS NULL OR guid = $1 ORDER BY id LIMIT 2",
                    &[&guid],
                )
                .await
                .map_err(db)?
                .iter()
                .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
                .collect::<Res<_>>()?,
        };
        match (guid, found.as_slice()) {
            (_, [one]) => Ok(*one),
            (Some(g), _) => Err(format!("--tenant {g}: no such tenant in this database")),
            (None, []) => Err(
                "the database has no tenant yet (create one with `activity-hub tenant create`)"
                    .into(),
            ),
            (None, _) => {
                Err("the database has several tenants: name one with --tenant GUID".into())
            }
        }
    }

    /// Starts a batch's transaction, taking the tenant's write lock first (on SQLite the
    /// database's, on PostgreSQL the tenant row's, which every write that stamps times takes
    /// first too, so the lead locks taken next cannot deadlock with a server's write).
    pub async fn begin(&mut self, tenant_id: i64) -> Res<()> {
        match self {
            Bulk::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE").map_err(db),
            Bulk::Pg(c) => {
                c.batch_execute("BEGIN").await.map_err(db)?;
                c.query(
                    "SELECT clock FROM tenants WHERE id = $1 FOR UPDATE",
                    &[&tenant_id],
                )
                .await
                .map_err(db)?;
                Ok(())
            }
        }
    }

    pub async fn commit(&mut self) -> Res<()> {
        match self {
            Bulk::Sqlite(c) => c.execute_batch("COMMIT").map_err(db),
            Bulk::Pg(c) => c.batch_execute("COMMIT").await.map_err(db),
        }
    }

    pub async fn rollback(&mut self) {
        let _ = match self {
            Bulk::Sqlite(c) => c.execute_batch("ROLLBACK").map_err(db),
            Bulk::Pg(c) => c.batch_execute("ROLLBACK").await.map_err(db),
        };
    }

    /// Looks up the records a batch names, inside its transaction (on PostgreSQL the leads are
    /// share-locked: an owner change waits for the batch, then restamps its rows too).
    pub async fn resolve(&mut self, tenant_id: i64, wanted: &Wanted) -> Res<Resolved> {
        let mut out = Resolved::default();
        match self {
            Bulk::Sqlite(c) => {
                let mut lead = c
                    .prepare_cached(
                        "SELECT id, owner_id FROM leads WHERE tenant_id = ?1 AND guid = ?2",
                    )
                    .map_err(db)?;
                for g in &wanted.leads {
                    if let Some((id, owner_id)) = lead
                        .query_row(params![tenant_id, g.to_string()], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })
                        .optional()
                        .map_err(db)?
                    {
                        out.leads.insert(*g, LeadRef { id, owner_id });
                    }
                }
                let mut account = c
                    .prepare_cached("SELECT id FROM accounts WHERE tenant_id = ?1 AND guid = ?2")
                    .map_err(db)?;
                for g in &wanted.accounts {
                    if let Some(id) = account
                        .query_row(params![tenant_id, g.to_string()], |r| r.get(0))
                        .optional()
                        .map_err(db)?
                    {
                        out.accounts.insert(*g, id);
                    }
                }
                let mut opportunity = c
                    .prepare_cached(
                        "SELECT a.id, l.id, l.owner_id FROM activities a
                           JOIN activity_types t ON t.id = a.type_id
                           JOIN leads l ON l.id = a.lead_id
                          WHERE a.tenant_id = ?1 AND a.guid = ?2 AND t.kind = 'opportunity'",
                    )
                    .map_err(db)?;
                for g in &wanted.opportunities {
                    if let Some((id, lead_id, owner_id)) = opportunity
                        .query_row(params![tenant_id, g.to_string()], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })
                        .optional()
                        .map_err(db)?
                    {
                        let lead = Some(LeadRef {
                            id: lead_id,
                            owner_id,
                        });
                        out.opportunities.insert(*g, OpportunityRef { id, lead });
                    }
                }
            }
            Bulk::Pg(c) => {
                if !wanted.leads.is_empty() {
                    for r in c
                        .query(
                            "SELECT guid, id, owner_id FROM leads WHERE tenant_id = $1 AND guid = ANY($2) FOR SHARE",
                            &[&tenant_id, &wanted.leads],
                        )
                        .await
                        .map_err(db)?
                    {
                        let g: Uuid = r.try_get(0).map_err(db)?;
                        let lead = LeadRef {
                            id: r.try_get(1).map_err(db)?,
                            owner_id: r.try_get(2).map_err(db)?,
                        };
                        out.leads.insert(g, lead);
                    }
                }
                if !wanted.accounts.is_empty() {
                    for r in c
                        .query(
                            "SELECT guid, id FROM accounts WHERE tenant_id = $1 AND guid = ANY($2)",
                            &[&tenant_id, &wanted.accounts],
                        )
                        .await
                        .map_err(db)?
                    {
                        out.accounts
                            .insert(r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?);
                    }
                }
                if !wanted.opportunities.is_empty() {
                    for r in c
                        .query(
                            "SELECT a.guid, a.id, l.id, l.owner_id FROM activities a
                               JOIN activity_types t ON t.id = a.type_id
                               JOIN leads l ON l.id = a.lead_id
                              WHERE a.tenant_id = $1 AND a.guid = ANY($2) AND t.kind = 'opportunity'
                                FOR SHARE OF l",
                            &[&tenant_id, &wanted.opportunities],
                        )
                        .await
                        .map_err(db)?
                    {
                        let lead = Some(LeadRef {
                            id: r.try_get(2).map_err(db)?,
                            owner_id: r.try_get(3).map_err(db)?,
                        });
                        out.opportunities.insert(
                            r.try_get(0).map_err(db)?,
                            OpportunityRef {
                                id: r.try_get(1).map_err(db)?,
                                lead,
                            },
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// Inserts checked activities in the open transaction; rows whose GUID is already stored are
    /// skipped (a resumed or repeated import).
    pub async fn insert(&mut self, tenant_id: i64, rows: &[Prepared]) -> Res<Inserted> {
        if rows.is_empty() {
            return Ok(Inserted::default());
        }
        match self {
            Bulk::Sqlite(c) => sqlite_insert(c, tenant_id, rows),
            Bulk::Pg(c) => pg_insert(c, tenant_id, rows).await,
        }
    }

    /// After a load: fresh planner statistics (PostgreSQL here runs without autovacuum, and a
    /// freshly loaded table would otherwise be planned as empty; SQLite's `optimize` analyses the
    /// indexes whose statistics are stale).
    pub async fn analyze(&mut self) -> Res<()> {
        match self {
            Bulk::Sqlite(c) => c.execute_batch("PRAGMA optimize").map_err(db),
            Bulk::Pg(c) => c
                .batch_execute(
                    "ANALYZE activities; ANALYZE leads; ANALYZE accounts; ANALYZE activity_types",
                )
                .await
                .map_err(db),
        }
    }

    /// Takes the activity table's statistics again while a load grows it, on PostgreSQL (called
    /// each time the load has doubled the rows it imported). Without them each batch's check of
    /// which GUIDs are already stored (`guid = ANY` of 20,000) is planned against the table as it
    /// was last analysed: loaded into an empty store, PostgreSQL then reads every row of the
    /// tenant (4 s a batch at 9M rows) instead of looking the GUIDs up, and the load slows with
    /// the square of its size. A running server's plans get the same statistics. SQLite needs
    /// none of this: each row's insert finds a stored GUID through the unique index's conflict
    /// check (`ON CONFLICT DO NOTHING`).
    pub async fn analyze_growing(&mut self) -> Res<()> {
        match self {
            Bulk::Sqlite(_) => Ok(()),
            Bulk::Pg(c) => c.batch_execute("ANALYZE activities").await.map_err(db),
        }
    }

    /// The activity table's secondary indexes that no insert needs (every non-unique one): their
    /// names and the statements that create them again.
    pub async fn secondary_indexes(&mut self) -> Res<Vec<(String, String)>> {
        match self {
            Bulk::Sqlite(c) => {
                let mut stmt = c
                    .prepare(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'activities'
                            AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<_>>>();
                rows.map_err(db)
            }
            Bulk::Pg(c) => {
                named_statements(
                    c,
                    "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema()
                        AND tablename = 'activities' AND indexdef NOT LIKE 'CREATE UNIQUE%' ORDER BY 1",
                )
                .await
            }
        }
    }

    /// Drops the named indexes (those that exist).
    pub async fn drop_indexes(&mut self, indexes: &[(String, String)]) -> Res<()> {
        for (name, _) in indexes {
            let sql = format!("DROP INDEX IF EXISTS {}", quote_ident(name));
            match self {
                Bulk::Sqlite(c) => c.execute_batch(&sql).map_err(db)?,
                Bulk::Pg(c) => c.batch_execute(&sql).await.map_err(db)?,
            }
        }
        Ok(())
    }

    /// Creates again each of the indexes that is missing.
    pub async fn create_indexes(&mut self, indexes: &[(String, String)]) -> Res<()> {
        let present: Vec<String> = match self {
            Bulk::Sqlite(c) => {
                let mut stmt = c
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'activities'")
                    .map_err(db)?;
                let rows = stmt
                    .query_map([], |r| r.get(0))
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<String>>>();
                rows.map_err(db)?
            }
            Bulk::Pg(c) => c
                .query(
                    "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'activities'",
                    &[],
                )
                .await
                .map_err(db)?
                .iter()
                .map(|r| r.try_get(0).map_err(db))
                .collect::<Res<_>>()?,
        };
        for (name, sql) in indexes {
            if present.contains(name) {
                continue;
            }
            match self {
                Bulk::Sqlite(c) => c.execute_batch(sql).map_err(db)?,
                Bulk::Pg(c) => c.batch_execute(sql).await.map_err(db)?,
            }
        }
        Ok(())
    }

    /// The activity table's foreign keys on PostgreSQL, as names and definitions: each is checked
    /// per inserted row (a primary-key lookup, ~37 µs of a row's `COPY`), while adding it back
    /// checks the whole table in one join. None on SQLite, whose per-row checks are in-process
    /// lookups and whose constraints cannot be dropped without rebuilding the table.
    pub async fn foreign_keys(&mut self) -> Res<Vec<(String, String)>> {
        match self {
            Bulk::Sqlite(_) => Ok(Vec::new()),
            Bulk::Pg(c) => {
                named_statements(
                    c,
                    "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint
                      WHERE conrelid = 'activities'::regclass AND contype = 'f' ORDER BY 1",
                )
                .await
            }
        }
    }

    /// Drops the named foreign keys of the activity table (those that exist).
    pub async fn drop_foreign_keys(&mut self, keys: &[(String, String)]) -> Res<()> {
        let Bulk::Pg(c) = self else { return Ok(()) };
        for (name, _) in keys {
            let sql = format!(
                "ALTER TABLE activities DROP CONSTRAINT IF EXISTS {}",
                quote_ident(name)
            );
            c.batch_execute(&sql).await.map_err(db)?;
        }
        Ok(())
    }

    /// Adds back each of the foreign keys that is missing and checks the rows against it. Each is
    /// added `NOT VALID` (enforced from then on, a brief lock) and then validated, which reads
    /// the table without blocking a running server's reads or writes. A key that does not hold is
    /// an error naming it; it stays enforced for new rows, and running the import again (the
    /// state file keeps the list) checks it again.
    pub async fn restore_foreign_keys(&mut self, keys: &[(String, String)]) -> Res<()> {
        let Bulk::Pg(c) = self else { return Ok(()) };
        let present: Vec<(String, bool)> = c
            .query(
                "SELECT conname::text, convalidated FROM pg_constraint
                  WHERE conrelid = 'activities'::regclass AND contype = 'f'",
                &[],
            )
            .await
            .map_err(db)?
            .iter()
            .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
            .collect::<Res<_>>()?;
        for (name, definition) in keys {
            let ident = quote_ident(name);
            match present.iter().find(|(n, _)| n == name) {
                Some((_, true)) => continue,
                Some((_, false)) => {}
                None => {
                    let sql = format!(
                        "ALTER TABLE activities ADD CONSTRAINT {ident} {definition} NOT VALID"
                    );
                    c.batch_execute(&sql).await.map_err(db)?;
                }
            }
            c.batch_execute(&format!(
                "ALTER TABLE activities VALIDATE CONSTRAINT {ident}"
            ))
            .await
            .map_err(|e| {
                format!(
                    "the foreign key {name} ({definition}) does not hold for the rows loaded \
                     (was a referenced row deleted during the load?): {e}"
                )
            })?;
        }
        Ok(())
    }

    /// One page of the tenant's activities by ascending id after `after`, as export rows.
    pub async fn activity_page(
        &mut self,
        tenant_id: i64,
        after: i64,
        limit: i64,
    ) -> Res<Vec<(i64, ActivityRow)>> {
        const SELECT: &str = "SELECT a.id, a.guid, a.event_code, l.guid, ac.guid, op.guid, ou.email, cu.email,
                a.occurred_at, a.note, a.status, a.score, a.pinned_at IS NOT NULL, a.tags, a.fields, a.static_data
           FROM activities a
           LEFT JOIN leads l ON l.id = a.lead_id
           LEFT JOIN accounts ac ON ac.id = a.account_id
           LEFT JOIN activities op ON op.id = a.opportunity_id
           JOIN users ou ON ou.id = a.owner_id
           JOIN users cu ON cu.id = a.created_by";
        struct Raw {
            id: i64,
            guid: String,
            code: i64,
            lead: Option<String>,
            account: Option<String>,
            opportunity: Option<String>,
            owner: String,
            created_by: String,
            occurred_at: i64,
            note: String,
            status: String,
            score: i64,
            pinned: bool,
            tags: String,
            fields: String,
            static_data: String,
        }
        let raws: Vec<Raw> = match self {
            Bulk::Sqlite(c) => {
                let sql =
                    format!("{SELECT} WHERE a.tenant_id = ?1 AND a.id > ?2 ORDER BY a.id LIMIT ?3");
                let mut stmt = c.prepare_cached(&sql).map_err(db)?;
                let rows = stmt
                    .query_map(params![tenant_id, after, limit], |r| {
                        Ok(Raw {
                            id: r.get(0)?,
                            guid: r.get(1)?,
                            code: r.get(2)?,
                            lead: r.get(3)?,
                            account: r.get(4)?,
                            opportunity: r.get(5)?,
                            owner: r.get(6)?,
                            created_by: r.get(7)?,
                            occurred_at: r.get(8)?,
                            note: r.get(9)?,
                            status: r.get(10)?,
                            score: r.get(11)?,
                            pinned: r.get(12)?,
                            tags: r.get(13)?,
                            fields: r.get(14)?,
                            static_data: r.get(15)?,
                        })
                    })
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<_>>>();
                rows.map_err(db)?
            }
            Bulk::Pg(c) => {
                let sql = format!(
                    "{} WHERE a.tenant_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3",
                    SELECT
                        .replace("a.guid, a.event_code, l.guid, ac.guid, op.guid", "a.guid::text, a.event_code, l.guid::text, ac.guid::text, op.guid::text")
                        .replace("a.tags, a.fields, a.static_data", "a.tags::text, a.fields::text, a.static_data::text")
                );
                let rows = c
                    .query(&sql, &[&tenant_id, &after, &limit])
                    .await
                    .map_err(db)?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let g = |i: usize| -> Res<String> { r.try_get(i).map_err(db) };
                    let o = |i: usize| -> Res<Option<String>> { r.try_get(i).map_err(db) };
                    let n = |i: usize| -> Res<i64> { r.try_get(i).map_err(db) };
                    out.push(Raw {
                        id: n(0)?,
                        guid: g(1)?,
                        code: n(2)?,
                        lead: o(3)?,
                        account: o(4)?,
                        opportunity: o(5)?,
                        owner: g(6)?,
                        created_by: g(7)?,
                        occurred_at: n(8)?,
                        note: g(9)?,
                        status: g(10)?,
                        score: n(11)?,
                        pinned: r.try_get(12).map_err(db)?,
                        tags: g(13)?,
                        fields: g(14)?,
                        static_data: g(15)?,
                    });
                }
                out
            }
        };
        raws.into_iter()
            .map(|r| {
                // Field values sorted by name whichever backend stored them (jsonb reorders).
                let fields: std::collections::BTreeMap<String, String> =
                    serde_json::from_str(&r.fields).map_err(db)?;
                Ok((
                    r.id,
                    ActivityRow {
                        guid: Some(r.guid),
                        event_code: Some(r.code),
                        lead: r.lead,
                        account: r.account,
                        opportunity: r.opportunity,
                        owner: Some(r.owner),
                        created_by: Some(r.created_by),
                        occurred_at: Some(format_rfc3339_micros(r.occurred_at)),
                        note: Some(r.note),
                        status: Some(r.status),
                        score: Some(r.score),
                        pinned: Some(r.pinned),
                        tags: Some(serde_json::from_str(&r.tags).map_err(db)?),
                        fields: Some(
                            fields
                                .into_iter()
                                .map(|(k, v)| (k, serde_json::Value::String(v)))
                                .collect(),
                        ),
                        static_data: Some(serde_json::from_str(&r.static_data).map_err(db)?),
                    },
                ))
            })
            .collect()
    }

    /// Whether the tenant has a lead (live or deleted) with this GUID.
    pub async fn lead_exists(&mut self, tenant_id: i64, guid: Uuid) -> Res<bool> {
        match self {
            Bulk::Sqlite(c) => c
                .prepare_cached("SELECT 1 FROM leads WHERE tenant_id = ?1 AND guid = ?2")
                .map_err(db)?
                .exists(params![tenant_id, guid.to_string()])
                .map_err(db),
            Bulk::Pg(c) => Ok(!c
                .query(
                    "SELECT 1 FROM leads WHERE tenant_id = $1 AND guid = $2",
                    &[&tenant_id, &guid],
                )
                .await
                .map_err(db)?
                .is_empty()),
        }
    }

    /// One page of the tenant's leads (deleted ones too) by ascending id after `after`.
    pub async fn lead_page(
        &mut self,
        tenant_id: i64,
        after: i64,
        limit: i64,
    ) -> Res<Vec<(i64, LeadRow)>> {
        type Raw = (
            i64,
            String,
            [Option<String>; 5],
            bool,
            bool,
            String,
            String,
            bool,
        );
        let raws: Vec<Raw> = match self {
            Bulk::Sqlite(c) => {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT l.id, l.guid, l.first_name, l.last_name, l.email, l.phone, l.mobile, l.do_not_call,
                                l.do_not_email, u.email, l.attributes, l.deleted_at IS NOT NULL
                           FROM leads l JOIN users u ON u.id = l.owner_id
                          WHERE l.tenant_id = ?1 AND l.id > ?2 ORDER BY l.id LIMIT ?3",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(params![tenant_id, after, limit], |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?],
                            r.get(7)?,
                            r.get(8)?,
                            r.get(9)?,
                            r.get(10)?,
                            r.get(11)?,
                        ))
                    })
                    .map_err(db)?
                    .collect::<rusqlite::Result<Vec<_>>>();
                rows.map_err(db)?
            }
            Bulk::Pg(c) => {
                let rows = c
                    .query(
                        "SELECT l.id, l.guid::text, l.first_name, l.last_name, l.email, l.phone, l.mobile, l.do_not_call,
                                l.do_not_email, u.email, l.attributes::text, l.deleted_at IS NOT NULL
                           FROM leads l JOIN users u ON u.id = l.owner_id
                          WHERE l.tenant_id = $1 AND l.id > $2 ORDER BY l.id LIMIT $3",
                        &[&tenant_id, &after, &limit],
                    )
                    .await
                    .map_err(db)?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let o = |i: usize| -> Res<Option<String>> { r.try_get(i).map_err(db) };
                    out.push((
                        r.try_get(0).map_err(db)?,
                        r.try_get(1).map_err(db)?,
                        [o(2)?, o(3)?, o(4)?, o(5)?, o(6)?],
                        r.try_get(7).map_err(db)?,
                        r.try_get(8).map_err(db)?,
                        r.try_get(9).map_err(db)?,
                        r.try_get(10).map_err(db)?,
                        r.try_get(11).map_err(db)?,
                    ));
                }
                out
            }
        };
        raws.into_iter()
            .map(
                |(
                    id,
                    guid,
                    [first, last, email, phone, mobile],
                    dnc,
                    dne,
                    owner,
                    attrs,
                    deleted,
                )| {
                    let attributes: std::collections::BTreeMap<String, String> =
                        serde_json::from_str(&attrs).map_err(db)?;
                    Ok((
                        id,
                        LeadRow {
                            guid: Some(guid),
                            first_name: first,
                            last_name: last,
                            email,
                            phone,
                            mobile,
                            do_not_call: Some(dnc),
                            do_not_email: Some(dne),
                            owner: Some(owner),
                            attributes: Some(
                                attributes
                                    .into_iter()
                                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                                    .collect(),
                            ),
                            deleted: Some(deleted),
                        },
                    ))
                },
            )
            .collect()
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> Res<String> {
    serde_json::to_string(v).map_err(db)
}

/// Adds up the score the batch's activities give each lead.
fn lead_scores(rows: &[&Prepared]) -> HashMap<i64, i64> {
    let mut scores: HashMap<i64, i64> = HashMap::new();
    for p in rows {
        if let (Some(lead), s) = (p.new.lead_id, p.new.score) {
            if s != 0 {
                *scores.entry(lead).or_default() += s;
            }
        }
    }
    scores
}

fn sqlite_insert(c: &rusqlite::Connection, tenant_id: i64, rows: &[Prepared]) -> Res<Inserted> {
    let n = rows.len() as i64;
    c.prepare_cached("UPDATE tenants SET clock = max(clock + ?2, ?3) WHERE id = ?1")
        .map_err(db)?
        .execute(params![tenant_id, n, now_micros()])
        .map_err(db)?;
    let last: i64 = c
        .prepare_cached("SELECT clock FROM tenants WHERE id = ?1")
        .map_err(db)?
        .query_row(params![tenant_id], |r| r.get(0))
        .map_err(db)?;
    let first = last - n + 1;
    let mut insert = c
        .prepare_cached(
            "INSERT INTO activities (tenant_id, guid, type_id, event_code, lead_id, account_id, opportunity_id,
                owner_id, created_by, modified_by, note, occurred_at, created_at, updated_at, score, status,
                fields, pinned_at, tags, static_data, sl_type, res_kind, res_id, lead_owner_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15,
                CASE WHEN ?16 THEN ?12 END, ?17, ?18, ?19, ?20, coalesce(?21, 0), ?22)
             ON CONFLICT (tenant_id, guid) DO NOTHING",
        )
        .map_err(db)?;
    let mut own_resource = c
        .prepare_cached("UPDATE activities SET res_id = id WHERE id = ?1")
        .map_err(db)?;
    let mut done = Inserted::default();
    let mut stored: Vec<&Prepared> = Vec::with_capacity(rows.len());
    for (i, p) in rows.iter().enumerate() {
        let a = &p.new;
        let changed = insert
            .execute(params![
                tenant_id,
                a.guid.to_string(),
                a.type_id,
                p.event_code,
                a.lead_id,
                a.account_id,
                a.opportunity_id,
                a.owner_id,
                a.created_by,
                a.note,
                a.occurred_at,
                first + i as i64,
                a.score,
                a.status,
                json_text(&a.fields)?,
                a.pinned,
                json_text(&a.tags)?,
                json_text(&a.static_data)?,
                p.sl_type,
                p.res_kind,
                p.res_id,
                p.lead_owner_id,
            ])
            .map_err(db)?;
        if changed == 0 {
            done.present += 1;
            continue;
        }
        done.inserted += 1;
        if p.res_id.is_none() {
            own_resource
                .execute(params![c.last_insert_rowid()])
                .map_err(db)?;
        }
        stored.push(p);
    }
    let mut score = c
        .prepare_cached("UPDATE leads SET score = score + ?3 WHERE tenant_id = ?1 AND id = ?2")
        .map_err(db)?;
    for (lead, s) in lead_scores(&stored) {
        score.execute(params![tenant_id, lead, s]).map_err(db)?;
    }
    Ok(done)
}

/// One value of a `COPY … FROM STDIN` text row: backslash, tab, newline and carriage return
/// escaped.
fn copy_text(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

fn copy_int(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        Some(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        None => out.extend_from_slice(b"\\N"),
    }
}

async fn pg_insert(
    c: &mut tokio_postgres::Client,
    tenant_id: i64,
    rows: &[Prepared],
) -> Res<Inserted> {
    let guids: Vec<Uuid> = rows.iter().map(|p| p.new.guid).collect();
    let present: std::collections::HashSet<Uuid> = c
        .query(
            "SELECT guid FROM activities WHERE tenant_id = $1 AND guid = ANY($2)",
            &[&tenant_id, &guids],
        )
        .await
        .map_err(db)?
        .iter()
        .map(|r| r.try_get(0).map_err(db))
        .collect::<Res<_>>()?;
    let mut seen = std::collections::HashSet::new();
    // A GUID given twice in one batch is stored once, as SQLite's ON CONFLICT does.
    let fresh: Vec<&Prepared> = rows
        .iter()
        .filter(|p| !present.contains(&p.new.guid) && seen.insert(p.new.guid))
        .collect();
    let done = Inserted {
        inserted: fresh.len() as u64,
        present: (rows.len() - fresh.len()) as u64,
    };
    if fresh.is_empty() {
        return Ok(done);
    }
    let n = fresh.len() as i64;
    let last: i64 = c
        .query_one(
            "UPDATE tenants SET clock = GREATEST(clock + $2, $3) WHERE id = $1 RETURNING clock",
            &[&tenant_id, &n, &now_micros()],
        )
        .await
        .map_err(db)?
        .try_get(0)
        .map_err(db)?;
    let first = last - n + 1;
    // The sequence is looked up once, in an InitPlan: looked up by name for each row, it cost
    // ten times the `nextval`s themselves (70 against 8 ms for 20,000 ids).
    let ids: Vec<i64> = c
        .query(
            "SELECT nextval((SELECT pg_get_serial_sequence('activities', 'id')::regclass))
               FROM generate_series(1, $1::bigint)",
            &[&n],
        )
        .await
        .map_err(db)?
        .iter()
        .map(|r| r.try_get(0).map_err(db))
        .collect::<Res<_>>()?;
    let mut buf: Vec<u8> = Vec::with_capacity(fresh.len() * 400);
    for (i, (p, id)) in fresh.iter().zip(&ids).enumerate() {
        let a = &p.new;
        let ts = first + i as i64;
        let tab = |b: &mut Vec<u8>| b.push(b'\t');
        copy_int(&mut buf, Some(*id));
        tab(&mut buf);
        copy_int(&mut buf, Some(tenant_id));
        tab(&mut buf);
        copy_text(&mut buf, &a.guid.to_string());
        tab(&mut buf);
        for v in [
            Some(a.type_id),
            Some(p.event_code),
            a.lead_id,
            a.account_id,
            a.opportunity_id,
            Some(a.owner_id),
            Some(a.created_by),
            Some(a.created_by),
        ] {
            copy_int(&mut buf, v);
            tab(&mut buf);
        }
        copy_text(&mut buf, &a.note);
        tab(&mut buf);
        for v in [Some(a.occurred_at), Some(ts), Some(ts), Some(a.score)] {
            copy_int(&mut buf, v);
            tab(&mut buf);
        }
        copy_text(&mut buf, &a.status);
        tab(&mut buf);
        copy_text(&mut buf, &json_text(&a.fields)?);
        tab(&mut buf);
        copy_int(&mut buf, a.pinned.then_some(ts));
        tab(&mut buf);
        copy_text(&mut buf, &json_text(&a.tags)?);
        tab(&mut buf);
        copy_text(&mut buf, &json_text(&a.static_data)?);
        tab(&mut buf);
        copy_text(&mut buf, &p.sl_type);
        tab(&mut buf);
        copy_text(&mut buf, p.res_kind);
        tab(&mut buf);
        copy_int(&mut buf, Some(p.res_id.unwrap_or(*id)));
        tab(&mut buf);
        copy_int(&mut buf, p.lead_owner_id);
        buf.push(b'\n');
    }
    let sink = c
        .copy_in(
            "COPY activities (id, tenant_id, guid, type_id, event_code, lead_id, account_id, opportunity_id,
                owner_id, created_by, modified_by, note, occurred_at, created_at, updated_at, score, status,
                fields, pinned_at, tags, static_data, sl_type, res_kind, res_id, lead_owner_id) FROM STDIN",
        )
        .await
        .map_err(db)?;
    let mut sink = std::pin::pin!(sink);
    sink.send(axum::body::Bytes::from(buf)).await.map_err(db)?;
    sink.as_mut().finish().await.map_err(db)?;
    let scores = lead_scores(&fresh);
    if !scores.is_empty() {
        let (leads, amounts): (Vec<i64>, Vec<i64>) = scores.into_iter().unzip();
        c.execute(
            "UPDATE leads l SET score = l.score + v.s FROM unnest($2::bigint[], $3::bigint[]) AS v(id, s)
              WHERE l.tenant_id = $1 AND l.id = v.id",
            &[&tenant_id, &leads, &amounts],
        )
        .await
        .map_err(db)?;
    }
    Ok(done)
}
