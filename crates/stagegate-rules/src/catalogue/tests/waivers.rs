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
