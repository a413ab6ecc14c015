//! Backups: per environment what the spec declares, how fresh the last
//! good run is, and the run history its heartbeats report. Ping tokens are
//! credentials and never appear.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use stagegate_store::{CheckStatus, Millis};

use super::html;
use super::session::SignedIn;
use crate::AppState;
use crate::heartbeat::runs;

struct RunRow {
    finished: String,
    outcome: String,
    class: &'static str,
    duration: String,
}

struct Job {
    name: String,
    status: &'static str,
    runs: Vec<RunRow>,
}

struct DrillRow {
    finished: String,
    outcome: &'static str,
    class: &'static str,
    duration: String,
    source: String,
    message: String,
}

struct Section {
    environment: String,
    declared: Option<String>,
    freshness: String,
    jobs: Vec<Job>,
    /// The declared drill, in words; `None` when none is declared.
    drill: Option<String>,
    drills: Vec<DrillRow>,
    /// When backup monitoring was last done and by whom, where a duty
    /// heartbeat records it.
    monitored: Option<String>,
}

#[derive(Template)]
#[template(path = "backups.html")]
struct BackupsPage {
    chrome: super::Chrome,
    sections: Vec<Section>,
}

pub async fn page(State(state): State<Arc<AppState>>, SignedIn(viewer, _): SignedIn) -> Response {
    let snapshot = state.snapshot();
    let now = state.clock.now();
    let mut sections = Vec::new();
    for env in &snapshot.spec.environments {
        let watchers: Vec<_> = snapshot
            .heartbeats
            .iter()
            .filter(|h| h.environment == env.name.value)
            .filter(|h| {
                env.monitoring
                    .iter()
                    .flat_map(|m| &m.checks)
                    .find(|c| c.name.value == h.check)
                    .and_then(|c| c.covers.as_ref())
                    .is_some_and(|cv| cv.value.as_str() == "backup")
            })
            .collect();
        if env.backup.is_none() && watchers.is_empty() {
            continue;
        }
        let declared = env.backup.as_ref().map(|b| {
            let mut parts = vec![
                format!("every {}", b.interval.value),
                format!("to {}", b.location.value),
                if b.is_encrypted() {
                    "encrypted"
                } else {
                    "not encrypted"
                }
                .to_owned(),
            ];
            if let Some(r) = &b.retention {
                parts.push(format!("kept {}", r.value));
            }
            if let Some(source) = &b.source {
                parts.push(format!("{} repository", source.kind.value.as_str()));
            }
            parts.join(", ")
        });
        let mut jobs = Vec::new();
        let mut last_good: Option<Millis> = None;
        for h in watchers {
            let fetched = async {
                Ok::<_, stagegate_store::StoreError>((
                    state.store.pings(&h.token, 200).await?,
                    state.store.check_state(&h.key()).await?,
                ))
            };
            let (pings, st) = match fetched.await {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(error = %e, "backups: the store is unavailable");
                    return super::unavailable();
                }
            };
            let history = runs(&pings);
            if let Some(good) = history.iter().find(|r| r.ok) {
                last_good = Some(last_good.map_or(good.finished_at, |t| t.max(good.finished_at)));
            }
            jobs.push(Job {
                name: h.check.clone(),
                status: match st.map_or(CheckStatus::Unknown, |s| s.status) {
                    CheckStatus::Up => "up",
                    CheckStatus::Down => "down",
                    CheckStatus::Unknown => "unknown",
                },
                runs: history
                    .iter()
                    .take(20)
                    .map(|r| RunRow {
                        finished: super::utc(r.finished_at),
                        outcome: match (r.ok, r.exit_code) {
                            (true, _) => "succeeded".to_owned(),
                            (false, Some(code)) => format!("failed (exit {code})"),
                            (false, None) => "failed".to_owned(),
                        },
                        class: if r.ok { "up" } else { "down" },
                        duration: r.duration().map_or("—".to_owned(), super::lasted),
                    })
                    .collect(),
            });
        }
        let freshness = match (last_good, &env.backup) {
            (Some(at), Some(b)) => {
                let age = now - at;
                let allowed = i64::try_from(b.interval.value.get().as_millis()).unwrap_or(i64::MAX);
                format!(
                    "last good run {} ago ({}){}",
                    super::lasted(age),
                    super::utc(at),
                    if age > allowed {
                        format!(
                            " — older than the declared interval of {}",
                            b.interval.value
                        )
                    } else {
                        String::new()
                    }
                )
            }
            (Some(at), None) => format!(
                "last good run {} ago ({})",
                super::lasted(now - at),
                super::utc(at)
            ),
            (None, _) if jobs.is_empty() => {
                "not monitored: no heartbeat covers the backup".to_owned()
            }
            (None, _) => "no successful run reported yet".to_owned(),
        };
        let drill = env.backup.as_ref().and_then(|b| b.drill.as_ref()).map(|d| {
            let how = if d.command.is_some() {
                "the drill command"
            } else if d.verify.is_some() {
                "restic restore, then the verify command"
            } else {
                "restic restore"
            };
            let rto = snapshot
                .spec
                .product
                .rto
                .as_ref()
                .map(|r| format!(", within the rto of {}", r.value))
                .unwrap_or_default();
            format!("every {} ({how}){rto}", d.every.value)
        });
        let stored = match state.store.drills(Some(&env.name.value), 10).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "backups: the store is unavailable");
                return super::unavailable();
            }
        };
        let mut drills: Vec<(Millis, DrillRow)> = stored
            .iter()
            .map(|d| {
                (
                    d.finished_at,
                    drill_row(
                        d.finished_at,
                        d.seconds,
                        d.ok,
                        format!("server {}", d.node),
                        &d.message,
                    ),
                )
            })
            .collect();
        if let Some(logged) = snapshot.files.last_drill(&env.name.value) {
            let at = logged.finished_at.saturating_mul(1000);
            drills.push((
                at,
                drill_row(
                    at,
                    logged.seconds,
                    logged.ok,
                    "drill log".to_owned(),
                    &logged.message,
                ),
            ));
        }
        drills.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        let monitored = match backup_monitoring(&state, &snapshot, env, now).await {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "backups: the store is unavailable");
                return super::unavailable();
            }
        };
        sections.push(Section {
            environment: env.name.value.clone(),
            declared,
            freshness,
            jobs,
            drill,
            drills: drills.into_iter().map(|(_, row)| row).collect(),
            monitored,
        });
    }
    html(
        StatusCode::OK,
        &BackupsPage {
            chrome: super::Chrome::new(
                &viewer,
                snapshot.spec.product.name.value.clone(),
                "backups",
            ),
            sections,
        },
    )
}

