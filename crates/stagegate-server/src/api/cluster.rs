//! `GET /api/v1/cluster`: the nodes sharing the store, who leads, and every
//! node's vote on each check.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use stagegate_store::{Millis, Vote};
use utoipa::ToSchema;

use super::{ApiError, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};

#[derive(Serialize, ToSchema)]
pub struct ClusterView {
    /// Whether this server runs in cluster mode.
    pub cluster: bool,
    /// This node's name and location.
    pub node: String,
    pub location: String,
    /// Whether this node leads (always, outside cluster mode).
    pub leader: bool,
    pub nodes: Vec<NodeView>,
    pub votes: Vec<Vote>,
}

#[derive(Serialize, ToSchema)]
pub struct NodeView {
    pub name: String,
    pub location: String,
    /// ms since the epoch.
    pub last_seen: Millis,
    pub live: bool,
    pub abstaining: bool,
    pub leader: bool,
}

/// The nodes, who leads, and every node's vote on each check.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "cluster_status",
    get,
    path = "/api/v1/cluster",
    tag = "cluster",
    security(("bearer" = [])),
    responses((status = 200, description = "The cluster", body = ClusterView), Refused)
)]
pub async fn status(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
) -> Result<Json<ClusterView>, ApiError> {
    let (nodes, votes) = match (state.store.nodes().await, state.store.votes(None).await) {
        (Ok(n), Ok(v)) => (n, v),
        (Err(e), _) | (_, Err(e)) => return Err(ApiError::store(&state, &e)),
    };
    let window = crate::cluster::live_window(state.tick);
    let now = state.clock.now();
    let nodes = nodes
        .into_iter()
        .map(|n| {
            let live = now - n.last_seen <= window;
            NodeView {
                live,
                // A dead node's last word does not make it the leader.
                leader: n.leader && live,
                name: n.name,
                location: n.location,
                last_seen: n.last_seen,
                abstaining: n.abstaining,
            }
        })
        .collect();
    Ok(Json(ClusterView {
        cluster: state.cluster,
        node: state.node.clone(),
        location: state.location.clone(),
        leader: state.leads(),
        nodes,
        votes,
    }))
}
