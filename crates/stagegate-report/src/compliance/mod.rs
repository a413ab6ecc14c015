//! The compliance report of `stagegate report --framework`: every control of
//! one framework, judged per environment, with the evidence behind each
//! status, for auditors (HTML, CSV) and pipelines (JSON).

mod csv;
mod html;
pub mod json;
mod markdown;
pub mod oscal;
mod text;

use std::io::{self, Write};

use stagegate_rules::frameworks::{AttestationState, ControlStatus, FrameworkAssessment, Pack};
use stagegate_spec::{Date, SourceFile, Span};

use crate::Location;

/// Output formats of `report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComplianceFormat {
    Text,
    Json,
    Markdown,
    Csv,
    Html,
    /// OSCAL assessment results.
    OscalAr,
    /// OSCAL plan of action and milestones.
    OscalPoam,
}

/// Everything the compliance renderers need.
#[derive(Debug)]
pub struct ComplianceReport<'a> {
    pub product: &'a str,
    pub as_of: Date,
    pub source: &'a SourceFile,
    pub pack: &'static Pack,
    /// Whether the product lists the framework in `product.frameworks`; the
    /// framework's own rules only apply when it does.
    pub declared: bool,
    /// Whether live probes ran (`--live`).
    pub live: bool,
    pub environments: &'a [FrameworkAssessment<'a>],
    pub provenance: &'a crate::Provenance,
    /// The facts gathered for the evaluation, for document hashes.
    pub files: &'a stagegate_rules::FileFacts,
}

impl ComplianceReport<'_> {
    pub fn render(
        &self,
        format: ComplianceFormat,
        opts: crate::Options,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        match format {
            ComplianceFormat::Text => text::render(self, opts, out),
            ComplianceFormat::Json => json::render(self, out),
            ComplianceFormat::Markdown => markdown::render(self, out),
            ComplianceFormat::Csv => csv::render(self, out),
            ComplianceFormat::Html => html::render(self, out),
            ComplianceFormat::OscalAr => oscal::render_ar(self, out),
            ComplianceFormat::OscalPoam => oscal::render_poam(self, out),
        }
    }

    pub(crate) fn location(&self, span: Span) -> Location {
        let lc = self.source.span_start(span);
        Location {
            file: self.source.name().to_owned(),
            line: lc.line,
            column: lc.column,
        }
    }

    /// How many items an OSCAL plan of action would hold: the controls not
    /// met, only declared or waived. OSCAL requires at least one.
    pub fn poam_items(&self) -> usize {
        oscal::poam_items(self)
    }

    /// Whether any control of any environment is not met.
    pub fn any_not_met(&self) -> bool {
        self.environments
            .iter()
            .any(|e| e.count(ControlStatus::NotMet) > 0)
    }

    /// The warning shown when the framework is not declared.
    pub(crate) fn undeclared_note(&self) -> Option<String> {
        (!self.declared).then(|| {
            format!(
                "`{}` is not in product.frameworks: its own rules do not apply, so the controls only they evidence show as manual",
                self.pack.framework
            )
        })
    }
}

/// "As of …" or "Control family" for a sentence or heading start.
pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// How an attestation stands, in words.
pub(crate) fn attestation_state(state: &AttestationState) -> String {
    match state {
        AttestationState::Valid => "valid".to_owned(),
        AttestationState::Expired => "expired".to_owned(),
        AttestationState::NotYet => "not yet valid".to_owned(),
        AttestationState::EvidenceUnusable(p) => format!("does not count: {p}"),
        AttestationState::TooLong(days, max) => format!(
            "does not count: runs {days} days, longer than policy.attestation_max_days ({max})"
        ),
    }
}