/// When the environment's backup-monitoring duty was last done, and by
/// whom; `None` without a duty heartbeat for it.
async fn backup_monitoring(
    state: &AppState,
    snapshot: &crate::snapshot::Snapshot,
    env: &stagegate_spec::Environment,
    now: Millis,
) -> Result<Option<String>, stagegate_store::StoreError> {
    let Some(check) = env.monitoring.iter().flat_map(|m| &m.checks).find(|c| {
        c.duty
            .as_ref()
            .is_some_and(|d| d.value == stagegate_spec::Duty::BackupMonitoring)
    }) else {
        return Ok(None);
    };
    let Some(h) = snapshot
        .heartbeats
        .iter()
        .find(|h| h.environment == env.name.value && h.check == check.name.value)
    else {
        return Ok(None);
    };
    let pings = state.store.pings(&h.token, 50).await?;
    Ok(Some(super::last_done(&pings, now).map_or_else(
        || format!("never signalled done ({})", check.name.value),
        |d| format!("last done {d}"),
    )))
}

fn drill_row(at: Millis, seconds: f64, ok: bool, source: String, message: &str) -> DrillRow {
    DrillRow {
        finished: super::utc(at),
        outcome: if ok { "passed" } else { "failed" },
        class: if ok { "up" } else { "down" },
        duration: super::lasted((seconds * 1000.0).round() as i64),
        source,
        message: message.to_owned(),
    }
}
