//! The heartbeat judge: a task of its own that judges a heartbeat the
//! moment a ping for it is committed, and otherwise sleeps until the
//! earliest deadline its pings set (a timer heap on the server's clock).
//! Nothing here polls: a success ping resolves at once, a `/fail` opens at
//! once, and a late job is caught at last success + interval + grace (or
//! its cron run + grace), not at the next tick.
//!
//! Each heartbeat's recent pings and status are kept in memory, read from
//! the store once (at start, reload, or when leadership is taken): judging
//! a ping costs no store round trip, so a flood of pings never queues
//! behind the judge. In a cluster only the leader judges; pings that other
//! nodes received reach it through the store, which it asks for new ones
//! four times a second.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use stagegate_store::{CheckStatus, Millis, NewResult, Outcome, Ping, PingKind, StoredPing};
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
/// Passes a flood of pings makes share: at most one this often, so judging
/// costs the same whether a job pings once or a thousand times a second,
/// and a ping is judged at most this much later.
const BATCH: Duration = Duration::from_millis(10);

/// How the rest of the server tells the judge there is work.
#[derive(Debug)]
pub struct Wakeup {
    /// Pings committed since the judge last looked, by token (at most
    /// [`WINDOW`] each: judging looks at no more).
    pending: std::sync::Mutex<HashMap<String, Vec<Ping>>>,
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
    /// A ping was committed.
    pub fn pinged(&self, ping: Ping) {
        if ping.kind == PingKind::Log {
            // Logs change no verdict.
            return;
        }
        if let Ok(mut p) = self.pending.lock() {
            let list = p.entry(ping.token.clone()).or_default();
            if list.len() >= WINDOW as usize {
                list.remove(0);
            }
            list.push(Ping { body: None, ..ping });
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

    fn take(&self) -> (bool, HashMap<String, Vec<Ping>>) {
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
    // What each heartbeat's judging needs, by index into the snapshot's.
    let mut memory: HashMap<usize, Memory> = HashMap::new();
    let mut last_pass: Option<tokio::time::Instant> = None;
    loop {
        if let Some(wait) = last_pass.and_then(|t| BATCH.checked_sub(t.elapsed())) {
            tokio::time::sleep(wait).await;
        }
        last_pass = Some(tokio::time::Instant::now());
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
                memory.clear();
                todo.extend(0..snapshot.heartbeats.len());
            } else {
                for (token, pings) in pinged {
                    let Some(i) = index(&snapshot, &token) else {
                        continue;
                    };
                    if let Some(m) = memory.get_mut(&i) {
                        m.add(pings);
                    }
                    todo.insert(i);
                }
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
                            if let Some(i) = index(&snapshot, &token) {
                                // Taken by another node: read again.
                                memory.remove(&i);
                                todo.insert(i);
                            }
                        }
                    }
                    Err(e) => {
                        state.metrics.store_error();
                        tracing::error!(error = %e, "cannot read new pings");
                    }
                }
            }
            for i in todo {
                match judge_one(&state, &snapshot, i, &mut memory).await {
                    Some(at) if due.get(&i) != Some(&at) => {
                        due.insert(i, at);
                        heap.push(Reverse((at, i)));
                    }
                    Some(_) => {}
                    None => {
                        due.remove(&i);
                    }
                }
            }
            // Every ping moves its heartbeat's deadline and leaves a stale
            // entry behind: rebuild the heap before those pile up.
            if heap.len() > 2 * due.len() + 64 {
                heap = due.iter().map(|(i, at)| Reverse((*at, *i))).collect();
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

/// A heartbeat's recent pings (no logs, newest first) and confirmed status,
/// as the judge last knew them.
struct Memory {
    pings: Vec<StoredPing>,
    status: CheckStatus,
    /// Ids for pings added here, after the store's newest.
    next_id: i64,
}

impl Memory {
    /// Adds pings committed since, keeping the store's order (newest first
    /// by time, then by arrival) and at most [`WINDOW`].
    fn add(&mut self, pings: Vec<Ping>) {
        for ping in pings {
            self.next_id += 1;
            let stored = StoredPing {
                id: self.next_id,
                ping,
            };
            let at = self
                .pings
                .iter()
                .position(|p| p.ping.received_at <= stored.ping.received_at)
                .unwrap_or(self.pings.len());
            self.pings.insert(at, stored);
        }
        self.pings.truncate(WINDOW as usize);
    }
}

/// Judges heartbeat `i` now; returns when it must be judged again.
async fn judge_one(
    state: &AppState,
    snapshot: &Snapshot,
    i: usize,
    memory: &mut HashMap<usize, Memory>,
) -> Option<Millis> {
    let h = snapshot.heartbeats.get(i)?;
    let key = h.key();
    let now = state.clock.now();
    if let std::collections::hash_map::Entry::Vacant(slot) = memory.entry(i) {
        let read = async {
            let pings = state.store.run_pings(&h.token, WINDOW).await?;
            let status = state.store.check_state(&key).await?;
            Ok::<_, stagegate_store::StoreError>((pings, status))
        };
        match read.await {
            Ok((pings, status)) => {
                let next_id = pings.iter().map(|p| p.id).max().unwrap_or(0);
                slot.insert(Memory {
                    pings,
                    status: status.map_or(CheckStatus::Unknown, |s| s.status),
                    next_id,
                });
            }
            Err(e) => {
                state.metrics.store_error();
                tracing::error!(heartbeat = %key, error = %e, "cannot read pings");
                return Some(now + RETRY_MS);
            }
        }
    }
    let m = memory.get_mut(&i)?;
    let next = heartbeat::deadline(h, &m.pings, now, state.started_at);
    let Some(mut verdict) = heartbeat::judge(h, &m.pings, now, state.started_at) else {
        return next;
    };
    if let Some(server) = h.agent_server() {
        verdict.summary = if verdict.up {
            format!("the agent of {server} reports again")
        } else {
            format!("agent silent: no report from {server} within twice its interval")
        };
    }
    let (wanted, outcome) = if verdict.up {
        (CheckStatus::Up, Outcome::Pass)
    } else {
        (CheckStatus::Down, Outcome::Fail)
    };
    if m.status == wanted {
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
            if let Some(s) = &change.state {
                m.status = s.status;
                state.metrics.set_check(&key, s.status);
            }
            if let Some(i) = &change.opened {
                tracing::warn!(check = %key, incident = i.id, summary = %verdict.summary, "incident opened");
                state.wake_outbox();
            }
            if let Some(i) = &change.resolved {
                tracing::info!(check = %key, incident = i.id, "incident resolved");
                state.wake_outbox();
            }
            state.restart_checks(&change.restarted);
            next
        }
        Err(e) => {
            state.metrics.store_error();
            tracing::error!(heartbeat = %key, error = %e, "cannot update the heartbeat's state");
            // Read again next time: the store may have moved on.
            memory.remove(&i);
            Some(now + RETRY_MS)
        }
    }
}
