//! Boundary tests of the waivers rules.

use super::*;

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
        "{}\n[[waivers]]\nrule = \"SG-BACKUP-RPO\"\nenvironment = \"production\"\nreason = \"extended\"\nexpires = 2026-07-01\napproved_by = \"cto@example.com\"\n",
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
        "{}\n[[waivers]]\nrule = \"SG-OBS-PLATFORM\"\nenvironment = \"production\"\nreason = \"r\"\nexpires = 2026-08-01\napproved_by = \"cto@example.com\"\n",
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

/// READY with SG-BACKUP-RPO failing and a waiver for it with `extra` keys.
fn waiver_with(extra: &str, expires: &str) -> String {
    format!(
        "{}\n[[waivers]]\nrule = \"SG-BACKUP-RPO\"\nenvironment = \"production\"\nreason = \"r\"\nexpires = {expires}\n{extra}",
        edit(
            "interval = \"1h\"\nencrypted",
            "interval = \"6h\"\nencrypted"
        )
    )
}

#[test]
fn in_production_a_waiver_without_an_approver_does_not_waive() {
    let f = run(&waiver_with("", "2026-07-01")).get("SG-BACKUP-RPO");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.ends_with(
            "the waiver names no `approved_by`, which production requires, so it does not waive"
        ),
        "{}",
        f.message
    );
    let w = f.waiver.expect("the waiver is reported");
    assert!(w.problem.is_some() && !w.expired);
}

#[test]
fn a_waiver_may_run_waiver_max_days_from_its_grant_and_not_a_day_longer() {
    let by = "approved_by = \"cto@example.com\"\n";
    // Granted 2026-05-01: 90 days later is 2026-07-30.
    let granted = format!("{by}granted = 2026-05-01\n");
    let at_limit = run(&waiver_with(&granted, "2026-07-30")).get("SG-BACKUP-RPO");
    assert_eq!(at_limit.status, Status::Waived, "{}", at_limit.message);
    let over = run(&waiver_with(&granted, "2026-07-31")).get("SG-BACKUP-RPO");
    assert_eq!(over.status, Status::Fail);
    assert!(
        over.message.contains(
            "the waiver runs 91 days, from 2026-05-01 to 2026-07-31, longer than policy.waiver_max_days (90) allows in production"
        ),
        "{}",
        over.message
    );
    // Without `granted`, the waiver counts from the as-of date.
    let ungranted = run(&waiver_with(by, "2026-08-30")).get("SG-BACKUP-RPO");
    assert_eq!(ungranted.status, Status::Waived);
    let ungranted = run(&waiver_with(by, "2026-08-31")).get("SG-BACKUP-RPO");
    assert_eq!(ungranted.status, Status::Fail);
}

#[test]
fn waiver_max_days_is_a_policy() {
    let spec = format!(
        "{}\n[policy]\nwaiver_max_days = 10\n",
        waiver_with("approved_by = \"cto@example.com\"\n", "2026-06-12")
    );
    assert_eq!(run(&spec).status("SG-BACKUP-RPO"), Status::Fail);
}

#[test]
fn a_waiver_granted_after_the_as_of_date_does_not_waive() {
    let extra = "approved_by = \"cto@example.com\"\ngranted = 2026-06-02\n";
    let f = run(&waiver_with(extra, "2026-07-01")).get("SG-BACKUP-RPO");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .contains("granted on 2026-06-02, after the as-of date 2026-06-01")
    );
}

#[test]
fn a_waiver_that_expires_before_it_was_granted_is_a_spec_error() {
    let text = waiver_with("granted = 2026-06-02\n", "2026-06-01");
    let source = SourceFile::new("stagegate.toml", text);
    let ids = rule_ids();
    let opts = LoadOptions {
        env: &|_| Some("t".into()),
        known_rules: &ids,
        known_controls: crate::frameworks::control_ids,
    };
    let errors = load(&source, &opts).expect_err("invalid");
    assert!(
        errors
            .iter()
            .any(|d| d.message == "waiver expires before it was granted"),
        "{errors:?}"
    );
}

#[test]
fn in_production_a_blank_approver_is_no_approver() {
    for blank in ["\"\"", "\"   \""] {
        let f = run(&waiver_with(
            &format!("approved_by = {blank}\n"),
            "2026-07-01",
        ))
        .get("SG-BACKUP-RPO");
        assert_eq!(f.status, Status::Fail, "{blank}: {}", f.message);
    }
}
