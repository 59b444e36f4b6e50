//! The dialect's `date-str`: ISO 8601 in UTC with milliseconds out (`2026-11-28T01:02:03.456Z`);
//! ISO 8601 (with or without a zone) or Unix milliseconds in.

/// A time as this dialect shows it.
pub fn format(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Reads a time; `Some(None)` for an empty string (no time), `None` when it is no time at all.
pub fn parse(text: &str) -> Option<Option<i64>> {
    let text = text.trim();
    if text.is_empty() || text == "null" || text == "undefined" {
        return Some(None);
    }
    if let Ok(ms) = text.parse::<i64>() {
        return Some(Some(ms));
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(Some(time.timestamp_millis()));
    }
    for pattern in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text, pattern) {
            return Some(Some(time.and_utc().timestamp_millis()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{format, parse};

    #[test]
    fn times_round_trip_and_every_reading_is_taken() {
        let ms = 1_690_550_409_896;
        assert_eq!(format(ms), "2023-07-28T13:20:09.896Z");
        assert_eq!(parse(&format(ms)), Some(Some(ms)));
        assert_eq!(parse("2023-07-28T15:20:09.896+02:00"), Some(Some(ms)));
        assert_eq!(parse("2023-07-28T13:20:09.896"), Some(Some(ms)));
        assert_eq!(parse("1690550409896"), Some(Some(ms)));
        assert_eq!(parse(""), Some(None));
        assert_eq!(parse("null"), Some(None));
        assert_eq!(parse("yesterday"), None);
    }
}
