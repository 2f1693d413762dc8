//! Time as revbench counts it: whole Unix seconds for `iat`/`exp`, milliseconds for stores that
//! expire precisely, RFC 3339 for results, and the duration syntax of every `--flag`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, the unit of `iat` and `exp`.
pub type UnixSeconds = u64;

/// The current time in whole seconds.
pub fn now_secs() -> UnixSeconds {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The current time in milliseconds since the Unix epoch, for stores that expire precisely.
pub fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The current UTC time as RFC 3339 seconds, e.g. `2026-11-28T05:40:00Z`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// [`now_rfc3339`] fit for a directory name (`:` replaced), e.g. `2026-11-28T05-40-00Z`.
pub fn now_for_path() -> String {
    now_rfc3339().replace(':', "-")
}

/// Parses `15m`, `30s`, `1h 30m`, … with a message naming the expected form.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    humantime::parse_duration(raw)
        .map_err(|e| format!("`{raw}` is not a duration ({e}); use e.g. 30s, 15m, 1h"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Durations parse in humantime's syntax and a bad one names the expected form.
    #[test]
    fn durations_parse_or_name_the_form() {
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("soon").unwrap_err().contains("use e.g. 30s"));
    }

    /// The clocks agree with each other and RFC 3339 ends in Z.
    #[test]
    fn clocks_agree() {
        let (secs, millis) = (now_secs(), now_millis());
        assert!(millis / 1000 >= secs && millis / 1000 - secs <= 1);
        assert!(now_rfc3339().ends_with('Z') && !now_for_path().contains(':'));
    }
}
