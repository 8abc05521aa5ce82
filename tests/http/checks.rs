//! Assertions and small helpers of the LeadSquared suite: success and error envelopes, row and
//! setting lookups, id and date shapes, and LeadSquared's date-time format. Re-exported by
//! harness.rs.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn assert_success(ctx: &str, status: StatusCode, body: &Value) {
    assert_eq!(
        status,
        StatusCode::OK,
        "{ctx}: expected 200, got {status}: {body}"
    );
    assert_eq!(
        body["Status"], "Success",
        "{ctx}: expected Status Success: {body}"
    );
}

/// Asserts an error envelope with this status and ExceptionType whose ExceptionMessage mentions
/// every string of `mentions` (case-insensitively).
pub fn assert_envelope(
    ctx: &str,
    status: StatusCode,
    body: &Value,
    want_status: u16,
    want_type: &str,
    mentions: &[&str],
) {
    assert_eq!(
        status.as_u16(),
        want_status,
        "{ctx}: expected {want_status} {want_type}, got {status}: {body}"
    );
    assert_eq!(
        body["Status"], "Error",
        "{ctx}: Status must be Error: {body}"
    );
    assert_eq!(
        body["ExceptionType"], want_type,
        "{ctx}: wrong ExceptionType: {body}"
    );
    let msg = body["ExceptionMessage"]
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: ExceptionMessage is not a string: {body}"));
    let lower = msg.to_lowercase();
    for m in mentions {
        assert!(
            lower.contains(&m.to_lowercase()),
            "{ctx}: ExceptionMessage should mention {m:?}: {body}"
        );
    }
}

/// Asserts an error status (4xx/5xx) carrying a well-formed envelope; returns the ExceptionType.
pub fn assert_any_envelope(ctx: &str, status: StatusCode, body: &Value) -> String {
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{ctx}: expected an error status, got {status}: {body}"
    );
    assert_eq!(
        body["Status"], "Error",
        "{ctx}: Status must be Error: {body}"
    );
    let t = body["ExceptionType"]
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: ExceptionType is not a string: {body}"));
    assert!(
        t.starts_with("MX"),
        "{ctx}: ExceptionType should be an MX… name: {body}"
    );
    let m = body["ExceptionMessage"]
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: ExceptionMessage is not a string: {body}"));
    assert!(
        !m.trim().is_empty(),
        "{ctx}: empty ExceptionMessage: {body}"
    );
    t.to_string()
}

/// The value of `key` in a row's `Data` list of `{Key, Value}`.
pub fn data_value(row: &Value, key: &str) -> Option<String> {
    row["Data"].as_array()?.iter().find_map(|kv| {
        if kv["Key"] == key {
            Some(
                kv["Value"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| kv["Value"].to_string()),
            )
        } else {
            None
        }
    })
}

/// `Fields` entry with this SchemaName in a GetActivitySetting / GetActivityDetails answer.
pub fn setting_field(setting: &Value, schema: &str) -> Value {
    setting["Fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no Fields array: {setting}"))
        .iter()
        .find(|f| f["SchemaName"] == schema)
        .cloned()
        .unwrap_or_else(|| panic!("no field {schema} in {setting}"))
}

/// Parses an OptionSet (a JSON array serialised into a string) into its option values.
pub fn option_values(option_set: &Value) -> Vec<String> {
    let s = option_set
        .as_str()
        .unwrap_or_else(|| panic!("OptionSet must be a string: {option_set}"));
    let arr: Value = serde_json::from_str(s)
        .unwrap_or_else(|e| panic!("OptionSet is not serialised JSON ({e}): {s}"));
    arr.as_array()
        .unwrap_or_else(|| panic!("OptionSet is not an array: {s}"))
        .iter()
        .map(|o| match o {
            Value::String(v) => v.clone(),
            _ => o["Value"]
                .as_str()
                .unwrap_or_else(|| panic!("option without Value: {o}"))
                .to_string(),
        })
        .collect()
}

pub fn row_ids(retrieved: &Value) -> Vec<String> {
    retrieved["ProspectActivities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["Id"]
                .as_str()
                .unwrap_or_else(|| panic!("row without Id: {r}"))
                .to_lowercase()
        })
        .collect()
}

pub fn same_id(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

pub fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// `yyyy-MM-dd HH:mm:ss`
pub fn is_lsq_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// A JSON number or a numeric string as i64.
pub fn num(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64)),
        _ => None,
    }
}

/// A random-looking GUID that no server has issued.
pub fn unknown_guid() -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{:08x}-dead-4bad-8eef-{:012x}",
        (n >> 48) as u32,
        n & 0xffff_ffff_ffff
    )
}

/// Now (UTC) as `yyyy-MM-dd HH:mm:ss`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    fmt_unix(secs)
}

/// A unix time (seconds, UTC) as `yyyy-MM-dd HH:mm:ss`.
pub fn fmt_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}
