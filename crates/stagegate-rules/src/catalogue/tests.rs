//! Boundary tests for every rule: each condition on and off, each threshold
//! at, just inside and just outside its limit.

use stagegate_spec::{Date, LoadOptions, Mode, SourceFile, Spec, load};

use crate::{
    DrillRecord, FileFacts, FileState, Finding, Status, Verdict, catalogue, evaluate_environment,
    rule_ids,
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
    }
    facts.insert_text(
        "rb/security-breach.md",
        "The DPO notifies the supervisory authority within 72 hours.".to_owned(),
    );
    facts.insert_drill(
        "production",
        DrillRecord {
            finished_at: unix(date("2026-05-01")),
            seconds: 600.0,
            ok: true,
            message: "restored and verified".to_owned(),
        },
    );
    facts
}

pub(crate) fn unix(d: Date) -> i64 {
    d.days_since(date("1970-01-01")) * 86_400
}

/// Findings of environment `env` in `mode` (its own mode when `None`).
pub(crate) struct Run {
    pub(crate) findings: Vec<Finding>,
    pub(crate) verdict: Verdict,
}

impl Run {
    fn of(rule: &str, findings: &[Finding]) -> Finding {
        findings
            .iter()
            .find(|f| f.rule.id == rule)
            .cloned()
            .unwrap_or_else(|| panic!("no finding for {rule}"))
    }

    pub(crate) fn get(&self, rule: &str) -> Finding {
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
    let spec = parse(toml);
    let e = spec.environment(env).expect("environment");
    let mode = mode.unwrap_or(e.mode.value);
    let result = evaluate_environment(&spec, e, mode, date(as_of), &facts(&spec), None);
    Run {
        verdict: result.verdict(),
        findings: result.findings,
    }
}

pub(crate) fn run(toml: &str) -> Run {
    run_with(toml, "production", None, "2026-06-01", present)
}

fn run_as(toml: &str, mode: Mode) -> Run {
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
        .map(|f| (f.rule.id, f.message.clone()))
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
            r.findings.iter().filter(|f| f.rule.id == rule.id).count(),
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
    let guideline = include_str!("../../../../docs/production-rollout-guidelines.txt");
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

// --- backup -----------------------------------------------------------------

#[test]
fn rpo_boundary_interval_equal_passes_longer_fails() {
    assert_eq!(
        run(&edit(
            "interval = \"1h\"\nencrypted",
            "interval = \"4h\"\nencrypted"
        ))
        .status("SG-BACKUP-RPO"),
        Status::Pass
    );
    let r = run(&edit(
        "interval = \"1h\"\nencrypted",
        "interval = \"6h\"\nencrypted",
    ));
    let f = r.get("SG-BACKUP-RPO");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "interval 6h exceeds rpo 4h: up to 6h of data can be lost"
    );
    assert_eq!(r.verdict, Verdict::Blocked);
    // Humantime spellings compare by value: 240m equals 4h.
    assert_eq!(
        run(&edit(
            "interval = \"1h\"\nencrypted",
            "interval = \"240m\"\nencrypted"
        ))
        .status("SG-BACKUP-RPO"),
        Status::Pass
    );
}

#[test]
fn rpo_skips_without_an_rpo() {
    assert_eq!(
        run(&edit("rpo = \"4h\"\n", "")).status("SG-BACKUP-RPO"),
        Status::Skip
    );
}

#[test]
fn offsite_names_the_servers_sharing_the_location() {
    let r = run(&edit("location = \"ams1\"", "location = \"fra1\""));
    let f = r.get("SG-BACKUP-OFFSITE");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "backup location fra1 is also where app-1 and db-1 run"
    );
    let r = run(&edit("location = \"ams1\"", "location = \"fra2\""));
    assert_eq!(
        r.get("SG-BACKUP-OFFSITE").message,
        "backup location fra2 is also where app-2 runs"
    );
}

#[test]
fn offsite_applies_in_every_mode_when_a_backup_exists() {
    let spec = edit("location = \"ams1\"", "location = \"fra1\"");
    for mode in Mode::ALL {
        assert_eq!(
            run_as(&spec, *mode).status("SG-BACKUP-OFFSITE"),
            Status::Fail,
            "{mode}"
        );
    }
    let no_backup = edit(BACKUP, "");
    assert_eq!(run(&no_backup).status("SG-BACKUP-OFFSITE"), Status::Skip);
}

