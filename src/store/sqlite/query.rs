//! The activity list SQL: filter, order, page and count statements, and the read of one page.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};

use super::labels::{Labels, Seen};
use super::rows::{activity_row, SqlResult, ACTIVITY_SELECT};
use crate::domain::{ActivityQuery, ActivityView, Page};
use crate::error::Result;
use crate::store::sql::{self, Arg, Dialect};

/// Converts the builder's parameters to SQLite values (a list becomes one value per element,
/// as its statement has one placeholder per element).
fn sqlite_args(args: Vec<Arg>) -> Vec<SqlValue> {
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        match a {
            Arg::Int(i) => out.push(SqlValue::Integer(i)),
            Arg::Text(t) => out.push(SqlValue::Text(t)),
            Arg::Null => out.push(SqlValue::Null),
            Arg::Ints(v) => out.extend(v.into_iter().map(SqlValue::Integer)),
            Arg::Texts(v) => out.extend(v.into_iter().map(SqlValue::Text)),
        }
    }
    out
}

/// The page statement `list_activities` runs for `q`, with its parameters (public so that tests
/// and reports can EXPLAIN QUERY PLAN exactly what a request executes).
pub fn activity_page_sql(q: &ActivityQuery) -> (String, Vec<SqlValue>) {
    let (sql, args) = sql::page_sql(Dialect::Sqlite, ACTIVITY_SELECT, q);
    (sql, sqlite_args(args))
}

/// The count statement `list_activities` runs for `q` (`None` when it counts nothing).
pub fn activity_count_sql(q: &ActivityQuery) -> Option<(String, Vec<SqlValue>)> {
    sql::count_sql(Dialect::Sqlite, q).map(|(sql, args)| (sql, sqlite_args(args)))
}

/// Counts and reads one page of activities in the read transaction `tx` is in, and labels its
/// rows (`seen`: the directories' generation noted before the transaction began).
pub(super) fn list_in(
    tx: &Connection,
    q: &ActivityQuery,
    labels: &Labels,
    seen: Seen,
) -> Result<Page<ActivityView>> {
    let total: i64 = match activity_count_sql(q) {
        None => 0,
        Some((sql, args)) => tx
            .prepare_cached(&sql)
            .db()?
            .query_row(params_from_iter(args.iter()), |r| r.get(0))
            .db()?,
    };
    let (sql, page_args) = activity_page_sql(q);
    let mut stmt = tx.prepare_cached(&sql).db()?;
    // Sized for the page up front: an activity row is large, and growing the vector
    // row by row copied the rows read so far (1.5 % of a Retrieve).
    let mut rows = Vec::with_capacity((q.limit as usize).min(1000) + 1);
    for row in stmt
        .query_map(params_from_iter(page_args.iter()), activity_row)
        .db()?
    {
        rows.push(row.db()?);
    }
    drop(stmt);
    let rows = labels.label(tx, rows, seen)?;
    Ok(Page {
        total: total as u64,
        rows,
    })
}

/// The per-backend builder this module had before `store::sql`, kept while the equality test
/// compares the two.
#[cfg(test)]
pub(crate) mod legacy {
    use rusqlite::types::Value as SqlValue;

    use crate::domain::{
        ActivityQuery, ActivitySort, CountMode, RecordKind, TypeFilter, FIRST_OPPORTUNITY_CODE,
    };
    use crate::store::sqlite::rows::ACTIVITY_SELECT;

    fn push_in(sql: &mut String, args: &mut Vec<SqlValue>, column: &str, values: Vec<SqlValue>) {
        sql.push_str(&format!(
            " AND {column} IN ({})",
            vec!["?"; values.len()].join(",")
        ));
        args.extend(values);
    }

