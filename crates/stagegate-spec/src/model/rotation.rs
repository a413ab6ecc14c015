//! On-call rotations: members taking shifts in turn from a start, in a time
//! zone, with overrides for holidays and swaps.

use crate::{Duration, Span, Spanned};

/// `[rotations.ID]`.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub id: Spanned<String>,
    /// Contact ids, in the order they take shifts.
    pub members: Vec<Spanned<String>>,
    pub shift: Spanned<Duration>,
    /// The first shift's start as written (local time in `timezone`).
    pub start: Spanned<String>,
    pub timezone: Spanned<String>,
    /// The first shift's start, local.
    pub start_local: jiff::civil::DateTime,
    pub zone: jiff::tz::TimeZone,
    pub overrides: Vec<Override>,
    pub span: Span,
}

/// `[[rotations.ID.overrides]]`: `member` is on call from `from` until
/// `until` instead of whoever the rotation says.
#[derive(Debug, Clone)]
pub struct Override {
    pub member: Spanned<String>,
    pub from_text: Spanned<String>,
    pub until_text: Spanned<String>,
    /// Unix seconds, `from` inclusive, `until` exclusive.
    pub from: i64,
    pub until: i64,
    pub span: Span,
}

/// Who is on call at a moment, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift<'r> {
    pub member: &'r str,
    /// Unix seconds, `from` inclusive, `until` exclusive.
    pub from: i64,
    pub until: i64,
    /// Whether an override put `member` there.
    pub overridden: bool,
}

impl Rotation {
    /// A shift of whole days steps in calendar days, so 09:00 stays 09:00
    /// across a daylight-saving change (that day is 23 or 25 hours); any
    /// other shift steps in elapsed time.
    fn boundary(&self, k: i64) -> Option<i64> {
        let start = self
            .zone
            .to_ambiguous_zoned_datetime(self.start_local)
            .compatible()
            .ok()?;
        let secs = i64::try_from(self.shift.value.as_secs()).ok()?;
        let at = if secs % 86_400 == 0 {
            let days = k.checked_mul(secs / 86_400)?;
            start
                .checked_add(jiff::Span::new().try_days(days).ok()?)
                .ok()?
        } else {
            start
                .checked_add(jiff::SignedDuration::from_secs(k.checked_mul(secs)?))
                .ok()?
        };
        Some(at.timestamp().as_second())
    }

