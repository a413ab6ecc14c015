//! The server's own metrics in the Prometheus text exposition format:
//! probe latency histograms, scheduler lag, outbox depth, pings, store
//! errors, check status and open incidents. A scrape reads memory only, so
//! it answers at once while the store is down; check status and incidents
//! are refreshed from the store every tick (every node of a cluster reports
//! the same truth), and `stagegate_store_up` says when that last worked.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default, Debug, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default, Debug)]
pub struct Metrics {
    latency: Mutex<BTreeMap<String, Histogram>>,
    lag_micros: AtomicU64,
    outbox_depth: AtomicU64,
    pings: AtomicU64,
    store_errors: AtomicU64,
    /// Refusals by (what, reason): pings, sign-ins, API requests.
    refused: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Confirmed status per check key: up, down, or unknown (`None`).
    checks: Mutex<BTreeMap<String, Option<bool>>>,
    open_incidents: AtomicU64,
    /// Whether the last refresh from the store worked, and when one last did.
    store_up: AtomicBool,
    store_seen_ms: AtomicI64,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn observe_latency(&self, check: &str, d: Duration) {
        let secs = d.as_secs_f64();
        if let Ok(mut map) = self.latency.lock() {
            let h = map.entry(check.to_owned()).or_default();
            for (i, le) in BUCKETS.iter().enumerate() {
                if secs <= *le {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    pub fn scheduler_lag(&self, lag: Duration) {
        self.lag_micros.store(
            u64::try_from(lag.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub fn outbox_depth(&self, depth: u64) {
        self.outbox_depth.store(depth, Ordering::Relaxed);
    }

    pub fn ping(&self) {
        self.pings.fetch_add(1, Ordering::Relaxed);
    }

    /// A ping refused: `reason` is "rate" or "input".
    pub fn ping_refused(&self, reason: &'static str) {
        self.refuse("pings", reason);
    }

    /// A sign-in or API request refused: `reason` is "invalid", "revoked",
    /// "expired" or "rate".
    pub fn auth_refused(&self, reason: &'static str) {
        self.refuse("auth", reason);
    }

    fn refuse(&self, what: &'static str, reason: &'static str) {
        if let Ok(mut m) = self.refused.lock() {
            *m.entry((what, reason)).or_default() += 1;
        }
    }

    /// What the store said at `at`: the open incidents, and every check's
    /// status when it was read too.
    pub fn refreshed(&self, checks: Option<BTreeMap<String, Option<bool>>>, open: u64, at: i64) {
        if let Some(checks) = checks
            && let Ok(mut c) = self.checks.lock()
        {
            *c = checks;
        }
        self.open_incidents.store(open, Ordering::Relaxed);
        self.store_up.store(true, Ordering::Relaxed);
        self.store_seen_ms.store(at, Ordering::Relaxed);
    }

    /// One check's confirmed status changed here: shown at once, without
    /// waiting for the next read of every check from the store.
    pub fn set_check(&self, check: &str, status: stagegate_store::CheckStatus) {
        let up = match status {
            stagegate_store::CheckStatus::Up => Some(true),
            stagegate_store::CheckStatus::Down => Some(false),
            stagegate_store::CheckStatus::Unknown => None,
        };
        if let Ok(mut c) = self.checks.lock() {
            if let Some(v) = c.get_mut(check) {
                *v = up;
            } else {
                c.insert(check.to_owned(), up);
            }
        }
    }

    /// The store could not be read: the last values stay, marked stale.
    pub fn store_down(&self) {
        self.store_up.store(false, Ordering::Relaxed);
        self.store_error();
    }

    /// Forgets the series of checks no longer in the spec.
    pub fn retain_checks(&self, keep: &dyn Fn(&str) -> bool) {
        if let Ok(mut c) = self.checks.lock() {
            c.retain(|k, _| keep(k));
        }
        if let Ok(mut l) = self.latency.lock() {
            l.retain(|k, _| keep(k));
        }
    }

    pub fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Renders everything, from memory.
    pub fn render(&self) -> String {
        let up = self.checks.lock().map(|c| c.clone()).unwrap_or_default();
        let open_incidents = self.open_incidents.load(Ordering::Relaxed);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP stagegate_check_up Whether a check is confirmed up (1), down (0); absent while unknown."
        );
        let _ = writeln!(out, "# TYPE stagegate_check_up gauge");
        for (check, state) in &up {
            if let Some(up) = state {
                let _ = writeln!(
                    out,
                    "stagegate_check_up{{check=\"{}\"}} {}",
                    escape(check),
                    u8::from(*up)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP stagegate_check_latency_seconds Probe duration."
        );
        let _ = writeln!(out, "# TYPE stagegate_check_latency_seconds histogram");
        if let Ok(map) = self.latency.lock() {
            for (check, h) in map.iter() {
                let c = escape(check);
                for (i, le) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "stagegate_check_latency_seconds_bucket{{check=\"{c}\",le=\"{le}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "stagegate_check_latency_seconds_bucket{{check=\"{c}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "stagegate_check_latency_seconds_sum{{check=\"{c}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "stagegate_check_latency_seconds_count{{check=\"{c}\"}} {}",
                    h.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP stagegate_incidents_open Incidents not yet resolved."
        );
        let _ = writeln!(out, "# TYPE stagegate_incidents_open gauge");
        let _ = writeln!(out, "stagegate_incidents_open {open_incidents}");
        let _ = writeln!(
            out,
            "# HELP stagegate_scheduler_lag_seconds How late the last scheduled check started."
        );
        let _ = writeln!(out, "# TYPE stagegate_scheduler_lag_seconds gauge");
        let _ = writeln!(
            out,
            "stagegate_scheduler_lag_seconds {}",
            self.lag_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "# HELP stagegate_outbox_depth Notifications not yet delivered."
        );
        let _ = writeln!(out, "# TYPE stagegate_outbox_depth gauge");
        let _ = writeln!(
            out,
            "stagegate_outbox_depth {}",
            self.outbox_depth.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP stagegate_pings_total Heartbeat pings accepted."
        );
        let _ = writeln!(out, "# TYPE stagegate_pings_total counter");
        let _ = writeln!(
            out,
            "stagegate_pings_total {}",
            self.pings.load(Ordering::Relaxed)
        );
        let refused = self.refused.lock().map(|m| m.clone()).unwrap_or_default();
        for (what, help) in [
            ("pings", "Heartbeat pings refused, by reason."),
            ("auth", "Sign-ins and API requests refused, by reason."),
        ] {
            let _ = writeln!(out, "# HELP stagegate_{what}_refused_total {help}");
            let _ = writeln!(out, "# TYPE stagegate_{what}_refused_total counter");
            for ((w, reason), n) in &refused {
                if *w == what {
                    let _ = writeln!(
                        out,
                        "stagegate_{what}_refused_total{{reason=\"{reason}\"}} {n}"
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP stagegate_store_up Whether the last read of check status and incidents from the store worked; when 0, those series are stale."
        );
        let _ = writeln!(out, "# TYPE stagegate_store_up gauge");
        let _ = writeln!(
            out,
            "stagegate_store_up {}",
            u8::from(self.store_up.load(Ordering::Relaxed))
        );
        let seen = self.store_seen_ms.load(Ordering::Relaxed);
        if seen > 0 {
            let _ = writeln!(
                out,
                "# HELP stagegate_store_last_success_timestamp_seconds When check status and incidents were last read from the store."
            );
            let _ = writeln!(
                out,
                "# TYPE stagegate_store_last_success_timestamp_seconds gauge"
            );
            let _ = writeln!(
                out,
                "stagegate_store_last_success_timestamp_seconds {}",
                seen as f64 / 1000.0
            );
        }
        let _ = writeln!(
            out,
            "# HELP stagegate_store_errors_total Store operations that failed."
        );
        let _ = writeln!(out, "# TYPE stagegate_store_errors_total counter");
        let _ = writeln!(
            out,
            "stagegate_store_errors_total {}",
            self.store_errors.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP stagegate_audit_write_failures_total Changes whose audit record the store refused (the change stands; the log has a gap)."
        );
        let _ = writeln!(out, "# TYPE stagegate_audit_write_failures_total counter");
        let _ = writeln!(
            out,
            "stagegate_audit_write_failures_total {}",
            crate::audit::FAILURES.load(Ordering::Relaxed)
        );
        out
    }
}

/// Keeps check status, open incidents and outbox depth in memory fresh.
/// Status changes made on this node are set as they happen
/// ([`Metrics::set_check`]). Every `tick` (and at once when an incident
/// changed) this reads the open incidents and the outbox depth, which
/// also tells whether the store answers. Every check's status is read at
/// the start, when an incident changed or the spec was reloaded, and in a
/// cluster every tick (other nodes change things too); alone, nothing else
/// changes it, and reading 10,000 checks is not free (in time, and in the
/// memory the rows take while they are read).
/// Runs until aborted.
pub async fn refresh(state: std::sync::Arc<crate::AppState>, tick: Duration) {
    /// A read that takes longer marks the store down rather than leaving
    /// the metrics to wait for it.
    const READ_WAIT: Duration = Duration::from_secs(2);
    let mut woken = true;
    loop {
        let snapshot = state.snapshot();
        let keys = &snapshot.keys;
        let now = state.clock.now();
        let all = woken || state.cluster;
        let read = async {
            let states = if all {
                Some(state.store.check_states().await?)
            } else {
                None
            };
            let open = state.store.incidents(now, 10_000).await?;
            let depth = state.store.outbox_depth().await?;
            Ok::<_, stagegate_store::StoreError>((states, open, depth))
        };
        match tokio::time::timeout(READ_WAIT, read).await {
            Ok(Ok((states, open, depth))) => {
                state.metrics.outbox_depth(depth);
                let open = open.iter().filter(|i| i.resolved_at.is_none()).count();
                let checks = states.map(|states| {
                    states
                        .into_iter()
                        .filter(|s| keys.contains(&s.check))
                        .map(|s| {
                            let up = match s.status {
                                stagegate_store::CheckStatus::Up => Some(true),
                                stagegate_store::CheckStatus::Down => Some(false),
                                stagegate_store::CheckStatus::Unknown => None,
                            };
                            (s.check, up)
                        })
                        .collect()
                });
                state
                    .metrics
                    .refreshed(checks, u64::try_from(open).unwrap_or(u64::MAX), now);
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read check status for the metrics");
                state.metrics.store_down();
            }
            Err(_) => {
                tracing::error!(
                    "the store did not answer within 2s; metrics keep their last values"
                );
                state.metrics.store_down();
            }
        }
        if all {
            state.metrics.retain_checks(&|k| keys.contains(k));
        }
        woken = tokio::select! {
            _ = tokio::time::sleep(tick) => false,
            _ = state.board_wake.notified() => true,
        };
    }
}
