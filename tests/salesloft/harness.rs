//! In-process harness: the real router on 127.0.0.1:0 over a real SQLite file in a temp dir (or,
//! with `ACTIVITY_HUB_TEST_BACKEND=postgres`, a PostgreSQL database of the test's own), driven over
//! HTTP with reqwest. The service handle lets a test seed large data sets directly.

#![allow(dead_code)]

use std::sync::Arc;

pub use reqwest::StatusCode;
pub use serde_json::{json, Value};

use activity_hub::app::{self, AppState};
use activity_hub::auth::IssuedKeys;
use activity_hub::domain::{Role, User};
use activity_hub::service::Service;
use activity_hub::store;

#[path = "../common/pg.rs"]
mod pg;

/// The variable choosing the backend every test of this suite runs on: `sqlite` (default) or
/// `postgres` (a fresh database per test on the server `ACTIVITY_HUB_TEST_PG` names).
pub const BACKEND_ENV: &str = "ACTIVITY_HUB_TEST_BACKEND";

/// Whether this run puts every test on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(BACKEND_ENV).is_ok_and(|b| b.eq_ignore_ascii_case("postgres"))
}

pub struct App {
    pub base: String,
    pub client: reqwest::Client,
    pub service: Arc<Service>,
    /// The store's URL (`sqlite://…/hub.db` or the test's own PostgreSQL database).
    pub db_url: String,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
    // Last: the database is dropped after the server that uses it.
    _pg: Option<pg::PgDb>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A user of a tenant and its keys.
#[derive(Clone, Debug)]
pub struct Who {
    pub user: User,
    pub keys: IssuedKeys,
}

impl Who {
    pub fn bearer(&self) -> &str {
        &self.keys.api_key
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl App {
    pub async fn start(rate_limit: bool) -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_db) = if on_postgres() {
            let admin =
                pg::admin_url("salesloft (every test on PostgreSQL)").unwrap_or_else(|| {
                    panic!(
                        "{BACKEND_ENV}=postgres needs {} (a PostgreSQL URL)",
                        pg::ENV
                    )
                });
            let db = pg::PgDb::create(&admin, "salesloft");
            (db.url.clone(), Some(db))
        } else {
            (format!("sqlite://{}/hub.db", dir.path().display()), None)
        };
        let store = store::open(&url).await.expect("open store");
        let service = Arc::new(Service::new(store));
        let state = AppState::new(service.clone(), rate_limit);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = app::router(state);
        let server = tokio::spawn(async move {
            let _ = app::serve(listener, router).await;
        });
        App {
            base: format!("http://{addr}"),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            service,
            db_url: url,
            server,
            _dir: dir,
            _pg: pg_db,
        }
    }

    /// A new tenant; returns its Administrator.
    pub async fn tenant(&self, name: &str) -> Who {
        let email = format!("admin@{}.example", name.to_lowercase());
        let (_, user, keys) = self
            .service
            .create_tenant(name, &email)
            .await
            .expect("create tenant");
        Who { user, keys }
    }

