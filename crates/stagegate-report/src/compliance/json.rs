//! The JSON shape of SPEC.md section 7, plus the evidence behind each status.

use std::io::{self, Write};

use serde::Serialize;
use stagegate_rules::frameworks::ControlStatus;
use stagegate_rules::{Basis, Observed, Severity, Status};

use super::{ComplianceReport, attestation_state};
use crate::json::{ReportEvidence, evidence};
use crate::{Location, Provenance};

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceDoc<'a> {
    pub framework: &'static str,
    pub version: &'a str,
    pub name: &'a str,
    pub source: &'a str,
    pub url: &'a str,
    pub pack: u32,
    pub product: &'a str,
    pub as_of: String,
    /// When, by what and from which spec the report was made.
    #[serde(flatten)]
    pub provenance: &'a Provenance,
    pub declared: bool,
    pub live: bool,
    pub environments: Vec<ComplianceEnvironment<'a>>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceEnvironment<'a> {
    pub name: &'a str,
    pub mode: &'a str,
    pub summary: ComplianceSummary,
    pub controls: Vec<ComplianceControl<'a>>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceSummary {
    pub met: usize,
    /// Passing only on what the spec declares.
    pub declared: usize,
    pub not_met: usize,
    pub waived: usize,
    pub manual: usize,
    /// Out of scope, each with its justification.
    pub not_applicable: usize,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceControl<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub status: ControlStatus,
    /// What the status rests on.
    pub basis: Basis,
    pub rules: Vec<&'a str>,
    pub reason: &'a str,
    pub evidence: Vec<ComplianceEvidence<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<ComplianceAttestation<'a>>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceEvidence<'a> {
    pub rule: &'a str,
    pub strength: &'static str,
    pub status: Status,
    pub severity: Severity,
    pub message: &'a str,
    /// The strongest kind of evidence the finding rests on.
    pub basis: Basis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<ComplianceWaiver<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub live: Vec<ComplianceLive<'a>>,
    /// Everything the finding cites, as in `check` (SPEC section 9).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cited: Vec<ReportEvidence<'a>>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceWaiver<'a> {
    pub reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<&'a str>,
    pub expires: String,
    pub expired: bool,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceLive<'a> {
    pub subject: &'a str,
    pub status: Observed,
    pub summary: &'a str,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplianceAttestation<'a> {
    pub by: &'a str,
    pub date: String,
    pub valid_until: String,
    pub evidence: &'a str,
    /// SHA-256 of the evidence file as read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<&'a str>,
    pub state: String,
    pub counts: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
    pub location: Location,
}

/// The compliance report as its JSON document (SPEC section 7).
pub fn document<'a>(r: &'a ComplianceReport<'a>) -> ComplianceDoc<'a> {
    ComplianceDoc {
        framework: r.pack.framework.as_str(),
        version: &r.pack.version,
        name: &r.pack.name,
        source: &r.pack.source,
        url: &r.pack.url,
        pack: r.pack.pack,
        product: r.product,
        as_of: r.as_of.to_string(),
        provenance: r.provenance,
        declared: r.declared,
        live: r.live,
        environments: r
            .environments
            .iter()
            .map(|e| ComplianceEnvironment {
                name: e.environment.name(),
                mode: e.environment.mode.as_str(),
                summary: ComplianceSummary {
                    met: e.count(ControlStatus::Met),
                    declared: e.count(ControlStatus::Declared),
                    not_met: e.count(ControlStatus::NotMet),
                    waived: e.count(ControlStatus::Waived),
                    manual: e.count(ControlStatus::Manual),
                    not_applicable: e.count(ControlStatus::NotApplicable),
                },
                controls: e
                    .controls
                    .iter()
                    .map(|c| ComplianceControl {
                        id: &c.control.id,
                        title: &c.control.title,
                        status: c.status,
                        basis: c.basis,
                        rules: c.rules(),
                        reason: &c.reason,
                        evidence: c
                            .evidence
                            .iter()
                            .map(|ev| {
                                let f = ev.finding;
                                ComplianceEvidence {
                                    rule: f.rule.id(),
                                    strength: ev.strength.as_str(),
                                    status: f.status,
                                    severity: f.severity,
                                    message: &f.message,
                                    basis: f.basis,
                                    location: f.span.map(|s| r.location(s)),
                                    waiver: f.waiver.as_ref().map(|w| ComplianceWaiver {
                                        reason: &w.reason,
                                        approved_by: w.approved_by.as_deref(),
                                        expires: w.expires.to_string(),
                                        expired: w.expired,
                                    }),
                                    live: f
                                        .evidence
                                        .iter()
                                        .filter_map(|e| e.observation.as_ref())
                                        .map(|o| ComplianceLive {
                                            subject: &o.subject,
                                            status: o.status,
                                            summary: &o.summary,
                                        })
                                        .collect(),
                                    cited: f.evidence.iter().map(evidence).collect(),
                                }
                            })
                            .collect(),
                        attestation: c.attestation.as_ref().map(|(a, state)| {
                            ComplianceAttestation {
                                by: &a.by.value,
                                date: a.date.value.to_string(),
                                valid_until: a.valid_until.value.to_string(),
                                evidence: &a.evidence.value,
                                sha256: r
                                    .files
                                    .document(&a.evidence.value)
                                    .map(|d| d.sha256.as_str()),
                                state: attestation_state(state),
                                counts: state.counts(),
                                note: a.note.as_deref(),
                                location: r.location(a.span),
                            }
                        }),
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub(super) fn render(r: &ComplianceReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(r))?;
    writeln!(out)
}
