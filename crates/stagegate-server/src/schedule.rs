//! Cron schedules in a time zone: when was a job last due?

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, ZonedDateTime as Zoned};
use stagegate_spec::Cron;
use stagegate_store::Millis;

/// How far back to look for a matching minute before giving up (a schedule
/// like "0 0 30 2 *" never matches).
const HORIZON_DAYS: i64 = 400;

fn matches(cron: &Cron, z: &Zoned) -> (bool, bool, bool, bool) {
    let month = cron.matches_month(z.month() as u32);
    let day = cron.matches_day(z.day() as u32, z.weekday().to_sunday_zero_offset() as u32);
    let hour = cron.matches_hour(z.hour() as u32);
    let minute = cron.matches_minute(z.minute() as u32);
    (month, day, hour, minute)
}

/// The latest time at or before `at` (ms) that `cron` matches in `tz`, in ms.
pub fn previous_run(cron: &Cron, tz: &TimeZone, at: Millis) -> Option<Millis> {
    let ts = Timestamp::from_millisecond(at).ok()?;
    let mut z = ts
        .to_zoned_datetime(tz.clone())
        .with()
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .ok()?;
    let limit = z.checked_sub(HORIZON_DAYS.days()).ok()?;
    while z > limit {
        match matches(cron, &z) {
            (true, true, true, true) => return Some(z.timestamp().as_millisecond()),
            // Skip whole days, hours or minutes that cannot match.
            (false, _, _, _) | (_, false, _, _) => {
                z = z
                    .with()
                    .hour(23)
                    .minute(59)
                    .build()
                    .ok()?
                    .checked_sub(1.day())
                    .ok()?;
            }
            (_, _, false, _) => {
                z = z
                    .with()
                    .minute(59)
                    .build()
                    .ok()?
                    .checked_sub(1.hour())
                    .ok()?;
            }
            (_, _, _, false) => z = z.checked_sub(1.minute()).ok()?,
        }
    }
    None
}

/// A time in `tz`, for messages: "2026-11-26 02:00 Europe/Berlin".
pub fn describe(at: Millis, tz: &TimeZone) -> String {
    match Timestamp::from_millisecond(at) {
        Ok(ts) => {
            let z = ts.to_zoned_datetime(tz.clone());
            format!(
                "{} {}",
                z.strftime("%Y-%m-%d %H:%M"),
                tz.iana_name().unwrap_or("UTC")
            )
        }
        Err(_) => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>().expect("timestamp").as_millisecond()
    }

    #[test]
    fn finds_the_last_due_minute_in_a_zone() {
        let daily = Cron::parse("0 2 * * *").expect("cron");
        let utc = TimeZone::UTC;
        assert_eq!(
            previous_run(&daily, &utc, ms("2026-11-26T05:30:00Z")),
            Some(ms("2026-11-26T02:00:00Z"))
        );
        assert_eq!(
            previous_run(&daily, &utc, ms("2026-11-26T01:59:00Z")),
            Some(ms("2026-11-25T02:00:00Z"))
        );
        assert_eq!(
            previous_run(&daily, &utc, ms("2026-11-26T02:00:00Z")),
            Some(ms("2026-11-26T02:00:00Z"))
        );
        let berlin = TimeZone::get("Europe/Berlin").expect("tz");
        // 02:00 in Berlin (UTC+1 in November) is 01:00 UTC.
        assert_eq!(
            previous_run(&daily, &berlin, ms("2026-11-26T05:30:00Z")),
            Some(ms("2026-11-26T01:00:00Z"))
        );
        let weekdays = Cron::parse("30 3 * * mon-fri").expect("cron");
        // 2026-11-29 is a Sunday: the last weekday run was Friday the 27th.
        assert_eq!(
            previous_run(&weekdays, &utc, ms("2026-11-29T12:00:00Z")),
            Some(ms("2026-11-27T03:30:00Z"))
        );
        assert_eq!(
            describe(ms("2026-11-26T01:00:00Z"), &berlin),
            "2026-11-26 02:00 Europe/Berlin"
        );
        let never = Cron::parse("0 0 30 2 *").expect("cron");
        assert_eq!(previous_run(&never, &utc, ms("2026-11-26T00:00:00Z")), None);
    }
}
