//! Black-box harness of the LeadSquared suite: runs the real `activity-hub` binary (CLI and server,
//! through tests/common/process.rs) and talks to the server over real HTTP. Every test owns a temp
//! dir with its own SQLite file (or, with `ACTIVITY_HUB_TEST_BACKEND=postgres`, its own PostgreSQL
//! database) and its own server process.

#![allow(dead_code)]

pub use reqwest::StatusCode;
pub use serde_json::{json, Value};

use reqwest::header::HeaderMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Database + CLI
// ---------------------------------------------------------------------------------------------

#[path = "../common/pg.rs"]
mod pg;
#[path = "../common/process.rs"]
pub mod process;
pub use process::{Creds, Server};
#[path = "checks.rs"]
mod checks;
pub use checks::*;

/// The variable choosing the backend every test of this suite runs on: `sqlite` (default) or
/// `postgres` (a fresh database per test on the server `ACTIVITY_HUB_TEST_PG` names).
/// `.ci/run` runs the suite once per backend.
pub const BACKEND_ENV: &str = "ACTIVITY_HUB_TEST_BACKEND";

/// A temp dir (holding `hub.db` on SQLite) and, on PostgreSQL, the test's own database; both
/// removed when dropped.
pub struct Db {
    dir: tempfile::TempDir,
    pub url: String,
    pg: Option<pg::PgDb>,
}

impl Db {
    pub fn new() -> Db {
        let dir = tempfile::tempdir().expect("create temp dir");
        if std::env::var(BACKEND_ENV).is_ok_and(|b| b.eq_ignore_ascii_case("postgres")) {
            let admin = pg::admin_url("http (every test on PostgreSQL)").unwrap_or_else(|| {
                panic!(
                    "{BACKEND_ENV}=postgres needs {} (a PostgreSQL URL)",
                    pg::ENV
                )
            });
            let db = pg::PgDb::create(&admin, "http");
            return Db {
                dir,
                url: db.url.clone(),
                pg: Some(db),
            };
        }
        let url = format!("sqlite://{}/hub.db", dir.path().display());
        Db { dir, url, pg: None }
    }

    /// The SQLite file; on PostgreSQL a fresh dump of every table's rows (as JSON lines) in the
    /// same place, so tests that inspect what is stored work on both backends.
    pub fn path(&self) -> PathBuf {
        let path = self.dir.path().join("hub.db");
        if let Some(db) = &self.pg {
            let tables = pg::query_texts(
                &db.url,
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            )
            .expect("list tables");
            let mut dump = String::new();
            for t in tables.into_iter().flatten() {
                let rows = pg::query_texts(
                    &db.url,
                    &format!("SELECT row_to_json(t)::text FROM \"{t}\" t"),
                )
                .expect("dump table");
                for r in rows.into_iter().flatten() {
                    dump.push_str(&r);
                    dump.push('\n');
                }
            }
            std::fs::write(&path, dump).expect("write dump");
        }
        path
    }

    /// The names of `table`'s indexes, sorted, on either backend.
    pub fn index_names(&self, table: &str) -> Vec<String> {
        self.column_texts(
            &format!(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' ORDER BY 1"
            ),
            &format!(
                "SELECT indexname::text FROM pg_indexes WHERE tablename = '{table}' ORDER BY 1"
            ),
        )
    }

    /// `texts` of `postgres` on PostgreSQL and of `sqlite` on SQLite.
    fn column_texts(&self, sqlite: &str, postgres: &str) -> Vec<String> {
        self.texts(if self.pg.is_some() { postgres } else { sqlite })
    }

    /// Whether the test runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// The first column of the first row `sql` returns on the test's PostgreSQL database, as
    /// text; panics on SQLite.
    pub fn pg_value(&self, sql: &str) -> String {
        let db = self.pg.as_ref().expect("a PostgreSQL test");
        pg::query_texts(&db.url, sql)
            .expect("run SQL")
            .into_iter()
            .next()
            .flatten()
            .expect("a value")
    }

