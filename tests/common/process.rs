//! The real `activity-hub` binary as a child process, the one way every suite runs it: `serve` on
//! a free port of 127.0.0.1 (waited for until it listens, killed on drop) and the CLI.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_activity-hub");

/// How long `serve` may take to print its "listening on" line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a server's stderr is kept for failure messages.
const STDERR_KEPT: usize = 256 * 1024;

/// `activity-hub ARGS…` with nothing from the environment choosing the database, the bind address
/// or Redis, and no stdin.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("ACTIVITY_HUB_DB")
        .env_remove("ACTIVITY_HUB_BIND")
        .env_remove("ACTIVITY_HUB_REDIS")
        .stdin(Stdio::null());
    cmd
}

/// Runs `activity-hub ARGS…` (logging at `warn`) to completion.
pub fn run(args: &[&str]) -> Output {
    command(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run activity-hub")
}

/// `activity-hub ARGS… --db DB --json`; panics unless it succeeds and prints the keys.
pub fn cli(db: &str, args: &[&str]) -> Creds {
    let mut all = args.to_vec();
    all.extend(["--db", db, "--json"]);
    Creds::from_output(&args.join(" "), &run(&all))
}

/// What `tenant create --json` / `user create --json` print.
#[derive(Clone, Debug)]
pub struct Creds {
    pub tenant_id: String,
    pub user_id: String,
    pub access_key: String,
    pub secret_key: String,
    pub api_key: String,
}

impl Creds {
    /// The keys of a `tenant create` / `user create` run (`what` names it in failure messages);
    /// panics unless it succeeded and printed one JSON object with all of them.
    pub fn from_output(what: &str, out: &Output) -> Creds {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "`activity-hub {what}` failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
            out.status
        );
        let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("`activity-hub {what}` did not print one JSON object ({e}):\n{stdout}")
        });
        let get = |k: &str| -> String {
            v[k].as_str()
                .unwrap_or_else(|| panic!("`{what}` output lacks string {k:?}: {v}"))
                .to_string()
        };
        Creds {
            tenant_id: get("tenant_id"),
            user_id: get("user_id"),
            access_key: get("access_key"),
            secret_key: get("secret_key"),
            api_key: get("api_key"),
        }
    }

    /// The same access key with a wrong secret.
    pub fn with_secret(&self, secret: &str) -> Creds {
        Creds {
            secret_key: secret.to_string(),
            ..self.clone()
        }
    }
}

/// A running `activity-hub serve`; killed (SIGKILL) on drop. Its stderr is kept (the first
/// 256 KiB) for failure messages and shown when a test panics while it runs.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `127.0.0.1:PORT`
    pub host_port: String,
    /// A client for it that never goes through a proxy.
    pub client: reqwest::Client,
    stderr: Arc<Mutex<String>>,
    /// What the server printed on stdout before it was listening (e.g. the demo credentials).
    pub banner: String,
}

impl Server {
    /// `serve --db DB --bind 127.0.0.1:0 EXTRA…`, waiting for its "listening on" line. The server
    /// logs at `RUST_LOG` when the test run sets it, else at `error`.
    pub fn spawn(db: &str, extra: &[&str]) -> Server {
        Server::spawn_logging(db, extra, None)
    }

    /// `spawn`, logging at `rust_log` when given (whatever the test run sets).
    pub fn spawn_logging(db: &str, extra: &[&str], rust_log: Option<&str>) -> Server {
        Server::spawn_env(db, extra, rust_log, &[])
    }

    /// `spawn_logging`, with these variables added to the server's environment.
    pub fn spawn_env(
        db: &str,
        extra: &[&str],
        rust_log: Option<&str>,
        env: &[(&str, &str)],
    ) -> Server {
        let mut cmd = command(&["serve", "--db", db, "--bind", "127.0.0.1:0"]);
        cmd.envs(env.iter().copied());
        cmd.args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match rust_log {
            Some(level) => {
                cmd.env("RUST_LOG", level);
            }
            None if std::env::var_os("RUST_LOG").is_none() => {
                cmd.env("RUST_LOG", "error");
            }
            None => {}
        }
        let mut child = cmd.spawn().expect("spawn `activity-hub serve`");

        let stderr = Arc::new(Mutex::new(String::new()));
        let err_pipe = child.stderr.take().expect("stderr pipe");
        let kept = stderr.clone();
        std::thread::spawn(move || {
            for line in lines_of(err_pipe) {
                let mut s = kept.lock().unwrap_or_else(|e| e.into_inner());
                if s.len() < STDERR_KEPT {
                    s.push_str(&line);
                }
            }
        });
        // stdout is drained for the life of the process, so the server never blocks on it.
        let (tx, rx) = mpsc::channel::<String>();
        let out_pipe = child.stdout.take().expect("stdout pipe");
        std::thread::spawn(move || {
            for line in lines_of(out_pipe) {
                let _ = tx.send(line);
            }
        });

        let marker = "activity-hub listening on http://";
        let deadline = Instant::now() + START_TIMEOUT;
        let mut seen = String::new();
        let host_port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    seen.push_str(&line);
                    if let Some(i) = line.find(marker) {
                        let rest = &line[i + marker.len()..];
                        let hp: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                        break hp.trim_end_matches('/').to_string();
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait();
                    // Lets the stderr thread take the last lines.
                    std::thread::sleep(Duration::from_millis(200));
                    panic!(
                        "server did not print `{marker}HOST:PORT` ({e:?}, exit {status:?})\n\
                         stdout so far:\n{seen}\nstderr:\n{}",
                        stderr.lock().unwrap_or_else(|e| e.into_inner())
                    );
                }
            }
        };
        Server {
            child,
            base: format!("http://{host_port}"),
            host_port,
            client: http(),
            stderr,
            banner: seen,
        }
    }

    /// Kills the process (SIGKILL: nothing gets a chance to flush) and waits for it.
    pub fn stop(self) {
        drop(self)
    }

    /// The process's exit status if it has ended, `None` while it runs.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let err = self.stderr();
            if !err.is_empty() {
                eprintln!("--- stderr of the server at {}:\n{err}", self.base);
            }
        }
    }
}

/// The lines (each with its newline) of a pipe, until it closes; invalid UTF-8 replaced.
fn lines_of(pipe: impl std::io::Read) -> impl Iterator<Item = String> {
    let mut r = BufReader::new(pipe);
    std::iter::from_fn(move || {
        let mut line = Vec::new();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(String::from_utf8_lossy(&line).into_owned()),
        }
    })
}

/// An HTTP client that never goes through a proxy.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}