    /// The rotation's own shift at `at` (Unix seconds), ignoring overrides;
    /// `None` before the first shift starts.
    fn scheduled(&self, at: i64) -> Option<Shift<'_>> {
        let secs = i64::try_from(self.shift.value.as_secs()).ok()?;
        let first = self.boundary(0)?;
        if at < first || secs == 0 || self.members.is_empty() {
            return None;
        }
        // An estimate in elapsed time, corrected by the calendar's hour
        // lost or gained.
        let mut k = (at - first) / secs;
        while self.boundary(k + 1)? <= at {
            k += 1;
        }
        while k > 0 && self.boundary(k)? > at {
            k -= 1;
        }
        let n = i64::try_from(self.members.len()).ok()?;
        let member = &self.members[usize::try_from(k.rem_euclid(n)).ok()?];
        Some(Shift {
            member: &member.value,
            from: self.boundary(k)?,
            until: self.boundary(k + 1)?,
            overridden: false,
        })
    }

    /// Who is on call at `at` (Unix seconds): an override covering it, else
    /// the rotation's shift, cut short where an override begins.
    pub fn on_call(&self, at: i64) -> Option<Shift<'_>> {
        if let Some(o) = self.overrides.iter().find(|o| o.from <= at && at < o.until) {
            return Some(Shift {
                member: &o.member.value,
                from: o.from,
                until: o.until,
                overridden: true,
            });
        }
        let mut shift = self.scheduled(at)?;
        // An override starting within the shift ends it there; one that
        // ended within it starts it there.
        for o in &self.overrides {
            if o.from > at && o.from < shift.until {
                shift.until = o.from;
            }
            if o.until <= at && o.until > shift.from {
                shift.from = o.until;
            }
        }
        Some(shift)
    }

    /// A moment in the rotation's time zone: `2026-12-24 09:00 CET`.
    pub fn local(&self, at: i64) -> String {
        jiff::Timestamp::from_second(at)
            .map(|t| {
                t.to_zoned_datetime(self.zone.clone())
                    .strftime("%Y-%m-%d %H:%M %Z")
                    .to_string()
            })
            .unwrap_or_else(|_| at.to_string())
    }

    /// The shifts from `at` on, `count` of them, overrides applied.
    pub fn upcoming(&self, at: i64, count: usize) -> Vec<Shift<'_>> {
        let mut out = Vec::with_capacity(count);
        let mut t = at.max(self.boundary(0).unwrap_or(at));
        while out.len() < count {
            let Some(s) = self.on_call(t) else { break };
            if s.until <= t {
                break;
            }
            t = s.until;
            out.push(s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> i64 {
        rfc3339
            .parse::<jiff::Timestamp>()
            .expect("timestamp")
            .as_second()
    }

    fn rotation(shift: &str, overrides: Vec<(&str, &str, &str)>) -> Rotation {
        let zone = jiff::tz::TimeZone::get("Europe/Warsaw").expect("zone");
        let local = |t: &str| t.parse::<jiff::civil::DateTime>().expect("local");
        let unix = |t: &str| {
            zone.to_ambiguous_zoned_datetime(local(t))
                .compatible()
                .expect("zoned")
                .timestamp()
                .as_second()
        };
        let s = |v: &str| Spanned::new(v.to_owned(), Span::new(0, 0));
        Rotation {
            id: s("primary"),
            members: vec![s("alice"), s("bob")],
            shift: Spanned::new(Duration::parse(shift).expect("shift"), Span::new(0, 0)),
            start: s("2026-10-19 09:00"),
            timezone: s("Europe/Warsaw"),
            start_local: local("2026-10-19T09:00"),
            overrides: overrides
                .into_iter()
                .map(|(member, from, until)| Override {
                    member: s(member),
                    from_text: s(from),
                    until_text: s(until),
                    from: unix(from),
                    until: unix(until),
                    span: Span::new(0, 0),
                })
                .collect(),
            zone,
            span: Span::new(0, 0),
        }
    }

    #[test]
    fn whole_day_shifts_keep_their_local_hour_across_daylight_saving() {
        let r = rotation("7d", vec![]);
        assert_eq!(r.on_call(at("2026-10-19T06:59:59Z")), None, "not started");
        // 09:00 CEST is 07:00 UTC; after the change on 25 October, 09:00 CET
        // is 08:00 UTC.
        let first = r.on_call(at("2026-10-19T07:00:00Z")).expect("on call");
        assert_eq!(first.member, "alice");
        assert_eq!(first.from, at("2026-10-19T07:00:00Z"));
        assert_eq!(first.until, at("2026-10-26T08:00:00Z"));
        assert_eq!(r.local(first.until), "2026-10-26 09:00 CET");
        assert_eq!(
            r.on_call(at("2026-10-26T07:59:59Z")).expect("a").member,
            "alice"
        );
        assert_eq!(
            r.on_call(at("2026-10-26T08:00:00Z")).expect("b").member,
            "bob"
        );
        // And in turn, far on.
        assert_eq!(
            r.on_call(at("2027-06-14T07:00:00Z")).expect("x").member,
            "alice"
        );
        // Shifts in hours step in elapsed time: 12h after 07:00 UTC.
        let halves = rotation("12h", vec![]);
        let s = halves.on_call(at("2026-10-25T12:00:00Z")).expect("on call");
        assert_eq!(
            (s.from, s.until),
            (at("2026-10-25T07:00:00Z"), at("2026-10-25T19:00:00Z"))
        );
    }

    #[test]
    fn overrides_take_over_and_cut_the_shifts_around_them() {
        let r = rotation(
            "7d",
            vec![("carol", "2026-10-21T12:00", "2026-10-22T12:00")],
        );
        let before = r.on_call(at("2026-10-20T10:00:00Z")).expect("alice");
        assert_eq!(before.member, "alice");
        assert_eq!(
            before.until,
            at("2026-10-21T10:00:00Z"),
            "until the override"
        );
        let during = r.on_call(at("2026-10-21T10:00:00Z")).expect("carol");
        assert_eq!((during.member, during.overridden), ("carol", true));
        let after = r.on_call(at("2026-10-22T10:00:00Z")).expect("alice again");
        assert_eq!(after.member, "alice");
        assert_eq!(after.from, at("2026-10-22T10:00:00Z"));
        let next: Vec<&str> = r
            .upcoming(at("2026-10-20T00:00:00Z"), 4)
            .iter()
            .map(|s| s.member)
            .collect();
        assert_eq!(next, ["alice", "carol", "alice", "bob"]);
    }
}
