//! `GET /api/v1/checks`: every monitoring check with its status, uptime and
//! recent results.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use stagegate_store::{CheckStatus, Millis, Outcome, StoredResult};
use utoipa::ToSchema;

use super::{ApiError, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};
use crate::snapshot::check_key;

const DAY_MS: i64 = 86_400_000;

#[derive(Serialize, ToSchema)]
pub struct CheckList {
    pub checks: Vec<CheckView>,
}

/// A check, its status and what it measured lately.
#[derive(Serialize, ToSchema)]
pub struct CheckView {
    pub environment: String,
    pub name: String,
    pub kind: String,
    pub covers: Option<String>,
    pub status: CheckStatus,
    pub uptime: UptimeView,
    /// The last 20 results, newest first.
    pub recent: Vec<ResultView>,
}

/// Percent of passing results; null without results.
#[derive(Serialize, ToSchema)]
pub struct UptimeView {
    #[serde(rename = "24h")]
    pub day: Option<f64>,
    #[serde(rename = "7d")]
    pub week: Option<f64>,
    #[serde(rename = "30d")]
    pub month: Option<f64>,
}

/// One probe result.
#[derive(Serialize, ToSchema)]
pub struct ResultView {
    pub id: i64,
    /// `ENV/CHECK`.
    pub check: String,
    pub node: String,
    pub location: String,
    /// ms since the epoch.
    pub started_at: Millis,
    pub outcome: Outcome,
    pub latency_ms: Option<f64>,
    pub summary: String,
    /// What was measured: facts (`status`, `cert_not_after`, ...), phase
    /// timings (`time_connect`, ...), the error chain (`error`,
    /// `caused_by_1`, ...).
    pub evidence: BTreeMap<String, serde_json::Value>,
}

impl From<&StoredResult> for ResultView {
    fn from(r: &StoredResult) -> Self {
        let parsed: serde_json::Value =
            serde_json::from_str(&r.evidence).unwrap_or(serde_json::Value::Null);
        // Rows written before evidence became a flat object held the whole
        // observation, its measurements under `details` as pairs.
        let evidence = match parsed.get("details").and_then(serde_json::Value::as_array) {
            Some(pairs) => pairs
                .iter()
                .filter_map(|p| Some((p.get(0)?.as_str()?.to_owned(), p.get(1)?.clone())))
                .collect(),
            None => parsed
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        };
        ResultView {
            id: r.id,
            check: r.check.clone(),
            node: r.node.clone(),
            location: r.location.clone(),
            started_at: r.started_at,
            outcome: r.outcome,
            latency_ms: r.latency_ms,
            summary: r.summary.clone(),
            evidence,
        }
    }
}

/// Checks with status, uptime over 24 h / 7 d / 30 d and recent results.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "list_checks",
    get,
    path = "/api/v1/checks",
    tag = "environments",
    security(("bearer" = [])),
    responses((status = 200, description = "Every check", body = CheckList), Refused)
)]
pub async fn list(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
) -> Result<Json<CheckList>, ApiError> {
    let snapshot = state.snapshot();
    let now = state.clock.now();
    let mut checks = Vec::new();
    for env in &snapshot.spec.environments {
        for c in env.monitoring.iter().flat_map(|m| &m.checks) {
            let key = check_key(&env.name.value, &c.name.value);
            let fetched = async {
                let st = state.store.check_state(&key).await?;
                let recent = state.store.recent_results(&key, 20).await?;
                let day = state.store.uptime(&key, now - DAY_MS).await?;
                let week = state.store.uptime(&key, now - 7 * DAY_MS).await?;
                let month = state.store.uptime(&key, now - 30 * DAY_MS).await?;
                Ok::<_, stagegate_store::StoreError>((st, recent, day, week, month))
            };
            let (st, recent, day, week, month) =
                fetched.await.map_err(|e| ApiError::store(&state, &e))?;
            checks.push(CheckView {
                environment: env.name.value.clone(),
                name: c.name.value.clone(),
                kind: c.kind.value.as_str().to_owned(),
                covers: c.covers.as_ref().map(|cv| cv.value.as_str().to_owned()),
                status: st.as_ref().map_or(CheckStatus::Unknown, |s| s.status),
                uptime: UptimeView {
                    day: day.percent(),
                    week: week.percent(),
                    month: month.percent(),
                },
                recent: recent.iter().map(ResultView::from).collect(),
            });
        }
    }
    Ok(Json(CheckList { checks }))
}