    /// The foreign keys of `table`, each as one line: on PostgreSQL its name, definition and
    /// whether it is validated; on SQLite the column and what it references.
    pub fn foreign_keys(&self, table: &str) -> Vec<String> {
        self.column_texts(
            &format!(
                "SELECT \"from\" || ' -> ' || \"table\" || '(' || coalesce(\"to\", '') || ')'
                   FROM pragma_foreign_key_list('{table}') ORDER BY 1"
            ),
            &format!(
                "SELECT conname || ' ' || pg_get_constraintdef(oid)
                        || CASE WHEN convalidated THEN '' ELSE ' (not validated)' END
                   FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'f'
                  ORDER BY conname"
            ),
        )
    }

    /// Runs one SQL batch on the test's database: `sqlite` on SQLite, `postgres` on PostgreSQL
    /// (for what a test installs behind the server's back, such as a failing trigger).
    pub fn exec(&self, sqlite: &str, postgres: &str) {
        if let Some(db) = &self.pg {
            return pg::admin_exec(&db.url, postgres).expect("run SQL");
        }
        let c = rusqlite::Connection::open(self.dir.path().join("hub.db"))
            .expect("open the SQLite file");
        c.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        c.execute_batch(sqlite).expect("run SQL");
    }

    /// The first column of every row of `sql` (valid on both backends), as text.
    pub fn texts(&self, sql: &str) -> Vec<String> {
        if let Some(db) = &self.pg {
            return pg::query_texts(&db.url, sql)
                .expect("query")
                .into_iter()
                .map(|v| v.unwrap_or_default())
                .collect();
        }
        let c = rusqlite::Connection::open(self.dir.path().join("hub.db"))
            .expect("open the SQLite file");
        c.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        let mut stmt = c.prepare(sql).expect("prepare");
        let rows = stmt
            .query_map([], |r| {
                Ok(match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Null => String::new(),
                    rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                    rusqlite::types::ValueRef::Real(f) => f.to_string(),
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                })
            })
            .expect("query")
            .collect::<rusqlite::Result<Vec<String>>>()
            .expect("rows");
        rows
    }

    /// Runs `activity-hub ARGS... --db URL`.
    pub fn cli(&self, args: &[&str]) -> Output {
        process::command(args)
            .arg("--db")
            .arg(&self.url)
            .output()
            .expect("run activity-hub CLI")
    }

    /// `tenant create --json`; panics unless it succeeds.
    pub fn tenant(&self, name: &str, admin_email: &str) -> Creds {
        let out = self.cli(&[
            "tenant",
            "create",
            "--name",
            name,
            "--admin-email",
            admin_email,
            "--json",
        ]);
        Creds::from_output("tenant create", &out)
    }

    /// `user create --json`; panics unless it succeeds.
    pub fn user(&self, tenant: &Creds, email: &str, first: &str, last: &str, role: &str) -> Creds {
        let out = self.cli(&[
            "user",
            "create",
            "--tenant",
            &tenant.tenant_id,
            "--email",
            email,
            "--first-name",
            first,
            "--last-name",
            last,
            "--role",
            role,
            "--json",
        ]);
        Creds::from_output("user create", &out)
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// A response, kept whole (status, headers, raw body and the body parsed as JSON).
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body as JSON, or `Value::String("<non-JSON body> …")` when it is not JSON.
    pub json: Value,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn parse_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| {
        Value::String(format!(
            "<non-JSON body> {}",
            String::from_utf8_lossy(&body[..body.len().min(2000)])
        ))
    })
}

fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Appends the keys to `path` as query parameters (`?` or `&` as needed).
pub fn with_keys(path: &str, c: &Creds) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!(
        "{path}{sep}accessKey={}&secretKey={}",
        pct(&c.access_key),
        pct(&c.secret_key)
    )
}

