//! The activity list SQL: filter, order, page (one type or several) and count statements.

use tokio_postgres::types::ToSql;

use super::rows::{Params, ACTIVITY_SELECT};
use crate::domain::ActivityQuery;
use crate::store::sql::{self, Arg, Dialect};

/// Converts the builder's parameters to PostgreSQL parameters (a list is one array).
fn pg_args(args: Vec<Arg>) -> Params {
    args.into_iter()
        .map(|a| -> Box<dyn ToSql + Sync + Send> {
            match a {
                Arg::Int(i) => Box::new(i),
                Arg::Text(t) => Box::new(t),
                Arg::Ints(v) => Box::new(v),
                Arg::Texts(v) => Box::new(v),
                Arg::Null => Box::new(Option::<i64>::None),
            }
        })
        .collect()
}

/// The page query `list_activities` runs (exposed for EXPLAIN in tests and reports).
pub fn activity_page_sql(q: &ActivityQuery) -> (String, Params) {
    let (sql, args) = sql::page_sql(Dialect::Postgres, ACTIVITY_SELECT, q);
    (sql, pg_args(args))
}

/// The count statement `list_activities` runs for `q` (`None` when it counts nothing; exposed
/// for EXPLAIN in tests and reports).
pub fn activity_count_sql(q: &ActivityQuery) -> Option<(String, Params)> {
    sql::count_sql(Dialect::Postgres, q).map(|(sql, args)| (sql, pg_args(args)))
}

/// The per-backend builder this module had before `store::sql`, kept while the equality test
/// compares the two.
#[cfg(test)]
pub(crate) mod legacy {
    use tokio_postgres::types::ToSql;

    use crate::domain::{
        ActivityQuery, ActivitySort, CountMode, RecordKind, TypeFilter, FIRST_OPPORTUNITY_CODE,
    };
    use crate::store::postgres::rows::{Params, ACTIVITY_SELECT};

