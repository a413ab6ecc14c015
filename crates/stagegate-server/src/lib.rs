//! `stagegate serve`: runs every monitoring check on its interval, judges
//! heartbeats, opens and resolves incidents with flap control, delivers
//! notifications through a durable outbox, and serves health, metrics,
//! pings and the API.
//!
//! The entry point takes a bound listener and a shutdown future, so tests
//! run a real server on `127.0.0.1:0`.

#![recursion_limit = "256"]

mod api;
mod audit;
mod auth;
mod batch;
pub mod clock;
pub mod cluster;
mod conn;
mod idle;
pub use conn::Limits;
mod dashboard;
mod dispatch;

mod drills;
mod gates;
mod heartbeat;
mod judge;
mod lifecycle;
mod limit;
mod markup;
mod metrics;
mod notify;
pub mod observations;
mod promote;
mod routes;
mod schedule;
mod scheduler;
mod snapshot;
mod status;
mod verdicts;
pub use verdicts::{Now, facts};

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use stagegate_store::{Millis, Store};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use audit::record as audit_record;
pub use auth::{IssuedToken, create_token, sha256_hex};
pub use clock::{Clock, ManualClock, SystemClock};
pub use dispatch::backoff;
pub use heartbeat::{Verdict, judge as judge_heartbeat};
pub use lifecycle::{Change, escalate, next_state, notify, observe};
pub use metrics::Metrics;
pub use observations::Observations;
pub use promote::{Refused, promote};
pub use snapshot::{Heartbeat, Notifier, Snapshot, check_key};

/// Builds a fresh snapshot from the spec on disk, or says why it cannot.
pub type Loader = Arc<dyn Fn() -> Result<Snapshot, String> + Send + Sync>;

/// Shared by every request and loop.
#[derive(Debug)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    snapshot: RwLock<Arc<Snapshot>>,
    pub cx: stagegate_probe::Context,
    pub node: String,
    pub location: String,
    pub started_at: Millis,
    /// "Now" for every deadline the server keeps.
    pub clock: Arc<dyn Clock>,
    /// Wakes the heartbeat judge.
    pub judge: judge::Wakeup,
    /// Log bodies each heartbeat may send: a few at once, one a minute.
    pub(crate) log_bodies: limit::Buckets,
    /// Failed sign-ins per client address.
    pub(crate) logins: limit::Backoff,
    pub metrics: Metrics,
    /// Heartbeat pings, group-committed.
    pub pings: batch::GroupCommit<stagegate_store::Ping>,
    /// Probe results, group-committed.
    pub results: batch::GroupCommit<stagegate_store::NewResult>,
    /// The last flap state stored per check, so steady state needs no read.
    flap: std::sync::Mutex<std::collections::HashMap<String, stagegate_store::CheckState>>,
    /// Wakes the delivery task as soon as something was queued.
    outbox_wake: tokio::sync::Notify,
    /// Wakes the housekeeping loop when an incident opened or changed, so
    /// it learns at once when the incident's next escalation level is due.
    levels_wake: tokio::sync::Notify,
    /// Refreshes the metrics' view of checks and incidents at once.
    pub(crate) board_wake: tokio::sync::Notify,
    /// Public status pages, rendered.
    pub(crate) status_pages: status::Cache,
    /// The runtime the scheduling loop and its probes run on.
    probes: tokio::runtime::Handle,
    /// Environments whose restore drill is running now.
    drills_running: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Several nodes share the store: votes, quorum and a leader.
    pub cluster: bool,
    /// How often the loops run; nodes silent for three ticks are not live.
    pub tick: Duration,
    /// This node holds the leadership (always, outside cluster mode).
    pub leader: std::sync::atomic::AtomicBool,
    /// This node cannot reach its reference targets and does not vote.
    pub abstaining: std::sync::atomic::AtomicBool,
    /// The statuses this leader last settled, so an unchanged verdict costs
    /// no store round trip; cleared when leadership is taken.
    settled: std::sync::Mutex<std::collections::HashMap<String, stagegate_store::CheckStatus>>,
}

