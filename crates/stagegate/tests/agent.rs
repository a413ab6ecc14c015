//! `stagegate agent --once --dry-run` on this machine, for real: every
//! collector runs or says why not, and the firewall is read inside a
//! network namespace with and without a default-drop ruleset.

use std::process::Command;

use stagegate_agent::Report;
use stagegate_test_support::skip;

fn agent(prefix: &[&str]) -> (Report, String) {
    let bin = assert_cmd::cargo::cargo_bin("stagegate");
    let (program, args) = match prefix.split_first() {
        Some((p, rest)) => (
            p.to_string(),
            rest.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ),
        None => (bin.display().to_string(), Vec::new()),
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    if !prefix.is_empty() {
        cmd.arg(&bin);
    }
    let out = cmd
        .args([
            "agent",
            "--once",
            "--dry-run",
            "--format",
            "json",
            "--name",
            "db-1",
        ])
        .output()
        .expect("run the agent");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let report: Report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (report, stderr)
}

#[test]
fn every_collector_runs_or_says_why() {
    let (report, _) = agent(&[]);
    assert_eq!(report.server, "db-1");
    assert!(report.collected_at.ends_with('Z'));
    let names: Vec<&str> = report.collectors.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "os",
            "updates",
            "firewall",
            "listening",
            "ssh",
            "time",
            "disks",
            "logs"
        ]
    );
    for c in &report.collectors {
        assert!(matches!(c.status.as_str(), "ok" | "unavailable"), "{c:?}");
        if c.status == "unavailable" {
            assert!(c.note.as_deref().is_some_and(|n| !n.is_empty()), "{c:?}");
        }
    }
    // This machine is Debian with apt: updates are read for real.
    let os = report.os.as_ref().expect("os-release");
    assert_eq!(os.id, "debian");
    let updates = report.updates.as_ref().expect("apt-get -s");
    assert_eq!(updates.manager, "apt");
    assert!(updates.security.is_some_and(|s| s <= updates.pending));
    // The disks and the sockets come from /proc.
    assert!(
        report
            .disks
            .as_ref()
            .is_some_and(|d| d.iter().any(|d| d.mount == "/"))
    );
    assert!(report.listening.is_some());

    // The text form says the same, collector by collector.
    let out = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .args(["agent", "--once", "--dry-run", "--name", "db-1"])
        .output()
        .expect("run the agent");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("db-1 ("), "{text}");
    assert!(text.contains("updates     "), "{text}");
}

#[test]
fn sending_is_refused_until_the_server_takes_reports() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .args(["agent", "--once"])
        .output()
        .expect("run the agent");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--once --dry-run"));
}

/// A network namespace, removed when dropped.
struct Netns(String);

impl Netns {
    fn create(name: &str) -> Option<Netns> {
        let _ = Command::new("ip").args(["netns", "del", name]).output();
        let out = Command::new("ip")
            .args(["netns", "add", name])
            .output()
            .ok()?;
        out.status.success().then(|| Netns(name.to_owned()))
    }

    fn exec(&self, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(args)
            .output()
            .expect("ip netns exec")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

#[test]
fn the_firewall_is_read_from_the_kernel() {
    let Some(ns) = Netns::create("sg-agent-fw") else {
        skip(
            "the_firewall_is_read_from_the_kernel",
            "`ip netns add` failed: it needs root (CAP_SYS_ADMIN) and iproute2",
        );
        return;
    };
    // No ruleset: nothing filters inbound traffic.
    let (open, _) = agent(&["ip", "netns", "exec", "sg-agent-fw"]);
    let fw = open.firewall.expect("the firewall is readable as root");
    assert!(!fw.active, "{fw:?}");
    assert_eq!(fw.inbound_default, "accept");

    let ruleset = "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  iif lo accept\n  tcp dport 22 accept\n }\n}\n";
    let path = std::env::temp_dir().join("sg-agent-fw.nft");
    std::fs::write(&path, ruleset).expect("write the ruleset");
    let loaded = ns.exec(&["nft", "-f", &path.display().to_string()]);
    assert!(loaded.status.success(), "{loaded:?}");
    let (closed, _) = agent(&["ip", "netns", "exec", "sg-agent-fw"]);
    let fw = closed.firewall.expect("firewall");
    assert_eq!(
        (fw.backend.as_str(), fw.active, fw.inbound_default.as_str()),
        ("nftables", true, "drop")
    );
}
