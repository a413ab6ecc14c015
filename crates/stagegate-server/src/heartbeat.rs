//! Judging a heartbeat from its pings: late, failed, too short or too long.
//! Pure, so every rule of it is tested without a clock or a server.

use std::time::Duration;

use stagegate_store::{Millis, PingKind, StoredPing};

use crate::schedule::{describe, next_run, previous_run};
use crate::snapshot::{Heartbeat, Schedule};

/// What the pings say now. `None` means "not yet known" (no ping since the
/// server started, and not late yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub up: bool,
    pub summary: String,
}

fn ms(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn human(ms: Millis) -> String {
    let s = ms.max(0) / 1000;
    match (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60) {
        (0, 0, 0, s) => format!("{s}s"),
        (0, 0, m, s) => format!("{m}m {s}s"),
        (0, h, m, _) => format!("{h}h {m}m"),
        (d, h, _, _) => format!("{d}d {h}h"),
    }
}

fn is_success(p: &StoredPing) -> bool {
    p.ping.kind == PingKind::Success
        || (p.ping.kind == PingKind::Exit && p.ping.exit_code == Some(0))
}

fn is_failure(p: &StoredPing) -> bool {
    p.ping.kind == PingKind::Fail || (p.ping.kind == PingKind::Exit && p.ping.exit_code != Some(0))
}

/// `pings` newest first; `since` is when watching began (server start).
pub fn judge(h: &Heartbeat, pings: &[StoredPing], now: Millis, since: Millis) -> Option<Verdict> {
    let events: Vec<&StoredPing> = pings
        .iter()
        .filter(|p| p.ping.kind != PingKind::Log)
        .collect();
    if let Some(last) = events.first() {
        if is_failure(last) {
            let how = match last.ping.exit_code {
                Some(code) if last.ping.kind == PingKind::Exit => format!("exit code {code}"),
                _ => "a failure".to_owned(),
            };
            return Some(Verdict {
                up: false,
                summary: format!(
                    "the job reported {how} {} ago",
                    human(now - last.ping.received_at)
                ),
            });
        }
        if last.ping.kind == PingKind::Start
            && let Some(max) = h.max_duration.map(ms)
        {
            let running = now - last.ping.received_at;
            if running > max {
                return Some(Verdict {
                    up: false,
                    summary: format!(
                        "the job started {} ago and has not finished (max_duration {})",
                        human(running),
                        human(max)
                    ),
                });
            }
        }
    }
    let success = events.iter().find(|p| is_success(p));
    match &h.schedule {
        Schedule::Every(period) => {
            let period = ms(*period);
            let allowed = period + ms(h.grace);
            let Some(success) = success else {
                let waited = now - since;
                return (waited > allowed).then(|| Verdict {
                    up: false,
                    summary: format!(
                        "no successful ping for {} (expected every {} + grace {})",
                        human(waited),
                        human(period),
                        human(ms(h.grace))
                    ),
                });
            };
            let age = now - success.ping.received_at;
            if age > allowed {
                return Some(Verdict {
                    up: false,
                    summary: format!(
                        "the last successful ping was {} ago (expected every {} + grace {})",
                        human(age),
                        human(period),
                        human(ms(h.grace))
                    ),
                });
            }
        }
        Schedule::Cron { cron, tz } => {
            // The latest run that should have reported by now.
            let due = previous_run(cron, tz, now - ms(h.grace))?;
            let reported = success.is_some_and(|s| s.ping.received_at >= due);
            if !reported {
                if due < since && success.is_none() {
                    // Due before watching began: unknown, not late.
                    return None;
                }
                return Some(Verdict {
                    up: false,
                    summary: format!(
                        "the run due at {} ({cron}) has not reported (grace {})",
                        describe(due, tz),
                        human(ms(h.grace))
                    ),
                });
            }
        }
    }
    let success = success?;
    let age = now - success.ping.received_at;
    // Pair the success with its start: the same run id, else the latest
    // start before it.
    let start = events.iter().find(|p| {
        p.ping.kind == PingKind::Start
            && p.ping.received_at <= success.ping.received_at
            && p.id < success.id
            && match (&success.ping.run_id, &p.ping.run_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    });
    if let Some(start) = start {
        let took = success.ping.received_at - start.ping.received_at;
        if let Some(min) = h.min_duration.map(ms).filter(|min| took < *min) {
            return Some(Verdict {
                up: false,
                summary: format!(
                    "the last run finished in {}, shorter than min_duration {}",
                    human(took),
                    human(min)
                ),
            });
        }
        if let Some(max) = h.max_duration.map(ms).filter(|max| took > *max) {
            return Some(Verdict {
                up: false,
                summary: format!(
                    "the last run took {}, longer than max_duration {}",
                    human(took),
                    human(max)
                ),
            });
        }
        return Some(Verdict {
            up: true,
            summary: format!("last run finished {} ago after {}", human(age), human(took)),
        });
    }
    Some(Verdict {
        up: true,
        summary: format!("last successful ping {} ago", human(age)),
    })
}

/// The earliest time after `now` at which [`judge`] may say something else
/// without a new ping: when the job becomes late, when a running job
/// exceeds `max_duration`, when the next cron run falls due. `None` when
/// only a ping can change the verdict. The server sleeps until this time
/// instead of polling, so lateness is detected at its exact deadline.
pub fn deadline(h: &Heartbeat, pings: &[StoredPing], now: Millis, since: Millis) -> Option<Millis> {
    let mut events = pings.iter().filter(|p| p.ping.kind != PingKind::Log);
    let last = events.clone().next();
    if last.is_some_and(is_failure) {
        return None;
    }
    let mut earliest: Option<Millis> = None;
    let mut consider = |at: Millis| {
        if at > now {
            earliest = Some(earliest.map_or(at, |e| e.min(at)));
        }
    };
    if let Some(last) = last
        && last.ping.kind == PingKind::Start
        && let Some(max) = h.max_duration.map(ms)
    {
        consider(last.ping.received_at + max + 1);
    }
    let success = events.find(|p| is_success(p));
    match &h.schedule {
        Schedule::Every(period) => {
            let allowed = ms(*period) + ms(h.grace);
            let base = success.map_or(since, |s| s.ping.received_at);
            consider(base + allowed + 1);
        }
        Schedule::Cron { cron, tz } => {
            let grace = ms(h.grace);
            if let Some(next) = next_run(cron, tz, now - grace) {
                consider(next + grace);
            }
        }
    }
    earliest
}

/// One run of a watched job, as its pings tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub started_at: Option<Millis>,
    pub finished_at: Millis,
    pub ok: bool,
    pub exit_code: Option<i32>,
}

impl Run {
    pub fn duration(&self) -> Option<Millis> {
        self.started_at.map(|s| self.finished_at - s)
    }
}

/// Runs from `pings` (newest first, as stored), newest first: each success
/// or failure paired with the start of the same run id, or else with the
/// latest unpaired start before it. Log pings are not runs.
pub fn runs(pings: &[StoredPing]) -> Vec<Run> {
    let mut open_by_id: std::collections::HashMap<&str, Millis> = std::collections::HashMap::new();
    let mut open_plain: Option<Millis> = None;
    let mut out = Vec::new();
    for p in pings.iter().rev() {
        let at = p.ping.received_at;
        let rid = p.ping.run_id.as_deref();
        if p.ping.kind == PingKind::Start {
            match rid {
                Some(id) => {
                    open_by_id.insert(id, at);
                }
                None => open_plain = Some(at),
            }
            continue;
        }
        if !is_success(p) && !is_failure(p) {
            continue;
        }
        let started_at = match rid {
            Some(id) => open_by_id.remove(id),
            None => open_plain.take(),
        };
        out.push(Run {
            started_at,
            finished_at: at,
            ok: is_success(p),
            exit_code: p.ping.exit_code,
        });
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagegate_store::Ping;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    fn hb() -> Heartbeat {
        Heartbeat {
            internal: false,
            environment: "prod".into(),
            check: "backup".into(),
            token: "t".into(),
            schedule: Schedule::Every(Duration::from_secs(24 * 3600)),
            grace: Duration::from_secs(3600),
            min_duration: Some(Duration::from_secs(5 * 60)),
            max_duration: Some(Duration::from_secs(8 * 3600)),
        }
    }

    /// Pings given oldest first, returned newest first as the store does.
    fn pings(list: &[(PingKind, i64, Option<i32>, Option<&str>)]) -> Vec<StoredPing> {
        let mut out: Vec<StoredPing> = list
            .iter()
            .enumerate()
            .map(|(i, (kind, at, code, rid))| StoredPing {
                id: i as i64 + 1,
                ping: Ping {
                    token: "t".into(),
                    kind: *kind,
                    exit_code: *code,
                    run_id: rid.map(str::to_owned),
                    received_at: *at,
                    remote: None,
                    body: None,
                },
            })
            .collect();
        out.reverse();
        out
    }

    const NOW: i64 = 100 * 24 * HOUR;

    #[test]
    fn runs_pair_starts_with_their_finish() {
        let p = pings(&[
            (PingKind::Start, 1_000, None, None),
            (PingKind::Log, 1_500, None, None),
            (PingKind::Success, 61_000, None, None),
            (PingKind::Start, 100_000, None, Some("a")),
            (PingKind::Start, 110_000, None, Some("b")),
            (PingKind::Exit, 130_000, Some(2), Some("a")),
            (PingKind::Success, 170_000, None, Some("b")),
            (PingKind::Success, 200_000, None, None),
        ]);
        let r = runs(&p);
        assert_eq!(r.len(), 4, "{r:?}");
        assert_eq!(
            (r[0].finished_at, r[0].duration(), r[0].ok),
            (200_000, None, true)
        );
        assert_eq!((r[1].duration(), r[1].ok), (Some(60_000), true));
        assert_eq!(
            (r[2].duration(), r[2].ok, r[2].exit_code),
            (Some(30_000), false, Some(2))
        );
        assert_eq!((r[3].duration(), r[3].ok), (Some(60_000), true));
    }

    #[test]
    fn on_time_and_late() {
        let p = pings(&[
            (PingKind::Start, NOW - 2 * HOUR, None, None),
            (PingKind::Success, NOW - HOUR, None, None),
        ]);
        let v = judge(&hb(), &p, NOW, 0).expect("verdict");
        assert!(v.up, "{}", v.summary);
        assert_eq!(v.summary, "last run finished 1h 0m ago after 1h 0m");
        // 24 h + 1 h grace is the limit: 25 h is fine, 25 h and a second is not.
        let p = pings(&[(PingKind::Success, NOW - 25 * HOUR, None, None)]);
        assert!(judge(&hb(), &p, NOW, 0).expect("verdict").up);
        let p = pings(&[(PingKind::Success, NOW - 25 * HOUR - 1000, None, None)]);
        let v = judge(&hb(), &p, NOW, 0).expect("verdict");
        assert!(!v.up);
        assert_eq!(
            v.summary,
            "the last successful ping was 1d 1h ago (expected every 1d 0h + grace 1h 0m)"
        );
    }

    #[test]
    fn too_short_too_long_and_still_running() {
        let quick = pings(&[
            (PingKind::Start, NOW - HOUR, None, Some("r1")),
            (PingKind::Success, NOW - HOUR + 2000, None, Some("r1")),
        ]);
        let v = judge(&hb(), &quick, NOW, 0).expect("verdict");
        assert_eq!(
            (v.up, v.summary.as_str()),
            (
                false,
                "the last run finished in 2s, shorter than min_duration 5m 0s"
            )
        );
        let slow = pings(&[
            (PingKind::Start, NOW - 10 * HOUR, None, None),
            (PingKind::Success, NOW - HOUR, None, None),
        ]);
        assert_eq!(
            judge(&hb(), &slow, NOW, 0).expect("verdict").summary,
            "the last run took 9h 0m, longer than max_duration 8h 0m"
        );
        let hung = pings(&[
            (PingKind::Success, NOW - 20 * HOUR, None, None),
            (PingKind::Start, NOW - 9 * HOUR, None, None),
        ]);
        let v = judge(&hb(), &hung, NOW, 0).expect("verdict");
        assert!(!v.up);
        assert!(
            v.summary
                .starts_with("the job started 9h 0m ago and has not finished"),
            "{}",
            v.summary
        );
        // Run ids pair the right start with the right finish.
        let overlapping = pings(&[
            (PingKind::Start, NOW - 3 * HOUR, None, Some("a")),
            (PingKind::Start, NOW - HOUR - 10_000, None, Some("b")),
            (PingKind::Success, NOW - HOUR, None, Some("a")),
        ]);
        let v = judge(&hb(), &overlapping, NOW, 0).expect("verdict");
        assert_eq!(v.summary, "last run finished 1h 0m ago after 2h 0m");
    }

    #[test]
    fn failures_and_exit_codes() {
        let p = pings(&[
            (PingKind::Success, NOW - 2 * HOUR, None, None),
            (PingKind::Exit, NOW - HOUR, Some(3), None),
        ]);
        let v = judge(&hb(), &p, NOW, 0).expect("verdict");
        assert_eq!(
            (v.up, v.summary.as_str()),
            (false, "the job reported exit code 3 1h 0m ago")
        );
        let p = pings(&[(PingKind::Fail, NOW - HOUR, None, None)]);
        assert!(!judge(&hb(), &p, NOW, 0).expect("verdict").up);
        let p = pings(&[
            (PingKind::Start, NOW - HOUR - 600_000, None, None),
            (PingKind::Exit, NOW - HOUR, Some(0), None),
            (PingKind::Log, NOW - 1000, None, None),
        ]);
        assert!(
            judge(&hb(), &p, NOW, 0).expect("verdict").up,
            "exit 0 is success; log pings change nothing"
        );
    }

    #[test]
    fn cron_schedules_in_a_time_zone() {
        let daily = Heartbeat {
            internal: false,
            schedule: Schedule::Cron {
                cron: stagegate_spec::Cron::parse("0 2 * * *").expect("cron"),
                tz: jiff::tz::TimeZone::get("Europe/Berlin").expect("tz"),
            },
            min_duration: None,
            ..hb()
        };
        // NOW is 1970-04-11 00:00 UTC (01:00 in Berlin). With 1 h grace the
        // latest run due is yesterday's 02:00 Berlin = 01:00 UTC.
        let due = NOW - 23 * HOUR;
        let on_time = pings(&[(PingKind::Success, due + 20 * MIN, None, None)]);
        assert!(judge(&daily, &on_time, NOW, 0).expect("verdict").up);
        let missed = pings(&[(PingKind::Success, due - 23 * HOUR, None, None)]);
        let v = judge(&daily, &missed, NOW, 0).expect("verdict");
        assert!(!v.up);
        assert_eq!(
            v.summary,
            "the run due at 1970-04-10 02:00 Europe/Berlin (0 2 * * *) has not reported (grace 1h 0m)"
        );
        // Watching began after it was due and nothing has arrived: unknown.
        assert_eq!(judge(&daily, &[], NOW, due + HOUR), None);
    }

    /// The verdict stays what it is until the deadline and may change at it;
    /// checked on a grid of times for several histories.
    #[test]
    fn deadlines_are_exactly_when_the_verdict_can_change() {
        let hourly = Heartbeat {
            internal: false,
            schedule: Schedule::Every(Duration::from_secs(3600)),
            grace: Duration::from_secs(600),
            min_duration: None,
            max_duration: Some(Duration::from_secs(1800)),
            ..hb()
        };
        let nightly = Heartbeat {
            internal: false,
            schedule: Schedule::Cron {
                cron: stagegate_spec::Cron::parse("0 2 * * *").expect("cron"),
                tz: jiff::tz::TimeZone::get("Europe/Berlin").expect("tz"),
            },
            grace: Duration::from_secs(900),
            min_duration: None,
            max_duration: None,
            ..hb()
        };
        let histories = [
            pings(&[(PingKind::Success, NOW - 10 * MIN, None, None)]),
            pings(&[
                (PingKind::Success, NOW - 2 * HOUR, None, None),
                (PingKind::Start, NOW - 5 * MIN, None, None),
            ]),
            pings(&[
                (PingKind::Success, NOW - 30 * MIN, None, None),
                (PingKind::Log, NOW - MIN, None, None),
            ]),
            vec![],
        ];
        let since = NOW - 20 * MIN;
        for h in [&hourly, &nightly] {
            for p in &histories {
                let v = judge(h, p, NOW, since);
                let Some(d) = deadline(h, p, NOW, since) else {
                    continue;
                };
                assert!(d > NOW);
                let mut t = NOW;
                while t < d {
                    assert_eq!(
                        judge(h, p, t, since).map(|v| v.up),
                        v.as_ref().map(|v| v.up)
                    );
                    t += ((d - NOW) / 97).max(1);
                }
                assert_eq!(
                    judge(h, p, d - 1, since).map(|v| v.up),
                    v.as_ref().map(|v| v.up),
                    "unchanged a millisecond before the deadline"
                );
                let at = judge(h, p, d, since);
                assert!(
                    at.as_ref().map(|v| v.up) != Some(true)
                        || v.as_ref().map(|v| v.up) != Some(true),
                    "an up verdict goes down at its deadline: {at:?}"
                );
            }
        }
        // Late by 10 minutes and 1 ms exactly.
        let p = pings(&[(PingKind::Success, NOW - 10 * MIN, None, None)]);
        assert_eq!(deadline(&hourly, &p, NOW, since), Some(NOW + 60 * MIN + 1));
        // A failure stays until a ping changes it.
        let failed = pings(&[(PingKind::Fail, NOW - MIN, None, None)]);
        assert_eq!(deadline(&hourly, &failed, NOW, since), None);
        // Still running: the job overruns max_duration first.
        let running = pings(&[
            (PingKind::Success, NOW - 10 * MIN, None, None),
            (PingKind::Start, NOW - 5 * MIN, None, None),
        ]);
        assert_eq!(
            deadline(&hourly, &running, NOW, since),
            Some(NOW + 25 * MIN + 1)
        );
    }

    #[test]
    fn no_ping_yet() {
        assert_eq!(judge(&hb(), &[], NOW, NOW - HOUR), None, "not late yet");
        let v = judge(&hb(), &[], NOW, NOW - 26 * HOUR).expect("verdict");
        assert!(!v.up);
        assert!(
            v.summary.starts_with("no successful ping for 1d 2h"),
            "{}",
            v.summary
        );
    }
}
