//! Boundary tests of the security rules.

use super::*;

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

fn pentest_at(as_of: &str, spec: &str) -> Finding<'static> {
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
