//! What the rules make of everything the server knows, now: one place that
//! gathers the facts (the spec's files, and the newest restore drill of each
//! environment from the store) and evaluates them. Every page and endpoint
//! that shows a verdict asks here, so no two of them can disagree.

use std::sync::Arc;

use stagegate_rules::{
    DrillRecord, EnvironmentResult, Evaluation, Evaluator, FileFacts, RecordSource,
};
use stagegate_spec::{Date, Environment, Mode};
use stagegate_store::Drill;

use crate::AppState;
use crate::snapshot::Snapshot;

/// The spec and its facts as of today (by the server's clock).
#[derive(Debug)]
pub struct Now {
    pub snapshot: Arc<Snapshot>,
    pub files: FileFacts,
    pub as_of: Date,
}

impl Now {
    pub async fn gather(state: &AppState) -> Now {
        let as_of = Date::from_unix_secs(state.clock.now().div_euclid(1000));
        Now::of(state.store.as_ref(), state.snapshot(), as_of).await
    }

    /// The same without a running server (`stagegate promote` on a store).
    pub async fn of(
        store: &dyn stagegate_store::Store,
        snapshot: Arc<Snapshot>,
        as_of: Date,
    ) -> Now {
        let files = facts(store, &snapshot).await;
        Now {
            snapshot,
            files,
            as_of,
        }
    }

    fn evaluator(&self) -> Evaluator<'_, '_> {
        Evaluator::new(&self.snapshot.spec, self.as_of, &self.files).custom(&self.snapshot.custom)
    }

    /// Every environment in its own mode.
    pub fn evaluate(&self) -> Evaluation<'_> {
        self.evaluator().all(&[])
    }

    /// One environment as if it were in `mode`.
    pub fn environment<'a>(&'a self, env: &'a Environment, mode: Mode) -> EnvironmentResult<'a> {
        self.evaluator().environment(env, mode)
    }
}

/// The facts rules judge: the snapshot's, with the newest drill of each
/// environment taken from the store when it is newer than the drill log's.
pub async fn facts(store: &dyn stagegate_store::Store, snapshot: &Snapshot) -> FileFacts {
    let mut facts = snapshot.files.clone();
    match store.last_drills().await {
        Ok(drills) => {
            for d in drills {
                let record = record(&d);
                let newer = facts
                    .last_drill(&d.environment)
                    .is_none_or(|f| f.finished_at <= record.finished_at);
                if newer {
                    // The record's identity: its store id and content.
                    let sha256 = stagegate_spec::sha256_hex(
                        format!(
                            "{}\n{}\n{}\n{}\n{}\n{}\n{}",
                            d.id, d.environment, d.finished_at, d.seconds, d.ok, d.method, d.node
                        )
                        .as_bytes(),
                    );
                    let from = RecordSource {
                        source: format!("drill #{} by {}", d.id, d.node),
                        sha256: Some(sha256),
                    };
                    facts.insert_drill(d.environment.clone(), record, from);
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read restore drills; judging from the drill log only")
        }
    }
    facts
}

fn record(d: &Drill) -> DrillRecord {
    DrillRecord {
        finished_at: d.finished_at.div_euclid(1000),
        seconds: d.seconds,
        ok: d.ok,
        message: d.message.clone(),
    }
}