#[test]
fn encryption_is_required_in_soft_launch_and_production_only() {
    let spec = edit("encrypted = true\n", "encrypted = false\n");
    assert_eq!(run(&spec).status("SG-BACKUP-ENCRYPTED"), Status::Fail);
    assert_eq!(
        run_as(&spec, Mode::SoftLaunch).status("SG-BACKUP-ENCRYPTED"),
        Status::Fail
    );
    assert_eq!(
        run_as(&spec, Mode::Staging).status("SG-BACKUP-ENCRYPTED"),
        Status::Skip
    );
    let unset = edit("encrypted = true\n", "");
    assert!(
        run(&unset)
            .get("SG-BACKUP-ENCRYPTED")
            .message
            .contains("not declared")
    );
}

#[test]
fn backup_required_in_soft_launch_only_when_user_data_is_retained() {
    let no_backup = edit(BACKUP, "");
    assert_eq!(run(&no_backup).status("SG-BACKUP-REQUIRED"), Status::Fail);
    assert_eq!(
        run_as(&no_backup, Mode::SoftLaunch).status("SG-BACKUP-REQUIRED"),
        Status::Fail
    );
    let not_retained = no_backup.replace("retains_user_data = true", "retains_user_data = false");
    assert_eq!(
        run_as(&not_retained, Mode::SoftLaunch).status("SG-BACKUP-REQUIRED"),
        Status::Skip
    );
    assert_eq!(
        run(&not_retained).status("SG-BACKUP-REQUIRED"),
        Status::Fail
    );
    assert_eq!(
        run_as(&no_backup, Mode::Staging).status("SG-BACKUP-REQUIRED"),
        Status::Skip
    );
}

#[test]
fn coverage_defaults_to_every_database_and_flags_left_out_ones() {
    assert_eq!(run(READY).status("SG-BACKUP-COVERAGE"), Status::Pass);
    let covers_app = edit(
        "encrypted = true\n",
        "encrypted = true\ncovers = [\"app-1\"]\n",
    );
    let f = run(&covers_app).get("SG-BACKUP-COVERAGE");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "database server db-1 is not covered by the backup"
    );
    let covers_db = edit(
        "encrypted = true\n",
        "encrypted = true\ncovers = [\"db-1\"]\n",
    );
    assert_eq!(run(&covers_db).status("SG-BACKUP-COVERAGE"), Status::Pass);
}

// --- monitoring -------------------------------------------------------------

#[test]
fn monitoring_required_in_soft_launch_only_with_an_availability_target() {
    let start = READY
        .find("[environments.production.monitoring]")
        .expect("monitoring");
    let end = READY
        .find("[environments.production.observability]")
        .expect("observability");
    let none = format!("{}{}", &READY[..start], &READY[end..]).replace(
        "site_to_site_vpn = [\"backup\", \"monitoring\"]",
        "site_to_site_vpn = [\"backup\"]",
    );
    assert_eq!(run(&none).status("SG-MON-REQUIRED"), Status::Fail);
    assert_eq!(
        run_as(&none, Mode::SoftLaunch).status("SG-MON-REQUIRED"),
        Status::Fail
    );
    let no_target = none.replace("availability_target = 99.9\n", "");
    assert_eq!(
        run_as(&no_target, Mode::SoftLaunch).status("SG-MON-REQUIRED"),
        Status::Skip
    );
    assert_eq!(run(&no_target).status("SG-MON-REQUIRED"), Status::Fail);
    assert_eq!(
        run_as(&none, Mode::Staging).status("SG-MON-REQUIRED"),
        Status::Skip
    );
}

#[test]
fn monitoring_with_no_checks_fails() {
    let start = READY
        .find("[[environments.production.monitoring.checks]]")
        .expect("checks");
    let end = READY
        .find("[environments.production.observability]")
        .expect("observability");
    let spec = format!("{}{}", &READY[..start], &READY[end..]);
    assert_eq!(
        run(&spec).get("SG-MON-REQUIRED").message,
        "monitoring is declared but has no checks"
    );
}

#[test]
fn coverage_lists_every_unwatched_component() {
    let spec = edit("covers = \"database\"", "covers = \"app-2\"")
        .replace("covers = \"backup\"", "covers = \"core\"");
    let f = run(&spec).get("SG-MON-COVERAGE");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "no check covers database server db-1 and the backup"
    );
    // A check naming the database server covers it as well as `database` does.
    assert_eq!(
        run(&edit("covers = \"database\"", "covers = \"db-1\"")).status("SG-MON-COVERAGE"),
        Status::Pass
    );
    // A check naming a core server covers the core system.
    let by_name = edit("covers = \"core\"", "covers = \"app-1\"");
    assert_eq!(run(&by_name).status("SG-MON-COVERAGE"), Status::Pass);
}

