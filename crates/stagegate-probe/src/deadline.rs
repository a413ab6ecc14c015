//! One deadline per probe, shared by its phases, so a timeout names the
//! phase that ran out of time.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    start: Instant,
    at: Instant,
}

/// A phase ran past the probe's deadline.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {} while {phase}", humanize(*.budget))]
pub struct TimedOut {
    pub phase: String,
    pub budget: Duration,
}

fn humanize(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl Deadline {
    pub fn after(budget: Duration) -> Self {
        let start = Instant::now();
        Deadline {
            start,
            at: start + budget,
        }
    }

    pub fn budget(&self) -> Duration {
        self.at - self.start
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Runs `fut` until the deadline; past it, fails naming `phase`.
    pub async fn run<T>(
        &self,
        phase: impl Into<String>,
        fut: impl Future<Output = T>,
    ) -> Result<T, TimedOut> {
        tokio::time::timeout_at(self.at, fut)
            .await
            .map_err(|_| TimedOut {
                phase: phase.into(),
                budget: self.budget(),
            })
    }
}
