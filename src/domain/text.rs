//! The rule every text of a request obeys, whatever field it fills or value it looks up: no NUL.

use serde_json::Value;

/// The sentence refusing a text that holds U+0000, after the field's name.
pub const NO_NUL: &str = "must not contain NUL characters";

/// PostgreSQL's text types cannot hold U+0000 (SQLite can), so a text with one is refused before
/// any store sees it: writes and lookups then answer the same on both backends.
pub fn has_nul(s: &str) -> bool {
    s.contains('\0')
}

/// Whether JSON text can hold a NUL at all: JSON spells one only as the escape `\u0000` (a raw
/// control character is invalid JSON), so a body without it need not be walked.
pub fn json_may_hold_nul(json: &[u8]) -> bool {
    memchr::memmem::find(json, b"\\u0000").is_some()
}

/// The path (`Fields[2].Value`, `activities[0].note`) of the first string or property name of a
/// JSON document that holds a NUL, or `None`. A `Value` beside a `SchemaName` or `Attribute` (the
/// LeadSquared pairs) is named by that name, which is what a client knows the field as.
pub fn nul_path(v: &Value) -> Option<String> {
    walk(v, String::new())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(v: &Value, path: String) -> Option<String> {
    match v {
        Value::String(s) => has_nul(s).then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| walk(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            if has_nul(k) {
                return Some(join(&path, &k.replace('\0', "\\u0000")));
            }
            let named = ["SchemaName", "Attribute"]
                .iter()
                .find_map(|n| map.get(*n).and_then(Value::as_str))
                .filter(|n| k == "Value" && !n.trim().is_empty() && !has_nul(n));
            match named {
                Some(name) => walk(item, String::new()).map(|_| name.trim().to_string()),
                None => walk(item, join(&path, k)),
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_json_with_the_escape_is_walked() {
        assert!(json_may_hold_nul(br#"{"note":"a\u0000b"}"#));
        assert!(!json_may_hold_nul(br#"{"note":"a\u0001b","n":0}"#));
        assert!(!json_may_hold_nul(b"{}"));
    }

    #[test]
    fn finds_the_first_nul_and_names_it() {
        assert_eq!(nul_path(&json!({"a": "ok", "b": [1, "x"]})), None);
        assert_eq!(
            nul_path(&json!({"ActivityNote": "a\u{0}b"})).as_deref(),
            Some("ActivityNote")
        );
        assert_eq!(
            nul_path(&json!({"activities": [{}, {"note": "\u{0}"}]})).as_deref(),
            Some("activities[1].note")
        );
        assert_eq!(
            nul_path(&json!({"Fields": [{"SchemaName": "mx_Custom_1", "Value": "\u{0}"}]}))
                .as_deref(),
            Some("mx_Custom_1")
        );
        assert_eq!(
            nul_path(&json!([{"Attribute": "EmailAddress", "Value": "a\u{0}@b.c"}])).as_deref(),
            Some("EmailAddress")
        );
        assert_eq!(
            nul_path(&json!([{"Attribute": "Email\u{0}", "Value": "x"}])).as_deref(),
            Some("[0].Attribute")
        );
        assert_eq!(nul_path(&json!({"a\u{0}": 1})).as_deref(), Some("a\\u0000"));
    }
}
