//! The heartbeat judge: a task of its own that judges a heartbeat the
//! moment a ping for it is committed, and otherwise sleeps until the
//! earliest deadline its pings set (a timer heap on the server's clock).
//! Nothing here polls: a success ping resolves at once, a `/fail` opens at
//! once, and a late job is caught at last success + interval + grace (or
//! its cron run + grace), not at the next tick.
//!
//! In a cluster only the leader judges; pings that other nodes received
//! reach it through the store, which it asks for new ones four times a
//! second.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use stagegate_store::{CheckStatus, Millis, NewResult, Outcome};
use tokio::sync::{Notify, watch};

use crate::AppState;
use crate::heartbeat;
use crate::lifecycle::observe;
use crate::snapshot::Snapshot;

/// How many pings (without logs) judging a heartbeat looks at.
const WINDOW: u32 = 50;
/// How soon a heartbeat is judged again after the store failed.
const RETRY_MS: Millis = 5_000;
/// How often a cluster's leader asks the store for pings other nodes took.
const CLUSTER_POLL: Duration = Duration::from_millis(250);

/// How the rest of the server tells the judge there is work.
#[derive(Debug)]
pub struct Wakeup {
    /// Tokens pinged since the judge last looked.
    pending: std::sync::Mutex<HashSet<String>>,
    /// Judge every heartbeat (start, reload, leadership taken).
    all: AtomicBool,
    notify: Notify,
    /// Counts finished passes, so a test can wait for the judge to have
    /// looked rather than sleep and hope.
    passes: watch::Sender<u64>,
}

impl Default for Wakeup {
    fn default() -> Self {
        Wakeup {
            pending: Default::default(),
            all: AtomicBool::new(true),
            notify: Notify::new(),
            passes: watch::Sender::new(0),
        }
    }
}

impl Wakeup {
    /// A ping for `token` was committed.
    pub fn pinged(&self, token: &str) {
        if let Ok(mut p) = self.pending.lock() {
            p.insert(token.to_owned());
        }
        self.notify.notify_one();
    }

    /// Every heartbeat needs judging again.
    pub fn everything(&self) {
        self.all.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Passes finished so far; see [`Wakeup::passed`].
    pub fn passes(&self) -> watch::Receiver<u64> {
        self.passes.subscribe()
    }

    fn take(&self) -> (bool, HashSet<String>) {
        let all = self.all.swap(false, Ordering::SeqCst);
        let pending = self
            .pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        (all, pending)
    }
}

/// Runs until aborted.
pub async fn run(state: Arc<AppState>) {
    let mut heap: BinaryHeap<Reverse<(Millis, usize)>> = BinaryHeap::new();
    // The live deadline of each heartbeat; heap entries that differ are stale.
    let mut due: HashMap<usize, Millis> = HashMap::new();
    let mut snapshot = state.snapshot();
    let mut led = false;
    let mut newest_ping: i64 = 0;
    loop {
        let current = state.snapshot();
        let leads = state.leads();
        let (mut all, pinged) = state.judge.take();
        if !Arc::ptr_eq(&current, &snapshot) || (leads && !led) {
            all = true;
        }
        snapshot = current;
        led = leads;
        if leads {
            let mut todo: BTreeSet<usize> = BTreeSet::new();
            if all {
                heap.clear();
                due.clear();
                todo.extend(0..snapshot.heartbeats.len());
            } else {
                todo.extend(pinged.iter().filter_map(|t| index(&snapshot, t)));
                let now = state.clock.now();
                while let Some(&Reverse((at, i))) = heap.peek() {
                    if at > now {
                        break;
                    }
                    heap.pop();
                    if due.get(&i) == Some(&at) {
                        due.remove(&i);
                        todo.insert(i);
                    }
                }
            }
            if state.cluster {
                match state.store.pinged_since(newest_ping).await {
                    Ok(list) => {
                        for (token, id) in list {
                            newest_ping = newest_ping.max(id);
                            todo.extend(index(&snapshot, &token));
                        }
                    }
                    Err(e) => {
                        state.metrics.store_error();
                        tracing::error!(error = %e, "cannot read new pings");
                    }
                }
            }
            for i in todo {
                if let Some(at) = judge_one(&state, &snapshot, i).await {
                    due.insert(i, at);
                    heap.push(Reverse((at, i)));
                } else {
                    due.remove(&i);
                }
            }
        }
        state.judge.passes.send_modify(|n| *n += 1);

        let next = heap.peek().map(|Reverse((at, _))| *at).filter(|_| leads);
        let deadline = async {
            match next {
                Some(at) => state.clock.sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let poll = async {
            if state.cluster {
                tokio::time::sleep(CLUSTER_POLL).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = deadline => {}
            _ = state.judge.notify.notified() => {}
            _ = poll => {}
        }
    }
}

fn index(snapshot: &Snapshot, token: &str) -> Option<usize> {
    snapshot.heartbeats.iter().position(|h| h.token == token)
}

/// Judges heartbeat `i` now; returns when it must be judged again.
async fn judge_one(state: &AppState, snapshot: &Snapshot, i: usize) -> Option<Millis> {
    let h = snapshot.heartbeats.get(i)?;
    let key = h.key();
    let now = state.clock.now();
    let pings = match state.store.run_pings(&h.token, WINDOW).await {
        Ok(p) => p,
        Err(e) => {
            state.metrics.store_error();
            tracing::error!(heartbeat = %key, error = %e, "cannot read pings");
            return Some(now + RETRY_MS);
        }
    };
    let next = heartbeat::deadline(h, &pings, now, state.started_at);
    let Some(verdict) = heartbeat::judge(h, &pings, now, state.started_at) else {
        return next;
    };
    let current = match state.store.check_state(&key).await {
        Ok(s) => s.map_or(CheckStatus::Unknown, |s| s.status),
        Err(e) => {
            state.metrics.store_error();
            tracing::error!(heartbeat = %key, error = %e, "cannot read state");
            return Some(now + RETRY_MS);
        }
    };
    let (wanted, outcome) = if verdict.up {
        (CheckStatus::Up, Outcome::Pass)
    } else {
        (CheckStatus::Down, Outcome::Fail)
    };
    if current == wanted {
        return next;
    }
    let record = NewResult {
        check: key.clone(),
        node: state.node.clone(),
        location: state.location.clone(),
        started_at: now,
        outcome,
        latency_ms: None,
        summary: verdict.summary.clone(),
        evidence: "{}".to_owned(),
    };
    if let Err(e) = state.results.record(record).await {
        state.metrics.store_error();
        tracing::error!(heartbeat = %key, error = %e, "cannot record a result");
        return Some(now + RETRY_MS);
    }
    match observe(
        state.store.as_ref(),
        snapshot,
        &h.environment,
        &h.check,
        outcome,
        &verdict.summary,
        (1, 1),
        now,
    )
    .await
    {
        Ok(change) => {
            if let Some(i) = &change.opened {
                tracing::warn!(check = %key, incident = i.id, summary = %verdict.summary, "incident opened");
                state.wake_outbox();
            }
            if let Some(i) = &change.resolved {
                tracing::info!(check = %key, incident = i.id, "incident resolved");
                state.wake_outbox();
            }
            next
        }
        Err(e) => {
            state.metrics.store_error();
            tracing::error!(heartbeat = %key, error = %e, "cannot update the heartbeat's state");
            Some(now + RETRY_MS)
        }
    }
}
