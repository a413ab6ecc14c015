//! Processes and staff: duties, runbooks, the support agreement, on-call.

use stagegate_spec::{Runbook, Runbooks};

use super::{fail, list, pass};
use crate::context::Ctx;
use crate::rule::{Applies, Area, Outcome, Rule};

const AGREEMENT_SENTENCE: &str = "Even if the system is fully operational and automated, there must be procedures and agreements between the supporting party and business owners on how to react in various scenarios.";

pub(super) const DUTIES: Rule = Rule {
    id: "SG-OPS-DUTIES",
    title: "Day-to-day operations duties have owners",
    area: Area::ProcessesAndStaff,
    applies: Applies::SOFT_REC_PROD,
    condition: None,
    requirement: "log monitoring, security updates and (when a backup exists) backup monitoring each have an owner; a duty with a duty heartbeat (`duty = ...`) is done only while that heartbeat is up (observed by the server)",
    guideline: &[
        "Depending on the desired rollout, various processes and staff members are needed to operate the environment.",
        "Log monitoring",
        "Backup monitoring",
        "Server and system security updates",
    ],
    rationale: "Duties everybody shares are done by nobody: logs go unread, failed backups unnoticed, patches unapplied.",
    remediation: "Name a contact for each duty in `[environments.ENV.operations]`.",
    example: "[environments.production.operations]\nlog_monitoring = \"ops\"\nbackup_monitoring = \"ops\"\nsecurity_updates = \"ops\"",
    live: false,
    check: |cx| {
        let ops = cx.env.operations.as_ref();
        let mut duties = vec![
            (
                "log monitoring",
                ops.and_then(|o| o.log_monitoring.as_ref()),
            ),
            (
                "security updates",
                ops.and_then(|o| o.security_updates.as_ref()),
            ),
        ];
        if cx.env.backup.is_some() {
            duties.push((
                "backup monitoring",
                ops.and_then(|o| o.backup_monitoring.as_ref()),
            ));
        }
        let missing: Vec<&str> = duties
            .iter()
            .filter(|(_, o)| o.is_none())
            .map(|(d, _)| *d)
            .collect();
        let span = ops.map_or(cx.env.span, |o| o.span);
        if !missing.is_empty() {
            return fail(format!("no owner for {}", list(&missing)), span);
        }
        let owned: Vec<String> = duties
            .iter()
            .filter_map(|(d, o)| o.map(|o| format!("{d} by {}", o.value)))
            .collect();
        match done(cx) {
            Some((late, evidence)) => Outcome::Observed {
                passed: late.is_empty(),
                message: if late.is_empty() {
                    format!(
                        "owned: {}; done in time: {}",
                        list(&owned),
                        list(
                            &evidence
                                .iter()
                                .map(|e| e.subject.clone())
                                .collect::<Vec<_>>()
                        )
                    )
                } else {
                    format!("not done in time: {}", late.join("; "))
                },
                span: Some(span),
                evidence,
            },
            None => pass(format!("owned: {}", list(&owned)), span),
        }
    },
};

/// The duty heartbeats of the environment as the server saw them: those
/// not done in time, and the observations. `None` without duty heartbeats
/// or without what the server observed.
fn done(cx: &Ctx<'_>) -> Option<(Vec<String>, Vec<crate::Observation>)> {
    let live = cx.live?;
    let mut late = Vec::new();
    let mut evidence = Vec::new();
    for check in cx.env.monitoring.iter().flat_map(|m| &m.checks) {
        let Some(duty) = &check.duty else { continue };
        let label = duty.value.label();
        match live.check(&cx.env.name.value, &check.name.value) {
            Some(o) => {
                if o.status != crate::Observed::Pass {
                    late.push(format!("{label} ({}: {})", check.name.value, o.summary));
                }
                evidence.push(crate::Observation {
                    subject: label.to_owned(),
                    ..o.clone()
                });
            }
            None => late.push(format!("{label} (never signalled done)")),
        }
    }
    (!evidence.is_empty() || !late.is_empty()).then_some((late, evidence))
}

