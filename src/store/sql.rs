//! The activity list SQL (filter, order, page and count statements), built once for both stores.
//!
//! Which conditions an `ActivityQuery` puts in the WHERE clause, and in which order, is decided
//! here only; a backend supplies spelling through its `Dialect`, so a new filter is one change.
//!
//! The spellings differ where each planner needs it (see docs/query-plans.md): placeholders
//! (`?` vs `$n`), lists (`IN (?,…)` vs one array parameter), SQLite's unary `+` that keeps an
//! index out of a plan, the sort key expressions, and the shape of a page over several types.

use crate::domain::{
    ActivityQuery, ActivitySort, CountMode, RecordKind, TypeFilter, FIRST_OPPORTUNITY_CODE,
};

/// The backend a statement is spelled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A statement parameter, independent of the backend; each store converts these to its own
/// parameter type. The list variants are one PostgreSQL array parameter; SQLite statements bind
/// each element to a placeholder of its own.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
    Ints(Vec<i64>),
    Texts(Vec<String>),
    Null,
}

/// A statement's text and its parameters, in placeholder order.
pub(crate) type Statement = (String, Vec<Arg>);

/// The page statement `list_activities` runs for `q`; `select` is the backend's SELECT … FROM …
/// JOIN … prefix, ending where the WHERE clause starts.
pub(crate) fn page_sql(dialect: Dialect, select: &str, q: &ActivityQuery) -> Statement {
    let mut b = Builder::new(dialect);
    if let Some(types) = crate::store::per_type_arms(q) {
        let sql = b.per_type_page(select, q, &types);
        return (sql, b.args);
    }
    let filter = b.filter(q);
    let order = b.order(q);
    let limit = b.bind(Arg::Int(q.limit as i64));
    let offset = b.bind(Arg::Int(clamp(q.offset)));
    (
        format!("{select} WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"),
        b.args,
    )
}

/// The count statement `list_activities` runs for `q` (`None` when it counts nothing). Counting
/// touches only `activities`, so the planner can answer from a covering index; a cap
/// (`limit_paging_counts`) bounds the work on huge tenants.
pub(crate) fn count_sql(dialect: Dialect, q: &ActivityQuery) -> Option<Statement> {
    if q.count != CountMode::None && kept_count(q) {
        return Some(kept_count_sql(dialect, q));
    }
    let mut b = Builder::new(dialect);
    let filter = b.filter(q);
    let sql = match q.count {
        CountMode::None => return None,
        CountMode::Exact => format!("SELECT count(*) FROM activities a WHERE {filter}"),
        CountMode::Capped(cap) => {
            let cap = b.bind(Arg::Int(clamp(cap)));
            format!(
                "SELECT count(*) FROM (SELECT 1 FROM activities a WHERE {filter} LIMIT {cap}) \
                 capped"
            )
        }
    };
    Some((sql, b.args))
}

/// Whether `q` filters only on columns `activity_counts` keeps (event code, Salesloft type,
/// resource kind, owner, lead owner, pinned; migration 0011): then its count is a sum over the
/// tenant's combinations of those columns, whatever the number of activities.
pub(crate) fn kept_count(q: &ActivityQuery) -> bool {
    q.lead_id.is_none()
        && q.opportunity_id.is_none()
        && q.occurred_from.is_none()
        && q.occurred_to.is_none()
        && q.updated_from.is_none()
        && q.updated_to.is_none()
        && q.resources.is_empty()
        && q.ids.is_empty()
}

/// The count of a `kept_count` query from `activity_counts`: the list's own WHERE clause over
/// the count rows (which carry the filtered columns under the same names), summed; capped as
/// the row count would be.
fn kept_count_sql(dialect: Dialect, q: &ActivityQuery) -> Statement {
    let mut b = Builder::new(dialect);
    b.kept_counts = true;
    let sum = match dialect {
        Dialect::Sqlite => "coalesce(sum(a.n), 0)",
        Dialect::Postgres => "coalesce(sum(a.n), 0)::bigint",
    };
    // The cap is bound first: it comes first in the text (SQLite's placeholders are positional).
    let sql = match q.count {
        CountMode::Capped(cap) => {
            let cap = b.bind(Arg::Int(clamp(cap)));
            let least = match dialect {
                Dialect::Sqlite => "min",
                Dialect::Postgres => "least",
            };
            let filter = b.filter(q);
            format!("SELECT {least}({sum}, {cap}) FROM activity_counts a WHERE {filter}")
        }
        _ => {
            let filter = b.filter(q);
            format!("SELECT {sum} FROM activity_counts a WHERE {filter}")
        }
    };
    (sql, b.args)
}

