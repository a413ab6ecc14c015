//! The monitoring system and the observability platform.

use stagegate_spec::{Covers, Mode, Monitoring, Role};

use super::{MONITORS, fail, list, pass, skip};
use crate::context::Ctx;
use crate::rule::{Applies, Area, Outcome, Rule};

fn with_monitoring(cx: &Ctx<'_>, f: impl FnOnce(&Monitoring) -> Outcome) -> Outcome {
    match &cx.env.monitoring {
        Some(m) => f(m),
        None => skip("no monitoring is declared"),
    }
}

pub(super) const REQUIRED: Rule = Rule {
    id: "SG-MON-REQUIRED",
    title: "A monitoring system watches the environment",
    area: Area::Monitoring,
    applies: Applies::SOFT_PROD,
    condition: Some("in soft launch, when `product.availability_target` is set"),
    requirement: "monitoring with at least one check",
    guideline: &[
        "Monitoring (required)",
        "Monitoring (depending on system availability requirements)",
    ],
    rationale: "An availability target nobody measures is a wish; outages are found by users instead of operators.",
    remediation: "Declare `[environments.ENV.monitoring]` with `notify` and at least one check.",
    example: "[environments.production.monitoring]\nnotify = [\"ops\"]\n\n[[environments.production.monitoring.checks]]\nname = \"api-health\"\ncovers = \"core\"\nkind = \"http\"\nurl = \"https://shop.example.com/healthz\"",
    live: false,
    check: |cx| {
        if cx.mode == Mode::SoftLaunch && cx.spec.product.availability_target.is_none() {
            return skip("the product sets no availability target");
        }
        match &cx.env.monitoring {
            Some(m) if !m.checks.is_empty() => pass(
                format!(
                    "{} monitoring check{}",
                    m.checks.len(),
                    if m.checks.len() == 1 { "" } else { "s" }
                ),
                m.span,
            ),
            Some(m) => fail("monitoring is declared but has no checks", m.span),
            None => match (cx.mode, &cx.spec.product.availability_target) {
                (Mode::SoftLaunch, Some(t)) => fail(
                    format!(
                        "no monitoring is declared, but the product targets {}% availability",
                        t.value
                    ),
                    cx.env.span,
                ),
                _ => fail(
                    "no monitoring is declared: production requires it",
                    cx.env.span,
                ),
            },
        }
    },
};

pub(super) const COVERAGE: Rule = Rule {
    id: "SG-MON-COVERAGE",
    title: "Monitoring covers the core system, every database and the backup",
    area: Area::Monitoring,
    applies: Applies::SOFT_PROD,
    condition: Some("when monitoring exists"),
    requirement: "checks cover `core`, every `database` server (by `covers = \"database\"` or its name) and, when a backup exists, `backup`",
    guideline: &[MONITORS],
    rationale: "The guideline names the components whose failure matters; a component without a check fails silently.",
    remediation: "Add a check with `covers = \"core\"`, one covering each database (or `covers = \"database\"`), and, with a backup, a `heartbeat` or `restic` check with `covers = \"backup\"`.",
    example: "[[environments.production.monitoring.checks]]\nname = \"nightly-backup\"\ncovers = \"backup\"\nkind = \"heartbeat\"\ntoken = \"${BACKUP_PING_TOKEN}\"\ninterval = \"24h\"\ngrace = \"1h\"",
    live: false,
    check: |cx| {
        with_monitoring(cx, |m| {
            let covers = |pred: &dyn Fn(&Covers) -> bool| {
                m.checks
                    .iter()
                    .any(|c| c.covers.as_ref().is_some_and(|cv| pred(&cv.value)))
            };
            let mut missing = Vec::new();
            let core = covers(&|c| match c {
                Covers::Core => true,
                Covers::Server(name) => cx.env.server(name).is_some_and(|s| s.has_role(Role::Core)),
                _ => false,
            });
            if !core {
                missing.push("the core system".to_owned());
            }
            for db in cx.env.servers_with(Role::Database) {
                if !covers(&|c| {
                    matches!(c, Covers::Database)
                        || matches!(c, Covers::Server(n) if *n == db.name.value)
                }) {
                    missing.push(format!("database server {}", db.name.value));
                }
            }
            if cx.env.backup.is_some() && !covers(&|c| matches!(c, Covers::Backup)) {
                missing.push("the backup".to_owned());
            }
            if missing.is_empty() {
                pass(
                    "checks cover the core system, every database server and the backup where one exists",
                    m.span,
                )
            } else {
                fail(format!("no check covers {}", list(&missing)), m.span)
            }
        })
    },
};

