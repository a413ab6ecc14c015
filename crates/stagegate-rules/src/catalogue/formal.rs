//! Rules the formal requirements imply once a product declares the framework
//! they come from. Each applies only to products that opt in (declare the
//! framework), so they may block; nothing changes for anyone else.

use stagegate_spec::{AccessibilityStandard, Audience, CheckKind, Framework, Runbook};

use super::operations::runbook_problem;
use super::{fail, list, pass, skip};
use crate::CriterionResult;
use crate::context::Ctx;
use crate::front_matter::FrontMatter;
use crate::rule::{Applies, Area, Outcome, Rule};

const FORMAL: &str = "Some systems need to comply with specific formal and legal requirements, which must be considered when designing the production environment.";
const INDUSTRY: &str = "Industry-specific standards: For example, healthcare systems might need to comply with HIPAA, financial institutions with PCI DSS, and government agencies with FISMA.";
const PRIVACY: &str = "Data privacy regulations: GDPR, CCPA, and HIPAA are examples of regulations that govern the collection, storage, and use of personal data.";
const ACCESSIBILITY: &str = "Accessibility standards: WCAG (Web Content Accessibility Guidelines) and Section 508 of the Rehabilitation Act are examples of accessibility standards that require websites and applications to be usable by people with disabilities.";
const SECURITY_REGS: &str = "Security regulations: Regulations like NIST 800-171 and ISO 27001 provide frameworks for implementing security measures to protect sensitive data.";

/// The declared frameworks among `any`, or a skip saying none is.
fn declared(cx: &Ctx<'_>, any: &[Framework]) -> Result<Vec<Framework>, Outcome> {
    let found: Vec<Framework> = cx
        .spec
        .product
        .frameworks
        .iter()
        .map(|f| f.value)
        .filter(|f| any.contains(f))
        .collect();
    if found.is_empty() {
        Err(skip(format!(
            "the product declares none of {} in `product.frameworks`",
            names(any)
        )))
    } else {
        Ok(found)
    }
}

fn names(frameworks: &[Framework]) -> String {
    let n: Vec<&str> = frameworks.iter().map(|f| f.as_str()).collect();
    list(&n)
}

/// "as gdpr requires", "as gdpr and pci-dss require".
fn as_required(frameworks: &[Framework]) -> String {
    let verb = if frameworks.len() == 1 {
        "requires"
    } else {
        "require"
    };
    format!("as {} {verb}", names(frameworks))
}

