//! Boundary tests of the environment rules.

use super::*;

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