pub(super) const NOTIFY: Rule = Rule {
    id: "SG-MON-NOTIFY",
    title: "Monitoring notifies people who can be reached",
    area: Area::Monitoring,
    applies: Applies::ANY,
    condition: Some("when monitoring exists"),
    requirement: "`notify` names at least one contact, and each of them can be reached (has an email or a notifier)",
    guideline: &[MONITORS],
    rationale: "An alert nobody receives is no alert.",
    remediation: "List contacts in `monitoring.notify` and give each an `email` or a `notify` list of notifiers.",
    example: "[contacts.ops]\nemail = \"ops@example.com\"\nnotify = [\"ops-slack\"]\n\n[environments.production.monitoring]\nnotify = [\"ops\"]",
    live: false,
    check: |cx| {
        with_monitoring(cx, |m| {
            if m.notify.is_empty() {
                return fail(
                    "monitoring notifies nobody: `notify` names no contact",
                    m.span,
                );
            }
            // A rotation is reachable when each of its members is: whoever
            // is on call when it pages must be.
            let reachable = |id: &str| match id.strip_prefix("rotation:") {
                Some(r) => cx.spec.rotation(r).is_some_and(|r| {
                    r.members
                        .iter()
                        .chain(r.overrides.iter().map(|o| &o.member))
                        .all(|m| cx.spec.contact(&m.value).is_some_and(|c| c.reachable()))
                }),
                None => cx.spec.contact(id).is_some_and(|c| c.reachable()),
            };
            let unreachable: Vec<&str> = m
                .notify
                .iter()
                .filter(|id| !reachable(&id.value))
                .map(|id| id.value.as_str())
                .collect();
            if let Some(first) = unreachable.first() {
                let span = m
                    .notify
                    .iter()
                    .find(|id| id.value == *first)
                    .map(|id| id.span);
                fail(
                    format!(
                        "contact{} {} ha{} neither an email nor a notifier",
                        if unreachable.len() == 1 { "" } else { "s" },
                        list(&unreachable),
                        if unreachable.len() == 1 { "s" } else { "ve" }
                    ),
                    span,
                )
            } else {
                let ids: Vec<&str> = m.notify.iter().map(|id| id.value.as_str()).collect();
                pass(format!("notifies {}", list(&ids)), m.span)
            }
        })
    },
};

pub(super) const OBSERVABILITY: Rule = Rule {
    id: "SG-OBS-PLATFORM",
    title: "An observability platform (nice to have)",
    area: Area::Monitoring,
    applies: Applies::STAGING_UP_REC,
    condition: None,
    requirement: "observability configured (nice to have)",
    guideline: &[
        "Observatory (nice to have but not required)",
        "A system that assists both the creative engineering team and operations/support team in observing, measuring, and fine-tuning the code, architecture, and infrastructure of the entire system.",
    ],
    rationale: "Metrics, logs and traces let engineers and operators see why the system behaves as it does, not only that it is down.",
    remediation: "Declare `[environments.ENV.observability]` with the metrics, logs and traces endpoints in use.",
    example: "[environments.production.observability]\nmetrics = \"http://prometheus.internal:9090\"\nlogs = \"https://logs.internal\"",
    live: false,
    check: |cx| match &cx.env.observability {
        Some(o) if o.is_configured() => {
            let parts: Vec<&str> = [
                ("metrics", &o.metrics),
                ("logs", &o.logs),
                ("traces", &o.traces),
            ]
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| *k)
            .collect();
            pass(format!("observability covers {}", list(&parts)), o.span)
        }
        Some(o) => fail(
            "the observability table names no metrics, logs or traces endpoint",
            o.span,
        ),
        None => fail("no observability platform is declared", cx.env.span),
    },
};
