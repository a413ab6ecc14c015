//! Instants as reports and probes print them: RFC 3339 UTC timestamps (as
//! restic and Prometheus print them too) and short ages.

/// Seconds since the epoch of `2026-11-26T03:00:01.5+01:00` (fractions and
/// offsets honoured; `Z` is UTC).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    s.trim()
        .parse::<jiff::Timestamp>()
        .ok()
        .map(jiff::Timestamp::as_second)
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp.
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), |t| t.to_string())
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// "3d 4h", "5h 2m", "42m", "17s".
pub fn age(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_and_fractions() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339("1970-01-01T00:00:10.987654321-00:30"),
            Some(1810)
        );
        assert_eq!(
            parse_rfc3339("2026-11-26T03:00:01.5+01:00"),
            Some(1_795_658_401)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(age(3 * 86_400 + 4 * 3600 + 5), "3d 4h");
        assert_eq!(age(125), "2m");
    }
}
