//! LeadSquared wire types: lenient scalars (numbers and booleans sent as strings), paging and sorting.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::error::{Error, Result};

/// An integer sent as a JSON number or a string (`201` or `"201"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer (number or string)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Int, E> {
                i64::try_from(v)
                    .map(Int)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Int, E> {
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    Ok(Int(v as i64))
                } else {
                    Err(E::custom(format!("expected an integer, got {v}")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Int, E> {
                v.trim()
                    .parse::<i64>()
                    .map(Int)
                    .map_err(|_| E::custom(format!("expected an integer, got \"{v}\"")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A boolean sent as `true`, `"true"`, `1` or `"1"` (and their negatives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bool(pub bool);

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean (true/false, \"true\"/\"false\", 1/0)")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Bool, E> {
                Ok(Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Bool, E> {
                match v {
                    0 => Ok(Bool(false)),
                    1 => Ok(Bool(true)),
                    _ => Err(E::custom(format!("expected a boolean, got {v}"))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Bool, E> {
                self.visit_i64(v.min(2) as i64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Bool, E> {
                match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => Ok(Bool(true)),
                    "false" | "0" | "no" | "" => Ok(Bool(false)),
                    _ => Err(E::custom(format!("expected a boolean, got \"{v}\""))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A scalar value sent as a string, number or boolean, kept as text (field values, attributes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Text, E> {
                Ok(Text(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The default and the largest page size of every list endpoint.
pub const DEFAULT_PAGE_SIZE: i64 = 25;
pub const MAX_PAGE_SIZE: i64 = 1000;

/// `{"PageIndex":1,"PageSize":100}` or `{"Offset":"0","RowCount":"10"}`; `Offset` is a page number.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    #[serde(rename = "PageIndex")]
    pub page_index: Option<Int>,
    #[serde(rename = "PageSize")]
    pub page_size: Option<Int>,
    #[serde(rename = "Offset")]
    pub offset: Option<Int>,
    #[serde(rename = "RowCount")]
    pub row_count: Option<Int>,
}

impl Paging {
    /// The rows to skip and the page size, after checking the documented limits.
    pub fn window(&self) -> Result<(u64, u32)> {
        let (size_name, size) = match (self.page_size, self.row_count) {
            (Some(s), _) => ("PageSize", s.0),
            (None, Some(s)) => ("RowCount", s.0),
            (None, None) => ("PageSize", DEFAULT_PAGE_SIZE),
        };
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(Error::InvalidInput(format!(
                "Paging.{size_name} must be between 1 and {MAX_PAGE_SIZE}, got {size}"
            )));
        }
        let (page_name, page) = match (self.page_index, self.offset) {
            (Some(p), _) => ("PageIndex", p.0),
            (None, Some(p)) => ("Offset", p.0),
            (None, None) => ("PageIndex", 1),
        };
        if page < 0 {
            return Err(Error::InvalidInput(format!(
                "Paging.{page_name} must not be negative, got {page}"
            )));
        }
        let page = page.max(1) as u64;
        Ok(((page - 1).saturating_mul(size as u64), size as u32))
    }
}

/// `{"ColumnName":"CreatedOn","Direction":1}`; Direction 1 = newest first (default), 0 = oldest first.
#[derive(Debug, Default, Deserialize)]
pub struct Sorting {
    #[serde(rename = "ColumnName")]
    pub column: Option<String>,
    #[serde(rename = "Direction")]
    pub direction: Option<Int>,
}

impl Sorting {
    pub fn descending(&self) -> Result<bool> {
        match self.direction.map(|d| d.0) {
            None | Some(1) => Ok(true),
            Some(0) => Ok(false),
            Some(d) => Err(Error::InvalidInput(format!(
                "Sorting.Direction must be 0 (oldest first) or 1 (newest first), got {d}"
            ))),
        }
    }
}

/// `{"SchemaName":"mx_Custom_1","Value":"…"}`
#[derive(Debug, Deserialize)]
pub struct Field {
    #[serde(rename = "SchemaName")]
    pub schema_name: String,
    #[serde(rename = "Value", default)]
    pub value: Text,
}

impl Field {
    pub fn into_input(self) -> crate::domain::fields::FieldInput {
        crate::domain::fields::FieldInput {
            schema_name: self.schema_name,
            value: self.value.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_scalars() {
        let p: Paging = serde_json::from_str(r#"{"Offset":"0","RowCount":"10"}"#).unwrap();
        assert_eq!(p.window().unwrap(), (0, 10));
        let p: Paging = serde_json::from_str(r#"{"PageIndex":3,"PageSize":100}"#).unwrap();
        assert_eq!(p.window().unwrap(), (200, 100));
        let p: Paging = serde_json::from_str(r#"{"PageSize":1001}"#).unwrap();
        assert!(p.window().unwrap_err().to_string().contains("1000"));
        assert!(serde_json::from_str::<Int>(r#""abc""#).is_err());
        assert_eq!(
            serde_json::from_str::<Bool>(r#""true""#).unwrap(),
            Bool(true)
        );
        assert_eq!(
            serde_json::from_str::<Text>("123").unwrap(),
            Text("123".into())
        );
    }
}