    /// The WHERE clause and parameters of an activity list query (shared by the count and the page).
    fn activity_filter(q: &ActivityQuery) -> (String, Vec<SqlValue>) {
        let mut sql = String::from("a.tenant_id = ?");
        let mut args = vec![SqlValue::Integer(q.tenant_id)];
        if let Some(lead) = q.lead_id {
            sql.push_str(" AND a.lead_id = ?");
            args.push(SqlValue::Integer(lead));
        }
        if let Some(opp) = q.opportunity_id {
            sql.push_str(" AND a.opportunity_id = ?");
            args.push(SqlValue::Integer(opp));
        }
        match q.records {
            RecordKind::Any => {}
            RecordKind::Activities => {
                // Unary `+`: most of a lead's rows are activities, so walking its (lead, occurred_at)
                // or (lead, updated_at) index in order and skipping opportunities beats a range scan of
                // (lead, event_code) followed by a sort of all its rows. Counting still uses that index.
                sql.push_str(" AND +a.event_code < ?");
                args.push(SqlValue::Integer(FIRST_OPPORTUNITY_CODE));
            }
            RecordKind::Opportunities => {
                sql.push_str(" AND a.event_code >= ?");
                args.push(SqlValue::Integer(FIRST_OPPORTUNITY_CODE));
            }
        }
        if !q.event_codes.is_empty() {
            sql.push_str(" AND a.event_code IN (");
            sql.push_str(&vec!["?"; q.event_codes.len()].join(","));
            sql.push(')');
            args.extend(q.event_codes.iter().map(|c| SqlValue::Integer(*c)));
        }
        if q.match_nothing {
            sql.push_str(" AND 1 = 0");
        }
        if let Some(from) = q.updated_from {
            sql.push_str(" AND a.updated_at >= ?");
            args.push(SqlValue::Integer(from));
        }
        if let Some(to) = q.updated_to {
            sql.push_str(" AND a.updated_at <= ?");
            args.push(SqlValue::Integer(to));
        }
        // Type: one plain alternative is `sl_type IN (…)` (an index range per type); per-resource
        // alternatives are OR-ed conjunctions.
        match q.types.as_slice() {
            [] => {}
            [TypeFilter {
                resource: None,
                sl_types,
            }] => push_in(
                &mut sql,
                &mut args,
                "a.sl_type",
                sl_types.iter().map(|t| SqlValue::Text(t.clone())).collect(),
            ),
            alternatives => {
                let mut parts = Vec::new();
                for alt in alternatives {
                    let mut part = format!(
                        "a.sl_type IN ({})",
                        vec!["?"; alt.sl_types.len().max(1)].join(",")
                    );
                    if alt.sl_types.is_empty() {
                        args.push(SqlValue::Null);
                    }
                    args.extend(alt.sl_types.iter().map(|t| SqlValue::Text(t.clone())));
                    if let Some(kind) = alt.resource {
                        part.push_str(" AND a.res_kind = ?");
                        args.push(SqlValue::Text(kind.as_str().into()));
                    }
                    parts.push(format!("({part})"));
                }
                sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
            }
        }
        if !q.resource_kinds.is_empty() {
            push_in(
                &mut sql,
                &mut args,
                "a.res_kind",
                q.resource_kinds
                    .iter()
                    .map(|k| SqlValue::Text(k.as_str().into()))
                    .collect(),
            );
        }
        if !q.resources.is_empty() {
            let parts = vec!["(a.res_kind = ? AND a.res_id = ?)"; q.resources.len()].join(" OR ");
            sql.push_str(&format!(" AND ({parts})"));
            for (kind, id) in &q.resources {
                args.push(SqlValue::Text(kind.as_str().into()));
                args.push(SqlValue::Integer(*id));
            }
        }
        if !q.ids.is_empty() {
            let mut parts = Vec::new();
            for f in &q.ids {
                args.push(SqlValue::Integer(f.id));
                match &f.sl_type {
                    Some(t) => {
                        parts.push("(a.id = ? AND a.sl_type = ?)");
                        args.push(SqlValue::Text(t.clone()));
                    }
                    None => parts.push("a.id = ?"),
                }
            }
            sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
        }
        if !q.owner_ids.is_empty() {
            push_in(
                &mut sql,
                &mut args,
                "a.owner_id",
                q.owner_ids.iter().map(|i| SqlValue::Integer(*i)).collect(),
            );
        }
        match q.pinned {
            None => {}
            Some(true) => sql.push_str(" AND a.pinned_at IS NOT NULL"),
            Some(false) => sql.push_str(" AND a.pinned_at IS NULL"),
        }
        if let Some(owner) = q.visible_to_owner {
            // Each activity carries its lead's owner (migration 0005), so this is an index range.
            sql.push_str(" AND a.lead_owner_id = ?");
            args.push(SqlValue::Integer(owner));
        }
        if let Some(from) = q.occurred_from {
            sql.push_str(" AND a.occurred_at >= ?");
            args.push(SqlValue::Integer(from));
        }
        if let Some(to) = q.occurred_to {
            sql.push_str(" AND a.occurred_at <= ?");
            args.push(SqlValue::Integer(to));
        }
        (sql, args)
    }

