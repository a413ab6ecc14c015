//! Delivery of queued notifications, apart from everything that detects
//! incidents: a task of its own, so a notifier that never answers delays
//! nothing but its own messages — not heartbeat judging, not reminders,
//! not another channel.
//!
//! At least once: a notification is claimed under a lease, marked
//! delivered only after the receiver accepted it, retried with exponential
//! backoff, and claimed again by anyone once a lease lapses (a crash
//! mid-delivery loses nothing). Deliveries run concurrently, at most
//! [`PER_NOTIFIER`] per notifier and [`IN_FLIGHT`] in all; a notifier with
//! deliveries still running gets no new ones until they finish, so its
//! claims never wait behind each other long enough for a lease to lapse.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use stagegate_store::{Millis, Notification};
use tokio::task::JoinSet;

use crate::AppState;
use crate::notify::{Message, TIMEOUT};
use crate::snapshot::Snapshot;

/// Deliveries running at once, in all.
pub const IN_FLIGHT: usize = 32;
/// Deliveries running at once through one notifier.
pub const PER_NOTIFIER: u32 = 4;
/// A claim's lease: far longer than an attempt may take.
const LEASE_MS: Millis = 60_000;
/// An attempt that outlives this is abandoned and retried: the notifier's
/// own timeouts should have ended it long before.
const GUARD: Duration = Duration::from_secs(30);

/// Runs until aborted. `tick` bounds how late a retry that fell due is
/// picked up; new notifications are picked up at once through
/// [`AppState::wake_outbox`].
pub async fn run(state: Arc<AppState>, tick: Duration) {
    let mut running: JoinSet<String> = JoinSet::new();
    let mut busy: HashMap<String, u32> = HashMap::new();
    loop {
        if state.leads() && running.len() < IN_FLIGHT {
            claim(&state, &mut running, &mut busy).await;
        }
        tokio::select! {
            _ = state.outbox_wake.notified() => {}
            Some(done) = running.join_next(), if !running.is_empty() => {
                match done {
                    Ok(notifier) => {
                        if let Some(n) = busy.get_mut(&notifier) {
                            *n = n.saturating_sub(1);
                            if *n == 0 {
                                busy.remove(&notifier);
                            }
                        }
                    }
                    // A delivery task that panicked: which notifier it held
                    // is lost; start over with what is still running.
                    Err(e) => {
                        tracing::error!(error = %e, "a delivery failed unexpectedly");
                        busy.clear();
                    }
                }
            }
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

async fn claim(
    state: &Arc<AppState>,
    running: &mut JoinSet<String>,
    busy: &mut HashMap<String, u32>,
) {
    let free = u32::try_from(IN_FLIGHT - running.len()).unwrap_or(0);
    let skip: Vec<String> = busy.keys().cloned().collect();
    let claimed = match state
        .store
        .claim(state.clock.now(), LEASE_MS, free, PER_NOTIFIER, &skip)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            state.metrics.store_error();
            tracing::error!(error = %e, "cannot claim notifications");
            return;
        }
    };
    if claimed.is_empty() {
        return;
    }
    let snapshot = state.snapshot();
    for n in claimed {
        *busy.entry(n.notifier.clone()).or_default() += 1;
        let (state, snapshot) = (state.clone(), snapshot.clone());
        running.spawn(async move {
            deliver(&state, &snapshot, &n).await;
            n.notifier
        });
    }
}

/// Delay before attempt `n + 1`: 5 s, 10 s, 20 s ... capped at one hour.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(20));
    Duration::from_secs(secs.min(3600))
}

/// Sends `n` through its notifier's channel.
async fn send(
    snapshot: &Snapshot,
    cx: &stagegate_probe::Context,
    n: &Notification,
) -> Result<(), String> {
    let notifier = snapshot
        .notifiers
        .get(&n.notifier)
        .ok_or_else(|| format!("notifier `{}` is no longer in the spec", n.notifier))?;
    let email = snapshot
        .spec
        .contact(&n.contact)
        .and_then(|c| c.email.as_deref());
    let message = Message::new(n, email)?;
    notifier.channel.send(&message, cx).await
}

/// Delivers one claimed notification and records the outcome.
async fn deliver(state: &AppState, snapshot: &Snapshot, n: &Notification) {
    use tracing::Instrument;
    let span = tracing::info_span!(
        "deliver",
        notification = n.id,
        event = %n.event,
        notifier = %n.notifier,
        contact = %n.contact,
        attempt = n.attempts,
    );
    async {
        let outcome = match tokio::time::timeout(GUARD, send(snapshot, &state.cx, n)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "no answer within {}s",
                GUARD.max(TIMEOUT).as_secs()
            )),
        };
        let now = state.clock.now();
        let recorded = match outcome {
            Ok(()) => state.store.delivered(n.id, now).await,
            Err(error) => {
                let error = snapshot.redact(&error);
                tracing::warn!(notification = n.id, notifier = %n.notifier, attempt = n.attempts, %error, "delivery failed");
                let retry =
                    now + i64::try_from(backoff(n.attempts).as_millis()).unwrap_or(i64::MAX);
                state.store.failed(n.id, now, &error, retry).await
            }
        };
        if let Err(e) = recorded {
            // The lease lapses and the notification is retried: at least once.
            state.metrics.store_error();
            tracing::error!(notification = n.id, error = %e, "cannot record a delivery outcome");
        }
        // The outbox's depth in the metrics follows at once.
        state.board_wake.notify_one();
    }
    .instrument(span)
    .await;
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_and_caps() {
        let secs: Vec<u64> = (1..=12).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(
            secs,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
    }
}
