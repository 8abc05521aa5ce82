//! The activity list statements for PostgreSQL (built by `store::sql`), with its parameter types.

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