pub(super) const GDPR_BREACH: Rule = Rule {
    id: "SG-GDPR-BREACH",
    title: "The breach runbook commits to notifying the supervisory authority within 72 hours",
    area: Area::Compliance,
    applies: Applies::SOFT_PROD,
    condition: Some("when the product declares gdpr"),
    requirement: "the security-breach runbook is an existing file whose front matter commits to notifying the supervisory authority within 72 hours (`notifies: [supervisory-authority]`, `within: 72h` or less) and whose text names the supervisory authority (GDPR Art. 33); a commitment found only in the wording is a warning",
    guideline: &[
        FORMAL,
        PRIVACY,
        "Security Breach: Addressing security breaches is crucial to maintain system integrity.",
    ],
    rationale: "GDPR Art. 33 gives 72 hours from becoming aware of a personal data breach to notify the supervisory authority; a runbook that does not say so lets the clock run out while people find out who should call whom.",
    remediation: "Start the security-breach runbook with front matter stating the commitment (`---`, `notifies: [supervisory-authority]`, `within: 72h`, `---`), and add a step saying who notifies the supervisory authority and how.",
    example: "[environments.production.runbooks]\n# runbooks/security-breach.md begins:\n#   ---\n#   notifies: [supervisory-authority, data-subjects]\n#   within: 72h\n#   ---\n# and its Notify step says who tells the supervisory authority, and how.\nsecurity-breach = \"runbooks/security-breach.md\"",
    live: false,
    check: |cx| {
        if let Err(s) = declared(cx, &[Framework::Gdpr]) {
            return s;
        }
        let runbooks = cx.env.runbooks.as_ref();
        let Some(path) = runbooks.and_then(|r| r.get(Runbook::SecurityBreach)) else {
            return fail(
                "no security-breach runbook is declared, so nothing commits to the 72-hour notification",
                runbooks.map_or(cx.env.span, |r| r.span),
            );
        };
        if let Some(p) = runbook_problem(cx, runbooks, Runbook::SecurityBreach) {
            return fail(format!("no usable security breach runbook: {p}"), path.span);
        }
        let Some(text) = cx.document_text("runbook security-breach", &path.value) else {
            return fail(
                format!(
                    "{} could not be read as text (over 64 KiB or not UTF-8)",
                    path.value
                ),
                path.span,
            );
        };
        let front = FrontMatter::of(text);
        let lower = front.body.to_lowercase();
        let authority = lower.contains("supervisory authority");
        let deadline = ["72 hours", "72-hour", "72 h", "72h", "seventy-two hours"]
            .iter()
            .any(|d| lower.contains(d));
        let file = &path.value;
        match (front.get("notifies"), front.get("within")) {
            (None, None) => match (authority, deadline) {
                // Wording reads the same whether it promises or refuses
                // ("we will never notify ... within 72 hours").
                (true, true) => Outcome::Recommend(
                    format!(
                        "{file} names the supervisory authority and 72 hours only in its wording; state the commitment in its front matter (`notifies: [supervisory-authority]`, `within: 72h`)"
                    ),
                    Some(path.span),
                ),
                (false, true) => fail(
                    format!("{file} names a 72-hour deadline but not the supervisory authority"),
                    path.span,
                ),
                (true, false) => fail(
                    format!("{file} names the supervisory authority but not the 72-hour deadline"),
                    path.span,
                ),
                (false, false) => fail(
                    format!(
                        "{file} says nothing about notifying the supervisory authority within 72 hours"
                    ),
                    path.span,
                ),
            },
            (Some(notifies), Some(within)) => {
                let whom: Vec<&str> = FrontMatter::list(notifies);
                let within = match stagegate_spec::Duration::parse(within) {
                    Ok(d) => d,
                    Err(e) => {
                        return fail(
                            format!(
                                "{file}: front matter `within: {within}`: {e}; expected a duration such as 72h"
                            ),
                            path.span,
                        );
                    }
                };
                if !whom.contains(&"supervisory-authority") {
                    fail(
                        format!(
                            "{file}'s front matter notifies {}, not the supervisory authority (`supervisory-authority`)",
                            if whom.is_empty() {
                                "nobody".to_owned()
                            } else {
                                whom.join(", ")
                            }
                        ),
                        path.span,
                    )
                } else if within.as_secs() > 72 * 3600 {
                    fail(
                        format!(
                            "{file} commits to notifying the supervisory authority within {within}, later than the 72 hours of GDPR Art. 33"
                        ),
                        path.span,
                    )
                } else if !authority {
                    fail(
                        format!(
                            "{file}'s front matter commits to notifying the supervisory authority, but its text never says who does it or how"
                        ),
                        path.span,
                    )
                } else {
                    pass(
                        format!(
                            "{file} commits to notifying the supervisory authority within {within} (front matter), and its text says how"
                        ),
                        path.span,
                    )
                }
            }
            (Some(_), None) | (None, Some(_)) => fail(
                format!(
                    "{file}'s front matter needs both `notifies` and `within` (e.g. `notifies: [supervisory-authority]`, `within: 72h`)"
                ),
                path.span,
            ),
        }
    },
};