/// Problems with one runbook: not declared, or not a usable file.
pub(super) fn runbook_problem(
    cx: &Ctx<'_>,
    runbooks: Option<&Runbooks>,
    which: Runbook,
) -> Option<String> {
    match runbooks.and_then(|r| r.get(which)) {
        None => Some(format!("{which} (not declared)")),
        Some(path) => cx
            .document(&format!("runbook {which}"), &path.value)
            .problem(&path.value)
            .map(|p| format!("{which} ({p})")),
    }
}

pub(super) const RUNBOOKS: Rule = Rule {
    id: "SG-OPS-RUNBOOKS",
    title: "Runbooks exist for every failure scenario",
    area: Area::ProcessesAndStaff,
    applies: Applies::SOFT_REC_PROD,
    condition: None,
    requirement: "runbooks for unavailability, failure, hardware-swap, data-corruption, attack-mitigation and (when a backup exists) backup-restore, each an existing non-empty file",
    guideline: &[
        AGREEMENT_SENTENCE,
        "System unavailability",
        "System failure/error",
        "Infrastructure failure (backup restore procedures, hardware swap procedures)",
        "Data corruption",
        "Mitigation of system attacks (e.g., unauthorized access attempts, system slowdowns, or malicious use)",
    ],
    rationale: "At 3 a.m. during an outage nobody invents a good procedure; the one written and agreed beforehand is the one that works.",
    remediation: "Write a runbook per scenario (who decides, who is told, the exact steps) and list it under `[environments.ENV.runbooks]`; `stagegate init runbooks ENV` drafts them from the spec, and each counts once completed and its template line deleted.",
    example: "[environments.production.runbooks]\nunavailability = \"runbooks/unavailability.md\"\nfailure = \"runbooks/failure.md\"\nbackup-restore = \"runbooks/backup-restore.md\"\nhardware-swap = \"runbooks/hardware-swap.md\"\ndata-corruption = \"runbooks/data-corruption.md\"\nattack-mitigation = \"runbooks/attack-mitigation.md\"",
    live: false,
    check: |cx| {
        let runbooks = cx.env.runbooks.as_ref();
        let mut needed = vec![
            Runbook::Unavailability,
            Runbook::Failure,
            Runbook::HardwareSwap,
            Runbook::DataCorruption,
            Runbook::AttackMitigation,
        ];
        if cx.env.backup.is_some() {
            needed.push(Runbook::BackupRestore);
        }
        let problems: Vec<String> = needed
            .iter()
            .filter_map(|w| runbook_problem(cx, runbooks, *w))
            .collect();
        let span = runbooks.map_or(cx.env.span, |r| r.span);
        if problems.is_empty() {
            pass(format!("{} runbooks present", needed.len()), span)
        } else {
            fail(
                format!("runbooks missing or unusable: {}", list(&problems)),
                span,
            )
        }
    },
};

pub(super) const BREACH: Rule = Rule {
    id: "SG-OPS-BREACH",
    title: "A security breach runbook exists",
    area: Area::ProcessesAndStaff,
    applies: Applies::SOFT_PROD,
    condition: None,
    requirement: "a security-breach runbook, an existing non-empty file",
    guideline: &[
        "Security Breach: Addressing security breaches is crucial to maintain system integrity.",
    ],
    rationale: "A breach has deadlines (containment, evidence, legal notification) that cannot be met by improvising.",
    remediation: "Write a security breach runbook and set `runbooks.security-breach` to its path.",
    example: "[environments.production.runbooks]\nsecurity-breach = \"runbooks/security-breach.md\"",
    live: false,
    check: |cx| {
        let runbooks = cx.env.runbooks.as_ref();
        let span = runbooks
            .and_then(|r| r.get(Runbook::SecurityBreach))
            .map_or(cx.env.span, |p| p.span);
        match runbook_problem(cx, runbooks, Runbook::SecurityBreach) {
            None => pass("security breach runbook present", span),
            Some(p) => fail(format!("no usable security breach runbook: {p}"), span),
        }
    },
};

