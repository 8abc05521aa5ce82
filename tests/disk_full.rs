//! A full disk under the real binary: the SQLite file on a 2 MiB tmpfs mounted by the test. It
//! needs root (as CI runs): built by another user it is reported ignored with the reason, and
//! `.ci/run` fails on that; built as root it fails rather than skips when it cannot mount. Writes until they
//! fail give 503 with `Retry-After` and `/readyz` 503; freeing space brings writes and `/readyz`
//! back without a restart, the WAL is truncated, every acknowledged write is there, and the log
//! holds a few lines, not one per failed write.

#[path = "common/process.rs"]
mod process;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use process::{cli, Server};
use serde_json::{json, Value};

/// A tmpfs mounted on a directory; unmounted on drop.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test needs to mount a tmpfs (run it as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs {
            dir: dir.to_path_buf(),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

async fn post(s: &Server, keys: &process::Creds, path: &str, body: Value) -> (u16, bool, Value) {
    let resp = s
        .client
        .post(format!("{}{path}", s.base))
        .header("x-LSQ-AccessKey", &keys.access_key)
        .header("x-LSQ-SecretKey", &keys.secret_key)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let retry = resp.headers().contains_key("retry-after");
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

/// `/readyz`'s status and body.
async fn readyz(s: &Server) -> (u16, Value) {
    let resp = s
        .client
        .get(format!("{}/readyz", s.base))
        .send()
        .await
        .expect("readyz");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(root_tests), ignore = "needs root (mounts a 2 MiB tmpfs)")]
async fn a_full_disk_gives_503_and_recovers_when_space_is_freed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mnt = Tmpfs::mount(tmp.path(), "2m");
    let dir = mnt.dir.clone();
    let db = format!("sqlite://{}/hub.db", dir.display());
    let keys = cli(
        &db,
        &[
            "tenant",
            "create",
            "--name",
            "Full",
            "--admin-email",
            "owner@full.example",
        ],
    );
    let s = Server::spawn_logging(&db, &["--no-rate-limit"], Some("warn"));
    let (status, _, v) = post(
        &s,
        &keys,
        "/v2/LeadManagement.svc/Lead.Create",
        json!([{"Attribute": "EmailAddress", "Value": "lead@full.example"}]),
    )
    .await;
    assert_eq!(status, 200, "Lead.Create: {v}");
    let lead = v["Message"]["Id"].as_str().expect("lead id").to_string();

    // Filler takes all the space, then gives back 768 KiB: writes fill that and fail.
    let filler = dir.join("filler");
    {
        let mut f = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![7u8; 16 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let len = size(&filler);
        f.set_len(len.saturating_sub(768 * 1024))
            .expect("shrink filler");
    }
    let note = "n".repeat(1000);
    let create = |i: usize| {
        json!({"RelatedProspectId": lead, "ActivityEvent": 105,
               "ActivityNote": format!("{i} {note}")})
    };
    let mut acked = Vec::new();
    let mut i = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "writes never failed");
        let (status, retry, v) =
            post(&s, &keys, "/v2/ProspectActivity.svc/Create", create(i)).await;
        i += 1;
        match status {
            200 => acked.push(v["Message"]["Id"].as_str().expect("id").to_string()),
            503 => {
                assert!(retry, "503 without Retry-After: {v}");
                break;
            }
            _ => panic!("Create answered {status}: {v}"),
        }
    }
    assert!(
        acked.len() >= 3,
        "only {} writes before the disk was full",
        acked.len()
    );
    let log_before = s.stderr().lines().count();
    // Many more writes, all refused while the disk is full.
    let failed = 300;
    for _ in 0..failed {
        let (status, retry, v) =
            post(&s, &keys, "/v2/ProspectActivity.svc/Create", create(i)).await;
        i += 1;
        assert_eq!(status, 503, "a write on a full disk: {v}");
        assert!(retry, "503 without Retry-After: {v}");
    }
    let (status, v) = readyz(&s).await;
    assert_eq!(status, 503, "/readyz while every write fails: {v}");
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains("writes")),
        "/readyz says why: {v}"
    );
    // The server's stderr reaches the test through a reader thread: wait for the line a little.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !s
        .stderr()
        .contains("writes to the database file have been failing")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the log says why /readyz failed:\n{}",
            s.stderr()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let lines = s.stderr().lines().count() - log_before;
    assert!(
        lines < 20,
        "{lines} log lines for {failed} failed writes:\n{}",
        s.stderr()
    );
    let wal = dir.join("hub.db-wal");
    let wal_full = size(&wal);

    // Space freed: writes succeed again, without a restart.
    std::fs::remove_file(&filler).expect("remove filler");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, v) = post(&s, &keys, "/v2/ProspectActivity.svc/Create", create(i)).await;
        i += 1;
        if status == 200 {
            acked.push(v["Message"]["Id"].as_str().expect("id").to_string());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "writes did not recover: {status} {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, v) = readyz(&s).await;
    assert_eq!(status, 200, "/readyz once writes succeed: {v}");
    let wal_after = size(&wal);
    assert!(
        wal_after < wal_full / 2,
        "the WAL was not checkpointed: {wal_full} bytes while full, {wal_after} after"
    );
    // More writes than fitted before fit now: the WAL's space went back to the file system.
    for _ in 0..acked.len() {
        let (status, _, v) = post(&s, &keys, "/v2/ProspectActivity.svc/Create", create(i)).await;
        i += 1;
        assert_eq!(status, 200, "a write after recovery: {v}");
        acked.push(v["Message"]["Id"].as_str().expect("id").to_string());
    }

    // Every acknowledged write is there.
    let (status, _, v) = post(
        &s,
        &keys,
        &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
        json!({"Paging": {"PageIndex": 1, "PageSize": 1000}}),
    )
    .await;
    assert_eq!(status, 200, "Retrieve: {v}");
    let stored: std::collections::HashSet<&str> = v["ProspectActivities"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["Id"].as_str())
        .collect();
    for id in &acked {
        assert!(stored.contains(id.as_str()), "acknowledged {id} is missing");
    }
    s.stop();
}