/// Problems with the pentest PCI DSS 11.4.2 / 11.4.3 ask for.
fn pci_pentest(cx: &Ctx<'_>, internal: bool) -> Outcome {
    if let Err(s) = declared(cx, &[Framework::PciDss]) {
        return s;
    }
    let scope = if internal { "internal" } else { "external" };
    let Some(p) = &cx.env.pentest else {
        return fail(
            format!("no penetration test is recorded, so no {scope} test within 12 months"),
            cx.env.span,
        );
    };
    let mut problems = Vec::new();
    let mut span = p.span;
    let flag = if internal { &p.internal } else { &p.external };
    if !flag.as_ref().is_some_and(|f| f.value) {
        problems.push(format!(
            "the pentest did not cover the {scope} network (`{scope} = true`)"
        ));
        if let Some(f) = flag {
            span = f.span;
        }
    }
    let age = cx.as_of.days_since(p.date.value);
    if age < 0 {
        problems.push(format!(
            "the pentest is dated {}, after the as-of date",
            p.date.value
        ));
        span = p.date.span;
    } else if age > 365 {
        problems.push(format!(
            "the pentest of {} is {age} days old; PCI DSS requires one at least once every 12 months",
            p.date.value
        ));
        span = p.date.span;
    }
    if let Some(change) = &cx.env.last_significant_change
        && change.value > p.date.value
    {
        problems.push(format!(
            "the environment changed significantly on {} (`last_significant_change`), after the pentest of {}",
            change.value, p.date.value
        ));
        span = change.span;
    }
    // The report the dates and scope come from, when it is there.
    if let Some(report) = &p.report {
        cx.document("pentest report", &report.value);
    }
    if problems.is_empty() {
        let after = cx
            .env
            .last_significant_change
            .as_ref()
            .map(|c| format!(" and after the last significant change ({})", c.value))
            .unwrap_or_default();
        pass(
            format!(
                "{scope} penetration test of {} is within 12 months{after}",
                p.date.value
            ),
            p.date.span,
        )
    } else {
        fail(list(&problems), span)
    }
}

pub(super) const PCI_PENTEST_EXTERNAL: Rule = Rule {
    id: "SG-PCI-PENTEST-EXTERNAL",
    title: "External penetration test within 12 months and after significant change (PCI DSS 11.4.3)",
    area: Area::Compliance,
    applies: Applies::SOFT_PROD,
    condition: Some("when the product declares pci-dss"),
    requirement: "a pentest with `external = true`, dated within 365 days of the as-of date and not before `last_significant_change`",
    guideline: &[
        FORMAL,
        INDUSTRY,
        "Hire an external company to perform penetration testing on the production environment to identify vulnerabilities.",
    ],
    rationale: "PCI DSS 11.4.3 fixes the interval at 12 months whatever the local policy says, and a significant change (new infrastructure, major release) resets the clock.",
    remediation: "Have the external penetration test repeated at least every 12 months and after each significant change; record it under `[environments.ENV.pentest]` and keep `last_significant_change` current.",
    example: "[environments.production]\nlast_significant_change = 2026-08-01\n\n[environments.production.pentest]\nexternal = true\ninternal = true\ndate = 2026-09-15",
    live: false,
    check: |cx| pci_pentest(cx, false),
};

pub(super) const PCI_PENTEST_INTERNAL: Rule = Rule {
    id: "SG-PCI-PENTEST-INTERNAL",
    title: "Internal penetration test within 12 months and after significant change (PCI DSS 11.4.2)",
    area: Area::Compliance,
    applies: Applies::SOFT_PROD,
    condition: Some("when the product declares pci-dss"),
    requirement: "a pentest with `internal = true`, dated within 365 days of the as-of date and not before `last_significant_change`",
    guideline: &[FORMAL, INDUSTRY],
    rationale: "PCI DSS 11.4.2 wants the inside of the perimeter tested too: an attacker who gets one foothold should find no easy path to card data.",
    remediation: "Have the penetration test cover the internal network (or commission a separate internal test) at least every 12 months and after each significant change; set `internal = true`.",
    example: "[environments.production.pentest]\nexternal = true\ninternal = true\ndate = 2026-09-15",
    live: false,
    check: |cx| pci_pentest(cx, true),
};

pub(super) const HIPAA_EMERGENCY: Rule = Rule {
    id: "SG-HIPAA-EMERGENCY",
    title: "An emergency mode operation plan exists (HIPAA 164.308(a)(7)(ii)(C))",
    area: Area::Compliance,
    applies: Applies::SOFT_PROD,
    condition: Some("when the product declares hipaa"),
    requirement: "an emergency-mode runbook, an existing non-empty file that is no longer the unedited template",
    guideline: &[FORMAL, INDUSTRY],
    rationale: "HIPAA requires procedures that keep critical business processes running, and ePHI protected, while operating in emergency mode.",
    remediation: "Write the emergency mode operation plan (what keeps working, who may access what, how ePHI stays protected) and set `runbooks.emergency-mode` to its path.",
    example: "[environments.production.runbooks]\nemergency-mode = \"runbooks/emergency-mode.md\"",
    live: false,
    check: |cx| {
        if let Err(s) = declared(cx, &[Framework::Hipaa]) {
            return s;
        }
        let runbooks = cx.env.runbooks.as_ref();
        let span = runbooks
            .and_then(|r| r.get(Runbook::EmergencyMode))
            .map_or(runbooks.map_or(cx.env.span, |r| r.span), |p| p.span);
        match runbook_problem(cx, runbooks, Runbook::EmergencyMode) {
            None => pass("emergency mode operation plan present", span),
            Some(p) => fail(
                format!("no usable emergency mode operation plan: {p}"),
                span,
            ),
        }
    },
};

