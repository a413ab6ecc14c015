//! Boundary tests of the monitoring rules.

use super::*;

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
