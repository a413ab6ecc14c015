//! Secure infrastructure and the external penetration test.

use stagegate_spec::{Security, Span, Spanned, VpnScope};

use super::{fail, list, pass};
use crate::context::Ctx;
use crate::rule::{Applies, Area, Outcome, Rule};

const SECURE_INFRA: &str = "Implement security measures like firewalls, VPNs for operations/business teams, site-to-site VPNs for backups and monitoring, and backup encryption.";
const BEFORE_LAUNCH: &str = "Security must be addressed at various project stages. Before production launch (both soft and full launch), ensure:";

/// A `security` switch that must be on.
fn switch(
    cx: &Ctx<'_>,
    value: impl Fn(&Security) -> Option<&Spanned<bool>>,
    key: &str,
    what: &str,
) -> Outcome {
    let Some(sec) = &cx.env.security else {
        return fail(
            format!("no [security] table: {what} is not declared"),
            cx.env.span,
        );
    };
    match value(sec) {
        Some(v) if v.value => pass(format!("{what} in place"), v.span),
        Some(v) => fail(format!("{what} is off (`{key} = false`)"), v.span),
        None => fail(
            format!("{what} is not declared (`{key}` is not set)"),
            sec.span,
        ),
    }
}

pub(super) const FIREWALL: Rule = Rule {
    id: "SG-SEC-FIREWALL",
    title: "A firewall protects the environment",
    area: Area::Security,
    applies: Applies::SOFT_PROD,
    condition: None,
    requirement: "`security.firewall = true`; with `agent = true` and agent reports, every reporting server drops or rejects inbound traffic no rule accepts (observed)",
    guideline: &[BEFORE_LAUNCH, SECURE_INFRA],
    rationale: "Without a firewall every service that listens on a server is reachable from the internet, including the ones nobody meant to publish.",
    remediation: "Allow only the public ports (e.g. 443) in a firewall in front of the servers, and set `security.firewall = true`.",
    example: "[environments.production.security]\nfirewall = true\npublic_ports = [443]",
    live: false,
    check: |cx| {
        super::agent::firewall(cx)
            .unwrap_or_else(|| switch(cx, |s| s.firewall.as_ref(), "firewall", "a firewall"))
    },
};

pub(super) const OPS_VPN: Rule = Rule {
    id: "SG-SEC-OPS-VPN",
    title: "Operations and business teams reach the environment through a VPN",
    area: Area::Security,
    applies: Applies::SOFT_PROD,
    condition: None,
    requirement: "`security.ops_vpn = true`",
    guideline: &[BEFORE_LAUNCH, SECURE_INFRA],
    rationale: "Administrative access (SSH, dashboards, databases) exposed to the internet is the most attacked surface of a system.",
    remediation: "Put administrative access behind a VPN for the operations and business teams, and set `security.ops_vpn = true`.",
    example: "[environments.production.security]\nops_vpn = true",
    live: false,
    check: |cx| {
        switch(
            cx,
            |s| s.ops_vpn.as_ref(),
            "ops_vpn",
            "a VPN for operations/business teams",
        )
    },
};

pub(super) const S2S_VPN: Rule = Rule {
    id: "SG-SEC-S2S-VPN",
    title: "Backup and monitoring traffic crosses a site-to-site VPN",
    area: Area::Security,
    applies: Applies::SOFT_PROD,
    condition: None,
    requirement: "`site_to_site_vpn` includes `backup` when a backup exists and `monitoring` when monitoring exists",
    guideline: &[BEFORE_LAUNCH, SECURE_INFRA],
    rationale: "Backups carry all the data and monitoring carries credentials and topology between sites; both must not cross the open internet.",
    remediation: "Connect the backup and monitoring sites to the environment with a site-to-site VPN and list them in `security.site_to_site_vpn`.",
    example: "[environments.production.security]\nsite_to_site_vpn = [\"backup\", \"monitoring\"]",
    live: false,
    check: |cx| {
        let mut needed = Vec::new();
        if cx.env.backup.is_some() {
            needed.push(VpnScope::Backup);
        }
        if cx.env.monitoring.is_some() {
            needed.push(VpnScope::Monitoring);
        }
        let declared = cx
            .env
            .security
            .as_ref()
            .and_then(|s| s.site_to_site_vpn.as_ref());
        let span: Option<Span> =
            declared
                .map(|d| d.span)
                .or(cx.env.security.as_ref().map(|s| s.span));
        if needed.is_empty() {
            return pass(
                "no backup or monitoring traffic leaves the environment",
                span,
            );
        }
        let missing: Vec<&str> = needed
            .iter()
            .filter(|n| !declared.is_some_and(|d| d.value.iter().any(|v| v.value == **n)))
            .map(|n| n.as_str())
            .collect();
        let needed: Vec<&str> = needed.iter().map(|n| n.as_str()).collect();
        if missing.is_empty() {
            pass(format!("site-to-site VPN carries {}", list(&needed)), span)
        } else {
            fail(
                format!(
                    "{} traffic does not cross a site-to-site VPN",
                    list(&missing)
                ),
                span.or(Some(cx.env.span)),
            )
        }
    },
};

