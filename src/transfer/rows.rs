//! The rows of an import or export file: one record per NDJSON line or CSV record, per kind.
//!
//! Parsing is pure (no store): a line becomes a typed row or a one-line reason naming the
//! property, which is what the reject file shows. The fuzz target `import_rows` drives it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::text::{json_may_hold_nul, nul_path, NO_NUL};
use crate::domain::FieldDef;

/// What a file holds: one kind of record per file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Activities,
    Leads,
    Types,
    Accounts,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Activities => "activities",
            Kind::Leads => "leads",
            Kind::Types => "types",
            Kind::Accounts => "accounts",
        }
    }
}

/// How a file is written: one JSON object per line, or CSV with a header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Ndjson,
    Csv,
}

impl Format {
    /// The format a file name suggests: `.csv` is CSV, anything else NDJSON.
    pub fn from_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Ndjson,
        }
    }
}

/// An activity (or an opportunity: an activity of an opportunity type). References name other
/// records the way they travel between stores: leads, accounts and opportunities by GUID, users
/// by e-mail, the type by event code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityRow {
    /// Kept as given; absent, one is derived from the file and line (so a re-run finds it).
    #[serde(default)]
    pub guid: Option<String>,
    #[serde(default)]
    pub event_code: Option<i64>,
    #[serde(default)]
    pub lead: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub opportunity: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    /// RFC 3339; absent means now.
    #[serde(default)]
    pub occurred_at: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// Absent means the type's score.
    #[serde(default)]
    pub score: Option<i64>,
    #[serde(default)]
    pub pinned: Option<bool>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub fields: Option<Map<String, Value>>,
    #[serde(default)]
    pub static_data: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadRow {
    #[serde(default)]
    pub guid: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub do_not_call: Option<bool>,
    #[serde(default)]
    pub do_not_email: Option<bool>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub attributes: Option<Map<String, Value>>,
    /// A deleted lead travels too: its activities still name it.
    #[serde(default)]
    pub deleted: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRow {
    #[serde(default)]
    pub event_code: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub score: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub direction: Option<i64>,
    /// `system`, `custom` or `opportunity`.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub is_email_type: Option<bool>,
    #[serde(default)]
    pub salesloft_type: Option<String>,
    #[serde(default)]
    pub fields: Option<Vec<FieldDef>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRow {
    #[serde(default)]
    pub guid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
}

/// A parsed row of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Activity(ActivityRow),
    Lead(LeadRow),
    Type(TypeRow),
    Account(AccountRow),
}

/// How a CSV cell becomes a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Text,
    Int,
    Bool,
    /// JSON text (objects and arrays).
    Json,
}

const ACTIVITY_COLUMNS: &[(&str, Cell)] = &[
    ("guid", Cell::Text),
    ("event_code", Cell::Int),
    ("lead", Cell::Text),
    ("account", Cell::Text),
    ("opportunity", Cell::Text),
    ("owner", Cell::Text),
    ("created_by", Cell::Text),
    ("occurred_at", Cell::Text),
    ("note", Cell::Text),
    ("status", Cell::Text),
    ("score", Cell::Int),
    ("pinned", Cell::Bool),
    ("tags", Cell::Json),
    ("fields", Cell::Json),
    ("static_data", Cell::Json),
];

const LEAD_COLUMNS: &[(&str, Cell)] = &[
    ("guid", Cell::Text),
    ("first_name", Cell::Text),
    ("last_name", Cell::Text),
    ("email", Cell::Text),
    ("phone", Cell::Text),
    ("mobile", Cell::Text),
    ("do_not_call", Cell::Bool),
    ("do_not_email", Cell::Bool),
    ("owner", Cell::Text),
    ("attributes", Cell::Json),
    ("deleted", Cell::Bool),
];

const TYPE_COLUMNS: &[(&str, Cell)] = &[
    ("event_code", Cell::Int),
    ("name", Cell::Text),
    ("display_name", Cell::Text),
    ("score", Cell::Int),
    ("description", Cell::Text),
    ("direction", Cell::Int),
    ("kind", Cell::Text),
    ("is_email_type", Cell::Bool),
    ("salesloft_type", Cell::Text),
    ("fields", Cell::Json),
];

