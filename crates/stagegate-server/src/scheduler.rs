//! The loops of a running server: each check on its interval (offset by a
//! stable per-check phase so checks spread over the interval and a restart
//! keeps the spread), heartbeat judging, and outbox delivery.

use std::sync::Arc;
use std::time::Duration;

use stagegate_probe::{Job, ProbeStatus, Subject};
use stagegate_store::{NewResult, Outcome};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::AppState;
use crate::lifecycle::{DEFAULT_FAILURE_THRESHOLD, DEFAULT_SUCCESS_THRESHOLD, observe};
use crate::snapshot::{Snapshot, check_key};

/// FNV-1a of the check key: a phase that is stable across restarts.
fn phase(key: &str, interval: Duration) -> Duration {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let ms = u64::try_from(interval.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    Duration::from_millis(h % ms)
}

struct Schedule {
    key: String,
    environment: String,
    check: String,
    interval: Duration,
    thresholds: (u32, u32),
}

fn schedule(snapshot: &Snapshot, job: &Job) -> Option<Schedule> {
    let Subject::Check { name, .. } = &job.subject else {
        return None;
    };
    let check = snapshot
        .spec
        .environment(&job.environment)?
        .monitoring
        .as_ref()?
        .checks
        .iter()
        .find(|c| &c.name.value == name)?;
    Some(Schedule {
        key: check_key(&job.environment, name),
        environment: job.environment.clone(),
        check: name.clone(),
        interval: check.interval.get(),
        thresholds: (
            check.failure_threshold.unwrap_or(DEFAULT_FAILURE_THRESHOLD),
            check.success_threshold.unwrap_or(DEFAULT_SUCCESS_THRESHOLD),
        ),
    })
}

/// Runs a probe now: flap control on its outcome, and the result recorded.
async fn run_check(state: &AppState, snapshot: &Snapshot, job: &Job, s: &Schedule) {
    use tracing::Instrument;
    // DEBUG: free unless traces are exported (10,000 checks make 333 a
    // second); events inside carry the check anyway.
    let span = tracing::debug_span!(
        "probe",
        check = %s.key,
        outcome = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    run_scheduled(state, snapshot, job, s)
        .instrument(span)
        .await;
}

async fn run_scheduled(state: &AppState, snapshot: &Snapshot, job: &Job, s: &Schedule) {
    let started_at = state.clock.now();
    let mut result = stagegate_probe::run_one(job, &state.cx, Duration::from_millis(250)).await;
    // What a probe says may quote its target: never with a secret in it.
    if let std::borrow::Cow::Owned(shown) = snapshot.redact(&result.summary) {
        result.summary = shown;
    }
    if let Some(total) = result.timings.total {
        state.metrics.observe_latency(&s.key, total);
    }
    let outcome = match result.status {
        ProbeStatus::Pass => Outcome::Pass,
        ProbeStatus::Fail => Outcome::Fail,
        ProbeStatus::Skip => Outcome::Skip,
    };
    let span = tracing::Span::current();
    span.record("outcome", outcome.as_str());
    if let Some(total) = result.timings.total {
        span.record("latency_ms", total.as_secs_f64() * 1000.0);
    }
    // Steady state (the same confirmed status, counts at their cap) changes
    // nothing: skip the store round trip.
    if state.cluster {
        if !state.is_steady(&s.key, outcome, s.thresholds) {
            crate::cluster::observe_locally(state, &s.key, outcome, &result.summary, s.thresholds)
                .await;
        }
    } else if !state.is_steady(&s.key, outcome, s.thresholds) {
        match observe(
            state.store.as_ref(),
            snapshot,
            &s.environment,
            &s.check,
            outcome,
            &result.summary,
            s.thresholds,
            state.clock.now(),
        )
        .await
        {
            Ok(change) => {
                if let Some(new) = &change.state {
                    state.metrics.set_check(&s.key, new.status);
                    state.remember_flap_state(new.clone());
                }
                if change.opened.is_some() || change.resolved.is_some() {
                    state.wake_outbox();
                }
                state.restart_checks(&change.restarted);
                if let Some(i) = change.opened {
                    tracing::warn!(check = %s.key, incident = i.id, summary = %result.summary, "incident opened");
                }
                if let Some(i) = change.resolved {
                    tracing::info!(check = %s.key, incident = i.id, "incident resolved");
                }
            }
            Err(e) => {
                state.metrics.store_error();
                tracing::error!(check = %s.key, error = %e, "cannot update the check's state");
            }
        }
    }
    // The row has the check, status and summary; the evidence is what was
    // measured, as one JSON object.
    let evidence =
        serde_json::to_string(&Details(&stagegate_probe::details(&result))).unwrap_or_default();
    let evidence = match snapshot.redact(&evidence) {
        std::borrow::Cow::Borrowed(_) => evidence,
        std::borrow::Cow::Owned(shown) => shown,
    };
    let record = NewResult {
        check: s.key.clone(),
        node: state.node.clone(),
        location: state.location.clone(),
        started_at,
        outcome,
        latency_ms: result.timings.total.map(|d| d.as_secs_f64() * 1000.0),
        summary: result.summary,
        evidence,
    };
    // Group-committed with other checks' results; the run does not wait for
    // the commit, so its slot is free for the next due check.
    if let Err(e) = state.results.submit(record).await {
        state.metrics.store_error();
        tracing::error!(check = %s.key, error = %e, "cannot record a result");
    }
}

/// Details as a JSON object (names are unique per result).
struct Details<'a>(&'a [(String, String)]);

impl serde::Serialize for Details<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// Checks running at once, at most.
const IN_FLIGHT: usize = 64;

/// Checks due this close together start together: one wake-up of the
/// scheduling loop for all of them instead of one each (10,000 checks at
/// 30 s would otherwise wake it 333 times a second). A check starts at most
/// this much before its time.
const SLACK: Duration = Duration::from_millis(25);

/// One scheduling loop for every check: a heap of due times dispatches
/// runs to a bounded set of tasks. A task per check would keep thousands of
/// timers waking threads; this keeps one. A check never overlaps itself: a
/// run still going when its next tick comes skips that tick. Abort the
/// returned tasks to stop (e.g. on reload).
pub fn spawn_checks(state: Arc<AppState>, snapshot: Arc<Snapshot>) -> Vec<JoinHandle<()>> {
    let probes = state.probes.clone();
    vec![probes.spawn(run_schedule(state, snapshot))]
}

/// A single-threaded runtime on a thread of its own for the scheduling
/// loop and its probes. On a work-stealing runtime every probe's socket
/// events bounce between worker threads; here they never leave the thread
/// (10,000 checks at 30 s: a fifth less CPU), and the API's threads stay
/// free of probe work. One thread does thousands of plain probes a second.
#[derive(Debug)]
pub struct ProbeThread {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl ProbeThread {
    pub fn start() -> std::io::Result<ProbeThread> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (done, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("stagegate-probes".to_owned())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stop_rx.await;
                });
                // Dropping the runtime cancels the loop and its runs.
                drop(rt);
                let _ = done.send(());
            })?;
        Ok(ProbeThread {
            handle,
            stop: Some(stop),
            stopped: Some(stopped),
        })
    }

    /// Stops the loop and its runs; resolves once none can do anything more.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.await;
        }
    }

    pub fn handle(&self) -> tokio::runtime::Handle {
        self.handle.clone()
    }
}

