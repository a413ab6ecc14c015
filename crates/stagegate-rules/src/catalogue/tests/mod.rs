//! Boundary tests for every rule: each condition on and off, each threshold
//! at, just inside and just outside its limit.

use stagegate_spec::{Date, LoadOptions, Mode, SourceFile, Spec, load};

/// A security-breach runbook that commits to GDPR's 72 hours as SG-GDPR-BREACH
/// reads it: in its front matter, with its text saying how.
pub(super) const BREACH_RUNBOOK: &str = "---\nnotifies: [supervisory-authority, data-subjects]\nwithin: 72h\n---\nThe DPO notifies the supervisory authority within 72 hours.\n";

use crate::{
    DocumentFacts, DrillRecord, Evaluator, FileFacts, FileState, Finding, RecordSource, Status,
    Verdict, catalogue, rule_ids,
};

/// A production environment that meets every v1 requirement.
pub(crate) const READY: &str = r#"
version = 1

[product]
name = "Shop"
retains_user_data = true
availability_target = 99.9
rpo = "4h"
regions = ["eu"]
data_classes = ["personal"]
frameworks = ["gdpr"]

[contacts.ops]
email = "ops@example.com"
on_call = true

[environments.production]
mode = "production"
audience = "public"
controlled_by = "client"

[[environments.production.servers]]
name = "app-1"
roles = ["core"]
location = "fra1"
region = "eu"

[[environments.production.servers]]
name = "app-2"
roles = ["core"]
location = "fra2"
region = "eu"

[[environments.production.servers]]
name = "app-3"
roles = ["core"]
location = "fra3"
region = "eu"

[[environments.production.servers]]
name = "db-1"
roles = ["database"]
location = "fra1"
region = "eu"

[environments.production.cluster]
nodes = ["app-1", "app-2", "app-3"]

[environments.production.backup]
location = "ams1"
interval = "1h"
encrypted = true

[environments.production.backup.drill]
every = "90d"
command = "scripts/restore-drill.sh"

[environments.production.monitoring]
notify = ["ops"]

[[environments.production.monitoring.checks]]
name = "web"
covers = "core"
kind = "http"
url = "https://shop.example.com/healthz"

[[environments.production.monitoring.checks]]
name = "db"
covers = "database"
kind = "tcp"
host = "db-1"
port = 5432

[[environments.production.monitoring.checks]]
name = "backup"
covers = "backup"
kind = "heartbeat"
token = "${TOKEN}"
interval = "1h"

[environments.production.observability]
metrics = "http://prometheus:9090"

[environments.production.security]
firewall = true
ops_vpn = true
site_to_site_vpn = ["backup", "monitoring"]
public_ports = [443]
encryption_in_transit = true

[environments.production.pentest]
vendor = "Redteam"
external = true
date = 2026-01-01

[environments.production.operations]
log_monitoring = "ops"
backup_monitoring = "ops"
security_updates = "ops"
agreement = "agreement.md"

[environments.production.runbooks]
unavailability = "rb/unavailability.md"
failure = "rb/failure.md"
backup-restore = "rb/backup-restore.md"
hardware-swap = "rb/hardware-swap.md"
data-corruption = "rb/data-corruption.md"
attack-mitigation = "rb/attack-mitigation.md"
security-breach = "rb/security-breach.md"
"#;

/// READY's backup, drill included, for tests that take it away.
const BACKUP: &str = "[environments.production.backup]\nlocation = \"ams1\"\ninterval = \"1h\"\nencrypted = true\n\n[environments.production.backup.drill]\nevery = \"90d\"\ncommand = \"scripts/restore-drill.sh\"\n";

pub(crate) fn date(s: &str) -> Date {
    s.parse().expect("test date")
}

/// A spec that lives as long as the test, so its findings can be returned
/// from the helper that evaluated it.
pub(crate) fn kept(spec: Spec) -> &'static Spec {
    Box::leak(Box::new(spec))
}

pub(crate) fn parse(toml: &str) -> Spec {
    let ids = rule_ids();
    let opts = LoadOptions {
        env: &|_| None,
        known_rules: &ids,
        known_controls: crate::frameworks::control_ids,
    };
    match load(&SourceFile::new("stagegate.toml", toml), &opts) {
        Ok(spec) => spec,
        Err(diags) => panic!("test spec is invalid: {diags:#?}"),
    }
}

/// Every referenced file present, the breach runbook committing to GDPR's
/// 72 hours, and a restore drill that passed a month before the as-of date.
pub(crate) fn present(spec: &Spec) -> FileFacts {
    let mut facts = FileFacts::new();
    for p in FileFacts::referenced_paths(spec) {
        facts.insert(p, FileState::Present);
        facts.insert_document(
            p,
            DocumentFacts {
                sha256: fake_sha(p),
                at: unix(date("2026-04-01")),
            },
        );
    }
    facts.insert_text("rb/security-breach.md", BREACH_RUNBOOK.to_owned());
    facts.insert_drill(
        "production",
        DrillRecord {
            finished_at: unix(date("2026-05-01")),
            seconds: 600.0,
            ok: true,
            message: "restored and verified".to_owned(),
        },
        RecordSource {
            source: "stagegate.drills.jsonl".to_owned(),
            sha256: Some(fake_sha("drill")),
        },
    );
    facts
}

