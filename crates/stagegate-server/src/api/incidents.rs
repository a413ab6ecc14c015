//! Incidents: the list, and what an operator does to one.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stagegate_store::{Incident, IncidentUpdate};
use utoipa::ToSchema;

use super::{ApiError, ErrorBody, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};

const WEEK_MS: i64 = 7 * 86_400_000;

#[derive(Serialize, ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<Incident>,
}

/// Open incidents and those resolved in the last seven days, newest first.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "list_incidents",
    get,
    path = "/api/v1/incidents",
    tag = "incidents",
    security(("bearer" = [])),
    responses((status = 200, description = "The incidents", body = IncidentList), Refused)
)]
pub async fn list(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
) -> Result<Json<IncidentList>, ApiError> {
    let incidents = state
        .store
        .incidents(state.clock.now() - WEEK_MS, 500)
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(IncidentList { incidents }))
}

fn incident_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| {
        ApiError::bad_request(format!("`id` must be an incident number, found {raw:?}"))
    })
}

/// Acknowledge an open incident: reminders stop.
///
/// Needs the `operator` role.
#[utoipa::path(
    operation_id = "acknowledge_incident",
    post,
    path = "/api/v1/incidents/{id}/acknowledge",
    tag = "incidents",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The incident number", minimum = 1)),
    responses(
        (status = 200, description = "The incident, acknowledged", body = Incident),
        (status = 400, description = "`id` is not an incident number", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        Refused,
    )
)]
pub async fn acknowledge(
    who: Bearer<role::Operator>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Incident>, ApiError> {
    let id = incident_id(&id)?;
    match state
        .store
        .acknowledge_incident(id, who.who(), state.clock.now())
        .await
    {
        Ok(Some(i)) => {
            crate::audit::incident(&state, who.who(), "incident.acknowledge", &i).await;
            Ok(Json(i))
        }
        Ok(None) => Err(ApiError::not_found(format!("no incident {id}"))),
        Err(e) => Err(ApiError::store(&state, &e)),
    }
}

/// Resolve an incident by hand; its contacts are told.
///
/// Needs the `operator` role.
#[utoipa::path(
    operation_id = "resolve_incident",
    post,
    path = "/api/v1/incidents/{id}/resolve",
    tag = "incidents",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The incident number", minimum = 1)),
    responses(
        (status = 200, description = "The incident, resolved", body = Incident),
        (status = 400, description = "`id` is not an incident number", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        Refused,
    )
)]
pub async fn resolve(
    who: Bearer<role::Operator>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Incident>, ApiError> {
    let id = incident_id(&id)?;
    match crate::lifecycle::resolve_by_hand(&state, id, state.clock.now(), who.who()).await {
        Ok(Some(i)) => Ok(Json(i)),
        Ok(None) => Err(ApiError::not_found(format!("no incident {id}"))),
        Err(e) => Err(ApiError::store(&state, &e)),
    }
}

/// Where an incident stands, as the public is told.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum UpdateStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl UpdateStatus {
    fn as_str(self) -> &'static str {
        match self {
            UpdateStatus::Investigating => "investigating",
            UpdateStatus::Identified => "identified",
            UpdateStatus::Monitoring => "monitoring",
            UpdateStatus::Resolved => "resolved",
        }
    }
}

/// A public update to post.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    pub status: UpdateStatus,
    /// What the public reads: 1 to 5000 characters with at least one that
    /// is neither a space nor a control character. Control characters
    /// other than line breaks and tabs are dropped.
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"[^\s\u0000-\u001F\u007F-\u009F\uFFFE\uFFFF]"
    )]
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct UpdateList {
    pub updates: Vec<IncidentUpdate>,
}

/// Post a public update: shown on the environment's status page and in its
/// feed, and sent through every notifier with `status_updates = true`.
/// `resolved` also resolves the incident if it is still open.
///
/// Needs the `operator` role.
#[utoipa::path(
    operation_id = "post_incident_update",
    post,
    path = "/api/v1/incidents/{id}/updates",
    tag = "incidents",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The incident number", minimum = 1)),
    request_body(content = UpdateRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Posted", body = IncidentUpdate),
        (status = 400, description = "Malformed request; the error names the field", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        (status = 409, description = "No status page shows the incident (its environment has none, no component holds its check, or it is suppressed under another)", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        Refused,
    )
)]
pub async fn post_update(
    who: Bearer<role::Operator>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<IncidentUpdate>), ApiError> {
    let id = incident_id(&id)?;
    let request: UpdateRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid request body: {e}; expected {{\"status\": \"investigating\" | \"identified\" | \"monitoring\" | \"resolved\", \"message\": \"...\"}}"
        ))
    })?;
    let status = request.status.as_str();
    let message =
        crate::lifecycle::valid_update(status, &request.message).map_err(ApiError::bad_request)?;
    use crate::lifecycle::Published;
    match crate::lifecycle::publish_update(&state, id, status, &message, who.who()).await {
        Ok(Published::Posted(update)) => Ok((StatusCode::CREATED, Json(update))),
        Ok(Published::NoIncident) => Err(ApiError::not_found(format!("no incident {id}"))),
        Ok(Published::NotPublic(why)) => Err(ApiError::new(StatusCode::CONFLICT, why)),
        Err(e) => Err(ApiError::store(&state, &e)),
    }
}

/// An incident's public updates, oldest first.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "list_incident_updates",
    get,
    path = "/api/v1/incidents/{id}/updates",
    tag = "incidents",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The incident number", minimum = 1)),
    responses(
        (status = 200, description = "Its updates", body = UpdateList),
        (status = 400, description = "`id` is not an incident number", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
        Refused,
    )
)]
pub async fn updates(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<UpdateList>, ApiError> {
    let id = incident_id(&id)?;
    let store = state.store.as_ref();
    match store.incident(id).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(ApiError::not_found(format!("no incident {id}"))),
        Err(e) => return Err(ApiError::store(&state, &e)),
    }
    let updates = store
        .incident_updates(&[id])
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(UpdateList { updates }))
}
