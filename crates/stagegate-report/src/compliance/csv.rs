//! One row per environment and control (RFC 4180), for the auditor's
//! spreadsheet.

use std::io::{self, Write};

use super::ComplianceReport;

/// Quotes a field when it needs it; doubles embedded quotes.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
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
}
