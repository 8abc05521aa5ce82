//! Fuzz target: Salesloft's query-string parser (`GET /v2/activity_histories`) on arbitrary query
//! strings, checking what a parsed request promises, not only that nothing panics.

#![no_main]

use activity_hub::api::salesloft::query::{
    cost_of, parse_activity_id, parse_iso8601, parse_list, parse_raw, MAX_PER_PAGE,
    PAGING_COUNT_CAP,
};
use activity_hub::domain::time::{format_rfc3339_micros, EARLIEST, LATEST};
use activity_hub::domain::CountMode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A URI's query is text; form decoding then turns `%xx` into any bytes.
    let query = String::from_utf8_lossy(data);
    let raw = parse_raw(Some(&query));

    // parse_raw keeps every pair, in order, and its name/keys split loses nothing.
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(raw.len(), pairs.len());
    for (p, (k, v)) in raw.iter().zip(&pairs) {
        assert_eq!(&p.value, v);
        let rebuilt: String = std::iter::once(p.name.clone())
            .chain(p.keys.iter().map(|key| format!("[{key}]")))
            .collect();
        assert_eq!(&rebuilt, k, "name {:?} keys {:?}", p.name, p.keys);
        assert!(p.keys.iter().all(|key| !key.contains(']')));
    }

    let cost = cost_of(&raw);
    assert!([1, 3, 8, 10, 30].contains(&cost), "cost {cost}");

    for p in &raw {
        if let Some(t) = parse_iso8601(&p.value) {
            assert!((EARLIEST..=LATEST).contains(&t), "{t} out of range");
            // What we render, we read back as the same instant.
            assert_eq!(parse_iso8601(&format_rfc3339_micros(t)), Some(t));
        }
        if let Some(f) = parse_activity_id(&p.value) {
            assert!(f.id > 0);
            let text = match &f.sl_type {
                Some(ty) => format!("{ty}-{}", f.id),
                None => f.id.to_string(),
            };
            assert_eq!(parse_activity_id(&text), Some(f));
        }
    }

    match parse_list(&raw) {
        Ok(r) => {
            assert!(
                (1..=MAX_PER_PAGE).contains(&r.paging.per_page),
                "per_page {}",
                r.paging.per_page
            );
            assert!(r.paging.page >= 1);
            let f = &r.filter;
            assert_eq!(f.limit, r.paging.per_page + 1);
            assert_eq!(f.offset, (r.paging.page - 1).saturating_mul(u64::from(r.paging.per_page)));
            match f.count {
                CountMode::None => assert!(!r.paging.include_counts),
                CountMode::Exact => assert!(r.paging.include_counts),
                CountMode::Capped(n) => assert!(r.paging.include_counts && n == PAGING_COUNT_CAP),
            }
            // Bounds are inclusive: `gt` adds 1 µs, `lt` takes 1 µs off.
            for t in [f.occurred_from, f.occurred_to, f.updated_from, f.updated_to]
                .into_iter()
                .flatten()
            {
                assert!((EARLIEST - 1..=LATEST + 1).contains(&t), "{t} out of range");
            }
            assert!(f.ids.iter().all(|id| id.id > 0));
            assert!(f.resource_ids.is_empty() || !f.resource_kinds.is_empty());
            assert!(f.types.iter().all(|t| t
                .sl_types
                .iter()
                .all(|s| activity_hub::domain::is_salesloft_type(s))));
            // The page cost charged is the page parsed.
            let expected = match r.paging.page {
                p if p > 500 => 30,
                p if p > 250 => 10,
                p if p > 150 => 8,
                p if p > 100 => 3,
                _ => 1,
            };
            assert_eq!(cost, expected);
            assert!(serde_json::to_string(&r.filtering).is_ok());
        }
        Err(e) => {
            assert!(!e.is_empty());
            let body = e.to_json();
            let errors = body["errors"].as_object().expect("errors is an object");
            assert!(!errors.is_empty());
            for (name, messages) in errors {
                // Every message names a parameter the client sent.
                assert!(
                    raw.iter().any(|p| &p.name == name),
                    "error for {name:?}, which is not in the query"
                );
                let messages = messages.as_array().expect("messages are a list");
                assert!(!messages.is_empty());
                assert!(messages
                    .iter()
                    .all(|m| m.as_str().is_some_and(|m| !m.is_empty())));
            }
        }
    }
});
