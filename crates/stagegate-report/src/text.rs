//! The human report: problems first, each with where and how to fix it, and
//! one summary line per environment at the end.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use stagegate_rules::{Area, EnvironmentResult, Finding, Observed, Status, Verdict};

use crate::{Kind, Options, Report, plural};

struct Styles {
    on: bool,
}

impl Styles {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.on {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }

    fn dim(&self, text: &str) -> String {
        self.paint(Style::new().dimmed(), text)
    }

    fn status(&self, status: Status) -> String {
        let (label, color) = match status {
            Status::Fail => ("FAIL  ", AnsiColor::Red),
            Status::Warn => ("WARN  ", AnsiColor::Yellow),
            Status::Waived => ("WAIVED", AnsiColor::Magenta),
            Status::Pass => ("pass  ", AnsiColor::Green),
            Status::Skip => ("skip  ", AnsiColor::BrightBlack),
        };
        self.paint(Style::new().fg_color(Some(color.into())).bold(), label)
    }

    fn verdict(&self, v: Verdict) -> String {
        match v {
            Verdict::Ready => self.paint(
                Style::new().fg_color(Some(AnsiColor::Green.into())).bold(),
                "ready",
            ),
            Verdict::Blocked => self.paint(
                Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
                "blocked",
            ),
        }
    }
}

pub(crate) fn render(r: &Report<'_>, opts: Options, out: &mut dyn Write) -> io::Result<()> {
    let s = Styles { on: opts.styled };
    match r.kind {
        Kind::Check => check(r, &s, opts, out)?,
        Kind::Plan { from } => {
            for env in r.environments {
                plan(r, env, from, &s, opts, out)?;
            }
        }
    }
    summary(r, &s, out)
}

fn check(r: &Report<'_>, s: &Styles, opts: Options, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} {}",
        s.bold(r.product),
        s.dim(&format!("· {}", r.provenance.dating(r.as_of)))
    )?;
    for env in r.environments {
        writeln!(out)?;
        writeln!(
            out,
            "{} {} {}",
            s.bold(env.name()),
            s.dim(&format!("({})", env.mode.label())),
            s.verdict(env.verdict())
        )?;
        let mut shown = 0;
        for status in [Status::Fail, Status::Warn, Status::Waived] {
            for f in env.findings.iter().filter(|f| f.status == status) {
                finding(r, f, s, opts.verbose, out)?;
                shown += 1;
            }
        }
        if opts.verbose {
            for f in env
                .findings
                .iter()
                .filter(|f| matches!(f.status, Status::Pass | Status::Skip))
            {
                finding(r, f, s, opts.verbose, out)?;
            }
        } else {
            let sum = env.summary();
            let hidden = sum.pass + sum.skip;
            if hidden > 0 {
                let lead = if shown == 0 {
                    "all requirements hold:"
                } else {
                    "and"
                };
                writeln!(
                    out,
                    "  {}",
                    s.dim(&format!(
                        "{lead} {} passed, {} skipped (--verbose lists them)",
                        sum.pass, sum.skip
                    ))
                )?;
            }
        }
    }
    Ok(())
}

