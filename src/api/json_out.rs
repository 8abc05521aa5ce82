//! A JSON writer for the pages of activities, the largest and most frequent answers.
//!
//! Through serde, every key of every row went through serde_json's byte-at-a-time string escaping
//! and its map machinery: a quarter of a page's instructions (bench/instr_ab.sh). Here keys are
//! written as the constants they are, and a string with nothing to escape is copied whole; any
//! other string, and any value that is not a plain string or number, is still written by
//! serde_json, so the bytes are the same as `serde_json::to_writer` would give.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

/// A JSON text being written. Separators are implied: a comma goes before any key, value or
/// opening bracket that does not follow `{`, `[` or `:`.
pub struct JsonOut {
    buf: Vec<u8>,
}

/// Bytes to reserve for a page of `rows` activities (about 1.1 KB each as the dialects render
/// them, plus the page's own keys): the buffer is not grown and copied on the way.
pub fn page_capacity(rows: usize) -> usize {
    1024 + rows * 1280
}

/// Whether `value` holds a byte JSON must escape in a string (a control character, `"` or `\`).
fn needs_escape(value: &str) -> bool {
    // A fold without early exit, which the compiler turns into vector instructions.
    value.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

impl JsonOut {
    pub fn with_capacity(capacity: usize) -> JsonOut {
        JsonOut {
            buf: Vec::with_capacity(capacity),
        }
    }

    fn separate(&mut self) {
        if let Some(&last) = self.buf.last() {
            if !matches!(last, b'{' | b'[' | b':') {
                self.buf.push(b',');
            }
        }
    }

    pub fn begin_object(&mut self) {
        self.separate();
        self.buf.push(b'{');
    }

    pub fn end_object(&mut self) {
        self.buf.push(b'}');
    }

    pub fn begin_array(&mut self) {
        self.separate();
        self.buf.push(b'[');
    }

    pub fn end_array(&mut self) {
        self.buf.push(b']');
    }

    /// An object key known at compile time, which must need no escaping (ASCII letters, digits
    /// and `_`; checked in debug builds).
    pub fn key(&mut self, key: &'static str) {
        debug_assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        self.separate();
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// An object key that comes from data (escaped like any string).
    pub fn key_str(&mut self, key: &str) {
        self.str(key);
        self.buf.push(b':');
    }

    pub fn str(&mut self, value: &str) {
        self.separate();
        if !needs_escape(value) {
            self.buf.push(b'"');
            self.buf.extend_from_slice(value.as_bytes());
            self.buf.push(b'"');
        } else {
            // Writing a string into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut self.buf, value);
        }
    }

    /// One string written from `parts` in turn, as `str` would write them joined, without
    /// joining them first.
    pub fn str_parts(&mut self, parts: &[&str]) {
        if parts.iter().any(|p| needs_escape(p)) {
            self.str(&parts.concat());
            return;
        }
        self.separate();
        self.buf.push(b'"');
        for p in parts {
            self.buf.extend_from_slice(p.as_bytes());
        }
        self.buf.push(b'"');
    }

    pub fn opt_str(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.str(v),
            None => self.null(),
        }
    }

    pub fn int(&mut self, value: i64) {
        self.integer(value);
    }

    /// A count (a page's total), written as serde_json writes a `u64`.
    pub fn uint(&mut self, value: u64) {
        self.integer(value);
    }

    /// Any integer, in decimal, as serde_json writes it (both use itoa).
    fn integer(&mut self, value: impl itoa::Integer) {
        self.separate();
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    pub fn opt_int(&mut self, value: Option<i64>) {
        match value {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    pub fn bool(&mut self, value: bool) {
        self.separate();
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    pub fn null(&mut self) {
        self.separate();
        self.buf.extend_from_slice(b"null");
    }

    pub fn uuid(&mut self, value: &Uuid) {
        self.separate();
        self.buf.push(b'"');
        let mut text = Uuid::encode_buffer();
        self.buf
            .extend_from_slice(value.hyphenated().encode_lower(&mut text).as_bytes());
        self.buf.push(b'"');
    }

    pub fn opt_uuid(&mut self, value: Option<&Uuid>) {
        match value {
            Some(v) => self.uuid(v),
            None => self.null(),
        }
    }

    /// JSON text as it is: `text` must be one complete JSON value (stored field values, say;
    /// whitespace around it is kept, which leaves the whole valid).
    pub fn raw(&mut self, text: &str) {
        self.separate();
        self.buf.extend_from_slice(text.as_bytes());
    }

    /// Opens an object with the members of `object`, the text of one valid JSON object, so that
    /// more members can follow before `end_object`. False, writing nothing, when `object` does not
    /// end in `}`.
    pub fn open_object(&mut self, object: &str) -> bool {
        match object.trim_end().strip_suffix('}') {
            Some(open) => {
                self.separate();
                self.buf.extend_from_slice(open.trim_end().as_bytes());
                true
            }
            None => false,
        }
    }

    /// Any value, through serde_json.
    pub fn serde<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> serde_json::Result<()> {
        self.separate();
        serde_json::to_writer(&mut self.buf, value)
    }

    /// The text written (a webhook's body). Everything written is UTF-8: strings come in as
    /// `&str` and the rest is ASCII.
    pub fn into_string(self) -> String {
        String::from_utf8(self.buf).unwrap_or_default()
    }
}

/// A finished JSON text as a 200 answer, or what failed while writing it as a 500 (the way
/// `axum::Json` answers a value that fails to serialize).
pub fn respond(written: serde_json::Result<JsonOut>) -> Response {
    match written {
        Ok(out) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            out.buf,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            e.to_string(),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever is written equals serde_json's rendering of the same value, escapes included.
    #[test]
    fn writes_what_serde_json_writes() {
        let id = Uuid::now_v7();
        let mut o = JsonOut::with_capacity(16);
        o.begin_object();
        o.key("a");
        o.str("plain");
        o.key("b");
        o.str("quote \" backslash \\ newline \n tab \t bell \u{7} é ✓");
        o.key("e");
        o.str("\r\u{8}\u{c}\u{1f}\u{7f}");
        o.key("f");
        o.str("\"both ends\\");
        o.key("c");
        o.begin_array();
        o.int(-12);
        o.uint(u64::MAX);
        o.opt_int(None);
        o.bool(true);
        o.uuid(&id);
        o.begin_object();
        o.end_object();
        o.begin_array();
        o.end_array();
        o.raw("{\"x\":[1,2]}");
        o.raw("\"after raw\"");
        o.end_array();
        o.key("g");
        assert!(o.open_object("{\"k\":\"v\"} "));
        o.key("added");
        o.int(1);
        o.end_object();
        o.key("h");
        assert!(o.open_object("{ }"));
        o.key("only");
        o.null();
        o.end_object();
        assert!(!o.open_object("[1]"));
        o.key_str("key \"with\" quotes");
        o.opt_str(Some(""));
        o.key("d");
        o.serde(&serde_json::json!({"k": [1, "v"]})).unwrap();
        o.key("p");
        o.begin_array();
        o.str_parts(&["note", "-", "12"]);
        o.str_parts(&["a \"quoted\"", " ", "b\\"]);
        o.str_parts(&[]);
        o.end_array();
        o.end_object();
        let want = serde_json::json!({
            "a": "plain",
            "b": "quote \" backslash \\ newline \n tab \t bell \u{7} é ✓",
            "e": "\r\u{8}\u{c}\u{1f}\u{7f}",
            "f": "\"both ends\\",
            "c": [-12, u64::MAX, null, true, id, {}, [], {"x": [1, 2]}, "after raw"],
            "g": {"k": "v", "added": 1},
            "h": {"only": null},
            "key \"with\" quotes": "",
            "d": {"k": [1, "v"]},
            "p": ["note-12", "a \"quoted\" b\\", ""],
        });
        let text = o.into_string();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            want
        );
        // Byte for byte what serde_json writes (its map keeps insertion order here).
        assert_eq!(text, serde_json::to_string(&want).unwrap());
    }
}
