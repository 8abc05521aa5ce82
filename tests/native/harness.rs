//! In-process harness for the native API: the shared one (tests/common/inproc.rs — the real
//! router on 127.0.0.1:0 over a SQLite file or a PostgreSQL database of the test's own) plus the
//! native suite's own helpers.

#![allow(dead_code)]

#[path = "../common/inproc.rs"]
mod inproc;
pub use inproc::*;

impl Resp {
    /// Asserts a native error: this status, this `error.code`, and a message containing `needle`.
    #[track_caller]
    pub fn assert_error(&self, status: StatusCode, code: &str, needle: &str) {
        assert_eq!(self.status, status, "{}", self.json);
        assert_eq!(self.json["error"]["code"], json!(code), "{}", self.json);
        let msg = self.json["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("error.message is not a string: {}", self.json));
        assert!(
            msg.contains(needle),
            "error message should mention '{needle}': {msg}"
        );
        assert_eq!(
            self.json.as_object().map(|o| o.len()),
            Some(1),
            "only 'error' at the top: {}",
            self.json
        );
    }
}

impl App {
    /// The router on a store of its own, without rate limiting.
    pub async fn start() -> App {
        App::launch("native (every test on PostgreSQL)", "native", false).await
    }

    pub async fn patch(&self, who: &Who, path: &str, body: Value) -> Resp {
        self.call(who, "PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, who: &Who, path: &str) -> Resp {
        self.call(who, "DELETE", path, None).await
    }

    // ----- native helpers (assert success) -------------------------------------------------

    /// `data` of a successful call with the expected status.
    #[track_caller]
    pub fn data(r: Resp, status: StatusCode) -> Value {
        assert_eq!(r.status, status, "{}", r.json);
        r.json["data"].clone()
    }

    /// One activity through the native API; returns it as stored.
    pub async fn activity(&self, who: &Who, row: Value) -> Value {
        self.activities(who, vec![row]).await.remove(0)
    }

    /// The Salesloft history record of one activity (`{type}-{id}`), or `None` on 404.
    pub async fn history(&self, who: &Who, sl_id: &str) -> Option<Value> {
        let r = self
            .get(who, &format!("/v2/activity_histories/{sl_id}"))
            .await;
        match r.status {
            StatusCode::OK => Some(r.json["data"].clone()),
            StatusCode::NOT_FOUND => None,
            s => panic!("activity_histories/{sl_id}: {s} {}", r.json),
        }
    }

    /// Every activity history the user can see, walking pages of 100.
    pub async fn all_histories(&self, who: &Who) -> Vec<Value> {
        let mut out = Vec::new();
        for page in 1.. {
            let body = self
                .histories(who, &format!("per_page=100&page={page}"))
                .await;
            out.extend(body["data"].as_array().expect("data").iter().cloned());
            if body["metadata"]["paging"]["next_page"].is_null() {
                break;
            }
        }
        out
    }

    /// The sorted `{type}-{id}` ids of every activity history the user can see.
    pub async fn history_ids(&self, who: &Who) -> Vec<String> {
        let mut v: Vec<String> = self
            .all_histories(who)
            .await
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_string())
            .collect();
        v.sort();
        v
    }
}

/// The string at `v[key]`, panicking with the value when it is not one.
#[track_caller]
pub fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("'{key}' is not a string in {v}"))
        .to_string()
}

/// A GUID no record has.
pub const UNKNOWN: &str = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

/// The LSQ activities of a lead (Retrieve), as their GUIDs.
pub async fn lsq_ids(app: &App, who: &Who, lead_guid: &str) -> Vec<String> {
    let r = app
        .lsq(
            who,
            &format!("/v2/ProspectActivity.svc/Retrieve?leadId={lead_guid}"),
            Some(json!({"Parameter": {}, "Paging": {"Offset": "0", "RowCount": "100"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["ProspectActivities"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.json))
        .iter()
        .map(|a| s(a, "Id"))
        .collect()
}

/// How many records a native list answer holds in `data`.
pub fn data_len(r: &Resp) -> usize {
    r.json["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data array: {}", r.json))
        .len()
}