impl Drop for ProbeThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn run_schedule(state: Arc<AppState>, snapshot: Arc<Snapshot>) {
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, HashSet};

    // Each check's schedule, indexed like `snapshot.jobs`; `None` is unscheduled.
    let start = Instant::now();
    let schedules: Arc<Vec<Option<Schedule>>> = Arc::new(
        snapshot
            .jobs
            .iter()
            .map(|job| schedule(&snapshot, job))
            .collect(),
    );
    let mut heap: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    for (i, s) in schedules.iter().enumerate() {
        if let Some(s) = s {
            heap.push(Reverse((start + phase(&s.key, s.interval), i)));
        }
    }
    let mut running: tokio::task::JoinSet<usize> = tokio::task::JoinSet::new();
    let mut busy: HashSet<usize> = HashSet::new();
    // Which check a task runs, so even a panicked run frees its check.
    let mut tasks: std::collections::HashMap<tokio::task::Id, usize> =
        std::collections::HashMap::new();
    let settle = |done: Result<(tokio::task::Id, usize), tokio::task::JoinError>,
                  busy: &mut HashSet<usize>,
                  tasks: &mut std::collections::HashMap<tokio::task::Id, usize>| {
        let id = match &done {
            Ok((id, _)) => *id,
            Err(e) => {
                tracing::error!(error = %e, "a check run failed");
                e.id()
            }
        };
        if let Some(i) = tasks.remove(&id) {
            busy.remove(&i);
        }
    };
    loop {
        let Some(&Reverse((due, _))) = heap.peek() else {
            // Nothing to schedule; finish what runs and idle.
            while let Some(done) = running.join_next_with_id().await {
                settle(done, &mut busy, &mut tasks);
            }
            std::future::pending::<()>().await;
            return;
        };
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {
                let now = Instant::now();
                state.metrics.scheduler_lag(now.saturating_duration_since(due));
                while let Some(&Reverse((due, i))) = heap.peek() {
                    if due > now + SLACK {
                        break;
                    }
                    heap.pop();
                    let interval = schedules[i]
                        .as_ref()
                        .map_or(Duration::from_secs(60), |s| s.interval)
                        .max(Duration::from_millis(1));
                    let mut next = due + interval;
                    while next <= now {
                        next += interval;
                    }
                    heap.push(Reverse((next, i)));
                    if busy.contains(&i) {
                        continue;
                    }
                    while running.len() >= IN_FLIGHT {
                        if let Some(done) = running.join_next_with_id().await {
                            settle(done, &mut busy, &mut tasks);
                        }
                    }
                    busy.insert(i);
                    let (state, snapshot, schedules) =
                        (state.clone(), snapshot.clone(), schedules.clone());
                    let handle = running.spawn(async move {
                        if let (Some(job), Some(Some(s))) = (snapshot.jobs.get(i), schedules.get(i)) {
                            run_check(&state, &snapshot, job, s).await;
                        }
                        i
                    });
                    tasks.insert(handle.id(), i);
                }
            }
            Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                settle(done, &mut busy, &mut tasks);
            }
        }
    }
}

