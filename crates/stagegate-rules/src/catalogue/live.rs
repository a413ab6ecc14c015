//! Rules judged from live evidence. A static check gathers none, so they
//! report `skip` there; they never change the static rules' results.

use stagegate_spec::CheckKind;

use super::{MONITORS, list, skip};
use crate::context::Ctx;
use crate::evidence::{LiveEvidence, Observation, Observed};
use crate::rule::{Applies, Area, Outcome, Rule};

const STATIC: &str = "a live rule: judged only from live probe results (`stagegate check --live`)";

pub(super) const CHECKS: Rule = Rule {
    id: "SG-LIVE-CHECKS",
    title: "Every monitoring check passes now",
    area: Area::Monitoring,
    applies: Applies::ANY,
    condition: Some("when monitoring exists"),
    requirement: "every monitoring check passes now",
    guideline: &[MONITORS],
    rationale: "A spec can claim anything; a check that fails now means the component is down or the check is wrong, and either must be fixed before promotion.",
    remediation: "Fix the failing component or the check's expectations; the finding carries each probe's evidence.",
    example: "[[environments.production.monitoring.checks]]\nname = \"api-health\"\ncovers = \"core\"\nkind = \"http\"\nurl = \"https://shop.example.com/healthz\"\nexpect = { status = 200 }",
    live: true,
    check: live_checks,
};

pub(super) const BACKUP_FRESH: Rule = Rule {
    id: "SG-BACKUP-FRESH",
    title: "The newest backup snapshot is fresh and readable",
    area: Area::Backup,
    applies: Applies::ANY,
    condition: Some("when the backup has a `source`, or a `restic` check watches it"),
    requirement: "newest snapshot is younger than `interval` + grace, and the repository is readable",
    guideline: &["It takes snapshots of system data for backup purposes."],
    rationale: "Backup jobs fail silently; only the age of the newest readable snapshot proves that backups really happen.",
    remediation: "Fix the backup job (or its credentials) until a new snapshot appears; watch it with a heartbeat check.",
    example: "[environments.production.backup]\nsource = { kind = \"restic\", repository = \"/srv/backup/shop\", password_env = \"RESTIC_PASSWORD\" }",
    live: true,
    check: backup_fresh,
};

pub(super) const EXPOSURE: Rule = Rule {
    id: "SG-SEC-EXPOSURE",
    title: "Only the declared public ports answer",
    area: Area::Security,
    applies: Applies::SOFT_PROD,
    condition: Some("for servers with a `host`"),
    requirement: "no port outside `public_ports` answers among the well-known service ports (SSH, databases, caches, admin consoles); with `agent = true`, every port a server listens on beyond loopback is in `public_ports` or `private_ports`, and no private port answers from outside",
    guideline: &["The production rollout architecture must meet security requirements."],
    rationale: "A database or admin console reachable from outside is found by scanners within hours.",
    remediation: "Close the port in the firewall, or declare it in `security.public_ports` if it is meant to be public.",
    example: "[environments.production.security]\npublic_ports = [443]",
    live: true,
    check: exposure,
};

pub(super) const TLS: Rule = Rule {
    id: "SG-SEC-TLS",
    title: "Certificates are valid and not about to expire",
    area: Area::Security,
    applies: Applies::ANY,
    condition: Some("for https and tls checks"),
    requirement: "the certificate chain is valid and not expiring within `cert_valid_for`",
    guideline: &["The production rollout architecture must meet security requirements."],
    rationale: "An expired or mismatched certificate takes the service down for every client as surely as a crash.",
    remediation: "Renew the certificate (automate it with ACME) and make sure the full chain is served.",
    example: "[[environments.production.monitoring.checks]]\nname = \"cert\"\ncovers = \"core\"\nkind = \"tls\"\nhost = \"shop.example.com\"\nexpect = { cert_valid_for = \"14d\" }",
    live: true,
    check: tls,
};

fn live<'a>(cx: &Ctx<'a>) -> Option<&'a LiveEvidence> {
    cx.live
}

fn observed(
    passed: bool,
    message: String,
    span: Option<stagegate_spec::Span>,
    evidence: Vec<Observation>,
) -> Outcome {
    Outcome::Observed {
        passed,
        message,
        span,
        evidence,
    }
}