#[test]
fn notify_needs_a_reachable_contact() {
    let nobody = edit("notify = [\"ops\"]", "notify = []");
    assert_eq!(
        run(&nobody).get("SG-MON-NOTIFY").message,
        "monitoring notifies nobody: `notify` names no contact"
    );
    let unreachable = edit("email = \"ops@example.com\"\n", "");
    let f = run(&unreachable).get("SG-MON-NOTIFY");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.message, "contact ops has neither an email nor a notifier");
    // Applies in every mode where monitoring exists.
    assert_eq!(
        run_as(&unreachable, Mode::Development).status("SG-MON-NOTIFY"),
        Status::Fail
    );
}

#[test]
fn observability_is_only_recommended() {
    let spec = edit(
        "[environments.production.observability]\nmetrics = \"http://prometheus:9090\"\n",
        "",
    );
    let r = run(&spec);
    assert_eq!(r.status("SG-OBS-PLATFORM"), Status::Warn);
    assert_eq!(r.verdict, Verdict::Ready);
    assert_eq!(
        run_as(&spec, Mode::Staging).status("SG-OBS-PLATFORM"),
        Status::Warn
    );
    assert_eq!(
        run_as(&spec, Mode::Development).status("SG-OBS-PLATFORM"),
        Status::Skip
    );
}

// --- cluster ----------------------------------------------------------------

fn nodes(list: &str) -> String {
    edit(
        "nodes = [\"app-1\", \"app-2\", \"app-3\"]",
        &format!("nodes = [{list}]"),
    )
}

#[test]
fn quorum_needs_three_distinct_nodes() {
    let two = run(&nodes("\"app-1\", \"app-2\""));
    assert_eq!(two.status("SG-CLUSTER-QUORUM"), Status::Fail);
    assert_eq!(
        two.get("SG-CLUSTER-QUORUM").message,
        "cluster has 2 distinct nodes: a quorum needs at least 3 physical servers"
    );
    assert_eq!(two.status("SG-CLUSTER-ODD"), Status::Warn);
    let three = run(&nodes("\"app-1\", \"app-2\", \"app-3\""));
    assert_eq!(three.status("SG-CLUSTER-QUORUM"), Status::Pass);
    assert_eq!(three.status("SG-CLUSTER-ODD"), Status::Pass);
    let four = run(&nodes("\"app-1\", \"app-2\", \"app-3\", \"db-1\""));
    assert_eq!(four.status("SG-CLUSTER-QUORUM"), Status::Pass);
    assert_eq!(four.status("SG-CLUSTER-ODD"), Status::Warn);
    assert_eq!(four.verdict, Verdict::Ready);
    // A node listed twice is one physical server.
    let dup = run(&nodes("\"app-1\", \"app-2\", \"app-2\""));
    assert_eq!(dup.status("SG-CLUSTER-QUORUM"), Status::Fail);
    assert!(
        dup.get("SG-CLUSTER-QUORUM")
            .message
            .contains("1 listed twice")
    );
}

#[test]
fn quorum_applies_in_every_mode() {
    let two = nodes("\"app-1\", \"app-2\"");
    for mode in Mode::ALL {
        assert_eq!(
            run_as(&two, *mode).status("SG-CLUSTER-QUORUM"),
            Status::Fail,
            "{mode}"
        );
    }
}

#[test]
fn ha_cluster_required_at_or_above_the_threshold() {
    let no_cluster = edit(
        "[environments.production.cluster]\nnodes = [\"app-1\", \"app-2\", \"app-3\"]\n",
        "",
    );
    let f = run(&no_cluster).get("SG-CLUSTER-HA");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "availability target 99.9% (at or above 99.9%) needs a cluster, and none is declared"
    );
    let below = no_cluster.replace("availability_target = 99.9", "availability_target = 99.5");
    assert_eq!(run(&below).status("SG-CLUSTER-HA"), Status::Skip);
    let lowered = format!("{}\n[policy]\ncluster_required_at = 99.5\n", below);
    assert_eq!(run(&lowered).status("SG-CLUSTER-HA"), Status::Fail);
    let untargeted = no_cluster.replace("availability_target = 99.9\n", "");
    assert_eq!(run(&untargeted).status("SG-CLUSTER-HA"), Status::Skip);
    assert_eq!(
        run_as(&no_cluster, Mode::SoftLaunch).status("SG-CLUSTER-HA"),
        Status::Skip
    );
    assert_eq!(run(&no_cluster).status("SG-CLUSTER-QUORUM"), Status::Skip);
}

// --- operations -------------------------------------------------------------

