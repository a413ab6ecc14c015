//! `/healthz` and `/metrics`: answered at once, from memory where the store
//! would make them wait.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// How long `/healthz` waits for the store: a health check that hangs is
/// as good as a failing one, and orchestrators give up after a second or
/// two.
const HEALTH_WAIT: Duration = Duration::from_secs(1);

/// 200 while the server can serve and write its store.
#[utoipa::path(
    operation_id = "health",
    get,
    path = "/healthz",
    tag = "health",
    responses(
        (status = 200, description = "Healthy", body = String, content_type = "text/plain"),
        (status = 503, description = "The store is unavailable or did not answer within a second", body = String, content_type = "text/plain"),
    )
)]
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let problem = match tokio::time::timeout(HEALTH_WAIT, state.store.health()).await {
        Ok(Ok(())) => return (StatusCode::OK, "ok\n").into_response(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {}s", HEALTH_WAIT.as_secs()),
    };
    state.metrics.store_error();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("store unavailable: {problem}\n"),
    )
        .into_response()
}

/// Prometheus text exposition: check status, latency, incidents, scheduler
/// lag, outbox depth, pings, refusals, store health.
#[utoipa::path(
    operation_id = "metrics",
    get,
    path = "/metrics",
    tag = "health",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4"))
)]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