pub(crate) fn clamp(n: u64) -> i64 {
    n.min(i64::MAX as u64) as i64
}

/// Accumulates parameters while a statement is written (also used by `store::directory`).
pub(crate) struct Builder {
    dialect: Dialect,
    pub(crate) args: Vec<Arg>,
    /// The filter is written over `activity_counts` rather than `activities` (pinned is a 0/1
    /// column there, the lead owner 0 for no lead).
    kept_counts: bool,
}

impl Builder {
    pub(crate) fn new(dialect: Dialect) -> Builder {
        Builder {
            dialect,
            args: Vec::new(),
            kept_counts: false,
        }
    }

    /// The WHERE clause of an activity list query (shared by the count and the page). Every
    /// filter maps to an index range; the order of the conditions is the order of the parameters.
    fn filter(&mut self, q: &ActivityQuery) -> String {
        let mut sql = format!("a.tenant_id = {}", self.bind(Arg::Int(q.tenant_id)));
        if let Some(lead) = q.lead_id {
            sql += &format!(" AND a.lead_id = {}", self.bind(Arg::Int(lead)));
        }
        if let Some(opp) = q.opportunity_id {
            sql += &format!(" AND a.opportunity_id = {}", self.bind(Arg::Int(opp)));
        }
        match q.records {
            RecordKind::Any => {}
            // Most of a lead's rows are activities, so walking its (lead, occurred_at) or
            // (lead, updated_at) index in order and skipping opportunities beats a range scan of
            // (lead, event_code) followed by a sort of all its rows (SQLite needs telling).
            // Counting still uses that index.
            RecordKind::Activities => {
                let column = self.unindexed("a.event_code");
                let code = self.bind(Arg::Int(FIRST_OPPORTUNITY_CODE));
                sql += &format!(" AND {column} < {code}");
            }
            RecordKind::Opportunities => {
                let code = self.bind(Arg::Int(FIRST_OPPORTUNITY_CODE));
                sql += &format!(" AND a.event_code >= {code}");
            }
        }
        if !q.event_codes.is_empty() {
            sql += &format!(" AND {}", self.event_code_in(&q.event_codes));
        }
        if q.match_nothing {
            sql += " AND 1 = 0";
        }
        if let Some(from) = q.updated_from {
            sql += &format!(" AND a.updated_at >= {}", self.bind(Arg::Int(from)));
        }
        if let Some(to) = q.updated_to {
            sql += &format!(" AND a.updated_at <= {}", self.bind(Arg::Int(to)));
        }
        // Type: one plain alternative is a list (an index range per type); per-resource
        // alternatives are OR-ed conjunctions.
        match q.types.as_slice() {
            [] => {}
            [TypeFilter {
                resource: None,
                sl_types,
            }] => {
                sql += &format!(
                    " AND {}",
                    self.any_of("a.sl_type", Arg::Texts(sl_types.clone()), false)
                );
            }
            alternatives => {
                let mut parts = Vec::new();
                for alt in alternatives {
                    let mut part = self.any_of("a.sl_type", Arg::Texts(alt.sl_types.clone()), true);
                    if let Some(kind) = alt.resource {
                        let kind = self.bind(Arg::Text(kind.as_str().into()));
                        part += &format!(" AND a.res_kind = {kind}");
                    }
                    parts.push(format!("({part})"));
                }
                sql += &format!(" AND ({})", parts.join(" OR "));
            }
        }
        if !q.resource_kinds.is_empty() {
            let kinds = q
                .resource_kinds
                .iter()
                .map(|k| k.as_str().to_string())
                .collect();
            sql += &format!(
                " AND {}",
                self.any_of("a.res_kind", Arg::Texts(kinds), false)
            );
        }
        if !q.resources.is_empty() {
            let mut parts = Vec::new();
            for (kind, id) in &q.resources {
                let kind = self.bind(Arg::Text(kind.as_str().into()));
                let id = self.bind(Arg::Int(*id));
                parts.push(format!("(a.res_kind = {kind} AND a.res_id = {id})"));
            }
            sql += &format!(" AND ({})", parts.join(" OR "));
        }
        if !q.ids.is_empty() {
            let mut parts = Vec::new();
            for f in &q.ids {
                let id = self.bind(Arg::Int(f.id));
                match &f.sl_type {
                    Some(t) => {
                        let t = self.bind(Arg::Text(t.clone()));
                        parts.push(format!("(a.id = {id} AND a.sl_type = {t})"));
                    }
                    None => parts.push(format!("a.id = {id}")),
                }
            }
            sql += &format!(" AND ({})", parts.join(" OR "));
        }
        if !q.owner_ids.is_empty() {
            let owners = Arg::Ints(q.owner_ids.clone());
            sql += &format!(" AND {}", self.any_of("a.owner_id", owners, false));
        }
        match (q.pinned, self.kept_counts) {
            (None, _) => {}
            (Some(true), false) => sql += " AND a.pinned_at IS NOT NULL",
            (Some(false), false) => sql += " AND a.pinned_at IS NULL",
            (Some(true), true) => sql += " AND a.pinned = 1",
            (Some(false), true) => sql += " AND a.pinned = 0",
        }
        if let Some(owner) = q.visible_to_owner {
            // Each activity carries its lead's owner (migration 0005), so this is an index range.
            sql += &format!(" AND a.lead_owner_id = {}", self.bind(Arg::Int(owner)));
        }
        if let Some(from) = q.occurred_from {
            sql += &format!(" AND a.occurred_at >= {}", self.bind(Arg::Int(from)));
        }
        if let Some(to) = q.occurred_to {
            sql += &format!(" AND a.occurred_at <= {}", self.bind(Arg::Int(to)));
        }
        sql
    }

