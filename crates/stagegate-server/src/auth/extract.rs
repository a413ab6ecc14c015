//! Credentials as extractors: a handler that needs the operator role takes
//! a `Bearer<Operator>` and never looks at a header itself. Refusals are
//! counted in the metrics by reason.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use stagegate_store::{Role, TokenRecord};

use super::{Denied, authorize};
use crate::AppState;
use crate::api::ApiError;

/// The least role a route needs, as a type.
pub trait Need: Send + Sync + 'static {
    const ROLE: Role;
}

/// Roles as types, for [`Bearer`] and the dashboard's extractors.
pub mod role {
    use stagegate_store::Role;

    /// Reads everything.
    #[derive(Debug)]
    pub struct Viewer;
    /// Acts on incidents, promotions and drills.
    #[derive(Debug)]
    pub struct Operator;
    /// An operator who may also approve promotions.
    #[derive(Debug)]
    pub struct Approver;
    /// Manages tokens.
    #[derive(Debug)]
    pub struct Admin;
    /// A host agent: sends its server's reports, reads nothing.
    #[derive(Debug)]
    pub struct Agent;

    impl super::Need for Viewer {
        const ROLE: Role = Role::Viewer;
    }
    impl super::Need for Operator {
        const ROLE: Role = Role::Operator;
    }
    impl super::Need for Approver {
        const ROLE: Role = Role::Approver;
    }
    impl super::Need for Admin {
        const ROLE: Role = Role::Admin;
    }
    impl super::Need for Agent {
        const ROLE: Role = Role::Agent;
    }
}

/// A request with `Authorization: Bearer TOKEN` of at least role `R`.
#[derive(Debug)]
pub struct Bearer<R>(pub TokenRecord, PhantomData<fn() -> R>);

impl<R> Bearer<R> {
    /// Who made the request: the token's name.
    pub fn who(&self) -> &str {
        &self.0.name
    }
}

impl<R: Need> FromRequestParts<Arc<AppState>> for Bearer<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        authorize(state, header, R::ROLE)
            .await
            .map(|t| Bearer(t, PhantomData))
            .map_err(|d| refusal(state, d))
    }
}

/// The API's answer to a refused request.
pub fn refusal(state: &AppState, denied: Denied) -> ApiError {
    match denied {
        Denied::Unauthenticated(reason) => {
            state.metrics.auth_refused(reason);
            let message = match reason {
                "revoked" => "this token was revoked",
                "expired" => "this token has expired",
                _ => "missing or invalid bearer token",
            };
            let challenge = if reason == "invalid" {
                "Bearer"
            } else {
                "Bearer error=\"invalid_token\""
            };
            ApiError::new(StatusCode::UNAUTHORIZED, message).with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            )
        }
        Denied::Forbidden(role) => {
            state.metrics.auth_refused("role");
            ApiError::new(StatusCode::FORBIDDEN, format!("this needs the {role} role"))
        }
        Denied::Unavailable => ApiError::unavailable(),
    }
}
