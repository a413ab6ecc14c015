//! JUnit XML for CI systems that show test results (GitLab, Jenkins): one
//! suite per environment, one case per rule; skipped rules are skipped cases,
//! failures are failures, and warnings and waivers pass with their note in
//! `system-out` so they stay visible without failing the job.

use std::fmt::Write as _;
use std::io::{self, Write};

use stagegate_rules::Status;

use crate::Report;

/// Escapes text for XML attributes and content, dropping characters XML 1.0
/// cannot carry at all.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn render(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    let mut suites = String::new();
    for env in r.environments {
        let s = env.summary();
        tests += env.findings.len();
        failures += s.fail;
        skipped += s.skip;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" timestamp=\"{}T00:00:00\">",
            esc(env.name()),
            env.findings.len(),
            s.fail,
            s.skip,
            r.as_of
        );
        let _ = writeln!(suites, "    <properties>");
        let _ = writeln!(
            suites,
            "      <property name=\"mode\" value=\"{}\"/>",
            env.mode.as_str()
        );
        let _ = writeln!(
            suites,
            "      <property name=\"verdict\" value=\"{}\"/>",
            env.verdict().as_str()
        );
        let _ = writeln!(
            suites,
            "      <property name=\"spec\" value=\"{}\"/>",
            esc(r.source.name())
        );
        let p = r.provenance;
        for (name, value) in [
            ("spec_sha256", p.spec.sha256.as_str()),
            ("stagegate_version", p.stagegate_version.as_str()),
            ("catalogue_revision", p.catalogue_revision.as_str()),
            (
                "generated_at",
                stagegate_spec::rfc3339(p.generated_at).as_str(),
            ),
        ]
        .into_iter()
        .chain(p.spec.git_commit.as_deref().map(|c| ("git_commit", c)))
        {
            let _ = writeln!(
                suites,
                "      <property name=\"{name}\" value=\"{}\"/>",
                esc(value)
            );
        }
        let _ = writeln!(suites, "    </properties>");
        for f in &env.findings {
            let loc = r.finding_location(f);
            let line_attr = loc
                .as_ref()
                .map(|l| format!(" line=\"{}\"", l.line))
                .unwrap_or_default();
            let _ = write!(
                suites,
                "    <testcase name=\"{}: {}\" classname=\"stagegate.{}\" file=\"{}\"{line_attr}",
                f.rule.id(),
                esc(f.rule.title()),
                esc(env.name()),
                esc(r.source.name())
            );
            let mut at = loc
                .map(|l| format!("\nat {}:{}:{}", l.file, l.line, l.column))
                .unwrap_or_default();
            at.push_str(&format!("\nbasis: {}", f.basis.as_str()));
            for e in &f.evidence {
                let Some(o) = &e.observation else {
                    at.push_str(&format!(
                        "\n- {} {}: {}",
                        e.basis.as_str(),
                        e.what,
                        e.source
                    ));
                    continue;
                };
                at.push_str(&format!("\n- {}: {}", o.subject, o.summary));
                for (k, v) in &o.details {
                    at.push_str(&format!("\n    {k}: {v}"));
                }
            }
            match f.status {
                Status::Pass => {
                    let _ = writeln!(suites, "/>");
                }
                Status::Skip => {
                    let _ = writeln!(
                        suites,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        esc(&f.message)
                    );
                }
                Status::Fail => {
                    let _ = writeln!(
                        suites,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}{}\nfix: {}</failure>\n    </testcase>",
                        esc(&f.message),
                        f.severity.as_str(),
                        esc(&f.message),
                        esc(&at),
                        esc(f.rule.remediation())
                    );
                }
                Status::Warn | Status::Waived => {
                    let note = match (&f.waiver, f.status) {
                        (Some(w), Status::Waived) => {
                            format!("waived until {}: {}\n", w.expires, w.reason)
                        }
                        _ => format!("warning ({}): ", f.severity.as_str()),
                    };
                    let _ = writeln!(
                        suites,
                        ">\n      <system-out>{}{}{}</system-out>\n    </testcase>",
                        esc(&note),
                        esc(&f.message),
                        esc(&at)
                    );
                }
            }
        }
        let _ = writeln!(suites, "  </testsuite>");
    }
    let _ = writeln!(
        xml,
        "<testsuites name=\"stagegate: {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        esc(r.product)
    );
    xml.push_str(&suites);
    xml.push_str("</testsuites>\n");
    out.write_all(xml.as_bytes())
}