    /// The WHERE clause and parameters of an activity list query (shared by the count and the page);
    /// the same conditions, in the same order, as the SQLite backend's.
    fn activity_filter(q: &ActivityQuery) -> (String, Params) {
        let mut args: Params = vec![Box::new(q.tenant_id)];
        let mut sql = String::from("a.tenant_id = $1");
        let cond =
            |sql: &mut String, args: &mut Params, text: &str, v: Box<dyn ToSql + Sync + Send>| {
                args.push(v);
                sql.push_str(&text.replace('?', &format!("${}", args.len())));
            };
        if let Some(lead) = q.lead_id {
            cond(&mut sql, &mut args, " AND a.lead_id = ?", Box::new(lead));
        }
        if let Some(opp) = q.opportunity_id {
            cond(
                &mut sql,
                &mut args,
                " AND a.opportunity_id = ?",
                Box::new(opp),
            );
        }
        match q.records {
            RecordKind::Any => {}
            RecordKind::Activities => cond(
                &mut sql,
                &mut args,
                " AND a.event_code < ?",
                Box::new(FIRST_OPPORTUNITY_CODE),
            ),
            RecordKind::Opportunities => cond(
                &mut sql,
                &mut args,
                " AND a.event_code >= ?",
                Box::new(FIRST_OPPORTUNITY_CODE),
            ),
        }
        match q.event_codes.as_slice() {
            [] => {}
            // One code: a plain equality, the shape SQLite's `IN (?)` has, for the same index use.
            [code] => cond(
                &mut sql,
                &mut args,
                " AND a.event_code = ?",
                Box::new(*code),
            ),
            codes => cond(
                &mut sql,
                &mut args,
                " AND a.event_code = ANY(?::bigint[])",
                Box::new(codes.to_vec()),
            ),
        }
        if q.match_nothing {
            sql.push_str(" AND 1 = 0");
        }
        if let Some(from) = q.updated_from {
            cond(
                &mut sql,
                &mut args,
                " AND a.updated_at >= ?",
                Box::new(from),
            );
        }
        if let Some(to) = q.updated_to {
            cond(&mut sql, &mut args, " AND a.updated_at <= ?", Box::new(to));
        }
        // Type: one plain alternative is `sl_type = ANY(…)` (an index range per type); per-resource
        // alternatives are OR-ed conjunctions.
        let texts = |v: &[String]| -> Box<dyn ToSql + Sync + Send> { Box::new(v.to_vec()) };
        match q.types.as_slice() {
            [] => {}
            [TypeFilter {
                resource: None,
                sl_types,
            }] => cond(
                &mut sql,
                &mut args,
                " AND a.sl_type = ANY(?::text[])",
                texts(sl_types),
            ),
            alternatives => {
                let mut parts = Vec::new();
                for alt in alternatives {
                    args.push(texts(&alt.sl_types));
                    let mut part = format!("a.sl_type = ANY(${}::text[])", args.len());
                    if let Some(kind) = alt.resource {
                        args.push(Box::new(kind.as_str()));
                        part.push_str(&format!(" AND a.res_kind = ${}", args.len()));
                    }
                    parts.push(format!("({part})"));
                }
                sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
            }
        }
        if !q.resource_kinds.is_empty() {
            let kinds: Vec<String> = q
                .resource_kinds
                .iter()
                .map(|k| k.as_str().to_string())
                .collect();
            cond(
                &mut sql,
                &mut args,
                " AND a.res_kind = ANY(?::text[])",
                Box::new(kinds),
            );
        }
        if !q.resources.is_empty() {
            let mut parts = Vec::new();
            for (kind, id) in &q.resources {
                args.push(Box::new(kind.as_str()));
                let k = args.len();
                args.push(Box::new(*id));
                parts.push(format!(
                    "(a.res_kind = ${k} AND a.res_id = ${})",
                    args.len()
                ));
            }
            sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
        }
        if !q.ids.is_empty() {
            let mut parts = Vec::new();
            for f in &q.ids {
                args.push(Box::new(f.id));
                let i = args.len();
                match &f.sl_type {
                    Some(t) => {
                        args.push(Box::new(t.clone()));
                        parts.push(format!("(a.id = ${i} AND a.sl_type = ${})", args.len()));
                    }
                    None => parts.push(format!("a.id = ${i}")),
                }
            }
            sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
        }
        if !q.owner_ids.is_empty() {
            cond(
                &mut sql,
                &mut args,
                " AND a.owner_id = ANY(?::bigint[])",
                Box::new(q.owner_ids.clone()),
            );
        }
        match q.pinned {
            None => {}
            Some(true) => sql.push_str(" AND a.pinned_at IS NOT NULL"),
            Some(false) => sql.push_str(" AND a.pinned_at IS NULL"),
        }
        if let Some(owner) = q.visible_to_owner {
            args.push(Box::new(owner));
            // Each activity carries its lead's owner (migration 0005), so this is an index range.
            sql.push_str(&format!(" AND a.lead_owner_id = ${}", args.len()));
        }
        if let Some(from) = q.occurred_from {
            cond(
                &mut sql,
                &mut args,
                " AND a.occurred_at >= ?",
                Box::new(from),
            );
        }
        if let Some(to) = q.occurred_to {
            cond(&mut sql, &mut args, " AND a.occurred_at <= ?", Box::new(to));
        }
        (sql, args)
    }

    /// The ORDER BY clause for `q`, appending its parameters to `args`. Text keys compare bytewise
    /// (`COLLATE "C"`) as SQLite's do; NULL placement is explicit, as in the SQLite backend.
    fn activity_order(q: &ActivityQuery, args: &mut Params) -> String {
        let dir = if q.descending {
            "DESC NULLS LAST"
        } else {
            "ASC NULLS FIRST"
        };
        let id_dir = if q.descending { "DESC" } else { "ASC" };
        let key = match &q.sort {
            // NOT NULL keys: a NULLS clause changes nothing, but PostgreSQL only walks an index in
            // order for the index's own NULLS placement (DESC NULLS FIRST backwards), so naming
            // none lets a page be read from the index instead of sorting every matching row.
            ActivitySort::OccurredAt => return format!("a.occurred_at {id_dir}, a.id {id_dir}"),
            // updated_at is unique within a tenant (a unique index), so it is a total order alone;
            // an `id` tie-break would stop PostgreSQL from reading pages off (…, updated_at) indexes.
            ActivitySort::UpdatedAt => return format!("a.updated_at {id_dir}"),
            ActivitySort::EventCode => "a.event_code".to_string(),
            ActivitySort::Score => "a.score".to_string(),
            ActivitySort::Note => "a.note COLLATE \"C\"".to_string(),
            ActivitySort::Status => "a.status COLLATE \"C\"".to_string(),
            ActivitySort::CreatedByName => {
                "trim(c.first_name || ' ' || c.last_name) COLLATE \"C\"".to_string()
            }
            ActivitySort::Guid => "a.guid".to_string(),
            ActivitySort::Id => return format!("a.id {id_dir}"),
            ActivitySort::Field {
                schema_name,
                numeric,
            } => {
                args.push(Box::new(schema_name.replace('"', "")));
                let v = format!("(a.fields ->> ${}::text)", args.len());
                if *numeric {
                    // SQLite's CAST(text AS REAL) yields 0 for text that is not a number; PostgreSQL's
                    // cast would fail the query, so non-numbers are mapped to 0 explicitly.
                    format!(
                        "(CASE WHEN {v} IS NULL THEN NULL \
                      WHEN {v} ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' \
                      THEN {v}::float8 ELSE 0 END)"
                    )
                } else {
                    format!("{v} COLLATE \"C\"")
                }
            }
        };
        format!("{key} {dir}, a.id {id_dir}")
    }

