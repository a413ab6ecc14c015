//! Five-field cron expressions (`minute hour day-of-month month
//! day-of-week`), as crontab(5) reads them: `*`, lists, ranges, steps,
//! month and weekday names, and the usual rule that when both day fields
//! are restricted, either may match.

use std::fmt;

/// A parsed expression; each field is a bit set of the values it allows.
#[derive(Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    days_restricted: bool,
    weekdays_restricted: bool,
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cron({:?})", self.text)
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CronError(pub String);

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn value(
    s: &str,
    lo: u32,
    hi: u32,
    names: &[&str],
    name_base: u32,
    field: &str,
) -> Result<u32, CronError> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as u32 + name_base);
    }
    match s.parse::<u32>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(CronError(format!(
            "`{s}` is not a valid {field} (expected {lo}-{hi})"
        ))),
    }
}

/// Parses one field into a bit set over `lo..=hi`.
fn field(
    s: &str,
    lo: u32,
    hi: u32,
    names: &[&str],
    name_base: u32,
    name: &str,
) -> Result<(u64, bool), CronError> {
    let mut bits = 0u64;
    let restricted = s != "*" && s != "?";
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => {
                let step: u32 = st.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    CronError(format!("`{st}` is not a valid step in the {name} field"))
                })?;
                (r, step)
            }
            None => (part, 1),
        };
        let (from, to) = if range == "*" || range == "?" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, lo, hi, names, name_base, name)?,
                value(b, lo, hi, names, name_base, name)?,
            )
        } else {
            let v = value(range, lo, hi, names, name_base, name)?;
            (v, if part.contains('/') { hi } else { v })
        };
        if from > to {
            return Err(CronError(format!(
                "`{range}` is an empty range in the {name} field"
            )));
        }
        let mut v = from;
        while v <= to {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, restricted))
}

impl Cron {
    pub fn parse(text: &str) -> Result<Cron, CronError> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [m, h, dom, mon, dow] = parts[..] else {
            return Err(CronError(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                parts.len()
            )));
        };
        let (minutes, _) = field(m, 0, 59, &[], 0, "minute")?;
        let (hours, _) = field(h, 0, 23, &[], 0, "hour")?;
        let (days, days_restricted) = field(dom, 1, 31, &[], 0, "day-of-month")?;
        let (months, _) = field(mon, 1, 12, &MONTHS, 1, "month")?;
        let (mut weekdays, weekdays_restricted) = field(dow, 0, 7, &WEEKDAYS, 0, "day-of-week")?;
        // 7 is Sunday too.
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1;
        }
        Ok(Cron {
            text: text.trim().to_owned(),
            minutes,
            hours: hours as u32,
            days: days as u32,
            months: months as u16,
            weekdays: (weekdays & 0x7f) as u8,
            days_restricted,
            weekdays_restricted,
        })
    }

    pub fn matches_minute(&self, minute: u32) -> bool {
        self.minutes & (1 << minute) != 0
    }

    pub fn matches_hour(&self, hour: u32) -> bool {
        self.hours & (1 << hour) != 0
    }

    pub fn matches_month(&self, month: u32) -> bool {
        self.months & (1 << month) != 0
    }

    /// `weekday` 0 = Sunday.
    pub fn matches_day(&self, day: u32, weekday: u32) -> bool {
        let dom = self.days & (1 << day) != 0;
        let dow = self.weekdays & (1 << weekday) != 0;
        match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            (false, false) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_crontab_forms() {
        let c = Cron::parse("*/15 2 * * mon-fri").expect("cron");
        assert!(c.matches_minute(0) && c.matches_minute(45) && !c.matches_minute(10));
        assert!(c.matches_hour(2) && !c.matches_hour(3));
        assert!(c.matches_day(10, 1) && !c.matches_day(10, 0));
        let sunday = Cron::parse("0 0 * * 7").expect("cron");
        assert!(sunday.matches_day(3, 0));
        let either = Cron::parse("0 0 1 * sun").expect("cron");
        assert!(either.matches_day(1, 3) && either.matches_day(9, 0) && !either.matches_day(9, 2));
        let months = Cron::parse("0 3 1 jan,jul *").expect("cron");
        assert!(months.matches_month(1) && months.matches_month(7) && !months.matches_month(2));
        assert!(Cron::parse("0 2 * *").is_err());
        assert_eq!(
            Cron::parse("61 * * * *").expect_err("range").0,
            "`61` is not a valid minute (expected 0-59)"
        );
        assert!(Cron::parse("*/0 * * * *").is_err());
        assert!(Cron::parse("5-1 * * * *").is_err());
    }
}
