//! Restore drills run under the server.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use stagegate_store::Drill;
use utoipa::ToSchema;

use super::{ApiError, ErrorBody, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};
use crate::drills::NotStarted;

#[derive(Serialize, ToSchema)]
pub struct DrillList {
    /// Whether a drill of this environment is running now.
    pub running: bool,
    pub drills: Vec<Drill>,
}

#[derive(Serialize, ToSchema)]
pub struct DrillStarted {
    /// Always `started`.
    #[schema(pattern = "^started$")]
    pub status: &'static str,
    /// Where its record appears once it finishes.
    pub results: String,
}

/// Restore drills run under the server, newest first, and whether one is
/// running.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "list_drills",
    get,
    path = "/api/v1/environments/{env}/drills",
    tag = "promotions",
    security(("bearer" = [])),
    params(("env" = String, Path, description = "An environment of the spec")),
    responses(
        (status = 200, description = "The drills", body = DrillList),
        (status = 404, description = "No such environment", body = ErrorBody),
        Refused,
    )
)]
pub async fn of_environment(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
    Path(env): Path<String>,
) -> Result<Json<DrillList>, ApiError> {
    if state.snapshot().spec.environment(&env).is_none() {
        return Err(ApiError::no_environment(&env));
    }
    let drills = state
        .store
        .drills(Some(&env), 100)
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(DrillList {
        running: crate::drills::running(&state, &env),
        drills,
    }))
}

/// Start the environment's restore drill; its result is recorded when it
/// finishes (poll the GET for it).
///
/// Needs the `operator` role.
#[utoipa::path(
    operation_id = "start_drill",
    post,
    path = "/api/v1/environments/{env}/drills",
    tag = "promotions",
    security(("bearer" = [])),
    params(("env" = String, Path, description = "An environment of the spec")),
    responses(
        (status = 202, description = "Started", body = DrillStarted),
        (status = 404, description = "No such environment", body = ErrorBody),
        (status = 409, description = "The environment declares no drill, or one is running", body = ErrorBody),
        Refused,
    )
)]
pub async fn start(
    who: Bearer<role::Operator>,
    State(state): State<Arc<AppState>>,
    Path(env): Path<String>,
) -> Result<(StatusCode, Json<DrillStarted>), ApiError> {
    match crate::drills::start(&state, &env, who.who()) {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(DrillStarted {
                status: "started",
                results: format!("/api/v1/environments/{env}/drills"),
            }),
        )),
        Err(NotStarted::UnknownEnvironment) => Err(ApiError::no_environment(&env)),
        Err(NotStarted::NotDeclared) => Err(ApiError::conflict(format!(
            "`{env}` declares no restore drill: expected `[environments.{env}.backup.drill]`"
        ))),
        Err(NotStarted::AlreadyRunning) => Err(ApiError::conflict(format!(
            "a restore drill of `{env}` is already running"
        ))),
    }
}