#[test]
fn duties_required_in_production_recommended_in_soft_launch() {
    let spec = edit("backup_monitoring = \"ops\"\n", "");
    let f = run(&spec).get("SG-OPS-DUTIES");
    assert_eq!(
        (f.status, f.message.as_str()),
        (Status::Fail, "no owner for backup monitoring")
    );
    assert_eq!(
        run_as(&spec, Mode::SoftLaunch).status("SG-OPS-DUTIES"),
        Status::Warn
    );
    assert_eq!(
        run_as(&spec, Mode::Staging).status("SG-OPS-DUTIES"),
        Status::Skip
    );
    // Backup monitoring is a duty only where a backup exists.
    let no_backup = spec.replace(BACKUP, "");
    assert_eq!(run(&no_backup).status("SG-OPS-DUTIES"), Status::Pass);
}

#[test]
fn runbooks_must_be_existing_non_empty_files() {
    let spec = parse(READY);
    let facts_with = |path: &str, state: FileState| {
        let path = path.to_owned();
        move |s: &Spec| {
            let mut f = present(s);
            f.insert(path.clone(), state);
            f
        }
    };
    let r = run_with(
        READY,
        "production",
        None,
        "2026-06-01",
        facts_with("rb/failure.md", FileState::Missing),
    );
    let f = r.get("SG-OPS-RUNBOOKS");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "runbooks missing or unusable: failure (rb/failure.md does not exist)"
    );
    let r = run_with(
        READY,
        "production",
        None,
        "2026-06-01",
        facts_with("rb/failure.md", FileState::Empty),
    );
    assert!(
        r.get("SG-OPS-RUNBOOKS")
            .message
            .contains("rb/failure.md is empty")
    );
    let r = run_with(
        READY,
        "production",
        Some(Mode::SoftLaunch),
        "2026-06-01",
        facts_with("rb/failure.md", FileState::Empty),
    );
    assert_eq!(r.status("SG-OPS-RUNBOOKS"), Status::Warn);
    drop(spec);
}

#[test]
fn backup_restore_runbook_needed_only_with_a_backup() {
    let without = edit("backup-restore = \"rb/backup-restore.md\"\n", "");
    assert!(
        run(&without)
            .get("SG-OPS-RUNBOOKS")
            .message
            .contains("backup-restore (not declared)")
    );
    let no_backup = without.replace(BACKUP, "");
    assert_eq!(run(&no_backup).status("SG-OPS-RUNBOOKS"), Status::Pass);
}

#[test]
fn breach_runbook_required_from_soft_launch() {
    let spec = edit("security-breach = \"rb/security-breach.md\"\n", "");
    assert_eq!(run(&spec).status("SG-OPS-BREACH"), Status::Fail);
    assert_eq!(
        run_as(&spec, Mode::SoftLaunch).status("SG-OPS-BREACH"),
        Status::Fail
    );
    assert_eq!(
        run_as(&spec, Mode::Staging).status("SG-OPS-BREACH"),
        Status::Skip
    );
}

#[test]
fn agreement_required_in_production_only() {
    let spec = edit("agreement = \"agreement.md\"\n", "");
    assert_eq!(run(&spec).status("SG-OPS-AGREEMENT"), Status::Fail);
    assert_eq!(
        run_as(&spec, Mode::SoftLaunch).status("SG-OPS-AGREEMENT"),
        Status::Skip
    );
    let missing = run_with(READY, "production", None, "2026-06-01", |_| {
        FileFacts::new()
    });
    assert_eq!(
        missing.get("SG-OPS-AGREEMENT").message,
        "support agreement unusable: agreement.md does not exist"
    );
}

#[test]
fn staff_on_call() {
    let spec = edit("on_call = true\n", "");
    assert_eq!(run(&spec).status("SG-OPS-STAFF"), Status::Fail);
    assert_eq!(
        run_as(&spec, Mode::SoftLaunch).status("SG-OPS-STAFF"),
        Status::Warn
    );
}

// --- security ---------------------------------------------------------------

#[test]
fn firewall_and_vpn_switches() {
    assert_eq!(
        run(&edit("firewall = true", "firewall = false")).status("SG-SEC-FIREWALL"),
        Status::Fail
    );
    assert_eq!(
        run(&edit("ops_vpn = true\n", ""))
            .get("SG-SEC-OPS-VPN")
            .message,
        "a VPN for operations/business teams is not declared (`ops_vpn` is not set)"
    );
    let only_backup = edit(
        "site_to_site_vpn = [\"backup\", \"monitoring\"]",
        "site_to_site_vpn = [\"backup\"]",
    );
    assert_eq!(
        run(&only_backup).get("SG-SEC-S2S-VPN").message,
        "monitoring traffic does not cross a site-to-site VPN"
    );
    assert_eq!(
        run_as(&only_backup, Mode::Staging).status("SG-SEC-S2S-VPN"),
        Status::Skip
    );
    let start = READY
        .find("[environments.production.security]")
        .expect("security");
    let end = READY
        .find("[environments.production.pentest]")
        .expect("pentest");
    let no_security = format!("{}{}", &READY[..start], &READY[end..]);
    let r = run(&no_security);
    for id in ["SG-SEC-FIREWALL", "SG-SEC-OPS-VPN", "SG-SEC-S2S-VPN"] {
        assert_eq!(r.status(id), Status::Fail, "{id}");
    }
}

