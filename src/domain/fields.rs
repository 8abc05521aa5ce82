//! Validation of activity field values against their activity type (LeadSquared's rules).

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::{time, ActivityType, DataType, FieldDef, TypeKind};
use crate::error::{Error, Field, Problem, Result};

/// The longest text value accepted in any field.
pub const MAX_VALUE_LEN: usize = 4000;

/// The custom field values of one stored activity (schema name → value, ordered by name), kept as
/// the JSON object text they are stored as. Lists render them as they are instead of building a
/// map per row and escaping every value again (profiled: that was a seventh of a Retrieve's CPU
/// time); the few callers that need single values parse them with `to_map`.
///
/// The text is always one JSON object: it comes from `from_map`, from `from_json_text`, which
/// checks it, or from `from_stored_object`, whose caller's database refuses anything else.
#[derive(Debug, Clone)]
pub struct FieldValues(String);

impl FieldValues {
    /// From JSON text that must be an object, checked. The text is kept as it is: stores write it
    /// with `from_map`, i.e. compact with keys in order, so it renders exactly like the map would.
    pub fn from_json_text(text: String) -> std::result::Result<FieldValues, String> {
        if !text.trim_start().starts_with('{') {
            return Err(format!(
                "stored field values are not a JSON object: {text:.40}"
            ));
        }
        serde_json::from_str::<&RawValue>(&text)
            .map_err(|e| format!("stored field values are not valid JSON: {e}"))?;
        Ok(FieldValues(text))
    }

    /// From text that a store's database guarantees to be one JSON object (the SQLite store's
    /// CHECK refuses any other, migration 0007), not checked again: checking every row's text
    /// on every read was a tenth of a Retrieve's instructions (docs/benchmarks.md).
    pub fn from_stored_object(text: String) -> FieldValues {
        FieldValues(text)
    }

    /// The canonical text of an object read as borrowed pairs (keys in order, each value the JSON
    /// token as the database wrote it), when every value is a string token without escapes: such
    /// a token is the same text whichever encoder wrote it, so the object's text is `from_map`'s
    /// without building and escaping owned strings. `None` for anything else (an escape, a value
    /// that is not a string), which the caller reads through `from_map`.
    pub fn from_plain_pairs(pairs: &BTreeMap<&str, &RawValue>) -> Option<FieldValues> {
        // A parsed value that starts with a quote is one whole string token.
        let plain = |raw: &RawValue| raw.get().starts_with('"') && !raw.get().contains('\\');
        if !pairs.values().all(|v| plain(v)) {
            return None;
        }
        serde_json::to_string(pairs).ok().map(FieldValues)
    }

    /// The canonical text of `map` (compact, keys in order).
    pub fn from_map(map: &BTreeMap<String, String>) -> FieldValues {
        // Serializing string pairs into JSON text cannot fail; the fallback is never taken.
        serde_json::to_string(map)
            .map(FieldValues)
            .unwrap_or_else(|_| FieldValues::default())
    }

    /// The values as a map. Stored values are always a string-to-string object (every write goes
    /// through `from_map`); anything else is logged and read as no values rather than failing.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.0).unwrap_or_else(|e| {
            tracing::error!(error = %e, "stored field values are not a string map");
            BTreeMap::new()
        })
    }

    /// The JSON object text: always one valid JSON object.
    pub fn as_json(&self) -> &str {
        &self.0
    }

    /// Whether `key` may be one of the schema names, without parsing: in compact JSON a key is the
    /// only place where `"key":` occurs unescaped. Never false for a present key; true for a key
    /// that merely ends in `\"key` (an escaped quote before it), which only sends a caller down its
    /// exact, parsing path.
    pub fn has_key(&self, key: &FieldKey) -> bool {
        key.0.find(self.0.as_bytes()).is_some()
    }
}

