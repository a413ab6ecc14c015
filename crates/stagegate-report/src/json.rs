//! The JSON report of the contract (SPEC section 5), plus additive fields:
//! `title` and `waiver` per finding, `summary` per environment, and `plan`.

use std::io::{self, Write};

use serde::Serialize;
use stagegate_rules::{Severity, Status, Summary, Verdict};

use crate::{Kind, Location, Report};

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportDoc<'a> {
    pub version: u32,
    pub product: &'a str,
    pub as_of: String,
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

/// What a live probe observed; `details` holds measured values, timings and
/// the error chain.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportEvidence<'a> {
    pub subject: &'a str,
    pub status: stagegate_rules::Observed,
    pub summary: &'a str,
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, String>))]
    pub details: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportWaiver<'a> {
    pub reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<&'a str>,
    pub expires: String,
    pub expired: bool,
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
                        location: r.finding_location(f),
                        title: f.rule.title(),
                        waiver: f.waiver.as_ref().map(|w| ReportWaiver {
                            reason: &w.reason,
                            approved_by: w.approved_by.as_deref(),
                            expires: w.expires.to_string(),
                            expired: w.expired,
                            location: r.location(w.span),
                        }),
                        evidence: f
                            .evidence
                            .iter()
                            .map(|o| ReportEvidence {
                                subject: &o.subject,
                                status: o.status,
                                summary: &o.summary,
                                details: o
                                    .details
                                    .iter()
                                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                                    .collect(),
                            })
                            .collect(),
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
