//! API tokens: who holds what, and revoking one. Revoking ends every
//! dashboard session made from the token at once.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use stagegate_store::TokenRecord;
use utoipa::ToSchema;

use super::{ApiError, ErrorBody, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    /// Every token ever created (never its secret), oldest first.
    pub tokens: Vec<TokenRecord>,
}

/// Every token: prefix, name, role, created, last used, expiry, revocation.
///
/// Needs the `admin` role.
#[utoipa::path(
    operation_id = "list_tokens",
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    security(("bearer" = [])),
    responses((status = 200, description = "The tokens", body = TokenList), Refused)
)]
pub async fn list(
    _: Bearer<role::Admin>,
    State(state): State<Arc<AppState>>,
) -> Result<Json<TokenList>, ApiError> {
    let tokens = state
        .store
        .tokens()
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    Ok(Json(TokenList { tokens }))
}

/// Revoke a token by its prefix (`sg_` and 8 hex digits); its sessions
/// end at once. Revoking a revoked token changes nothing and says so the
/// same way.
///
/// Needs the `admin` role.
#[utoipa::path(
    operation_id = "revoke_token",
    delete,
    path = "/api/v1/tokens/{prefix}",
    tag = "tokens",
    security(("bearer" = [])),
    params(("prefix" = String, Path, description = "The token's public prefix, as `token list` shows it", pattern = "^sg_[0-9a-f]{8}$")),
    responses(
        (status = 204, description = "Revoked (now or before)"),
        (status = 404, description = "No such token", body = ErrorBody),
        Refused,
    )
)]
pub async fn revoke(
    who: Bearer<role::Admin>,
    State(state): State<Arc<AppState>>,
    Path(prefix): Path<String>,
) -> Result<StatusCode, ApiError> {
    match state.store.revoke_token(&prefix, state.clock.now()).await {
        Ok(true) => {
            tracing::info!(token = %prefix, by = %who.who(), "token revoked");
            crate::audit::record(
                state.store.as_ref(),
                state.clock.now(),
                who.who(),
                "token.revoke",
                &prefix,
                serde_json::json!({}),
            )
            .await;
            Ok(StatusCode::NO_CONTENT)
        }
        Ok(false) => match state.store.token(&prefix).await {
            Ok(Some(_)) => Ok(StatusCode::NO_CONTENT),
            Ok(None) => Err(ApiError::not_found(format!("no token `{prefix}`"))),
            Err(e) => Err(ApiError::store(&state, &e)),
        },
        Err(e) => Err(ApiError::store(&state, &e)),
    }
}
