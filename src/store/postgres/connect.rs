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
/// carried it (userinfo or `?password=`), and none of the other query parameters. Unix-socket
/// directories show as `?host=DIR` (with `&port=N` when not 5432), as libpq's URLs write them,
/// so that a socket connection's message does not read as a path inside the database name.
pub(super) fn describe(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let mut tcp = Vec::new();
    // Socket directories, and the port of the first (the socket file's name carries it).
    let mut sockets: Vec<String> = Vec::new();
    let mut socket_port: Option<u16> = None;
    for (i, h) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or(ports.first());
        match h {
            tokio_postgres::config::Host::Tcp(name) => {
                let host = if name.contains(':') {
                    format!("[{name}]")
                } else {
                    name.clone()
                };
                tcp.push(match port {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                });
            }
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => {
                sockets.push(path.display().to_string());
                socket_port = socket_port.or(port.copied());
            }
        }
    }
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or_default();
    let mut shown = format!("postgres://{user}{}/{db}", tcp.join(","));
    if !sockets.is_empty() {
        shown.push_str(&format!("?host={}", sockets.join(",")));
        if let Some(port) = socket_port.filter(|p| *p != 5432) {
            shown.push_str(&format!("&port={port}"));
        }
    }
    shown
}

/// Any failure to get a connection (a pool timeout, or the server refusing a new one for whatever
/// reason: down, not accepting connections, too many clients) means the store is unavailable.
pub(super) fn pool_err(e: PoolError) -> Error {
    Error::Unavailable(format!("no database connection: {}", chain(&e)).into())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::describe;

    fn shown(url: &str) -> String {
        describe(&tokio_postgres::Config::from_str(url).unwrap())
    }

    #[test]
    fn a_database_is_named_without_its_password_over_tcp_and_unix_sockets() {
        assert_eq!(
            shown("postgres://u:secret@db.example:5433/hub?sslmode=disable"),
            "postgres://u@db.example:5433/hub"
        );
        assert_eq!(
            shown("postgres://u@[::1]/hub"),
            "postgres://u@[::1]:5432/hub"
        );
        assert_eq!(
            shown("postgres://u@/hub?host=/var/run/postgresql&password=secret"),
            "postgres://u@/hub?host=/var/run/postgresql"
        );
        assert_eq!(
            shown("postgres://u@%2Ftmp%2Fpg:5433/hub"),
            "postgres://u@/hub?host=/tmp/pg&port=5433"
        );
    }
}
