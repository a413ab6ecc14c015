//! Compliance: for each framework the product declares, how many controls
//! each environment meets, and per framework every control with its status
//! and why — the same judgement as `stagegate report --framework`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use stagegate_rules::frameworks::{ControlStatus, FrameworkAssessment, assess, pack, packs};
use stagegate_spec::Framework;

use super::html;
use super::session::SignedIn;
use crate::AppState;

struct Counts {
    environment: String,
    mode: &'static str,
    met: usize,
    declared: usize,
    not_met: usize,
    waived: usize,
    manual: usize,
    not_applicable: usize,
}

impl Counts {
    fn of(a: &FrameworkAssessment<'_>) -> Counts {
        Counts {
            environment: a.environment.name().to_owned(),
            mode: a.environment.mode.label(),
            met: a.count(ControlStatus::Met),
            declared: a.count(ControlStatus::Declared),
            not_met: a.count(ControlStatus::NotMet),
            waived: a.count(ControlStatus::Waived),
            manual: a.count(ControlStatus::Manual),
            not_applicable: a.count(ControlStatus::NotApplicable),
        }
    }
}

struct FrameworkRow {
    slug: &'static str,
    name: String,
    version: String,
    environments: Vec<Counts>,
}

#[derive(Template)]
#[template(path = "compliance.html")]
struct CompliancePage {
    chrome: super::Chrome,
    declared: Vec<FrameworkRow>,
    /// Frameworks not declared, for a look ahead.
    others: Vec<(&'static str, String)>,
}

struct ControlRow {
    id: String,
    title: String,
    status: &'static str,
    /// What the status rests on (observed, document, attested, declared).
    basis: &'static str,
    reason: String,
    rules: String,
}

struct EnvSection {
    counts: Counts,
    judged: Vec<ControlRow>,
    manual: Vec<ControlRow>,
}

#[derive(Template)]
#[template(path = "framework.html")]
struct FrameworkPage {
    chrome: super::Chrome,
    name: String,
    version: String,
    source: String,
    url: String,
    slug: &'static str,
    declared: bool,
    environments: Vec<EnvSection>,
}

pub async fn list(State(state): State<Arc<AppState>>, SignedIn(viewer, _): SignedIn) -> Response {
    let now = crate::verdicts::Now::gather(&state).await;
    let (snapshot, files) = (&now.snapshot, &now.files);
    let evaluation = now.evaluate();
    let as_of = evaluation.as_of;
    let declared_fw: Vec<Framework> = snapshot
        .spec
        .product
        .frameworks
        .iter()
        .map(|f| f.value)
        .collect();
    let declared = declared_fw
        .iter()
        .filter_map(|f| pack(*f))
        .map(|p| FrameworkRow {
            slug: p.framework.as_str(),
            name: p.name.clone(),
            version: p.version.clone(),
            environments: evaluation
                .environments
                .iter()
                .map(|r| Counts::of(&assess(p, r, &snapshot.spec, as_of, files)))
                .collect(),
        })
        .collect();
    let others = packs()
        .iter()
        .filter(|p| !declared_fw.contains(&p.framework))
        .map(|p| (p.framework.as_str(), p.name.clone()))
        .collect();
    html(
        StatusCode::OK,
        &CompliancePage {
            chrome: super::Chrome::new(
                &viewer,
                snapshot.spec.product.name.value.clone(),
                "compliance",
            ),
            declared,
            others,
        },
    )
}

pub async fn framework(
    State(state): State<Arc<AppState>>,
    SignedIn(viewer, _): SignedIn,
    Path(slug): Path<String>,
) -> Response {
    let Some(p) = Framework::parse(&slug).and_then(pack) else {
        return super::not_found(&format!("There is no framework “{slug}”."));
    };
    let now = crate::verdicts::Now::gather(&state).await;
    let (snapshot, files) = (&now.snapshot, &now.files);
    let evaluation = now.evaluate();
    let as_of = evaluation.as_of;
    let environments = evaluation
        .environments
        .iter()
        .map(|r| {
            let a = assess(p, r, &snapshot.spec, as_of, files);
            let row = |c: &stagegate_rules::frameworks::ControlAssessment<'_>| ControlRow {
                id: c.control.id.clone(),
                title: c.control.title.clone(),
                status: c.status.as_str(),
                basis: c.basis.as_str(),
                reason: c.reason.clone(),
                rules: c.rules().join(", "),
            };
            let mut judged: Vec<_> = a
                .controls
                .iter()
                .filter(|c| c.status != ControlStatus::Manual)
                .collect();
            judged.sort_by_key(|c| c.status);
            EnvSection {
                counts: Counts::of(&a),
                judged: judged.into_iter().map(row).collect(),
                manual: a
                    .controls
                    .iter()
                    .filter(|c| c.status == ControlStatus::Manual)
                    .map(row)
                    .collect(),
            }
        })
        .collect();
    html(
        StatusCode::OK,
        &FrameworkPage {
            chrome: super::Chrome::new(
                &viewer,
                snapshot.spec.product.name.value.clone(),
                "compliance",
            ),
            name: p.name.clone(),
            version: p.version.clone(),
            source: p.source.clone(),
            url: p.url.clone(),
            slug: p.framework.as_str(),
            declared: snapshot
                .spec
                .product
                .frameworks
                .iter()
                .any(|f| f.value == p.framework),
            environments,
        },
    )
}
