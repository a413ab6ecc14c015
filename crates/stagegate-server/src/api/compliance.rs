//! `GET /api/v1/compliance/{framework}`: `stagegate report --format json`
//! as of today, for every environment.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use stagegate_report::compliance_json::{ComplianceDoc, document};

use super::{ApiError, ErrorBody, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};

/// Every control of the framework with its status and evidence, per
/// environment.
///
/// Needs the `viewer` role.
#[utoipa::path(
    operation_id = "compliance_report",
    get,
    path = "/api/v1/compliance/{framework}",
    tag = "compliance",
    security(("bearer" = [])),
    params(("framework" = String, Path, description = "gdpr, ccpa, hipaa, pci-dss, fisma, nist-800-171, iso-27001, wcag or section-508")),
    responses(
        (status = 200, description = "The compliance report", body = ComplianceDoc),
        (status = 404, description = "No such framework", body = ErrorBody),
        Refused,
    )
)]
pub async fn report(
    _: Bearer<role::Viewer>,
    State(state): State<Arc<AppState>>,
    Path(framework): Path<String>,
) -> Result<Response, ApiError> {
    let pack = stagegate_spec::Framework::parse(&framework)
        .and_then(stagegate_rules::frameworks::pack)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no framework `{framework}`: expected one of {}",
                stagegate_spec::Framework::NAMES.join(", ")
            ))
        })?;
    let now = crate::verdicts::Now::gather(&state).await;
    let (snapshot, as_of) = (&now.snapshot, now.as_of);
    let evaluation = now.evaluate();
    let assessments: Vec<_> = evaluation
        .environments
        .iter()
        .map(|r| stagegate_rules::frameworks::assess(pack, r, &snapshot.spec, as_of, &now.files))
        .collect();
    let provenance = snapshot.provenance(state.clock.now().div_euclid(1000));
    let report = stagegate_report::ComplianceReport {
        provenance: &provenance,
        files: &now.files,
        product: &snapshot.spec.product.name.value,
        as_of,
        source: &snapshot.source,
        pack,
        declared: snapshot
            .spec
            .product
            .frameworks
            .iter()
            .any(|f| f.value == pack.framework),
        live: false,
        environments: &assessments,
    };
    // Serialised here: the document borrows from values local to this call.
    Ok(Json(document(&report)).into_response())
}
