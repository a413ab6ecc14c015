//! Promotions: the records, and promoting an environment to its next mode.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use stagegate_store::Promotion;
use utoipa::ToSchema;

use super::{ApiError, ErrorBody, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};
use crate::promote::Refused as NotPromoted;

#[derive(Serialize, ToSchema)]
pub struct PromotionList {
    pub promotions: Vec<Promotion>,
}

/// What to promote to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionRequest {
    /// The target mode.
    #[schema(pattern = "^(development|staging|soft-launch|production)$")]
    pub to: String,
}

/// The promotion recorded, and the plan report it rests on.
#[derive(Serialize, ToSchema)]
pub struct Promoted {
    pub promotion: Promotion,
    /// The plan report (SPEC section 5 shape) whose SHA-256 is the record's
    /// `digest`, exactly as hashed.
    #[schema(value_type = Object)]
    pub report: Box<serde_json::value::RawValue>,
}

/// A refused promotion: what must change first.
#[derive(Serialize, ToSchema)]
pub struct Blocked {
    pub error: String,
    /// The failing findings (SPEC section 5 fields, with the title and
    /// what each rests on).
    pub failing: Vec<crate::promote::Failing>,
}

/// Every promotion record, newest first.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "list_promotions",
    get,
    path = "/api/v1/promotions",
    tag = "promotions",
    security(("bearer" = [])),
    responses((status = 200, description = "The records", body = PromotionList), Refused)
)]
pub async fn all(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
) -> Result<Json<PromotionList>, ApiError> {
    let promotions = state
        .store
        .promotions(None)
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(PromotionList { promotions }))
}

/// The promotion records of one environment, newest first.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "list_environment_promotions",
    get,
    path = "/api/v1/environments/{env}/promotions",
    tag = "promotions",
    security(("bearer" = [])),
    params(("env" = String, Path, description = "An environment of the spec")),
    responses(
        (status = 200, description = "The records", body = PromotionList),
        (status = 404, description = "No such environment", body = ErrorBody),
        Refused,
    )
)]
pub async fn of_environment(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
    Path(env): Path<String>,
) -> Result<Json<PromotionList>, ApiError> {
    if state.snapshot().spec.environment(&env).is_none() {
        return Err(ApiError::no_environment(&env));
    }
    let promotions = state
        .store
        .promotions(Some(&env))
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(PromotionList { promotions }))
}

/// Promote: refused (409) while the plan to the target mode is blocked,
/// else recorded with the plan report's SHA-256.
///
/// Needs the `operator` role.
#[utoipa::path(
    operation_id = "promote",
    post,
    path = "/api/v1/environments/{env}/promotions",
    tag = "promotions",
    security(("bearer" = [])),
    params(("env" = String, Path, description = "An environment of the spec")),
    request_body(content = PromotionRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded", body = Promoted),
        (status = 400, description = "Malformed request; the error names the field", body = ErrorBody),
        (status = 404, description = "No such environment", body = ErrorBody),
        (status = 409, description = "The plan is blocked; the failing rules are listed", body = Blocked),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        Refused,
    )
)]
pub async fn promote(
    who: Bearer<role::Operator>,
    State(state): State<Arc<AppState>>,
    Path(env): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: PromotionRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid request body: {e}; expected {{\"to\": \"MODE\"}}"
        ))
    })?;
    let to = stagegate_spec::Mode::parse(&request.to).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`to` is not a mode: found {:?}, expected one of {}",
            request.to,
            stagegate_spec::Mode::NAMES.join(", ")
        ))
    })?;
    let now = crate::verdicts::Now::gather(&state).await;
    let source = crate::gates::source(&state.node, &state.location);
    match crate::promote::promote(state.store.as_ref(), &now, &env, to, who.who(), &source).await {
        Ok((promotion, report)) => {
            let report = serde_json::value::RawValue::from_string(report)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            Ok((StatusCode::CREATED, Json(Promoted { promotion, report })).into_response())
        }
        Err(NotPromoted::UnknownEnvironment(e)) => Err(ApiError::no_environment(&e)),
        Err(NotPromoted::Blocked { to, failing }) => Ok((
            StatusCode::CONFLICT,
            Json(Blocked {
                error: format!("{env} cannot be promoted to {to}: the plan is blocked"),
                failing,
            }),
        )
            .into_response()),
        Err(NotPromoted::Store(e)) => Err(ApiError::store(&state, &e)),
    }
}
