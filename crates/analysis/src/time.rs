//! Timestamps: the `asked` text of a record -> Unix milliseconds, and
//! datetime values <-> ISO 8601 text for the text formats (CSV, JSON Lines).

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use polars::prelude::TimeUnit;

/// Parses an ISO 8601 / RFC 3339 timestamp into Unix milliseconds (UTC).
///
/// Accepts `2010-08-24T05:01:23Z`, the space-separated form Stack Overflow
/// puts in its `title` attributes (`2010-08-24 05:01:23Z`), fractional
/// seconds, numeric offsets (`+02:00`) and timestamps without an offset,
/// which are taken as UTC (Stack Overflow shows times in UTC). Leading and
/// trailing white space is ignored. Anything else — relative dates such as
/// `"3 days ago"`, dates without a time — gives `None`.
///
/// ```
/// use sofleet_analysis::parse_timestamp_ms;
/// assert_eq!(parse_timestamp_ms("2010-08-24T05:01:23Z"), Some(1_282_626_083_000));
/// assert_eq!(parse_timestamp_ms("2010-08-24 05:01:23Z"), Some(1_282_626_083_000));
/// assert_eq!(parse_timestamp_ms("2010-08-24T07:01:23.5+02:00"), Some(1_282_626_083_500));
/// assert_eq!(parse_timestamp_ms("2010-08-24T05:01:23"), Some(1_282_626_083_000));
/// assert_eq!(parse_timestamp_ms("yesterday"), None);
/// ```
pub fn parse_timestamp_ms(text: &str) -> Option<i64> {
    parse_datetime(text).map(|dt| dt.timestamp_millis())
}

/// [`parse_timestamp_ms`] as a chrono value.
fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    // RFC 3339 with `T` or a space between date and time.
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    // No offset: UTC. `%.f` also matches no fraction at all.
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// Parses text written by [`format_datetime`] (or any form
/// [`parse_timestamp_ms`] accepts) as a count of `unit`s since the epoch.
pub(crate) fn parse_datetime_in(text: &str, unit: TimeUnit) -> Option<i64> {
    let dt = parse_datetime(text)?;
    match unit {
        TimeUnit::Milliseconds => Some(dt.timestamp_millis()),
        TimeUnit::Microseconds => Some(dt.timestamp_micros()),
        TimeUnit::Nanoseconds => dt.timestamp_nanos_opt(),
    }
}

/// ISO 8601 text of a datetime value: `2010-08-24T05:01:23.000Z` for a UTC
/// millisecond value (6 / 9 fraction digits for micro- / nanoseconds; no `Z`
/// when `utc` is false, i.e. for a datetime without time zone). `None` if
/// the value lies outside the years 0000–9999, which ISO text cannot hold
/// without an extended year.
pub(crate) fn format_datetime(value: i64, unit: TimeUnit, utc: bool) -> Option<String> {
    let dt = match unit {
        TimeUnit::Milliseconds => DateTime::from_timestamp_millis(value)?,
        TimeUnit::Microseconds => DateTime::from_timestamp_micros(value)?,
        TimeUnit::Nanoseconds => DateTime::from_timestamp_nanos(value),
    };
    if !(0..=9999).contains(&dt.year()) {
        return None;
    }
    let format = match (unit, utc) {
        (TimeUnit::Milliseconds, true) => "%Y-%m-%dT%H:%M:%S%.3fZ",
        (TimeUnit::Milliseconds, false) => "%Y-%m-%dT%H:%M:%S%.3f",
        (TimeUnit::Microseconds, true) => "%Y-%m-%dT%H:%M:%S%.6fZ",
        (TimeUnit::Microseconds, false) => "%Y-%m-%dT%H:%M:%S%.6f",
        (TimeUnit::Nanoseconds, true) => "%Y-%m-%dT%H:%M:%S%.9fZ",
        (TimeUnit::Nanoseconds, false) => "%Y-%m-%dT%H:%M:%S%.9f",
    };
    Some(dt.format(format).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_overflow_forms_parse_to_the_same_instant() {
        let expected = Some(1_282_626_083_000);
        for text in [
            "2010-08-24T05:01:23Z",
            "2010-08-24 05:01:23Z",
            "2010-08-24T05:01:23",
            "2010-08-24 05:01:23",
            "  2010-08-24T05:01:23Z\n",
            "2010-08-24T05:01:23.000Z",
            "2010-08-24T05:01:23+00:00",
            "2010-08-24T06:01:23+01:00",
            "2010-08-24t05:01:23z",
        ] {
            assert_eq!(parse_timestamp_ms(text), expected, "{text:?}");
        }
    }

    #[test]
    fn fractions_and_epoch_edges() {
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp_ms("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(
            parse_timestamp_ms("2000-02-29T12:00:00.123456Z"),
            Some(951_825_600_123)
        );
        assert_eq!(
            parse_timestamp_ms("9999-12-31T23:59:59.999Z"),
            Some(253_402_300_799_999)
        );
    }

    #[test]
    fn anything_else_is_none() {
        for text in [
            "",
            "yesterday",
            "asked 3 days ago",
            "2010-08-24",
            "2010-02-30T00:00:00Z",
            "2010-08-24T25:00:00Z",
            "24/08/2010 05:01",
            "2010-08-24T05:01Z",
        ] {
            assert_eq!(parse_timestamp_ms(text), None, "{text:?}");
        }
    }

    #[test]
    fn formatting_round_trips_in_every_unit() {
        for (value, unit, text) in [
            (
                1_282_626_083_000,
                TimeUnit::Milliseconds,
                "2010-08-24T05:01:23.000Z",
            ),
            (-1, TimeUnit::Milliseconds, "1969-12-31T23:59:59.999Z"),
            (
                1_282_626_083_000_001,
                TimeUnit::Microseconds,
                "2010-08-24T05:01:23.000001Z",
            ),
            (
                1_282_626_083_000_000_001,
                TimeUnit::Nanoseconds,
                "2010-08-24T05:01:23.000000001Z",
            ),
            (
                253_402_300_799_999,
                TimeUnit::Milliseconds,
                "9999-12-31T23:59:59.999Z",
            ),
        ] {
            assert_eq!(format_datetime(value, unit, true).as_deref(), Some(text));
            assert_eq!(parse_datetime_in(text, unit), Some(value), "{text}");
        }
        assert_eq!(
            format_datetime(0, TimeUnit::Milliseconds, false).as_deref(),
            Some("1970-01-01T00:00:00.000")
        );
    }

    #[test]
    fn values_beyond_four_digit_years_cannot_be_formatted() {
        assert_eq!(
            format_datetime(i64::MIN, TimeUnit::Milliseconds, true),
            None
        );
        assert_eq!(
            format_datetime(i64::MAX, TimeUnit::Milliseconds, true),
            None
        );
        assert_eq!(
            format_datetime(253_402_300_800_000, TimeUnit::Milliseconds, true),
            None
        );
    }
}
