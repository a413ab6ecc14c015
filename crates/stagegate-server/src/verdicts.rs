//! What the rules make of everything the server knows, now: one place that
//! gathers the facts (the spec's files, what the monitors observed, and the
//! newest restore drill of each environment from the store) and evaluates
//! them. Every page and endpoint that shows a verdict asks here, so no two
//! of them can disagree.

use std::sync::Arc;

use stagegate_rules::{EnvironmentResult, Evaluation, Evaluator, FileFacts, LiveEvidence};
use stagegate_spec::{Date, Environment, Mode};

use crate::AppState;
use crate::observations::Observations;
use crate::snapshot::Snapshot;

/// The spec, its facts and what the monitors observed, as of today (by the
/// server's clock).
#[derive(Debug)]
pub struct Now {
    pub snapshot: Arc<Snapshot>,
    pub files: FileFacts,
    pub as_of: Date,
    /// Unix seconds, for the age of observations.
    pub at: i64,
    pub observations: Observations,
    pub live: LiveEvidence,
}

impl Now {
    pub async fn gather(state: &AppState) -> Now {
        let now = state.clock.now();
        Now::of(
            state.store.as_ref(),
            state.snapshot(),
            now.div_euclid(1000),
            Some(now),
        )
        .await
    }

    /// The same at `at` (Unix seconds); `watching` is the time now in
    /// milliseconds when a running server judges the heartbeats, `None`
    /// for a store read without one (`stagegate promote` on a store).
    pub async fn of(
        store: &dyn stagegate_store::Store,
        snapshot: Arc<Snapshot>,
        at: i64,
        watching: Option<stagegate_store::Millis>,
    ) -> Now {
        let observations = match Observations::gather(store, &snapshot, watching).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read what the monitors observed; judging from the spec and the drill log only");
                Observations::default()
            }
        };
        let mut files = snapshot.files.clone();
        observations.add_drills(&mut files);
        let live = observations.live_evidence(&snapshot.spec);
        Now {
            as_of: Date::from_unix_secs(at),
            at,
            snapshot,
            files,
            observations,
            live,
        }
    }

    fn evaluator(&self) -> Evaluator<'_, '_> {
        Evaluator::new(&self.snapshot.spec, self.as_of, &self.files)
            .custom(&self.snapshot.custom)
            .live(Some(&self.live))
            .now(self.at)
    }

    /// Every environment in its own mode.
    pub fn evaluate(&self) -> Evaluation<'_> {
        self.evaluator().all(&[])
    }

    /// One environment as if it were in `mode`.
    pub fn environment<'a>(&'a self, env: &'a Environment, mode: Mode) -> EnvironmentResult<'a> {
        self.evaluator().environment(env, mode)
    }

    /// One environment in `mode`, with a promotion's facts when known.
    pub fn evaluator_for<'a>(
        &'a self,
        env: &'a Environment,
        mode: Mode,
        facts: Option<&'a stagegate_rules::PromotionFacts>,
    ) -> EnvironmentResult<'a> {
        self.evaluator().promotion(facts).environment(env, mode)
    }

    /// One environment promoted to `mode`, judged with the promotion's facts.
    pub fn promotion<'a>(
        &'a self,
        env: &'a Environment,
        mode: Mode,
        facts: &'a stagegate_rules::PromotionFacts,
    ) -> EnvironmentResult<'a> {
        self.evaluator()
            .promotion(Some(facts))
            .environment(env, mode)
    }
}

/// The facts rules judge: the snapshot's, with the newest drill of each
/// environment taken from the store when it is newer than the drill log's.
pub async fn facts(store: &dyn stagegate_store::Store, snapshot: &Snapshot) -> FileFacts {
    let mut facts = snapshot.files.clone();
    match store.last_drills().await {
        Ok(drills) => Observations::drills(&drills).add_drills(&mut facts),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read restore drills; judging from the drill log only")
        }
    }
    facts
}