const ACCOUNT_COLUMNS: &[(&str, Cell)] = &[
    ("guid", Cell::Text),
    ("name", Cell::Text),
    ("domain", Cell::Text),
    ("owner", Cell::Text),
];

fn columns(kind: Kind) -> &'static [(&'static str, Cell)] {
    match kind {
        Kind::Activities => ACTIVITY_COLUMNS,
        Kind::Leads => LEAD_COLUMNS,
        Kind::Types => TYPE_COLUMNS,
        Kind::Accounts => ACCOUNT_COLUMNS,
    }
}

/// The CSV header of a kind, in the order export writes it.
pub fn csv_header(kind: Kind) -> Vec<&'static str> {
    columns(kind).iter().map(|(n, _)| *n).collect()
}

/// Deserializes a row, naming the property that is wrong.
fn typed<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            format!("the row has the wrong shape: {inner}")
        } else {
            format!("invalid value for '{path}': {inner}")
        }
    })
}

fn to_row(kind: Kind, value: Value) -> Result<Row, String> {
    if !value.is_object() {
        return Err("the row is not a JSON object".into());
    }
    Ok(match kind {
        Kind::Activities => Row::Activity(typed(value)?),
        Kind::Leads => Row::Lead(typed(value)?),
        Kind::Types => Row::Type(typed(value)?),
        Kind::Accounts => Row::Account(typed(value)?),
    })
}

/// Parses one NDJSON line (without its newline). Text holding a NUL is refused naming where,
/// as the APIs refuse it. One pass straight into the row; the line is only parsed a second time
/// (into a tree, to name the place) when it holds the `\u0000` escape at all.
pub fn parse_ndjson(kind: Kind, line: &[u8]) -> Result<Row, String> {
    if json_may_hold_nul(line) {
        let value: Value =
            serde_json::from_slice(line).map_err(|e| format!("the line is not valid JSON: {e}"))?;
        if let Some(path) = nul_path(&value) {
            return Err(format!("'{path}' {NO_NUL}"));
        }
    }
    fn direct<T: DeserializeOwned>(line: &[u8]) -> Result<T, String> {
        let mut de = serde_json::Deserializer::from_slice(line);
        let row = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                format!("the line is not valid JSON: {inner}")
            } else if path == "." {
                format!("the row has the wrong shape: {inner}")
            } else {
                format!("invalid value for '{path}': {inner}")
            }
        })?;
        de.end()
            .map_err(|e| format!("the line is not valid JSON: {e}"))?;
        Ok(row)
    }
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return match serde_json::from_slice::<Value>(line) {
            Err(e) => Err(format!("the line is not valid JSON: {e}")),
            Ok(_) => Err("the row is not a JSON object".into()),
        };
    }
    Ok(match kind {
        Kind::Activities => Row::Activity(direct(line)?),
        Kind::Leads => Row::Lead(direct(line)?),
        Kind::Types => Row::Type(direct(line)?),
        Kind::Accounts => Row::Account(direct(line)?),
    })
}

