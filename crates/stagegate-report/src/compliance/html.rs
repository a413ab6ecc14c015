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
dl.scope { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .5rem 0; }
dl.scope dt { font-weight: 600; }
dl.scope dd { margin: 0; overflow-wrap: anywhere; }
details dt { font-weight: 600; margin-top: .35rem; }
details dd { margin: 0 0 0 1rem; }
th.id { background: none; }
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
                let l = r.location(w.span);
                html.push_str(&format!(
                    "<br><span class=\"muted\">waiver until {}{by}{}: {} ({}:{})</span>",
                    w.expires,
                    if w.expired { " (expired)" } else { "" },
                    esc(&w.reason),
                    esc(&l.file),
                    l.line
                ));
            }
            if !f.evidence.is_empty() {
                html.push_str("<ul>");
                for e in &f.evidence {
                    let document = e.basis == Basis::Document;
                    let when = e.at.map(|at| when(r, at, document)).unwrap_or_default();
                    let Some(o) = &e.observation else {
                        // A document is hashed whole; a record (a drill) by
                        // its own line, which `source` names.
                        let hash = e
                            .sha256
                            .as_deref()
                            .map(|h| {
                                format!(
                                    ", sha256 of the {} <code>{}</code>",
                                    if document { "file" } else { "record" },
                                    esc(h)
                                )
                            })
                            .unwrap_or_default();
                        html.push_str(&format!(
                            "<li>{}: {} — <code>{}</code>{when}{hash}</li>",
                            e.basis.as_str(),
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
        let hash = r
            .files
            .document(&a.evidence.value)
            .map(|d| {
                format!(
                    ", sha256 of the file <code>{}</code>{}",
                    esc(&d.sha256),
                    when(r, d.at, true)
                )
            })
            .unwrap_or_default();
        let scope = a.environment.as_ref().map_or_else(
            || "every environment".to_owned(),
            |e| format!("environment {}", esc(&e.value)),
        );
        let l = r.location(a.span);
        html.push_str(&format!(
            "<div class=\"muted\">Attestation ({}:{}, covers {scope}): {} on {}, valid until {}, evidence <code>{}</code>{hash}; {}{note}</div>",
            esc(&l.file),
            l.line,
            esc(&a.by.value),
            a.date.value,
            a.valid_until.value,
            esc(&a.evidence.value),
            if state.counts() {
                "it counts: valid on the as-of date".to_owned()
            } else {
                esc(&attestation_state(state))
            }
        ));
    }
    html
}

/// What the statuses, bases and strengths mean: an auditor reads the
/// report without the tool's documentation at hand.
const LEGEND: &str = "<details open><summary>How to read this report</summary><dl>\
<dt>Statuses</dt><dd><b>Met</b>: no rule mapped to the control fails, and one that fully evidences it holds on what stagegate observed or a document it read (hashed below); or a conformance report finds the WCAG criterion passing; or a valid attestation with its evidence file covers it. \
<b>Declared only</b>: the rules hold, but only on values the spec declares; nothing observed or read shows it. \
<b>Not met</b>: a mapped rule does not hold. <b>Waived</b>: a mapped rule fails under an unexpired, approved waiver. \
<b>Manual</b>: nothing shows the whole control and no valid attestation covers it; the rules that show part of it or support it are listed, and the rest needs a person. \
<b>Not applicable</b>: out of scope, with the justification and its approver from the spec.</dd>\
<dt>Basis (what the status rests on)</dt><dd><b>observed</b>: stagegate saw it (a live probe, a restore drill, a host agent's report, a backup snapshot read); \
<b>document</b>: a file stagegate read and hashed; <b>attested</b>: a person's attestation with its evidence file; \
<b>declared</b>: a value written in the spec, which nobody checked; <b>none</b>: nothing decides the control yet.</dd>\
<dt>Strength of a rule for a control</dt><dd><b>full</b>: the rule checks what the control requires; \
<b>partial</b>: it checks part of it; <b>supports</b>: related evidence an auditor will want, which proves nothing alone.</dd>\
<dt>Rule results</dt><dd><b>pass</b>, <b>warn</b>, <b>fail</b>; <b>waived</b>: failing under a waiver; \
<b>skip</b>: the rule does not apply to this environment, with why.</dd>\
<dt>Times and hashes</dt><dd>A document is cited by the SHA-256 of the whole file and when it last changed (its last commit, else its modification time); \
a drill by the SHA-256 of its record in the drill log (the line named); an observation by when it was made. \
Evidence dated after the as-of date is marked.</dd></dl></details>";

/// What was assessed: the spec by its path and full hash, the catalogue,
/// whether live probes ran. The footer repeats it in short.
fn scope(r: &ComplianceReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let p = r.provenance;
    let commit = p
        .spec
        .git_commit
        .as_deref()
        .map(|c| {
            format!(
                ", commit <code>{}</code>{}",
                esc(c),
                if p.spec.git_dirty == Some(true) {
                    " with uncommitted changes"
                } else {
                    ""
                }
            )
        })
        .unwrap_or_default();
    writeln!(
        out,
        "<dl class=\"scope\"><dt>Spec</dt><dd><code>{}</code>, sha256 <code>{}</code>{commit}</dd><dt>As of</dt><dd>{}</dd><dt>Environments</dt><dd>{}</dd><dt>Evidence</dt><dd>{}</dd><dt>Rules</dt><dd>stagegate {}, catalogue {}</dd></dl>",
        esc(&p.spec.path),
        esc(&p.spec.sha256),
        r.as_of,
        r.environments
            .iter()
            .map(|e| esc(e.environment.name()))
            .collect::<Vec<_>>()
            .join(", "),
        if r.live {
            "live probes ran (<code>--live</code>), besides the spec, its documents and the drill log"
        } else {
            "the spec, the documents it cites and the drill log; no live probes ran (run with <code>--live</code> to observe endpoints, certificates and backups)"
        },
        esc(&p.stagegate_version),
        esc(&p.catalogue_revision)
    )
}

/// When a piece of evidence dates from: a document's last commit (else its
/// modification time), an observation's time; flagged when it lies after
/// the as-of date, since evidence newer than the assessment is questioned.
fn when(r: &ComplianceReport<'_>, at: i64, document: bool) -> String {
    let after = if stagegate_spec::Date::from_unix_secs(at) > r.as_of {
        " <strong>(after the as-of date)</strong>"
    } else {
        ""
    };
    format!(
        ", {} {}{after}",
        if document { "last changed" } else { "at" },
        stagegate_spec::rfc3339(at)
    )
}

pub(super) fn render(r: &ComplianceReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let title = format!("{} — {} compliance report", r.product, r.pack.name);
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
        "<p class=\"meta\">{} · source: <a href=\"{}\">{}</a> ({}) · mapping pack {}</p>",
        esc(&capitalise(&r.provenance.dating(r.as_of))),
        esc(&r.pack.url),
        esc(&r.pack.source),
        esc(&r.pack.version),
        r.pack.pack,
    )?;
    scope(r, out)?;
    if let Some(note) = r.undeclared_note() {
        writeln!(out, "<p class=\"note\">{}</p>", esc(&note))?;
    }
    writeln!(out, "</header>")?;
    writeln!(out, "<main>")?;
    writeln!(out, "<h2 id=\"summary\">Summary</h2>")?;
    writeln!(
        out,
        "<table><caption>Controls by status, per environment</caption><thead><tr><th scope=\"col\">Environment</th><th scope=\"col\">Mode</th><th scope=\"col\">Met</th><th scope=\"col\">Declared only</th><th scope=\"col\">Not met</th><th scope=\"col\">Waived</th><th scope=\"col\">Manual</th><th scope=\"col\">Not applicable</th></tr></thead><tbody>"
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
    writeln!(out, "{LEGEND}")?;
    for e in r.environments {
        writeln!(
            out,
            "<h2 id=\"env-{}\">{} <span class=\"muted\">({} mode)</span></h2>",
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
                "<table><caption>{}: {}, controls</caption><thead><tr><th scope=\"col\">Control</th><th scope=\"col\">Title</th><th scope=\"col\">Status</th><th scope=\"col\">Basis</th><th scope=\"col\">Why, and the evidence</th></tr></thead><tbody>",
                esc(e.environment.name()),
                esc(&g.group.title)
            )?;
            for c in g.controls {
                writeln!(
                    out,
                    "<tr><th scope=\"row\" class=\"id\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
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
