//! Fuzz target: the import parser (`transfer::rows`) on arbitrary NDJSON lines and CSV files of
//! each kind: what it accepts holds no NUL, writes back (NDJSON and CSV, as export writes it) to
//! text that parses to the same row, and a refusal gives a reason.

#![no_main]

use activity_hub::domain::text::nul_path;
use activity_hub::transfer::rows::{csv_header, parse_ndjson, to_csv, to_json, CsvLayout, Kind, Row};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const KINDS: [Kind; 4] = [Kind::Activities, Kind::Leads, Kind::Types, Kind::Accounts];

/// The row as JSON without absent values: CSV has no way to tell an empty text from none.
fn given(row: &Row) -> Value {
    let mut v = to_json(row);
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.is_null() && x.as_str() != Some(""));
    }
    v
}

/// Writes `row` as export does in both formats and checks each parses back to it.
fn writes_back(kind: Kind, row: &Row) {
    assert!(nul_path(&to_json(row)).is_none(), "an accepted row holds a NUL: {row:?}");
    let line = to_json(row).to_string();
    assert!(!line.contains('\n'), "an NDJSON line must be one line: {line}");
    let again = parse_ndjson(kind, line.as_bytes())
        .unwrap_or_else(|e| panic!("the written line {line} is refused: {e}"));
    assert_eq!(&again, row, "NDJSON round trip of {line}");
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(csv_header(kind)).expect("write header");
    w.write_record(to_csv(kind, row)).expect("write record");
    let bytes = w.into_inner().expect("flush csv");
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(&bytes[..]);
    let header = r.headers().expect("read header").clone();
    let names: Vec<&str> = header.iter().collect();
    let layout = CsvLayout::new(kind, &names).expect("export's header is accepted");
    let mut record = csv::StringRecord::new();
    assert!(r.read_record(&mut record).expect("read record"), "one record");
    let cells: Vec<&str> = record.iter().collect();
    let back = layout
        .parse(&cells)
        .unwrap_or_else(|e| panic!("the written CSV record {cells:?} is refused: {e}"));
    assert_eq!(given(&back), given(row), "CSV round trip of {row:?}");
}

/// A refusal says why.
fn refusal(e: &str) {
    assert!(!e.trim().is_empty(), "a refusal without a reason");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = KINDS[(selector & 3) as usize];
    if selector & 4 == 0 {
        // NDJSON: each line on its own, as the importer reads them.
        for line in body.split(|b| *b == b'\n') {
            match parse_ndjson(kind, line) {
                Ok(row) => writes_back(kind, &row),
                Err(e) => refusal(&e),
            }
        }
        return;
    }
    // CSV: a header, then records.
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let Ok(header) = r.headers().cloned() else { return };
    let Ok(names) = header.iter().map(Ok).collect::<Result<Vec<&str>, ()>>() else { return };
    let layout = match CsvLayout::new(kind, &names) {
        Ok(l) => l,
        Err(e) => return refusal(&e),
    };
    let mut record = csv::StringRecord::new();
    while let Ok(true) = r.read_record(&mut record) {
        let cells: Vec<&str> = record.iter().collect();
        match layout.parse(&cells) {
            Ok(row) => {
                writes_back(kind, &row);
                // A CSV row has no empty texts: its written cells give it back exactly.
                let again: Vec<String> = to_csv(kind, &row);
                let layout_full = CsvLayout::new(kind, &csv_header(kind)).expect("full header");
                let again: Vec<&str> = again.iter().map(String::as_str).collect();
                assert_eq!(layout_full.parse(&again).as_ref(), Ok(&row));
            }
            Err(e) => refusal(&e),
        }
    }
});
