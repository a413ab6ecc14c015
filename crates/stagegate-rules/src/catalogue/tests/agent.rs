//! Boundary tests of the agent rules, judged from constructed reports.

use super::*;
use crate::{
    AgentFirewall, AgentListener, AgentLogs, AgentObservation, AgentSsh, AgentUpdates,
    ExposureObservation, LiveEvidence, Observation, Observed, Reading,
};

/// The instant of evaluation: 12:00 UTC on 2026-06-01.
const NOW: i64 = 1_780_315_200;
const DAY: i64 = 86_400;

fn agent_spec(extra: &str) -> String {
    format!("{READY}\n[environments.production.agent]\ninterval = \"1h\"\n{extra}")
}

fn report(server: &str, at: i64) -> AgentObservation {
    AgentObservation {
        server: server.into(),
        at,
        source: format!("agent@{server}"),
        firewall: Reading::Read(AgentFirewall {
            backend: "nftables".into(),
            active: true,
            inbound_default: "drop".into(),
        }),
        listening: Reading::Read(vec![
            listener("0.0.0.0", 443, "nginx"),
            listener("127.0.0.1", 5432, "postgres"),
        ]),
        ssh: Reading::Read(AgentSsh {
            password_login: Vec::new(),
            permit_root_login: "prohibit-password".into(),
        }),
        updates: Reading::Read(AgentUpdates {
            manager: "apt".into(),
            pending: 3,
            security: Some(1),
            reboot_required: Some(false),
            pending_since: vec![("openssl".into(), NOW - DAY)],
        }),
        logs: Reading::Read(AgentLogs {
            errors: 240,
            window_secs: DAY,
            busiest: vec![("shop.service".into(), 200), ("sshd.service".into(), 40)],
        }),
    }
}

fn listener(address: &str, port: u16, process: &str) -> AgentListener {
    AgentListener {
        proto: "tcp".into(),
        address: address.into(),
        port,
        process: Some(process.into()),
    }
}

/// Every server of READY reporting `at`, changed by `change`.
fn all_report(at: i64, change: impl Fn(&mut AgentObservation)) -> LiveEvidence {
    let mut live = LiveEvidence::new();
    for s in ["app-1", "app-2", "app-3", "db-1"] {
        let mut r = report(s, at);
        change(&mut r);
        live.add_agent("production", r);
    }
    live
}

fn judge(toml: &str, live: &LiveEvidence, rule: &str) -> Finding<'static> {
    let spec = kept(parse(toml));
    let e = spec.environment("production").expect("env");
    let result = Evaluator::new(spec, date("2026-06-01"), &present(spec))
        .now(NOW)
        .live(Some(live))
        .environment(e, e.mode.value);
    Run::of(rule, &result.findings)
}

#[test]
fn agent_rules_wait_for_the_spec_to_opt_in() {
    let live = all_report(NOW, |_| {});
    for id in [
        "SG-OPS-PATCHES",
        "SG-OPS-AGENT",
        "SG-SEC-SSH",
        "SG-OPS-LOGS",
    ] {
        let f = judge(READY, &live, id);
        assert_eq!(f.status, Status::Skip, "{id}: {}", f.message);
    }
    // Without opting in, the firewall is what the spec declares.
    let f = judge(READY, &live, "SG-SEC-FIREWALL");
    assert_eq!(f.status, Status::Pass);
    assert!(f.evidence.iter().all(|e| e.basis != crate::Basis::Observed));
    // And a static check cannot judge them.
    let r = run(&agent_spec(""));
    assert_eq!(r.status("SG-OPS-AGENT"), Status::Skip);
}

