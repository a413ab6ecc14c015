//! Approvals of promotions, and the facts a promotion would be judged on
//! (for `plan --server`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stagegate_rules::PromotionFacts;
use stagegate_store::{ApprovalRecord, NewApproval};
use utoipa::ToSchema;

use super::{ApiError, ErrorBody, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};

#[derive(Serialize, ToSchema)]
pub struct ApprovalList {
    /// Newest first.
    pub approvals: Vec<ApprovalRecord>,
}

/// What to approve.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// The mode the environment may be promoted to.
    #[schema(pattern = "^(development|staging|soft-launch|production)$")]
    pub to: String,
}

fn mode(text: &str, field: &str) -> Result<stagegate_spec::Mode, ApiError> {
    stagegate_spec::Mode::parse(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "`{field}` is not a mode: found {text:?}, expected one of {}",
            stagegate_spec::Mode::NAMES.join(", ")
        ))
    })
}

/// The environment's approvals, newest first.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "list_approvals",
    get,
    path = "/api/v1/environments/{env}/approvals",
    tag = "promotions",
    security(("bearer" = [])),
    params(("env" = String, Path, description = "An environment of the spec")),
    responses(
        (status = 200, description = "The approvals", body = ApprovalList),
        (status = 404, description = "No such environment", body = ErrorBody),
        Refused,
    )
)]
pub async fn of_environment(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
    Path(env): Path<String>,
) -> Result<Json<ApprovalList>, ApiError> {
    if state.snapshot().spec.environment(&env).is_none() {
        return Err(ApiError::no_environment(&env));
    }
    let approvals = state
        .store
        .approvals(&env)
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(ApprovalList { approvals }))
}

/// Approve promoting the environment to a mode: valid for
/// `policy.promotion.approval_valid_for` (default 7d) and only for the spec
/// the server runs now (its SHA-256 is recorded).
///
/// Needs the `approver` role.
#[utoipa::path(
    operation_id = "approve",
    post,
    path = "/api/v1/environments/{env}/approvals",
    tag = "promotions",
    security(("bearer" = [])),
    params(("env" = String, Path, description = "An environment of the spec")),
    request_body(content = ApprovalRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded", body = ApprovalRecord),
        (status = 400, description = "Malformed request; the error names the field", body = ErrorBody),
        (status = 404, description = "No such environment", body = ErrorBody),
        (status = 409, description = "`to` is not a later mode than the environment's", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        Refused,
    )
)]
pub async fn approve(
    who: Bearer<role::Approver>,
    State(state): State<Arc<AppState>>,
    Path(env): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ApprovalRecord>), ApiError> {
    let request: ApprovalRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid request body: {e}; expected {{\"to\": \"MODE\"}}"
        ))
    })?;
    let to = mode(&request.to, "to")?;
    let snapshot = state.snapshot();
    let Some(environment) = snapshot.spec.environment(&env) else {
        return Err(ApiError::no_environment(&env));
    };
    let rank = |m: stagegate_spec::Mode| stagegate_spec::Mode::ALL.iter().position(|x| *x == m);
    if rank(to) <= rank(environment.mode.value) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "`to` is {}, but {env} is in {} already: approve a promotion to a later mode",
                to.as_str(),
                environment.mode.value.as_str()
            ),
        ));
    }
    let record = approve_now(&state, &env, to, who.who()).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// Records an approval by `who` and writes it to the audit log.
pub(crate) async fn approve_now(
    state: &AppState,
    env: &str,
    to: stagegate_spec::Mode,
    who: &str,
) -> Result<ApprovalRecord, ApiError> {
    let snapshot = state.snapshot();
    let valid_for = snapshot
        .spec
        .policy
        .promotion
        .clone()
        .unwrap_or_default()
        .approval_valid_for;
    let now = state.clock.now();
    let record = state
        .store
        .record_approval(
            &NewApproval {
                environment: env.to_owned(),
                to_mode: to.as_str().to_owned(),
                approved_by: who.to_owned(),
                expires_at: now
                    .saturating_add(i64::try_from(valid_for.get().as_millis()).unwrap_or(i64::MAX)),
                spec_sha256: snapshot.identity.sha256.clone(),
            },
            now,
        )
        .await
        .map_err(|e| ApiError::store(state, &e))?;
    crate::audit::record(
        state.store.as_ref(),
        now,
        who,
        "approval",
        env,
        serde_json::json!({
            "id": record.id,
            "to": record.to_mode,
            "expires_at": crate::clock::rfc3339(record.expires_at),
            "spec_sha256": record.spec_sha256,
        }),
    )
    .await;
    Ok(record)
}

/// The facts a promotion of the environment to `to` would be judged on now:
/// time in mode, measured availability, open incidents, backup runs and
/// approvals (what `stagegate plan --server` judges locally).
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "promotion_facts",
    get,
    path = "/api/v1/environments/{env}/promotion",
    tag = "promotions",
    security(("bearer" = [])),
    params(
        ("env" = String, Path, description = "An environment of the spec"),
        ("to" = String, Query, description = "The mode to promote to", pattern = "^(development|staging|soft-launch|production)$"),
        ("by" = Option<String>, Query, description = "Who would promote (approvals by them do not count)"),
    ),
    responses(
        (status = 200, description = "The facts", body = PromotionFacts),
        (status = 400, description = "`to` is missing or not a mode", body = ErrorBody),
        (status = 404, description = "No such environment", body = ErrorBody),
        Refused,
    )
)]
pub async fn facts(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
    Path(env): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<PromotionFacts>, ApiError> {
    let to = q
        .get("to")
        .ok_or_else(|| ApiError::bad_request("`to` is missing: expected ?to=MODE"))?;
    mode(to, "to")?;
    let now = crate::verdicts::Now::gather(&state).await;
    let Some(environment) = now.snapshot.spec.environment(&env) else {
        return Err(ApiError::no_environment(&env));
    };
    let source = crate::gates::source(&state.node, &state.location);
    let facts = crate::gates::facts(
        state.store.as_ref(),
        &now,
        environment,
        q.get("by").map(String::as_str),
        &source,
    )
    .await
    .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(facts))
}
