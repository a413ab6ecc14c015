//! Promotion gates: a promotion rests on what the server observed, not
//! only on what the spec says. Judged when a promotion is asked for (the
//! API, `promote`, the dashboard) and by `plan --server`; elsewhere they
//! skip. Required when the spec has `[policy.promotion]`, recommended
//! until then (SPEC section 3: they block only what opts in).

use stagegate_spec::{CheckKind, Covers, Mode};

use super::{list, pass, skip};
use crate::context::Ctx;
use crate::rule::Outcome;
use crate::{Applies, Area, Basis, Evidence, PromotionFacts, Rule};

const STAGING: &str = "A system that works similarly to the development environment but is controlled by the partner/client. Staging is meant for internal testing and not for customer use.";
const SOFT: &str = "At this stage, most of the technology and processes are in place but targeted at a smaller audience (e.g., beta/alpha testers). Not all recommended technologies, processes, and staff may be in place.";
const PRODUCTION: &str = "At this stage, all technology, processes, and staff should be prepared to monitor and operate the system. The production launch can vary in scale, affecting the number of system instances running and the required staff to operate and monitor the environment.";

const ON_PROMOTION: &str =
    "judged when a promotion is asked for, from the server's records (`plan --server`, `promote`)";

/// The facts of this environment's promotion, or why the rule skips.
fn facts<'a>(cx: &Ctx<'a>) -> Result<&'a PromotionFacts, Outcome> {
    match cx.promotion {
        Some(f) if f.environment == cx.env.name.value && cx.mode != cx.env.mode.value => Ok(f),
        _ => Err(skip(ON_PROMOTION)),
    }
}

/// A gate that does not hold: blocking once the spec opts in with
/// `[policy.promotion]`, a recommendation until then.
fn refuse(cx: &Ctx<'_>, message: String) -> Outcome {
    let span = cx
        .spec
        .policy
        .promotion
        .as_ref()
        .map(|p| p.span)
        .or(Some(cx.env.mode.span));
    if cx.spec.policy.promotion.is_some() {
        Outcome::Fail(message, span)
    } else {
        Outcome::Recommend(
            format!("{message} (required once the spec has `[policy.promotion]`)"),
            span,
        )
    }
}

/// Cites the server's records a gate rests on.
fn cite(cx: &Ctx<'_>, f: &PromotionFacts, what: String) {
    cx.cite_record(Evidence {
        basis: Basis::Observed,
        what,
        source: f.source.clone(),
        at: Some(f.now),
        sha256: None,
        stale: false,
        observation: None,
    });
}

/// "3d 4h" for a number of seconds.
fn span_of_secs(secs: i64) -> String {
    stagegate_spec::age(secs)
}

pub(super) const SOAK: Rule = Rule {
    id: "SG-PROMO-SOAK",
    title: "The environment has run long enough in its mode",
    area: Area::Infrastructure,
    applies: Applies::SOFT_PROD,
    condition: Some(ON_PROMOTION),
    requirement: "the environment has run in its current mode at least `policy.promotion.soak.<mode>` (staging 3d, soft launch 14d by default), counted from its last recorded promotion or from when the server first saw it in that mode",
    guideline: &[STAGING, SOFT],
    rationale: "Staging exists for the client to test internally and soft launch to try the product on a smaller audience; a day in each proves neither. The soak gives both the time to find what only time finds.",
    remediation: "Let the environment run in its mode until the soak has passed, or agree a shorter `[policy.promotion.soak]`.",
    example: "[policy.promotion.soak]\nstaging = \"3d\"\nsoft-launch = \"14d\"",
    live: false,
    check: |cx| {
        let f = match facts(cx) {
            Ok(f) => f,
            Err(s) => return s,
        };
        let from = cx.env.mode.value;
        let policy = cx.spec.policy.promotion.clone().unwrap_or_default();
        let Some(soak) = policy.soak(from) else {
            return skip(format!("{} has no soak", from.label()));
        };
        let needed = i64::try_from(soak.as_secs()).unwrap_or(i64::MAX);
        let Some(since) = f.in_mode_since else {
            return refuse(
                cx,
                format!(
                    "the server has no record of {} in {}: it must watch it for {soak} first",
                    cx.env.name.value,
                    from.label()
                ),
            );
        };
        cite(
            cx,
            f,
            format!(
                "{} in {} since {}",
                cx.env.name.value,
                from.label(),
                f.in_mode_since_from
            ),
        );
        let ran = f.now - since;
        if ran >= needed {
            pass(
                format!(
                    "in {} for {} ({}), at least the soak of {soak}",
                    from.label(),
                    span_of_secs(ran),
                    f.in_mode_since_from
                ),
                None,
            )
        } else {
            refuse(
                cx,
                format!(
                    "in {} for {} of the {soak} soak ({}): {} to go, until {}",
                    from.label(),
                    span_of_secs(ran),
                    f.in_mode_since_from,
                    span_of_secs(needed - ran),
                    stagegate_spec::rfc3339(since + needed)
                ),
            )
        }
    },
};

