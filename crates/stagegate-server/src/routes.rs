//! The whole HTTP side in one place: the API (its routes and OpenAPI
//! document from `api`), the dashboard, and what wraps every request —
//! a trace span named by route, a limit on the body's size (`conn` reads
//! it within its deadline before routing), and the answer for anything
//! else.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::api::ApiError;
use crate::conn::AGENT_REPORT_LIMIT;

pub fn router(state: Arc<AppState>) -> Router {
    let (api, _document) = crate::api::routes();
    api.merge(crate::dashboard::router())
        .merge(crate::status::router())
        .fallback(|| async { ApiError::not_found("no such endpoint").into_response() })
        .layer(axum::middleware::from_fn(traced))
        // `conn` has read the body within each route's own limit already.
        .layer(DefaultBodyLimit::max(AGENT_REPORT_LIMIT))
        .with_state(state)
}

/// A DEBUG span per request, named by its route (never by the raw path:
/// ping tokens are secrets, and ids would split one route into many).
async fn traced(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument;
    // Fields are formatted only when the span is enabled: a request costs
    // nothing here otherwise.
    let span = {
        let route = request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map_or("unmatched", |p| p.as_str());
        tracing::debug_span!(
            "request",
            otel.name = %format_args!("{} {route}", request.method()),
            http.request.method = %request.method(),
            http.route = %route,
            http.response.status_code = tracing::field::Empty,
        )
    };
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}
