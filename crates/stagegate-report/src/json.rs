//! The JSON report of the contract (SPEC sections 5 and 9), plus additive
//! fields: `title` and `waiver` per finding, `summary` per environment, and
//! `plan`.

use std::io::{self, Write};

use serde::Serialize;
use stagegate_rules::{Basis, Severity, Status, Summary, Verdict};

use crate::{Kind, Location, Provenance, Report};

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportDoc<'a> {
    pub version: u32,
    pub product: &'a str,
    pub as_of: String,
    /// When, by what and from which spec the report was made.
    #[serde(flatten)]
    pub provenance: &'a Provenance,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<ReportPlan<'a>>,
    pub environments: Vec<ReportEnvironment<'a>>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportPlan<'a> {
    pub environment: &'a str,
    pub from: &'a str,
    pub to: &'a str,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportEnvironment<'a> {
    pub name: &'a str,
    pub mode: &'a str,
    pub verdict: Verdict,
    pub summary: Summary,
    pub findings: Vec<ReportFinding<'a>>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportFinding<'a> {
    pub rule: &'a str,
    pub status: Status,
    pub severity: Severity,
    pub message: &'a str,
    /// The strongest kind of evidence the verdict rests on.
    pub basis: Basis,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<ReportWaiver<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<ReportEvidence<'a>>,
    /// Controls of the product's frameworks this rule evidences.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<ReportControl>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportControl {
    pub framework: &'static str,
    pub id: &'static str,
    pub strength: &'static str,
}

/// One piece of evidence a finding cites: `basis`, `what`, `source`, `at`
/// and `sha256` always; for an observation also what the probe saw
/// (`subject`, `status`, `summary`, and `details` with measured values,
/// timings and the error chain).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportEvidence<'a> {
    pub basis: Basis,
    pub what: &'a str,
    pub source: &'a str,
    /// RFC 3339 UTC: when observed, or a document's last commit (else
    /// modification) time.
    pub at: Option<String>,
    pub sha256: Option<&'a str>,
    /// Observed longer ago than `policy.evidence_max_age`: it does not count.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub observation: Option<ReportObservation<'a>>,
}

/// What a probe (or the server) saw.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportObservation<'a> {
    pub subject: &'a str,
    pub status: stagegate_rules::Observed,
    pub summary: &'a str,
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, String>))]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// A finding's evidence in the report's shape.
pub fn evidence(e: &stagegate_rules::Evidence) -> ReportEvidence<'_> {
    ReportEvidence {
        basis: e.basis,
        what: &e.what,
        source: &e.source,
        at: e.at.map(stagegate_spec::rfc3339),
        sha256: e.sha256.as_deref(),
        stale: e.stale,
        observation: e.observation.as_ref().map(|o| ReportObservation {
            subject: &o.subject,
            status: o.status,
            summary: &o.summary,
            details: o
                .details
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        }),
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportWaiver<'a> {
    pub reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<&'a str>,
    pub expires: String,
    pub expired: bool,
    /// Why it does not count in this mode, though unexpired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<&'a str>,
    pub location: Location,
}

/// The report as the JSON document of the contract (SPEC section 5).
pub fn document<'a>(r: &'a Report<'a>) -> ReportDoc<'a> {
    let plan = match (r.kind, r.environments.first()) {
        (Kind::Plan { from }, Some(env)) => Some(ReportPlan {
            environment: env.name(),
            from: from.as_str(),
            to: env.mode.as_str(),
        }),
        _ => None,
    };
    ReportDoc {
        version: 1,
        product: r.product,
        as_of: r.as_of.to_string(),
        provenance: r.provenance,
        plan,
        environments: r
            .environments
            .iter()
            .map(|e| ReportEnvironment {
                name: e.name(),
                mode: e.mode.as_str(),
                verdict: e.verdict(),
                summary: e.summary(),
                findings: e
                    .findings
                    .iter()
                    .map(|f| ReportFinding {
                        rule: f.rule.id(),
                        status: f.status,
                        severity: f.severity,
                        message: &f.message,
                        basis: f.basis,
                        location: r.finding_location(f),
                        title: f.rule.title(),
                        waiver: f.waiver.as_ref().map(|w| ReportWaiver {
                            reason: &w.reason,
                            approved_by: w.approved_by.as_deref(),
                            expires: w.expires.to_string(),
                            expired: w.expired,
                            problem: w.problem.as_deref(),
                            location: r.location(w.span),
                        }),
                        evidence: f.evidence.iter().map(evidence).collect(),
                        controls: f
                            .controls
                            .iter()
                            .map(|c| ReportControl {
                                framework: c.framework.as_str(),
                                id: c.id,
                                strength: c.strength.as_str(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub(crate) fn render(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(r))?;
    writeln!(out)
}
