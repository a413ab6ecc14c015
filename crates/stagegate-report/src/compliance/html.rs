//! A self-contained, printable HTML evidence report: no scripts, no external
//! resources, styles inline, so it can be archived and handed to an auditor
//! as one file and printed to PDF as it is.

use std::io::{self, Write};

use stagegate_rules::frameworks::{ControlAssessment, ControlStatus};
use stagegate_rules::{Basis, Observed, Status};

use super::{ComplianceReport, attestation_state, capitalise};

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 2rem auto; max-width: 64rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--line); padding-bottom: .25rem; }
.meta, .muted { color: var(--muted); }
.note { border-left: 4px solid #9a6700; background: #fff8c5; padding: .5rem .75rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.id { white-space: nowrap; font-weight: 600; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .25rem; font-weight: 600; white-space: nowrap; }
.met { background: #dafbe1; color: #116329; }
.not-met { background: #ffebe9; color: #a40e26; }
.waived { background: #fbefff; color: #6e40c9; }
.manual { background: #eaeef2; color: #424a53; }
.declared { background: #fff8c5; color: #7d4e00; }
.not-applicable { background: #f6f8fa; color: #57606a; border: 1px dashed var(--line); }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .25rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
footer { margin-top: 2rem; border-top: 1px solid var(--line); padding-top: .5rem; }
ul { margin: .25rem 0 0; padding-left: 1.1rem; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
@page { margin: 1.5cm; }
@media print { body { margin: 0; max-width: none; font-size: 11px; } tr { break-inside: avoid; } h2, h3 { break-after: avoid; } a { color: inherit; text-decoration: none; } }
"#;

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An id fragment from an environment name: names are `[a-z0-9_-]` by the
/// spec's rules, and anything else is replaced rather than trusted.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn badge(status: ControlStatus) -> String {
    format!("<span class=\"badge {0}\">{0}</span>", status.as_str())
}

fn status_word(status: Status) -> &'static str {
    status.as_str()
}

fn evidence_cell(r: &ComplianceReport<'_>, c: &ControlAssessment<'_>) -> String {
    let mut html = format!("<div>{}</div>", esc(&c.reason));
    if !c.evidence.is_empty() {
        html.push_str("<ul>");
        for ev in &c.evidence {
            let f = ev.finding;
            let at = f
                .span
                .map(|s| {
                    let l = r.location(s);
                    format!(
                        " <span class=\"muted\">({}:{})</span>",
                        esc(&l.file),
                        l.line
                    )
                })
                .unwrap_or_default();
            html.push_str(&format!(
                "<li><code>{}</code> <span class=\"muted\">{}</span> — {} · {}: {}{at}",
                esc(f.rule.id()),
                ev.strength.as_str(),
                status_word(f.status),
                f.basis.as_str(),
                esc(&f.message)
            ));
            if let Some(w) = &f.waiver {
                let by = w
                    .approved_by
                    .as_deref()
                    .map(|a| format!(", approved by {}", esc(a)))
                    .unwrap_or_default();
                html.push_str(&format!(
                    "<br><span class=\"muted\">waiver until {}{by}{}: {}</span>",
                    w.expires,
                    if w.expired { " (expired)" } else { "" },
                    esc(&w.reason)
                ));
            }
            if !f.evidence.is_empty() {
                html.push_str("<ul>");
                for e in &f.evidence {
                    let when =
                        e.at.map(|at| format!(" at {}", stagegate_spec::rfc3339(at)))
                            .unwrap_or_default();
                    let Some(o) = &e.observation else {
                        let hash = e
                            .sha256
                            .as_deref()
                            .map(|h| format!(", sha256 <code>{}</code>", esc(h)))
                            .unwrap_or_default();
                        let kind = if e.basis == Basis::Document {
                            "document"
                        } else {
                            e.basis.as_str()
                        };
                        html.push_str(&format!(
                            "<li>{kind}: {} — <code>{}</code>{when}{hash}</li>",
                            esc(&e.what),
                            esc(&e.source)
                        ));
                        continue;
                    };
                    let mark = match o.status {
                        Observed::Pass => "observed ok",
                        Observed::Fail => "observed failing",
                        Observed::Skip => "not observed",
                    };
                    let stale = if e.stale {
                        " (stale: older than evidence_max_age)"
                    } else {
                        ""
                    };
                    html.push_str(&format!(
                        "<li>{mark}: {} — {} <span class=\"muted\">from {}{when}{stale}</span></li>",
                        esc(&o.subject),
                        esc(&o.summary),
                        esc(&e.source)
                    ));
                }
                html.push_str("</ul>");
            }
            html.push_str("</li>");
        }
        html.push_str("</ul>");
    }
    if let Some((a, state)) = &c.attestation {
        let note = a
            .note
            .as_deref()
            .map(|n| format!(" — {}", esc(n)))
            .unwrap_or_default();
        html.push_str(&format!(
            "<div class=\"muted\">Attestation: {} on {}, valid until {}, evidence <code>{}</code> ({}){note}</div>",
            esc(&a.by.value),
            a.date.value,
            a.valid_until.value,
            esc(&a.evidence.value),
            esc(&attestation_state(state))
        ));
    }
    html
}

pub(super) fn render(r: &ComplianceReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let title = format!(
        "{} — {} {} compliance report",
        r.product, r.pack.name, r.pack.version
    );
    writeln!(out, "<!doctype html>")?;
    writeln!(out, "<html lang=\"en\">")?;
    writeln!(
        out,
        "<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<title>{}</title><style>{STYLE}</style></head>",
        esc(&title)
    )?;
    writeln!(out, "<body>")?;
    writeln!(out, "<header><h1>{}</h1>", esc(&title))?;
    writeln!(
        out,
        "<p class=\"meta\">{} · source: <a href=\"{}\">{}</a> · mapping pack {} · generated by stagegate{}</p>",
        esc(&capitalise(&r.provenance.dating(r.as_of))),
        esc(&r.pack.url),
        esc(&r.pack.source),
        r.pack.pack,
        if r.live {
            " with live probes"
        } else {
            " from the spec"
        }
    )?;
    if let Some(note) = r.undeclared_note() {
        writeln!(out, "<p class=\"note\">{}</p>", esc(&note))?;
    }
    writeln!(out, "</header>")?;
    writeln!(out, "<main>")?;
    writeln!(out, "<h2 id=\"summary\">Summary</h2>")?;
    writeln!(
        out,
        "<table><thead><tr><th scope=\"col\">Environment</th><th scope=\"col\">Mode</th><th scope=\"col\">Met</th><th scope=\"col\">Declared only</th><th scope=\"col\">Not met</th><th scope=\"col\">Waived</th><th scope=\"col\">Manual</th><th scope=\"col\">Not applicable</th></tr></thead><tbody>"
    )?;
    for e in r.environments {
        writeln!(
            out,
            "<tr><th scope=\"row\"><a href=\"#env-{}\">{}</a></th><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            slug(e.environment.name()),
            esc(e.environment.name()),
            e.environment.mode.label(),
            e.count(ControlStatus::Met),
            e.count(ControlStatus::Declared),
            e.count(ControlStatus::NotMet),
            e.count(ControlStatus::Waived),
            e.count(ControlStatus::Manual),
            e.count(ControlStatus::NotApplicable)
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    writeln!(
        out,
        "<p class=\"muted\">Met: every rule mapped to the control holds and one of them fully evidences it on what stagegate observed or a document it read, a conformance report finds the WCAG criterion passing, or a valid attestation covers it. Declared only: the rules hold, but only on values the spec declares; nothing observed or read shows it. Not met: a mapped rule does not hold. Waived: a mapped rule fails under an unexpired waiver. Manual: no rule can judge it and no valid attestation covers it. Not applicable: out of scope, with the justification and its approver from the spec.</p>"
    )?;
    for e in r.environments {
        writeln!(
            out,
            "<h2 id=\"env-{}\">{} <span class=\"muted\">({})</span></h2>",
            slug(e.environment.name()),
            esc(e.environment.name()),
            e.environment.mode.label()
        )?;
        let env = slug(e.environment.name());
        let groups = e.groups();
        writeln!(
            out,
            "<table><caption>By {}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">Met</th><th scope=\"col\">Declared only</th><th scope=\"col\">Not met</th><th scope=\"col\">Waived</th><th scope=\"col\">Manual</th><th scope=\"col\">Not applicable</th><th scope=\"col\">Controls</th></tr></thead><tbody>",
            esc(&r.pack.group_kind),
            esc(&capitalise(&r.pack.group_kind))
        )?;
        for (i, g) in groups.iter().enumerate() {
            writeln!(
                out,
                "<tr><th scope=\"row\"><a href=\"#env-{env}-g{i}\">{}</a></th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&g.group.title),
                g.count(ControlStatus::Met),
                g.count(ControlStatus::Declared),
                g.count(ControlStatus::NotMet),
                g.count(ControlStatus::Waived),
                g.count(ControlStatus::Manual),
                g.count(ControlStatus::NotApplicable),
                g.controls.len()
            )?;
        }
        writeln!(out, "</tbody></table>")?;
        for (i, g) in groups.iter().enumerate() {
            writeln!(
                out,
                "<h3 id=\"env-{env}-g{i}\">{}</h3>",
                esc(&g.group.title)
            )?;
            writeln!(
                out,
                "<table><thead><tr><th scope=\"col\">Control</th><th scope=\"col\">Title</th><th scope=\"col\">Status</th><th scope=\"col\">Why, and the evidence</th></tr></thead><tbody>"
            )?;
            for c in g.controls {
                writeln!(
                    out,
                    "<tr><td class=\"id\">{}</td><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td></tr>",
                    esc(&c.control.id),
                    esc(&c.control.title),
                    badge(c.status),
                    c.basis.as_str(),
                    evidence_cell(r, c)
                )?;
            }
            writeln!(out, "</tbody></table>")?;
        }
    }
    writeln!(out, "</main>")?;
    writeln!(
        out,
        "<footer class=\"muted\">{}</footer>",
        esc(&r.provenance.footer(r.as_of))
    )?;
    writeln!(out, "</body>")?;
    writeln!(out, "</html>")
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
