//! The activity list SQL, built once for both stores: which conditions an `ActivityQuery` puts
//! in the WHERE clause and in which order, its ORDER BY, page and count statements. A backend
//! supplies only spelling through its `Dialect`, so a new filter is one change here.
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
    let mut b = Builder::new(dialect);
    let filter = b.filter(q);
    let sql = match q.count {
        CountMode::None => return None,
        CountMode::Exact => format!("SELECT count(*) FROM activities a WHERE {filter}"),
        CountMode::Capped(cap) => {
            let cap = b.bind(Arg::Int(clamp(cap)));
            format!("SELECT count(*) FROM (SELECT 1 FROM activities a WHERE {filter} LIMIT {cap}) capped")
        }
    };
    Some((sql, b.args))
}

fn clamp(n: u64) -> i64 {
    n.min(i64::MAX as u64) as i64
}

/// Accumulates parameters while a statement is written.
struct Builder {
    dialect: Dialect,
    args: Vec<Arg>,
}

impl Builder {
    fn new(dialect: Dialect) -> Builder {
        Builder {
            dialect,
            args: Vec::new(),
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
        match q.pinned {
            None => {}
            Some(true) => sql += " AND a.pinned_at IS NOT NULL",
            Some(false) => sql += " AND a.pinned_at IS NULL",
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
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        match self.dialect {
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => format!("${}", self.args.len()),
        }
    }

    /// `column` equal to one of the values of the list `values` (`Arg::Ints` or `Arg::Texts`).
    /// SQLite: `IN (?,…)`, one parameter each; an empty list is `IN ()`, or with `pad_empty`
    /// `IN (?)` bound to NULL. PostgreSQL: `= ANY($n::T[])`, one array parameter.
    fn any_of(&mut self, column: &str, values: Arg, pad_empty: bool) -> String {
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
            Dialect::Postgres => {
                let cast = match values {
                    Arg::Ints(_) => "::bigint[]",
                    Arg::Texts(_) => "::text[]",
                    _ => "",
                };
                format!("{column} = ANY({}{cast})", self.bind(values))
            }
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

    /// The creator's display name: a subquery in SQLite, whose page statement does not join
    /// users; the joined `c` row in PostgreSQL's.
    fn created_by_name(&self) -> String {
        match self.dialect {
            Dialect::Sqlite => "(SELECT trim(c.first_name || ' ' || c.last_name) FROM users c \
                                WHERE c.id = a.created_by)"
                .to_string(),
            Dialect::Postgres => {
                "trim(c.first_name || ' ' || c.last_name) COLLATE \"C\"".to_string()
            }
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
                        "SELECT id FROM (SELECT a.id FROM activities a WHERE {filter} AND a.sl_type = {t} \
                         ORDER BY {order} LIMIT {arm_limit})"
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
mod equality_with_legacy {
    //! Temporary: the statements built here equal those each backend's own builder produced.

    use super::*;
    use crate::domain::{ActivityIdFilter, ResourceKind};

    /// A small deterministic generator (xorshift), so a failure names a reproducible case.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn chance(&mut self, in_: u64) -> bool {
            self.below(in_) == 0
        }
        fn int(&mut self) -> i64 {
            self.below(1_000_000) as i64 - 1000
        }
    }

    const TYPES: [&str; 5] = ["call", "email", "note", "meeting", "sms"];

    fn sl_types(r: &mut Rng) -> Vec<String> {
        let n = r.below(4);
        (0..n)
            .map(|_| TYPES[r.below(5) as usize].to_string())
            .collect()
    }

    fn kind(r: &mut Rng) -> ResourceKind {
        ResourceKind::ALL[r.below(3) as usize]
    }

    fn sorts() -> Vec<ActivitySort> {
        vec![
            ActivitySort::OccurredAt,
            ActivitySort::UpdatedAt,
            ActivitySort::EventCode,
            ActivitySort::Score,
            ActivitySort::Note,
            ActivitySort::Status,
            ActivitySort::CreatedByName,
            ActivitySort::Guid,
            ActivitySort::Id,
            ActivitySort::Field {
                schema_name: "mx_Custom_\"1".into(),
                numeric: false,
            },
            ActivitySort::Field {
                schema_name: "Amount".into(),
                numeric: true,
            },
        ]
    }

    fn query(r: &mut Rng, sort: ActivitySort, descending: bool, count: CountMode) -> ActivityQuery {
        let mut q = ActivityQuery::new(r.int());
        q.sort = sort;
        q.descending = descending;
        q.count = count;
        q.limit = r.below(300) as u32;
        q.offset = if r.chance(20) {
            u64::MAX
        } else {
            r.below(5000)
        };
        if r.chance(3) {
            q.lead_id = Some(r.int());
        }
        if r.chance(3) {
            q.opportunity_id = Some(r.int());
        }
        q.records = [
            RecordKind::Any,
            RecordKind::Activities,
            RecordKind::Opportunities,
        ][r.below(3) as usize];
        if r.chance(3) {
            q.event_codes = (0..r.below(4)).map(|_| r.int()).collect();
        }
        for field in [
            &mut q.occurred_from,
            &mut q.occurred_to,
            &mut q.updated_from,
            &mut q.updated_to,
        ] {
            if r.chance(3) {
                *field = Some(r.int());
            }
        }
        // Type filters: often several plain types (the per-type arms), sometimes per resource.
        match r.below(4) {
            0 => {}
            1 | 2 => q.types.push(TypeFilter {
                resource: None,
                sl_types: sl_types(r),
            }),
            _ => {
                for _ in 0..r.below(4) {
                    let resource = r.chance(2).then(|| kind(r));
                    q.types.push(TypeFilter {
                        resource,
                        sl_types: sl_types(r),
                    });
                }
            }
        }
        if r.chance(4) {
            q.resource_kinds = (0..1 + r.below(3)).map(|_| kind(r)).collect();
        }
        if r.chance(5) {
            q.resources = (0..1 + r.below(3)).map(|_| (kind(r), r.int())).collect();
        }
        if r.chance(5) {
            q.ids = (0..1 + r.below(3))
                .map(|_| ActivityIdFilter {
                    id: r.int(),
                    sl_type: r.chance(2).then(|| TYPES[r.below(5) as usize].to_string()),
                })
                .collect();
        }
        if r.chance(4) {
            q.owner_ids = (0..1 + r.below(3)).map(|_| r.int()).collect();
        }
        q.pinned = [None, Some(true), Some(false)][r.below(3) as usize];
        if r.chance(4) {
            q.visible_to_owner = Some(r.int());
        }
        q.match_nothing = r.chance(10);
        q
    }

    fn sqlite(q: &ActivityQuery) -> (String, String, Option<(String, String)>) {
        use crate::store::sqlite::query::{self as new, legacy};
        let (old_sql, old_args) = legacy::activity_page_sql(q);
        let (sql, args) = new::activity_page_sql(q);
        assert_eq!(sql, old_sql, "SQLite page, {q:?}");
        assert_eq!(
            format!("{args:?}"),
            format!("{old_args:?}"),
            "SQLite page args, {q:?}"
        );
        let old_count = legacy::activity_count_sql(q).map(|(s, a)| (s, format!("{a:?}")));
        let count = new::activity_count_sql(q).map(|(s, a)| (s, format!("{a:?}")));
        assert_eq!(count, old_count, "SQLite count, {q:?}");
        (sql, format!("{args:?}"), count)
    }

    fn postgres(q: &ActivityQuery) {
        use crate::store::postgres::query::{self as new, legacy};
        let (old_sql, old_args) = legacy::activity_page_sql(q);
        let (sql, args) = new::activity_page_sql(q);
        assert_eq!(sql, old_sql, "PostgreSQL page, {q:?}");
        assert_eq!(
            format!("{args:?}"),
            format!("{old_args:?}"),
            "PostgreSQL page args, {q:?}"
        );
        let old_count = legacy::activity_count_sql(q).map(|(s, a)| (s, format!("{a:?}")));
        let count = new::activity_count_sql(q).map(|(s, a)| (s, format!("{a:?}")));
        assert_eq!(count, old_count, "PostgreSQL count, {q:?}");
    }

    #[test]
    fn both_backends_build_the_statements_they_built_before() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        let mut cases = 0;
        let mut per_type = 0;
        let mut shapes = std::collections::HashSet::new();
        for sort in sorts() {
            for descending in [false, true] {
                for count in [CountMode::None, CountMode::Exact, CountMode::Capped(500)] {
                    // The plain query of each sort, then many filtered ones.
                    let mut plain = ActivityQuery::new(7);
                    plain.sort = sort.clone();
                    plain.descending = descending;
                    plain.count = count;
                    let mut qs = vec![plain];
                    for _ in 0..300 {
                        let q = query(&mut r, sort.clone(), descending, count);
                        // The same without the narrow filters, so that type lists take the
                        // per-type arms.
                        let mut wide = q.clone();
                        wide.lead_id = None;
                        wide.opportunity_id = None;
                        wide.resources.clear();
                        wide.ids.clear();
                        wide.match_nothing = false;
                        qs.push(q);
                        qs.push(wide);
                    }
                    for q in qs {
                        let (sql, _, _) = sqlite(&q);
                        postgres(&q);
                        cases += 1;
                        per_type += usize::from(per_type_arms(&q).is_some());
                        shapes.insert(sql);
                    }
                }
            }
        }
        assert!(per_type > 500, "only {per_type} per-type pages");
        eprintln!(
            "{cases} queries x 2 backends identical ({per_type} per-type pages, {} distinct SQLite page statements)",
            shapes.len()
        );
    }

    use crate::store::per_type_arms;
}