pub(super) const PENTEST: Rule = Rule {
    id: "SG-SEC-PENTEST",
    title: "A recent external penetration test with no open critical or high findings",
    area: Area::Security,
    applies: Applies::SOFT_PROD,
    condition: None,
    requirement: "a pentest with `external = true`, dated not after the as-of date and within `pentest_max_age` of it, with 0 open critical and 0 open high findings",
    guideline: &[
        BEFORE_LAUNCH,
        "Hire an external company to perform penetration testing on the production environment to identify vulnerabilities.",
        "This step is critical as modern systems often incorporate third-party components that may contain security flaws.",
    ],
    rationale: "Teams do not find the holes they did not think of; an outside tester does, and third-party components change under you, so the test must be recent.",
    remediation: "Commission an external penetration test, fix its critical and high findings, and record it under `[environments.ENV.pentest]`.",
    example: "[environments.production.pentest]\nvendor = \"Redteam Ltd\"\nexternal = true\ndate = 2026-09-15\nreport = \"security/pentest-2026-09.pdf\"\nopen_findings = { critical = 0, high = 0, medium = 3, low = 5 }",
    live: false,
    check: |cx| {
        let Some(p) = &cx.env.pentest else {
            return fail(
                "no penetration test is recorded (`[pentest]` is missing)",
                cx.env.span,
            );
        };
        let mut problems = Vec::new();
        let mut span = p.span;
        let by = p
            .vendor
            .as_deref()
            .map(|v| format!(" by {v}"))
            .unwrap_or_default();
        if !p.external.as_ref().is_some_and(|e| e.value) {
            problems.push(format!(
                "the pentest{by} is not marked external (`external = true`)"
            ));
            if let Some(e) = &p.external {
                span = e.span;
            }
        }
        let date = p.date.value;
        let age = cx.as_of.days_since(date);
        let max_days =
            i64::try_from(cx.spec.policy.pentest_max_age.whole_days()).unwrap_or(i64::MAX);
        if age < 0 {
            problems.push(format!(
                "the pentest is dated {date}, after the as-of date {}: it has not happened yet",
                cx.as_of
            ));
            span = p.date.span;
        } else if age > max_days {
            problems.push(format!(
                "the pentest of {date} is {age} days old, older than pentest_max_age {} ({max_days} days)",
                cx.spec.policy.pentest_max_age
            ));
            span = p.date.span;
        }
        let f = &p.open_findings;
        if f.critical > 0 || f.high > 0 {
            let open: Vec<String> = [(f.critical, "critical"), (f.high, "high")]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect();
            let plural = if f.critical + f.high == 1 {
                " is"
            } else {
                "s are"
            };
            problems.push(format!("{} finding{plural} still open", list(&open)));
            span = f.span.unwrap_or(span);
        }
        // The report, when named and present, is what the dates and counts
        // above were copied from: cite it.
        if let Some(report) = &p.report {
            cx.document("pentest report", &report.value);
        }
        if problems.is_empty() {
            pass(
                format!(
                    "external pentest{by} of {date}, {age} days old, no open critical or high findings"
                ),
                p.span,
            )
        } else {
            fail(problems.join("; "), span)
        }
    },
};
