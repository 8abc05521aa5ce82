//! Fuzz target: the date parsers of `domain::time` (LeadSquared's `yyyy-MM-dd HH:mm:ss` and
//! `yyyy-MM-dd`, RFC 3339) and Salesloft's lenient ISO-8601 on arbitrary text: every instant they
//! accept lies in 0001–9999 and renders back to text that parses to the same instant.

#![no_main]

use activity_hub::api::salesloft::query::parse_iso8601;
use activity_hub::domain::time::{
    format_lsq, format_rfc3339_micros, lsq_text, parse_lsq_date, parse_lsq_datetime, parse_rfc3339,
    rfc3339_micros_text, EARLIEST, LATEST,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let lsq = parse_lsq_datetime(s);
    if let Some(t) = lsq {
        assert!((EARLIEST..=LATEST).contains(&t), "{t}");
        assert_eq!(t % 1_000_000, 0, "whole seconds");
        assert_eq!(parse_lsq_datetime(&format_lsq(t)), Some(t));
        assert_eq!(lsq_text(t).as_str(), format_lsq(t));
        // A date-time is also a date (`parse_lsq_date` takes both).
        assert_eq!(parse_lsq_date(s), Some(t));
    }
    if let Some(t) = parse_lsq_date(s) {
        assert!((EARLIEST..=LATEST).contains(&t), "{t}");
        assert_eq!(parse_lsq_datetime(&format_lsq(t)), Some(t));
    }
    for t in [parse_rfc3339(s), parse_iso8601(s)].into_iter().flatten() {
        assert!((EARLIEST..=LATEST).contains(&t), "{t}");
        let text = format_rfc3339_micros(t);
        assert_eq!(rfc3339_micros_text(t).as_str(), text);
        assert_eq!(parse_rfc3339(&text), Some(t), "{text}");
    }
    // Salesloft's parser takes everything RFC 3339 does, to the same instant.
    if let Some(t) = parse_rfc3339(s) {
        assert_eq!(parse_iso8601(s), Some(t));
    }
});
