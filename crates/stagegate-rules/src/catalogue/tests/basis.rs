//! What each finding rests on: declared values, documents read, drills and
//! observations, and observations that have grown too old to count.

use super::*;
use crate::{Basis, LiveEvidence, Observation, Observed};

fn observed_at(at: i64, status: Observed) -> Observation {
    Observation {
        subject: "check web (http)".into(),
        status,
        summary: "HTTP 200".into(),
        details: vec![],
        source: "https://shop.example.com/healthz".into(),
        at,
    }
}

/// SG-LIVE-CHECKS of READY with both probed checks passing at `at`, judged
/// at `now`.
fn live_checks(at: i64, now: i64) -> Finding<'static> {
    let spec = kept(parse(READY));
    let e = spec.environment("production").expect("env");
    let mut live = LiveEvidence::new();
    live.add_check("production", "web", observed_at(at, Observed::Pass));
    live.add_check("production", "db", observed_at(at, Observed::Pass));
    let result = Evaluator::new(spec, date("2026-06-01"), &present(spec))
        .live(Some(&live))
        .now(now)
        .environment(e, e.mode.value);
    Run::of("SG-LIVE-CHECKS", &result.findings)
}

#[test]
fn a_value_in_the_spec_is_declared_and_cites_nothing() {
    let f = run(READY).get("SG-BACKUP-OFFSITE");
    assert_eq!((f.status, f.basis), (Status::Pass, Basis::Declared));
    assert!(f.evidence.is_empty());
}

#[test]
fn runbooks_read_are_documents_with_their_hash_and_date() {
    let f = run(READY).get("SG-OPS-RUNBOOKS");
    assert_eq!((f.status, f.basis), (Status::Pass, Basis::Document));
    let sources: Vec<&str> = f.evidence.iter().map(|e| e.source.as_str()).collect();
    assert!(sources.contains(&"rb/failure.md"), "{sources:?}");
    let failure = f
        .evidence
        .iter()
        .find(|e| e.source == "rb/failure.md")
        .expect("cited");
    assert_eq!(failure.what, "runbook failure");
    assert_eq!(
        failure.sha256.as_deref(),
        Some(fake_sha("rb/failure.md").as_str())
    );
    assert_eq!(failure.at, Some(unix(date("2026-04-01"))));
}

#[test]
fn a_file_that_exists_but_was_not_hashed_is_not_a_document() {
    // Facts that know a file exists but hold no hash: nothing was read, so
    // nothing is cited and the pass rests on the spec alone.
    let bare = |s: &Spec| {
        let mut f = FileFacts::new();
        for p in FileFacts::referenced_paths(s) {
            f.insert(p, FileState::Present);
        }
        f
    };
    let f = run_with(READY, "production", None, "2026-06-01", bare).get("SG-OPS-RUNBOOKS");
    assert_eq!((f.status, f.basis), (Status::Pass, Basis::Declared));
}

#[test]
fn a_missing_runbook_fails_on_the_documents_that_are_there() {
    let missing = |s: &Spec| {
        let mut f = present(s);
        f.insert("rb/failure.md", FileState::Missing);
        f
    };
    let f = run_with(READY, "production", None, "2026-06-01", missing).get("SG-OPS-RUNBOOKS");
    assert_eq!(f.status, Status::Fail);
    assert!(!f.evidence.iter().any(|e| e.source == "rb/failure.md"));
}

#[test]
fn a_recorded_drill_is_observed() {
    let f = run(READY).get("SG-BACKUP-DRILL");
    assert_eq!((f.status, f.basis), (Status::Pass, Basis::Observed));
    let drill = &f.evidence[0];
    assert_eq!(drill.source, "stagegate.drills.jsonl");
    assert_eq!(drill.at, Some(unix(date("2026-05-01"))));
    assert!(
        !drill.stale,
        "a drill is judged by `every`, not evidence_max_age"
    );
}

#[test]
fn skipped_rules_rest_on_nothing() {
    let f = run(READY).get("SG-ENV-DEV-INTERNAL");
    assert_eq!((f.status, f.basis), (Status::Skip, Basis::None));
}

#[test]
fn observations_count_up_to_evidence_max_age_and_not_a_second_longer() {
    let at = 1_780_293_600;
    let seven_days = 7 * 86_400;
    let fresh = live_checks(at, at + seven_days);
    assert_eq!((fresh.status, fresh.basis), (Status::Pass, Basis::Observed));
    assert!(fresh.evidence.iter().all(|e| !e.stale));

    let stale = live_checks(at, at + seven_days + 1);
    assert_eq!(stale.status, Status::Fail, "{}", stale.message);
    assert!(
        stale
            .message
            .contains("the newest observation is 7d 0h old, older than evidence_max_age 7d"),
        "{}",
        stale.message
    );
    assert!(stale.evidence.iter().all(|e| e.stale));
    assert_ne!(stale.basis, Basis::Observed);
}

#[test]
fn evidence_max_age_is_a_policy() {
    let toml = format!("{READY}\n[policy]\nevidence_max_age = \"1h\"\n");
    let spec = kept(parse(&toml));
    let e = spec.environment("production").expect("env");
    let at = 1_780_293_600;
    let mut live = LiveEvidence::new();
    live.add_check("production", "web", observed_at(at, Observed::Pass));
    let judge = |now| {
        let result = Evaluator::new(spec, date("2026-06-01"), &present(spec))
            .live(Some(&live))
            .now(now)
            .environment(e, e.mode.value);
        Run::of("SG-LIVE-CHECKS", &result.findings).status
    };
    assert_eq!(judge(at + 3_600), Status::Pass);
    assert_eq!(judge(at + 3_601), Status::Fail);
}

#[test]
fn a_failing_observation_stays_a_failure_however_old() {
    let spec = kept(parse(READY));
    let e = spec.environment("production").expect("env");
    let mut live = LiveEvidence::new();
    live.add_check("production", "web", observed_at(0, Observed::Fail));
    let result = Evaluator::new(spec, date("2026-06-01"), &present(spec))
        .live(Some(&live))
        .environment(e, e.mode.value);
    let f = Run::of("SG-LIVE-CHECKS", &result.findings);
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.message, "1 of 1 checks fail now: web (HTTP 200)");
}