/// A schema name to look for with `FieldValues::has_key`, its searcher built once: building it
/// per call cost more than the search (profiled at 4 % of a Retrieve, two keys per row).
pub struct FieldKey(memchr::memmem::Finder<'static>);

impl FieldKey {
    pub fn new(key: &str) -> FieldKey {
        let needle = [b"\"", key.as_bytes(), b"\":"].concat();
        FieldKey(memchr::memmem::Finder::new(&needle).into_owned())
    }
}

impl Default for FieldValues {
    fn default() -> FieldValues {
        FieldValues("{}".to_string())
    }
}

impl PartialEq for FieldValues {
    fn eq(&self, other: &FieldValues) -> bool {
        self.as_json() == other.as_json()
    }
}

impl Serialize for FieldValues {
    /// The text as it is, through serde_json's `RawValue`, which parses it on the way (only the
    /// native API's answers serialize activities through serde).
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        serde_json::from_str::<&RawValue>(&self.0)
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

/// One `{"SchemaName","Value"}` pair as a client sent it.
#[derive(Debug, Clone)]
pub struct FieldInput {
    pub schema_name: String,
    pub value: String,
}

/// The outcome of validation: custom values to store plus the system fields a client may set.
#[derive(Debug, Clone, Default)]
pub struct ValidatedFields {
    /// Custom values after merging onto the base; empty values are dropped ("no value").
    pub custom: BTreeMap<String, String>,
    pub status: Option<String>,
    /// The raw `Owner` value (a user GUID); the service checks it names an active user.
    pub owner: Option<String>,
    pub note: Option<String>,
}

/// The values of the system field `Status`: opportunities move through Open/Won/Lost, activities
/// are Active or Inactive. The first one is the default.
pub fn status_options(kind: TypeKind) -> &'static [&'static str] {
    match kind {
        TypeKind::Opportunity => &["Open", "Won", "Lost"],
        _ => &["Active", "Inactive"],
    }
}

/// Validates `inputs` against `ty`, merged onto `base` (the stored values, empty for a new activity).
/// `skip_option_check` is LeadSquared's `ValidateDropDownOptions: true`.
pub fn validate(
    ty: &ActivityType,
    inputs: &[FieldInput],
    base: &BTreeMap<String, String>,
    skip_option_check: bool,
) -> Result<ValidatedFields> {
    let mut out = ValidatedFields {
        custom: base.clone(),
        ..Default::default()
    };
    for input in inputs {
        let name = input.schema_name.trim();
        let value = input.value.as_str();
        if value.chars().count() > MAX_VALUE_LEN {
            return Err(invalid(name, Problem::TooLong { max: MAX_VALUE_LEN }));
        }
        match name {
            n if n.eq_ignore_ascii_case("Status") => {
                let v = value.trim();
                if v.is_empty() {
                    continue;
                }
                let allowed = status_options(ty.kind);
                match allowed.iter().find(|s| s.eq_ignore_ascii_case(v)) {
                    Some(s) => out.status = Some(s.to_string()),
                    None => {
                        return Err(invalid(
                            "Status",
                            Problem::NotAnOption {
                                value: v.to_string(),
                                allowed,
                            },
                        ))
                    }
                }
            }
            n if n.eq_ignore_ascii_case("Owner") => {
                if !value.trim().is_empty() {
                    out.owner = Some(value.trim().to_string());
                }
            }
            n if n.eq_ignore_ascii_case("ActivityEvent_Note") => out.note = Some(value.to_string()),
            _ => {
                let Some(def) = ty.field(name) else {
                    return Err(invalid(
                        name,
                        Problem::NotOfType {
                            event_code: ty.event_code,
                            type_name: ty.name.clone(),
                        },
                    ));
                };
                if value.trim().is_empty() {
                    out.custom.remove(&def.schema_name);
                } else {
                    check_value(def, value, skip_option_check)?;
                    out.custom
                        .insert(def.schema_name.clone(), value.to_string());
                }
            }
        }
    }
    if let Some(missing) = ty
        .fields
        .iter()
        .filter(|f| f.is_mandatory)
        .find(|f| !out.custom.contains_key(&f.schema_name))
    {
        return Err(invalid(
            &missing.schema_name,
            Problem::MandatoryEmpty {
                display_name: missing.display_name.clone(),
            },
        ));
    }
    Ok(out)
}

/// The field named `schema_name` (as given) has `problem`.
fn invalid(schema_name: &str, problem: Problem) -> Error {
    Error::InvalidValue {
        field: Field::ActivityField(schema_name.to_string()),
        problem,
    }
}

/// Checks one non-empty value against its field definition.
pub fn check_value(def: &FieldDef, value: &str, skip_option_check: bool) -> Result<()> {
    let v = value.trim();
    let bad = || {
        invalid(
            &def.schema_name,
            Problem::WrongType {
                value: value.to_string(),
                data_type: def.data_type,
                options: def.options.clone(),
            },
        )
    };
    match def.data_type {
        DataType::Number => {
            let ok = v.parse::<f64>().map(|n| n.is_finite()).unwrap_or(false)
                && v.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
            if !ok {
                return Err(bad());
            }
        }
        DataType::Date => {
            if time::parse_lsq_date(v).is_none() {
                return Err(bad());
            }
        }
        DataType::DateTime => {
            if time::parse_lsq_datetime(v).is_none() {
                return Err(bad());
            }
        }
        DataType::Boolean => {
            let ok = ["true", "false", "1", "0", "yes", "no"]
                .iter()
                .any(|b| b.eq_ignore_ascii_case(v));
            if !ok {
                return Err(bad());
            }
        }
        DataType::Dropdown | DataType::SearchableDropdown | DataType::LargeOptionSet => {
            if !skip_option_check && !def.options.iter().any(|o| o == v) {
                return Err(bad());
            }
        }
        DataType::MultiSelect => {
            if !skip_option_check {
                for part in v.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    if !def.options.iter().any(|o| o == part) {
                        return Err(bad());
                    }
                }
            }
        }
        DataType::Email => {
            if !looks_like_email(v) {
                return Err(bad());
            }
        }
        DataType::Phone => {
            let digits = v.chars().filter(char::is_ascii_digit).count();
            let ok = digits >= 5
                && v.chars()
                    .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if !ok {
                return Err(bad());
            }
        }
        DataType::String | DataType::Website | DataType::Text => {}
    }
    Ok(())
}