fn live_checks(cx: &Ctx<'_>) -> Outcome {
    let Some(live) = live(cx) else {
        return skip(STATIC);
    };
    let Some(monitoring) = &cx.env.monitoring else {
        return skip("no monitoring is declared");
    };
    let env = &cx.env.name.value;
    let mut evidence = Vec::new();
    let mut failing = Vec::new();
    let mut first_failing_span = None;
    let mut skipped = 0;
    for check in &monitoring.checks {
        let Some(o) = live.check(env, &check.name.value) else {
            continue;
        };
        match o.status {
            Observed::Fail => {
                failing.push(format!("{} ({})", check.name.value, o.summary));
                first_failing_span.get_or_insert(check.span);
            }
            Observed::Skip => skipped += 1,
            Observed::Pass => {}
        }
        evidence.push(o.clone());
    }
    let ran = evidence.len() - skipped;
    if ran == 0 {
        return skip(if monitoring.checks.is_empty() {
            "monitoring declares no checks"
        } else {
            "every check is a heartbeat, which only `stagegate serve` can observe"
        });
    }
    let skipped_note = if skipped > 0 {
        format!(
            " ({skipped} heartbeat{} observed only by the server)",
            if skipped == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    if failing.is_empty() {
        observed(
            true,
            format!("all {ran} checks pass now{skipped_note}"),
            Some(monitoring.span),
            evidence,
        )
    } else {
        observed(
            false,
            format!(
                "{} of {ran} checks fail now: {}",
                failing.len(),
                failing.join("; ")
            ),
            first_failing_span,
            evidence,
        )
    }
}

fn backup_fresh(cx: &Ctx<'_>) -> Outcome {
    let Some(live) = live(cx) else {
        return skip(STATIC);
    };
    let observations = live.backups(&cx.env.name.value);
    let source = cx.env.backup.as_ref().and_then(|b| b.source.as_ref());
    if observations.is_empty() {
        return skip(if source.is_some() {
            "the backup source was not probed"
        } else {
            "the backup declares no `source` to read snapshots from, and no `restic` check watches it"
        });
    }
    let span = source
        .map(|s| s.span)
        .or_else(|| cx.env.backup.as_ref().map(|b| b.span));
    let failing: Vec<&str> = observations
        .iter()
        .filter(|o| o.status == Observed::Fail)
        .map(|o| o.summary.as_str())
        .collect();
    let evidence = observations.to_vec();
    if failing.is_empty() {
        let summaries: Vec<&str> = observations.iter().map(|o| o.summary.as_str()).collect();
        observed(true, summaries.join("; "), span, evidence)
    } else {
        observed(false, failing.join("; "), span, evidence)
    }
}

fn exposure(cx: &Ctx<'_>) -> Outcome {
    let Some(live) = live(cx) else {
        return skip(STATIC);
    };
    let scans = live.exposure(&cx.env.name.value);
    let answering = |server: &str| {
        scans
            .iter()
            .find(|s| {
                s.server == server
                    || cx
                        .env
                        .server(server)
                        .and_then(|d| d.host.as_ref())
                        .is_some_and(|h| h.raw() == s.server)
            })
            .map(|s| (s.open.clone(), s.tested.clone()))
    };
    let inside = super::agent::listening(cx, &answering);
    if scans.is_empty() && inside.is_none() {
        return skip("no server declares a `host` to scan");
    }
    let public: Vec<u16> = cx
        .env
        .security
        .as_ref()
        .map(|s| s.public_ports.iter().map(|p| p.value).collect())
        .unwrap_or_default();
    let mut problems: Vec<String> = scans
        .iter()
        .filter(|s| s.observation.status == Observed::Fail)
        .map(|s| s.observation.summary.clone())
        .collect();
    let silent: Vec<String> = public
        .iter()
        .filter(|p| !scans.iter().any(|s| s.open.contains(p)))
        .map(u16::to_string)
        .collect();
    let (inside_problems, notes, inside_evidence) = inside.unwrap_or_default();
    problems.extend(inside_problems);
    if !silent.is_empty() && !scans.is_empty() {
        problems.push(format!(
            "declared public port{} {} answer{} on no server",
            if silent.len() == 1 { "" } else { "s" },
            list(&silent),
            if silent.len() == 1 { "s" } else { "" }
        ));
    }
    let span = cx
        .env
        .security
        .as_ref()
        .map(|s| s.span)
        .or_else(|| cx.env.servers.first().map(|s| s.span));
    let mut evidence: Vec<Observation> = scans.iter().map(|s| s.observation.clone()).collect();
    let from_agents = inside_evidence.len();
    evidence.extend(inside_evidence);
    if problems.is_empty() {
        let n = scans.len();
        let mut message = if n > 0 {
            format!(
                "{n} server{} scanned: only declared public ports answer",
                if n == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "{from_agents} server{} report only declared listening ports",
                if from_agents == 1 { "" } else { "s" }
            )
        };
        if !notes.is_empty() {
            message.push_str("; ");
            message.push_str(&notes.join("; "));
        }
        observed(true, message, span, evidence)
    } else {
        observed(false, problems.join("; "), span, evidence)
    }
}

fn tls(cx: &Ctx<'_>) -> Outcome {
    let Some(live) = live(cx) else {
        return skip(STATIC);
    };
    let has_tls_checks = cx.env.monitoring.iter().flat_map(|m| &m.checks).any(|c| {
        c.kind.value == CheckKind::Tls
            || (c.kind.value == CheckKind::Http
                && c.url
                    .as_ref()
                    .is_some_and(|u| u.raw().starts_with("https://")))
    });
    let certs = live.certificates(&cx.env.name.value);
    if !has_tls_checks || certs.is_empty() {
        return skip("no https or tls check is declared");
    }
    let mut problems = Vec::new();
    let mut unreachable = Vec::new();
    let mut good = 0;
    let mut evidence = Vec::new();
    for c in certs {
        let mut details = vec![("host".to_owned(), c.host.clone())];
        let (status, summary) = match &c.presented {
            Some(p) => {
                details.push(("subject".to_owned(), p.subject.clone()));
                details.push(("not_after".to_owned(), p.not_after.clone()));
                details.push(("days_left".to_owned(), p.days_left.to_string()));
                let mut bad = Vec::new();
                if let Some(e) = &p.verify_error {
                    bad.push(e.clone());
                }
                if let Some(min) = c.min_days.filter(|min| p.days_left < *min) {
                    bad.push(format!(
                        "it expires in {} days, on {} (cert_valid_for requires {min})",
                        p.days_left, p.not_after
                    ));
                }
                if bad.is_empty() {
                    good += 1;
                    (
                        Observed::Pass,
                        format!(
                            "certificate of {} valid until {} ({} days)",
                            c.host, p.not_after, p.days_left
                        ),
                    )
                } else {
                    let text = bad.join("; ");
                    problems.push(format!("{} ({}): {text}", c.check, c.host));
                    (Observed::Fail, format!("certificate of {}: {text}", c.host))
                }
            }
            None => {
                let why = c.unreachable.clone().unwrap_or_default();
                unreachable.push(c.check.clone());
                details.push(("not_inspected".to_owned(), why.clone()));
                (
                    Observed::Skip,
                    format!("certificate of {} not inspected: {why}", c.host),
                )
            }
        };
        evidence.push(Observation {
            subject: format!("check {}", c.check),
            status,
            summary,
            details,
            source: c.source.clone(),
            at: c.at,
        });
    }
    let span = cx.env.monitoring.as_ref().map(|m| m.span);
    let unreachable_note = if unreachable.is_empty() {
        String::new()
    } else {
        format!("; not inspected (unreachable): {}", list(&unreachable))
    };
    if !problems.is_empty() {
        observed(
            false,
            format!("{}{unreachable_note}", problems.join("; ")),
            span,
            evidence,
        )
    } else if good == 0 {
        observed(
            false,
            format!("no certificate could be inspected{unreachable_note}"),
            span,
            evidence,
        )
    } else {
        observed(
            true,
            format!(
                "{good} certificate{} valid and not expiring soon{unreachable_note}",
                if good == 1 { "" } else { "s" }
            ),
            span,
            evidence,
        )
    }
}