pub(super) const HIPAA_CONTINGENCY: Rule = Rule {
    id: "SG-HIPAA-CONTINGENCY",
    title: "A complete contingency plan (HIPAA 164.308(a)(7))",
    area: Area::Compliance,
    applies: Applies::SOFT_PROD,
    condition: Some("when the product declares hipaa"),
    requirement: "a backup, disaster recovery runbooks (backup-restore, hardware-swap, failure), an emergency-mode runbook, and a restore drill that last succeeded within its `every`",
    guideline: &[
        FORMAL,
        INDUSTRY,
        "Infrastructure failure (backup restore procedures, hardware swap procedures)",
    ],
    rationale: "HIPAA's contingency plan is four things together: a data backup plan, a disaster recovery plan, an emergency mode operation plan, and testing them. Any one missing means ePHI may not come back.",
    remediation: "Declare the backup, write the backup-restore, hardware-swap, failure and emergency-mode runbooks, and declare a restore drill (`[environments.ENV.backup.drill]`) that `stagegate drill` runs on schedule.",
    example: "[environments.production.backup.drill]\nevery = \"90d\"\n\n[environments.production.runbooks]\nbackup-restore = \"runbooks/backup-restore.md\"\nhardware-swap = \"runbooks/hardware-swap.md\"\nfailure = \"runbooks/failure.md\"\nemergency-mode = \"runbooks/emergency-mode.md\"",
    live: false,
    check: |cx| {
        if let Err(s) = declared(cx, &[Framework::Hipaa]) {
            return s;
        }
        let mut missing = Vec::new();
        let runbooks = cx.env.runbooks.as_ref();
        match &cx.env.backup {
            None => missing.push("a backup (data backup plan)".to_owned()),
            Some(b) => match &b.drill {
                None => missing.push("a restore drill (testing: `[backup.drill]`)".to_owned()),
                Some(d) => {
                    if let Some(p) = super::backup::drill_problem(cx, d) {
                        missing.push(format!("a passing restore drill ({p})"));
                    }
                }
            },
        }
        for which in [
            Runbook::BackupRestore,
            Runbook::HardwareSwap,
            Runbook::Failure,
            Runbook::EmergencyMode,
        ] {
            if let Some(p) = runbook_problem(cx, runbooks, which) {
                missing.push(format!("runbook {p}"));
            }
        }
        let span = cx.env.backup.as_ref().map_or(cx.env.span, |b| b.span);
        if missing.is_empty() {
            pass(
                "backup, disaster recovery and emergency mode runbooks, and a passing restore drill are in place",
                span,
            )
        } else {
            fail(
                format!("the contingency plan lacks {}", list(&missing)),
                span,
            )
        }
    },
};