impl AppState {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Delivers queued notifications now rather than at the next tick.
    pub fn wake_outbox(&self) {
        // Whatever was queued is about an incident a status page may show.
        self.status_pages.invalidate();
        self.outbox_wake.notify_one();
        self.board_wake.notify_one();
        self.levels_wake.notify_one();
    }

    /// Whether the cached flap state of `check` stays as it is after
    /// `outcome`; false when nothing is cached.
    pub fn is_steady(
        &self,
        check: &str,
        outcome: stagegate_store::Outcome,
        thresholds: (u32, u32),
    ) -> bool {
        self.flap.lock().ok().is_some_and(|map| {
            map.get(check)
                .is_some_and(|s| lifecycle::is_steady(s, outcome, thresholds))
        })
    }

    /// This node's own flap state of `check`, if known.
    pub fn flap_state(&self, check: &str) -> Option<stagegate_store::CheckState> {
        self.flap.lock().ok().and_then(|m| m.get(check).cloned())
    }

    /// Whether this node decides incidents and sends notifications: always
    /// alone, only while it leads in a cluster.
    pub fn leads(&self) -> bool {
        !self.cluster || self.leader.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn flap_status_shared(&self, check: &str) -> Option<stagegate_store::CheckStatus> {
        self.settled.lock().ok().and_then(|m| m.get(check).copied())
    }

    pub(crate) fn remember_shared(&self, check: &str, status: stagegate_store::CheckStatus) {
        if let Ok(mut m) = self.settled.lock() {
            m.insert(check.to_owned(), status);
        }
    }

    pub(crate) fn forget_shared(&self) {
        if let Ok(mut m) = self.settled.lock() {
            m.clear();
        }
    }

    pub fn remember_flap_state(&self, s: stagegate_store::CheckState) {
        let status = s.status;
        let before = self
            .flap
            .lock()
            .ok()
            .and_then(|mut map| map.insert(s.check.clone(), s))
            .map(|b| b.status);
        if before != Some(status) {
            // A check came up or went down: its status page shows it now.
            self.status_pages.invalidate();
        }
    }

    /// Forgets what is cached of checks whose flap state started over in
    /// the store (their suppressed incidents resolved with a parent's), so
    /// the next failure is judged from there rather than skipped as steady.
    pub fn restart_checks(&self, keys: &[String]) {
        if keys.is_empty() {
            return;
        }
        if let Ok(mut m) = self.flap.lock() {
            m.retain(|k, _| !keys.contains(k));
        }
        if let Ok(mut m) = self.settled.lock() {
            m.retain(|k, _| !keys.contains(k));
        }
        for key in keys {
            self.metrics
                .set_check(key, stagegate_store::CheckStatus::Unknown);
        }
        // Heartbeats keep their own memory; reading it all again is cheap
        // next to how rarely a parent recovers.
        self.judge.everything();
    }

    /// Forgets what is cached about checks `snapshot` no longer has.
    fn forget_removed(&self, snapshot: &Snapshot) {
        let keep = snapshot.check_keys();
        if let Ok(mut m) = self.flap.lock() {
            m.retain(|k, _| keep.contains(k));
        }
        if let Ok(mut m) = self.settled.lock() {
            m.retain(|k, _| keep.contains(k) || k.ends_with(cluster::DEGRADED_CHECK));
        }
        self.metrics.retain_checks(&|k| keep.contains(k));
    }

    fn replace(&self, s: Arc<Snapshot>) {
        match self.snapshot.write() {
            Ok(mut slot) => *slot = s,
            Err(poisoned) => *poisoned.into_inner() = s,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub node: String,
    pub location: String,
    /// How often heartbeats are judged and the outbox is drained.
    pub tick: Duration,
    /// How long raw results and pings are kept (rollups are kept for good).
    pub retention: Duration,
    /// Pings kept per heartbeat beyond `retention`.
    pub keep_pings: u32,
    /// Reminders while an incident stays open and unacknowledged.
    pub remind_every: Option<Duration>,
    /// The spec file, reloaded when it changes.
    pub watch: Option<PathBuf>,
    /// Run each declared restore drill when it is due (its `every` has
    /// passed since the last one), instead of only on request.
    pub run_drills: bool,
    /// Cluster mode: several nodes share this (PostgreSQL) store.
    pub cluster: bool,
    /// URLs this node must reach to count itself connected (cluster mode);
    /// when none answers it abstains from voting.
    pub references: Vec<String>,
    /// The fewest locations that decide a check (cluster mode).
    pub min_locations: Option<u32>,
    /// Where "now" comes from: the wall clock, or a test's.
    pub clock: Arc<dyn Clock>,
    /// Timeouts and connection limits of the HTTP side.
    pub limits: Limits,
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

async fn reload(
    state: &Arc<AppState>,
    loader: &Loader,
    tasks: &mut Vec<JoinHandle<()>>,
    why: &str,
) {
    let loader = loader.clone();
    match tokio::task::spawn_blocking(move || loader()).await {
        Ok(Ok(snapshot)) => {
            for t in tasks.drain(..) {
                t.abort();
            }
            let snapshot = Arc::new(snapshot);
            let old = state.snapshot();
            state.replace(snapshot.clone());
            *tasks = scheduler::spawn_checks(state.clone(), snapshot.clone());
            state.judge.everything();
            state.forget_removed(&snapshot);
            state.status_pages.invalidate();
            // The metrics read every check's status again.
            state.board_wake.notify_one();
            audit::spec_facts(state.store.as_ref(), &snapshot.spec, state.clock.now()).await;
            gates::saw_modes(state.store.as_ref(), &snapshot.spec, state.clock.now()).await;
            match lifecycle::close_removed(state.store.as_ref(), &old, &snapshot, state.clock.now())
                .await
            {
                Ok((closed, restarted)) => {
                    state.restart_checks(&restarted);
                    for i in &closed {
                        tracing::info!(check = %i.check, incident = i.id, "incident closed: its check was removed from the spec");
                    }
                    if !closed.is_empty() {
                        state.wake_outbox();
                    }
                }
                Err(e) => {
                    state.metrics.store_error();
                    tracing::error!(error = %e, "cannot close the incidents of removed checks");
                }
            }
            tracing::info!(
                reason = why,
                checks = snapshot.jobs.len(),
                heartbeats = snapshot.heartbeats.len(),
                "spec reloaded"
            );
        }
        Ok(Err(problems)) => {
            tracing::error!(
                reason = why,
                "the new spec is invalid; the running one stays:\n{problems}"
            );
        }
        Err(e) => tracing::error!(error = %e, "reloading failed"),
    }
}

/// Runs the server until `shutdown` resolves, then stops accepting, lets
/// requests in flight finish, and stops the loops.
pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    snapshot: Snapshot,
    loader: Loader,
    opts: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut cx = stagegate_probe::Context::system().map_err(std::io::Error::other)?;
    // Targets can tell the locations of a cluster apart.
    if !opts.location.is_empty() {
        cx.user_agent = format!(
            "{} (location={})",
            stagegate_probe::USER_AGENT,
            opts.location
        );
    }
    let probe_thread = scheduler::ProbeThread::start()?;
    let snapshot = Arc::new(snapshot);
    let (ping_writer, ping_task) = {
        let store = store.clone();
        batch::GroupCommit::spawn(Duration::ZERO, move |pings| {
            let store = store.clone();
            async move { store.record_pings(&pings).await.map_err(|e| e.to_string()) }
        })
    };
    let (result_writer, result_task) = {
        let store = store.clone();
        batch::GroupCommit::spawn(Duration::from_millis(200), move |results| {
            let store = store.clone();
            async move {
                store
                    .record_results(&results)
                    .await
                    .map_err(|e| e.to_string())
            }
        })
    };
    let state = Arc::new(AppState {
        store,
        snapshot: RwLock::new(snapshot.clone()),
        cx,
        node: opts.node.clone(),
        location: opts.location.clone(),
        started_at: opts.clock.now(),
        clock: opts.clock.clone(),
        judge: judge::Wakeup::default(),
        log_bodies: limit::Buckets::new(10, 60_000),
        logins: limit::Backoff::new(5, 15 * 60_000),
        metrics: Metrics::default(),
        pings: ping_writer,
        results: result_writer,
        flap: Default::default(),
        outbox_wake: tokio::sync::Notify::new(),
        levels_wake: tokio::sync::Notify::new(),
        board_wake: tokio::sync::Notify::new(),
        status_pages: status::Cache::default(),
        drills_running: Default::default(),
        cluster: opts.cluster,
        tick: opts.tick,
        leader: std::sync::atomic::AtomicBool::new(!opts.cluster),
        abstaining: std::sync::atomic::AtomicBool::new(false),
        settled: Default::default(),
        probes: probe_thread.handle(),
    });
    audit::spec_facts(state.store.as_ref(), &snapshot.spec, state.clock.now()).await;
    gates::saw_modes(state.store.as_ref(), &snapshot.spec, state.clock.now()).await;
    let mut tasks = scheduler::spawn_checks(state.clone(), snapshot);
    // Detection and delivery never share a task: a notifier that hangs
    // cannot delay judging a heartbeat.
    let judging = tokio::spawn(judge::run(state.clone()));
    let delivering = tokio::spawn(dispatch::run(state.clone(), opts.tick));
    let board = tokio::spawn(metrics::refresh(state.clone(), opts.tick));
    let background = scheduler::spawn_background(
        state.clone(),
        scheduler::Housekeeping {
            tick: opts.tick,
            retention: opts.retention,
            remind_every: opts.remind_every,
            keep_pings: opts.keep_pings,
        },
    );

    let membership = opts.cluster.then(|| {
        tokio::spawn(cluster::run(
            state.clone(),
            cluster::Membership {
                tick: opts.tick,
                references: opts.references.clone(),
                min_locations: opts.min_locations,
            },
        ))
    });
    let drill_schedule = opts
        .run_drills
        .then(|| tokio::spawn(drills::schedule(state.clone())));

    // Reload on SIGHUP and when the spec file changes.
    let reloader = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut last = opts.watch.as_deref().and_then(modified);
            #[cfg(unix)]
            let mut hup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            loop {
                #[cfg(unix)]
                let hangup = async {
                    match hup.as_mut() {
                        Some(s) => s.recv().await,
                        None => std::future::pending().await,
                    }
                };
                #[cfg(not(unix))]
                let hangup = std::future::pending::<Option<()>>();
                tokio::select! {
                    _ = hangup => reload(&state, &loader, &mut tasks, "SIGHUP").await,
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {
                        let now = opts.watch.as_deref().and_then(modified);
                        if now != last {
                            last = now;
                            reload(&state, &loader, &mut tasks, "the spec file changed").await;
                        }
                    }
                }
            }
        })
    };

    let app = routes::router(state.clone());
    let served = conn::serve(listener, app, opts.limits, shutdown).await;
    reloader.abort();
    background.abort();
    judging.abort();
    delivering.abort();
    board.abort();
    if let Some(d) = drill_schedule {
        d.abort();
    }
    if let Some(m) = membership {
        m.abort();
    }
    // No run starts or finishes after this; what finished is written.
    probe_thread.shutdown().await;
    if let Err(e) = state.results.flush().await {
        tracing::error!(error = %e, "results queued at shutdown were not written");
    }
    ping_task.abort();
    result_task.abort();
    served
}

/// Entry points for the fuzz targets in `fuzz/`: the server's input
/// handling that takes bytes from anyone. Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::api::pings::{action_of, kept_body, run_id};
    pub use crate::dashboard::markdown::to_html as runbook_html;
}
