//! What stagegate's host agent reads of the server it runs on (SPEC.md
//! §11): pending and security updates, the inbound firewall, listening
//! sockets with their processes, effective SSH settings, time
//! synchronisation, disk use and error-level log lines. Collectors run
//! side by side, each with its own deadline; one that cannot read what it
//! reads says why in the report instead of guessing.

pub mod command;
pub mod disks;
pub mod firewall;
pub mod listening;
pub mod logs;
pub mod os;
pub mod report;
pub mod ssh;
pub mod time;
pub mod updates;

use std::path::PathBuf;
use std::time::Duration;

pub use command::Unavailable;
pub use report::*;

/// What to collect, and from where.
#[derive(Clone, Debug)]
pub struct Options {
    /// The spec's name of this server.
    pub server: String,
    /// How far back log errors are counted.
    pub log_window: Duration,
    /// How long one tool (apt-get, nft, journalctl, ...) may take before
    /// it is stopped and its collector reported unavailable.
    pub tool_timeout: Duration,
    /// Where /proc is (another root in tests).
    pub proc: PathBuf,
}

impl Options {
    pub fn new(server: impl Into<String>) -> Options {
        Options {
            server: server.into(),
            log_window: Duration::from_secs(86_400),
            tool_timeout: Duration::from_secs(60),
            proc: PathBuf::from("/proc"),
        }
    }
}

/// Runs every collector and assembles the report.
pub async fn collect(opts: &Options) -> Report {
    let (updates, firewall, ssh, time, logs) = tokio::join!(
        updates::collect(opts.tool_timeout),
        firewall::collect(opts.tool_timeout),
        ssh::collect(opts.tool_timeout),
        time::collect(opts.tool_timeout),
        logs::collect(opts.log_window, opts.tool_timeout),
    );
    let mut report = Report {
        server: opts.server.clone(),
        host: host(&opts.proc),
        collected_at: jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        ..Report::default()
    };
    report.os = keep(&mut report.collectors, "os", os::collect());
    report.updates = keep(&mut report.collectors, "updates", updates);
    report.firewall = keep(&mut report.collectors, "firewall", firewall);
    report.listening = keep_noted(
        &mut report.collectors,
        "listening",
        listening::collect(&opts.proc),
    );
    report.ssh = keep(&mut report.collectors, "ssh", ssh);
    report.time = keep(&mut report.collectors, "time", time);
    report.disks = keep(
        &mut report.collectors,
        "disks",
        disks::collect(&opts.proc.join("self/mounts")),
    );
    report.logs = keep_noted(&mut report.collectors, "logs", logs);
    report
}

fn keep<T>(collectors: &mut Vec<Collector>, name: &str, got: Result<T, Unavailable>) -> Option<T> {
    keep_noted(collectors, name, got.map(|v| (v, None)))
}

fn keep_noted<T>(
    collectors: &mut Vec<Collector>,
    name: &str,
    got: Result<(T, Option<String>), Unavailable>,
) -> Option<T> {
    match got {
        Ok((value, note)) => {
            collectors.push(Collector {
                name: name.to_owned(),
                status: "ok".to_owned(),
                note,
            });
            Some(value)
        }
        Err(Unavailable(why)) => {
            collectors.push(Collector {
                name: name.to_owned(),
                status: "unavailable".to_owned(),
                note: Some(why),
            });
            None
        }
    }
}

fn host(proc: &std::path::Path) -> String {
    std::fs::read_to_string(proc.join("sys/kernel/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// The report as text, for a person at a terminal.
pub fn text(r: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{} ({}) at {}", r.server, r.host, r.collected_at);
    if let Some(os) = &r.os {
        let _ = writeln!(out, "  os          {} {}", os.id, os.version);
    }
    if let Some(u) = &r.updates {
        let security = u.security.map_or("unknown".to_owned(), |s| s.to_string());
        let reboot = match u.reboot_required {
            Some(true) => ", reboot required",
            Some(false) => "",
            None => ", reboot unknown",
        };
        let _ = writeln!(
            out,
            "  updates     {} pending, {security} security ({}){reboot}",
            u.pending, u.manager
        );
    }
    if let Some(f) = &r.firewall {
        let _ = writeln!(
            out,
            "  firewall    {}, {}, inbound default {}",
            f.backend,
            if f.active { "active" } else { "inactive" },
            f.inbound_default
        );
    }
    if let Some(l) = &r.listening {
        let open: Vec<String> = l
            .iter()
            .filter(|l| !l.loopback())
            .map(|l| {
                format!(
                    "{}/{} on {} ({})",
                    l.port,
                    l.proto,
                    l.address,
                    l.process.as_deref().unwrap_or("?")
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "  listening   {} socket{}; not loopback: {}",
            l.len(),
            if l.len() == 1 { "" } else { "s" },
            if open.is_empty() {
                "none".to_owned()
            } else {
                open.join(", ")
            }
        );
    }
    if let Some(s) = &r.ssh {
        let _ = writeln!(
            out,
            "  ssh         password login {}, root login {}",
            match s.password_login().as_slice() {
                [] => "no".to_owned(),
                on => format!("yes ({})", on.join(", ")),
            },
            s.permit_root_login
        );
    }
    if let Some(t) = &r.time {
        let _ = writeln!(
            out,
            "  time        {} ({})",
            if t.synchronized {
                "synchronized"
            } else {
                "NOT synchronized"
            },
            t.source
        );
    }
    if let Some(d) = &r.disks {
        let list: Vec<String> = d
            .iter()
            .map(|d| format!("{} {:.1}%", d.mount, d.used_percent))
            .collect();
        let _ = writeln!(out, "  disks       {}", list.join(", "));
    }
    if let Some(l) = &r.logs {
        let mut busiest: Vec<(&String, &u64)> = l.by_unit.iter().collect();
        busiest.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = busiest
            .iter()
            .take(5)
            .map(|(u, n)| format!("{u} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "  logs        {} error{} in {}{}",
            l.errors,
            if l.errors == 1 { "" } else { "s" },
            l.window,
            if top.is_empty() {
                String::new()
            } else {
                format!(": {}", top.join(", "))
            }
        );
    }
    for c in &r.collectors {
        if let Some(note) = &c.note {
            let _ = writeln!(out, "  {:<11} {}: {note}", c.name, c.status);
        }
    }
    out
}