fn pentest_at(as_of: &str, spec: &str) -> Finding {
    run_with(spec, "production", None, as_of, present).get("SG-SEC-PENTEST")
}

#[test]
fn pentest_age_boundary() {
    // 2026-01-01 + 365 days = 2027-01-01.
    assert_eq!(pentest_at("2027-01-01", READY).status, Status::Pass);
    let f = pentest_at("2027-01-02", READY);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "the pentest of 2026-01-01 is 366 days old, older than pentest_max_age 365d (365 days)"
    );
    // Dated after the as-of date: not done yet.
    let f = pentest_at("2025-12-31", READY);
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("after the as-of date 2025-12-31"));
    assert_eq!(pentest_at("2026-01-01", READY).status, Status::Pass);
    // A stricter policy.
    let strict = format!("{READY}\n[policy]\npentest_max_age = \"90d\"\n");
    assert_eq!(pentest_at("2026-04-01", &strict).status, Status::Pass);
    assert_eq!(pentest_at("2026-04-02", &strict).status, Status::Fail);
}

#[test]
fn pentest_must_be_external_and_clean() {
    let internal = edit("external = true", "external = false");
    assert!(
        pentest_at("2026-06-01", &internal)
            .message
            .contains("not marked external")
    );
    let open = edit(
        "date = 2026-01-01",
        "date = 2026-01-01\nopen_findings = { critical = 0, high = 1, medium = 9 }",
    );
    let f = pentest_at("2026-06-01", &open);
    assert_eq!(
        (f.status, f.message.as_str()),
        (Status::Fail, "1 high finding is still open")
    );
    let medium_only = edit(
        "date = 2026-01-01",
        "date = 2026-01-01\nopen_findings = { medium = 9, low = 20 }",
    );
    assert_eq!(pentest_at("2026-06-01", &medium_only).status, Status::Pass);
    let start = READY
        .find("[environments.production.pentest]")
        .expect("pentest");
    let end = READY
        .find("[environments.production.operations]")
        .expect("operations");
    let none = format!("{}{}", &READY[..start], &READY[end..]);
    assert_eq!(pentest_at("2026-06-01", &none).status, Status::Fail);
    assert_eq!(
        run_as(&none, Mode::Staging).status("SG-SEC-PENTEST"),
        Status::Skip
    );
    assert_eq!(
        run_as(&none, Mode::SoftLaunch).status("SG-SEC-PENTEST"),
        Status::Fail
    );
}

// --- environment ------------------------------------------------------------

#[test]
fn audience_rules_per_mode() {
    let public = READY;
    assert_eq!(
        run_as(public, Mode::Development).status("SG-ENV-DEV-INTERNAL"),
        Status::Fail
    );
    assert_eq!(
        run_as(public, Mode::Staging).status("SG-ENV-STAGING-INTERNAL"),
        Status::Fail
    );
    assert_eq!(
        run_as(public, Mode::SoftLaunch).status("SG-ENV-SOFT-AUDIENCE"),
        Status::Fail
    );
    let limited = edit("audience = \"public\"", "audience = \"limited\"");
    assert_eq!(
        run_as(&limited, Mode::SoftLaunch).status("SG-ENV-SOFT-AUDIENCE"),
        Status::Pass
    );
    assert_eq!(
        run_as(&limited, Mode::Staging).status("SG-ENV-STAGING-INTERNAL"),
        Status::Fail
    );
    let internal = edit("audience = \"public\"", "audience = \"internal\"");
    assert_eq!(
        run_as(&internal, Mode::SoftLaunch).status("SG-ENV-SOFT-AUDIENCE"),
        Status::Pass
    );
    assert_eq!(
        run_as(&internal, Mode::Development).status("SG-ENV-DEV-INTERNAL"),
        Status::Pass
    );
    // Unset audience takes the evaluated mode's default.
    let unset = edit("audience = \"public\"\n", "");
    assert_eq!(
        run_as(&unset, Mode::Staging).status("SG-ENV-STAGING-INTERNAL"),
        Status::Pass
    );
    assert_eq!(
        run_as(&unset, Mode::SoftLaunch).status("SG-ENV-SOFT-AUDIENCE"),
        Status::Pass
    );
    assert!(
        run_as(&unset, Mode::Staging)
            .get("SG-ENV-STAGING-INTERNAL")
            .message
            .contains("default")
    );
}

