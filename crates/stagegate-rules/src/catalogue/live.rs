//! Rules judged from live evidence. A static check gathers none, so they
//! report `skip` there; they never change the static rules' results.

use super::{MONITORS, skip};
use crate::rule::{Applies, Area, Rule};

const STATIC: &str =
    "a live rule: judged only from live probe results, which a static check does not gather";

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
    check: |_| skip(STATIC),
};

pub(super) const BACKUP_FRESH: Rule = Rule {
    id: "SG-BACKUP-FRESH",
    title: "The newest backup snapshot is fresh and readable",
    area: Area::Backup,
    applies: Applies::ANY,
    condition: Some("when the backup has a `source`"),
    requirement: "newest snapshot is younger than `interval` + grace, and the repository is readable",
    guideline: &["It takes snapshots of system data for backup purposes."],
    rationale: "Backup jobs fail silently; only the age of the newest readable snapshot proves that backups really happen.",
    remediation: "Fix the backup job (or its credentials) until a new snapshot appears; watch it with a heartbeat check.",
    example: "[environments.production.backup]\nsource = { kind = \"restic\", repository = \"/srv/backup/shop\", password_env = \"RESTIC_PASSWORD\" }",
    live: true,
    check: |_| skip(STATIC),
};

pub(super) const EXPOSURE: Rule = Rule {
    id: "SG-SEC-EXPOSURE",
    title: "Only the declared public ports answer",
    area: Area::Security,
    applies: Applies::SOFT_PROD,
    condition: Some("for servers with a `host`"),
    requirement: "no port outside `public_ports` answers among the well-known service ports (SSH, databases, caches, admin consoles)",
    guideline: &["The production rollout architecture must meet security requirements."],
    rationale: "A database or admin console reachable from outside is found by scanners within hours.",
    remediation: "Close the port in the firewall, or declare it in `security.public_ports` if it is meant to be public.",
    example: "[environments.production.security]\npublic_ports = [443]",
    live: true,
    check: |_| skip(STATIC),
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
    check: |_| skip(STATIC),
};
