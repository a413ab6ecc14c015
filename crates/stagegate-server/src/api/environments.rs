//! `GET /api/v1/environments`: the check report of the contract with each
//! environment's live state beside its findings.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use stagegate_report::json::{ReportEnvironment, document};
use stagegate_report::{Kind, Report};
use stagegate_store::{CheckStatus, Incident, Millis};
use utoipa::ToSchema;

use super::{ApiError, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};
use crate::snapshot::check_key;

/// The check report (SPEC section 5) with live state.
#[derive(Serialize, ToSchema)]
pub struct EnvironmentsReport<'a> {
    pub version: u32,
    pub product: &'a str,
    pub as_of: String,
    #[serde(flatten)]
    pub provenance: &'a stagegate_report::Provenance,
    pub environments: Vec<LiveEnvironment<'a>>,
}

/// An environment's findings, and what its monitors see now.
#[derive(Serialize, ToSchema)]
pub struct LiveEnvironment<'a> {
    #[serde(flatten)]
    pub report: ReportEnvironment<'a>,
    pub live: Live,
}

#[derive(Serialize, ToSchema)]
pub struct Live {
    pub checks: Vec<LiveCheck>,
}

/// A check's confirmed status and its open incident, if any.
#[derive(Serialize, ToSchema)]
pub struct LiveCheck {
    pub name: String,
    pub kind: String,
    pub status: CheckStatus,
    /// When the status last changed, ms since the epoch.
    pub since: Option<Millis>,
    pub incident: Option<Incident>,
}

/// The check report with each environment's live state.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "environments_report",
    get,
    path = "/api/v1/environments",
    tag = "environments",
    security(("bearer" = [])),
    responses((status = 200, description = "The report", body = EnvironmentsReport), Refused)
)]
pub async fn report(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
) -> Result<Response, ApiError> {
    let now = crate::verdicts::Now::gather(&state).await;
    let snapshot = &now.snapshot;
    let evaluation = now.evaluate();
    let states = state
        .store
        .check_states()
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    let open = state
        .store
        .incidents(state.clock.now(), 10_000)
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    let provenance = snapshot.provenance(state.clock.now().div_euclid(1000));
    let report = Report {
        kind: Kind::Check,
        product: &snapshot.spec.product.name.value,
        as_of: now.as_of,
        source: &snapshot.source,
        environments: &evaluation.environments,
        provenance: &provenance,
    };
    let doc = document(&report);
    let environments = doc
        .environments
        .into_iter()
        .map(|env| {
            let checks = snapshot
                .spec
                .environment(env.name)
                .and_then(|e| e.monitoring.as_ref())
                .map(|m| {
                    m.checks
                        .iter()
                        .map(|c| {
                            let key = check_key(env.name, &c.name.value);
                            let st = states.iter().find(|s| s.check == key);
                            LiveCheck {
                                name: c.name.value.clone(),
                                kind: c.kind.value.as_str().to_owned(),
                                status: st.map_or(CheckStatus::Unknown, |s| s.status),
                                since: st.and_then(|s| s.last_run_at),
                                incident: open
                                    .iter()
                                    .find(|i| i.check == key && i.resolved_at.is_none())
                                    .cloned(),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            LiveEnvironment {
                report: env,
                live: Live { checks },
            }
        })
        .collect();
    let body = EnvironmentsReport {
        version: doc.version,
        product: doc.product,
        as_of: doc.as_of,
        provenance: doc.provenance,
        environments,
    };
    // Serialised here: the report borrows from values local to this call.
    Ok(Json(body).into_response())
}