#[test]
fn staging_control_is_recommended() {
    let dev_team = edit("controlled_by = \"client\"", "controlled_by = \"dev-team\"");
    let r = run_as(&dev_team, Mode::Staging);
    assert_eq!(r.status("SG-ENV-STAGING-CONTROL"), Status::Warn);
    let unset = edit("controlled_by = \"client\"\n", "");
    assert_eq!(
        run_as(&unset, Mode::Staging).status("SG-ENV-STAGING-CONTROL"),
        Status::Warn
    );
    assert_eq!(
        run_as(READY, Mode::Staging).status("SG-ENV-STAGING-CONTROL"),
        Status::Pass
    );
}

// --- infrastructure and compliance ------------------------------------------

#[test]
fn instance_required_from_staging() {
    let spec = r#"
[product]
name = "x"
[environments.e]
mode = "staging"
"#;
    let r = run_with(spec, "e", None, "2026-06-01", present);
    assert_eq!(r.get("SG-INFRA-INSTANCE").message, "no server is declared");
    assert_eq!(r.status("SG-INFRA-INSTANCE"), Status::Fail);
    assert_eq!(
        run_with(spec, "e", Some(Mode::Development), "2026-06-01", present)
            .status("SG-INFRA-INSTANCE"),
        Status::Skip
    );
}

#[test]
fn regions_need_servers() {
    let spec = edit("regions = [\"eu\"]", "regions = [\"eu\", \"us\"]");
    let f = run(&spec).get("SG-INFRA-REGIONS");
    assert_eq!(
        (f.status, f.message.as_str()),
        (Status::Warn, "no server serves region us")
    );
}

#[test]
fn frameworks_follow_data_classes() {
    let health = edit(
        "data_classes = [\"personal\"]",
        "data_classes = [\"personal\", \"health\", \"payment-card\"]",
    );
    let f = run(&health).get("SG-COMP-FRAMEWORKS");
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.message,
        "health data needs hipaa and payment-card data needs pci-dss, which `product.frameworks` does not list"
    );
    let no_gdpr = edit("frameworks = [\"gdpr\"]", "frameworks = []");
    assert!(
        run(&no_gdpr)
            .get("SG-COMP-FRAMEWORKS")
            .message
            .starts_with("personal data in region eu needs gdpr")
    );
    let us_only = no_gdpr.replace("regions = [\"eu\"]", "regions = [\"us\"]");
    assert_eq!(run(&us_only).status("SG-COMP-FRAMEWORKS"), Status::Pass);
    let gov = edit(
        "data_classes = [\"personal\"]",
        "data_classes = [\"government\", \"cui\"]",
    );
    assert!(
        run(&gov)
            .get("SG-COMP-FRAMEWORKS")
            .message
            .contains("government data needs fisma and cui data needs nist-800-171")
    );
}

// --- waivers ----------------------------------------------------------------

fn waived(expires: &str) -> String {
    format!(
        "{}\n[[waivers]]\nrule = \"SG-BACKUP-RPO\"\nenvironment = \"production\"\nreason = \"Hourly backups ship next sprint\"\nexpires = {expires}\napproved_by = \"cto@example.com\"\n",
        edit(
            "interval = \"1h\"\nencrypted",
            "interval = \"6h\"\nencrypted"
        )
    )
}

#[test]
fn waiver_expiring_today_still_waives() {
    let r = run_with(
        &waived("2026-06-01"),
        "production",
        None,
        "2026-06-01",
        present,
    );
    let f = r.get("SG-BACKUP-RPO");
    assert_eq!(f.status, Status::Waived);
    // The underlying failure stays visible.
    assert_eq!(
        f.message,
        "interval 6h exceeds rpo 4h: up to 6h of data can be lost"
    );
    let w = f.waiver.expect("waiver");
    assert!(!w.expired);
    assert_eq!(w.approved_by.as_deref(), Some("cto@example.com"));
    assert_eq!(r.verdict, Verdict::Ready);
}

#[test]
fn waiver_that_expired_yesterday_does_not_waive() {
    let r = run_with(
        &waived("2026-05-31"),
        "production",
        None,
        "2026-06-01",
        present,
    );
    let f = r.get("SG-BACKUP-RPO");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "interval 6h exceeds rpo 4h: up to 6h of data can be lost; the waiver expired on 2026-05-31"
    );
    assert!(f.waiver.expect("waiver").expired);
    assert_eq!(r.verdict, Verdict::Blocked);
}

