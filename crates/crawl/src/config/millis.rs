//! `#[serde(with = "millis")]`: a [`Duration`] on the wire as whole milliseconds (a `u64`), the
//! form configurations had when their fields were `_ms: u64`, so journals and jobs written
//! before read the same and a job's key ([`CrawlConfig::digest`](super::CrawlConfig::digest))
//! does not change.
//!
//! Serializing truncates to the millisecond and saturates at `u64::MAX` ms; deserializing
//! accepts any `u64`.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Whole milliseconds of `d`, saturating at `u64::MAX`.
pub(crate) fn as_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Writes `d` as whole milliseconds.
pub(crate) fn serialize<S: Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(as_millis(*d))
}

/// Reads whole milliseconds into a [`Duration`].
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    u64::deserialize(deserializer).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(rename = "pause_ms", with = "super")]
        pause: Duration,
    }

    fn wire(pause: Duration) -> String {
        serde_json::to_string(&Holder { pause }).unwrap()
    }

    #[test]
    fn a_duration_is_whole_milliseconds_on_the_wire() {
        let json = wire(Duration::from_millis(1500));
        assert_eq!(json, r#"{"pause_ms":1500}"#);
        let back: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(back.pause, Duration::from_millis(1500));
    }

    #[test]
    fn sub_milliseconds_truncate_and_huge_values_saturate() {
        assert_eq!(wire(Duration::from_micros(2_999)), r#"{"pause_ms":2}"#);
        let json = wire(Duration::MAX);
        assert_eq!(json, format!(r#"{{"pause_ms":{}}}"#, u64::MAX));
        let back: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(back.pause, Duration::from_millis(u64::MAX));
    }

    #[test]
    fn a_negative_or_fractional_value_is_refused() {
        assert!(serde_json::from_str::<Holder>(r#"{"pause_ms":-1}"#).is_err());
        assert!(serde_json::from_str::<Holder>(r#"{"pause_ms":1.5}"#).is_err());
    }
}
