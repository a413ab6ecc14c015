//! One row per environment and control (RFC 4180), for the auditor's
//! spreadsheet: with the strength, basis, time and place of the evidence,
//! it serves as a Statement of Applicability.

use std::io::{self, Write};

use stagegate_rules::frameworks::{ControlAssessment, ControlStatus, Evidence, Strength};
use stagegate_rules::{Basis, Status};

use super::ComplianceReport;

/// Quotes a field when it needs it; doubles embedded quotes. A cell a
/// spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return) gets a leading `'`, so a spec value or a
/// finding message can never run as one on the auditor's machine.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The finding the status rests on, as the assessment decided it.
fn deciding<'a, 'r>(c: &'a ControlAssessment<'r>) -> Option<&'a Evidence<'r>> {
    let first = |wanted: &dyn Fn(&Evidence<'_>) -> bool| c.evidence.iter().find(|e| wanted(e));
    match c.status {
        ControlStatus::NotMet => {
            first(&|e| matches!(e.finding.status, Status::Fail | Status::Warn))
        }
        ControlStatus::Waived => first(&|e| e.finding.status == Status::Waived),
        ControlStatus::Met | ControlStatus::Declared if c.basis != Basis::Attested => {
            first(&|e| e.strength == Strength::Full && e.finding.status == Status::Pass)
        }
        _ => None,
    }
}

pub(super) fn render(r: &ComplianceReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let header = [
        "environment",
        "mode",
        "framework",
        "version",
        "control",
        "title",
        "status",
        "rules",
        "reason",
        "attested_by",
        "attestation_valid_until",
        "attestation_evidence",
        "basis",
        "strength",
        "evidence_at",
        "location",
        "applicability",
        "justification",
    ];
    write!(out, "{}\r\n", header.join(","))?;
    for e in r.environments {
        for c in &e.controls {
            let (by, until, evidence) =
                c.attestation
                    .as_ref()
                    .map_or_else(Default::default, |(a, _)| {
                        (
                            a.by.value.clone(),
                            a.valid_until.value.to_string(),
                            a.evidence.value.clone(),
                        )
                    });
            let row = [
                e.environment.name().to_owned(),
                e.environment.mode.as_str().to_owned(),
                r.pack.framework.as_str().to_owned(),
                r.pack.version.clone(),
                c.control.id.clone(),
                c.control.title.clone(),
                c.status.as_str().to_owned(),
                c.rules().join(" "),
                c.reason.clone(),
                by,
                until,
                evidence,
                c.basis.as_str().to_owned(),
                // The strongest mapping of a rule that applies here.
                c.evidence
                    .iter()
                    .filter(|e| e.finding.status != Status::Skip)
                    .map(|e| e.strength)
                    .min()
                    .map_or("", Strength::as_str)
                    .to_owned(),
                // The newest evidence behind the control's findings.
                c.evidence
                    .iter()
                    .flat_map(|e| &e.finding.evidence)
                    .filter_map(|e| e.at)
                    .max()
                    .map(stagegate_spec::rfc3339)
                    .unwrap_or_default(),
                match (deciding(c), &c.attestation) {
                    (_, Some((a, _))) if c.basis == Basis::Attested => {
                        let l = r.location(a.span);
                        format!("{}:{}", l.file, l.line)
                    }
                    (Some(e), _) => e
                        .finding
                        .span
                        .map(|s| {
                            let l = r.location(s);
                            format!("{}:{}", l.file, l.line)
                        })
                        .unwrap_or_default(),
                    _ => String::new(),
                },
                if c.status == ControlStatus::NotApplicable {
                    "not-applicable"
                } else {
                    "applicable"
                }
                .to_owned(),
                if c.status == ControlStatus::NotApplicable {
                    c.reason.clone()
                } else {
                    String::new()
                },
            ];
            let fields: Vec<String> = row.iter().map(|f| field(f)).collect();
            write!(out, "{}\r\n", fields.join(","))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("A.8.13"), "A.8.13");
        assert_eq!(
            field("Art. 32(1)(a), encryption"),
            "\"Art. 32(1)(a), encryption\""
        );
        assert_eq!(field("say \"72 hours\""), "\"say \"\"72 hours\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\r=1", "\"'\r=1\""),
        ] {
            assert_eq!(field(cell), safe, "{cell:?}");
        }
        assert_eq!(field("a-b"), "a-b", "only a leading sign is a formula");
    }
}