#[test]
fn a_security_update_may_stay_pending_up_to_patch_max_age() {
    let spec = agent_spec("");
    let at = |age: i64| {
        all_report(NOW, move |r| {
            if let Reading::Read(u) = &mut r.updates {
                u.pending_since = vec![("openssl".into(), NOW - age)];
            }
        })
    };
    let f = judge(&spec, &at(14 * DAY), "SG-OPS-PATCHES");
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    assert_eq!(f.basis, crate::Basis::Observed);
    let f = judge(&spec, &at(14 * DAY + 1), "SG-OPS-PATCHES");
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("openssl for 14d"), "{}", f.message);
    // A pending reboot counts the same; a shorter policy is obeyed.
    let reboot = all_report(NOW, |r| {
        if let Reading::Read(u) = &mut r.updates {
            u.pending_since = vec![("(reboot required)".into(), NOW - 3 * DAY)];
        }
    });
    let short = format!("{spec}\n[policy]\npatch_max_age = \"2d\"\n");
    let f = judge(&short, &reboot, "SG-OPS-PATCHES");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.contains("(reboot required) for 3d"),
        "{}",
        f.message
    );
    // Updates the agent could not read are not "no updates".
    let blind = all_report(NOW, |r| {
        r.updates = Reading::Unavailable("apt-get did not finish within 60 s".into());
    });
    let f = judge(&spec, &blind, "SG-OPS-PATCHES");
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("updates not observed"), "{}", f.message);
}

#[test]
fn every_server_reports_within_twice_the_interval() {
    let spec = agent_spec("");
    let f = judge(&spec, &all_report(NOW - 2 * 3600, |_| {}), "SG-OPS-AGENT");
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    let f = judge(
        &spec,
        &all_report(NOW - 2 * 3600 - 1, |_| {}),
        "SG-OPS-AGENT",
    );
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.contains("app-1: last report 2h ago"),
        "{}",
        f.message
    );
    let mut missing = LiveEvidence::new();
    missing.add_agent("production", report("app-1", NOW));
    let f = judge(&spec, &missing, "SG-OPS-AGENT");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.contains("app-2 never reported") && f.message.contains("db-1 never reported"),
        "{}",
        f.message
    );
}

#[test]
fn ssh_takes_no_passwords() {
    let spec = agent_spec("");
    let f = judge(&spec, &all_report(NOW, |_| {}), "SG-SEC-SSH");
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    let open = all_report(NOW, |r| {
        if r.server == "db-1" {
            r.ssh = Reading::Read(AgentSsh {
                password_login: vec!["KbdInteractiveAuthentication yes".into()],
                permit_root_login: "yes".into(),
            });
        }
    });
    let f = judge(&spec, &open, "SG-SEC-SSH");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.starts_with(
            "db-1: password login is on (KbdInteractiveAuthentication yes) and root may log in"
        ),
        "{}",
        f.message
    );
    // Soft launch only recommends it.
    let soft = spec.replace("mode = \"production\"", "mode = \"soft-launch\"");
    assert_eq!(judge(&soft, &open, "SG-SEC-SSH").status, Status::Warn);
    // No SSH daemon at all: nobody logs in by SSH.
    let none = all_report(NOW, |r| {
        r.ssh = Reading::Unavailable("sshd is not installed".into())
    });
    assert_eq!(judge(&spec, &none, "SG-SEC-SSH").status, Status::Pass);
}

#[test]
fn log_errors_stay_under_the_ceiling() {
    // 240 errors in 24h is 10 an hour.
    let at = |max: u32| {
        agent_spec(&format!(
            "\n[environments.production.operations]\nlog_monitoring = \"ops\"\nbackup_monitoring = \"ops\"\nsecurity_updates = \"ops\"\nagreement = \"agreement.md\"\nlog_errors_max_per_hour = {max}\n"
        ))
    };
    let spec = |max: u32| {
        at(max).replace(
        "[environments.production.operations]\nlog_monitoring = \"ops\"\nbackup_monitoring = \"ops\"\nsecurity_updates = \"ops\"\nagreement = \"agreement.md\"\n\n[environments.production.runbooks]",
        "[environments.production.runbooks]",
    )
    };
    let live = all_report(NOW, |_| {});
    assert_eq!(
        judge(&agent_spec(""), &live, "SG-OPS-LOGS").status,
        Status::Skip
    );
    let f = judge(&spec(10), &live, "SG-OPS-LOGS");
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    let f = judge(&spec(9), &live, "SG-OPS-LOGS");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .contains("10.0 an hour (shop.service 200 and sshd.service 40)"),
        "{}",
        f.message
    );
}