    /// The ORDER BY clause for `q`: the sort key with explicit NULL placement (NULLs first
    /// ascending, last descending, the same on both backends), then the id in the same direction
    /// as a total tie-break.
    fn order(&mut self, q: &ActivityQuery) -> String {
        let dir = if q.descending {
            "DESC NULLS LAST"
        } else {
            "ASC NULLS FIRST"
        };
        let id_dir = if q.descending { "DESC" } else { "ASC" };
        let key = match &q.sort {
            ActivitySort::OccurredAt => {
                return self.indexed_order("a.occurred_at", false, q.descending)
            }
            // Within one opportunity, sort its own rows (found through the opportunity index)
            // rather than walk the tenant-wide updated_at index and filter.
            ActivitySort::UpdatedAt if q.opportunity_id.is_some() => {
                let key = self.unindexed("a.updated_at");
                return self.indexed_order(&key, true, q.descending);
            }
            ActivitySort::UpdatedAt => {
                return self.indexed_order("a.updated_at", true, q.descending)
            }
            ActivitySort::EventCode => "a.event_code".to_string(),
            ActivitySort::Score => "a.score".to_string(),
            ActivitySort::Note => self.text_key("a.note"),
            ActivitySort::Status => self.text_key("a.status"),
            ActivitySort::CreatedByName => self.created_by_name(),
            ActivitySort::Guid => "a.guid".to_string(),
            ActivitySort::Id => return format!("a.id {id_dir}"),
            ActivitySort::Field {
                schema_name,
                numeric,
            } => self.field_key(&schema_name.replace('"', ""), *numeric),
        };
        format!("{key} {dir}, a.id {id_dir}")
    }
}

