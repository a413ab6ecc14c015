//! Humantime durations that remember how they were written, so messages can
//! quote the user's own "6h" rather than a normalised "21600s".

use std::fmt;
use std::time::Duration as StdDuration;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Duration {
    value: StdDuration,
    text: String,
}

impl Duration {
    /// Parses a humantime duration ("30s", "1h 30m", "365d").
    pub fn parse(text: &str) -> Result<Duration, humantime::DurationError> {
        Ok(Duration {
            value: humantime::parse_duration(text)?,
            text: text.trim().to_owned(),
        })
    }

    /// A duration with a canonical spelling (used for defaults).
    pub fn from_secs(secs: u64) -> Duration {
        let text = match secs {
            0 => "0s".to_owned(),
            s if s % 86_400 == 0 => format!("{}d", s / 86_400),
            s if s % 3_600 == 0 => format!("{}h", s / 3_600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        };
        Duration {
            value: StdDuration::from_secs(secs),
            text,
        }
    }

    pub fn get(&self) -> StdDuration {
        self.value
    }

    pub fn as_secs(&self) -> u64 {
        self.value.as_secs()
    }

    /// Whole days, rounded down.
    pub fn whole_days(&self) -> u64 {
        self.value.as_secs() / 86_400
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialOrd for Duration {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.value.cmp(&other.value))
    }
}
