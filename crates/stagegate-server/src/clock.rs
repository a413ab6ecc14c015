//! The server's idea of "now", taken from outside: the wall clock in
//! production, a clock the test moves by hand in tests. Every deadline the
//! server keeps (heartbeat lateness, delivery retries, reminders) is a
//! point on this clock, so a test can step over a deadline instead of
//! sleeping through it.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};

use stagegate_store::{Millis, now_ms};
use tokio::sync::watch;

/// A moment as RFC 3339 UTC to the second: `2026-11-26T09:31:59Z`.
pub fn rfc3339(ms: Millis) -> String {
    jiff::Timestamp::from_second(ms.div_euclid(1000))
        .map_or_else(|_| ms.to_string(), |t| t.to_string())
}

/// A boxed future that resolves when a clock reaches a time.
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

pub trait Clock: Send + Sync + Debug {
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> Millis;
    /// Resolves once [`Clock::now`] has reached `at` (at once when it has).
    fn sleep_until(&self, at: Millis) -> Sleep<'_>;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        now_ms()
    }

    fn sleep_until(&self, at: Millis) -> Sleep<'_> {
        Box::pin(async move {
            // Re-read the wall clock after each sleep: a suspended machine
            // or a stepped clock must not make a deadline fire early or late
            // by more than the last step.
            loop {
                let left = at - now_ms();
                if left <= 0 {
                    return;
                }
                let step = u64::try_from(left).unwrap_or(u64::MAX).min(60_000);
                tokio::time::sleep(std::time::Duration::from_millis(step)).await;
            }
        })
    }
}

/// A clock that stands still until [`ManualClock::advance`] or
/// [`ManualClock::set`] moves it, waking whoever sleeps until a time it
/// passes.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
    moved: watch::Sender<Millis>,
}

impl ManualClock {
    pub fn new(start: Millis) -> ManualClock {
        ManualClock {
            now: AtomicI64::new(start),
            moved: watch::Sender::new(start),
        }
    }

    /// Moves the clock forward by `ms` (never backwards).
    pub fn advance(&self, ms: Millis) {
        let to = self.now.load(Ordering::SeqCst) + ms.max(0);
        self.set(to);
    }

    /// Moves the clock to `at`, if that is later than now.
    pub fn set(&self, at: Millis) {
        let now = self.now.fetch_max(at, Ordering::SeqCst).max(at);
        self.moved.send_replace(now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    fn sleep_until(&self, at: Millis) -> Sleep<'_> {
        let mut moved = self.moved.subscribe();
        Box::pin(async move {
            // `wait_for` checks the current value first, then every change.
            let _ = moved.wait_for(|now| *now >= at).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `sleep` once: whether it has resolved.
    async fn done(sleep: &mut Sleep<'_>) -> bool {
        tokio::time::timeout(std::time::Duration::ZERO, sleep)
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_manual_clock_wakes_sleepers_only_when_it_passes_their_time() {
        let clock = ManualClock::new(1_000);
        let mut sleep = clock.sleep_until(1_500);
        assert!(!done(&mut sleep).await);
        clock.advance(499);
        assert!(!done(&mut sleep).await, "woke before its time");
        clock.advance(1);
        assert!(done(&mut sleep).await);
        assert_eq!(clock.now(), 1_500);
        clock.set(10);
        assert_eq!(clock.now(), 1_500, "never moves backwards");
        assert!(
            done(&mut clock.sleep_until(1_200)).await,
            "a past time is due at once"
        );
    }

    #[test]
    fn moments_read_as_rfc3339_utc() {
        assert_eq!(rfc3339(1_795_000_000_999), "2026-11-18T11:06:40Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[tokio::test]
    async fn the_system_clock_sleeps_until_a_wall_clock_time() {
        let at = now_ms() + 20;
        SystemClock.sleep_until(at).await;
        assert!(now_ms() >= at);
    }
}
