//! Fuzz target: the LeadSquared body parsers (`parse_json_body` and the Create, bulk, Retrieve,
//! Update, Capture and opportunity-list bodies with their lenient numbers, dates, Paging, Sorting
//! and Fields) on arbitrary bytes, checking what an accepted body promises.

#![no_main]

use activity_hub::api::lsq::activities::{bulk_inputs, CreateBody, RetrieveBody, UpdateBody};
use activity_hub::api::lsq::opportunities::{CaptureBody, ListBody};
use activity_hub::api::lsq::parse_json_body;
use activity_hub::api::lsq::wire::MAX_PAGE_SIZE;
use activity_hub::domain::text::json_may_hold_nul;
use activity_hub::domain::time::{format_lsq, parse_lsq_datetime, Micros, EARLIEST, LATEST};
use activity_hub::domain::{ActivitySort, ActivityType, DataType, FieldDef, TypeKind};
use activity_hub::service::ActivityInput;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A window from `Paging::window`: a documented page size, and an offset that is a whole number
/// of pages (or saturated).
fn check_window(offset: u64, limit: u32) {
    assert!((1..=MAX_PAGE_SIZE as u32).contains(&limit), "limit {limit}");
    assert!(
        offset % u64::from(limit) == 0 || offset == u64::MAX,
        "offset {offset} limit {limit}"
    );
}

/// A parsed LeadSquared date: in the renderable range, and rendered back it parses to itself.
fn check_date(t: Option<Micros>) {
    if let Some(t) = t {
        assert!((EARLIEST..=LATEST).contains(&t), "{t} out of range");
        assert_eq!(parse_lsq_datetime(&format_lsq(t)), Some(t));
    }
}

fn check_input(input: &ActivityInput) {
    check_date(input.occurred_at);
}

fn no_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.contains('\0'),
        Value::Array(items) => items.iter().all(no_nul),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && no_nul(v)),
        _ => true,
    }
}

fn field(name: &str, data_type: DataType) -> FieldDef {
    FieldDef {
        schema_name: name.into(),
        display_name: name.into(),
        data_type,
        is_mandatory: false,
        sequence: 0,
        options: if data_type.has_options() {
            vec!["Open".into(), "Won".into()]
        } else {
            Vec::new()
        },
    }
}

fn activity_type(code: i64, kind: TypeKind, fields: Vec<FieldDef>) -> ActivityType {
    ActivityType {
        id: code,
        guid: Default::default(),
        event_code: code,
        name: format!("T{code}"),
        display_name: format!("T{code}"),
        score: 0,
        description: String::new(),
        direction: 0,
        kind,
        is_email_type: false,
        salesloft_type: "note".into(),
        fields,
    }
}

fuzz_target!(|data: &[u8]| {
    let types = [
        activity_type(
            201,
            TypeKind::Custom,
            vec![
                field("mx_Custom_1", DataType::Number),
                field("mx_Custom_2", DataType::Dropdown),
            ],
        ),
        activity_type(
            12000,
            TypeKind::Opportunity,
            vec![field("mx_Custom_1", DataType::String)],
        ),
    ];
    let mut accepted = false;

    if let Ok(body) = parse_json_body::<CreateBody>(data) {
        accepted = true;
        if let Ok((_, input)) = body.into_input() {
            check_input(&input);
        }
    }
    if let Ok(rows) = parse_json_body::<Vec<CreateBody>>(data) {
        accepted = true;
        let n = rows.len();
        let (valid, early) = bulk_inputs(rows);
        // Every row is answered once: refused early, or passed on in order.
        assert_eq!(early.len(), n);
        assert_eq!(valid.len(), early.iter().filter(|e| e.is_none()).count());
        assert!(early.iter().flatten().all(|msg| !msg.is_empty()));
        for (_, input) in &valid {
            check_input(input);
        }
    }
    if let Ok(body) = parse_json_body::<RetrieveBody>(data) {
        accepted = true;
        if let Ok(f) = body.into_filter() {
            check_window(f.offset, f.limit);
            check_date(f.occurred_from);
            check_date(f.occurred_to);
            assert!(matches!(
                f.sort,
                ActivitySort::OccurredAt | ActivitySort::UpdatedAt
            ));
        }
    }
    if let Ok(body) = parse_json_body::<UpdateBody>(data) {
        accepted = true;
        let (id, _) = body.into_patch();
        assert!(id.is_none_or(|id| !id.trim().is_empty()));
    }
    if let Ok(body) = parse_json_body::<CaptureBody>(data) {
        accepted = true;
        if let Ok(c) = body.into_input() {
            check_input(&c.opportunity);
            let lead = &c.lead;
            for v in [
                &lead.first_name,
                &lead.last_name,
                &lead.email,
                &lead.phone,
                &lead.mobile,
            ]
            .into_iter()
            .flatten()
            {
                assert!(!v.is_empty() && v.trim() == v, "{v:?} is not trimmed");
            }
        }
    }
    if let Ok(body) = parse_json_body::<ListBody>(data) {
        accepted = true;
        if let Ok((include, f)) = body.activities_request(None, &types) {
            check_window(f.offset, f.limit);
            for c in include.iter().flatten() {
                assert!(c != "ProspectActivityId" && c != "ProspectId");
            }
            if let ActivitySort::Field {
                schema_name,
                numeric,
            } = &f.sort
            {
                assert!(types.iter().any(|t| t.field(schema_name).is_some()));
                // mx_Custom_1 is a Number on one type and a String on the other.
                assert!(!(*numeric && schema_name == "mx_Custom_1"));
            }
        }
    }

    if accepted {
        let text: &[u8] = if data.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            data
        };
        match serde_json::from_slice::<Value>(text) {
            // No NUL in any string or name of an accepted body.
            Ok(v) => assert!(no_nul(&v), "a NUL got through"),
            // JSON that serde_json's tree refuses but a body struct may skip (a number past f64,
            // nesting past 128 levels, in a property it ignores) is accepted only when it cannot
            // spell a NUL: the NUL check could not have read it.
            Err(e) => assert!(!json_may_hold_nul(text), "unchecked body accepted: {e}"),
        }
    }
});
