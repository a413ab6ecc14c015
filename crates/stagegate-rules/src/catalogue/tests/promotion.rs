//! Boundary tests of the promotion gates, judged from constructed server
//! facts: soak to the minute, availability at the target, approvals at
//! their expiry, freeze windows across a DST change.

use super::*;
use crate::{Approval, Availability, BackupRuns, PromotionFacts};

/// READY's production as a soft launch about to be promoted, with the
/// promotion gates required.
fn soft(extra: &str) -> String {
    format!(
        "{}\n[policy.promotion]\nsoak = {{ soft-launch = \"14d\" }}\n{extra}",
        READY
            .replace(
                "mode = \"production\"",
                "mode = \"soft-launch\"\naudience = \"limited\""
            )
            .replace("audience = \"public\"\n", "")
    )
}

const NOW: i64 = 1_780_300_800; // 2026-06-01T08:00:00Z
const SHA: &str = "5ec0000000000000000000000000000000000000000000000000000000000000";

fn facts() -> PromotionFacts {
    PromotionFacts {
        environment: "production".into(),
        now: NOW,
        promoter: Some("alice".into()),
        spec_sha256: SHA.into(),
        source: "fra-1@fra".into(),
        in_mode_since: Some(NOW - 20 * 86_400),
        in_mode_since_from: "promotion #3 by alice".into(),
        availability: Some(Availability {
            from: NOW - 14 * 86_400,
            down_secs: 0,
            checks: vec!["web".into()],
        }),
        open_incidents: vec![],
        backup_runs: Some(BackupRuns {
            check: "backup".into(),
            runs: vec![
                (NOW - 3_600, true),
                (NOW - 90_000, true),
                (NOW - 180_000, true),
            ],
        }),
        approvals: vec![Approval {
            id: 1,
            by: "bob".into(),
            to: "production".into(),
            at: NOW - 3_600,
            expires_at: NOW + 6 * 86_400,
            spec_sha256: SHA.into(),
        }],
    }
}

fn judge(toml: &str, to: Mode, f: &PromotionFacts, rule: &str) -> Finding<'static> {
    let spec = kept(parse(toml));
    let e = spec.environment("production").expect("env");
    let facts = present(spec);
    let result = Evaluator::new(spec, date("2026-06-01"), &facts)
        .promotion(Some(f))
        .now(f.now)
        .environment(e, to);
    Run::of(rule, &result.findings)
}

fn gate(f: &PromotionFacts, rule: &str) -> Finding<'static> {
    judge(&soft(""), Mode::Production, f, rule)
}

#[test]
fn without_server_facts_every_gate_skips() {
    let run = run_as(&soft(""), Mode::Production);
    for rule in [
        "SG-PROMO-SOAK",
        "SG-PROMO-SLO",
        "SG-PROMO-INCIDENTS",
        "SG-PROMO-BACKUP-RUNS",
        "SG-PROMO-APPROVAL",
        "SG-PROMO-FREEZE",
    ] {
        assert_eq!(run.status(rule), Status::Skip, "{rule}");
    }
}

#[test]
fn the_ready_facts_pass_every_gate_on_observed_records() {
    for rule in [
        "SG-PROMO-SOAK",
        "SG-PROMO-SLO",
        "SG-PROMO-INCIDENTS",
        "SG-PROMO-BACKUP-RUNS",
        "SG-PROMO-APPROVAL",
        "SG-PROMO-FREEZE",
    ] {
        let f = gate(&facts(), rule);
        assert_eq!(f.status, Status::Pass, "{rule}: {}", f.message);
    }
    let soak = gate(&facts(), "SG-PROMO-SOAK");
    assert_eq!(soak.basis, crate::Basis::Observed);
    assert_eq!(soak.evidence[0].source, "fra-1@fra");
}