/// Spelling: everything below is where the two backends differ, and nothing above is.
impl Builder {
    /// Appends `arg` and returns its placeholder. PostgreSQL numbers them, so a statement may
    /// refer to one parameter twice; SQLite's are positional.
    pub(crate) fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        match self.dialect {
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => format!("${}", self.args.len()),
        }
    }

    /// `column` equal to one of the values of the list `values` (`Arg::Ints` or `Arg::Texts`).
    /// SQLite: `IN (?,…)`, one parameter each; an empty list is `IN ()`, or with `pad_empty`
    /// `IN (?)` bound to NULL. PostgreSQL: `= ANY($n::T[])`, one array parameter.
    pub(crate) fn any_of(&mut self, column: &str, values: Arg, pad_empty: bool) -> String {
        match self.dialect {
            Dialect::Sqlite => {
                let scalars: Vec<Arg> = match values {
                    Arg::Ints(v) => v.into_iter().map(Arg::Int).collect(),
                    Arg::Texts(v) => v.into_iter().map(Arg::Text).collect(),
                    one => vec![one],
                };
                let scalars = if scalars.is_empty() && pad_empty {
                    vec![Arg::Null]
                } else {
                    scalars
                };
                let marks: Vec<String> = scalars.into_iter().map(|a| self.bind(a)).collect();
                format!("{column} IN ({})", marks.join(","))
            }
            // One value is a plain equality: PostgreSQL's planner orders by an index led by
            // `column` only for `=`, not for `= ANY` of a one-element array.
            Dialect::Postgres => match values {
                Arg::Ints(v) if v.len() == 1 => format!("{column} = {}", self.bind(Arg::Int(v[0]))),
                Arg::Texts(mut v) if v.len() == 1 => {
                    let one = v.remove(0);
                    format!("{column} = {}", self.bind(Arg::Text(one)))
                }
                values => {
                    let cast = match values {
                        Arg::Ints(_) => "::bigint[]",
                        Arg::Texts(_) => "::text[]",
                        _ => "",
                    };
                    format!("{column} = ANY({}{cast})", self.bind(values))
                }
            },
        }
    }

    /// `a.event_code` among `codes`. PostgreSQL spells one code as a plain equality, the shape
    /// SQLite's `IN (?)` has, for the same index use.
    fn event_code_in(&mut self, codes: &[i64]) -> String {
        match (self.dialect, codes) {
            (Dialect::Postgres, [code]) => format!("a.event_code = {}", self.bind(Arg::Int(*code))),
            _ => self.any_of("a.event_code", Arg::Ints(codes.to_vec()), false),
        }
    }

    /// `column` as an expression SQLite cannot serve from an index (unary `+`), so that its
    /// planner prefers the index the rest of the query needs; PostgreSQL needs no such hint.
    fn unindexed(&self, column: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("+{column}"),
            Dialect::Postgres => column.to_string(),
        }
    }

    /// The order by a NOT NULL key that (tenant, …, key, id) indexes serve; `unique` when the
    /// key alone is a total order within a tenant (updated_at has a unique index). PostgreSQL
    /// walks an index in order only for the index's own NULLS placement, so it names none, and
    /// an `id` tie-break after a unique key would stop it reading pages off (…, updated_at).
    fn indexed_order(&self, key: &str, unique: bool, descending: bool) -> String {
        let id_dir = if descending { "DESC" } else { "ASC" };
        match self.dialect {
            Dialect::Sqlite => {
                let dir = if descending {
                    "DESC NULLS LAST"
                } else {
                    "ASC NULLS FIRST"
                };
                format!("{key} {dir}, a.id {id_dir}")
            }
            Dialect::Postgres if unique => format!("{key} {id_dir}"),
            Dialect::Postgres => format!("{key} {id_dir}, a.id {id_dir}"),
        }
    }

    /// A text sort key compared bytewise, as SQLite compares text by default.
    fn text_key(&self, column: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => column.to_string(),
            Dialect::Postgres => format!("{column} COLLATE \"C\""),
        }
    }

    /// The creator's display name: a subquery, since neither backend's page statement joins
    /// users; compared bytewise in PostgreSQL, as SQLite's default collation does.
    fn created_by_name(&self) -> String {
        let name = "(SELECT trim(c.first_name || ' ' || c.last_name) FROM users c \
                    WHERE c.id = a.created_by)";
        match self.dialect {
            Dialect::Sqlite => name.to_string(),
            Dialect::Postgres => format!("{name} COLLATE \"C\""),
        }
    }

    /// The custom field `name` of the activity's field JSON as a sort key; `numeric` compares it
    /// as a number, text that is not a number as 0 (SQLite's CAST; PostgreSQL's own cast would
    /// fail the query, so it maps non-numbers to 0 explicitly).
    fn field_key(&mut self, name: &str, numeric: bool) -> String {
        match self.dialect {
            Dialect::Sqlite => {
                let path = self.bind(Arg::Text(format!("$.\"{name}\"")));
                if numeric {
                    format!("CAST(json_extract(a.fields, {path}) AS REAL)")
                } else {
                    format!("json_extract(a.fields, {path})")
                }
            }
            Dialect::Postgres => {
                let v = format!("(a.fields ->> {}::text)", self.bind(Arg::Text(name.into())));
                if numeric {
                    format!(
                        "(CASE WHEN {v} IS NULL THEN NULL \
                          WHEN {v} ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' \
                          THEN {v}::float8 ELSE 0 END)"
                    )
                } else {
                    format!("{v} COLLATE \"C\"")
                }
            }
        }
    }

    /// A page of two or more types (`per_type_arms`): per type, the first offset+limit matching
    /// ids read in order off its (tenant, type, date) index; the page is then cut from those few
    /// rows. Only occurred_at/updated_at sorts come here, so the ORDER BY has no parameters.
    ///
    /// SQLite repeats the filter's parameters in each arm, and the unary `+` in the outer ORDER BY
    /// keeps it from walking the tenant's date index to probe the id list. PostgreSQL's arms share
    /// the filter's parameters, and `= ANY (ARRAY(…))` makes the ids an InitPlan probed through
    /// the primary key (an `IN (…)` became a hash semi-join over a scan of the tenant's rows).
    fn per_type_page(&mut self, select: &str, q: &ActivityQuery, types: &[String]) -> String {
        let arm_limit = clamp(q.offset.saturating_add(u64::from(q.limit)));
        match self.dialect {
            Dialect::Sqlite => {
                let mut part = Builder::new(Dialect::Sqlite);
                let filter = part.filter(q);
                let order = part.order(q);
                let mut arms = Vec::new();
                for t in types {
                    self.args.extend(part.args.iter().cloned());
                    let t = self.bind(Arg::Text(t.clone()));
                    let arm_limit = self.bind(Arg::Int(arm_limit));
                    arms.push(format!(
                        "SELECT id FROM (SELECT a.id FROM activities a WHERE {filter} \
                         AND a.sl_type = {t} ORDER BY {order} LIMIT {arm_limit})"
                    ));
                }
                let tenant = self.bind(Arg::Int(q.tenant_id));
                let limit = self.bind(Arg::Int(q.limit as i64));
                let offset = self.bind(Arg::Int(clamp(q.offset)));
                format!(
                    "{select} WHERE a.id IN ({}) AND a.tenant_id = {tenant} ORDER BY +{order} \
                     LIMIT {limit} OFFSET {offset}",
                    arms.join(" UNION ALL ")
                )
            }
            Dialect::Postgres => {
                let filter = self.filter(q);
                let order = self.order(q);
                let arm_limit = self.bind(Arg::Int(arm_limit));
                let mut arms = Vec::new();
                for t in types {
                    let t = self.bind(Arg::Text(t.clone()));
                    arms.push(format!(
                        "(SELECT a.id FROM activities a WHERE {filter} AND a.sl_type = {t} \
                          ORDER BY {order} LIMIT {arm_limit})"
                    ));
                }
                let limit = self.bind(Arg::Int(q.limit as i64));
                let offset = self.bind(Arg::Int(clamp(q.offset)));
                format!(
                    "{select} WHERE a.tenant_id = $1 AND a.id = ANY (ARRAY({})) \
                     ORDER BY {order} LIMIT {limit} OFFSET {offset}",
                    arms.join(" UNION ALL ")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Golden statements for a few shapes on each backend: a change to what a request runs shows
    //! here (and then belongs in docs/query-plans.md's checks).

    use super::*;
    use crate::domain::ResourceKind;

    fn shapes() -> Vec<ActivityQuery> {
        let plain = ActivityQuery::new(7);
        let mut lead = ActivityQuery::new(7);
        lead.lead_id = Some(11);
        lead.records = RecordKind::Activities;
        lead.event_codes = vec![201];
        lead.sort = ActivitySort::Field {
            schema_name: "Amount".into(),
            numeric: true,
        };
        lead.descending = false;
        lead.count = CountMode::Capped(500);
        let mut types = ActivityQuery::new(7);
        types.types = vec![TypeFilter {
            resource: None,
            sl_types: vec!["call".into(), "email".into()],
        }];
        types.owner_ids = vec![3, 4];
        types.sort = ActivitySort::UpdatedAt;
        types.offset = 25;
        types.limit = 10;
        types.count = CountMode::None;
        let mut alts = ActivityQuery::new(7);
        alts.types = vec![
            TypeFilter {
                resource: Some(ResourceKind::Person),
                sl_types: vec!["call".into()],
            },
            TypeFilter {
                resource: None,
                sl_types: vec![],
            },
        ];
        alts.opportunity_id = Some(5);
        alts.sort = ActivitySort::UpdatedAt;
        alts.event_codes = vec![1, 2];
        alts.pinned = Some(true);
        vec![plain, lead, types, alts]
    }

    /// Per shape: SQLite page, SQLite count, PostgreSQL page, PostgreSQL count (`{:?}`).
    const EXPECTED: [[&str; 4]; 4] = [
        [
            r#"("SELECT a.id FROM activities a WHERE a.tenant_id = ? ORDER BY a.occurred_at DESC NULLS LAST, a.id DESC LIMIT ? OFFSET ?", [Int(7), Int(25), Int(0)])"#,
            r#"Some(("SELECT coalesce(sum(a.n), 0) FROM activity_counts a WHERE a.tenant_id = ?", [Int(7)]))"#,
            r#"("SELECT a.id FROM activities a WHERE a.tenant_id = $1 ORDER BY a.occurred_at DESC, a.id DESC LIMIT $2 OFFSET $3", [Int(7), Int(25), Int(0)])"#,
            r#"Some(("SELECT coalesce(sum(a.n), 0)::bigint FROM activity_counts a WHERE a.tenant_id = $1", [Int(7)]))"#,
        ],
        [
            r#"("SELECT a.id FROM activities a WHERE a.tenant_id = ? AND a.lead_id = ? AND +a.event_code < ? AND a.event_code IN (?) ORDER BY CAST(json_extract(a.fields, ?) AS REAL) ASC NULLS FIRST, a.id ASC LIMIT ? OFFSET ?", [Int(7), Int(11), Int(12000), Int(201), Text("$.\"Amount\""), Int(25), Int(0)])"#,
            r#"Some(("SELECT count(*) FROM (SELECT 1 FROM activities a WHERE a.tenant_id = ? AND a.lead_id = ? AND +a.event_code < ? AND a.event_code IN (?) LIMIT ?) capped", [Int(7), Int(11), Int(12000), Int(201), Int(500)]))"#,
            r#"("SELECT a.id FROM activities a WHERE a.tenant_id = $1 AND a.lead_id = $2 AND a.event_code < $3 AND a.event_code = $4 ORDER BY (CASE WHEN (a.fields ->> $5::text) IS NULL THEN NULL WHEN (a.fields ->> $5::text) ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' THEN (a.fields ->> $5::text)::float8 ELSE 0 END) ASC NULLS FIRST, a.id ASC LIMIT $6 OFFSET $7", [Int(7), Int(11), Int(12000), Int(201), Text("Amount"), Int(25), Int(0)])"#,
            r#"Some(("SELECT count(*) FROM (SELECT 1 FROM activities a WHERE a.tenant_id = $1 AND a.lead_id = $2 AND a.event_code < $3 AND a.event_code = $4 LIMIT $5) capped", [Int(7), Int(11), Int(12000), Int(201), Int(500)]))"#,
        ],
        [
            r#"("SELECT a.id FROM activities a WHERE a.id IN (SELECT id FROM (SELECT a.id FROM activities a WHERE a.tenant_id = ? AND a.sl_type IN (?,?) AND a.owner_id IN (?,?) AND a.sl_type = ? ORDER BY a.updated_at DESC NULLS LAST, a.id DESC LIMIT ?) UNION ALL SELECT id FROM (SELECT a.id FROM activities a WHERE a.tenant_id = ? AND a.sl_type IN (?,?) AND a.owner_id IN (?,?) AND a.sl_type = ? ORDER BY a.updated_at DESC NULLS LAST, a.id DESC LIMIT ?)) AND a.tenant_id = ? ORDER BY +a.updated_at DESC NULLS LAST, a.id DESC LIMIT ? OFFSET ?", [Int(7), Text("call"), Text("email"), Int(3), Int(4), Text("call"), Int(35), Int(7), Text("call"), Text("email"), Int(3), Int(4), Text("email"), Int(35), Int(7), Int(10), Int(25)])"#,
            r#"None"#,
            r#"("SELECT a.id FROM activities a WHERE a.tenant_id = $1 AND a.id = ANY (ARRAY((SELECT a.id FROM activities a WHERE a.tenant_id = $1 AND a.sl_type = ANY($2::text[]) AND a.owner_id = ANY($3::bigint[]) AND a.sl_type = $5 ORDER BY a.updated_at DESC LIMIT $4) UNION ALL (SELECT a.id FROM activities a WHERE a.tenant_id = $1 AND a.sl_type = ANY($2::text[]) AND a.owner_id = ANY($3::bigint[]) AND a.sl_type = $6 ORDER BY a.updated_at DESC LIMIT $4))) ORDER BY a.updated_at DESC LIMIT $7 OFFSET $8", [Int(7), Texts(["call", "email"]), Ints([3, 4]), Int(35), Text("call"), Text("email"), Int(10), Int(25)])"#,
            r#"None"#,
        ],
        [
            r#"("SELECT a.id FROM activities a WHERE a.tenant_id = ? AND a.opportunity_id = ? AND a.event_code IN (?,?) AND ((a.sl_type IN (?) AND a.res_kind = ?) OR (a.sl_type IN (?))) AND a.pinned_at IS NOT NULL ORDER BY +a.updated_at DESC NULLS LAST, a.id DESC LIMIT ? OFFSET ?", [Int(7), Int(5), Int(1), Int(2), Text("call"), Text("person"), Null, Int(25), Int(0)])"#,
            r#"Some(("SELECT count(*) FROM activities a WHERE a.tenant_id = ? AND a.opportunity_id = ? AND a.event_code IN (?,?) AND ((a.sl_type IN (?) AND a.res_kind = ?) OR (a.sl_type IN (?))) AND a.pinned_at IS NOT NULL", [Int(7), Int(5), Int(1), Int(2), Text("call"), Text("person"), Null]))"#,
            r#"("SELECT a.id FROM activities a WHERE a.tenant_id = $1 AND a.opportunity_id = $2 AND a.event_code = ANY($3::bigint[]) AND ((a.sl_type = $4 AND a.res_kind = $5) OR (a.sl_type = ANY($6::text[]))) AND a.pinned_at IS NOT NULL ORDER BY a.updated_at DESC LIMIT $7 OFFSET $8", [Int(7), Int(5), Ints([1, 2]), Text("call"), Text("person"), Texts([]), Int(25), Int(0)])"#,
            r#"Some(("SELECT count(*) FROM activities a WHERE a.tenant_id = $1 AND a.opportunity_id = $2 AND a.event_code = ANY($3::bigint[]) AND ((a.sl_type = $4 AND a.res_kind = $5) OR (a.sl_type = ANY($6::text[]))) AND a.pinned_at IS NOT NULL", [Int(7), Int(5), Ints([1, 2]), Text("call"), Text("person"), Texts([])]))"#,
        ],
    ];

    #[test]
    fn statements_per_backend() {
        for (q, expected) in shapes().iter().zip(EXPECTED) {
            let mut got = Vec::new();
            for d in [Dialect::Sqlite, Dialect::Postgres] {
                got.push(format!(
                    "{:?}",
                    page_sql(d, "SELECT a.id FROM activities a", q)
                ));
                got.push(format!("{:?}", count_sql(d, q)));
            }
            assert_eq!(got, expected, "{q:?}");
        }
    }
}
