//! Faults of the database file under the real binary: a file truncated while the server runs (the
//! stand-in for a disk read error: both leave pages the server expects unreadable) fails the
//! requests that need the lost pages with an error in their dialect's format, and the process lives
//! on. Through a memory mapping, the same read would end the process with SIGBUS. A database that
//! can only be read is refused at start with the reason.

#[path = "common/process.rs"]
mod process;

use std::time::Duration;

use process::{cli, Server};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_file_truncated_under_the_server_fails_requests_not_the_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("hub.db");
    let db = format!("sqlite://{}", file.display());
    let keys = cli(
        &db,
        &[
            "tenant",
            "create",
            "--name",
            "Faults",
            "--admin-email",
            "owner@faults.example",
        ],
    );
    let mut s = Server::spawn(&db, &["--no-rate-limit"]);
    let lsq = |path: &str| {
        s.client
            .post(format!("{}{path}", s.base))
            .header("x-LSQ-AccessKey", &keys.access_key)
            .header("x-LSQ-SecretKey", &keys.secret_key)
    };
    let resp = lsq("/v2/LeadManagement.svc/Lead.Create")
        .json(&json!([{"Attribute": "EmailAddress", "Value": "lead@faults.example"}]))
        .send()
        .await
        .expect("create lead");
    assert_eq!(resp.status(), 200);
    let lead = resp.json::<Value>().await.expect("json")["Message"]["Id"]
        .as_str()
        .expect("lead id")
        .to_string();
    // ~2,000 activities with long notes: a few MiB of table and index pages.
    for batch in 0..80 {
        let rows: Vec<Value> = (0..25)
            .map(|i| {
                json!({"RelatedProspectId": lead, "ActivityEvent": 105,
                       "ActivityNote": format!("{batch}-{i} {}", "x".repeat(1000))})
            })
            .collect();
        let resp = lsq("/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId")
            .json(&rows)
            .send()
            .await
            .expect("bulk");
        assert_eq!(resp.status(), 200);
    }
    // Everything into the database file, the WAL emptied: the file is all there is to read.
    let conn = rusqlite::Connection::open(&file).expect("open the database");
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
        .expect("checkpoint");
    assert_eq!(busy, 0, "the checkpoint was kept from finishing");
    drop(conn);
    let page = |n: u32| {
        s.client
            .get(format!(
                "{}/v2/activity_histories?per_page=100&page={n}&include_paging_counts=true",
                s.base
            ))
            .bearer_auth(&keys.api_key)
    };
    // Reads now, many at once so that every connection serves some (through a memory mapping,
    // each would map the whole file): the first 300 rows only.
    let before: Vec<_> = (0..24)
        .map(|i| tokio::spawn(page(1 + i % 3).send()))
        .collect();
    for r in before {
        let resp = r.await.expect("task").expect("page before");
        assert_eq!(resp.status(), 200);
    }

    let size = std::fs::metadata(&file).expect("size").len();
    assert!(size > 2 << 20, "the database file is {size} bytes");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_len(size / 4))
        .expect("truncate the database file");

    // Pages 8 to 20 read rows no read has brought into a cache: most of them are gone.
    let mut failed = 0;
    for n in 8..=20 {
        let resp = page(n)
            .send()
            .await
            .unwrap_or_else(|e| panic!("page {n}: no answer ({e}); server: {}", s.stderr()));
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.expect("a JSON body");
        if status != 200 {
            assert!(status >= 500, "page {n}: {status} {body}");
            assert!(
                body["error"].as_str().is_some_and(|m| !m.is_empty()),
                "page {n}: Salesloft's error body, not {body}"
            );
            failed += 1;
        }
    }
    assert!(failed > 0, "no page needed a lost part of the file");
    let resp = lsq(&format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"))
        .json(&json!({"Paging": {"PageIndex": 7, "PageSize": 100}}))
        .send()
        .await
        .expect("Retrieve answers");
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("a JSON body");
    assert!(
        status == 200 || body["Status"] == "Error",
        "Retrieve: {status} {body}"
    );

    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        s.try_wait().is_none(),
        "the server died; its stderr:\n{}",
        s.stderr()
    );
    let resp = s
        .client
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .expect("healthz answers");
    assert_eq!(resp.status(), 200);
}

/// A read-only bind mount of a directory; unmounted on drop.
struct ReadOnlyView {
    dir: std::path::PathBuf,
}

impl ReadOnlyView {
    fn mount(from: &std::path::Path, at: &std::path::Path) -> ReadOnlyView {
        let run = |args: &[&str]| {
            let out = std::process::Command::new("mount")
                .args(args)
                .arg(from)
                .arg(at)
                .output()
                .expect("run mount");
            assert!(
                out.status.success(),
                "this test needs to bind-mount a directory (run it as root): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&["--bind"]);
        let view = ReadOnlyView {
            dir: at.to_path_buf(),
        };
        let out = std::process::Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(out.status.success(), "remount read-only failed");
        view
    }
}

impl Drop for ReadOnlyView {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
    }
}

/// A database that can only be read (its directory mounted read-only) is refused at start with
/// the reason, instead of served with every write failing; served from where it can be written,
/// it holds every write acknowledged before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(root_tests),
    ignore = "needs root (bind-mounts a directory read-only)"
)]
async fn a_read_only_database_is_refused_at_start_and_loses_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let rw = tmp.path().join("rw");
    let ro = tmp.path().join("ro");
    std::fs::create_dir_all(&rw).expect("rw dir");
    std::fs::create_dir_all(&ro).expect("ro dir");
    let db = format!("sqlite://{}/hub.db", rw.display());
    let keys = cli(
        &db,
        &[
            "tenant",
            "create",
            "--name",
            "ReadOnly",
            "--admin-email",
            "owner@ro.example",
        ],
    );
    let s = Server::spawn(&db, &["--no-rate-limit"]);
    let mut acked = Vec::new();
    for i in 0..5 {
        let resp = s
            .client
            .post(format!("{}/api/v1/leads", s.base))
            .bearer_auth(&keys.api_key)
            .json(&json!({"email": format!("lead{i}@ro.example")}))
            .send()
            .await
            .expect("create lead");
        assert_eq!(resp.status(), 201);
        acked.push(format!("lead{i}@ro.example"));
    }
    s.stop(); // SIGKILL: the WAL is left as a crash leaves it

    let view = ReadOnlyView::mount(&rw, &ro);
    let out = process::command(&[
        "serve",
        "--db",
        &format!("sqlite://{}/hub.db", ro.display()),
        "--bind",
        "127.0.0.1:0",
    ])
    .output()
    .expect("run serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "served a read-only database");
    assert!(
        stderr.contains("cannot be written (a read-only file, directory or file system)"),
        "the reason is given: {stderr}"
    );
    drop(view);

    let s = Server::spawn(&db, &["--no-rate-limit"]);
    let resp = s
        .client
        .get(format!("{}/api/v1/leads", s.base))
        .bearer_auth(&keys.api_key)
        .send()
        .await
        .expect("list leads");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    let mut emails: Vec<String> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|l| l["email"].as_str().map(str::to_string))
        .collect();
    emails.sort();
    assert_eq!(emails, acked);
}
