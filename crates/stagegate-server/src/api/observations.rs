//! `GET /api/v1/observations`: what the monitors observed, for `stagegate
//! check --server` to gate on.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::{ApiError, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};
use crate::observations::Observations;

/// Each check's confirmed state and latest result (with the node and
/// location that saw it), and each environment's newest restore drill.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "observations",
    get,
    path = "/api/v1/observations",
    tag = "environments",
    security(("bearer" = [])),
    responses((status = 200, description = "What the monitors observed", body = Observations), Refused)
)]
pub async fn all(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
) -> Result<Json<Observations>, ApiError> {
    let snapshot = state.snapshot();
    let observations =
        Observations::gather(state.store.as_ref(), &snapshot, Some(state.clock.now()))
            .await
            .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(observations))
}
