//! The CLI contract: `tenant create` / `user create` output and errors, and `backup`.

use crate::harness::*;

fn assert_key_shapes(c: &Creds) {
    assert!(is_guid(&c.tenant_id), "tenant_id is a GUID: {c:?}");
    assert!(is_guid(&c.user_id), "user_id is a GUID: {c:?}");
    assert!(
        c.access_key.starts_with("u$r") && c.access_key.len() == 35 && is_hex(&c.access_key[3..]),
        "access_key = u$r + 32 hex: {c:?}"
    );
    assert!(
        c.secret_key.len() == 64 && is_hex(&c.secret_key),
        "secret_key = 64 hex: {c:?}"
    );
    assert!(
        c.api_key.starts_with("ak_") && c.api_key.len() == 67 && is_hex(&c.api_key[3..]),
        "api_key = ak_ + 64 hex: {c:?}"
    );
}

fn assert_one_line_error(what: &str, out: &std::process::Output) {
    assert!(!out.status.success(), "{what} must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: exactly one stderr line, got {stderr:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "{what}: nothing on stdout, got {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn tenant_create_prints_one_json_object_with_working_keys() {
    let db = Db::new();
    let out = db.cli(&[
        "tenant",
        "create",
        "--name",
        "Acme",
        "--admin-email",
        "admin@acme.test",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(stdout.trim()).expect("one JSON object on stdout");
    let keys: Vec<&String> = v.as_object().expect("an object").keys().collect();
    let mut keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "access_key",
            "api_key",
            "secret_key",
            "tenant_id",
            "user_id"
        ],
        "{stdout}"
    );
    let a = Creds::from_output("tenant create", &out);
    assert_key_shapes(&a);

    let b = db.tenant("Other", "admin@acme.test");
    assert_key_shapes(&b);
    assert_ne!(a.tenant_id, b.tenant_id);
    assert_ne!(a.access_key, b.access_key);
    assert_ne!(a.secret_key, b.secret_key);
    assert_ne!(a.api_key, b.api_key);

    // The keys authenticate as the tenant's Administrator.
    let srv = Server::start(&db);
    let (s, me) = srv
        .lsq_get("/v2/Authentication.svc/UserByAccessKey.Get", &a)
        .await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert!(same_id(me["Id"].as_str().unwrap_or(""), &a.user_id), "{me}");
    assert_eq!(me["Role"], "Administrator", "{me}");

    // Secrets are stored only as digests.
    let mut raw = Vec::new();
    for entry in std::fs::read_dir(db.path().parent().unwrap()).unwrap() {
        raw.extend(std::fs::read(entry.unwrap().path()).unwrap_or_default());
    }
    let raw = String::from_utf8_lossy(&raw);
    assert!(!raw.is_empty(), "the db file exists");
    assert!(
        !raw.contains(&a.secret_key),
        "the secret key must not be stored in clear"
    );
    assert!(
        !raw.contains(&a.api_key),
        "the api key must not be stored in clear"
    );
}

#[tokio::test]
async fn user_create_prints_the_same_shape_and_the_role_is_applied() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");
    let rep = db.user(&admin, "rep@acme.test", "Rita", "Rep", "Sales_User");
    assert_key_shapes(&rep);
    assert_eq!(rep.tenant_id, admin.tenant_id);
    assert_ne!(rep.user_id, admin.user_id);

    let srv = Server::start(&db);
    let (s, me) = srv
        .lsq_get("/v2/Authentication.svc/UserByAccessKey.Get", &rep)
        .await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["Role"], "Sales_User", "{me}");
    assert_eq!(me["EmailAddress"], "rep@acme.test", "{me}");
}

#[tokio::test]
async fn user_create_errors_exit_non_zero_with_one_stderr_line() {
    let db = Db::new();
    let admin = db.tenant("Acme", "admin@acme.test");

    let out = db.cli(&[
        "user",
        "create",
        "--tenant",
        &unknown_guid(),
        "--email",
        "x@acme.test",
        "--first-name",
        "X",
        "--last-name",
        "Y",
        "--role",
        "Sales_User",
        "--json",
    ]);
    assert_one_line_error("unknown tenant", &out);

    let out = db.cli(&[
        "user",
        "create",
        "--tenant",
        "not-a-guid",
        "--email",
        "x@acme.test",
        "--json",
    ]);
    assert_one_line_error("malformed tenant id", &out);

    let out = db.cli(&[
        "user",
        "create",
        "--tenant",
        &admin.tenant_id,
        "--email",
        "admin@acme.test",
        "--json",
    ]);
    assert_one_line_error("duplicate email in the tenant", &out);

    // None of the failed calls created a user.
    let srv = Server::start(&db);
    let (s, users) = srv
        .lsq_get("/v2/UserManagement.svc/Users.Get", &admin)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_a_live_store_consistently_and_refuses_what_it_cannot_copy() {
    let db = Db::new();
    let c = db.tenant("Backed", "admin@backed.test");
    let dest_dir = tempfile::tempdir().expect("temp dir");
    let dest = dest_dir.path().join("copy.db");
    let dest_arg = dest.to_str().expect("utf-8 path");
    if !db.url.starts_with("sqlite") {
        let out = db.cli(&["backup", dest_arg]);
        assert_one_line_error("backup of a PostgreSQL store", &out);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("pg_dump"),
            "it says what to use instead: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!dest.exists());
        return;
    }
    let srv = Server::start(&db);
    let lead = srv.create_lead(&c, "l@backed.test").await;
    // Writes go on while the backup runs; each acknowledged one is counted.
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (acked, stop, c, lead) = (acked.clone(), stop.clone(), c.clone(), lead.clone());
        let base = srv.url("");
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let resp = http
                    .post(with_keys(
                        &format!("{base}/v2/ProspectActivity.svc/Create"),
                        &c,
                    ))
                    .json(&json!({"RelatedProspectId": lead, "ActivityEvent": 101}))
                    .send()
                    .await
                    .expect("create");
                assert_eq!(resp.status(), 200);
                acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
    };
    while acked.load(std::sync::atomic::Ordering::SeqCst) < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before = acked.load(std::sync::atomic::Ordering::SeqCst);
    let out = db.cli(&["backup", dest_arg]);
    let after = acked.load(std::sync::atomic::Ordering::SeqCst);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.expect("writer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let copied = report["activities"].as_i64().expect("activities");
    assert!(
        (before..=after + 1).contains(&copied),
        "the copy holds a prefix of the writes: {before} acknowledged before, {after} after, copied {copied}"
    );
    assert_eq!(
        report["bytes"].as_u64(),
        Some(std::fs::metadata(&dest).expect("the copy").len())
    );

    // The copy is a store a server opens, holding exactly what the report says.
    let copy = Server::spawn(&format!("sqlite://{dest_arg}"), &["--no-rate-limit"]);
    assert_eq!(copy.record_count(&c, &lead).await, copied);

    // It never overwrites, and refuses what is not a store.
    let again = db.cli(&["backup", dest_arg]);
    assert_one_line_error("backup onto an existing file", &again);
    let stranger = dest_dir.path().join("stranger.db");
    rusqlite::Connection::open(&stranger)
        .and_then(|c| c.execute_batch("CREATE TABLE t (x)"))
        .expect("a foreign SQLite file");
    let out = process::command(&[
        "backup",
        "--db",
        &format!("sqlite://{}", stranger.display()),
        dest_dir.path().join("x.db").to_str().expect("utf-8"),
    ])
    .output()
    .expect("run");
    assert_one_line_error("backup of a file that is not a store", &out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an activity-hub store"));
}