/// Where each column of a CSV file's header is, checked once per file: every name known, none
/// twice.
#[derive(Debug, Clone)]
pub struct CsvLayout {
    kind: Kind,
    /// For each header position, the column it holds.
    cells: Vec<(&'static str, Cell)>,
}

impl CsvLayout {
    pub fn new(kind: Kind, header: &[&str]) -> Result<CsvLayout, String> {
        let mut cells: Vec<(&'static str, Cell)> = Vec::with_capacity(header.len());
        for name in header {
            let name = name.trim();
            let Some(col) = columns(kind).iter().find(|(n, _)| *n == name) else {
                return Err(format!(
                    "the CSV header names '{name}', which is not a column of {}: expected {}",
                    kind.as_str(),
                    csv_header(kind).join(",")
                ));
            };
            if cells.iter().any(|(n, _)| *n == col.0) {
                return Err(format!("the CSV header names '{name}' twice"));
            }
            cells.push(*col);
        }
        Ok(CsvLayout { kind, cells })
    }

    /// Parses one CSV record. An empty cell is an absent value.
    pub fn parse(&self, record: &[&str]) -> Result<Row, String> {
        if record.len() != self.cells.len() {
            return Err(format!(
                "the record has {} cells, the header {}",
                record.len(),
                self.cells.len()
            ));
        }
        let mut map = Map::new();
        for ((name, cell), text) in self.cells.iter().zip(record) {
            if text.is_empty() {
                continue;
            }
            if crate::domain::text::has_nul(text) {
                return Err(format!("'{name}' {NO_NUL}"));
            }
            let value = match cell {
                Cell::Text => Value::String(text.to_string()),
                Cell::Int => Value::Number(
                    text.trim()
                        .parse::<i64>()
                        .map_err(|_| format!("'{name}' must be an integer, not '{text}'"))?
                        .into(),
                ),
                Cell::Bool => match text.trim() {
                    t if t.eq_ignore_ascii_case("true") => Value::Bool(true),
                    t if t.eq_ignore_ascii_case("false") => Value::Bool(false),
                    _ => return Err(format!("'{name}' must be true or false, not '{text}'")),
                },
                Cell::Json => serde_json::from_str(text)
                    .map_err(|e| format!("'{name}' must hold JSON: {e}"))?,
            };
            map.insert(name.to_string(), value);
        }
        let value = Value::Object(map);
        if let Some(path) = nul_path(&value) {
            return Err(format!("'{path}' {NO_NUL}"));
        }
        to_row(self.kind, value)
    }
}

/// A row as one JSON object (the NDJSON line, without its newline).
pub fn to_json(row: &Row) -> Value {
    let v = match row {
        Row::Activity(r) => serde_json::to_value(r),
        Row::Lead(r) => serde_json::to_value(r),
        Row::Type(r) => serde_json::to_value(r),
        Row::Account(r) => serde_json::to_value(r),
    };
    // These rows hold strings, numbers, maps and vectors only: serializing them cannot fail.
    v.unwrap_or(Value::Null)
}

/// A row as CSV cells in the order of [`csv_header`]; an absent value is an empty cell.
pub fn to_csv(kind: Kind, row: &Row) -> Vec<String> {
    let value = to_json(row);
    columns(kind)
        .iter()
        .map(|(name, _)| match value.get(name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_errors_name_the_property() {
        let e = parse_ndjson(Kind::Activities, br#"{"event_code":"x"}"#).unwrap_err();
        assert!(e.contains("'event_code'"), "{e}");
        let e = parse_ndjson(Kind::Activities, br#"{"evnt_code":1}"#).unwrap_err();
        assert!(e.contains("evnt_code"), "{e}");
        let e = parse_ndjson(Kind::Activities, br#"{"note":"a\u0000"}"#).unwrap_err();
        assert_eq!(e, format!("'note' {NO_NUL}"));
        assert!(parse_ndjson(Kind::Leads, b"[1]").is_err());
        assert!(parse_ndjson(Kind::Leads, b"{").is_err());
    }

    #[test]
    fn csv_round_trips_a_row() {
        let row = Row::Activity(ActivityRow {
            guid: Some("g".into()),
            event_code: Some(201),
            note: Some("a, \"b\"\nc".into()),
            pinned: Some(true),
            tags: Some(vec!["x".into()]),
            fields: Some(serde_json::from_str(r#"{"mx_Custom_1":"3"}"#).unwrap()),
            ..ActivityRow::default()
        });
        let header = csv_header(Kind::Activities);
        let layout = CsvLayout::new(Kind::Activities, &header).unwrap();
        let cells = to_csv(Kind::Activities, &row);
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        assert_eq!(layout.parse(&cells).unwrap(), row);
        assert!(CsvLayout::new(Kind::Activities, &["guid", "guid"]).is_err());
        assert!(CsvLayout::new(Kind::Activities, &["gid"]).is_err());
        let e = layout.parse(&["x"]).unwrap_err();
        assert!(e.contains("cells"), "{e}");
    }
}
