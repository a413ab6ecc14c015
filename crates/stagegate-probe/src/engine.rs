//! Runs jobs with bounded concurrency; every attempt has its own deadline.

use std::collections::HashMap;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::deadline::Deadline;
use crate::job::{Job, Target};
use crate::result::ProbeResult;
use crate::{Context, database, dns, http, ports, prometheus, redis, restic, tcp, tls};

#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Probes in flight at once.
    pub concurrency: usize,
    /// Pause between a failed attempt and the next.
    pub retry_delay: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 32,
            retry_delay: Duration::from_millis(250),
        }
    }
}

async fn attempt(target: &Target, cx: &Context, deadline: &Deadline) -> ProbeResult {
    match target {
        Target::Http(t) => http::probe(t, cx, deadline).await,
        Target::Tcp(t) => tcp::probe(t, cx, deadline).await,
        Target::Tls(t) => tls::probe(t, cx, deadline).await,
        Target::Dns(t) => dns::probe(t, cx, deadline).await,
        Target::Database(t) => database::probe(t, deadline).await,
        Target::Redis(t) => redis::probe(t, cx, deadline).await,
        Target::Restic(t) => restic::probe(t, deadline).await,
        Target::Prometheus(t) => prometheus::probe(t, cx, deadline).await,
        Target::Ports(t) => ports::probe(t, cx, deadline).await,
        Target::Skip(reason) => ProbeResult::skip(reason.clone()),
    }
}

/// One job, retried up to `job.retries` times while it fails.
pub async fn run_one(job: &Job, cx: &Context, retry_delay: Duration) -> ProbeResult {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let deadline = Deadline::after(job.timeout);
        let mut result = attempt(&job.target, cx, &deadline).await;
        if result.passed() || attempts > job.retries || matches!(job.target, Target::Skip(_)) {
            result.attempts = attempts;
            return result;
        }
        tokio::time::sleep(retry_delay).await;
    }
}

/// Runs every job, at most `concurrency` at once, calling `on_done` as each
/// finishes; results come back in job order.
///
/// Jobs are started as slots free up rather than all at once: a waiting
/// task holds its whole probe state machine, and ten thousand of them would
/// cost more memory than the probes themselves.
pub async fn run(
    jobs: &[Job],
    cx: &Context,
    opts: RunOptions,
    on_done: impl Fn(&Job, &ProbeResult),
) -> Vec<ProbeResult> {
    let limit = opts.concurrency.max(1);
    let mut set = JoinSet::new();
    let mut ids = HashMap::new();
    let mut results: Vec<Option<ProbeResult>> = vec![None; jobs.len()];
    let settle = |joined: Option<Result<(usize, ProbeResult), tokio::task::JoinError>>,
                  ids: &HashMap<tokio::task::Id, usize>,
                  results: &mut Vec<Option<ProbeResult>>| {
        let (i, result) = match joined {
            Some(Ok(done)) => done,
            // A panicking probe is a bug; report it on its job rather than
            // losing the whole run.
            Some(Err(e)) => match ids.get(&e.id()) {
                Some(&i) => (
                    i,
                    ProbeResult::fail(format!("internal error: the probe failed: {e}")),
                ),
                None => return,
            },
            None => return,
        };
        on_done(&jobs[i], &result);
        results[i] = Some(result);
    };
    for (i, job) in jobs.iter().enumerate() {
        if set.len() >= limit {
            let joined = set.join_next().await;
            settle(joined, &ids, &mut results);
        }
        let job = job.clone();
        let cx = cx.clone();
        let handle = set.spawn(async move { (i, run_one(&job, &cx, opts.retry_delay).await) });
        ids.insert(handle.id(), i);
    }
    while !set.is_empty() {
        let joined = set.join_next().await;
        settle(joined, &ids, &mut results);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| ProbeResult::fail("internal error: probe produced no result")))
        .collect()
}
