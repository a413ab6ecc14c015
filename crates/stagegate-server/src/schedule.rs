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
    let start = minute_of(tz, at)?;
    walk(cron, start, Direction::Back)
}

/// The earliest time strictly after `at` (ms) that `cron` matches in `tz`,
/// in ms: when a cron job is next due.
pub fn next_run(cron: &Cron, tz: &TimeZone, at: Millis) -> Option<Millis> {
    let start = minute_of(tz, at)?.checked_add(1.minute()).ok()?;
    walk(cron, start, Direction::Forward)
}

/// The minute `at` falls in, in `tz`.
fn minute_of(tz: &TimeZone, at: Millis) -> Option<Zoned> {
    Timestamp::from_millisecond(at)
        .ok()?
        .to_zoned_datetime(tz.clone())
        .with()
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Forward,
    Back,
}

/// The first minute from `z` on (or back) that `cron` matches, within
/// the horizon; whole days and hours that cannot match are skipped.
fn walk(cron: &Cron, mut z: Zoned, direction: Direction) -> Option<Millis> {
    let forward = direction == Direction::Forward;
    let limit = if forward {
        z.checked_add(HORIZON_DAYS.days()).ok()?
    } else {
        z.checked_sub(HORIZON_DAYS.days()).ok()?
    };
    // Skipping a day or an hour lands on its first minute going forward,
    // on its last going back.
    let (edge_hour, edge_minute) = if forward { (0, 0) } else { (23, 59) };
    let step = |z: Zoned, span: jiff::Span| {
        if forward {
            z.checked_add(span).ok()
        } else {
            z.checked_sub(span).ok()
        }
    };
    while if forward { z < limit } else { z > limit } {
        z = match matches(cron, &z) {
            (true, true, true, true) => return Some(z.timestamp().as_millisecond()),
            (false, _, _, _) | (_, false, _, _) => {
                let day = z.with().hour(edge_hour).minute(edge_minute).build().ok()?;
                step(day, 1.day())?
            }
            (_, _, false, _) => step(z.with().minute(edge_minute).build().ok()?, 1.hour())?,
            (_, _, _, false) => step(z, 1.minute())?,
        };
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

    #[test]
    fn finds_the_next_due_minute_in_a_zone() {
        let daily = Cron::parse("0 2 * * *").expect("cron");
        let utc = TimeZone::UTC;
        assert_eq!(
            next_run(&daily, &utc, ms("2026-11-26T01:59:59Z")),
            Some(ms("2026-11-26T02:00:00Z"))
        );
        assert_eq!(
            next_run(&daily, &utc, ms("2026-11-26T02:00:00Z")),
            Some(ms("2026-11-27T02:00:00Z")),
            "strictly after"
        );
        let berlin = TimeZone::get("Europe/Berlin").expect("tz");
        assert_eq!(
            next_run(&daily, &berlin, ms("2026-11-26T05:30:00Z")),
            Some(ms("2026-11-27T01:00:00Z"))
        );
        // 2026-03-29 02:30 does not exist in Berlin (clocks jump 02:00 → 03:00).
        let half_past_two = Cron::parse("30 2 * * *").expect("cron");
        let after = next_run(&half_past_two, &berlin, ms("2026-03-28T12:00:00Z")).expect("run");
        assert!(after > ms("2026-03-29T00:00:00Z"), "{after}");
        let weekdays = Cron::parse("30 3 * * mon-fri").expect("cron");
        // 2026-11-27 is a Friday: after its run, the next is Monday the 30th.
        assert_eq!(
            next_run(&weekdays, &utc, ms("2026-11-27T03:30:00Z")),
            Some(ms("2026-11-30T03:30:00Z"))
        );
        let every_15 = Cron::parse("*/15 * * * *").expect("cron");
        assert_eq!(
            next_run(&every_15, &utc, ms("2026-11-26T10:07:12Z")),
            Some(ms("2026-11-26T10:15:00Z"))
        );
        // Consistent with previous_run: the run before the next one is the
        // latest one at or before the time asked about.
        for t in ["2026-11-26T10:07:12Z", "2026-11-29T12:00:00Z"] {
            let next = next_run(&weekdays, &utc, ms(t)).expect("next");
            assert_eq!(
                previous_run(&weekdays, &utc, next - 1),
                previous_run(&weekdays, &utc, ms(t))
            );
        }
        let never = Cron::parse("0 0 30 2 *").expect("cron");
        assert_eq!(next_run(&never, &utc, ms("2026-11-26T00:00:00Z")), None);
    }
}

/// Whether `at` falls in the maintenance window `m` (start time in `tz`).
/// Windows may run past midnight, so days before `at` are considered too.
pub fn in_window(m: &stagegate_spec::Maintenance, tz: &TimeZone, at: Millis) -> bool {
    const DAYS: [stagegate_spec::Weekday; 7] = {
        use stagegate_spec::Weekday::*;
        [Mon, Tue, Wed, Thu, Fri, Sat, Sun]
    };
    let Ok(ts) = Timestamp::from_millisecond(at) else {
        return false;
    };
    let now = ts.to_zoned_datetime(tz.clone());
    let duration_ms = i64::try_from(m.duration.get().as_millis()).unwrap_or(i64::MAX);
    let look_back = duration_ms / 86_400_000 + 1;
    let (hour, minute) = ((m.start_minute / 60) as i8, (m.start_minute % 60) as i8);
    (0..=look_back).any(|back| {
        let Ok(day) = now.date().checked_sub(back.days()) else {
            return false;
        };
        let weekday = DAYS[day.weekday().to_monday_zero_offset() as usize];
        if !m.weekdays.is_empty() && !m.weekdays.contains(&weekday) {
            return false;
        }
        let Ok(start) = day.at(hour, minute, 0, 0).to_zoned_datetime(tz.clone()) else {
            return false;
        };
        let start = start.timestamp().as_millisecond();
        start <= at && at < start.saturating_add(duration_ms)
    })
}

#[cfg(test)]
mod window_tests {
    use super::*;
    use stagegate_spec::{Duration, Maintenance, Weekday};

    fn ms(s: &str) -> Millis {
        s.parse::<Timestamp>().expect("timestamp").as_millisecond()
    }

    fn window(start: u32, hours: u64, days: Vec<Weekday>) -> Maintenance {
        Maintenance {
            start_minute: start,
            duration: Duration::from_secs(hours * 3600),
            weekdays: days,
            timezone: None,
            span: stagegate_spec::Span::default(),
        }
    }

    #[test]
    fn windows_by_weekday_time_zone_and_across_midnight() {
        let utc = TimeZone::UTC;
        // Saturdays 23:00 for 3 h: until Sunday 02:00. 2026-11-28 is a Saturday.
        let sat_night = window(23 * 60, 3, vec![Weekday::Sat]);
        assert!(in_window(&sat_night, &utc, ms("2026-11-28T23:30:00Z")));
        assert!(in_window(&sat_night, &utc, ms("2026-11-29T01:59:00Z")));
        assert!(!in_window(&sat_night, &utc, ms("2026-11-29T02:00:00Z")));
        assert!(
            !in_window(&sat_night, &utc, ms("2026-11-27T23:30:00Z")),
            "Friday night is not in it"
        );
        // Every day 02:00 Berlin for 1 h = 01:00-02:00 UTC in November.
        let berlin = TimeZone::get("Europe/Berlin").expect("tz");
        let nightly = window(2 * 60, 1, vec![]);
        assert!(in_window(&nightly, &berlin, ms("2026-11-26T01:30:00Z")));
        assert!(!in_window(&nightly, &berlin, ms("2026-11-26T02:30:00Z")));
    }
}