#[test]
fn the_firewall_is_judged_from_what_the_agents_saw() {
    let spec = agent_spec("");
    let f = judge(&spec, &all_report(NOW, |_| {}), "SG-SEC-FIREWALL");
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    assert_eq!(f.basis, crate::Basis::Observed);
    let open = all_report(NOW, |r| {
        if r.server == "app-2" {
            r.firewall = Reading::Read(AgentFirewall {
                backend: "none".into(),
                active: false,
                inbound_default: "accept".into(),
            });
        }
    });
    let f = judge(&spec, &open, "SG-SEC-FIREWALL");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.message, "app-2: no inbound filter loaded");
    // Written down as true changes nothing when the agents saw otherwise;
    // with no report yet, the declaration is judged.
    let f = judge(&spec, &LiveEvidence::new(), "SG-SEC-FIREWALL");
    assert_eq!(f.status, Status::Pass);
    assert_ne!(f.basis, crate::Basis::Observed);
}

#[test]
fn listening_ports_are_declared_and_private_ones_stay_inside() {
    let spec = agent_spec("");
    let with = |extra: Vec<AgentListener>| {
        all_report(NOW, move |r| {
            if r.server == "db-1"
                && let Reading::Read(l) = &mut r.listening
            {
                l.extend(extra.clone());
            }
        })
    };
    let f = judge(&spec, &with(vec![]), "SG-SEC-EXPOSURE");
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    let redis = vec![listener("0.0.0.0", 6379, "redis-server")];
    let f = judge(&spec, &with(redis.clone()), "SG-SEC-EXPOSURE");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .contains("db-1: listening on 6379/tcp (redis-server), declared neither"),
        "{}",
        f.message
    );
    // Declared private: fine while it does not answer from outside.
    let private = spec.replace(
        "public_ports = [443]",
        "public_ports = [443]\nprivate_ports = [6379]",
    );
    let f = judge(&private, &with(redis.clone()), "SG-SEC-EXPOSURE");
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    // A scan from outside: `open` answered, of the `tested` ports.
    let scanned = |open: Vec<u16>, tested: Vec<u16>| {
        let mut live = with(redis.clone());
        live.add_exposure(
            "production",
            ExposureObservation {
                server: "db-1".into(),
                observation: Observation {
                    subject: "server db-1".into(),
                    status: Observed::Pass,
                    summary: "443 open".into(),
                    details: vec![],
                    source: "ci".into(),
                    at: NOW,
                },
                open,
                tested,
            },
        );
        live
    };
    let f = judge(
        &private,
        &scanned(vec![443, 6379], vec![443, 6379]),
        "SG-SEC-EXPOSURE",
    );
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .contains("private port 6379/tcp (redis-server) answers from outside"),
        "{}",
        f.message
    );
    // Undeclared but silent from outside: the firewall keeps it in.
    let f = judge(
        &spec,
        &scanned(vec![443], vec![443, 6379]),
        "SG-SEC-EXPOSURE",
    );
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    assert!(
        f.message.contains("protected by the firewall"),
        "{}",
        f.message
    );
    // Not answering a scan that never tried the port proves nothing.
    let f = judge(&spec, &scanned(vec![443], vec![443]), "SG-SEC-EXPOSURE");
    assert_eq!(f.status, Status::Fail, "{}", f.message);
    assert!(f.message.contains("declared neither"), "{}", f.message);
}
