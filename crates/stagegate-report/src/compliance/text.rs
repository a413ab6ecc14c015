//! The terminal view: per environment, what is not met and why first, then
//! waived and met controls; manual controls are counted (listed with
//! `--verbose`), since they are the auditor's checklist rather than news.

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
        };
        self.style(Style::new().fg_color(Some(color.into())).bold(), label)
    }

    fn dim(&self, text: &str) -> String {
        self.style(Style::new().dimmed(), text)
    }
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
        for status in [
            ControlStatus::NotMet,
            ControlStatus::Waived,
            ControlStatus::Declared,
            ControlStatus::Met,
            ControlStatus::Manual,
        ] {
            let controls: Vec<&ControlAssessment<'_>> =
                e.controls.iter().filter(|c| c.status == status).collect();
            if status == ControlStatus::Manual && !opts.verbose {
                if !controls.is_empty() {
                    writeln!(
                        out,
                        "  {}",
                        p.dim(&format!(
                            "and {} manual controls need an attestation (--verbose lists them)",
                            controls.len()
                        ))
                    )?;
                }
                continue;
            }
            for c in controls {
                writeln!(
                    out,
                    "  {} {} {} {}",
                    p.status(c.status),
                    p.style(Style::new().bold(), &c.control.id),
                    c.control.title,
                    p.dim(&format!("· {}", c.basis.as_str()))
                )?;
                writeln!(out, "          {}", c.reason)?;
                if let Some((a, state)) = &c.attestation {
                    writeln!(
                        out,
                        "          {}",
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
            }
        }
        writeln!(
            out,
            "  {}",
            p.style(
                Style::new().bold(),
                &format!(
                    "{} met, {} declared only, {} not met, {} waived, {} manual of {} controls",
                    e.count(ControlStatus::Met),
                    e.count(ControlStatus::Declared),
                    e.count(ControlStatus::NotMet),
                    e.count(ControlStatus::Waived),
                    e.count(ControlStatus::Manual),
                    e.controls.len()
                )
            )
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", p.dim(&r.provenance.footer(r.as_of)))?;
    Ok(())
}
