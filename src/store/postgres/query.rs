//! The activity list statements for PostgreSQL (built by `store::sql`), with its parameter types.

use tokio_postgres::types::ToSql;

use super::rows::{user_record_select, Params, ACCOUNT_SELECT, ACTIVITY_SELECT, LEAD_COLS};
use crate::domain::directory::{DirectoryKind, DirectoryQuery};
use crate::domain::ActivityQuery;
use crate::store::directory;
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

/// The page statement of a people, accounts or users list (exposed for EXPLAIN in tests).
pub fn directory_page_sql(q: &DirectoryQuery) -> (String, Params) {
    let (sql, args) = directory::page_sql(Dialect::Postgres, &directory_select(q.kind), q);
    (sql, pg_args(args))
}

/// The count statement of a people, accounts or users list (`None` when it counts nothing).
pub fn directory_count_sql(q: &DirectoryQuery) -> Option<(String, Params)> {
    directory::count_sql(Dialect::Postgres, q).map(|(sql, args)| (sql, pg_args(args)))
}
