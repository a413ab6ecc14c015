//! Calendar dates (UTC, proleptic Gregorian) for pentest dates, waiver expiry
//! and `--as-of`: a count of days, which is all the rules compare, with the
//! calendar itself left to jiff (the one the server keeps time with).

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Days since 1970-01-01.
    days: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid date: expected YYYY-MM-DD, e.g. 2026-12-15")]
pub struct DateError(pub String);

impl Date {
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        let date = jiff::civil::Date::new(
            i16::try_from(year).ok()?,
            i8::try_from(month).ok()?,
            i8::try_from(day).ok()?,
        )
        .ok()?;
        Some(Date {
            days: date.duration_since(EPOCH).as_secs().div_euclid(86_400),
        })
    }

    /// Today in UTC, from the system clock.
    pub fn today_utc() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date {
            days: i64::try_from(secs / 86_400).unwrap_or(0),
        }
    }

    /// The UTC date of a Unix timestamp.
    pub fn from_unix_secs(secs: i64) -> Date {
        Date {
            days: secs.div_euclid(86_400),
        }
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let date = jiff::SignedDuration::from_hours(self.days.saturating_mul(24));
        match EPOCH.checked_add(date) {
            Ok(d) => (
                i32::from(d.year()),
                u32::from(d.month().unsigned_abs()),
                u32::from(d.day().unsigned_abs()),
            ),
            // Beyond jiff's range (years ±9999): the nearest end.
            Err(_) if self.days < 0 => (-9999, 1, 1),
            Err(_) => (9999, 12, 31),
        }
    }

    /// Whole days from `earlier` to `self` (negative when `self` is earlier).
    pub fn days_since(self, earlier: Date) -> i64 {
        self.days - earlier.days
    }

    /// The first second of the day, in Unix seconds.
    pub fn start_unix_secs(self) -> i64 {
        self.days.saturating_mul(86_400)
    }

    /// The last second of the day, in Unix seconds: "as of this date" means
    /// as of its end.
    pub fn end_unix_secs(self) -> i64 {
        self.start_unix_secs().saturating_add(86_399)
    }

    pub fn add_days(self, days: i64) -> Date {
        Date {
            days: self.days + days,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.to_owned());
        let mut parts = s.splitn(3, '-');
        let (y, m, d) = (
            parts.next().ok_or_else(err)?,
            parts.next().ok_or_else(err)?,
            parts.next().ok_or_else(err)?,
        );
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(err());
        }
        let y = y.parse().map_err(|_| err())?;
        let m = m.parse().map_err(|_| err())?;
        let d = d.parse().map_err(|_| err())?;
        Date::from_ymd(y, m, d).ok_or_else(err)
    }
}

const EPOCH: jiff::civil::Date = jiff::civil::date(1970, 1, 1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_counts_days() {
        let d: Date = "2024-02-29".parse().expect("leap day");
        assert_eq!(d.to_string(), "2024-02-29");
        assert_eq!("1970-01-01".parse::<Date>().map(|d| d.days), Ok(0));
        let a: Date = "2025-09-15".parse().expect("date");
        let b: Date = "2026-09-15".parse().expect("date");
        assert_eq!(b.days_since(a), 365);
        assert_eq!(a.add_days(365), b);
        assert!("2025-02-29".parse::<Date>().is_err());
        assert!("2025-13-01".parse::<Date>().is_err());
        assert!("25-01-01".parse::<Date>().is_err());
        assert!("2025-1-1".parse::<Date>().is_err());
    }
}