pub(super) const SLO: Rule = Rule {
    id: "SG-PROMO-SLO",
    title: "Measured availability meets the target",
    area: Area::Monitoring,
    applies: Applies::SOFT_PROD,
    condition: Some(
        "judged on promotion; to soft launch only when `product.availability_target` is set",
    ),
    requirement: "the measured availability of the checks covering `core` over the soak window (at least the last 24 h) is at least `product.availability_target`; the finding states the measured figure, the target and the error budget used",
    guideline: &[PRODUCTION, SOFT],
    rationale: "An availability target written in the spec is a wish until the monitors have measured it; promoting an environment that has not met it in soft launch promises the wider audience what the smaller one did not get.",
    remediation: "Find and fix what took the core down (the incidents page lists every outage), then let it run until the measured availability is back at the target.",
    example: "[product]\navailability_target = 99.9\n\n[[environments.beta.monitoring.checks]]\nname = \"api\"\ncovers = \"core\"\nkind = \"http\"\nurl = \"https://beta.example.com/healthz\"",
    live: false,
    check: |cx| {
        let f = match facts(cx) {
            Ok(f) => f,
            Err(s) => return s,
        };
        let Some(target) = cx
            .spec
            .product
            .availability_target
            .as_ref()
            .map(|t| t.value)
        else {
            return if cx.mode == Mode::Production {
                refuse(
                    cx,
                    "no `product.availability_target` to measure against".to_owned(),
                )
            } else {
                skip("no `product.availability_target` is set")
            };
        };
        let core: Vec<&str> = cx
            .env
            .monitoring
            .iter()
            .flat_map(|m| &m.checks)
            .filter(|c| {
                c.kind.value != CheckKind::Heartbeat
                    && c.covers.as_ref().is_some_and(|cv| cv.value == Covers::Core)
            })
            .map(|c| c.name.value.as_str())
            .collect();
        if core.is_empty() {
            return refuse(
                cx,
                "no check covers `core`, so nothing measures availability".to_owned(),
            );
        }
        let Some(a) = &f.availability else {
            return refuse(
                cx,
                "the server has no results of the core checks yet".to_owned(),
            );
        };
        let measured = a.percent(f.now);
        let window = f.now - a.from;
        let budget = (100.0 - target) / 100.0 * window as f64;
        let used = if budget > 0.0 {
            100.0 * a.down_secs as f64 / budget
        } else if a.down_secs > 0 {
            f64::INFINITY
        } else {
            0.0
        };
        cite(
            cx,
            f,
            format!(
                "availability of {} over {}",
                list(&a.checks),
                span_of_secs(window)
            ),
        );
        let figures = format!(
            "measured {measured:.3}% over {} of {} (target {target}%), error budget used {}",
            span_of_secs(window),
            list(&a.checks),
            if used.is_finite() {
                format!("{used:.0}%")
            } else {
                "entirely".to_owned()
            }
        );
        if measured >= target {
            pass(figures, None)
        } else {
            refuse(
                cx,
                format!(
                    "{figures}: down {} in the window",
                    span_of_secs(a.down_secs)
                ),
            )
        }
    },
};

pub(super) const INCIDENTS: Rule = Rule {
    id: "SG-PROMO-INCIDENTS",
    title: "No incident is open",
    area: Area::Monitoring,
    applies: Applies::SOFT_PROD,
    condition: Some(ON_PROMOTION),
    requirement: "no incident on the environment is open (or acknowledged and not yet resolved)",
    guideline: &[PRODUCTION],
    rationale: "A promotion widens the audience of whatever is broken right now; fix first, then promote.",
    remediation: "Resolve the open incidents (the incidents page and `GET /api/v1/incidents` list them), then promote.",
    example: "# required once the spec opts into the promotion gates:\n[policy.promotion]",
    live: false,
    check: |cx| {
        let f = match facts(cx) {
            Ok(f) => f,
            Err(s) => return s,
        };
        cite(cx, f, format!("incidents of {}", cx.env.name.value));
        if f.open_incidents.is_empty() {
            pass("no incident is open", None)
        } else {
            refuse(
                cx,
                format!(
                    "{} incident{} open: {}",
                    f.open_incidents.len(),
                    if f.open_incidents.len() == 1 {
                        " is"
                    } else {
                        "s are"
                    },
                    f.open_incidents.join("; ")
                ),
            )
        }
    },
};