/// A plain syntactic check of an email address (`local@domain.tld`, no spaces).
pub fn looks_like_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !v.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values_render_as_the_map_would_and_find_only_keys() {
        let mut map = BTreeMap::new();
        map.insert("mx_B".to_string(), "say \"Status\": no".to_string());
        map.insert("mx_A".to_string(), "Owner".to_string());
        map.insert("Status".to_string(), "x".to_string());
        let v = FieldValues::from_map(&map);
        assert_eq!(v.as_json(), serde_json::to_string(&map).unwrap());
        assert_eq!(serde_json::to_string(&v).unwrap(), v.as_json());
        assert_eq!(v.to_map(), map);
        let (status, owner) = (FieldKey::new("Status"), FieldKey::new("Owner"));
        assert!(v.has_key(&status));
        // "Owner" is a value here and "Status" inside a value: neither is a key.
        assert!(!v.has_key(&owner));
        map.remove("Status");
        let v = FieldValues::from_map(&map);
        assert!(!v.has_key(&status));
        let stored = FieldValues::from_json_text(v.as_json().to_string()).unwrap();
        assert_eq!(stored, v);
        assert_eq!(FieldValues::default().as_json(), "{}");
        assert!(FieldValues::from_json_text("[1]".into()).is_err());
        assert!(FieldValues::from_json_text("{\"a\":".into()).is_err());
        // A stored value of another shape reads as no values instead of failing the request.
        let odd = FieldValues::from_json_text("{\"a\":1}".into()).unwrap();
        assert!(odd.to_map().is_empty());
    }

    #[test]
    fn plain_pairs_give_the_text_from_map_gives_and_leave_escapes_to_it() {
        let pairs = |text: &'static str| -> BTreeMap<&'static str, &'static RawValue> {
            serde_json::from_str(text).unwrap()
        };
        // As PostgreSQL prints a jsonb object: spaces, shorter keys first.
        let text =
            r#"{"b": "1", "aa": "two words", "mx_Custom_10": "é ✓ </x>", "mx_Custom_9": ""}"#;
        let map: BTreeMap<String, String> = serde_json::from_str(text).unwrap();
        let fast = FieldValues::from_plain_pairs(&pairs(text)).unwrap();
        assert_eq!(fast, FieldValues::from_map(&map));
        assert_eq!(
            fast.as_json(),
            r#"{"aa":"two words","b":"1","mx_Custom_10":"é ✓ </x>","mx_Custom_9":""}"#
        );
        assert_eq!(
            FieldValues::from_plain_pairs(&pairs("{}")).unwrap(),
            FieldValues::default()
        );
        // An escape in a value, or a value that is not a string: the owned path's business.
        for text in [
            r#"{"a": "say \"hi\""}"#,
            r#"{"a": "x\ny"}"#,
            r#"{"a": 1}"#,
            r#"{"a": null}"#,
        ] {
            assert!(
                FieldValues::from_plain_pairs(&pairs(text)).is_none(),
                "{text}"
            );
        }
        // A key that needs unescaping cannot be borrowed at all.
        assert!(serde_json::from_str::<BTreeMap<&str, &RawValue>>(r#"{"a\u0062": "x"}"#).is_err());
    }

    fn ty() -> ActivityType {
        let f = |n: &str, t: DataType, m: bool, o: &[&str]| FieldDef {
            schema_name: n.into(),
            display_name: n.into(),
            data_type: t,
            is_mandatory: m,
            sequence: 0,
            options: o.iter().map(|s| s.to_string()).collect(),
        };
        ActivityType {
            id: 1,
            guid: uuid::Uuid::nil(),
            event_code: 201,
            name: "T".into(),
            display_name: "T".into(),
            score: 0,
            description: String::new(),
            direction: 0,
            kind: TypeKind::Custom,
            is_email_type: false,
            salesloft_type: "note".into(),
            fields: vec![
                f("mx_Custom_1", DataType::Number, true, &[]),
                f("mx_Custom_2", DataType::Dropdown, false, &["Open", "Won"]),
                f("mx_Custom_3", DataType::MultiSelect, false, &["a", "b"]),
                f("mx_Custom_4", DataType::Boolean, false, &[]),
            ],
        }
    }

    fn input(pairs: &[(&str, &str)]) -> Vec<FieldInput> {
        pairs
            .iter()
            .map(|(n, v)| FieldInput {
                schema_name: n.to_string(),
                value: v.to_string(),
            })
            .collect()
    }

    #[test]
    fn accepts_valid_and_drops_empty() {
        let out = validate(
            &ty(),
            &input(&[
                ("mx_Custom_1", "12.5"),
                ("mx_Custom_2", "Won"),
                ("mx_Custom_3", "a;b"),
                ("mx_Custom_4", ""),
            ]),
            &BTreeMap::new(),
            false,
        )
        .unwrap();
        assert_eq!(out.custom.len(), 3);
        assert!(!out.custom.contains_key("mx_Custom_4"));
    }

    #[test]
    fn rejects_each_kind_of_bad_value_naming_the_field() {
        let cases = [
            ("mx_Custom_1", "12a"),
            ("mx_Custom_2", "Lost"),
            ("mx_Custom_3", "a;c"),
            ("mx_Custom_4", "maybe"),
            ("mx_Nope", "x"),
        ];
        for (name, value) in cases {
            let err = validate(
                &ty(),
                &input(&[("mx_Custom_1", "1"), (name, value)]),
                &BTreeMap::new(),
                false,
            )
            .unwrap_err();
            assert!(err.to_string().contains(name), "{err} should name {name}");
        }
    }

    #[test]
    fn mandatory_and_option_skip() {
        let err = validate(
            &ty(),
            &input(&[("mx_Custom_2", "Won")]),
            &BTreeMap::new(),
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("mx_Custom_1"));
        assert!(validate(
            &ty(),
            &input(&[("mx_Custom_1", "1"), ("mx_Custom_2", "Lost")]),
            &BTreeMap::new(),
            true
        )
        .is_ok());
    }
}
