//! The built-in rule catalogue (contract v1), one module per family.

mod agent;
mod backup;
mod cluster;
mod compliance;
mod environment;
mod formal;
mod infrastructure;
mod live;
mod monitoring;
mod operations;
mod promotion;
mod security;

use stagegate_spec::Span;

use crate::Rule;
use crate::rule::Outcome;
pub(crate) use agent::reads_agents;

/// The guideline's definition of the monitoring system, quoted by several rules.
const MONITORS: &str = "A solution that monitors various components of the production environment (e.g., database server, core system, backup system) and notifies relevant parties about issues.";

static RULES: &[Rule] = &[
    environment::DEV_INTERNAL,
    environment::STAGING_INTERNAL,
    environment::STAGING_CONTROL,
    environment::SOFT_AUDIENCE,
    infrastructure::INSTANCE,
    infrastructure::REGIONS,
    backup::REQUIRED,
    backup::OFFSITE,
    backup::ENCRYPTED,
    backup::RPO,
    backup::COVERAGE,
    backup::DRILL,
    monitoring::REQUIRED,
    monitoring::COVERAGE,
    monitoring::NOTIFY,
    monitoring::OBSERVABILITY,
    cluster::QUORUM,
    cluster::ODD,
    cluster::HA,
    operations::DUTIES,
    operations::RUNBOOKS,
    operations::BREACH,
    operations::AGREEMENT,
    operations::STAFF,
    agent::PATCHES,
    agent::AGENT,
    agent::LOGS,
    security::FIREWALL,
    security::OPS_VPN,
    security::S2S_VPN,
    security::PENTEST,
    agent::SSH,
    compliance::FRAMEWORKS,
    formal::LOGS,
    formal::TRANSIT,
    formal::GDPR_BREACH,
    formal::PCI_PENTEST_EXTERNAL,
    formal::PCI_PENTEST_INTERNAL,
    formal::HIPAA_CONTINGENCY,
    formal::HIPAA_EMERGENCY,
    formal::A11Y_AUDIT,
    formal::A11Y_CRITERIA,
    live::CHECKS,
    live::BACKUP_FRESH,
    live::EXPOSURE,
    live::TLS,
    promotion::SOAK,
    promotion::SLO,
    promotion::INCIDENTS,
    promotion::BACKUP_RUNS,
    promotion::SIGNOFF,
    promotion::APPROVAL,
    promotion::FREEZE,
];

/// Every built-in rule, in catalogue order.
pub fn catalogue() -> &'static [Rule] {
    RULES
}

pub fn find_rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

pub fn rule_ids() -> Vec<&'static str> {
    RULES.iter().map(|r| r.id).collect()
}

/// A fingerprint of what the catalogue requires: every rule's id, modes,
/// condition and requirement, and every framework pack's controls and
/// mappings. Reports carry it, so two reports can be compared knowing
/// whether the same rules judged them. The first 12 hex digits of a SHA-256.
pub fn catalogue_revision() -> &'static str {
    static REVISION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    REVISION.get_or_init(|| {
        use std::fmt::Write;
        let mut text = String::new();
        for r in RULES {
            let _ = writeln!(
                text,
                "{}\t{:?}\t{:?}\t{}\t{}",
                r.id, r.applies, r.condition, r.requirement, r.live
            );
        }
        for p in crate::frameworks::packs() {
            let _ = writeln!(text, "{}\t{}\t{}", p.framework.as_str(), p.version, p.pack);
            for c in &p.controls {
                let _ = writeln!(text, "{}\t{:?}", c.id, c.evidence);
            }
        }
        stagegate_spec::sha256_hex(text.as_bytes())[..12].to_owned()
    })
}

fn pass(message: impl Into<String>, span: impl Into<Option<Span>>) -> Outcome {
    Outcome::Pass(message.into(), span.into())
}

fn fail(message: impl Into<String>, span: impl Into<Option<Span>>) -> Outcome {
    Outcome::Fail(message.into(), span.into())
}

fn skip(message: impl Into<String>) -> Outcome {
    Outcome::Skip(message.into())
}

/// "a", "a and b", "a, b and c".
fn list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

#[cfg(test)]
mod formal_tests;
#[cfg(test)]
pub(crate) mod tests;
