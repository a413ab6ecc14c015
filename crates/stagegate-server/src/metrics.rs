//! The server's own metrics in the Prometheus text exposition format:
//! probe latency histograms, scheduler lag, outbox depth, pings, store
//! errors. Check status and open incidents are read from the store when
//! scraped, so every node reports the same truth.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
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

    pub fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Renders everything; `up` is (check, 1/0/NaN) and `open_incidents` the count.
    pub fn render(&self, up: &[(String, Option<bool>)], open_incidents: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP stagegate_check_up Whether a check is confirmed up (1), down (0); absent while unknown."
        );
        let _ = writeln!(out, "# TYPE stagegate_check_up gauge");
        for (check, state) in up {
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
        out
    }
}