#[test]
fn waiver_for_another_environment_does_not_apply() {
    let spec = format!(
        "{}\n[environments.staging]\nmode = \"staging\"\n",
        waived("2027-01-01").replace("environment = \"production\"", "environment = \"staging\"")
    );
    assert_eq!(run(&spec).status("SG-BACKUP-RPO"), Status::Fail);
}

#[test]
fn a_later_active_waiver_wins_over_an_expired_one() {
    let spec = format!(
        "{}\n[[waivers]]\nrule = \"SG-BACKUP-RPO\"\nenvironment = \"production\"\nreason = \"extended\"\nexpires = 2026-07-01\n",
        waived("2026-05-01")
    );
    let f = run(&spec).get("SG-BACKUP-RPO");
    assert_eq!(f.status, Status::Waived);
    assert_eq!(f.waiver.expect("waiver").reason, "extended");
}

#[test]
fn a_waiver_for_a_passing_rule_is_reported_as_unneeded() {
    let spec = format!(
        "{}\n[[waivers]]\nrule = \"SG-BACKUP-RPO\"\nenvironment = \"production\"\nreason = \"r\"\nexpires = 2027-01-01\n",
        READY
    );
    let f = run(&spec).get("SG-BACKUP-RPO");
    assert_eq!(f.status, Status::Pass);
    assert!(
        f.message
            .ends_with("the waiver until 2027-01-01 is no longer needed and can be removed")
    );
}

#[test]
fn a_waiver_also_silences_a_warning() {
    let spec = format!(
        "{}\n[[waivers]]\nrule = \"SG-OBS-PLATFORM\"\nenvironment = \"production\"\nreason = \"r\"\nexpires = 2027-01-01\n",
        edit(
            "[environments.production.observability]\nmetrics = \"http://prometheus:9090\"\n",
            ""
        )
    );
    assert_eq!(run(&spec).status("SG-OBS-PLATFORM"), Status::Waived);
}

#[test]
fn findings_point_at_the_spec_line_concerned() {
    let spec = edit("location = \"ams1\"", "location = \"fra1\"");
    let source = SourceFile::new("stagegate.toml", spec.clone());
    let f = run(&spec).get("SG-BACKUP-OFFSITE");
    let lc = source.span_start(f.span.expect("span"));
    let line = spec.lines().nth(lc.line - 1).expect("line");
    assert_eq!(line, "location = \"fra1\"");
    assert!(line.starts_with("location") && lc.column == 12);
}

#[test]
fn skipped_rules_say_where_they_apply() {
    let f = run(READY).get("SG-ENV-DEV-INTERNAL");
    assert_eq!(f.status, Status::Skip);
    assert_eq!(f.message, "applies in development only, not in production");
}

// --- live rules, judged from constructed evidence ----------------------------

mod live {
    use super::*;
    use crate::{
        CertificateObservation, ExposureObservation, LiveEvidence, Observation, Observed,
        PresentedCertificate,
    };

    fn obs(subject: &str, status: Observed, summary: &str) -> Observation {
        Observation {
            subject: subject.into(),
            status,
            summary: summary.into(),
            details: vec![],
        }
    }

    fn judge(toml: &str, live: &LiveEvidence, rule: &str) -> Finding {
        let spec = parse(toml);
        let e = spec.environment("production").expect("env");
        let result = evaluate_environment(
            &spec,
            e,
            e.mode.value,
            date("2026-06-01"),
            &present(&spec),
            Some(live),
        );
        Run::of(rule, &result.findings)
    }

    #[test]
    fn checks_fail_when_any_probe_fails_and_skip_heartbeats() {
        let mut live = LiveEvidence::new();
        live.add_check(
            "production",
            "web",
            obs("check web (http)", Observed::Pass, "HTTP 200"),
        );
        live.add_check(
            "production",
            "db",
            obs("check db (tcp)", Observed::Fail, "connection refused"),
        );
        live.add_check(
            "production",
            "backup",
            obs("check backup (heartbeat)", Observed::Skip, "server only"),
        );
        let f = judge(READY, &live, "SG-LIVE-CHECKS");
        assert_eq!(f.status, Status::Fail);
        assert_eq!(f.message, "1 of 2 checks fail now: db (connection refused)");
        assert_eq!(f.evidence.len(), 3);
        live.add_check(
            "production",
            "db",
            obs("check db (tcp)", Observed::Pass, "open"),
        );
        let f = judge(READY, &live, "SG-LIVE-CHECKS");
        assert_eq!(
            (f.status, f.message.as_str()),
            (
                Status::Pass,
                "all 2 checks pass now (1 heartbeat observed only by the server)"
            )
        );
        let mut only_heartbeats = LiveEvidence::new();
        only_heartbeats.add_check(
            "production",
            "backup",
            obs("check backup (heartbeat)", Observed::Skip, "server only"),
        );
        assert_eq!(
            judge(READY, &only_heartbeats, "SG-LIVE-CHECKS").status,
            Status::Skip
        );
    }

