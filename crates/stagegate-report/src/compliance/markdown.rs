//! Markdown: a summary table per environment, then each environment's
//! counts per group of the framework and its judged controls by group, with
//! the long manual list folded away.

use std::io::{self, Write};

use stagegate_rules::frameworks::{ControlAssessment, ControlStatus};

use super::{ComplianceReport, capitalise};
use crate::markdown::cell;

fn icon(status: ControlStatus) -> &'static str {
    match status {
        ControlStatus::Met => "✅ met",
        ControlStatus::Declared => "🗒️ declared",
        ControlStatus::NotMet => "❌ not met",
        ControlStatus::Waived => "🔕 waived",
        ControlStatus::Manual => "📝 manual",
        ControlStatus::NotApplicable => "➖ not applicable",
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
        "| Environment | Mode | Met | Declared only | Not met | Waived | Manual | Not applicable |"
    )?;
    writeln!(out, "| --- | --- | --: | --: | --: | --: | --: | --: |")?;
    for e in r.environments {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(e.environment.name()),
            e.environment.mode.label(),
            e.count(ControlStatus::Met),
            e.count(ControlStatus::Declared),
            e.count(ControlStatus::NotMet),
            e.count(ControlStatus::Waived),
            e.count(ControlStatus::Manual),
            e.count(ControlStatus::NotApplicable)
        )?;
    }
    for e in r.environments {
        writeln!(out)?;
        writeln!(out, "### {}", cell(e.environment.name()))?;
        writeln!(out)?;
        writeln!(
            out,
            "| {} | Met | Declared only | Not met | Waived | Manual | Not applicable | Controls |",
            cell(&capitalise(&r.pack.group_kind))
        )?;
        writeln!(out, "| --- | --: | --: | --: | --: | --: | --: | --: |")?;
        let groups = e.groups();
        for g in &groups {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&g.group.title),
                g.count(ControlStatus::Met),
                g.count(ControlStatus::Declared),
                g.count(ControlStatus::NotMet),
                g.count(ControlStatus::Waived),
                g.count(ControlStatus::Manual),
                g.count(ControlStatus::NotApplicable),
                g.controls.len()
            )?;
        }
        let mut judged = false;
        for g in &groups {
            let open: Vec<_> = g
                .controls
                .iter()
                .filter(|c| c.status != ControlStatus::Manual)
                .collect();
            if open.is_empty() {
                continue;
            }
            judged = true;
            writeln!(out)?;
            writeln!(out, "#### {}", cell(&g.group.title))?;
            writeln!(out)?;
            table(&open, out)?;
        }
        if !judged {
            writeln!(out)?;
            writeln!(out, "No control is judged by a rule or an attestation yet.")?;
        }
        let manual: Vec<_> = e
            .controls
            .iter()
            .filter(|c| c.status == ControlStatus::Manual)
            .collect();
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
