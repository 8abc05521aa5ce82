//! Timestamps: stored as microseconds since the Unix epoch (UTC), rendered per dialect.

use time::{
    format_description::FormatItem, macros::format_description, OffsetDateTime, PrimitiveDateTime,
};

/// Microseconds since 1970-01-01T00:00:00Z; the store's only time representation.
pub type Micros = i64;

const LSQ_DATETIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
const LSQ_DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

pub fn now_micros() -> Micros {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as Micros
}

fn to_datetime(us: Micros) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `yyyy-MM-dd HH:mm:ss` (LeadSquared's wire format, UTC).
pub fn format_lsq(us: Micros) -> String {
    to_datetime(us).format(LSQ_DATETIME).unwrap_or_default()
}

/// Parses `yyyy-MM-dd HH:mm:ss` as UTC.
pub fn parse_lsq_datetime(s: &str) -> Option<Micros> {
    let dt = PrimitiveDateTime::parse(s.trim(), LSQ_DATETIME).ok()?;
    Some((dt.assume_utc().unix_timestamp_nanos() / 1_000) as Micros)
}

/// Parses `yyyy-MM-dd` (midnight UTC) or `yyyy-MM-dd HH:mm:ss`.
pub fn parse_lsq_date(s: &str) -> Option<Micros> {
    if let Some(us) = parse_lsq_datetime(s) {
        return Some(us);
    }
    let d = time::Date::parse(s.trim(), LSQ_DATE).ok()?;
    Some((d.midnight().assume_utc().unix_timestamp_nanos() / 1_000) as Micros)
}

/// RFC 3339 with exactly six fractional digits and `Z`, as Salesloft renders timestamps.
pub fn format_rfc3339_micros(us: Micros) -> String {
    let dt = to_datetime(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.microsecond()
    )
}

/// Parses an ISO-8601/RFC 3339 timestamp (any offset, optional fraction) to microseconds.
pub fn parse_rfc3339(s: &str) -> Option<Micros> {
    let dt =
        OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    Some((dt.unix_timestamp_nanos() / 1_000) as Micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsq_round_trip() {
        let us = parse_lsq_datetime("2015-10-11 12:13:44").unwrap();
        assert_eq!(format_lsq(us), "2015-10-11 12:13:44");
        assert_eq!(
            parse_lsq_date("2016-07-07"),
            parse_lsq_datetime("2016-07-07 00:00:00")
        );
        assert!(parse_lsq_datetime("2015-13-11 12:13:44").is_none());
        assert!(parse_lsq_datetime("yesterday").is_none());
    }

    #[test]
    fn rfc3339_has_six_fraction_digits() {
        let us = parse_rfc3339("2019-01-01T00:00:00.000001Z").unwrap();
        assert_eq!(format_rfc3339_micros(us), "2019-01-01T00:00:00.000001Z");
        assert_eq!(
            parse_rfc3339("2019-01-01T01:00:00+01:00"),
            parse_rfc3339("2019-01-01T00:00:00Z")
        );
    }
}