    /// The ORDER BY clause (and its parameters) for `q`: the sort key with explicit NULL placement
    /// (NULLs first ascending, last descending — PostgreSQL's defaults are the other way round), then
    /// the id in the same direction as a total tie-break.
    fn activity_order(q: &ActivityQuery) -> (String, Vec<SqlValue>) {
        let dir = if q.descending {
            "DESC NULLS LAST"
        } else {
            "ASC NULLS FIRST"
        };
        let id_dir = if q.descending { "DESC" } else { "ASC" };
        let mut args = Vec::new();
        let key = match &q.sort {
        ActivitySort::OccurredAt => "a.occurred_at".to_string(),
        // Within one opportunity, sort its own rows (found through the opportunity index) rather
        // than walk the tenant-wide updated_at index and filter: the unary `+` keeps SQLite from
        // choosing that index for the ORDER BY.
        ActivitySort::UpdatedAt if q.opportunity_id.is_some() => "+a.updated_at".to_string(),
        ActivitySort::UpdatedAt => "a.updated_at".to_string(),
        ActivitySort::EventCode => "a.event_code".to_string(),
        ActivitySort::Score => "a.score".to_string(),
        ActivitySort::Note => "a.note".to_string(),
        ActivitySort::Status => "a.status".to_string(),
        ActivitySort::CreatedByName => "(SELECT trim(c.first_name || ' ' || c.last_name) FROM users c WHERE c.id = a.created_by)"
                .to_string(),
        ActivitySort::Guid => "a.guid".to_string(),
        ActivitySort::Id => return (format!("a.id {id_dir}"), args),
        ActivitySort::Field {
            schema_name,
            numeric,
        } => {
            args.push(SqlValue::Text(format!(
                "$.\"{}\"",
                schema_name.replace('"', "")
            )));
            if *numeric {
                "CAST(json_extract(a.fields, ?) AS REAL)".to_string()
            } else {
                "json_extract(a.fields, ?)".to_string()
            }
        }
    };
        (format!("{key} {dir}, a.id {id_dir}"), args)
    }

    /// The page statement `list_activities` runs for `q`, with its parameters (public so that tests
    /// and reports can EXPLAIN QUERY PLAN exactly what a request executes).
    pub(crate) fn activity_page_sql(q: &ActivityQuery) -> (String, Vec<SqlValue>) {
        if let Some(types) = crate::store::per_type_arms(q) {
            return per_type_page_sql(q, &types);
        }
        let (filter, mut args) = activity_filter(q);
        let (order, order_args) = activity_order(q);
        args.extend(order_args);
        args.push(SqlValue::Integer(q.limit as i64));
        args.push(SqlValue::Integer(q.offset.min(i64::MAX as u64) as i64));
        (
            format!("{ACTIVITY_SELECT} WHERE {filter} ORDER BY {order} LIMIT ? OFFSET ?"),
            args,
        )
    }

    /// A page of two or more types: per type, the first offset+limit matching ids read in order off
    /// its (tenant, type, date) index; the page is then cut from those few rows. The unary `+` in
    /// the outer ORDER BY keeps SQLite from walking the tenant's date index to probe the id list.
    fn per_type_page_sql(q: &ActivityQuery, types: &[String]) -> (String, Vec<SqlValue>) {
        let (order, _) = activity_order(q);
        let arm_limit = (q.offset.saturating_add(u64::from(q.limit))).min(i64::MAX as u64) as i64;
        let mut args = Vec::new();
        let mut arms = Vec::new();
        for t in types {
            let (filter, filter_args) = activity_filter(q);
            args.extend(filter_args);
            args.push(SqlValue::Text(t.clone()));
            args.push(SqlValue::Integer(arm_limit));
            arms.push(format!(
                "SELECT id FROM (SELECT a.id FROM activities a WHERE {filter} AND a.sl_type = ? \
             ORDER BY {order} LIMIT ?)"
            ));
        }
        args.push(SqlValue::Integer(q.tenant_id));
        args.push(SqlValue::Integer(q.limit as i64));
        args.push(SqlValue::Integer(q.offset.min(i64::MAX as u64) as i64));
        (
        format!(
            "{ACTIVITY_SELECT} WHERE a.id IN ({}) AND a.tenant_id = ? ORDER BY +{order} LIMIT ? OFFSET ?",
            arms.join(" UNION ALL ")
        ),
        args,
    )
    }

    /// The count statement `list_activities` runs for `q` (`None` when it counts nothing). Counting
    /// touches only `activities` (and `leads` for visibility), so the planner can answer from a
    /// covering index; a cap (`limit_paging_counts`) bounds the work on huge tenants.
    pub(crate) fn activity_count_sql(q: &ActivityQuery) -> Option<(String, Vec<SqlValue>)> {
        let (filter, mut args) = activity_filter(q);
        match q.count {
            CountMode::None => None,
            CountMode::Exact => Some((
                format!("SELECT count(*) FROM activities a WHERE {filter}"),
                args,
            )),
            CountMode::Capped(cap) => {
                args.push(SqlValue::Integer(cap.min(i64::MAX as u64) as i64));
                Some((
                format!(
                    "SELECT count(*) FROM (SELECT 1 FROM activities a WHERE {filter} LIMIT ?) capped"
                ),
                args,
            ))
            }
        }
    }
}
