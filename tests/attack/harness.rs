//! The attack suite's world: two tenants with data of the same shapes (B's text full of a marker
//! that must never reach A), a Sales_User in A with leads it does not own, snapshots of what each
//! tenant holds, and the comparisons the checks use. Runs on the shared in-process harness
//! (tests/common/inproc.rs: the real router on 127.0.0.1:0 over a real store).

#![allow(dead_code)]

#[path = "../common/inproc.rs"]
mod inproc;
pub use inproc::*;

use activity_hub::domain::Role;

/// In every text of tenant B (names, notes, fields, tags, emails, type names); never in an answer
/// to tenant A (compared lowercase).
pub const MARKER: &str = "zqxb";

/// B's custom type codes that A does not have; each "create with this code" check takes its own.
pub const B_ONLY_CODES: [i64; 4] = [300, 301, 302, 303];
/// The code both tenants use for a custom type of their own.
pub const SHARED_CODE: i64 = 201;
/// B's opportunity type code that A does not have.
pub const B_OPP_CODE: i64 = 12001;

impl App {
    /// The router on a store of its own, without rate limits (the checks send thousands of calls).
    pub async fn start() -> App {
        App::launch("attack (every test on PostgreSQL)", "attack", false).await
    }
}

/// One caller's view of its own records (what a control request names) — or, for tenant B, the
/// records A's callers must never reach.
#[derive(Clone, Debug, Default)]
pub struct Ids {
    pub lead_guid: String,
    pub lead_int: String,
    pub lead_email: String,
    pub activity_guid: String,
    pub activity_int: String,
    pub sl_id: String,
    pub opp_guid: String,
    pub account_guid: String,
    pub account_int: String,
    pub account_name: String,
    pub user_guid: String,
    pub user_int: String,
    pub user_email: String,
    /// A webhook subscription made by the tenant's Administrator.
    pub webhook_guid: String,
    /// The integer id of a Salesloft webhook subscription made by the Administrator.
    pub sl_webhook_id: String,
}

pub struct World {
    pub app: App,
    pub a_admin: Who,
    pub a_seller: Who,
    pub b_admin: Who,
    /// A's Administrator's own records.
    pub a: Ids,
    /// The Sales_User's own records (account: A's, which it may not log activities on).
    pub seller: Ids,
    /// B's records.
    pub b: Ids,
    /// B's other leads' emails and phones (each `create with this value` check takes its own).
    pub b_lead_emails: Vec<String>,
    pub b_lead_phones: Vec<String>,
    /// Every GUID of tenant B (users, leads, accounts, types, activities, opportunities).
    pub b_guids: Vec<String>,
    /// B's user emails and GUIDs.
    pub b_user_emails: Vec<String>,
    pub b_user_guids: Vec<String>,
    /// B's users' integer ids (Salesloft's `/v2/users`).
    pub b_user_ints: Vec<String>,
}

