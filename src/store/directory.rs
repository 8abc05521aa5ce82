//! The list SQL of people (live leads), accounts and users (`DirectoryQuery`), built once for
//! both stores as `store::sql` builds the activity lists; each backend supplies its SELECT.

use crate::domain::directory::{DirectoryKind, DirectoryQuery, DirectorySort};
use crate::domain::CountMode;
use crate::store::sql::{clamp, Arg, Builder, Dialect, Statement};

/// The table (with the alias the backends' SELECTs use) a kind lists.
fn table(kind: DirectoryKind) -> (&'static str, &'static str) {
    match kind {
        DirectoryKind::People => ("leads", "l"),
        DirectoryKind::Accounts => ("accounts", "ac"),
        DirectoryKind::Users => ("users", "u"),
    }
}

fn boolean(b: bool) -> &'static str {
    if b {
        "TRUE"
    } else {
        "FALSE"
    }
}

/// `column` among `values` (none matches an empty list). One value is a plain equality, so that
/// PostgreSQL walks an index on (…, column, sort key) in order as SQLite's `IN (?)` does; its
/// `= ANY(array)` would read every match and sort them.
fn one_of(b: &mut Builder, column: &str, values: &[i64]) -> String {
    match values {
        [one] => format!("{column} = {}", b.bind(Arg::Int(*one))),
        _ => b.any_of(column, Arg::Ints(values.to_vec()), true),
    }
}

/// The WHERE clause: each filter is a conjunct, the tenant (and for people, being live) first so
/// that every statement is a range of one of the tenant's indexes.
fn filter(b: &mut Builder, q: &DirectoryQuery) -> String {
    let (_, x) = table(q.kind);
    let mut sql = format!("{x}.tenant_id = {}", b.bind(Arg::Int(q.tenant_id)));
    if q.kind == DirectoryKind::People {
        sql += " AND l.deleted_at IS NULL";
    }
    if q.match_nothing {
        sql += " AND 1 = 0";
    }
    if let Some(ids) = &q.ids {
        sql += &format!(" AND {}", one_of(b, &format!("{x}.id"), ids));
    }
    if let Some(owners) = &q.owner_ids {
        sql += &format!(" AND {}", one_of(b, &format!("{x}.owner_id"), owners));
    }
    if let Some(owner) = q.visible_to_owner {
        sql += &format!(" AND {x}.owner_id = {}", b.bind(Arg::Int(owner)));
    }
    match (q.emails.is_empty(), q.email_is_null) {
        (true, false) => {}
        (true, true) => sql += &format!(" AND {x}.email_lc IS NULL"),
        (false, or_null) => {
            let any = b.any_of(
                &format!("{x}.email_lc"),
                Arg::Texts(q.emails.clone()),
                false,
            );
            sql += &if or_null {
                format!(" AND ({any} OR {x}.email_lc IS NULL)")
            } else {
                format!(" AND {any}")
            };
        }
    }
    if !q.names.is_empty() {
        sql += &format!(
            " AND {}",
            b.any_of("ac.name", Arg::Texts(q.names.clone()), false)
        );
    }
    if !q.domains.is_empty() {
        let any = b.any_of("lower(ac.domain)", Arg::Texts(q.domains.clone()), false);
        sql += &format!(" AND {any}");
    }
    if let Some(active) = q.active {
        sql += &format!(" AND u.active = {}", boolean(active));
    }
    if !q.roles.is_empty() {
        sql += &format!(
            " AND {}",
            b.any_of("u.role", Arg::Texts(q.roles.clone()), false)
        );
    }
    if let Some(v) = q.do_not_call {
        sql += &format!(" AND l.do_not_call = {}", boolean(v));
    }
    if let Some(v) = q.do_not_email {
        sql += &format!(" AND l.do_not_email = {}", boolean(v));
    }
    match q.do_not_contact {
        None => {}
        Some(true) => sql += " AND l.do_not_call = TRUE AND l.do_not_email = TRUE",
        Some(false) => sql += " AND NOT (l.do_not_call = TRUE AND l.do_not_email = TRUE)",
    }
    match q.has_phone {
        None => {}
        Some(true) => sql += " AND (l.phone IS NOT NULL OR l.mobile IS NOT NULL)",
        Some(false) => sql += " AND l.phone IS NULL AND l.mobile IS NULL",
    }
    for (column, bound, op) in [
        ("created_at", q.created_from, ">="),
        ("created_at", q.created_to, "<="),
        ("updated_at", q.updated_from, ">="),
        ("updated_at", q.updated_to, "<="),
    ] {
        if let Some(t) = bound {
            sql += &format!(" AND {x}.{column} {op} {}", b.bind(Arg::Int(t)));
        }
    }
    sql
}