    #[test]
    fn a_failing_restic_check_fails_backup_freshness() {
        let mut live = LiveEvidence::new();
        assert_eq!(judge(READY, &live, "SG-BACKUP-FRESH").status, Status::Skip);
        live.add_backup(
            "production",
            obs(
                "check snapshots (restic)",
                Observed::Fail,
                "the newest snapshot is 3d 2h old",
            ),
        );
        let f = judge(READY, &live, "SG-BACKUP-FRESH");
        assert_eq!(
            (f.status, f.message.as_str()),
            (Status::Fail, "the newest snapshot is 3d 2h old")
        );
    }

    #[test]
    fn exposure_needs_declared_ports_somewhere_and_nothing_else() {
        let scan = |status, open: Vec<u16>, summary: &str| ExposureObservation {
            server: "app-1".into(),
            observation: obs("server app-1 (10.0.0.1)", status, summary),
            open,
        };
        let mut live = LiveEvidence::new();
        live.add_exposure("production", scan(Observed::Pass, vec![443], "only 443"));
        assert_eq!(judge(READY, &live, "SG-SEC-EXPOSURE").status, Status::Pass);
        let mut quiet = LiveEvidence::new();
        quiet.add_exposure("production", scan(Observed::Pass, vec![], "none open"));
        let f = judge(READY, &quiet, "SG-SEC-EXPOSURE");
        assert_eq!(
            (f.status, f.message.as_str()),
            (
                Status::Fail,
                "declared public port 443 answers on no server"
            )
        );
        let mut exposed = LiveEvidence::new();
        exposed.add_exposure(
            "production",
            scan(
                Observed::Fail,
                vec![443, 5432],
                "10.0.0.1: 5432 (PostgreSQL) answers but is not in public_ports",
            ),
        );
        assert_eq!(
            judge(READY, &exposed, "SG-SEC-EXPOSURE").message,
            "10.0.0.1: 5432 (PostgreSQL) answers but is not in public_ports"
        );
        // Staging is not scanned for exposure.
        let spec = parse(READY);
        let e = spec.environment("production").expect("env");
        let r = evaluate_environment(
            &spec,
            e,
            Mode::Staging,
            date("2026-06-01"),
            &present(&spec),
            Some(&exposed),
        );
        assert_eq!(Run::of("SG-SEC-EXPOSURE", &r.findings).status, Status::Skip);
    }

    #[test]
    fn tls_judges_every_presented_certificate() {
        let https = READY.replace(
            "url = \"https://shop.example.com/healthz\"",
            "url = \"https://shop.example.com/healthz\"\nexpect = { cert_valid_for = \"14d\" }",
        );
        let cert = |days_left, error: Option<&str>| CertificateObservation {
            check: "web".into(),
            host: "shop.example.com".into(),
            presented: Some(PresentedCertificate {
                subject: "CN=shop.example.com".into(),
                not_after: "2026-07-01T00:00:00Z".into(),
                days_left,
                verify_error: error.map(str::to_owned),
            }),
            unreachable: None,
            min_days: Some(14),
        };
        let mut live = LiveEvidence::new();
        live.add_certificate("production", cert(30, None));
        assert_eq!(judge(&https, &live, "SG-SEC-TLS").status, Status::Pass);
        let mut soon = LiveEvidence::new();
        soon.add_certificate("production", cert(13, None));
        let f = judge(&https, &soon, "SG-SEC-TLS");
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.message.contains(
                "it expires in 13 days, on 2026-07-01T00:00:00Z (cert_valid_for requires 14)"
            ),
            "{}",
            f.message
        );
        let mut bad = LiveEvidence::new();
        bad.add_certificate("production", cert(30, Some("the certificate has expired")));
        assert_eq!(
            judge(&https, &bad, "SG-SEC-TLS").message,
            "web (shop.example.com): the certificate has expired"
        );
        let mut unreachable = LiveEvidence::new();
        unreachable.add_certificate(
            "production",
            CertificateObservation {
                presented: None,
                unreachable: Some("connection refused".into()),
                ..cert(0, None)
            },
        );
        let f = judge(&https, &unreachable, "SG-SEC-TLS");
        assert_eq!(
            (f.status, f.message.as_str()),
            (
                Status::Fail,
                "no certificate could be inspected; not inspected (unreachable): web"
            )
        );
    }
}
