//! Boundary tests of the backup rules.

use super::*;

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

/// A location string alone, with no server to compare it with, shows
/// nothing: the rule does not judge (and CP-6(1) cannot rest on it).
#[test]
fn offsite_is_not_judged_without_servers() {
    let r = run(
        "[product]\nname = \"x\"\n\n[environments.production]\nmode = \"production\"\n\n[environments.production.backup]\nlocation = \"ams1\"\ninterval = \"1h\"\n",
    );
    let f = r.get("SG-BACKUP-OFFSITE");
    assert_eq!(f.status, Status::Skip, "{}", f.message);
    assert!(
        f.message.contains("no servers are declared"),
        "{}",
        f.message
    );
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