/// A stand-in SHA-256 (64 hex digits) derived from `seed`, so tests can tell
/// which document a citation names.
pub(crate) fn fake_sha(seed: &str) -> String {
    stagegate_spec::sha256_hex(seed.as_bytes())
}

pub(crate) fn unix(d: Date) -> i64 {
    d.days_since(date("1970-01-01")) * 86_400
}

/// Findings of environment `env` in `mode` (its own mode when `None`).
pub(crate) struct Run {
    pub(crate) findings: Vec<Finding<'static>>,
    pub(crate) verdict: Verdict,
}

impl Run {
    fn of(rule: &str, findings: &[Finding<'static>]) -> Finding<'static> {
        findings
            .iter()
            .find(|f| f.rule.id() == rule)
            .cloned()
            .unwrap_or_else(|| panic!("no finding for {rule}"))
    }

    pub(crate) fn get(&self, rule: &str) -> Finding<'static> {
        Run::of(rule, &self.findings)
    }

    pub(crate) fn status(&self, rule: &str) -> Status {
        self.get(rule).status
    }
}

pub(crate) fn run_with(
    toml: &str,
    env: &str,
    mode: Option<Mode>,
    as_of: &str,
    facts: impl Fn(&Spec) -> FileFacts,
) -> Run {
    let spec = kept(parse(toml));
    let e = spec.environment(env).expect("environment");
    let mode = mode.unwrap_or(e.mode.value);
    let result = Evaluator::new(spec, date(as_of), &facts(spec)).environment(e, mode);
    Run {
        verdict: result.verdict(),
        findings: result.findings,
    }
}

pub(crate) fn run(toml: &str) -> Run {
    run_with(toml, "production", None, "2026-06-01", present)
}

pub(crate) fn run_as(toml: &str, mode: Mode) -> Run {
    run_with(toml, "production", Some(mode), "2026-06-01", present)
}

/// READY with `from` replaced by `to` (which must occur exactly once).
pub(crate) fn edit(from: &str, to: &str) -> String {
    assert_eq!(
        READY.matches(from).count(),
        1,
        "`{from}` must occur once in READY"
    );
    READY.replace(from, to)
}

#[test]
fn the_ready_spec_is_ready_with_no_warnings() {
    let r = run(READY);
    let bad: Vec<_> = r
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Waived))
        .map(|f| (f.rule.id(), f.message.clone()))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(r.verdict, Verdict::Ready);
}

#[test]
fn every_rule_gives_exactly_one_finding() {
    let r = run(READY);
    assert_eq!(r.findings.len(), catalogue().len());
    for rule in catalogue() {
        assert_eq!(
            r.findings.iter().filter(|f| f.rule.id() == rule.id).count(),
            1,
            "{}",
            rule.id
        );
    }
}

#[test]
fn rule_ids_are_unique_and_well_formed() {
    let mut ids = rule_ids();
    assert!(ids.iter().all(|id| {
        id.starts_with("SG-")
            && id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    }));
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n);
}

#[test]
fn every_guideline_quote_is_verbatim() {
    let guideline = include_str!("../../../../../docs/production-rollout-guidelines.txt");
    for rule in catalogue() {
        assert!(!rule.guideline.is_empty(), "{} quotes nothing", rule.id);
        for quote in rule.guideline {
            assert!(
                guideline.contains(quote),
                "{}: not in the guideline: {quote}",
                rule.id
            );
        }
        assert!(
            !rule.rationale.is_empty() && !rule.remediation.is_empty() && !rule.example.is_empty(),
            "{}",
            rule.id
        );
    }
}

#[test]
fn every_rule_example_is_valid_toml() {
    for rule in catalogue() {
        assert!(
            toml::de::DeTable::parse(rule.example).is_ok(),
            "{} example does not parse",
            rule.id
        );
    }
}

#[test]
fn live_rules_skip_in_a_static_check() {
    let r = run(READY);
    for id in [
        "SG-LIVE-CHECKS",
        "SG-BACKUP-FRESH",
        "SG-SEC-EXPOSURE",
        "SG-SEC-TLS",
    ] {
        assert_eq!(r.status(id), Status::Skip, "{id}");
    }
}

mod agent;
mod backup;
mod basis;
mod cluster;
mod environment;
mod infrastructure;
mod live;
mod monitoring;
mod operations;
mod promotion;
mod security;
mod waivers;