#[test]
fn soak_counts_to_the_second() {
    let mut f = facts();
    f.in_mode_since = Some(NOW - 14 * 86_400);
    assert_eq!(gate(&f, "SG-PROMO-SOAK").status, Status::Pass);
    f.in_mode_since = Some(NOW - 14 * 86_400 + 60);
    let short = gate(&f, "SG-PROMO-SOAK");
    assert_eq!(short.status, Status::Fail);
    assert!(
        short
            .message
            .contains("in soft launch for 13d 23h of the 14d soak")
            && short.message.contains("1m to go"),
        "{}",
        short.message
    );
    f.in_mode_since = None;
    assert!(
        gate(&f, "SG-PROMO-SOAK")
            .message
            .contains("no record of production in soft launch")
    );
}

#[test]
fn availability_exactly_at_the_target_passes() {
    let mut f = facts();
    // 99.9% of 14 days: 1209.6 s of budget.
    let window = 14 * 86_400;
    f.availability = Some(Availability {
        from: NOW - window,
        down_secs: window / 1000,
        checks: vec!["web".into()],
    });
    let at = gate(&f, "SG-PROMO-SLO");
    assert_eq!(at.status, Status::Pass, "{}", at.message);
    assert!(
        at.message.starts_with(
            "measured 99.900% over 14d 0h of web (target 99.9%), error budget used 100%"
        ),
        "{}",
        at.message
    );
    f.availability = Some(Availability {
        from: NOW - window,
        down_secs: window / 1000 + 1,
        checks: vec!["web".into()],
    });
    let below = gate(&f, "SG-PROMO-SLO");
    assert_eq!(below.status, Status::Fail);
    assert!(
        below.message.contains("down 20m in the window"),
        "{}",
        below.message
    );
}

#[test]
fn open_incidents_and_failed_backup_runs_block() {
    let mut f = facts();
    f.open_incidents = vec!["#7 web (open since 2026-06-01T07:00:00Z)".into()];
    assert!(
        gate(&f, "SG-PROMO-INCIDENTS")
            .message
            .contains("1 incident is open: #7 web")
    );
    let mut f = facts();
    f.backup_runs = Some(BackupRuns {
        check: "backup".into(),
        runs: vec![(NOW - 3_600, true), (NOW - 90_000, false)],
    });
    let m = gate(&f, "SG-PROMO-BACKUP-RUNS").message;
    assert!(m.contains("backup reported 2 of the 3 runs needed"), "{m}");
    assert!(m.contains("failed runs at 2026-05-31T07:00:00Z"), "{m}");
}

#[test]
fn approvals_count_until_they_expire_and_never_from_the_promoter() {
    let mut f = facts();
    f.approvals[0].expires_at = NOW + 1;
    assert_eq!(gate(&f, "SG-PROMO-APPROVAL").status, Status::Pass);
    f.approvals[0].expires_at = NOW;
    let expired = gate(&f, "SG-PROMO-APPROVAL");
    assert_eq!(expired.status, Status::Fail);
    assert!(
        expired.message.contains("approval #1 by bob expired"),
        "{}",
        expired.message
    );

    let mut f = facts();
    f.approvals[0].by = "Alice".into();
    assert!(
        gate(&f, "SG-PROMO-APPROVAL")
            .message
            .contains("Alice cannot approve their own promotion")
    );
    let mut f = facts();
    f.approvals[0].spec_sha256 = "0ther".into();
    assert!(
        gate(&f, "SG-PROMO-APPROVAL")
            .message
            .contains("another version of the spec")
    );
    let mut f = facts();
    f.approvals[0].to = "soft-launch".into();
    assert!(
        gate(&f, "SG-PROMO-APPROVAL")
            .message
            .contains("is for soft-launch")
    );
}

#[test]
fn the_client_signs_off_the_soft_launch() {
    let staging = READY
        .replace("mode = \"production\"", "mode = \"staging\"")
        .replace("audience = \"public\"", "audience = \"internal\"")
        .replace(
            "[contacts.ops]",
            "[contacts.client]\nemail = \"cto@client.example\"\nsigns_off = true\n\n[contacts.ops]",
        );
    let mut f = facts();
    f.approvals[0].to = "soft-launch".into();
    let signed = judge(&staging, Mode::SoftLaunch, &f, "SG-PROMO-SIGNOFF");
    assert_eq!(
        signed.status,
        Status::Warn,
        "bob is not the client: {}",
        signed.message
    );
    assert!(
        signed
            .message
            .contains("client has not approved this promotion")
    );
    f.approvals[0].by = "CTO@client.example".into();
    let signed = judge(&staging, Mode::SoftLaunch, &f, "SG-PROMO-SIGNOFF");
    assert_eq!(signed.status, Status::Pass, "{}", signed.message);
}