/// The LeadSquared suite's ways to start a server and talk to it, on the shared process harness.
impl Server {
    /// Starts `serve --no-rate-limit` on a free port of 127.0.0.1.
    pub fn start(db: &Db) -> Server {
        Server::spawn(&db.url, &["--no-rate-limit"])
    }

    /// Starts `serve` with the default rate limits.
    pub fn start_rate_limited(db: &Db) -> Server {
        Server::spawn(&db.url, &[])
    }

    /// Starts `serve` with extra arguments (e.g. `--demo`).
    pub fn start_with(db: &Db, extra: &[&str]) -> Server {
        Server::spawn(&db.url, extra)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends one request; `path` is the path plus query, e.g. `/v2/...?...`.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(Vec<u8>, Option<&str>)>,
    ) -> Resp {
        let mut rb = self.client.request(method.clone(), self.url(path));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some((bytes, ct)) = body {
            if let Some(ct) = ct {
                rb = rb.header("content-type", ct);
            }
            rb = rb.body(bytes);
        }
        let resp = rb.send().await.unwrap_or_else(|e| {
            panic!(
                "{method} {path}: request failed: {e:?}\nserver stderr:\n{}",
                self.stderr()
            )
        });
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: reading body failed: {e:?}"))
            .to_vec();
        let json = parse_json(&body);
        Resp {
            status,
            headers,
            body,
            json,
        }
    }

    /// POST with a JSON body and the keys in the query string.
    pub async fn lsq_post(&self, path: &str, c: &Creds, body: Value) -> (StatusCode, Value) {
        let r = self
            .send(
                reqwest::Method::POST,
                &with_keys(path, c),
                &[],
                Some((serde_json::to_vec(&body).unwrap(), Some("application/json"))),
            )
            .await;
        (r.status, r.json)
    }

    /// GET with the keys in the query string.
    pub async fn lsq_get(&self, path: &str, c: &Creds) -> (StatusCode, Value) {
        let r = self
            .send(reqwest::Method::GET, &with_keys(path, c), &[], None)
            .await;
        (r.status, r.json)
    }

    /// POST with a JSON body and the keys in `x-LSQ-AccessKey` / `x-LSQ-SecretKey`.
    pub async fn lsq_post_hdr(&self, path: &str, c: &Creds, body: Value) -> (StatusCode, Value) {
        let r = self
            .send(
                reqwest::Method::POST,
                path,
                &[
                    ("x-LSQ-AccessKey", &c.access_key),
                    ("x-LSQ-SecretKey", &c.secret_key),
                ],
                Some((serde_json::to_vec(&body).unwrap(), Some("application/json"))),
            )
            .await;
        (r.status, r.json)
    }

    /// GET with the keys in headers.
    pub async fn lsq_get_hdr(&self, path: &str, c: &Creds) -> (StatusCode, Value) {
        let r = self
            .send(
                reqwest::Method::GET,
                path,
                &[
                    ("x-LSQ-AccessKey", &c.access_key),
                    ("x-LSQ-SecretKey", &c.secret_key),
                ],
                None,
            )
            .await;
        (r.status, r.json)
    }

    /// POST raw bytes (keys in the query string); `content_type` None sends no Content-Type.
    pub async fn lsq_post_raw(
        &self,
        path: &str,
        c: &Creds,
        body: &[u8],
        content_type: Option<&str>,
    ) -> Resp {
        self.send(
            reqwest::Method::POST,
            &with_keys(path, c),
            &[],
            Some((body.to_vec(), content_type)),
        )
        .await
    }

