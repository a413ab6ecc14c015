//! Markdown for pull-request comments: a verdict table, then what blocks each
//! environment, with passing rules folded away.

use std::io::{self, Write};

use stagegate_rules::{Area, Finding, Status, Verdict};

use crate::{Kind, Report, plural};

fn icon(status: Status) -> &'static str {
    match status {
        Status::Fail => "❌ fail",
        Status::Warn => "⚠️ warn",
        Status::Waived => "🔕 waived",
        Status::Pass => "✅ pass",
        Status::Skip => "➖ skip",
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Ready => "✅ ready",
        Verdict::Blocked => "❌ blocked",
    }
}

/// Table cells must not break the table or inject markup.
pub(crate) fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br>")
}

fn rows(r: &Report<'_>, findings: &[&Finding], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "| Status | Rule | Finding | Location |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    for f in findings {
        let mut message = cell(&f.message);
        if let (Status::Waived, Some(w)) = (f.status, &f.waiver) {
            message.push_str(&format!(
                "<br>_waived until {}: {}_",
                w.expires,
                cell(&w.reason)
            ));
        }
        // Observations explain a verdict; documents and records are named by
        // the basis beside the status (the JSON report lists each).
        for (e, o) in f
            .evidence
            .iter()
            .filter_map(|e| e.observation.as_ref().map(|o| (e, o)))
        {
            let mark = match o.status {
                stagegate_rules::Observed::Pass => "✅",
                stagegate_rules::Observed::Fail => "❌",
                stagegate_rules::Observed::Skip => "➖",
            };
            message.push_str(&format!(
                "<br>{mark} {}: {}{}",
                cell(&o.subject),
                cell(&o.summary),
                if e.stale { " _(stale)_" } else { "" }
            ));
        }
        if matches!(f.status, Status::Fail | Status::Warn) {
            message.push_str(&format!("<br>**Fix:** {}", cell(f.rule.remediation())));
        }
        if f.status != Status::Skip
            && let Some(controls) = crate::controls_line(f)
        {
            message.push_str(&format!("<br>_Controls: {}_", cell(&controls)));
        }
        if let (Kind::Plan { from }, true) = (r.kind, f.status.is_open())
            && let Some(note) = crate::promotion_note(f, from)
        {
            message.push_str(&format!("<br>_{}_", cell(&note)));
        }
        let loc = r
            .finding_location(f)
            .map(|l| format!("`{}:{}`", l.file, l.line))
            .unwrap_or_default();
        let status = if f.status == Status::Skip {
            icon(f.status).to_owned()
        } else {
            format!(
                "{} · {}",
                icon(f.status),
                cell(&crate::basis_label(f, r.judged_at()))
            )
        };
        writeln!(
            out,
            "| {} | `{}` {} | {} | {} |",
            status,
            f.rule.id(),
            cell(f.rule.title()),
            message,
            loc
        )?;
    }
    Ok(())
}

pub(crate) fn render(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let blocked = r
        .environments
        .iter()
        .filter(|e| e.verdict() == Verdict::Blocked)
        .count();
    match r.kind {
        Kind::Check => writeln!(
            out,
            "## stagegate: {} — {}",
            r.product,
            if blocked == 0 {
                "every environment is ready".to_owned()
            } else {
                format!(
                    "{blocked} of {} blocked",
                    plural(r.environments.len(), "environment")
                )
            }
        )?,
        Kind::Plan { from } => {
            for env in r.environments {
                writeln!(
                    out,
                    "## stagegate plan: {} {} → {} — {}",
                    env.name(),
                    from.label(),
                    env.mode.label(),
                    verdict(env.verdict())
                )?;
            }
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "_{} · {}_",
        cell(r.source.name()),
        cell(&r.provenance.dating(r.as_of))
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| Environment | Mode | Verdict | Failed | Warnings | Waived | Passed | Skipped |"
    )?;
    writeln!(
        out,
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    )?;
    for env in r.environments {
        let s = env.summary();
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(env.name()),
            env.mode.label(),
            verdict(env.verdict()),
            s.fail,
            s.warn,
            s.waived,
            s.pass,
            s.skip
        )?;
    }
    for env in r.environments {
        writeln!(out)?;
        writeln!(
            out,
            "### {} ({}) — {}",
            cell(env.name()),
            env.mode.label(),
            verdict(env.verdict())
        )?;
        writeln!(out)?;
        let open: Vec<&Finding> = [Status::Fail, Status::Warn, Status::Waived]
            .iter()
            .flat_map(|st| env.findings.iter().filter(move |f| f.status == *st))
            .collect();
        if open.is_empty() {
            writeln!(out, "Every requirement of {} holds.", env.mode.label())?;
        } else if matches!(r.kind, Kind::Plan { .. }) {
            let mut first = true;
            for area in Area::ALL {
                let in_area: Vec<&Finding> = open
                    .iter()
                    .copied()
                    .filter(|f| f.rule.area() == area)
                    .collect();
                if !in_area.is_empty() {
                    if !first {
                        writeln!(out)?;
                    }
                    first = false;
                    writeln!(out, "#### {}", area.title())?;
                    writeln!(out)?;
                    rows(r, &in_area, out)?;
                }
            }
        } else {
            rows(r, &open, out)?;
        }
        let rest: Vec<&Finding> = env
            .findings
            .iter()
            .filter(|f| matches!(f.status, Status::Pass | Status::Skip))
            .collect();
        if !rest.is_empty() {
            let s = env.summary();
            writeln!(out)?;
            writeln!(
                out,
                "<details><summary>{} passed, {} skipped</summary>",
                s.pass, s.skip
            )?;
            writeln!(out)?;
            rows(r, &rest, out)?;
            writeln!(out)?;
            writeln!(out, "</details>")?;
        }
    }
    writeln!(out)?;
    writeln!(out, "---")?;
    writeln!(out, "_{}_", cell(&r.provenance.footer(r.as_of)))?;
    Ok(())
}