/// ORDER BY: `updated_at` alone (unique within a tenant), `created_at` then id, the id, or a
/// unique lower-cased text (an account's name, a user's email), compared bytewise on both backends
/// (PostgreSQL's `COLLATE "C"`, which its migration 0007 indexes) so that both give one order.
fn order(dialect: Dialect, q: &DirectoryQuery) -> String {
    let (_, x) = table(q.kind);
    let dir = if q.descending { "DESC" } else { "ASC" };
    let text = |column: &str| match dialect {
        Dialect::Sqlite => format!("{x}.{column} {dir}"),
        Dialect::Postgres => format!("{x}.{column} COLLATE \"C\" {dir}"),
    };
    match q.sort {
        DirectorySort::UpdatedAt => format!("{x}.updated_at {dir}"),
        DirectorySort::CreatedAt => format!("{x}.created_at {dir}, {x}.id {dir}"),
        DirectorySort::Id => format!("{x}.id {dir}"),
        DirectorySort::Name => text("name_lc"),
        DirectorySort::Email => text("email_lc"),
    }
}

/// The page statement for `q`; `select` is the backend's SELECT … FROM … (JOIN …) of the kind,
/// using the kind's alias (`l`, `ac`, `u`), ending where the WHERE clause starts.
pub(crate) fn page_sql(dialect: Dialect, select: &str, q: &DirectoryQuery) -> Statement {
    let mut b = Builder::new(dialect);
    let filter = filter(&mut b, q);
    let order = order(dialect, q);
    let limit = b.bind(Arg::Int(q.limit as i64));
    let offset = b.bind(Arg::Int(clamp(q.offset)));
    (
        format!("{select} WHERE {filter} ORDER BY {order} LIMIT {limit} OFFSET {offset}"),
        b.args,
    )
}

/// The count statement for `q` (`None` when it counts nothing), on the kind's table alone.
pub(crate) fn count_sql(dialect: Dialect, q: &DirectoryQuery) -> Option<Statement> {
    let (name, x) = table(q.kind);
    let mut b = Builder::new(dialect);
    let filter = filter(&mut b, q);
    let sql = match q.count {
        CountMode::None => return None,
        CountMode::Exact => format!("SELECT count(*) FROM {name} {x} WHERE {filter}"),
        CountMode::Capped(cap) => {
            let cap = b.bind(Arg::Int(clamp(cap)));
            format!(
                "SELECT count(*) FROM (SELECT 1 FROM {name} {x} WHERE {filter} LIMIT {cap}) capped"
            )
        }
    };
    Some((sql, b.args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_binds_what_it_writes() {
        for kind in [
            DirectoryKind::People,
            DirectoryKind::Accounts,
            DirectoryKind::Users,
        ] {
            let mut q = DirectoryQuery::new(7, kind);
            q.ids = Some(vec![1, 2]);
            q.emails = vec!["a@b.c".into()];
            q.created_from = Some(1);
            q.updated_to = Some(2);
            q.count = CountMode::Capped(10);
            for d in [Dialect::Sqlite, Dialect::Postgres] {
                let (sql, args) = page_sql(d, "SELECT 1 FROM t", &q);
                let marks = match d {
                    Dialect::Sqlite => sql.matches('?').count(),
                    Dialect::Postgres => sql.matches('$').count(),
                };
                // SQLite's lists are bound one element per placeholder.
                let expected = args.len();
                assert_eq!(marks, expected, "{sql}");
                assert!(count_sql(d, &q).is_some());
            }
        }
    }
}
