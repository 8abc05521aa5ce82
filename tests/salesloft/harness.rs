//! In-process harness of the Salesloft suite: the shared one (tests/common/inproc.rs — the real
//! router on 127.0.0.1:0 over a SQLite file or a PostgreSQL database of the test's own) plus this
//! suite's helpers. The service handle lets a test seed large data sets directly.

#![allow(dead_code)]

#[path = "../common/inproc.rs"]
mod inproc;
pub use inproc::*;

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl App {
    /// The router on a store of its own, with or without the rate limiter.
    pub async fn start(rate_limit: bool) -> App {
        App::launch(
            "salesloft (every test on PostgreSQL)",
            "salesloft",
            rate_limit,
        )
        .await
    }

    /// A GET with this `Authorization` header (or none).
    pub async fn get_raw(&self, path: &str, auth: Option<&str>) -> Resp {
        self.raw("GET", path, auth, None).await
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
