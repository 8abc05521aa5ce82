//! The activity list statements for SQLite (built by `store::sql`) and the read of one page.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection};

use super::labels::label;
use super::rows::{
    activity_row, user_record_select, SqlResult, ACCOUNT_SELECT, ACTIVITY_SELECT, LEAD_COLS,
};
use crate::domain::directory::{DirectoryKind, DirectoryQuery};
use crate::domain::{ActivityQuery, ActivityView, Page};
use crate::error::Result;
use crate::store::directory;
use crate::store::labels::{Labels, Seen};
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
    let rows = label(labels, tx, rows, seen)?;
    Ok(Page {
        total: total as u64,
        rows,
    })
}

/// The SELECT … FROM … of a directory kind (aliases as `store::directory` expects).
fn directory_select(kind: DirectoryKind) -> String {
    match kind {
        DirectoryKind::People => {
            format!("SELECT {LEAD_COLS} FROM leads l JOIN users o ON o.id = l.owner_id")
        }
        DirectoryKind::Accounts => ACCOUNT_SELECT.to_string(),
        DirectoryKind::Users => user_record_select(),
    }
}

/// The page statement of a people, accounts or users list (public for EXPLAIN in tests).
pub fn directory_page_sql(q: &DirectoryQuery) -> (String, Vec<SqlValue>) {
    let (sql, args) = directory::page_sql(Dialect::Sqlite, &directory_select(q.kind), q);
    (sql, sqlite_args(args))
}

/// The count statement of a people, accounts or users list (`None` when it counts nothing).
pub fn directory_count_sql(q: &DirectoryQuery) -> Option<(String, Vec<SqlValue>)> {
    directory::count_sql(Dialect::Sqlite, q).map(|(sql, args)| (sql, sqlite_args(args)))
}

/// Counts and reads one page of a directory list in one read transaction.
pub(super) fn directory_in<T>(
    c: &Connection,
    q: &DirectoryQuery,
    row: fn(&rusqlite::Row) -> rusqlite::Result<T>,
) -> Result<Page<T>> {
    let tx = c.unchecked_transaction().db()?;
    let total: i64 = match directory_count_sql(q) {
        None => 0,
        Some((sql, args)) => tx
            .prepare_cached(&sql)
            .db()?
            .query_row(params_from_iter(args.iter()), |r| r.get(0))
            .db()?,
    };
    let (sql, args) = directory_page_sql(q);
    let rows = tx
        .prepare_cached(&sql)
        .db()?
        .query_map(params_from_iter(args.iter()), row)
        .db()?
        .collect::<rusqlite::Result<Vec<T>>>()
        .db()?;
    tx.finish().db()?;
    Ok(Page {
        total: total as u64,
        rows,
    })
}