    pub async fn user(&self, admin: &Who, email: &str, role: Role) -> Who {
        let (user, keys) = self
            .service
            .create_user(
                &admin.user.tenant_guid.to_string(),
                email,
                "Sam",
                "Seller",
                role,
            )
            .await
            .expect("create user");
        Who { user, keys }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                Value::String(format!("<non-JSON> {}", String::from_utf8_lossy(&bytes)))
            })
        };
        Resp {
            status,
            headers,
            json,
        }
    }

    pub async fn get(&self, who: &Who, path: &str) -> Resp {
        self.send(
            self.client
                .get(format!("{}{path}", self.base))
                .bearer_auth(who.bearer()),
        )
        .await
    }

    pub async fn get_raw(&self, path: &str, auth: Option<&str>) -> Resp {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        self.send(req).await
    }

    pub async fn call(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.base);
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(m, url).bearer_auth(who.bearer());
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        self.send(req).await
    }

    pub async fn post(&self, who: &Who, path: &str, body: Value) -> Resp {
        self.call(who, "POST", path, Some(body)).await
    }

    /// A LeadSquared call with the user's access/secret keys.
    pub async fn lsq(&self, who: &Who, path: &str, body: Option<Value>) -> Resp {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = format!(
            "{}{path}{sep}accessKey={}&secretKey={}",
            self.base,
            who.keys.access_key.replace('$', "%24"),
            who.keys.secret_key
        );
        let req = match body {
            Some(b) => self
                .client
                .post(url)
                .header("content-type", "application/json")
                .body(b.to_string()),
            None => self.client.get(url),
        };
        self.send(req).await
    }

    // ----- native helpers (assert success) -------------------------------------------------

    pub async fn lead(&self, who: &Who, first: &str, email: &str) -> Value {
        let r = self
            .post(
                who,
                "/api/v1/leads",
                json!({"first_name": first, "last_name": "Tester", "email": email}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        r.json["data"].clone()
    }

    pub async fn account(&self, who: &Who, name: &str) -> Value {
        let r = self
            .post(who, "/api/v1/accounts", json!({"name": name}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        r.json["data"].clone()
    }

    pub async fn opportunity(&self, who: &Who, lead_guid: &str, note: &str) -> Value {
        let r = self
            .post(
                who,
                "/api/v1/opportunities",
                json!({"lead_guid": lead_guid, "note": note}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        r.json["data"].clone()
    }

    /// Creates activities through the native batch endpoint; returns them as stored.
    pub async fn activities(&self, who: &Who, rows: Vec<Value>) -> Vec<Value> {
        let r = self
            .post(who, "/api/v1/activities", json!({ "activities": rows }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        r.json["data"].as_array().expect("data array").clone()
    }

    /// `GET /v2/activity_histories?{query}` asserting 200; returns the whole body.
    pub async fn histories(&self, who: &Who, query: &str) -> Value {
        let r = self
            .get(who, &format!("/v2/activity_histories?{query}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.json);
        r.json
    }

    /// The ids (`type-n`) of one page.
    pub async fn ids(&self, who: &Who, query: &str) -> Vec<String> {
        let body = self.histories(who, query).await;
        ids_of(&body)
    }
}

pub fn ids_of(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|a| a["id"].as_str().expect("id string").to_string())
        .collect()
}

/// `{"activities":[…]}` row helper: a person activity of a Salesloft type.
pub fn on_person(lead_guid: &str, sl_type: &str, occurred_at: &str) -> Value {
    json!({"type": sl_type, "resource": {"type": "person", "id": lead_guid}, "occurred_at": occurred_at})
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
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

impl App {
    /// Inserts `n` activities of Salesloft type `sl_type` on lead `lead_id` straight through the
    /// store (in transactions of up to 1,000), for data sets too large to post; `occurred(i)`
    /// gives the i-th one's time. Returns their integer ids.
    pub async fn seed(
        &self,
        who: &Who,
        lead_id: i64,
        sl_type: &str,
        n: usize,
        occurred: impl Fn(usize) -> i64,
    ) -> Vec<i64> {
        use activity_hub::domain::NewActivity;
        let store = self.service.store();
        let tenant = who.user.tenant_id;
        let ty = store
            .list_activity_types(tenant)
            .await
            .expect("types")
            .into_iter()
            .find(|t| t.salesloft_type == sl_type && t.event_code < 200)
            .expect("system type");
        let mut ids = Vec::with_capacity(n);
        let mut i = 0;
        while i < n {
            let batch: Vec<NewActivity> = (i..n.min(i + 1000))
                .map(|k| NewActivity {
                    guid: uuid::Uuid::new_v4(),
                    type_id: ty.id,
                    lead_id: Some(lead_id),
                    account_id: None,
                    opportunity_id: None,
                    owner_id: who.user.id,
                    created_by: who.user.id,
                    note: format!("seeded {k}"),
                    occurred_at: occurred(k),
                    score: 0,
                    status: "Active".into(),
                    fields: Default::default(),
                    pinned: false,
                    tags: Vec::new(),
                    static_data: Default::default(),
                })
                .collect();
            i += batch.len();
            ids.extend(store.insert_activities(tenant, batch).await.expect("seed"));
        }
        ids
    }
}

/// A cloneable handle for writers running in their own tasks next to a reading test.
#[derive(Clone)]
pub struct Writer {
    pub base: String,
    pub client: reqwest::Client,
    pub who: Who,
}

impl Writer {
    pub fn of(app: &App, who: &Who) -> Writer {
        Writer {
            base: app.base.clone(),
            client: app.client.clone(),
            who: who.clone(),
        }
    }

    /// Sends a JSON request with the Bearer key; returns (status, body).
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(m, format!("{}{path}", self.base))
            .bearer_auth(self.who.bearer());
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let r = req.send().await.expect("request");
        let status = r.status();
        let json = r.json::<Value>().await.unwrap_or(Value::Null);
        (status, json)
    }

    /// A LeadSquared POST with the user's access/secret keys.
    pub async fn lsq_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let url = format!(
            "{}{path}?accessKey={}&secretKey={}",
            self.base,
            self.who.keys.access_key.replace('$', "%24"),
            self.who.keys.secret_key
        );
        let r = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = r.status();
        let json = r.json::<Value>().await.unwrap_or(Value::Null);
        (status, json)
    }
}
