//! No secret in the server's logs: the real binary at `RUST_LOG=trace`, as text and as JSON,
//! called in every dialect with valid and wrong keys wherever a client may put them; every key
//! (and its URL-encoded and JSON-escaped forms, and any 16 characters of it) is absent from what
//! the server wrote. The CLI prints keys by design; only the server's output is searched.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use crate::harness::{enc, json, on_postgres, pg, Value};
use crate::process::{self, Creds};

/// A `serve` whose stdout and stderr go, whole, to files; killed on drop.
struct LoggedServer {
    child: Child,
    base: String,
    out: PathBuf,
    err: PathBuf,
}

impl LoggedServer {
    fn spawn(db: &str, dir: &Path, name: &str, extra: &[&str]) -> LoggedServer {
        let out = dir.join(format!("{name}.stdout"));
        let err = dir.join(format!("{name}.stderr"));
        let mut cmd = process::command(&["serve", "--db", db, "--bind", "127.0.0.1:0"]);
        cmd.args(extra)
            .env("RUST_LOG", "trace")
            .stdout(File::create(&out).expect("stdout file"))
            .stderr(File::create(&err).expect("stderr file"));
        let child = cmd.spawn().expect("spawn serve");
        let mut server = LoggedServer {
            child,
            base: String::new(),
            out,
            err,
        };
        let marker = "activity-hub listening on http://";
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let printed = std::fs::read_to_string(&server.out).unwrap_or_default();
            if let Some(i) = printed.find(marker) {
                let hp: String = printed[i + marker.len()..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                server.base = format!("http://{}", hp.trim_end_matches('/'));
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "server did not start:\n{printed}\n{}",
                server.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the server wrote, stdout then stderr.
    fn logs(&self) -> String {
        let out = std::fs::read(&self.out).unwrap_or_default();
        let err = std::fs::read(&self.err).unwrap_or_default();
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        )
    }
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One call and the status it must get (so that each path — accepted, refused — surely ran).
async fn call(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
    want: u16,
) -> Value {
    let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client.request(m, format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    assert_eq!(status, want, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Calls every dialect with the keys of `admin` and `user` (valid) and with wrong ones, in the
/// query string, in headers and in bodies; returns the keys the server issued on the way.
async fn exercise(base: &str, admin: &Creds, user: &Creds, wrong: &Creds) -> Vec<String> {
    let c = process::http();
    let q = |who: &Creds| {
        format!(
            "accessKey={}&secretKey={}",
            enc(&who.access_key),
            enc(&who.secret_key)
        )
    };
    let users_get = "/v2/UserManagement.svc/Users.Get";
    // LeadSquared: keys in the query string and in headers; valid, wrong secret, wrong access key.
    call(
        &c,
        base,
        "GET",
        &format!("{users_get}?{}", q(admin)),
        &[],
        None,
        200,
    )
    .await;
    let lead = call(
        &c,
        base,
        "POST",
        &format!("/v2/LeadManagement.svc/Lead.Create?{}", q(user)),
        &[],
        Some(json!([{"Attribute": "FirstName", "Value": "Logged"}])),
        200,
    )
    .await;
    let lead = lead["Message"]["Id"].as_str().expect("lead id").to_string();
    let lsq_headers = |who: &Creds| {
        [
            ("x-LSQ-AccessKey", who.access_key.clone()),
            ("x-LSQ-SecretKey", who.secret_key.clone()),
        ]
    };
    let h = lsq_headers(user);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    call(
        &c,
        base,
        "POST",
        &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
        &h,
        Some(json!({"Paging": {"Offset": 0, "RowCount": 10}})),
        200,
    )
    .await;
    call(
        &c,
        base,
        "POST",
        &format!("/v2/ProspectActivity.svc/Create?{}", q(user)),
        &[],
        Some(json!({"RelatedProspectId": lead, "ActivityEvent": 105, "ActivityNote": "logged"})),
        200,
    )
    .await;
    let wrong_secret = admin.with_secret(&wrong.secret_key);
    call(
        &c,
        base,
        "GET",
        &format!("{users_get}?{}", q(&wrong_secret)),
        &[],
        None,
        401,
    )
    .await;
    call(
        &c,
        base,
        "GET",
        &format!("{users_get}?{}", q(wrong)),
        &[],
        None,
        401,
    )
    .await;
    let h = lsq_headers(wrong);
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    call(&c, base, "GET", users_get, &h, None, 401).await;
    // Keys where LeadSquared does not read them: a body, an unknown header.
    call(
        &c,
        base,
        "POST",
        "/v2/ProspectActivity.svc/Retrieve",
        &[("x-api-key", &admin.secret_key)],
        Some(json!({"accessKey": admin.access_key, "secretKey": admin.secret_key})),
        401,
    )
    .await;

    // Salesloft: Bearer valid and wrong; a key in the query string is not a credential.
    let bearer = |k: &str| format!("Bearer {k}");
    let admin_bearer = bearer(&admin.api_key);
    let wrong_bearer = bearer(&wrong.api_key);
    call(
        &c,
        base,
        "GET",
        "/v2/me",
        &[("Authorization", &admin_bearer)],
        None,
        200,
    )
    .await;
    call(
        &c,
        base,
        "GET",
        "/v2/activity_histories?per_page=5&include_paging_counts=true",
        &[("Authorization", &bearer(&user.api_key))],
        None,
        200,
    )
    .await;
    call(
        &c,
        base,
        "GET",
        "/v2/me",
        &[("Authorization", &wrong_bearer)],
        None,
        401,
    )
    .await;
    call(
        &c,
        base,
        "GET",
        &format!("/v2/activity_histories?api_key={}", enc(&admin.api_key)),
        &[],
        None,
        401,
    )
    .await;

    // Native: Bearer valid (also as created by the API itself) and wrong, other schemes.
    call(
        &c,
        base,
        "GET",
        "/api/v1/leads",
        &[("Authorization", &admin_bearer)],
        None,
        200,
    )
    .await;
    let created = call(
        &c,
        base,
        "POST",
        "/api/v1/users",
        &[("Authorization", &admin_bearer)],
        Some(json!({"email": format!("made-{}@logs.example", uuid::Uuid::new_v4().simple()), "role": "Sales_Manager"})),
        201,
    )
    .await;
    let issued: Vec<String> = ["access_key", "secret_key", "api_key"]
        .iter()
        .map(|k| created["data"][k].as_str().expect("issued key").to_string())
        .collect();
    call(
        &c,
        base,
        "GET",
        "/api/v1/export",
        &[("Authorization", &bearer(&issued[2]))],
        None,
        200,
    )
    .await;
    call(
        &c,
        base,
        "GET",
        "/api/v1/users",
        &[("Authorization", &wrong_bearer)],
        None,
        401,
    )
    .await;
    call(
        &c,
        base,
        "GET",
        "/api/v1/users",
        &[("Authorization", &format!("Token {}", admin.api_key))],
        None,
        401,
    )
    .await;
    call(
        &c,
        base,
        "POST",
        "/api/v1/leads",
        &[("Authorization", &format!("bearer {}", wrong.secret_key))],
        Some(json!({"first_name": "x", "api_key": admin.api_key})),
        401,
    )
    .await;
    // The refusals log too: LeadSquared's budget spent with valid keys, then the failed-login
    // lockout of this address with wrong ones (last: it refuses the address for a minute).
    let users_get_admin = format!("{users_get}?{}", q(admin));
    let mut limited = false;
    for _ in 0..40 {
        if status_of(&c, base, &users_get_admin, &[]).await == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "LeadSquared's rate limit never answered 429");
    let mut locked = false;
    for _ in 0..60 {
        if status_of(&c, base, "/v2/me", &[("Authorization", &wrong_bearer)]).await == 429 {
            locked = true;
            break;
        }
    }
    assert!(locked, "wrong keys never locked the address out");
    issued
}

/// The status of a GET.
async fn status_of(c: &reqwest::Client, base: &str, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut req = c.get(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request").status().as_u16()
}

/// The password in a database URL's userinfo.
fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    userinfo.split_once(':').map(|(_, pw)| pw.to_string())
}

/// `url` with a password in its userinfo (the one it has, else a made-up one).
fn with_password(url: &str) -> String {
    if password_of(url).is_some() {
        return url.to_string();
    }
    let pw = format!("pw{}", uuid::Uuid::new_v4().simple());
    match url.split_once("://").and_then(|(scheme, rest)| {
        rest.split_once('@')
            .map(|(user, host)| format!("{scheme}://{user}:{pw}@{host}"))
    }) {
        Some(u) => u,
        None => url.to_string(),
    }
}

/// Where `needle` (or a form of it) shows in `logs`: the line, for the failure message.
fn find_secret(logs: &str, secret: &str) -> Option<String> {
    let mut forms = vec![
        secret.to_string(),
        enc(secret),
        secret.replace('$', "%24"),
        serde_json::to_string(secret)
            .unwrap_or_default()
            .trim_matches('"')
            .to_string(),
    ];
    // Any 16 characters of it: a key logged in part, truncated or wrapped.
    let chars: Vec<char> = secret.chars().collect();
    for w in chars.windows(16) {
        forms.push(w.iter().collect());
    }
    for form in forms {
        if let Some(line) = logs.lines().find(|l| l.contains(&form)) {
            return Some(format!(
                "{form:?} in: {}",
                line.chars().take(400).collect::<String>()
            ));
        }
    }
    None
}

/// The server at `RUST_LOG=trace`, text and JSON format: every dialect called with valid and
/// wrong keys, then none of the keys is in its output — while the output does show the requests
/// (each at debug level, as its request span logs it).
#[tokio::test]
async fn no_key_reaches_the_server_log_at_any_level() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut secrets: Vec<String> = Vec::new();
    let (db, _pg) = if on_postgres() {
        let admin = pg::admin_url("attack (every test on PostgreSQL)")
            .expect("ACTIVITY_HUB_TEST_PG for the PostgreSQL run");
        let d = pg::PgDb::create(&admin, "attack_logs");
        // The database URL's password is a secret too: the test server's own when it has one,
        // else one it ignores (trust authentication), so that there is one to look for.
        let url = with_password(&d.url);
        if let Some(pw) = password_of(&url) {
            secrets.push(pw);
        }
        (url, Some(d))
    } else {
        (format!("sqlite://{}/logs.db", dir.path().display()), None)
    };
    let admin = process::cli(
        &db,
        &[
            "tenant",
            "create",
            "--name",
            "Logs",
            "--admin-email",
            "admin@logs.example",
        ],
    );
    let user = process::cli(
        &db,
        &[
            "user",
            "create",
            "--tenant",
            &admin.tenant_id,
            "--email",
            "seller@logs.example",
            "--role",
            "Sales_User",
        ],
    );
    // Keys of the right shapes that no user has.
    let wrong = Creds {
        tenant_id: admin.tenant_id.clone(),
        user_id: admin.user_id.clone(),
        access_key: format!("u${}", uuid::Uuid::new_v4().simple()),
        secret_key: uuid::Uuid::new_v4().simple().to_string(),
        api_key: format!("ak_{}", uuid::Uuid::new_v4().simple()),
    };
    secrets.extend([&admin, &user, &wrong].iter().flat_map(|c| {
        [
            c.access_key.clone(),
            c.secret_key.clone(),
            c.api_key.clone(),
        ]
    }));

    for (name, extra) in [
        ("text", &["--log-format", "text"][..]),
        ("json", &["--log-format", "json"][..]),
    ] {
        let server = LoggedServer::spawn(&db, dir.path(), name, extra);
        let issued = exercise(&server.base, &admin, &user, &wrong).await;
        secrets.extend(issued);
        // Lets the last lines reach the files.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let logs = server.logs();
        drop(server);
        if on_postgres() {
            // LeadSquared's budget (spent above) is kept in PostgreSQL, shared with the next
            // server: its 5 s window must pass first.
            tokio::time::sleep(Duration::from_secs(6)).await;
        }
        // The log is the trace log of those requests, else the search below proves nothing.
        for route in [
            "/v2/UserManagement.svc/Users.Get",
            "/v2/ProspectActivity.svc/Retrieve",
            "/v2/activity_histories",
            "/api/v1/users",
        ] {
            assert!(
                logs.contains(route),
                "{name} log shows no request to {route}"
            );
        }
        // Each request is logged at debug level when it is answered (the request span).
        let debug_lines = logs
            .lines()
            .filter(|l| l.contains(" DEBUG ") || l.contains("\"level\":\"DEBUG\""))
            .count();
        assert!(
            debug_lines >= 15,
            "{name} log lacks the requests' debug lines"
        );
        if name == "json" {
            assert!(
                logs.lines().filter(|l| l.starts_with('{')).count() >= debug_lines,
                "not JSON lines"
            );
        }
        for s in &secrets {
            if let Some(found) = find_secret(&logs, s) {
                panic!("the {name} log at RUST_LOG=trace holds a key: {found}");
            }
        }
    }
}