pub(super) const AGREEMENT: Rule = Rule {
    id: "SG-OPS-AGREEMENT",
    title: "Supporting party and business owner have an agreement",
    area: Area::ProcessesAndStaff,
    applies: Applies::PROD,
    condition: None,
    requirement: "`operations.agreement` is an existing non-empty file",
    guideline: &[AGREEMENT_SENTENCE],
    rationale: "Who pays for a night call, how fast someone must react and who may decide to restore from backup must be settled before the incident.",
    remediation: "Write down the support agreement (reaction times, escalation, decisions) and set `operations.agreement` to its path.",
    example: "[environments.production.operations]\nagreement = \"docs/support-agreement.md\"",
    live: false,
    check: |cx| {
        let agreement = cx
            .env
            .operations
            .as_ref()
            .and_then(|o| o.agreement.as_ref());
        match agreement {
            None => fail(
                "no support agreement is declared (`operations.agreement`)",
                cx.env.operations.as_ref().map_or(cx.env.span, |o| o.span),
            ),
            Some(path) => match cx
                .document("support agreement", &path.value)
                .problem(&path.value)
            {
                None => pass(format!("support agreement {}", path.value), path.span),
                Some(p) => fail(format!("support agreement unusable: {p}"), path.span),
            },
        }
    },
};

pub(super) const STAFF: Rule = Rule {
    id: "SG-OPS-STAFF",
    title: "Staff are on call",
    area: Area::ProcessesAndStaff,
    applies: Applies::SOFT_REC_PROD,
    condition: None,
    requirement: "at least one contact with `on_call = true`, or an on-call rotation (`[rotations.ID]`) of at least two members",
    guideline: &[
        "At this stage, all technology, processes, and staff should be prepared to monitor and operate the system.",
    ],
    rationale: "Monitoring that pages nobody outside office hours leaves the system unattended most of the week.",
    remediation: "Mark the contacts who take on-call duty with `on_call = true`, or declare a rotation of two or more of them and page it with `notify = [\"rotation:ID\"]`.",
    example: "[contacts.ops]\nname = \"Ops on-call\"\nemail = \"ops@example.com\"\non_call = true",
    live: false,
    check: |cx| {
        let on_call: Vec<&str> = cx
            .spec
            .contacts
            .iter()
            .filter(|c| c.on_call)
            .map(|c| c.id.value.as_str())
            .collect();
        // One person cannot be on call around the clock; a rotation counts
        // once two share it.
        if let Some(r) = cx.spec.rotations.iter().find(|r| r.members.len() >= 2) {
            let members: Vec<&str> = r.members.iter().map(|m| m.value.as_str()).collect();
            return pass(
                format!(
                    "rotation {} takes {} shifts among {}",
                    r.id.value,
                    r.shift.value,
                    list(&members)
                ),
                r.span,
            );
        }
        if on_call.is_empty()
            && let Some(r) = cx.spec.rotations.first()
        {
            return fail(
                format!(
                    "rotation {} has a single member; a rotation needs at least two to cover leave and sleep",
                    r.id.value
                ),
                r.span,
            );
        }
        if on_call.is_empty() {
            fail(
                if cx.spec.contacts.is_empty() {
                    "no contacts are declared, so nobody is on call"
                } else {
                    "no contact is on call (`on_call = true`)"
                },
                cx.spec.contacts.first().map_or(cx.env.span, |c| c.span),
            )
        } else {
            let first = cx.spec.contacts.iter().find(|c| c.on_call).map(|c| c.span);
            pass(format!("on call: {}", list(&on_call)), first)
        }
    },
};