#[track_caller]
fn created(r: Resp) -> Value {
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json["data"].clone()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl World {
    /// Builds both tenants through the native API (and the service for users).
    pub async fn build() -> World {
        let app = App::start().await;
        let a_admin = app.tenant("Alpha").await;
        let a_seller = app
            .user(&a_admin, "seller@alpha.example", Role::SalesUser)
            .await;
        let b_admin = app.tenant("Zqxbcorp").await;
        let (b_seller_user, _) = app
            .service
            .create_user(
                &b_admin.user.tenant_guid.to_string(),
                "zqxb-seller@zqxbcorp.example",
                "Zqxbfirst",
                "Zqxblast",
                Role::SalesUser,
            )
            .await
            .expect("B's seller");

        // Types: the same code in both tenants, B-only codes, a B-only opportunity type.
        for (who, name, code, field) in [
            (&a_admin, "Alpha Same", SHARED_CODE, "mx_Custom_1"),
            (&a_admin, "Alpha Only", 250, "mx_Custom_1"),
            (&b_admin, "Zqxb Same", SHARED_CODE, "mx_Custom_1"),
        ] {
            created(
                app.post(
                    who,
                    "/api/v1/activity_types",
                    json!({"name": name, "event_code": code,
                           "fields": [{"schema_name": field, "data_type": "String"}]}),
                )
                .await,
            );
        }
        for code in B_ONLY_CODES {
            created(
                app.post(
                    &b_admin,
                    "/api/v1/activity_types",
                    json!({"name": format!("Zqxb Only {code}"), "event_code": code,
                           "display_name": "Zqxb display", "description": "zqxb description",
                           "fields": [{"schema_name": "mx_Custom_2", "display_name": "Zqxb field", "data_type": "String"}]}),
                )
                .await,
            );
        }
        created(
            app.post(
                &b_admin,
                "/api/v1/activity_types",
                json!({"name": "Zqxb Opp", "kind": "opportunity", "event_code": B_OPP_CODE}),
            )
            .await,
        );

        let a = Self::records(&app, &a_admin, &a_admin, "alpha-admin", "Alpha").await;
        let seller = Self::records(&app, &a_admin, &a_seller, "alpha-seller", "Sella").await;
        let b = Self::records(&app, &b_admin, &b_admin, "zqxb-admin", "Zqxb").await;
        let mut b_lead_emails = Vec::new();
        let mut b_lead_phones = Vec::new();
        for (i, code) in B_ONLY_CODES.into_iter().enumerate() {
            let l = created(
                app.post(
                    &b_admin,
                    "/api/v1/leads",
                    json!({"first_name": format!("Zqxb{i}"), "email": format!("zqxb-lead{i}@zqxbcorp.example"),
                           "phone": format!("+1 555 0{i}00 999"), "owner_guid": b_seller_user.guid}),
                )
                .await,
            );
            b_lead_emails.push(text(&l["email"]));
            b_lead_phones.push(text(&l["phone"]));
            // An activity of each B-only type, pinned and tagged.
            app.activities(
                &b_admin,
                vec![
                    json!({"event_code": code, "resource": {"type": "person", "id": l["guid"]},
                            "note": "zqxb only note", "fields": {"mx_Custom_2": "zqxb value"},
                            "tags": ["zqxbtag"], "pinned": true}),
                ],
            )
            .await;
        }
        // B's opportunity of its own type.
        created(
            app.post(
                &b_admin,
                "/api/v1/opportunities",
                json!({"lead_guid": b.lead_guid, "event_code": B_OPP_CODE, "note": "zqxb opp2"}),
            )
            .await,
        );

        let mut b_guids = Vec::new();
        let export = app.get(&b_admin, "/api/v1/export").await;
        let lines = match &export.json {
            Value::String(s) => s.trim_start_matches("<non-JSON> ").to_string(),
            other => format!("{other}\n"),
        };
        for line in lines.lines().filter(|l| !l.trim().is_empty()) {
            let v: Value = serde_json::from_str(line).expect("export line");
            for k in ["guid", "lead_guid", "opportunity_guid"] {
                if let Some(g) = v[k].as_str() {
                    b_guids.push(g.to_string());
                }
            }
        }
        for (path, keys) in [
            ("/api/v1/users", &["guid"][..]),
            ("/api/v1/leads?limit=1000", &["guid"][..]),
            ("/api/v1/accounts?limit=1000", &["guid"][..]),
            ("/api/v1/activity_types", &["id"][..]),
            ("/api/v1/webhooks", &["id"][..]),
        ] {
            let r = app.get(&b_admin, path).await;
            for row in r.json["data"].as_array().expect("data") {
                for k in keys {
                    b_guids.push(text(&row[*k]));
                }
            }
        }
        b_guids.push(b_admin.user.tenant_guid.to_string());
        b_guids.sort();
        b_guids.dedup();
        let b_user_emails = vec![b.user_email.clone(), b_seller_user.email.clone()];
        let b_user_guids = vec![b.user_guid.clone(), b_seller_user.guid.to_string()];
        let b_user_ints = vec![b.user_int.clone(), b_seller_user.id.to_string()];
        World {
            app,
            a_admin,
            a_seller,
            b_admin,
            a,
            seller,
            b,
            b_lead_emails,
            b_lead_phones,
            b_guids,
            b_user_emails,
            b_user_guids,
            b_user_ints,
        }
    }

    /// A lead owned by `owner`, an account, an opportunity and activities (on the lead, the account
    /// and the opportunity), created by `admin`; `tag` goes into every text.
    async fn records(app: &App, admin: &Who, owner: &Who, tag: &str, name: &str) -> Ids {
        let lead = created(
            app.post(
                admin,
                "/api/v1/leads",
                json!({"first_name": name, "last_name": format!("{name}last"),
                       "email": format!("{tag}@lead.example"), "mobile": format!("+1 555 {}", tag.len() * 1111),
                       "owner_guid": owner.guid(), "attributes": {"mx_Note": format!("{tag} attribute")}}),
            )
            .await,
        );
        let lead_guid = text(&lead["guid"]);
        let account = created(
            app.post(
                admin,
                "/api/v1/accounts",
                json!({"name": format!("{name} Account"), "domain": format!("{tag}.example")}),
            )
            .await,
        );
        let opp = created(
            app.post(
                admin,
                "/api/v1/opportunities",
                json!({"lead_guid": lead_guid, "note": format!("{tag} opportunity")}),
            )
            .await,
        );
        let opp_guid = text(&opp["guid"]);
        let rows = app
            .activities(
                admin,
                vec![
                    json!({"event_code": SHARED_CODE, "resource": {"type": "person", "id": lead_guid},
                           "note": format!("{tag} note"), "fields": {"mx_Custom_1": format!("{tag} field")},
                           "tags": [format!("{tag}-tag")], "pinned": true, "owner_guid": owner.guid(),
                           "static_data": {"mood": format!("{tag} static")}}),
                    json!({"type": "call", "resource": {"type": "account", "id": account["guid"]},
                           "note": format!("{tag} account call")}),
                    json!({"event_code": SHARED_CODE, "resource": {"type": "crm_opportunity", "id": opp_guid},
                           "note": format!("{tag} opportunity note")}),
                ],
            )
            .await;
        let first = &rows[0];
        let webhook = created(
            app.post(
                admin,
                "/api/v1/webhooks",
                json!({"url": format!("http://127.0.0.1:9/{tag}-hook"), "events": ["activity.created"],
                       "event_codes": [SHARED_CODE]}),
            )
            .await,
        );
        let sl_webhook = app
            .post(
                admin,
                "/v2/webhook_subscriptions",
                json!({"callback_url": format!("http://127.0.0.1:9/{tag}-sl-hook"),
                       "callback_token": format!("{tag}-token"), "event_type": "note_created"}),
            )
            .await;
        assert_eq!(sl_webhook.status, StatusCode::OK, "{}", sl_webhook.json);
        Ids {
            webhook_guid: text(&webhook["id"]),
            sl_webhook_id: text(&sl_webhook.json["data"]["id"]),
            lead_guid,
            lead_int: text(&lead["id"]),
            lead_email: text(&lead["email"]),
            activity_guid: text(&first["guid"]),
            activity_int: text(&first["id"]),
            sl_id: text(&first["salesloft_id"]),
            opp_guid,
            account_guid: text(&account["guid"]),
            account_int: text(&account["id"]),
            account_name: text(&account["name"]),
            user_guid: owner.guid(),
            user_int: owner.user.id.to_string(),
            user_email: owner.user.email.clone(),
        }
    }

    /// Everything a tenant holds, as its Administrator reads it: every record (export), leads,
    /// accounts, users, activity types and opportunities.
    pub async fn snapshot(&self, admin: &Who) -> Vec<String> {
        let mut out = Vec::new();
        for path in [
            "/api/v1/export",
            "/api/v1/leads?limit=1000",
            "/api/v1/accounts?limit=1000",
            "/api/v1/users",
            "/api/v1/activity_types",
            "/api/v1/opportunities?limit=1000",
            "/api/v1/webhooks",
            "/v2/webhook_subscriptions",
        ] {
            let r = self.app.get(admin, path).await;
            assert_eq!(r.status, StatusCode::OK, "snapshot {path}: {}", r.json);
            out.push(format!("{path}: {}", r.json));
        }
        out
    }

    /// Both tenants' snapshots.
    pub async fn snapshots(&self) -> (Vec<String>, Vec<String>) {
        (
            self.snapshot(&self.a_admin).await,
            self.snapshot(&self.b_admin).await,
        )
    }

    /// Panics when `text` (an answer to one of A's callers, less the `sent` id it may echo) holds
    /// B's marker or any of B's GUIDs.
    #[track_caller]
    pub fn assert_no_b_data(&self, what: &str, text: &str, sent: &str) {
        let cleaned = if sent.is_empty() {
            text.to_lowercase()
        } else {
            text.replace(sent, "{ID}").to_lowercase()
        };
        assert!(
            !cleaned.contains(MARKER),
            "{what}: the answer holds tenant B's data ({MARKER}): {text}"
        );
        for g in self.b_guids.iter().filter(|g| g.as_str() != sent) {
            assert!(
                !cleaned.contains(&g.to_lowercase()),
                "{what}: the answer holds tenant B's GUID {g}: {text}"
            );
        }
    }
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Who sends a request, and how it authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// LeadSquared: access and secret key in the query string.
    Lsq,
    /// Salesloft and native: `Authorization: Bearer`.
    Bearer,
}

/// One request of a check.
#[derive(Clone, Debug)]
pub struct Req {
    pub dialect: Dialect,
    pub method: &'static str,
    /// Path and query (without the LSQ keys).
    pub path: String,
    pub body: Option<Value>,
}

impl Req {
    pub fn lsq(method: &'static str, path: String, body: Option<Value>) -> Req {
        Req {
            dialect: Dialect::Lsq,
            method,
            path,
            body,
        }
    }
    pub fn bearer(method: &'static str, path: String, body: Option<Value>) -> Req {
        Req {
            dialect: Dialect::Bearer,
            method,
            path,
            body,
        }
    }
}

/// An answer as text too (the marker scan reads every byte of it).
pub struct Answer {
    pub status: StatusCode,
    pub json: Value,
    pub text: String,
}

impl App {
    /// Sends `req` as `who`.
    pub async fn send_as(&self, who: &Who, req: &Req) -> Answer {
        let r = match req.dialect {
            Dialect::Lsq => {
                let sep = if req.path.contains('?') { '&' } else { '?' };
                let path = format!(
                    "{}{sep}accessKey={}&secretKey={}",
                    req.path,
                    enc(&who.keys.access_key),
                    enc(&who.keys.secret_key)
                );
                self.raw(
                    req.method,
                    &path,
                    None,
                    req.body.as_ref().map(|b| b.to_string().into_bytes()),
                )
                .await
            }
            Dialect::Bearer => {
                self.call(who, req.method, &req.path, req.body.clone())
                    .await
            }
        };
        let text = match &r.json {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Answer {
            status: r.status,
            json: r.json,
            text,
        }
    }
}

/// `v` with every occurrence of `id` (a whole number's digits only where they stand alone) read as
/// `{ID}`: an answer about one unknown id compares equal to the same answer about another.
pub fn without_id(v: &Value, id: &str) -> Value {
    match v {
        Value::String(s) => Value::String(replace_id(s, id)),
        Value::Number(n) if n.to_string() == id => Value::String("{ID}".into()),
        Value::Array(a) => Value::Array(a.iter().map(|x| without_id(x, id)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (replace_id(k, id), without_id(x, id)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn replace_id(s: &str, id: &str) -> String {
    if id.is_empty() {
        return s.to_string();
    }
    if !id.bytes().all(|b| b.is_ascii_digit()) {
        return s.replace(id, "{ID}");
    }
    // Digits: only where no other digit touches them.
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(id) {
        let before = rest[..i].chars().last();
        let after = rest[i + id.len()..].chars().next();
        let alone = !before.is_some_and(|c| c.is_ascii_digit())
            && !after.is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..i]);
        out.push_str(if alone { "{ID}" } else { id });
        rest = &rest[i + id.len()..];
    }
    out.push_str(rest);
    out
}

/// The shape of a JSON value: keys kept, every leaf replaced by its type (answers that create a
/// new record differ in its ids and times only).
pub fn skeleton(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(a) => Value::Array(a.iter().map(skeleton).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), skeleton(x))).collect())
        }
    }
}
