//! `activity-hub import` / `export` through the real binary on real files and a real store (SQLite,
//! or PostgreSQL with `ACTIVITY_HUB_TEST_BACKEND=postgres`): reject file, resume after kill -9,
//! round trip, tenant isolation, flags.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::harness::*;

/// Runs `activity-hub ARGS… --db URL` and returns its JSON report; panics unless it succeeds.
fn ok(db: &Db, args: &[&str]) -> Value {
    let out = db.cli(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not one JSON object ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs `activity-hub ARGS… --db URL`, which must fail with one line on stderr; that line.
fn fails(db: &Db, args: &[&str]) -> String {
    let out = db.cli(args);
    assert!(!out.status.success(), "{args:?} must fail");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
    stderr
}

/// Runs `activity-hub ARGS…`, which clap must refuse (exit status 2) with an `error:` line first.
fn refused_flag(db: &Db, args: &[&str]) -> String {
    let out = db.cli(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} must be refused by the flag parser"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    stderr
}

fn write(dir: &Path, name: &str, lines: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).expect("write file");
    path
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

const TYPE_201: &str = r#"{"event_code":201,"name":"Demo Call","kind":"custom","salesloft_type":"call","score":3,
  "fields":[{"schema_name":"mx_Custom_1","display_name":"Count","data_type":"Number","is_mandatory":false,"sequence":1,"options":[]},
            {"schema_name":"mx_Custom_2","display_name":"Stage","data_type":"Dropdown","is_mandatory":false,"sequence":2,"options":["A","B"]}]}"#;

/// A tenant whose admin is `admin@t.test` plus a manager `maya@t.test`, with type 201 and the
/// leads `guids` (owned by the admin), all imported; the tenant's keys.
fn tenant_with_leads(db: &Db, dir: &Path, name: &str, guids: &[String]) -> Creds {
    let t = db.tenant(name, "admin@t.test");
    db.user(&t, "maya@t.test", "Maya", "M", "Sales_Manager");
    let types = write(
        dir,
        &format!("{name}-types.ndjson"),
        &[serde_json::from_str(TYPE_201).unwrap()],
    );
    ok(
        db,
        &[
            "import",
            "--tenant",
            &t.tenant_id,
            "--kind",
            "types",
            p(&types),
        ],
    );
    let leads: Vec<Value> = guids
        .iter()
        .enumerate()
        .map(|(i, g)| json!({"guid": g, "first_name": "Lead", "last_name": i.to_string(), "email": format!("{name}{i}@l.test"), "owner": "admin@t.test"}))
        .collect();
    let leads = write(dir, &format!("{name}-leads.ndjson"), &leads);
    let r = ok(
        db,
        &[
            "import",
            "--tenant",
            &t.tenant_id,
            "--kind",
            "leads",
            p(&leads),
        ],
    );
    assert_eq!(r["imported"], guids.len(), "{r}");
    t
}

/// A lead's `Score` as LeadSquared answers it (a string or a number).
fn score(lead: &Value) -> i64 {
    match &lead["Score"] {
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("Score: {lead}")),
        v => v.as_i64().unwrap_or_else(|| panic!("Score: {lead}")),
    }
}

fn guid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// Exports the tenant's activities to a new file and returns its lines.
fn export_activities(db: &Db, dir: &Path, t: &Creds, name: &str) -> Vec<Value> {
    let path = dir.join(name);
    ok(db, &["export", "--tenant", &t.tenant_id, p(&path)]);
    lines(&path)
}