pub(super) const A11Y_AUDIT: Rule = Rule {
    id: "SG-A11Y-AUDIT",
    title: "A recent accessibility audit with no open issues",
    area: Area::Compliance,
    applies: Applies::SOFT_PROD,
    condition: Some(
        "when the product declares wcag or section-508, for environments whose audience is limited or public",
    ),
    requirement: "an accessibility audit against the standard the frameworks require (wcag: WCAG 2.2 AA; section-508: WCAG 2.0 AA or later), dated within `policy.accessibility_audit_max_age`, with its report file present and 0 open issues (with per-criterion `results`, SG-A11Y-CRITERIA judges the criteria instead)",
    guideline: &[FORMAL, ACCESSIBILITY],
    rationale: "Automated checkers find a third of accessibility failures at best; conformance is established by an audit, and it goes stale as the interface changes.",
    remediation: "Commission an accessibility audit (e.g. producing an ACR/VPAT), fix what it finds, and record it under `[environments.ENV.accessibility_audit]`.",
    example: "[environments.production.accessibility_audit]\nauditor = \"A11y Partners\"\nstandard = \"wcag-2.2-aa\"\ndate = 2026-10-01\nreport = \"compliance/acr-2026-10.pdf\"\nopen_issues = 0",
    live: false,
    check: |cx| {
        let frameworks = match declared(cx, &[Framework::Wcag, Framework::Section508]) {
            Ok(f) => f,
            Err(s) => return s,
        };
        let audience = cx
            .env
            .audience
            .as_ref()
            .map_or(cx.mode.default_audience(), |a| a.value);
        if audience == Audience::Internal {
            return skip("the environment is internal, not user-facing");
        }
        let Some(a) = &cx.env.accessibility_audit else {
            return fail(
                format!(
                    "no accessibility audit is recorded, though {} is in force",
                    names(&frameworks)
                ),
                cx.env.span,
            );
        };
        let mut problems = Vec::new();
        let mut span = a.span;
        if frameworks.contains(&Framework::Wcag)
            && a.standard.value != AccessibilityStandard::Wcag22Aa
        {
            problems.push(format!(
                "the audit measured {}, but wcag in force means WCAG 2.2 AA",
                a.standard.value
            ));
            span = a.standard.span;
        }
        let age = cx.as_of.days_since(a.date.value);
        let max = i64::try_from(cx.spec.policy.accessibility_audit_max_age.whole_days())
            .unwrap_or(i64::MAX);
        if age < 0 {
            problems.push(format!(
                "the audit is dated {}, after the as-of date",
                a.date.value
            ));
            span = a.date.span;
        } else if age > max {
            problems.push(format!(
                "the audit of {} is {age} days old, older than accessibility_audit_max_age {}",
                a.date.value, cx.spec.policy.accessibility_audit_max_age
            ));
            span = a.date.span;
        }
        match &a.report {
            None => problems.push("the audit names no `report`".to_owned()),
            Some(r) => {
                if let Some(p) = cx
                    .document("accessibility audit report", &r.value)
                    .problem(&r.value)
                {
                    problems.push(format!("report {p}"));
                    span = r.span;
                }
            }
        }
        if let Some(r) = &a.results
            && let Some(p) = cx
                .document("accessibility audit results", &r.value)
                .problem(&r.value)
        {
            problems.push(format!("results {p}"));
            span = r.span;
        }
        match &a.open_issues {
            // Per-criterion results judge each criterion (SG-A11Y-CRITERIA).
            _ if a.results.is_some() => {}
            None => problems.push("the audit does not state its `open_issues`".to_owned()),
            Some(n) if n.value > 0 => {
                problems.push(format!(
                    "{} issue{} still open",
                    n.value,
                    if n.value == 1 { " is" } else { "s are" }
                ));
                span = n.span;
            }
            Some(_) => {}
        }
        if problems.is_empty() {
            pass(
                format!(
                    "{} audit of {} with no open issues",
                    a.standard.value, a.date.value
                ),
                a.span,
            )
        } else {
            fail(list(&problems), span)
        }
    },
};

