//! `GET /api/v1/deliveries`: the notification delivery log.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use stagegate_store::Delivery;
use utoipa::ToSchema;

use super::{ApiError, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

/// The notification delivery log, newest first: every attempt, its outcome
/// and error.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "list_deliveries",
    get,
    path = "/api/v1/deliveries",
    tag = "incidents",
    security(("bearer" = [])),
    responses((status = 200, description = "The last 500 attempts", body = DeliveryList), Refused)
)]
pub async fn list(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
) -> Result<Json<DeliveryList>, ApiError> {
    let deliveries = state
        .store
        .deliveries(500)
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(DeliveryList { deliveries }))
}
