//! The rules an activity type definition must satisfy, checked once here for every dialect.

use std::ops::RangeInclusive;

use super::{is_salesloft_type, FieldDef, NewActivityType, NewLead, TypeKind};
use super::{FIRST_CUSTOM_CODE, FIRST_OPPORTUNITY_CODE};
use crate::error::{Error, Field, Result};

/// How many custom fields a type may have (`mx_Custom_1` … `mx_Custom_50`).
pub const MAX_FIELDS: usize = 50;

/// The longest activity type name, in characters.
pub const MAX_TYPE_NAME_CHARS: usize = 255;

impl TypeKind {
    /// The event codes a type of this kind may have: 201..=11999 for custom types, 12000 and up
    /// for opportunity types (system types are 101..=125 and never created).
    pub fn event_codes(self) -> RangeInclusive<i64> {
        match self {
            TypeKind::Opportunity => FIRST_OPPORTUNITY_CODE..=i64::MAX,
            _ => FIRST_CUSTOM_CODE..=FIRST_OPPORTUNITY_CODE - 1,
        }
    }
}

fn invalid(field: Field, reason: String) -> Error {
    Error::Invalid { field, reason }
}

/// A type's name (already trimmed): present and at most [`MAX_TYPE_NAME_CHARS`] long.
pub fn check_type_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::Required(Field::TypeName));
    }
    if name.chars().count() > MAX_TYPE_NAME_CHARS {
        return Err(invalid(
            Field::TypeName,
            format!("must be at most {MAX_TYPE_NAME_CHARS} characters long"),
        ));
    }
    Ok(())
}

/// The longest lead name (first or last), in characters.
pub const MAX_LEAD_NAME_CHARS: usize = 255;
/// The longest lead email, in characters (RFC 5321's limit on a path).
pub const MAX_LEAD_EMAIL_CHARS: usize = 254;
/// The longest lead phone or mobile number, in characters.
pub const MAX_LEAD_PHONE_CHARS: usize = 50;
/// The longest value of any other lead attribute, in characters.
pub const MAX_LEAD_ATTRIBUTE_CHARS: usize = 4000;

fn check_len(field: Field, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(invalid(field, format!("is longer than {max} characters")));
    }
    Ok(())
}

/// The lengths of a new lead's values (already trimmed), the same whichever dialect sent them.
pub fn check_lead_lengths(lead: &NewLead) -> Result<()> {
    for (field, value, max) in [
        (Field::LeadFirstName, &lead.first_name, MAX_LEAD_NAME_CHARS),
        (Field::LeadLastName, &lead.last_name, MAX_LEAD_NAME_CHARS),
        (Field::LeadEmail, &lead.email, MAX_LEAD_EMAIL_CHARS),
        (Field::LeadPhone, &lead.phone, MAX_LEAD_PHONE_CHARS),
        (Field::LeadMobile, &lead.mobile, MAX_LEAD_PHONE_CHARS),
    ] {
        if let Some(v) = value {
            check_len(field, v, max)?;
        }
    }
    for (name, value) in &lead.attributes {
        check_len(
            Field::LeadAttribute(name.clone()),
            value,
            MAX_LEAD_ATTRIBUTE_CHARS,
        )?;
    }
    Ok(())
}

/// The code a new type of `kind` gets when none is given: one past the highest code of its kind
/// already taken (`highest`), or the first of its range. Refused (409) once the range is used up,
/// rather than running into the next kind's codes.
pub fn next_event_code(kind: TypeKind, highest: Option<i64>) -> Result<i64> {
    let codes = kind.event_codes();
    match highest {
        None => Ok(*codes.start()),
        Some(h) if h < *codes.end() => Ok(h + 1),
        Some(_) => Err(Error::Conflict(format!(
            "No event code is left for a new {} type ({}..={} are taken); give one explicitly",
            kind.as_str(),
            codes.start(),
            codes.end()
        ))),
    }
}

/// An event code chosen for a new type must lie in its kind's range.
pub fn check_event_code(kind: TypeKind, code: i64) -> Result<()> {
    let codes = kind.event_codes();
    if codes.contains(&code) {
        return Ok(());
    }
    let reason = match kind {
        TypeKind::Opportunity => {
            format!(
                "of an opportunity type must be {} or more, not {code}",
                codes.start()
            )
        }
        _ => format!(
            "of a custom type must be {}..={}, not {code}",
            codes.start(),
            codes.end()
        ),
    };
    Err(invalid(Field::EventCode, reason))
}

