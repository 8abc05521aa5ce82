//! Shared in-process harness of the native and Salesloft suites: the real router on 127.0.0.1:0
//! over a real store — a SQLite file in a temp dir, or (`ACTIVITY_HUB_TEST_BACKEND=postgres`) a
//! PostgreSQL database of the test's own — driven over HTTP with reqwest. Each suite's harness.rs
//! re-exports this and adds its own helpers.

#![allow(dead_code)]

use std::sync::Arc;

pub use reqwest::StatusCode;
pub use serde_json::{json, Value};

use activity_hub::app::{self, AppState};
use activity_hub::auth::IssuedKeys;
use activity_hub::domain::{Role, User};
use activity_hub::service::Service;
use activity_hub::store;

#[path = "pg.rs"]
pub mod pg;

/// The variable choosing the backend every test of a suite runs on: `sqlite` (default) or
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
    // Dropped last: the server task is aborted first (see Drop), then the database goes.
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
    pub fn guid(&self) -> String {
        self.user.guid.to_string()
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl App {
    /// Starts the router on its own store. `pg_label` is the line printed when the suite runs on
    /// PostgreSQL (CI greps for it), `db_prefix` prefixes the test database's name.
    pub async fn launch(pg_label: &str, db_prefix: &str, rate_limit: bool) -> App {
        App::launch_configured(pg_label, db_prefix, rate_limit, |s| s).await
    }

    /// `launch`, with the state changed by `configure` (e.g. a short idempotency TTL).
    pub async fn launch_configured(
        pg_label: &str,
        db_prefix: &str,
        rate_limit: bool,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_db) = if on_postgres() {
            let admin = pg::admin_url(pg_label).unwrap_or_else(|| {
                panic!(
                    "{BACKEND_ENV}=postgres needs {} (a PostgreSQL URL)",
                    pg::ENV
                )
            });
            let db = pg::PgDb::create(&admin, db_prefix);
            (db.url.clone(), Some(db))
        } else {
            (format!("sqlite://{}/hub.db", dir.path().display()), None)
        };
        let opened = store::open_with_budgets(&url).await.expect("open store");
        let service = Arc::new(Service::new(opened.store));
        let budgets = app::RateBackend::kept_by(opened.budgets);
        let state = configure(AppState::new(service.clone(), rate_limit, budgets));
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

    /// A user of `admin`'s tenant, created through the service (not the API under test).
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

    /// Sends `req`; the body is kept as JSON (`Null` when empty, a `<non-JSON> …` string otherwise).
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
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

    /// A request with an arbitrary method, `Authorization` header (or none) and raw body.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(m, format!("{}{path}", self.base));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        self.send(req).await
    }

    /// A JSON request with the user's Bearer key.
    pub async fn call(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Resp {
        let auth = format!("Bearer {}", who.bearer());
        self.raw(
            method,
            path,
            Some(&auth),
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    pub async fn get(&self, who: &Who, path: &str) -> Resp {
        self.call(who, "GET", path, None).await
    }

    pub async fn post(&self, who: &Who, path: &str, body: Value) -> Resp {
        self.call(who, "POST", path, Some(body)).await
    }

    /// A LeadSquared call with the user's access/secret keys (POST with a body, else GET).
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
}

/// `{"type": …, "resource": {"type": "person", "id": lead_guid}, "occurred_at": …}`: a person
/// activity of a Salesloft type, a row for the native batch endpoint.
pub fn on_person(lead_guid: &str, sl_type: &str, occurred_at: &str) -> Value {
    json!({"type": sl_type, "resource": {"type": "person", "id": lead_guid}, "occurred_at": occurred_at})
}
