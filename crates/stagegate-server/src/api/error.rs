//! The API's errors: a status and `{"error": "..."}` saying what was wrong
//! and what was expected.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A refused or failed API request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(title = "Error")]
/// What went wrong.
pub struct ErrorBody {
    /// What was found and what was expected.
    pub error: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// `env` is not an environment of the spec.
    pub fn no_environment(env: &str) -> ApiError {
        ApiError::not_found(format!("no environment `{env}`"))
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    /// The store failed; the details go to the log, not to the client.
    pub fn unavailable() -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
    }

    /// The store failed doing `what`: logged and counted, 503.
    pub fn store(state: &crate::AppState, e: &stagegate_store::StoreError) -> ApiError {
        state.metrics.store_error();
        tracing::error!(error = %e, "store operation failed");
        ApiError::unavailable()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            axum::Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response();
        for (name, value) in self.headers {
            r.headers_mut().insert(name, value);
        }
        r
    }
}