pub fn check_direction(d: i64) -> Result<()> {
    if d == 0 || d == 1 {
        return Ok(());
    }
    Err(invalid(
        Field::Direction,
        format!("must be 0 (inbound) or 1 (outbound), not {d}"),
    ))
}

/// The largest score an activity type may give, or an activity be given, either way. A lead's score is the sum of its
/// activities' scores in a 64-bit integer: with this bound it cannot overflow before a lead has
/// nine billion activities, where an unbounded score overflowed on the second.
pub const MAX_SCORE: i64 = 1_000_000_000;

pub fn check_score(score: i64) -> Result<()> {
    if (-MAX_SCORE..=MAX_SCORE).contains(&score) {
        return Ok(());
    }
    Err(invalid(
        Field::Score,
        format!("must be between -{MAX_SCORE} and {MAX_SCORE}, not {score}"),
    ))
}

pub fn check_salesloft_type(t: &str) -> Result<()> {
    if is_salesloft_type(t) {
        return Ok(());
    }
    Err(invalid(
        Field::SalesloftType,
        format!("'{t}' is not one of the 25 Salesloft activity types"),
    ))
}

/// A type's custom field definitions: at most [`MAX_FIELDS`], each named `mx_Custom_N` once, and
/// the option-set types with their options.
pub fn check_fields(fields: &[FieldDef]) -> Result<()> {
    if fields.len() > MAX_FIELDS {
        return Err(invalid(
            Field::TypeFields,
            format!("must hold at most {MAX_FIELDS} custom fields"),
        ));
    }
    for (i, f) in fields.iter().enumerate() {
        let numbered = f
            .schema_name
            .strip_prefix("mx_Custom_")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| (1..=MAX_FIELDS).contains(&n));
        if !numbered {
            return Err(invalid(
                Field::SchemaName(i),
                format!(
                    "must be mx_Custom_1 to mx_Custom_{MAX_FIELDS}, not '{}'",
                    f.schema_name
                ),
            ));
        }
        if fields[..i].iter().any(|g| g.schema_name == f.schema_name) {
            return Err(invalid(
                Field::SchemaName(i),
                format!("'{}' is given twice", f.schema_name),
            ));
        }
        if f.data_type.has_options() && f.options.is_empty() {
            return Err(invalid(
                Field::Options {
                    index: i,
                    schema_name: f.schema_name.clone(),
                },
                format!("must list the options of a {} field", f.data_type.as_str()),
            ));
        }
    }
    Ok(())
}

/// Everything a new type must satisfy, in the order a client would fix it.
pub fn check_new_type(ty: &NewActivityType) -> Result<()> {
    check_type_name(&ty.name)?;
    if let Some(code) = ty.event_code {
        check_event_code(ty.kind, code)?;
    }
    check_score(ty.score)?;
    check_direction(ty.direction)?;
    check_salesloft_type(&ty.salesloft_type)?;
    check_fields(&ty.fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_code_follows_the_highest_and_stays_in_its_range() {
        assert_eq!(next_event_code(TypeKind::Custom, None).ok(), Some(201));
        assert_eq!(next_event_code(TypeKind::Custom, Some(250)).ok(), Some(251));
        assert_eq!(
            next_event_code(TypeKind::Opportunity, None).ok(),
            Some(12000)
        );
        assert!(matches!(
            next_event_code(TypeKind::Custom, Some(11999)),
            Err(Error::Conflict(_))
        ));
    }

    #[test]
    fn event_codes_follow_the_documented_ranges() {
        assert!(check_event_code(TypeKind::Custom, 201).is_ok());
        assert!(check_event_code(TypeKind::Custom, 11999).is_ok());
        assert!(check_event_code(TypeKind::Opportunity, 12000).is_ok());
        assert!(check_event_code(TypeKind::Opportunity, 11999).is_err());
        let e = check_event_code(TypeKind::Custom, 12000).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ActivityEvent of a custom type must be 201..=11999, not 12000"
        );
        match e {
            Error::Invalid { field, reason } => assert_eq!(
                format!("{} {reason}", field.native_name()),
                "'event_code' of a custom type must be 201..=11999, not 12000"
            ),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }
}
