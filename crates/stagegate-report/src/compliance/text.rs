//! The terminal view: per environment and per group of the framework (PCI
//! DSS requirement, 800-53 family, ...), its counts, then what is not met and
//! why first, then waived and met controls; manual controls are counted
//! (listed with `--verbose`), since they are the auditor's checklist rather
//! than news.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use stagegate_rules::frameworks::{ControlAssessment, ControlStatus};

use super::ComplianceReport;
use crate::Options;

struct Paint(bool);

impl Paint {
    fn style(&self, style: Style, text: &str) -> String {
        if self.0 {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    fn status(&self, status: ControlStatus) -> String {
        let (label, color) = match status {
            ControlStatus::NotMet => ("NOT MET", AnsiColor::Red),
            ControlStatus::Waived => ("WAIVED ", AnsiColor::Magenta),
            ControlStatus::Met => ("met    ", AnsiColor::Green),
            ControlStatus::Declared => ("DECLRD ", AnsiColor::Yellow),
            ControlStatus::Manual => ("manual ", AnsiColor::BrightBlack),
            ControlStatus::NotApplicable => ("n/a    ", AnsiColor::BrightBlack),
        };
        self.style(Style::new().fg_color(Some(color.into())).bold(), label)
    }

    fn dim(&self, text: &str) -> String {
        self.style(Style::new().dimmed(), text)
    }
}

/// Statuses in the order they are listed: what needs action first.
const ORDER: [ControlStatus; 6] = [
    ControlStatus::NotMet,
    ControlStatus::Waived,
    ControlStatus::Declared,
    ControlStatus::Met,
    ControlStatus::NotApplicable,
    ControlStatus::Manual,
];

/// "2 met, 1 not met, 12 manual of 15": the statuses present, then the total.
fn counts(count: &dyn Fn(ControlStatus) -> usize, total: usize) -> String {
    let parts: Vec<String> = [
        (ControlStatus::Met, "met"),
        (ControlStatus::Declared, "declared only"),
        (ControlStatus::NotMet, "not met"),
        (ControlStatus::Waived, "waived"),
        (ControlStatus::Manual, "manual"),
        (ControlStatus::NotApplicable, "not applicable"),
    ]
    .into_iter()
    .filter_map(|(s, word)| match count(s) {
        0 => None,
        n => Some(format!("{n} {word}")),
    })
    .collect();
    format!("{} of {total} controls", parts.join(", "))
}

fn control(p: &Paint, c: &ControlAssessment<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "    {} {} {} {}",
        p.status(c.status),
        p.style(Style::new().bold(), &c.control.id),
        c.control.title,
        p.dim(&format!("· {}", c.basis.as_str()))
    )?;
    writeln!(out, "            {}", c.reason)?;
    if let Some((a, state)) = &c.attestation {
        writeln!(
            out,
            "            {}",
            p.dim(&format!(
                "attestation: {} on {}, valid until {}, evidence {} ({})",
                a.by.value,
                a.date.value,
                a.valid_until.value,
                a.evidence.value,
                super::attestation_state(state)
            ))
        )?;
    }
    Ok(())
}

pub(super) fn render(
    r: &ComplianceReport<'_>,
    opts: Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    let p = Paint(opts.styled);
    writeln!(
        out,
        "{} · {} {} · {}",
        r.product,
        r.pack.name,
        r.pack.version,
        r.provenance.dating(r.as_of)
    )?;
    writeln!(out, "{}", p.dim(&format!("source: {}", r.pack.source)))?;
    if let Some(note) = r.undeclared_note() {
        writeln!(
            out,
            "{}",
            p.style(
                Style::new().fg_color(Some(AnsiColor::Yellow.into())),
                &format!("note: {note}")
            )
        )?;
    }
    for e in r.environments {
        writeln!(out)?;
        writeln!(
            out,
            "{} ({})",
            p.style(Style::new().bold(), e.environment.name()),
            e.environment.mode.as_str()
        )?;
        let mut manual = 0;
        for g in e.groups() {
            writeln!(
                out,
                "  {} {}",
                p.style(Style::new().bold().underline(), &g.group.title),
                p.dim(&format!("· {}", counts(&|s| g.count(s), g.controls.len())))
            )?;
            for status in ORDER {
                let controls = g.controls.iter().filter(|c| c.status == status);
                if status == ControlStatus::Manual && !opts.verbose {
                    manual += controls.count();
                    continue;
                }
                for c in controls {
                    control(&p, c, out)?;
                }
            }
        }
        if manual > 0 {
            writeln!(
                out,
                "  {}",
                p.dim(&format!(
                    "{manual} manual controls need an attestation (--verbose lists them)"
                ))
            )?;
        }
        writeln!(
            out,
            "  {}",
            p.style(
                Style::new().bold(),
                &format!("in all: {}", counts(&|s| e.count(s), e.controls.len()))
            )
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", p.dim(&r.provenance.footer(r.as_of)))?;
    Ok(())
}
