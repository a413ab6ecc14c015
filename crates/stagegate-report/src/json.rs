//! The JSON report of the contract (SPEC section 5), plus additive fields:
//! `title` and `waiver` per finding, `summary` per environment, and `plan`.

use std::io::{self, Write};

use serde::Serialize;
use stagegate_rules::{Severity, Status, Summary, Verdict};

use crate::{Kind, Location, Report};

#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    product: &'a str,
    as_of: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<Plan<'a>>,
    environments: Vec<Env<'a>>,
}

#[derive(Serialize)]
struct Plan<'a> {
    environment: &'a str,
    from: &'a str,
    to: &'a str,
}

#[derive(Serialize)]
struct Env<'a> {
    name: &'a str,
    mode: &'a str,
    verdict: Verdict,
    summary: Summary,
    findings: Vec<FindingDoc<'a>>,
}

#[derive(Serialize)]
struct FindingDoc<'a> {
    rule: &'a str,
    status: Status,
    severity: Severity,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Location>,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<WaiverDoc<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<EvidenceDoc<'a>>,
    /// Controls of the product's frameworks this rule evidences.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    controls: Vec<ControlDoc>,
}

#[derive(Serialize)]
struct ControlDoc {
    framework: &'static str,
    id: &'static str,
    strength: &'static str,
}

/// What a live probe observed; `details` holds measured values, timings and
/// the error chain.
#[derive(Serialize)]
struct EvidenceDoc<'a> {
    subject: &'a str,
    status: stagegate_rules::Observed,
    summary: &'a str,
    details: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct WaiverDoc<'a> {
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    approved_by: Option<&'a str>,
    expires: String,
    expired: bool,
    location: Location,
}

pub(crate) fn render(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let plan = match (r.kind, r.environments.first()) {
        (Kind::Plan { from }, Some(env)) => Some(Plan {
            environment: env.name(),
            from: from.as_str(),
            to: env.mode.as_str(),
        }),
        _ => None,
    };
    let doc = Doc {
        version: 1,
        product: r.product,
        as_of: r.as_of.to_string(),
        plan,
        environments: r
            .environments
            .iter()
            .map(|e| Env {
                name: e.name(),
                mode: e.mode.as_str(),
                verdict: e.verdict(),
                summary: e.summary(),
                findings: e
                    .findings
                    .iter()
                    .map(|f| FindingDoc {
                        rule: f.rule.id,
                        status: f.status,
                        severity: f.severity,
                        message: &f.message,
                        location: r.finding_location(f),
                        title: f.rule.title,
                        waiver: f.waiver.as_ref().map(|w| WaiverDoc {
                            reason: &w.reason,
                            approved_by: w.approved_by.as_deref(),
                            expires: w.expires.to_string(),
                            expired: w.expired,
                            location: r.location(w.span),
                        }),
                        evidence: f
                            .evidence
                            .iter()
                            .map(|o| EvidenceDoc {
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
                            .map(|c| ControlDoc {
                                framework: c.framework.as_str(),
                                id: c.id,
                                strength: c.strength.as_str(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
