//! Boundary tests of the operations rules.

use super::*;

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
