//! LeadSquared wire types: lenient scalars (numbers and booleans sent as strings), paging and sorting.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use utoipa::ToSchema;

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
            /// `1.0` and `0.0`: the same numbers to JSON (and to JSON Schema's `integer`).
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Bool, E> {
                match v {
                    0.0 => Ok(Bool(false)),
                    1.0 => Ok(Bool(true)),
                    _ => Err(E::custom(format!("expected a boolean, got {v}"))),
                }
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

/// Reads an optional JSON object into `T`, refusing an array: serde's derived structs also read
/// a sequence of their fields in order (`"Sorting":[null,null]`), a shape LeadSquared never takes.
/// Used as `#[serde(default, deserialize_with = "object")]` on the bodies' nested objects.
pub fn object<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> std::result::Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_map<A: de::MapAccess<'de>>(
            self,
            map: A,
        ) -> std::result::Result<Option<T>, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

/// The default and the largest page size of every list endpoint.
pub const DEFAULT_PAGE_SIZE: i64 = 25;
pub const MAX_PAGE_SIZE: i64 = 1000;

/// `{"PageIndex":1,"PageSize":100}` or `{"Offset":"0","RowCount":"10"}`; `Offset` is a page number.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = LsqPaging)]
pub struct Paging {
    /// The page number (PageIndex wins over Offset).
    #[serde(rename = "PageIndex")]
    #[schema(schema_with = schema::page_number)]
    pub page_index: Option<Int>,
    /// Rows per page (PageSize wins over RowCount).
    #[serde(rename = "PageSize")]
    #[schema(schema_with = schema::page_size)]
    pub page_size: Option<Int>,
    /// LeadSquared's other spelling of the page number.
    #[serde(rename = "Offset")]
    #[schema(schema_with = schema::page_number)]
    pub offset: Option<Int>,
    /// LeadSquared's other spelling of the page size.
    #[serde(rename = "RowCount")]
    #[schema(schema_with = schema::page_size)]
    pub row_count: Option<Int>,
}

impl Paging {
    /// The rows to skip and the page size, after checking the documented limits.
    /// Every value given is checked, the one that loses to its other spelling too.
    pub fn window(&self) -> Result<(u64, u32)> {
        for (name, size) in [("PageSize", self.page_size), ("RowCount", self.row_count)] {
            if let Some(Int(size)) = size.filter(|s| !(1..=MAX_PAGE_SIZE).contains(&s.0)) {
                return Err(Error::InvalidInput(format!(
                    "Paging.{name} must be between 1 and {MAX_PAGE_SIZE}, got {size}"
                )));
            }
        }
        for (name, page) in [("PageIndex", self.page_index), ("Offset", self.offset)] {
            if let Some(Int(page)) = page.filter(|p| p.0 < 0) {
                return Err(Error::InvalidInput(format!(
                    "Paging.{name} must not be negative, got {page}"
                )));
            }
        }
        let size = self
            .page_size
            .or(self.row_count)
            .map_or(DEFAULT_PAGE_SIZE, |s| s.0);
        let page = self.page_index.or(self.offset).map_or(1, |p| p.0);
        let page = page.max(1) as u64;
        Ok(((page - 1).saturating_mul(size as u64), size as u32))
    }
}

/// `{"ColumnName":"CreatedOn","Direction":1}`; Direction 1 = newest first (default), 0 = oldest first.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = LsqSorting)]
pub struct Sorting {
    /// The column to sort by; which names a list takes is said by the call.
    #[serde(rename = "ColumnName")]
    pub column: Option<String>,
    #[serde(rename = "Direction")]
    #[schema(schema_with = schema::direction)]
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
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = LsqFieldValue)]
pub struct Field {
    /// The field's schema name (`mx_Custom_1`, …) in the activity type.
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

/// The OpenAPI schemas of the lenient scalars above: exactly the forms their deserializers accept
/// (a string branch only where its pattern admits nothing the parser refuses).
pub mod schema {
    use std::borrow::Cow;

    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    use utoipa::openapi::RefOr;
    use utoipa::{PartialSchema, ToSchema};

    use super::{Bool, Int, Text, MAX_PAGE_SIZE};

    /// White space around a value, as `str::trim` removes it (the ASCII part of it).
    const WS: &str = "[ \\t\\n\\r]*";

    /// `yyyy-MM-dd HH:mm:ss` with a year from 0001 to 9999 (the days every month has).
    const DATETIME: &str = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]";

    /// A string of `body` (a regex) with the white space `str::trim` removes around it.
    pub fn trimmed(body: &str) -> ObjectBuilder {
        string_branch(body)
    }

