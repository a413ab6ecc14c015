//! `GET /api/v1/audit`: the hash-chained audit log, page by page, for
//! `stagegate audit verify --server` and anyone who wants to check it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use serde::Serialize;
use stagegate_store::audit::AuditRecord;
use utoipa::ToSchema;

use super::{ApiError, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};

/// The most records one page holds.
const MAX_PAGE: u32 = 10_000;

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Oldest first.
    pub records: Vec<AuditRecord>,
    /// The `after` of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// The audit log, oldest first: every change made through the server, each
/// record chained to the one before by `prev` and `hash`.
///
/// Needs the `admin` role.
#[utoipa::path(
    operation_id = "audit_log",
    get,
    path = "/api/v1/audit",
    tag = "audit",
    security(("bearer" = [])),
    params(
        ("after" = Option<i64>, Query, description = "Records after this `seq` (default 0: from the first)", minimum = 0),
        ("limit" = Option<u32>, Query, description = "At most this many records (default and maximum 10000)", minimum = 1, maximum = 10000),
    ),
    responses(
        (status = 200, description = "One page of records", body = AuditPage),
        (status = 400, description = "`after` or `limit` is not a number in range", body = super::ErrorBody),
        Refused,
    )
)]
pub async fn log(
    _: Bearer<role::Admin>,
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<AuditPage>, ApiError> {
    let after = match q.get("after") {
        None => 0,
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`after` is {v:?}: expected a record number, 0 or more"
            ))
        })?,
    };
    let limit = match q.get("limit") {
        None => MAX_PAGE,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`limit` is {v:?}: expected a number from 1 to {MAX_PAGE}"
                ))
            })?,
    };
    let records = state
        .store
        .audit(after, limit)
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    let next = (records.len() == limit as usize)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    Ok(Json(AuditPage { records, next }))
}