fn finding(
    r: &Report<'_>,
    f: &Finding,
    s: &Styles,
    verbose: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let change = match r.kind {
        Kind::Plan { from } if f.status.is_open() => crate::promotion_note(f, from)
            .map(|n| format!(" {}", s.dim(&format!("({n})"))))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let basis = if f.status == Status::Skip {
        String::new()
    } else {
        format!(
            " {}",
            s.dim(&format!("· {}", crate::basis_label(f, r.judged_at())))
        )
    };
    writeln!(
        out,
        "  {} {} {}{basis}{change}",
        s.status(f.status),
        s.bold(f.rule.id()),
        f.rule.title()
    )?;
    writeln!(out, "         {}", f.message)?;
    if let Some(w) = &f.waiver
        && f.status == Status::Waived
    {
        let by = w
            .approved_by
            .as_deref()
            .map(|a| format!(", approved by {a}"))
            .unwrap_or_default();
        writeln!(
            out,
            "         {}",
            s.dim(&format!("waived until {}{by}: {}", w.expires, w.reason))
        )?;
    }
    if let Some(loc) = r.finding_location(f) {
        writeln!(
            out,
            "         {}",
            s.dim(&format!("--> {}:{}:{}", loc.file, loc.line, loc.column))
        )?;
    }
    for e in &f.evidence {
        let Some(o) = &e.observation else {
            // Documents and records are listed with --verbose (JSON always
            // has them); the basis beside the status names them.
            if !verbose {
                continue;
            }
            let hash = e
                .sha256
                .as_deref()
                .map(|h| format!(" (sha256 {})", &h[..h.len().min(12)]))
                .unwrap_or_default();
            writeln!(
                out,
                "         {}",
                s.dim(&format!("▸ {}: {}{hash}", e.what, e.source))
            )?;
            continue;
        };
        let mark = match o.status {
            Observed::Pass => s.paint(Style::new().fg_color(Some(AnsiColor::Green.into())), "✓"),
            Observed::Fail => s.paint(Style::new().fg_color(Some(AnsiColor::Red.into())), "✗"),
            Observed::Skip => s.dim("–"),
        };
        let stale = if e.stale {
            format!(" {}", s.dim("(stale: older than evidence_max_age)"))
        } else {
            String::new()
        };
        writeln!(out, "         {mark} {}: {}{stale}", o.subject, o.summary)?;
        if o.status == Observed::Fail || verbose {
            let details: Vec<String> = o.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if !details.is_empty() {
                writeln!(out, "           {}", s.dim(&details.join("  ")))?;
            }
        }
    }
    if matches!(f.status, Status::Fail | Status::Warn) {
        writeln!(out, "         {} {}", s.bold("fix:"), f.rule.remediation())?;
    }
    if f.status != Status::Skip
        && let Some(controls) = crate::controls_line(f)
    {
        writeln!(out, "         {}", s.dim(&format!("controls: {controls}")))?;
    }
    Ok(())
}

fn plan(
    r: &Report<'_>,
    env: &EnvironmentResult<'_>,
    from: stagegate_spec::Mode,
    s: &Styles,
    opts: Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    let sum = env.summary();
    writeln!(
        out,
        "{} {}",
        s.bold(&format!(
            "Plan: promote {} from {} to {}",
            env.name(),
            from.label(),
            env.mode.label()
        )),
        s.dim(&format!(
            "· {} · {}",
            r.product,
            r.provenance.dating(r.as_of)
        ))
    )?;
    writeln!(out)?;
    if sum.fail == 0 && sum.warn == 0 {
        writeln!(
            out,
            "Nothing must change: every requirement of {} holds.",
            env.mode.label()
        )?;
    } else {
        writeln!(
            out,
            "{} before {}, {}.",
            plural(sum.fail, "change"),
            env.mode.label(),
            if sum.warn == 0 {
                "nothing else recommended".to_owned()
            } else {
                format!("{} recommended", sum.warn)
            }
        )?;
    }
    for area in Area::ALL {
        let items: Vec<&Finding> = env
            .findings
            .iter()
            .filter(|f| {
                f.rule.area() == area
                    && matches!(f.status, Status::Fail | Status::Warn | Status::Waived)
            })
            .collect();
        let held = env
            .findings
            .iter()
            .filter(|f| f.rule.area() == area && f.status == Status::Pass)
            .count();
        writeln!(out)?;
        writeln!(out, "{}", s.bold(area.title()))?;
        if items.is_empty() {
            writeln!(
                out,
                "  {}",
                s.dim(&format!(
                    "nothing to change ({} in place)",
                    plural(held, "requirement")
                ))
            )?;
            continue;
        }
        for status in [Status::Fail, Status::Warn, Status::Waived] {
            for f in items.iter().filter(|f| f.status == status) {
                finding(r, f, s, opts.verbose, out)?;
            }
        }
        if held > 0 {
            writeln!(
                out,
                "  {}",
                s.dim(&format!(
                    "already in place: {}",
                    plural(held, "requirement")
                ))
            )?;
        }
    }
    if opts.verbose {
        writeln!(out)?;
        writeln!(out, "{}", s.bold("In place or not applicable"))?;
        for f in env
            .findings
            .iter()
            .filter(|f| matches!(f.status, Status::Pass | Status::Skip))
        {
            finding(r, f, s, opts.verbose, out)?;
        }
    }
    writeln!(out)?;
    Ok(())
}

fn summary(r: &Report<'_>, s: &Styles, out: &mut dyn Write) -> io::Result<()> {
    if r.kind == Kind::Check {
        writeln!(out)?;
    }
    for env in r.environments {
        let sum = env.summary();
        writeln!(
            out,
            "{} ({}): {} — {} failed, {}, {} waived, {} passed, {} skipped",
            env.name(),
            env.mode.as_str(),
            s.verdict(env.verdict()),
            sum.fail,
            plural(sum.warn, "warning"),
            sum.waived,
            sum.pass,
            sum.skip
        )?;
    }
    writeln!(out, "{}", s.dim(&r.provenance.footer(r.as_of)))?;
    Ok(())
}
