//! The real `activity-hub` binary as a child process, for suites that run several servers or
//! take their database away: `serve` on a free port (killed on drop) and the `--json` CLI.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_activity-hub");

/// A running `activity-hub serve`; killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Server {
    /// `serve --db DB --bind 127.0.0.1:0 EXTRA…`, waiting for its "listening on" line; server
    /// logs at `RUST_LOG=error` go to the test's stderr.
    pub fn start(db: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--db", db, "--bind", "127.0.0.1:0"])
            .args(extra)
            .env_remove("ACTIVITY_HUB_DB")
            .env_remove("ACTIVITY_HUB_BIND")
            .env_remove("ACTIVITY_HUB_REDIS")
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn activity-hub serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let marker = "activity-hub listening on ";
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.starts_with(marker) => {
                    return Server {
                        child,
                        base: line[marker.len()..].trim().to_string(),
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = child.kill();
                    panic!("server did not start: {e:?} ({:?})", child.wait());
                }
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The keys `tenant create` / `user create` print.
#[derive(Clone, Debug)]
pub struct Creds {
    pub tenant_id: String,
    pub access_key: String,
    pub secret_key: String,
    pub api_key: String,
}

/// `activity-hub ARGS…` with nothing from the environment choosing the database.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ACTIVITY_HUB_DB")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run activity-hub")
}

/// `activity-hub ARGS… --db DB --json`; panics unless it succeeds and prints the keys.
pub fn cli(db: &str, args: &[&str]) -> Creds {
    let mut all = args.to_vec();
    all.extend(["--db", db, "--json"]);
    let out = run(&all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("CLI prints JSON");
    let s = |k: &str| v[k].as_str().expect("string field").to_string();
    Creds {
        tenant_id: s("tenant_id"),
        access_key: s("access_key"),
        secret_key: s("secret_key"),
        api_key: s("api_key"),
    }
}

/// An HTTP client that never goes through a proxy.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}