pub(super) const A11Y_CRITERIA: Rule = Rule {
    id: "SG-A11Y-CRITERIA",
    title: "No success criterion fails in the audit results",
    area: Area::Compliance,
    applies: Applies::SOFT_PROD,
    condition: Some(
        "when the product declares wcag or section-508 and its accessibility audit has per-criterion `results`, for environments whose audience is limited or public",
    ),
    requirement: "every WCAG 2.2 criterion in `accessibility_audit.results` (axe-core JSON, or a CSV of criterion,result) passes, is not applicable, or awaits review; none fails",
    guideline: &[FORMAL, ACCESSIBILITY],
    rationale: "A criterion that fails locks some people out of the product. Results per criterion say which, so the fix can start there, and the compliance report judges each criterion on its own.",
    remediation: "Fix what the results name for each failing criterion, run the audit (or axe-core) again, and replace the results file.",
    example: "[environments.production.accessibility_audit]\nstandard = \"wcag-2.2-aa\"\ndate = 2026-10-01\nreport = \"compliance/acr-2026-10.pdf\"\nresults = \"compliance/wcag-results.csv\"",
    live: false,
    check: |cx| {
        if let Err(s) = declared(cx, &[Framework::Wcag, Framework::Section508]) {
            return s;
        }
        let audience = cx
            .env
            .audience
            .as_ref()
            .map_or(cx.mode.default_audience(), |a| a.value);
        if audience == Audience::Internal {
            return skip("the environment is internal, not user-facing");
        }
        let Some(path) = cx
            .env
            .accessibility_audit
            .as_ref()
            .and_then(|a| a.results.as_ref())
        else {
            return skip("the accessibility audit has no per-criterion `results`");
        };
        if let Some(p) = cx
            .document("accessibility audit results", &path.value)
            .problem(&path.value)
        {
            return fail(format!("results {p}"), path.span);
        }
        let results = match cx.files.audit_results(&path.value) {
            Some(Ok(r)) => r,
            Some(Err(e)) => return fail(format!("{}: {e}", path.value), path.span),
            None => return fail(format!("{} was not read", path.value), path.span),
        };
        let failing = results.failing();
        if failing.is_empty() {
            let count =
                |r: CriterionResult| results.criteria.values().filter(|c| c.result == r).count();
            pass(
                format!(
                    "{} of {} criteria in the results pass, {} not applicable, {} await review; none fails ({})",
                    count(CriterionResult::Pass),
                    results.criteria.len(),
                    count(CriterionResult::NotApplicable),
                    count(CriterionResult::CannotTell),
                    results.tool
                ),
                path.span,
            )
        } else {
            fail(
                format!(
                    "{} criteri{} fail{} in the results ({}): {}",
                    failing.len(),
                    if failing.len() == 1 { "on" } else { "a" },
                    if failing.len() == 1 { "s" } else { "" },
                    results.tool,
                    list(&failing)
                ),
                path.span,
            )
        }
    },
};

/// Frameworks that require audit logging and its review.
const LOG_FRAMEWORKS: &[Framework] = &[
    Framework::PciDss,
    Framework::Hipaa,
    Framework::Fisma,
    Framework::Nist800171,
    Framework::Iso27001,
];

pub(super) const LOGS: Rule = Rule {
    id: "SG-COMP-LOGS",
    title: "Logs are collected, reviewed and retained as the frameworks require",
    area: Area::Compliance,
    applies: Applies::SOFT_PROD,
    condition: Some("when the product declares pci-dss, hipaa, fisma, nist-800-171 or iso-27001"),
    requirement: "a log platform (`observability.logs`), a log monitoring owner, a `operations.log_review` interval (at most 1d under pci-dss) and an `observability.log_retention` (at least 365d under pci-dss and fisma)",
    guideline: &[FORMAL, SECURITY_REGS, "Log monitoring"],
    rationale: "Every security framework asks the same three things of logs: they exist centrally, someone reads them on a schedule, and they are kept long enough to investigate (PCI DSS 10.4.1 daily review, 10.5.1 twelve months; OMB M-21-31 twelve months active for federal systems).",
    remediation: "Send logs to a platform (`observability.logs`), name the log monitoring owner, set how often they are reviewed (`operations.log_review`) and how long they are kept (`observability.log_retention`).",
    example: "[environments.production.observability]\nlogs = \"https://logs.internal\"\nlog_retention = \"400d\"\n\n[environments.production.operations]\nlog_monitoring = \"ops\"\nlog_review = \"1d\"",
    live: false,
    check: |cx| {
        let frameworks = match declared(cx, LOG_FRAMEWORKS) {
            Ok(f) => f,
            Err(s) => return s,
        };
        let obs = cx.env.observability.as_ref();
        let ops = cx.env.operations.as_ref();
        let mut problems = Vec::new();
        let mut span = obs.map_or(cx.env.span, |o| o.span);
        if obs.and_then(|o| o.logs.as_ref()).is_none() {
            problems.push("no log platform (`observability.logs`)".to_owned());
        }
        if ops.and_then(|o| o.log_monitoring.as_ref()).is_none() {
            problems.push("no log monitoring owner (`operations.log_monitoring`)".to_owned());
        }
        let pci = frameworks.contains(&Framework::PciDss);
        match ops.and_then(|o| o.log_review.as_ref()) {
            None => problems.push("no log review interval (`operations.log_review`)".to_owned()),
            Some(r) if pci && r.value.as_secs() > 86_400 => {
                problems.push(format!(
                    "logs are reviewed every {}, but PCI DSS 10.4.1 requires at least daily",
                    r.value
                ));
                span = r.span;
            }
            Some(_) => {}
        }
        let min_days: Option<(u64, &str)> = if pci {
            Some((365, "PCI DSS 10.5.1"))
        } else if frameworks.contains(&Framework::Fisma) {
            Some((365, "OMB M-21-31 for FISMA systems"))
        } else {
            None
        };
        match obs.and_then(|o| o.log_retention.as_ref()) {
            None => problems.push("no log retention (`observability.log_retention`)".to_owned()),
            Some(r) => {
                if let Some((days, why)) = min_days
                    && r.value.whole_days() < days
                {
                    problems.push(format!(
                        "logs are kept {}, but {why} requires at least {days} days",
                        r.value
                    ));
                    span = r.span;
                }
            }
        }
        if problems.is_empty() {
            pass(
                format!(
                    "logs are collected, reviewed and retained {}",
                    as_required(&frameworks)
                ),
                span,
            )
        } else {
            fail(
                format!("{} in force, but {}", names(&frameworks), list(&problems)),
                span,
            )
        }
    },
};