    /// A string of `yyyy-MM-dd HH:mm:ss`, with white space around it.
    pub fn datetime_string() -> ObjectBuilder {
        string_branch(DATETIME)
    }

    /// The regex group `(A|B|…)` of `words`, each in any letter case (for `eq_ignore_ascii_case`).
    pub fn any_case_group(words: &[&str]) -> String {
        let alternatives: Vec<String> = words
            .iter()
            .map(|w| {
                w.chars()
                    .map(|c| match c.is_ascii_alphabetic() {
                        true => format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()),
                        false => c.to_string(),
                    })
                    .collect()
            })
            .collect();
        format!("({})", alternatives.join("|"))
    }

    fn int_branch(min: i64, max: i64) -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min))
            .maximum(Some(max))
    }

    /// A string of `digits` (a regex), with the white space and sign `str::parse` takes.
    fn string_branch(digits: &str) -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!("^{WS}{digits}{WS}$")))
    }

    /// The branches, or null (every lenient field is optional, and null is "not given").
    fn lenient(description: &str, branches: Vec<ObjectBuilder>) -> RefOr<Schema> {
        let mut one = OneOfBuilder::new().description(Some(description));
        for b in branches {
            one = one.item(b);
        }
        one.into()
    }

    fn null() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::Null)
    }

    /// Any integer, as a number or a string of digits (18 digits always fit).
    pub fn int() -> RefOr<Schema> {
        lenient(
            "An integer, as a JSON number or a string of digits (`201` or `\"201\"`).",
            vec![
                int_branch(i64::MIN, i64::MAX),
                string_branch("[+-]?[0-9]{1,18}"),
            ],
        )
    }

    /// A score kept as text until it is read (`Score` of Create by email): a number, a string of
    /// digits, blank or null (not given).
    pub fn score_text() -> RefOr<Schema> {
        use crate::domain::rules::MAX_SCORE;
        lenient(
            "A score from -1000000000 to 1000000000, as a JSON number or a string of digits; blank or null = not given.",
            vec![
                int_branch(-MAX_SCORE, MAX_SCORE),
                string_branch("([+-]?0*[0-9]{1,9}|[+-]?0*1000000000)"),
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(format!("^{WS}$"))),
                null(),
            ],
        )
    }

    /// `SalesloftType` of an activity type: one of Salesloft's 25 activity types, or null (the
    /// type's default).
    pub fn salesloft_type() -> RefOr<Schema> {
        let mut one = ObjectBuilder::new().schema_type(Type::String);
        one = one.enum_values(Some(crate::domain::SALESLOFT_TYPES.iter().copied()));
        lenient(
            "One of Salesloft's 25 activity types (`call`, `note`, `sent_email`, …); null = not given.",
            vec![one, null()],
        )
    }

    /// A string of one of `words` in any letter case, with the white space `str::trim` removes,
    /// or blank when `blank` is true: the query flags read with `eq_ignore_ascii_case`.
    pub fn any_case(description: &str, words: &[&str], blank: bool) -> RefOr<Schema> {
        let mut alternatives: Vec<String> = words
            .iter()
            .map(|w| {
                w.chars()
                    .map(|c| match c.is_ascii_alphabetic() {
                        true => format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()),
                        false => c.to_string(),
                    })
                    .collect()
            })
            .collect();
        if blank {
            alternatives.push(String::new());
        }
        string_branch(&format!("({})", alternatives.join("|")))
            .description(Some(description))
            .into()
    }

    /// `Paging.PageSize` / `RowCount`: 1 to [`MAX_PAGE_SIZE`].
    pub fn page_size() -> RefOr<Schema> {
        lenient(
            "Rows per page, 1 to 1000 (default 25), as a number or a string of digits.",
            vec![
                int_branch(1, MAX_PAGE_SIZE),
                string_branch("\\+?0*([1-9][0-9]{0,2}|1000)"),
                null(),
            ],
        )
    }

    /// `Paging.PageIndex` / `Offset`: a page number, 1-based (0 counts as 1).
    pub fn page_number() -> RefOr<Schema> {
        lenient(
            "The page number, 1-based (0 counts as 1; default 1), as a number or a string of digits.",
            vec![
                int_branch(0, i64::MAX),
                string_branch("\\+?[0-9]{1,18}"),
                null(),
            ],
        )
    }

    /// `Sorting.Direction`: 1 newest first, 0 oldest first.
    pub fn direction() -> RefOr<Schema> {
        lenient(
            "1 = newest first (default), 0 = oldest first; a number or a string.",
            vec![int_branch(0, 1), string_branch("\\+?0*[01]"), null()],
        )
    }

    /// `Sorting` of a call whose `ColumnName` is one of `columns` (`ColumnName`'s schema), or null.
    pub fn sorting(columns: ObjectBuilder) -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .property("ColumnName", columns)
                    .property("Direction", direction()),
            )
            .item(null())
            .into()
    }

    /// `Sorting` of Retrieve and RetrieveRecentlyModified: by when it happened or was modified.
    pub fn sorting_by_time() -> RefOr<Schema> {
        let names = ["CreatedOn", "ActivityDateTime", "ModifiedOn"];
        let any_case: Vec<String> = names
            .iter()
            .map(|w| {
                w.chars()
                    .map(|c| format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase()))
                    .collect()
            })
            .collect();
        sorting(
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::String,
                    Type::Null,
                ]))
                .pattern(Some(format!("^{WS}({})?{WS}$", any_case.join("|"))))
                .description(Some(
                    "CreatedOn or ActivityDateTime (when it happened, the default) or ModifiedOn, any case.",
                )),
        )
    }

    /// `ActivityEvent` of CreateType: a custom type's code, 201 to 11999; absent or null = the
    /// next free code.
    pub fn custom_event_code() -> RefOr<Schema> {
        lenient(
            "A custom type's event code, 201 to 11999, as a number or a string; null = the next free code.",
            vec![
                int_branch(201, 11999),
                string_branch("\\+?0*(20[1-9]|2[1-9][0-9]|[3-9][0-9]{2}|[1-9][0-9]{3}|1[01][0-9]{3})"),
                null(),
            ],
        )
    }

    /// A score an activity type gives, or an activity is given:
    /// [`crate::domain::rules::MAX_SCORE`] either way.
    pub fn score() -> RefOr<Schema> {
        use crate::domain::rules::MAX_SCORE;
        lenient(
            "A score from -1000000000 to 1000000000, as a number or a string of digits; null = not given.",
            vec![
                int_branch(-MAX_SCORE, MAX_SCORE),
                string_branch("([+-]?0*[0-9]{1,9}|[+-]?0*1000000000)"),
                null(),
            ],
        )
    }

    /// `Direction` of an activity type: 0 inbound, 1 outbound.
    pub fn type_direction() -> RefOr<Schema> {
        lenient(
            "0 = inbound, 1 = outbound; a number or a string.",
            vec![int_branch(0, 1), string_branch("(\\+?0*[01]|-0+)"), null()],
        )
    }

    /// `yyyy-MM-dd HH:mm:ss`, UTC (the pattern keeps to days every month has), empty, or null.
    pub fn lsq_datetime() -> RefOr<Schema> {
        lenient(
            "`yyyy-MM-dd HH:mm:ss`, UTC, a year from 0001 to 9999; empty or null = not given.",
            vec![
                string_branch(DATETIME),
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(format!("^{WS}$"))),
                null(),
            ],
        )
    }

    /// A required `yyyy-MM-dd HH:mm:ss` (RetrieveRecentlyModified's window): no empty or null form.
    pub fn lsq_datetime_required() -> RefOr<Schema> {
        string_branch(DATETIME)
            .description(Some(
                "`yyyy-MM-dd HH:mm:ss`, UTC, a year from 0001 to 9999 (required).",
            ))
            .into()
    }

    impl PartialSchema for Int {
        fn schema() -> RefOr<Schema> {
            int()
        }
    }
    impl ToSchema for Int {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("LsqInteger")
        }
    }

    impl PartialSchema for Bool {
        fn schema() -> RefOr<Schema> {
            lenient(
                "A boolean: true/false, 1/0, or a string: true, false, yes, no, 1, 0 (any case) or empty (false).",
                vec![
                    ObjectBuilder::new().schema_type(Type::Boolean),
                    int_branch(0, 1),
                    string_branch("([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy][Ee][Ss]|[Nn][Oo]|1|0|)"),
                ],
            )
        }
    }
    impl ToSchema for Bool {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("LsqBoolean")
        }
    }

    impl PartialSchema for Text {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::String,
                    Type::Number,
                    Type::Boolean,
                    Type::Null,
                ]))
                .description(Some(
                    "A value kept as text: a string, or a number or boolean (stored as its text).",
                ))
                .into()
        }
    }
    impl ToSchema for Text {
        fn name() -> Cow<'static, str> {
            Cow::Borrowed("LsqText")
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
        assert_eq!(serde_json::from_str::<Bool>("1.0").unwrap(), Bool(true));
        assert!(serde_json::from_str::<Bool>("0.5").is_err());
        assert_eq!(
            serde_json::from_str::<Text>("123").unwrap(),
            Text("123".into())
        );
    }
}