    /// The page query `list_activities` runs (exposed for EXPLAIN in tests and reports).
    pub(crate) fn activity_page_sql(q: &ActivityQuery) -> (String, Params) {
        if let Some(types) = crate::store::per_type_arms(q) {
            return per_type_page_sql(q, &types);
        }
        let (filter, mut args) = activity_filter(q);
        let order = activity_order(q, &mut args);
        args.push(Box::new(q.limit as i64));
        let limit = args.len();
        args.push(Box::new(q.offset.min(i64::MAX as u64) as i64));
        let offset = args.len();
        (
            format!(
                "{ACTIVITY_SELECT} WHERE {filter} ORDER BY {order} LIMIT ${limit} OFFSET ${offset}"
            ),
            args,
        )
    }

    /// A page of two or more types: per type, the first offset+limit matching ids read in order off
    /// its (tenant, type, date) index (the arms share the filter's parameters); the page is then cut
    /// from those few rows. `= ANY (ARRAY(…))` makes the ids an InitPlan probed through the primary
    /// key; an `IN (…)` became a hash semi-join over a scan of the tenant's activities.
    fn per_type_page_sql(q: &ActivityQuery, types: &[String]) -> (String, Params) {
        let (filter, mut args) = activity_filter(q);
        let order = activity_order(q, &mut args);
        let arm_limit = (q.offset.saturating_add(u64::from(q.limit))).min(i64::MAX as u64) as i64;
        args.push(Box::new(arm_limit));
        let arm_limit = args.len();
        let mut arms = Vec::new();
        for t in types {
            args.push(Box::new(t.clone()));
            arms.push(format!(
                "(SELECT a.id FROM activities a WHERE {filter} AND a.sl_type = ${} \
              ORDER BY {order} LIMIT ${arm_limit})",
                args.len()
            ));
        }
        args.push(Box::new(q.limit as i64));
        let limit = args.len();
        args.push(Box::new(q.offset.min(i64::MAX as u64) as i64));
        let offset = args.len();
        (
            format!(
                "{ACTIVITY_SELECT} WHERE a.tenant_id = $1 AND a.id = ANY (ARRAY({})) \
             ORDER BY {order} LIMIT ${limit} OFFSET ${offset}",
                arms.join(" UNION ALL ")
            ),
            args,
        )
    }

    /// The count statement `list_activities` runs for `q` (`None` when it counts nothing; exposed
    /// for EXPLAIN in tests and reports).
    pub(crate) fn activity_count_sql(q: &ActivityQuery) -> Option<(String, Params)> {
        let (filter, mut args) = activity_filter(q);
        match q.count {
            CountMode::None => None,
            CountMode::Exact => Some((
                format!("SELECT count(*) FROM activities a WHERE {filter}"),
                args,
            )),
            CountMode::Capped(cap) => {
                args.push(Box::new(cap.min(i64::MAX as u64) as i64));
                Some((
                format!(
                    "SELECT count(*) FROM (SELECT 1 FROM activities a WHERE {filter} LIMIT ${}) capped",
                    args.len()
                ),
                args,
            ))
            }
        }
    }
}
