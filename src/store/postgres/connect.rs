//! Connection pool settings, the password-free database name for messages, checkout failures.

use std::time::Duration;

use deadpool_postgres::PoolError;

use super::rows::chain;
use crate::error::Error;

pub(super) const POOL_SIZE: usize = 16;
/// How long a request waits for a connection (or for a new one to be made) before it gets
/// `Unavailable`: long enough for a busy pool, short enough that a dead database answers fast.
pub(super) const POOL_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements a connection keeps before its cache is emptied: above the fixed statements
/// and the list shapes a busy service repeats (a few dozen), low enough that a client cycling
/// through filter combinations holds the server's memory to a few hundred statements per connection.
pub(super) const STATEMENT_CACHE_MAX: usize = 256;

/// `postgres://user@host:port/db` from a parsed config: never the password, wherever the URL
/// carried it (userinfo or `?password=`), and none of the other query parameters.
pub(super) fn describe(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let hosts = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                tokio_postgres::config::Host::Tcp(name) if name.contains(':') => {
                    format!("[{name}]")
                }
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            match ports.get(i).or(ports.first()) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or_default();
    format!("postgres://{user}{hosts}/{db}")
}

/// Any failure to get a connection (a pool timeout, or the server refusing a new one for whatever
/// reason: down, not accepting connections, too many clients) means the store is unavailable.
pub(super) fn pool_err(e: PoolError) -> Error {
    Error::Unavailable(format!("no database connection: {}", chain(&e)).into())
}