#[test]
fn without_a_promotion_policy_gates_only_recommend() {
    let spec = soft("").replace("[policy.promotion]\nsoak = { soft-launch = \"14d\" }\n", "");
    let mut f = facts();
    f.open_incidents = vec!["#7 web".into()];
    let found = judge(&spec, Mode::Production, &f, "SG-PROMO-INCIDENTS");
    assert_eq!(found.status, Status::Warn);
    assert!(
        found
            .message
            .ends_with("(required once the spec has `[policy.promotion]`)")
    );
}

#[test]
fn freeze_windows_hold_across_a_dst_change() {
    // 02:30 on 2026-03-29 does not exist in Berlin (clocks jump from 02:00
    // to 03:00): the window starts at 03:30 CEST, 01:30 UTC.
    let spec = soft(
        "\n[[freeze]]\nstart = \"2026-03-29 02:30\"\nend = 2026-03-30T00:00:00\ntimezone = \"Europe/Berlin\"\nreason = \"Migration weekend\"\n",
    );
    let mut f = facts();
    let start = 1_774_747_800; // 2026-03-29T01:30:00Z
    f.now = start - 1;
    f.in_mode_since = Some(f.now - 20 * 86_400);
    assert_eq!(
        judge(&spec, Mode::Production, &f, "SG-PROMO-FREEZE").status,
        Status::Pass
    );
    f.now = start;
    let frozen = judge(&spec, Mode::Production, &f, "SG-PROMO-FREEZE");
    assert_eq!(frozen.status, Status::Fail);
    assert!(
        frozen.message.contains("Migration weekend"),
        "{}",
        frozen.message
    );
    // The end is exclusive: midnight CEST is 22:00 UTC.
    f.now = 1_774_821_600 - 1;
    assert_eq!(
        judge(&spec, Mode::Production, &f, "SG-PROMO-FREEZE").status,
        Status::Fail
    );
    f.now = 1_774_821_600;
    assert_eq!(
        judge(&spec, Mode::Production, &f, "SG-PROMO-FREEZE").status,
        Status::Pass
    );
}

#[test]
fn bad_freeze_windows_are_spec_errors() {
    for (window, message) in [
        (
            "start = \"2026-12-20 00:00\"\nend = \"2026-12-19 00:00\"\ntimezone = \"UTC\"",
            "freeze window ends before it starts",
        ),
        (
            "start = \"2026-12-20 00:00\"\nend = \"2026-12-21 00:00\"\ntimezone = \"Europe/Berln\"",
            "unknown time zone",
        ),
        (
            "start = \"20 Dec\"\nend = \"2026-12-21 00:00\"\ntimezone = \"UTC\"",
            "invalid local date and time for `freeze[0].start`",
        ),
        (
            "start = \"2026-12-20T00:00:00+10:00\"\nend = \"2026-12-21 00:00\"\ntimezone = \"UTC\"",
            "invalid local date and time for `freeze[0].start`",
        ),
        (
            "start = \"2026-12-20 00:00\"\nend = \"2026-12-21 00:00\"\ntimezone = \"UTC\"\nenvironments = [\"prod\"]",
            "unknown environment `prod`",
        ),
    ] {
        let text = format!("{READY}\n[[freeze]]\n{window}\nreason = \"r\"\n");
        let source = SourceFile::new("stagegate.toml", text);
        let ids = rule_ids();
        let opts = LoadOptions {
            env: &|_| Some("t".into()),
            known_rules: &ids,
            known_controls: crate::frameworks::control_ids,
        };
        let errors = load(&source, &opts).expect_err("invalid");
        assert!(
            errors.iter().any(|d| d.message == message),
            "{message}: {errors:?}"
        );
    }
}