pub(super) const BACKUP_RUNS: Rule = Rule {
    id: "SG-PROMO-BACKUP-RUNS",
    title: "Backups have run and a restore has been shown",
    area: Area::Backup,
    applies: Applies::PROD,
    condition: Some("judged on promotion, when a backup exists"),
    requirement: "the backup's heartbeat reported success for each of the last `policy.promotion.backup_runs` (default 3) runs, and a restore drill succeeded within `backup.drill.every`",
    guideline: &[
        "A dedicated solution or server located in a different physical location than the production environment for safety concerns. It takes snapshots of system data for backup purposes. Note that backup systems do not provide 100% data coverage as backups are processed and transferred in intervals.",
        "Backup (required)",
    ],
    rationale: "A backup declared in the spec but never seen running, or never restored, protects nothing; production is where it will be needed.",
    remediation: "Add a heartbeat check covering `backup` that the backup job pings, let it run successfully, and run `stagegate drill ENV`.",
    example: "[[environments.production.monitoring.checks]]\nname = \"nightly-backup\"\ncovers = \"backup\"\nkind = \"heartbeat\"\ntoken = \"${BACKUP_PING_TOKEN}\"\ncron = \"0 3 * * *\"",
    live: false,
    check: |cx| {
        let f = match facts(cx) {
            Ok(f) => f,
            Err(s) => return s,
        };
        let Some(backup) = &cx.env.backup else {
            return skip("no backup is declared");
        };
        let needed = cx
            .spec
            .policy
            .promotion
            .as_ref()
            .map_or(3, |p| p.backup_runs) as usize;
        let mut problems = Vec::new();
        match &f.backup_runs {
            None => problems.push(
                "no heartbeat check covers `backup`, so no backup run has been seen".to_owned(),
            ),
            Some(runs) => {
                cite(cx, f, format!("runs of {}", runs.check));
                let last: Vec<&(i64, bool)> = runs.runs.iter().take(needed).collect();
                let failed: Vec<String> = last
                    .iter()
                    .filter(|(_, ok)| !ok)
                    .map(|(at, _)| stagegate_spec::rfc3339(*at))
                    .collect();
                if last.len() < needed {
                    problems.push(format!(
                        "{} reported {} of the {needed} runs needed",
                        runs.check,
                        last.len()
                    ));
                }
                if !failed.is_empty() {
                    problems.push(format!(
                        "{} reported failed runs at {}",
                        runs.check,
                        list(&failed)
                    ));
                }
            }
        }
        match &backup.drill {
            None => problems.push("no restore drill is declared (`[backup.drill]`)".to_owned()),
            Some(drill) => {
                if let Some(p) = super::backup::drill_problem(cx, drill) {
                    problems.push(format!("restore drill: {p}"));
                }
            }
        }
        if problems.is_empty() {
            pass(
                format!(
                    "the last {needed} backup runs succeeded and the last restore drill passed"
                ),
                None,
            )
        } else {
            refuse(cx, problems.join("; "))
        }
    },
};

pub(super) const SIGNOFF: Rule = Rule {
    id: "SG-PROMO-SIGNOFF",
    title: "The client signed off the soft launch",
    area: Area::ProcessesAndStaff,
    applies: Applies::SOFT,
    condition: Some("judged on promotion from staging"),
    requirement: "a contact with `signs_off = true` approved this promotion (an approval for soft launch of this spec, not expired)",
    guideline: &[STAGING, SOFT],
    rationale: "Staging is the client's: it is their internal test that says the product may meet real users. A soft launch without their word is a launch they did not agree to.",
    remediation: "Mark the client's contact with `signs_off = true` and have them approve (`stagegate approve ENV --to soft-launch`, or the dashboard's approve button).",
    example: "[contacts.client]\nemail = \"cto@client.example\"\nsigns_off = true",
    live: false,
    check: |cx| {
        let f = match facts(cx) {
            Ok(f) => f,
            Err(s) => return s,
        };
        if cx.env.mode.value != Mode::Staging {
            return skip("signed off only when promoting from staging");
        }
        let signers: Vec<&stagegate_spec::Contact> =
            cx.spec.contacts.iter().filter(|c| c.signs_off).collect();
        if signers.is_empty() {
            return refuse(cx, "no contact has `signs_off = true`".to_owned());
        }
        cite(cx, f, format!("approvals of {}", cx.env.name.value));
        let to = cx.mode.as_str();
        let mut problems = Vec::new();
        for a in &f.approvals {
            if !signers.iter().any(|c| c.is(&a.by)) {
                continue;
            }
            match a.problem(to, &f.spec_sha256, f.now) {
                None => {
                    return pass(
                        format!(
                            "signed off by {} at {} (approval #{})",
                            a.by,
                            stagegate_spec::rfc3339(a.at),
                            a.id
                        ),
                        None,
                    );
                }
                Some(p) => problems.push(p),
            }
        }
        let names: Vec<&str> = signers.iter().map(|c| c.id.value.as_str()).collect();
        let mut message = format!("{} has not approved this promotion", list(&names));
        if !problems.is_empty() {
            message.push_str(&format!(": {}", problems.join("; ")));
        }
        refuse(cx, message)
    },
};

