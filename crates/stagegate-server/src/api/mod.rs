//! The HTTP API under `/api/v1` and the public endpoints beside it
//! (`/healthz`, `/metrics`, the Healthchecks.io-compatible pings): one
//! module per resource, each handler annotated with the operation it is in
//! the OpenAPI document. The router and the document come from the same
//! `routes!` calls, so neither can name a path the other lacks; nothing
//! here adds a route any other way (a test holds us to that).

pub(crate) mod agents;
mod approvals;
pub(crate) use approvals::approve_now;
mod audit;
mod checks;
mod cluster;
mod compliance;
mod deliveries;
mod drills;
pub(crate) mod duties;
mod environments;
mod error;
mod health;
mod incidents;
mod observations;
pub(crate) mod pings;
mod promotions;
mod tokens;

use std::sync::{Arc, OnceLock};

use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoResponses, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ErrorBody};

use crate::AppState;

/// What every authenticated endpoint may answer besides its own result.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Refused {
    /// Missing, invalid, revoked or expired bearer token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token's role is not enough.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// The store is unavailable.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "stagegate",
        description = "Rollout checks, live monitoring, incidents and heartbeats of the environments in stagegate.toml."
    ),
    modifiers(&BearerScheme),
    components(schemas(ErrorBody)),
    tags(
        (name = "health", description = "Health and metrics, without credentials"),
        (name = "pings", description = "Heartbeat signals, compatible with Healthchecks.io ping URLs"),
        (name = "environments", description = "Check reports and live state"),
        (name = "incidents", description = "Incidents and their notifications"),
        (name = "promotions", description = "Promotions and restore drills"),
        (name = "compliance", description = "Framework controls and their evidence"),
        (name = "cluster", description = "Nodes, leadership and votes"),
        (name = "tokens", description = "API tokens"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "agents", description = "Host agents' reports"),
    )
)]
struct Doc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some("A token from `stagegate token create`.".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// The document, once the router that serves `/api/v1/openapi.json` exists.
static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();

/// Every endpoint, and the OpenAPI document of exactly those.
pub fn routes() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    let (router, document) = OpenApiRouter::with_openapi(Doc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::metrics))
        .routes(routes!(pings::success))
        .routes(routes!(pings::signal))
        .routes(routes!(openapi))
        .routes(routes!(environments::report))
        .routes(routes!(observations::all))
        .routes(routes!(checks::list))
        .routes(routes!(incidents::list))
        .routes(routes!(incidents::acknowledge))
        .routes(routes!(incidents::resolve))
        .routes(routes!(incidents::updates, incidents::post_update))
        .routes(routes!(deliveries::list))
        .routes(routes!(promotions::all))
        .routes(routes!(promotions::of_environment, promotions::promote))
        .routes(routes!(approvals::of_environment, approvals::approve))
        .routes(routes!(approvals::facts))
        .routes(routes!(drills::of_environment, drills::start))
        .routes(routes!(compliance::report))
        .routes(routes!(cluster::status))
        .routes(routes!(tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(audit::log))
        .routes(routes!(agents::report))
        .routes(routes!(duties::done))
        .split_for_parts();
    let _ = DOCUMENT.set(document.clone());
    (router, document)
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    operation_id = "openapi",
    get,
    path = "/api/v1/openapi.json",
    tag = "health",
    responses((status = 200, description = "This document", content_type = "application/json"))
)]
async fn openapi() -> axum::Json<serde_json::Value> {
    let doc = DOCUMENT
        .get()
        .and_then(|d| serde_json::to_value(d).ok())
        .unwrap_or(serde_json::Value::Null);
    axum::Json(doc)
}

#[cfg(test)]
mod tests {
    /// Every route goes through `routes!`: adding one by hand here would
    /// serve a path the document does not describe.
    #[test]
    fn every_route_is_documented() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        for entry in std::fs::read_dir(&dir).expect("api folder") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(
                !text.contains(concat!(".route", "("))
                    && !text.contains(concat!("axum::routing", "::")),
                "{} adds a route the OpenAPI document does not see",
                path.display()
            );
        }
    }
}