/// Frameworks that require encryption in transit.
const TRANSIT_FRAMEWORKS: &[Framework] = &[
    Framework::PciDss,
    Framework::Hipaa,
    Framework::Gdpr,
    Framework::Fisma,
    Framework::Nist800171,
    Framework::Iso27001,
];

pub(super) const TRANSIT: Rule = Rule {
    id: "SG-COMP-TRANSIT",
    title: "Data is encrypted in transit",
    area: Area::Compliance,
    applies: Applies::SOFT_PROD,
    condition: Some(
        "when the product declares pci-dss, hipaa, gdpr, fisma, nist-800-171 or iso-27001",
    ),
    requirement: "`security.encryption_in_transit = true`, and every http monitoring check targets an https:// URL",
    guideline: &[
        FORMAL,
        SECURITY_REGS,
        "The production rollout architecture must meet security requirements.",
    ],
    rationale: "Every one of these frameworks requires strong cryptography on the wire (PCI DSS 4.2.1, HIPAA 164.312(e), NIST SP 800-171 3.13.8, SP 800-53 SC-8); a monitored endpoint that answers over plain http shows the promise is not kept.",
    remediation: "Serve every endpoint over TLS, point the monitoring checks at the https:// URLs, and state `encryption_in_transit = true` under `[environments.ENV.security]`.",
    example: "[environments.production.security]\nencryption_in_transit = true",
    live: false,
    check: |cx| {
        let frameworks = match declared(cx, TRANSIT_FRAMEWORKS) {
            Ok(f) => f,
            Err(s) => return s,
        };
        let sec = cx.env.security.as_ref();
        let mut problems = Vec::new();
        let mut span = sec.map_or(cx.env.span, |s| s.span);
        match sec.and_then(|s| s.encryption_in_transit.as_ref()) {
            Some(e) if e.value => {}
            Some(e) => {
                problems.push("`encryption_in_transit` is false".to_owned());
                span = e.span;
            }
            None => problems.push("`security.encryption_in_transit` is not stated".to_owned()),
        }
        let plain: Vec<&str> = cx
            .env
            .monitoring
            .iter()
            .flat_map(|m| &m.checks)
            .filter(|c| c.kind.value == CheckKind::Http)
            .filter(|c| {
                c.url.as_ref().is_some_and(|u| {
                    u.raw()
                        .trim_start()
                        .get(..7)
                        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
                })
            })
            .map(|c| c.name.value.as_str())
            .collect();
        if !plain.is_empty() {
            problems.push(format!(
                "check{} {} use{} plain http://",
                if plain.len() == 1 { "" } else { "s" },
                list(&plain),
                if plain.len() == 1 { "s" } else { "" }
            ));
        }
        if problems.is_empty() {
            pass(
                format!(
                    "encryption in transit is in place, {}",
                    as_required(&frameworks)
                ),
                span,
            )
        } else {
            fail(
                format!("{} in force, but {}", names(&frameworks), list(&problems)),
                span,
            )
        }
    },
};