pub(super) const APPROVAL: Rule = Rule {
    id: "SG-PROMO-APPROVAL",
    title: "Others approved the production launch",
    area: Area::ProcessesAndStaff,
    applies: Applies::PROD,
    condition: Some(ON_PROMOTION),
    requirement: "`policy.promotion.approvals` (default 1) approvals for production of this spec, not expired, by identities other than the one promoting",
    guideline: &[PRODUCTION],
    rationale: "Four eyes: whoever promotes to production should not be the only one who decided it is ready.",
    remediation: "Ask an approver to approve (`stagegate approve ENV --to production`, or the dashboard) before promoting.",
    example: "[policy.promotion]\napprovals = 1",
    live: false,
    check: |cx| {
        let f = match facts(cx) {
            Ok(f) => f,
            Err(s) => return s,
        };
        let needed = cx.spec.policy.promotion.as_ref().map_or(1, |p| p.approvals) as usize;
        if needed == 0 {
            return pass("`policy.promotion.approvals` is 0", None);
        }
        cite(cx, f, format!("approvals of {}", cx.env.name.value));
        let to = cx.mode.as_str();
        let mut valid: Vec<&str> = Vec::new();
        let mut problems = Vec::new();
        for a in &f.approvals {
            if f.promoter
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(&a.by))
            {
                problems.push(format!("{} cannot approve their own promotion", a.by));
                continue;
            }
            match a.problem(to, &f.spec_sha256, f.now) {
                None if !valid.contains(&a.by.as_str()) => valid.push(&a.by),
                None => {}
                Some(p) => problems.push(p),
            }
        }
        if valid.len() >= needed {
            pass(format!("approved by {}", list(&valid)), None)
        } else {
            let mut message = format!(
                "{} of {needed} approval{} by others than the one promoting",
                valid.len(),
                if needed == 1 { "" } else { "s" }
            );
            if !problems.is_empty() {
                message.push_str(&format!(": {}", problems.join("; ")));
            }
            refuse(cx, message)
        }
    },
};

pub(super) const FREEZE: Rule = Rule {
    id: "SG-PROMO-FREEZE",
    title: "No freeze window is in force",
    area: Area::ProcessesAndStaff,
    applies: Applies::ANY,
    condition: Some(ON_PROMOTION),
    requirement: "now is outside every `[[freeze]]` window that covers the environment",
    guideline: &[PRODUCTION],
    rationale: "A freeze (a holiday, a sales peak) is a promise that nothing changes while fewer people can react; a promotion then breaks it.",
    remediation: "Promote after the window ends, or change the `[[freeze]]` with those who declared it.",
    example: "[[freeze]]\nstart = \"2026-12-20 00:00\"\nend = \"2027-01-04 00:00\"\ntimezone = \"Europe/Berlin\"\nreason = \"Holidays: minimal staff\"",
    live: false,
    check: |cx| {
        let f = match facts(cx) {
            Ok(f) => f,
            Err(s) => return s,
        };
        let env = &cx.env.name.value;
        match cx
            .spec
            .freezes
            .iter()
            .find(|w| w.covers(env) && w.from <= f.now && f.now < w.until)
        {
            Some(w) => {
                let message = format!(
                    "a freeze is in force from {} to {} ({}): {}",
                    w.start.value, w.end.value, w.timezone.value, w.reason
                );
                if cx.spec.policy.promotion.is_some() {
                    Outcome::Fail(message, Some(w.span))
                } else {
                    Outcome::Recommend(
                        format!("{message} (required once the spec has `[policy.promotion]`)"),
                        Some(w.span),
                    )
                }
            }
            None => pass("no freeze window is in force", None),
        }
    },
};