/// Pages the escalation levels that fell due, and reminds about incidents
/// still open (not acknowledged) every `every`: under an escalation policy
/// the reminder is the last level paged again, and only when the policy
/// repeats. Returns when the next escalation level falls due, so the loop
/// can wake for it rather than at its next tick.
pub async fn remind(
    state: &AppState,
    snapshot: &Snapshot,
    every: Option<Duration>,
) -> Option<stagegate_store::Millis> {
    let now = state.clock.now();
    let Ok(incidents) = state.store.incidents(now, 10_000).await else {
        return None;
    };
    let mut next_level: Option<stagegate_store::Millis> = None;
    // Whether anything may have been queued, so delivery starts at once.
    let mut queued = false;
    for i in incidents
        .iter()
        .filter(|i| i.state == stagegate_store::IncidentState::Open && i.suppressed_by.is_none())
    {
        let escalation = snapshot
            .spec
            .environment(&i.environment)
            .and_then(|env| crate::lifecycle::escalation_of(snapshot, env));
        if let Some(e) = escalation {
            let due = e
                .levels
                .iter()
                .map(|l| {
                    i.opened_at.saturating_add(
                        i64::try_from(l.after.value.get().as_millis()).unwrap_or(i64::MAX),
                    )
                })
                .find(|at| *at > now);
            next_level = match (next_level, due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if escalation.is_some() {
            queued = true;
            if let Err(e) = crate::lifecycle::escalate(state.store.as_ref(), snapshot, i, now).await
            {
                tracing::error!(incident = i.id, error = %e, "cannot page an escalation level");
                continue;
            }
        }
        let Some(every) = every else { continue };
        let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(1);
        // Reminders count from the incident's opening, or from when its
        // last level was paged.
        let start = match escalation {
            None => i.opened_at,
            Some(e) if e.repeat => {
                let last = e.levels.last().map_or(0, |l| {
                    i64::try_from(l.after.value.get().as_millis()).unwrap_or(i64::MAX)
                });
                i.opened_at.saturating_add(last)
            }
            Some(_) => continue,
        };
        let last = i.last_reminder_at.unwrap_or(start).max(start);
        if now - last < every_ms {
            continue;
        }
        let n = (now - start) / every_ms;
        let tag = format!("incident.reminder#{n}");
        if let Err(e) = crate::lifecycle::notify(
            state.store.as_ref(),
            snapshot,
            i,
            "incident.reminder",
            &tag,
            now,
        )
        .await
        {
            tracing::error!(incident = i.id, error = %e, "cannot queue a reminder");
            continue;
        }
        queued = true;
        let _ = state.store.mark_reminded(i.id, now).await;
    }
    if queued {
        // Not `wake_outbox`: that would wake this loop again at once.
        state.outbox_wake.notify_one();
        state.board_wake.notify_one();
    }
    next_level
}

/// What the background loop does besides heartbeats and delivery.
#[derive(Clone, Copy, Debug)]
pub struct Housekeeping {
    pub tick: Duration,
    /// Raw results older than this are pruned (rollups stay).
    pub retention: Duration,
    /// Reminders while an incident stays open; `None` for none.
    pub remind_every: Option<Duration>,
    /// Pings kept per heartbeat beyond `retention`.
    pub keep_pings: u32,
}

/// Reminders every tick, pings pruned every twelve ticks (a minute by
/// default: a job's pings are what grows fastest), results and sessions
/// hourly. Heartbeats (`judge`) and deliveries (`dispatch`) have tasks of
/// their own.
pub fn spawn_background(state: Arc<AppState>, h: Housekeeping) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(h.tick);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_prune: Option<Instant> = None;
        let mut last_ping_prune: Option<Instant> = None;
        // When the next escalation level falls due: levels are paged on
        // time, not up to a tick late.
        let mut next_level: Option<stagegate_store::Millis> = None;
        loop {
            let until_level = next_level.map(|at| {
                Duration::from_millis(u64::try_from(at - state.clock.now()).unwrap_or(0))
            });
            let wait = until_level.filter(|w| *w < h.tick).unwrap_or(h.tick);
            tokio::select! {
                _ = ticker.tick() => {}
                _ = tokio::time::sleep(wait), if wait < h.tick => {}
                _ = state.levels_wake.notified() => {}
            }
            let snapshot = state.snapshot();
            // In a cluster only the leader reminds: each reminder goes out
            // once.
            next_level = if state.leads() {
                remind(&state, &snapshot, h.remind_every).await
            } else {
                None
            };
            if last_ping_prune.is_none_or(|t| t.elapsed() >= h.tick * 12) {
                last_ping_prune = Some(Instant::now());
                let before =
                    state.clock.now() - i64::try_from(h.retention.as_millis()).unwrap_or(i64::MAX);
                match state.store.prune_pings(before, h.keep_pings).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(pruned = n, "pings past retention removed"),
                    Err(e) => {
                        state.metrics.store_error();
                        tracing::error!(error = %e, "pruning pings failed");
                    }
                }
            }
            if last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
                last_prune = Some(Instant::now());
                let before =
                    state.clock.now() - i64::try_from(h.retention.as_millis()).unwrap_or(i64::MAX);
                match state.store.prune_results(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        pruned = n,
                        "raw results past retention removed (rollups kept)"
                    ),
                    Err(e) => tracing::error!(error = %e, "pruning failed"),
                }
                if let Err(e) = state.store.prune_sessions(state.clock.now()).await {
                    tracing::error!(error = %e, "pruning expired sessions failed");
                }
            }
        }
    })
}