#[tokio::test]
async fn rejected_rows_go_to_the_reject_file_with_their_line_and_the_import_goes_on() {
    let db = Db::new();
    let dir = tempfile::tempdir().unwrap();
    let lead = guid(1);
    let t = tenant_with_leads(&db, dir.path(), "a", std::slice::from_ref(&lead));
    let good = |n: u64| json!({"guid": guid(100 + n), "event_code": 201, "lead": lead, "owner": "admin@t.test", "fields": {"mx_Custom_1": "7"}});
    let rows = vec![
        good(1),                                                           // 1
        json!({"event_code": 999, "lead": lead, "owner": "admin@t.test"}), // 2 unknown type
        good(2),                                                           // 3
        json!({"event_code": 201, "lead": lead, "owner": "admin@t.test", "fields": {"mx_Custom_1": "many"}}), // 4
        json!({"event_code": 201, "lead": guid(77), "owner": "admin@t.test"}), // 5 unknown lead
        json!({"event_code": 201, "lead": lead, "owner": "nobody@t.test"}),    // 6 unknown owner
        json!({"event_code": 201, "lead": lead, "owner": "admin@t.test", "note": "a\u{0}b"}), // 7 NUL
        json!({"event_code": 201, "lead": lead, "owner": "admin@t.test", "occurred_at": "-0001-01-01T00:00:00Z"}), // 8
        json!({"event_code": 201, "lead": lead, "owner": "admin@t.test", "colour": "red"}), // 9 unknown property
        json!({"event_code": 201, "lead": lead, "owner": "admin@t.test", "status": "Won"}), // 10 not a status of 201
        good(3),                                                                            // 11
    ];
    let path = dir.path().join("acts.ndjson");
    let mut text: String = rows.iter().map(|l| format!("{l}\n")).collect();
    text.push_str("{not json\n\n"); // line 12 broken, line 13 blank (skipped)
    text.push_str(&format!("{}\n", good(4))); // line 14
    std::fs::write(&path, text).unwrap();
    let r = ok(
        &db,
        &[
            "import",
            "--tenant",
            &t.tenant_id,
            "--progress",
            "lines",
            p(&path),
        ],
    );
    assert_eq!(
        (r["imported"].as_u64(), r["rejected"].as_u64()),
        (Some(4), Some(9)),
        "{r}"
    );
    let rejects = lines(&dir.path().join("acts.ndjson.rejects.ndjson"));
    let got: Vec<(u64, String)> = rejects
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect: [(u64, &str); 9] = [
        (2, "no activity type 999"),
        (4, "mx_Custom_1"),
        (5, "no lead 00000000-0000-4000-8000-00000000004d"),
        (
            6,
            "'owner' must be the e-mail of an active user of this tenant, not 'nobody@t.test'",
        ),
        (7, "'note' must not contain NUL characters"),
        (8, "'occurred_at' must be an ISO-8601 timestamp"),
        (9, "colour"),
        (10, "Won"),
        (12, "not valid JSON"),
    ];
    assert_eq!(got.len(), expect.len(), "{got:?}");
    for ((line, reason), (want_line, want)) in got.iter().zip(expect) {
        assert_eq!(*line, want_line, "{got:?}");
        assert!(
            reason.contains(want),
            "line {line}: '{reason}' should name '{want}'"
        );
    }
    // The row as written travels with its reason, so a fixed file can be made from the rejects.
    assert!(
        rejects[0]["row"].as_str().unwrap().contains("999"),
        "{}",
        rejects[0]
    );
    let stored: Vec<String> = export_activities(&db, dir.path(), &t, "out.ndjson")
        .iter()
        .map(|a| a["guid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, vec![guid(101), guid(102), guid(103), guid(104)]);
    // The lead's score counts each stored activity of type 201 (score 3), as a Create does.
    let server = Server::start(&db);
    let l = server.get_lead(&t, &lead).await;
    assert_eq!(
        score(&l),
        12,
        "lead score after 4 activities of score 3: {l}"
    );

    // The same file again: every good row is found present, none doubled; rejects written anew.
    let r = ok(&db, &["import", "--tenant", &t.tenant_id, p(&path)]);
    assert_eq!(
        (
            r["imported"].as_u64(),
            r["present"].as_u64(),
            r["rejected"].as_u64()
        ),
        (Some(0), Some(4), Some(9)),
        "{r}"
    );
    assert_eq!(
        lines(&dir.path().join("acts.ndjson.rejects.ndjson")).len(),
        9
    );
}

/// Every shape of record: custom fields, tags, a pin, static data, an opportunity with an activity
/// logged on it, an account with an activity, a deleted lead, CSV-hostile text.
fn rich_files(dir: &Path) -> [(String, PathBuf); 4] {
    let types = write(
        dir,
        "types.ndjson",
        &[serde_json::from_str(TYPE_201).unwrap()],
    );
    let accounts = write(
        dir,
        "accounts.ndjson",
        &[
            json!({"guid": guid(900), "name": "Acme, \"Inc\"", "domain": "acme.test", "owner": "maya@t.test"}),
        ],
    );
    let leads = write(
        dir,
        "leads.ndjson",
        &[
            json!({"guid": guid(1), "first_name": "Ada", "email": "ada@l.test", "owner": "admin@t.test", "attributes": {"Source": "Web", "mx_Tier": "Gold"}}),
            json!({"guid": guid(2), "last_name": "Gone", "phone": "+1 555 0100", "owner": "maya@t.test", "deleted": true}),
            json!({"guid": guid(3), "first_name": "Bo", "mobile": "+44 20 7946 0000", "do_not_call": true, "owner": "maya@t.test"}),
        ],
    );
    let acts = write(
        dir,
        "activities.ndjson",
        &[
            json!({"guid": guid(10), "event_code": 12000, "lead": guid(1), "owner": "admin@t.test", "note": "Deal", "status": "Won", "occurred_at": "2024-01-02T03:04:05.123456Z"}),
            json!({"guid": guid(11), "event_code": 201, "opportunity": guid(10), "owner": "maya@t.test", "created_by": "admin@t.test", "fields": {"mx_Custom_1": "3", "mx_Custom_2": "B"}, "note": "line one\nline two, \"quoted\"\ttab", "occurred_at": "2024-01-03T00:00:00Z"}),
            json!({"guid": guid(12), "event_code": 101, "account": guid(900), "owner": "maya@t.test", "tags": ["vip", "q1"], "pinned": true, "static_data": {"z": 1, "a": {"b": [true, null]}}, "occurred_at": "2024-01-04T00:00:00Z"}),
            json!({"guid": guid(13), "event_code": 201, "lead": guid(2), "owner": "admin@t.test", "score": 9, "status": "Inactive", "occurred_at": "2024-01-05T00:00:00Z"}),
            json!({"event_code": 102, "lead": guid(3), "owner": "admin@t.test", "note": "no guid given", "occurred_at": "2024-01-06T00:00:00Z"}),
        ],
    );
    [
        ("types".into(), types),
        ("accounts".into(), accounts),
        ("leads".into(), leads),
        ("activities".into(), acts),
    ]
}

fn fresh_tenant(db: &Db) -> Creds {
    let t = db.tenant("T", "admin@t.test");
    db.user(&t, "maya@t.test", "Maya", "M", "Sales_Manager");
    t
}

fn import_all(db: &Db, t: &Creds, files: &[(String, PathBuf)]) {
    for (kind, path) in files {
        let r = ok(
            db,
            &["import", "--tenant", &t.tenant_id, "--kind", kind, p(path)],
        );
        assert_eq!(
            r["rejected"],
            0,
            "{kind}: {r} {:?}",
            std::fs::read_to_string(format!("{}.rejects.ndjson", p(path)))
        );
    }
}

fn export_all(db: &Db, t: &Creds, dir: &Path, ext: &str) -> Vec<(String, PathBuf)> {
    ["types", "accounts", "leads", "activities"]
        .iter()
        .map(|kind| {
            let path = dir.join(format!("{kind}.{ext}"));
            ok(
                db,
                &["export", "--tenant", &t.tenant_id, "--kind", kind, p(&path)],
            );
            (kind.to_string(), path)
        })
        .collect()
}

#[tokio::test]
async fn an_export_imports_again_to_an_identical_store_in_ndjson_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let a = Db::new();
    let ta = fresh_tenant(&a);
    import_all(&a, &ta, &rich_files(dir.path()));
    let first = dir.path().join("first");
    std::fs::create_dir(&first).unwrap();
    let exported = export_all(&a, &ta, &first, "ndjson");
    let acts = lines(&exported[3].1);
    assert_eq!(acts.len(), 5, "{acts:?}");
    assert_eq!(acts[2]["pinned"], true);
    assert_eq!(acts[2]["account"], guid(900));
    assert_eq!(
        acts[1]["lead"],
        guid(1),
        "an activity on an opportunity is on its lead"
    );
    let leads = lines(&exported[2].1);
    assert_eq!(leads[1]["deleted"], true);

    for ext in ["ndjson", "csv"] {
        let b = Db::new();
        let tb = fresh_tenant(&b);
        let files = match ext {
            "ndjson" => exported.clone(),
            _ => {
                let csv_dir = dir.path().join("csv");
                std::fs::create_dir_all(&csv_dir).unwrap();
                export_all(&a, &ta, &csv_dir, "csv")
            }
        };
        import_all(&b, &tb, &files);
        let again = dir.path().join(format!("again-{ext}"));
        std::fs::create_dir(&again).unwrap();
        for ((kind, before), (_, after)) in
            exported.iter().zip(export_all(&b, &tb, &again, "ndjson"))
        {
            assert_eq!(
                std::fs::read_to_string(before).unwrap(),
                std::fs::read_to_string(&after).unwrap(),
                "{kind} exported from the re-imported store ({ext}) differs"
            );
        }
        // What the APIs show agrees too: the deleted lead's activity and the lead scores.
        let server = Server::start(&b);
        let (la, lb) = (Server::start(&a), server);
        let before = la.get_lead(&ta, &guid(1)).await;
        let after = lb.get_lead(&tb, &guid(1)).await;
        assert_eq!(score(&after), score(&before), "{before} / {after}");
    }
}

#[tokio::test]
async fn a_killed_import_resumes_with_no_row_twice_and_none_missing() {
    let db = Db::new();
    let dir = tempfile::tempdir().unwrap();
    let leads: Vec<String> = (1..=20).map(guid).collect();
    let t = tenant_with_leads(&db, dir.path(), "k", &leads);
    let n = 12_000u64;
    let path = dir.path().join("big.ndjson");
    let mut text = String::new();
    let mut bad = Vec::new();
    for i in 0..n {
        let line = i + 1;
        let row = if i % 1999 == 7 {
            bad.push(line);
            json!({"event_code": 201, "lead": leads[0], "owner": "admin@t.test", "fields": {"mx_Custom_2": "C"}})
        } else if i % 3 == 0 {
            // No GUID: one is derived from the file and line.
            json!({"event_code": 201, "lead": leads[(i % 20) as usize], "owner": "admin@t.test", "note": format!("row {i}")})
        } else {
            json!({"guid": guid(1_000_000 + i), "event_code": 201, "lead": leads[(i % 20) as usize], "owner": "admin@t.test", "note": format!("row {i}")})
        };
        text.push_str(&format!("{row}\n"));
    }
    std::fs::write(&path, text).unwrap();
    let state = dir.path().join("big.ndjson.import-state");
    let indexes = db.index_names("activities");
    assert!(indexes.len() > 10, "{indexes:?}");
    let foreign_keys = db.foreign_keys("activities");
    assert!(foreign_keys.len() >= 6, "{foreign_keys:?}");
    // With the indexes deferred (and on PostgreSQL the foreign keys): the killed run has dropped
    // them, the resumed one builds them.
    let mut child = process::command(&[
        "import",
        "--tenant",
        &t.tenant_id,
        "--batch",
        "200",
        "--defer-indexes",
        "--progress",
        "none",
        p(&path),
        "--db",
        &db.url,
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("spawn import");
    // Kill it (SIGKILL) once some batches are stored and before it finishes.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = std::fs::read(&state)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|s| s["line"].as_u64())
            .unwrap_or(0);
        if line >= 3000 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "the import made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill -9 the import");
    child.wait().unwrap();
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert!(
        saved["line"].as_u64().unwrap() < n,
        "killed before the end: {saved}"
    );
    assert!(
        db.index_names("activities").len() < indexes.len(),
        "indexes deferred while loading"
    );
    // The same command without `--defer-indexes`: the state file carries what was deferred.
    let resume = [
        "import",
        "--tenant",
        &t.tenant_id,
        "--batch",
        "200",
        p(&path),
    ];
    if db.is_postgres() {
        assert_eq!(
            db.foreign_keys("activities"),
            Vec::<String>::new(),
            "foreign keys deferred while loading"
        );
        // The load has taken the growing table's statistics (the store had none of its rows).
        let estimated: f64 = db
            .pg_value("SELECT reltuples::text FROM pg_class WHERE relname = 'activities'")
            .parse()
            .expect("a number");
        assert!(
            estimated >= 1000.0,
            "activities analysed during the load: {estimated}"
        );
        // A stored row that breaks a foreign key while none is enforced: the resumed import
        // ends with an error naming that key, which is enforced again (not yet validated).
        db.exec(
            "",
            "UPDATE activities SET created_by = -created_by WHERE id = (SELECT min(id) FROM activities)",
        );
        let out = db.cli(&resume);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "the broken key must fail the import");
        assert!(
            stderr.contains("activities_created_by_fkey") && stderr.contains("does not hold"),
            "{stderr}"
        );
        assert!(
            db.foreign_keys("activities")
                .iter()
                .any(|k| k.starts_with("activities_created_by_fkey")
                    && k.ends_with("(not validated)")),
            "{:?}",
            db.foreign_keys("activities")
        );
        assert!(state.exists(), "the failed run keeps its state file");
        db.exec(
            "",
            "UPDATE activities SET created_by = -created_by WHERE created_by < 0",
        );
    }

    let r = ok(&db, &resume);
    assert!(r["resumed_at_line"].as_u64().unwrap() >= 3000, "{r}");
    assert!(!state.exists(), "a finished import removes its state file");
    assert_eq!(
        db.index_names("activities"),
        indexes,
        "every index built again"
    );
    assert_eq!(
        db.foreign_keys("activities"),
        foreign_keys,
        "every foreign key added back and validated"
    );
    let stored = export_activities(&db, dir.path(), &t, "after.ndjson");
    assert_eq!(
        stored.len() as u64,
        n - bad.len() as u64,
        "every good row once"
    );
    let guids: HashSet<&str> = stored.iter().map(|a| a["guid"].as_str().unwrap()).collect();
    assert_eq!(guids.len(), stored.len(), "no GUID twice");
    let notes: HashSet<&str> = stored.iter().map(|a| a["note"].as_str().unwrap()).collect();
    for i in 0..n {
        if !bad.contains(&(i + 1)) {
            assert!(
                notes.contains(format!("row {i}").as_str()),
                "row {i} is missing"
            );
        }
    }
    let rejected: Vec<u64> = lines(&dir.path().join("big.ndjson.rejects.ndjson"))
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, bad, "each bad line rejected once, in order");
    // Timestamps from the tenant clock stay unique and increasing in file order: the native
    // export (by updated_at) lists the rows in the order the file had them.
    let server = Server::start(&db);
    let resp = server
        .send(
            reqwest::Method::GET,
            "/api/v1/export",
            &[("authorization", &format!("Bearer {}", t.api_key))],
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    let walked: Vec<String> = resp
        .text()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["guid"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let in_file: Vec<String> = stored
        .iter()
        .map(|a| a["guid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        walked, in_file,
        "the updated_at walk sees each row once, in file order"
    );
    // The kept counts (counted in the import's own transactions, through the dropped and rebuilt
    // indexes and the kill) agree with the rows: all of them, and per type, user and pinned.
    for (q, want) in [
        ("", stored.len()),
        ("&pinned=true", 0),
        ("&pinned=false", stored.len()),
    ] {
        let resp = server
            .send(
                reqwest::Method::GET,
                &format!("/v2/activity_histories?include_paging_counts=true&per_page=1{q}"),
                &[("authorization", &format!("Bearer {}", t.api_key))],
                None,
            )
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
        assert_eq!(
            resp.json["metadata"]["paging"]["total_count"],
            json!(want),
            "{q}"
        );
    }
    // Each lead's score is 3 per stored activity: the killed batch added nothing twice.
    let mut per_lead: BTreeMap<&str, i64> = BTreeMap::new();
    for a in &stored {
        *per_lead.entry(a["lead"].as_str().unwrap()).or_default() += 3;
    }
    for lead in &leads[..3] {
        let l = server.get_lead(&t, lead).await;
        assert_eq!(score(&l), per_lead[lead.as_str()], "{l}");
    }
}

#[tokio::test]
async fn an_import_never_reaches_another_tenant() {
    let db = Db::new();
    let dir = tempfile::tempdir().unwrap();
    let a = tenant_with_leads(&db, dir.path(), "a", &[guid(1)]);
    let b = tenant_with_leads(&db, dir.path(), "b", &[guid(2)]);
    let b_row =
        json!({"guid": guid(50), "event_code": 201, "lead": guid(2), "owner": "admin@t.test"});
    ok(
        &db,
        &[
            "import",
            "--tenant",
            &b.tenant_id,
            p(&write(dir.path(), "b.ndjson", &[b_row])),
        ],
    );
    let b_before = export_activities(&db, dir.path(), &b, "b-before.ndjson");
    // Tenant A's file names B's lead, B's activity GUID (as an opportunity) and B's GUID again.
    let rows = [
        json!({"event_code": 201, "lead": guid(2), "owner": "admin@t.test"}),
        json!({"event_code": 201, "lead": guid(3), "owner": "admin@t.test"}),
        json!({"event_code": 201, "opportunity": guid(50), "owner": "admin@t.test"}),
        json!({"guid": guid(50), "event_code": 201, "lead": guid(1), "owner": "admin@t.test"}),
    ];
    let r = ok(
        &db,
        &[
            "import",
            "--tenant",
            &a.tenant_id,
            p(&write(dir.path(), "a.ndjson", &rows)),
        ],
    );
    assert_eq!(
        (r["imported"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(3)),
        "{r}"
    );
    let reasons: Vec<String> = lines(&dir.path().join("a.ndjson.rejects.ndjson"))
        .iter()
        .map(|r| r["reason"].as_str().unwrap().to_string())
        .collect();
    // Another tenant's lead answers exactly as a lead that does not exist.
    assert_eq!(reasons[0], reasons[1].replace(&guid(3), &guid(2)));
    assert!(reasons[2].contains("no opportunity"), "{reasons:?}");
    // The GUID B uses is free in A: A's own record, B's untouched.
    assert_eq!(
        export_activities(&db, dir.path(), &b, "b-after.ndjson"),
        b_before
    );
    let a_rows = export_activities(&db, dir.path(), &a, "a-after.ndjson");
    assert_eq!(a_rows.len(), 1);
    assert_eq!(a_rows[0]["lead"], guid(1));
    // With two tenants, the tenant must be named.
    let e = fails(&db, &["import", p(&dir.path().join("a.ndjson"))]);
    assert!(e.contains("--tenant"), "{e}");
}

#[tokio::test]
async fn an_import_runs_while_the_server_serves() {
    let db = Db::new();
    let dir = tempfile::tempdir().unwrap();
    let t = tenant_with_leads(&db, dir.path(), "s", &[guid(1)]);
    let server = Server::start(&db);
    let rows: Vec<Value> = (0..20_000)
        .map(|i| json!({"event_code": 201, "lead": guid(1), "owner": "admin@t.test", "note": format!("n{i}")}))
        .collect();
    let path = write(dir.path(), "live.ndjson", &rows);
    let url = db.url.clone();
    let tenant = t.tenant_id.clone();
    let import = std::thread::spawn(move || {
        process::command(&[
            "import",
            "--tenant",
            &tenant,
            "--batch",
            "2000",
            "--progress",
            "none",
            p(&path),
            "--db",
            &url,
        ])
        .output()
        .expect("run import")
    });
    // The server keeps answering reads and writes while the import loads.
    let mut served = 0;
    while !import.is_finished() {
        let l = server.get_lead(&t, &guid(1)).await;
        assert_eq!(
            l["ProspectID"].as_str().map(str::to_lowercase),
            Some(guid(1)),
            "{l}"
        );
        served += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let out = import.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(served > 0);
    let stored = export_activities(&db, dir.path(), &t, "after.ndjson");
    assert_eq!(stored.len(), 20_000);
}

#[tokio::test]
async fn bad_flags_and_files_get_one_clear_line() {
    let db = Db::new();
    let dir = tempfile::tempdir().unwrap();
    let t = fresh_tenant(&db);
    let missing = dir.path().join("missing.ndjson");
    let e = fails(&db, &["import", p(&missing)]);
    assert!(
        e.contains("cannot open") && e.contains("missing.ndjson"),
        "{e}"
    );
    let e = refused_flag(&db, &["import", "--kind", "notes", p(&missing)]);
    assert!(e.contains("notes") && e.contains("activities"), "{e}");
    let e = refused_flag(&db, &["import", "--batch", "0", p(&missing)]);
    assert!(e.contains("--batch"), "{e}");
    let e = refused_flag(&db, &["import", "--tenant", "not-a-guid", p(&missing)]);
    assert!(e.contains("--tenant"), "{e}");
    let file = write(dir.path(), "x.csv", &[]);
    std::fs::write(&file, "guid,colour\n1,red\n").unwrap();
    let e = fails(&db, &["import", "--tenant", &t.tenant_id, p(&file)]);
    assert!(e.contains("'colour'") && e.contains("event_code"), "{e}");
    let e = fails(&db, &["import", "--tenant", &guid(5), p(&file)]);
    assert!(e.contains("no such tenant"), "{e}");
    // A state file of another import is not silently applied.
    let other = write(dir.path(), "y.ndjson", &[json!({"event_code": 201})]);
    std::fs::write(format!("{}.import-state", p(&other)), r#"{"file_key":"0","tenant":"00000000-0000-4000-8000-000000000005","kind":"activities","format":"ndjson","line":1,"offset":5,"rejects_len":0,"imported":0,"present":0,"rejected":0}"#).unwrap();
    let e = fails(&db, &["import", "--tenant", &t.tenant_id, p(&other)]);
    assert!(e.contains("--restart"), "{e}");
    let r = ok(
        &db,
        &["import", "--tenant", &t.tenant_id, "--restart", p(&other)],
    );
    assert_eq!(r["rejected"], 1, "{r}");
    let e = fails(&db, &["export", "--tenant", &t.tenant_id, p(&other)]);
    assert!(e.contains("already exists"), "{e}");
}
