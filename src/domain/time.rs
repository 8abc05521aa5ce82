//! Timestamps: stored as microseconds since the Unix epoch (UTC), rendered per dialect.

use time::{
    format_description::FormatItem, macros::format_description, OffsetDateTime, PrimitiveDateTime,
};

/// Microseconds since 1970-01-01T00:00:00Z; the store's only time representation.
pub type Micros = i64;

/// 0001-01-01T00:00:00Z, the earliest instant an input may name.
pub const EARLIEST: Micros = -62_135_596_800_000_000;
/// 9999-12-31T23:59:59.999999Z, the latest instant an input may name.
pub const LATEST: Micros = 253_402_300_799_999_999;

/// How error messages state the accepted range. Every dialect renders a timestamp as a four-digit
/// year (RFC 3339 and LeadSquared's `yyyy-MM-dd HH:mm:ss` allow no other), so the parsers below
/// refuse instants outside 0001–9999 UTC rather than store what could not be served back.
pub const YEAR_RANGE: &str = "a year from 0001 to 9999 (UTC)";

/// `us` if it lies in the renderable range.
fn in_range(us: Micros) -> Option<Micros> {
    (EARLIEST..=LATEST).contains(&us).then_some(us)
}

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

/// `yyyy-MM-dd?HH:mm:ss` of `dt` (`?` = `sep`), digits written directly: each row of a page has up
/// to four timestamps, and the general formatting machinery was 8% of a Salesloft page (profiled).
/// `None` for years outside 0–9999, which the callers format the general way.
fn stamp(dt: &OffsetDateTime, sep: u8, out: &mut [u8; 19]) -> Option<()> {
    let year = u16::try_from(dt.year()).ok().filter(|y| *y <= 9999)?;
    let two = |out: &mut [u8; 19], at: usize, v: u8| {
        out[at] = b'0' + v / 10;
        out[at + 1] = b'0' + v % 10;
    };
    two(out, 0, (year / 100) as u8);
    two(out, 2, (year % 100) as u8);
    out[4] = b'-';
    two(out, 5, dt.month() as u8);
    out[7] = b'-';
    two(out, 8, dt.day());
    out[10] = sep;
    two(out, 11, dt.hour());
    out[13] = b':';
    two(out, 14, dt.minute());
    out[16] = b':';
    two(out, 17, dt.second());
    Some(())
}

/// A rendered timestamp, on the stack for years 0–9999 and in a `String` for any other: a page
/// writes up to four per row, and allocating each was measurable (docs/benchmarks.md).
pub enum StampText {
    Short { bytes: [u8; 27], len: usize },
    Long(String),
}

impl StampText {
    pub fn as_str(&self) -> &str {
        match self {
            // Only ASCII digits and separators are ever written here, so this never fails.
            StampText::Short { bytes, len } => std::str::from_utf8(&bytes[..*len]).unwrap_or(""),
            StampText::Long(text) => text,
        }
    }
}

/// `yyyy-MM-dd HH:mm:ss` (LeadSquared's wire format, UTC).
pub fn lsq_text(us: Micros) -> StampText {
    let dt = to_datetime(us);
    let mut date = [0u8; 19];
    match stamp(&dt, b' ', &mut date) {
        Some(()) => {
            let mut bytes = [0u8; 27];
            bytes[..19].copy_from_slice(&date);
            StampText::Short { bytes, len: 19 }
        }
        None => StampText::Long(dt.format(LSQ_DATETIME).unwrap_or_default()),
    }
}

/// `lsq_text` as a `String`.
pub fn format_lsq(us: Micros) -> String {
    lsq_text(us).as_str().to_owned()
}

/// Parses `yyyy-MM-dd HH:mm:ss` as UTC; `None` outside [`YEAR_RANGE`].
pub fn parse_lsq_datetime(s: &str) -> Option<Micros> {
    let dt = PrimitiveDateTime::parse(s.trim(), LSQ_DATETIME).ok()?;
    in_range((dt.assume_utc().unix_timestamp_nanos() / 1_000) as Micros)
}

/// Parses `yyyy-MM-dd` (midnight UTC) or `yyyy-MM-dd HH:mm:ss`; `None` outside [`YEAR_RANGE`].
pub fn parse_lsq_date(s: &str) -> Option<Micros> {
    if let Some(us) = parse_lsq_datetime(s) {
        return Some(us);
    }
    let d = time::Date::parse(s.trim(), LSQ_DATE).ok()?;
    in_range((d.midnight().assume_utc().unix_timestamp_nanos() / 1_000) as Micros)
}

/// RFC 3339 with exactly six fractional digits and `Z`, as Salesloft renders timestamps.
pub fn rfc3339_micros_text(us: Micros) -> StampText {
    let dt = to_datetime(us);
    let mut date = [0u8; 19];
    if stamp(&dt, b'T', &mut date).is_none() {
        return StampText::Long(rfc3339_general(&dt));
    }
    let mut bytes = [0u8; 27];
    bytes[..19].copy_from_slice(&date);
    bytes[19] = b'.';
    let mut micros = dt.microsecond();
    for d in bytes[20..26].iter_mut().rev() {
        *d = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    bytes[26] = b'Z';
    StampText::Short { bytes, len: 27 }
}

/// `rfc3339_micros_text` as a `String`.
pub fn format_rfc3339_micros(us: Micros) -> String {
    rfc3339_micros_text(us).as_str().to_owned()
}

/// `format_rfc3339_micros` through the general formatter (any year).
fn rfc3339_general(dt: &OffsetDateTime) -> String {
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

/// Parses an ISO-8601/RFC 3339 timestamp (any offset, optional fraction) to microseconds;
/// `None` when the instant, in UTC, falls outside [`YEAR_RANGE`].
pub fn parse_rfc3339(s: &str) -> Option<Micros> {
    let dt =
        OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    in_range((dt.unix_timestamp_nanos() / 1_000) as Micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_like_the_general_formatter() {
        for us in [
            0,
            1,
            999_999,
            1_700_000_000_123_456,
            -1,
            253_402_300_799_999_999, // 9999-12-31T23:59:59.999999Z
            -62_135_596_800_000_000, // 0001-01-01T00:00:00Z
            -62_198_755_200_000_000, // year -1: the general path
        ] {
            let dt = to_datetime(us);
            assert_eq!(
                format_lsq(us),
                dt.format(LSQ_DATETIME).unwrap(),
                "format_lsq({us})"
            );
            assert_eq!(
                format_rfc3339_micros(us),
                rfc3339_general(&dt),
                "format_rfc3339_micros({us})"
            );
        }
        assert_eq!(
            format_rfc3339_micros(1_700_000_000_000_001),
            "2023-11-14T22:13:20.000001Z"
        );
    }

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
    fn only_years_0001_to_9999_parse() {
        for bad in [
            "-0001-01-01 00:00:00",
            "0000-12-31 23:59:59",
            "+10000-01-01 00:00:00",
        ] {
            assert_eq!(parse_lsq_datetime(bad), None, "{bad}");
        }
        assert_eq!(parse_lsq_date("0000-01-01"), None);
        assert_eq!(parse_lsq_datetime("0001-01-01 00:00:00"), Some(EARLIEST));
        assert_eq!(
            parse_lsq_datetime("9999-12-31 23:59:59"),
            Some(LATEST - 999_999)
        );
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00+01:00"), None);
        assert_eq!(parse_rfc3339("9999-12-31T23:30:00-01:00"), None);
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59.999999Z"), Some(LATEST));
        assert_eq!(parse_rfc3339("0001-01-01T00:00:00Z"), Some(EARLIEST));
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
