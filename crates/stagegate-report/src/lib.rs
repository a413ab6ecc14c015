//! Renders findings for people (text, Markdown) and machines (JSON, SARIF,
//! JUnit). Renderers write to any `io::Write` and know nothing of terminals:
//! text output carries ANSI styles that the caller strips when it must.

mod compliance;
pub mod json;
mod junit;
mod markdown;
mod provenance;
mod sarif;
mod text;

use std::io::{self, Write};

pub use compliance::json as compliance_json;
pub use compliance::{ComplianceFormat, ComplianceReport};
pub use provenance::{Provenance, SpecIdentity};

use stagegate_rules::{EnvironmentResult, Finding};
use stagegate_spec::{Date, Mode, SourceFile, Span};

/// Output formats of `check` and `plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
    Junit,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &["text", "json", "markdown", "sarif", "junit"];
}

/// What produced the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Check,
    /// A promotion plan: the environment evaluated in its target mode.
    Plan {
        from: Mode,
    },
}

/// Everything a renderer needs.
#[derive(Debug)]
pub struct Report<'a> {
    pub kind: Kind,
    pub product: &'a str,
    pub as_of: Date,
    pub source: &'a SourceFile,
    pub environments: &'a [EnvironmentResult<'a>],
    pub provenance: &'a Provenance,
}

/// Options that only some formats use.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Text: emit ANSI styles (the caller strips them when not a terminal).
    pub styled: bool,
    /// Text: list passing and skipped findings too.
    pub verbose: bool,
}

/// A position in the spec file, 1-based.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl Report<'_> {
    pub fn location(&self, span: Span) -> Location {
        let lc = self.source.span_start(span);
        Location {
            file: self.source.name().to_owned(),
            line: lc.line,
            column: lc.column,
        }
    }

    /// The instant findings were judged at: now, or the end of a back-dated
    /// as-of day, so ages in a back-dated report count from that day.
    pub fn judged_at(&self) -> i64 {
        self.provenance.generated_at.min(self.as_of.end_unix_secs())
    }

    pub fn finding_location(&self, f: &Finding) -> Option<Location> {
        f.span.map(|s| self.location(s))
    }

    pub fn render(&self, format: Format, opts: Options, out: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Text => text::render(self, opts, out),
            Format::Json => json::render(self, out),
            Format::Markdown => markdown::render(self, out),
            Format::Sarif => sarif::render(self, out),
            Format::Junit => junit::render(self, out),
        }
    }
}

/// How a promotion changes a rule's weight: "new in production", or
/// "recommended in soft launch, required in production". `None` when the rule
/// weighs the same in both modes.
pub fn promotion_note(f: &Finding, from: Mode) -> Option<String> {
    match f.rule.applies().in_mode(from) {
        None => Some(format!("not required in {}", from.label())),
        Some(before) if before != f.severity => Some(format!(
            "{} in {}, {} now",
            before.as_str(),
            from.label(),
            f.severity.as_str()
        )),
        Some(_) => None,
    }
}

/// The controls a finding evidences, grouped by framework:
/// "PCI DSS 11.4.3, 11.4.1; GDPR Art. 33". `None` when it evidences none of
/// the product's frameworks.
pub fn controls_line(f: &Finding) -> Option<String> {
    let mut groups: Vec<(stagegate_spec::Framework, Vec<&str>)> = Vec::new();
    for c in f.controls.iter() {
        match groups.iter_mut().find(|(fw, _)| *fw == c.framework) {
            Some((_, ids)) => ids.push(c.id),
            None => groups.push((c.framework, vec![c.id])),
        }
    }
    if groups.is_empty() {
        return None;
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(fw, ids)| {
            let name =
                stagegate_rules::frameworks::pack(*fw).map_or(fw.as_str(), |p| p.name.as_str());
            format!("{name} {}", ids.join(", "))
        })
        .collect();
    Some(parts.join("; "))
}

/// The basis of a finding in words, for text and Markdown beside its
/// status: "declared", "document runbooks/failure.md", "observed 3h ago from
/// fra-1@fra". `now` is when the report was made (ages count from it).
pub fn basis_label(f: &Finding, now: i64) -> String {
    use stagegate_rules::Basis;
    let pieces: Vec<&stagegate_rules::Evidence> = f
        .evidence
        .iter()
        .filter(|e| e.counts_as() == f.basis)
        .collect();
    let mut sources: Vec<&str> = pieces.iter().map(|e| e.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let from = match sources.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        many => format!("{} sources", many.len()),
    };
    match f.basis {
        Basis::Observed => {
            let mut label = "observed".to_owned();
            let newest = pieces.iter().filter_map(|e| e.at).max();
            match newest.map(|at| now.saturating_sub(at)) {
                Some(age) if age < 60 => label.push_str(" just now"),
                Some(age) => label.push_str(&format!(" {} ago", stagegate_spec::age(age))),
                None => {}
            }
            if !from.is_empty() {
                label.push_str(&format!(" from {from}"));
            }
            label
        }
        Basis::Document if !from.is_empty() => format!("document {from}"),
        other => other.as_str().to_owned(),
    }
}

/// "1 warning" / "2 warnings".
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