    /// Writes `request` verbatim on a fresh TCP connection (it should say `Connection: close`)
    /// and returns the status code and the body parsed as JSON. Lets a test control header-name
    /// case, which HTTP client libraries normalise.
    pub fn raw_http(&self, request: &str) -> (u16, Value) {
        let mut s = TcpStream::connect(&self.host_port).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).expect("write request");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("malformed HTTP response: {text:?}"));
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line: {head:?}"));
        let chunked = head.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked")
        });
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, parse_json(body.as_bytes()))
    }

    // -----------------------------------------------------------------------------------------
    // Builders
    // -----------------------------------------------------------------------------------------

    /// `Lead.Create` with the given attributes; returns the raw outcome.
    pub async fn lead_create(&self, c: &Creds, attrs: &[(&str, &str)]) -> (StatusCode, Value) {
        let body: Vec<Value> = attrs
            .iter()
            .map(|(a, v)| json!({"Attribute": a, "Value": v}))
            .collect();
        self.lsq_post("/v2/LeadManagement.svc/Lead.Create", c, Value::Array(body))
            .await
    }

    /// Creates a lead with the given attributes; returns its id.
    pub async fn create_lead_with(&self, c: &Creds, attrs: &[(&str, &str)]) -> String {
        let (s, b) = self.lead_create(c, attrs).await;
        assert_success("Lead.Create", s, &b);
        let id = b["Message"]["Id"]
            .as_str()
            .unwrap_or_else(|| panic!("Lead.Create: no Message.Id string: {b}"));
        assert!(is_guid(id), "lead id is not a GUID: {id}");
        id.to_string()
    }

    /// Creates a lead with a first/last name and this email; returns its id.
    pub async fn create_lead(&self, c: &Creds, email: &str) -> String {
        self.create_lead_with(
            c,
            &[
                ("FirstName", "Test"),
                ("LastName", "Lead"),
                ("EmailAddress", email),
            ],
        )
        .await
    }

    /// `CreateType`; returns the new event code (asserting it is a JSON number).
    pub async fn create_type_body(&self, c: &Creds, body: Value) -> i64 {
        let (s, b) = self
            .lsq_post("/v2/ProspectActivity.svc/CreateType", c, body.clone())
            .await;
        assert_success("CreateType", s, &b);
        b["Message"]["Id"]
            .as_i64()
            .unwrap_or_else(|| panic!("CreateType: Message.Id is not a number: {b} (body {body})"))
    }

    /// Creates an inbound custom type with this score and these field definitions.
    pub async fn create_type(&self, c: &Creds, name: &str, score: i64, fields: Value) -> i64 {
        self.create_type_body(
            c,
            json!({
                "ActivityEventName": name,
                "Score": score,
                "Description": format!("{name} (test type)"),
                "Direction": 0,
                "Fields": fields,
            }),
        )
        .await
    }

    /// `ProspectActivity.svc/Create`; asserts success, returns the activity id.
    pub async fn post_activity(&self, c: &Creds, body: Value) -> String {
        let (s, b) = self
            .lsq_post("/v2/ProspectActivity.svc/Create", c, body.clone())
            .await;
        assert_success(&format!("Create {body}"), s, &b);
        let id = b["Message"]["Id"]
            .as_str()
            .unwrap_or_else(|| panic!("Create: no Message.Id string: {b}"));
        assert!(is_guid(id), "activity id is not a GUID: {id}");
        id.to_string()
    }

    /// Posts a bare activity of `code` on `lead` at `when` (None: now).
    pub async fn post_simple(
        &self,
        c: &Creds,
        lead: &str,
        code: i64,
        when: Option<&str>,
    ) -> String {
        let mut body =
            json!({"RelatedProspectId": lead, "ActivityEvent": code, "ActivityNote": "n"});
        if let Some(w) = when {
            body["ActivityDateTime"] = json!(w);
        }
        self.post_activity(c, body).await
    }

    /// `Retrieve?leadId=`; asserts 200 and the `{RecordCount, ProspectActivities}` shape.
    pub async fn retrieve(&self, c: &Creds, lead: &str, body: Value) -> Value {
        let (s, b) = self
            .lsq_post(
                &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead}"),
                c,
                body.clone(),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "Retrieve {body}: {b}");
        assert!(
            b["RecordCount"].is_i64(),
            "Retrieve: RecordCount not an integer: {b}"
        );
        assert!(
            b["ProspectActivities"].is_array(),
            "Retrieve: ProspectActivities not an array: {b}"
        );
        b
    }

    pub async fn record_count(&self, c: &Creds, lead: &str) -> i64 {
        self.retrieve(c, lead, json!({})).await["RecordCount"]
            .as_i64()
            .unwrap()
    }

    /// Ids of the returned rows, in order.
    pub async fn activity_ids(&self, c: &Creds, lead: &str, body: Value) -> Vec<String> {
        row_ids(&self.retrieve(c, lead, body).await)
    }

    /// The one row with this id (looked up with a page of 1000).
    pub async fn activity_row(&self, c: &Creds, lead: &str, id: &str) -> Value {
        let b = self
            .retrieve(
                c,
                lead,
                json!({"Paging": {"PageIndex": 1, "PageSize": 1000}}),
            )
            .await;
        b["ProspectActivities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| same_id(r["Id"].as_str().unwrap_or(""), id))
            .cloned()
            .unwrap_or_else(|| panic!("activity {id} not in Retrieve: {b}"))
    }

    /// `Leads.GetById` → the lead object (panics unless exactly one).
    pub async fn get_lead(&self, c: &Creds, lead: &str) -> Value {
        let (s, b) = self
            .lsq_get(
                &format!("/v2/LeadManagement.svc/Leads.GetById?id={lead}"),
                c,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "Leads.GetById: {b}");
        let arr = b
            .as_array()
            .unwrap_or_else(|| panic!("Leads.GetById: not an array: {b}"));
        assert_eq!(arr.len(), 1, "Leads.GetById {lead}: expected one lead: {b}");
        arr[0].clone()
    }

    /// The lead's Score from `Leads.GetById` (string-valued per the decisions; numbers accepted).
    pub async fn lead_score(&self, c: &Creds, lead: &str) -> i64 {
        let l = self.get_lead(c, lead).await;
        num(&l["Score"]).unwrap_or_else(|| panic!("lead Score is not numeric: {l}"))
    }

    /// `ActivityTypes.Get` → array.
    pub async fn activity_types(&self, c: &Creds) -> Vec<Value> {
        let (s, b) = self
            .lsq_get("/v2/ProspectActivity.svc/ActivityTypes.Get", c)
            .await;
        assert_eq!(s, StatusCode::OK, "ActivityTypes.Get: {b}");
        b.as_array()
            .unwrap_or_else(|| panic!("ActivityTypes.Get: not an array: {b}"))
            .clone()
    }

    /// `GetActivitySetting?code=` (asserts 200).
    pub async fn activity_setting(&self, c: &Creds, code: i64) -> Value {
        let (s, b) = self
            .lsq_get(
                &format!("/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting?code={code}"),
                c,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "GetActivitySetting {code}: {b}");
        b
    }

    /// `Bulk/CustomActivity/Add/ByLeadId` raw outcome.
    pub async fn bulk_by_lead(&self, c: &Creds, rows: Value) -> (StatusCode, Value) {
        self.lsq_post(
            "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId",
            c,
            rows,
        )
        .await
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Field definitions and the documented request bodies
// ---------------------------------------------------------------------------------------------

/// A custom field definition for `CreateType`.
pub fn fdef(seq: usize, schema: &str, dtype: &str) -> Value {
    json!({
        "SchemaName": schema,
        "DisplayName": format!("Field {seq}"),
        "DataType": dtype,
        "IsMandatory": false,
        "Sequence": seq,
        "OptionSet": "",
    })
}

/// A mandatory field definition.
pub fn fdef_mandatory(seq: usize, schema: &str, dtype: &str) -> Value {
    let mut f = fdef(seq, schema, dtype);
    f["IsMandatory"] = json!(true);
    f
}

/// A field with options; `options` may be any accepted OptionSet form.
pub fn fdef_options(seq: usize, schema: &str, dtype: &str, options: Value) -> Value {
    let mut f = fdef(seq, schema, dtype);
    f["OptionSet"] = options;
    f
}

/// A type whose fields accept exactly the values of the documented Create request's body.
pub fn documented_create_type_fields() -> Value {
    json!([
        fdef(1, "mx_Custom_1", "Number"),
        fdef(2, "mx_Custom_2", "Number"),
        fdef(3, "mx_Custom_3", "Number"),
        fdef(4, "mx_Custom_4", "String"),
        fdef(5, "mx_Custom_5", "DateTime"),
        fdef(6, "mx_Custom_6", "String"),
        fdef(7, "mx_Custom_7", "String"),
        fdef(8, "mx_Custom_8", "Boolean"),
        fdef(9, "mx_Custom_9", "String"),
        fdef(10, "mx_Custom_10", "Date"),
        fdef_options(11, "mx_Custom_11", "Dropdown", json!(["Alpha", "Beta"])),
        fdef(12, "mx_Custom_12", "Number"),
        fdef(13, "mx_Custom_13", "String"),
        fdef(14, "mx_Custom_14", "String"),
        fdef(15, "mx_Custom_15", "String"),
    ])
}

/// The body of LeadSquared's documented Create request ("Post an Activity on a Lead"), verbatim
/// except RelatedProspectId (and the event code).
pub fn documented_create_body(lead: &str, code: i64) -> Value {
    json!({
        "RelatedProspectId": lead,
        "ActivityEvent": code,
        "ActivityNote": "Your Activity Note",
        "ActivityDateTime": "2015-10-11 12:13:44",
        "Fields": [
            {"SchemaName": "mx_Custom_1", "Value": "123123123"},
            {"SchemaName": "mx_Custom_2", "Value": "123"},
            {"SchemaName": "mx_Custom_3", "Value": "3"},
            {"SchemaName": "mx_Custom_4", "Value": "4"},
            {"SchemaName": "mx_Custom_5", "Value": "2016-07-07 10:55:00"},
            {"SchemaName": "mx_Custom_6", "Value": "Value for Custom field"},
            {"SchemaName": "mx_Custom_7", "Value": "Value for Custom field"},
            {"SchemaName": "mx_Custom_8", "Value": "1"},
            {"SchemaName": "mx_Custom_9", "Value": "Value for Custom field"},
            {"SchemaName": "mx_Custom_10", "Value": ""},
            {"SchemaName": "mx_Custom_11", "Value": ""},
            {"SchemaName": "mx_Custom_12", "Value": ""},
            {"SchemaName": "mx_Custom_13", "Value": "Value for Custom field"},
            {"SchemaName": "mx_Custom_14", "Value": "Value for Custom field"},
            {"SchemaName": "mx_Custom_15", "Value": "asd"}
        ]
    })
}

/// The non-empty field values of the documented Create request's body.
pub fn documented_create_values() -> Vec<(&'static str, &'static str)> {
    vec![
        ("mx_Custom_1", "123123123"),
        ("mx_Custom_2", "123"),
        ("mx_Custom_3", "3"),
        ("mx_Custom_4", "4"),
        ("mx_Custom_5", "2016-07-07 10:55:00"),
        ("mx_Custom_6", "Value for Custom field"),
        ("mx_Custom_7", "Value for Custom field"),
        ("mx_Custom_8", "1"),
        ("mx_Custom_9", "Value for Custom field"),
        ("mx_Custom_13", "Value for Custom field"),
        ("mx_Custom_14", "Value for Custom field"),
        ("mx_Custom_15", "asd"),
    ]
}

/// The body of LeadSquared's documented Retrieve request ("Get Activities of a Lead"), verbatim.
pub fn documented_retrieve_body() -> Value {
    json!({"Parameter": {"ActivityEvent": 201}, "Paging": {"Offset": "0", "RowCount": "10"}})
}
