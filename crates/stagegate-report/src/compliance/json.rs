//! The JSON shape of SPEC.md section 7, plus the evidence behind each status.

use std::io::{self, Write};

use serde::Serialize;
use stagegate_rules::frameworks::ControlStatus;
use stagegate_rules::{Observed, Severity, Status};

use super::{ComplianceReport, attestation_state};
use crate::Location;

#[derive(Serialize)]
struct Doc<'a> {
    framework: &'static str,
    version: &'a str,
    name: &'a str,
    source: &'a str,
    url: &'a str,
    pack: u32,
    product: &'a str,
    as_of: String,
    declared: bool,
    live: bool,
    environments: Vec<Env<'a>>,
}

#[derive(Serialize)]
struct Env<'a> {
    name: &'a str,
    mode: &'a str,
    summary: Summary,
    controls: Vec<Control<'a>>,
}

#[derive(Serialize)]
struct Summary {
    met: usize,
    not_met: usize,
    waived: usize,
    manual: usize,
}

#[derive(Serialize)]
struct Control<'a> {
    id: &'a str,
    title: &'a str,
    status: ControlStatus,
    rules: Vec<&'a str>,
    reason: &'a str,
    evidence: Vec<Evidence<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attestation: Option<Attestation<'a>>,
}

#[derive(Serialize)]
struct Evidence<'a> {
    rule: &'a str,
    strength: &'static str,
    status: Status,
    severity: Severity,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<Waiver<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    live: Vec<Live<'a>>,
}

#[derive(Serialize)]
struct Waiver<'a> {
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    approved_by: Option<&'a str>,
    expires: String,
    expired: bool,
}

#[derive(Serialize)]
struct Live<'a> {
    subject: &'a str,
    status: Observed,
    summary: &'a str,
}

#[derive(Serialize)]
struct Attestation<'a> {
    by: &'a str,
    date: String,
    valid_until: String,
    evidence: &'a str,
    state: String,
    counts: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    location: Location,
}

pub(super) fn render(r: &ComplianceReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = Doc {
        framework: r.pack.framework.as_str(),
        version: &r.pack.version,
        name: &r.pack.name,
        source: &r.pack.source,
        url: &r.pack.url,
        pack: r.pack.pack,
        product: r.product,
        as_of: r.as_of.to_string(),
        declared: r.declared,
        live: r.live,
        environments: r
            .environments
            .iter()
            .map(|e| Env {
                name: e.environment.name(),
                mode: e.environment.mode.as_str(),
                summary: Summary {
                    met: e.count(ControlStatus::Met),
                    not_met: e.count(ControlStatus::NotMet),
                    waived: e.count(ControlStatus::Waived),
                    manual: e.count(ControlStatus::Manual),
                },
                controls: e
                    .controls
                    .iter()
                    .map(|c| Control {
                        id: &c.control.id,
                        title: &c.control.title,
                        status: c.status,
                        rules: c.rules(),
                        reason: &c.reason,
                        evidence: c
                            .evidence
                            .iter()
                            .map(|ev| {
                                let f = ev.finding;
                                Evidence {
                                    rule: f.rule.id,
                                    strength: ev.strength.as_str(),
                                    status: f.status,
                                    severity: f.severity,
                                    message: &f.message,
                                    location: f.span.map(|s| r.location(s)),
                                    waiver: f.waiver.as_ref().map(|w| Waiver {
                                        reason: &w.reason,
                                        approved_by: w.approved_by.as_deref(),
                                        expires: w.expires.to_string(),
                                        expired: w.expired,
                                    }),
                                    live: f
                                        .evidence
                                        .iter()
                                        .map(|o| Live {
                                            subject: &o.subject,
                                            status: o.status,
                                            summary: &o.summary,
                                        })
                                        .collect(),
                                }
                            })
                            .collect(),
                        attestation: c.attestation.as_ref().map(|(a, state)| Attestation {
                            by: &a.by.value,
                            date: a.date.value.to_string(),
                            valid_until: a.valid_until.value.to_string(),
                            evidence: &a.evidence.value,
                            state: attestation_state(state),
                            counts: state.counts(),
                            note: a.note.as_deref(),
                            location: r.location(a.span),
                        }),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
