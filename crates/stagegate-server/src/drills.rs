//! Restore drills under the server: run on request (`POST
//! /api/v1/environments/{env}/drills`), one at a time per environment, off
//! the async runtime, with the result kept in the store; and the facts rules
//! judge, with the store's drills merged into the spec's.

use std::sync::Arc;

use stagegate_store::NewDrill;

use crate::AppState;

/// Why a drill was not started.
pub(crate) enum NotStarted {
    UnknownEnvironment,
    NotDeclared,
    AlreadyRunning,
}

/// Starts the drill of `env` in the background, asked for by `by` (a token
/// name, or `system` when the server runs a due drill); the result lands in
/// the store, and the audit log, when it finishes.
pub(crate) fn start(state: &Arc<AppState>, env: &str, by: &str) -> Result<(), NotStarted> {
    let snapshot = state.snapshot();
    let environment = snapshot
        .spec
        .environment(env)
        .ok_or(NotStarted::UnknownEnvironment)?;
    if environment
        .backup
        .as_ref()
        .and_then(|b| b.drill.as_ref())
        .is_none()
    {
        return Err(NotStarted::NotDeclared);
    }
    {
        let mut running = state
            .drills_running
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !running.insert(env.to_owned()) {
            return Err(NotStarted::AlreadyRunning);
        }
    }
    let state = state.clone();
    let env = env.to_owned();
    let by = by.to_owned();
    tokio::spawn(async move {
        let snap = snapshot.clone();
        let name = env.clone();
        let restic = std::env::var("STAGEGATE_RESTIC").unwrap_or_else(|_| "restic".to_owned());
        let outcome = tokio::task::spawn_blocking(move || {
            let environment = snap
                .spec
                .environment(&name)
                .ok_or_else(|| "the environment left the spec".to_owned())?;
            stagegate_probe::drill::run(
                &snap.spec,
                environment,
                &snap.base_dir,
                &restic,
                &stagegate_spec::process_env,
            )
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        let record = match outcome {
            Ok(run) => NewDrill {
                environment: env.clone(),
                finished_at: run.finished_at.saturating_mul(1000),
                seconds: run.seconds,
                ok: run.ok,
                message: run.message,
                method: run.method.to_owned(),
                node: state.node.clone(),
            },
            Err(why) => NewDrill {
                environment: env.clone(),
                finished_at: state.clock.now(),
                seconds: 0.0,
                ok: false,
                message: format!("the drill could not start: {why}"),
                method: "none".to_owned(),
                node: state.node.clone(),
            },
        };
        tracing::info!(environment = %env, ok = record.ok, seconds = record.seconds, "restore drill finished");
        match state.store.record_drill(&record).await {
            Ok(drill) => {
                crate::audit::record(
                    state.store.as_ref(),
                    drill.finished_at,
                    &by,
                    "drill",
                    &env,
                    serde_json::json!({
                        "id": drill.id,
                        "ok": drill.ok,
                        "seconds": drill.seconds,
                        "method": drill.method,
                        "node": drill.node,
                    }),
                )
                .await;
            }
            Err(e) => {
                tracing::error!(environment = %env, error = %e, "cannot record the restore drill")
            }
        }
        state
            .drills_running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&env);
    });
    Ok(())
}

/// Starts every declared drill that is due: none recorded yet, or the last
/// one finished longer ago than its `every`. Checked every 30 seconds.
pub(crate) async fn schedule(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // In a cluster only the leader runs them, once.
        if !state.leads() {
            continue;
        }
        let snapshot = state.snapshot();
        let facts = crate::verdicts::facts(state.store.as_ref(), &snapshot).await;
        let now = state.clock.now() / 1000;
        for env in &snapshot.spec.environments {
            let Some(drill) = env.backup.as_ref().and_then(|b| b.drill.as_ref()) else {
                continue;
            };
            let every = i64::try_from(drill.every.value.as_secs()).unwrap_or(i64::MAX);
            let due = facts
                .last_drill(&env.name.value)
                .is_none_or(|last| now.saturating_sub(last.finished_at) >= every);
            if due && !running(&state, &env.name.value) {
                tracing::info!(environment = %env.name.value, every = %drill.every.value, "restore drill is due; starting it");
                let _ = start(&state, &env.name.value, "system");
            }
        }
    }
}

/// Whether a drill of `env` is running now.
pub(crate) fn running(state: &AppState, env: &str) -> bool {
    state
        .drills_running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(env)
}
