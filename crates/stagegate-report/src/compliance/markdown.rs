//! Markdown: a summary table per environment, then each environment's
//! controls, with the long manual list folded away.

use std::io::{self, Write};

use stagegate_rules::frameworks::{ControlAssessment, ControlStatus};

use super::ComplianceReport;
use crate::markdown::cell;

fn icon(status: ControlStatus) -> &'static str {
    match status {
        ControlStatus::Met => "✅ met",
        ControlStatus::Declared => "🗒️ declared",
        ControlStatus::NotMet => "❌ not met",
        ControlStatus::Waived => "🔕 waived",
        ControlStatus::Manual => "📝 manual",
    }
}

fn table(controls: &[&ControlAssessment<'_>], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "| Control | Status | Evidence |")?;
    writeln!(out, "| --- | --- | --- |")?;
    for c in controls {
        let mut evidence = cell(&c.reason);
        if let Some((a, state)) = &c.attestation {
            evidence.push_str(&format!(
                "<br>_attested by {} on {}, valid until {}, evidence `{}` ({})_",
                cell(&a.by.value),
                a.date.value,
                a.valid_until.value,
                cell(&a.evidence.value),
                cell(&super::attestation_state(state))
            ));
        }
        writeln!(
            out,
            "| **{}** {} | {} · {} | {} |",
            cell(&c.control.id),
            cell(&c.control.title),
            icon(c.status),
            c.basis.as_str(),
            evidence
        )?;
    }
    Ok(())
}

pub(super) fn render(r: &ComplianceReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## {} compliance: {} {}",
        cell(r.product),
        cell(&r.pack.name),
        cell(&r.pack.version)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{} · source: {}",
        cell(&r.provenance.dating(r.as_of)),
        cell(&r.pack.source)
    )?;
    if let Some(note) = r.undeclared_note() {
        writeln!(out)?;
        writeln!(out, "> **Note:** {}", cell(&note))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "| Environment | Mode | Met | Declared only | Not met | Waived | Manual |"
    )?;
    writeln!(out, "| --- | --- | --: | --: | --: | --: | --: |")?;
    for e in r.environments {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(e.environment.name()),
            e.environment.mode.label(),
            e.count(ControlStatus::Met),
            e.count(ControlStatus::Declared),
            e.count(ControlStatus::NotMet),
            e.count(ControlStatus::Waived),
            e.count(ControlStatus::Manual)
        )?;
    }
    for e in r.environments {
        writeln!(out)?;
        writeln!(out, "### {}", cell(e.environment.name()))?;
        writeln!(out)?;
        let open: Vec<_> = e
            .controls
            .iter()
            .filter(|c| c.status != ControlStatus::Manual)
            .collect();
        let manual: Vec<_> = e
            .controls
            .iter()
            .filter(|c| c.status == ControlStatus::Manual)
            .collect();
        if open.is_empty() {
            writeln!(out, "No control is judged by a rule or an attestation yet.")?;
        } else {
            table(&open, out)?;
        }
        if !manual.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "<details><summary>{} manual controls need an attestation</summary>",
                manual.len()
            )?;
            writeln!(out)?;
            table(&manual, out)?;
            writeln!(out)?;
            writeln!(out, "</details>")?;
        }
    }
    writeln!(out)?;
    writeln!(out, "---")?;
    writeln!(out, "_{}_", cell(&r.provenance.footer(r.as_of)))?;
    Ok(())
}
