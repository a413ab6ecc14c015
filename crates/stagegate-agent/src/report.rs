//! The report an agent sends (SPEC.md §11). A section is absent when its
//! collector could not read it; `collectors` says which ran and why the
//! others did not, so "no firewall seen" is never confused with "could not
//! look".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// The spec's name of the server this agent runs on.
    pub server: String,
    /// The host's own name.
    pub host: String,
    /// RFC 3339, UTC.
    pub collected_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<Os>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updates: Option<Updates>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall: Option<Firewall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listening: Option<Vec<Listener>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<Ssh>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeSync>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disks: Option<Vec<Disk>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<Logs>,
    /// Every collector, in order, with what became of it.
    #[serde(default)]
    pub collectors: Vec<Collector>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Os {
    /// `ID` of os-release: `debian`, `ubuntu`, `rhel`, `alpine`, ...
    pub id: String,
    /// `VERSION_ID` of os-release.
    #[serde(default)]
    pub version: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Updates {
    /// `apt`, `dnf`, `yum` or `apk`.
    pub manager: String,
    pub pending: u32,
    /// Pending updates from a security source; `None` where the package
    /// manager keeps no such record (apk).
    pub security: Option<u32>,
    /// The packages with a pending security update: the server tracks since
    /// when each has been pending.
    #[serde(default)]
    pub security_packages: Vec<String>,
    /// `None` where the system has no way to say.
    pub reboot_required: Option<bool>,
    /// When the package lists were last refreshed (RFC 3339), where known:
    /// stale lists hide pending updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists_updated_at: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Firewall {
    /// `nftables`, `iptables` or `ufw`; `none` when no filter is loaded.
    pub backend: String,
    /// Whether an inbound filter is loaded at all.
    pub active: bool,
    /// What inbound traffic no rule accepts meets: `drop`, `reject` or
    /// `accept`.
    pub inbound_default: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// `tcp` or `udp`.
    pub proto: String,
    pub address: String,
    pub port: u16,
    /// The owning process's name, where this user may see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
}

impl Listener {
    /// Whether only this host can reach it.
    pub fn loopback(&self) -> bool {
        self.address
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ssh {
    pub password_authentication: bool,
    /// `yes`, `no`, `prohibit-password` or `forced-commands-only`.
    pub permit_root_login: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kbd_interactive_authentication: Option<bool>,
}

impl Ssh {
    /// The settings that let someone log in with a password: keyboard-
    /// interactive authentication asks for the same password through PAM.
    pub fn password_login(&self) -> Vec<&'static str> {
        let mut on = Vec::new();
        if self.password_authentication {
            on.push("PasswordAuthentication yes");
        }
        if self.kbd_interactive_authentication == Some(true) {
            on.push("KbdInteractiveAuthentication yes");
        }
        on
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSync {
    pub synchronized: bool,
    /// What said so: `timedatectl` or `chronyc`.
    #[serde(default)]
    pub source: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disk {
    pub mount: String,
    pub used_percent: f64,
    #[serde(default)]
    pub size_bytes: u64,
    #[serde(default)]
    pub available_bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    /// `journald`.
    pub source: String,
    /// How far back errors were counted, as a duration (`24h`).
    pub window: String,
    pub errors: u64,
    /// Errors per unit (or syslog identifier), busiest first in text.
    #[serde(default)]
    pub by_unit: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collector {
    pub name: String,
    /// `ok` or `unavailable`.
    pub status: String,
    /// Why it is unavailable, or what limited it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a report's values may be; the first one out of bounds, as (field
/// path, what was expected). The server refuses such a report rather than
/// judge from it.
pub fn check(r: &Report) -> Result<(), (String, String)> {
    fn one_of(path: &str, value: &str, allowed: &[&str]) -> Result<(), (String, String)> {
        if allowed.contains(&value) {
            Ok(())
        } else {
            Err((
                path.to_owned(),
                format!("found {value:?}, expected one of {}", allowed.join(", ")),
            ))
        }
    }
    if r.server.trim().is_empty() {
        return Err((
            "server".into(),
            "empty: expected the spec's name of the server".into(),
        ));
    }
    if let Some(u) = &r.updates {
        one_of("updates.manager", &u.manager, &["apt", "dnf", "yum", "apk"])?;
        if u.security.is_some_and(|s| s > u.pending) {
            return Err((
                "updates.security".into(),
                "more security updates than pending ones".into(),
            ));
        }
    }
    if let Some(f) = &r.firewall {
        one_of(
            "firewall.backend",
            &f.backend,
            &["nftables", "iptables", "ufw", "none"],
        )?;
        one_of(
            "firewall.inbound_default",
            &f.inbound_default,
            &["drop", "reject", "accept"],
        )?;
    }
    for (i, l) in r.listening.iter().flatten().enumerate() {
        one_of(&format!("listening[{i}].proto"), &l.proto, &["tcp", "udp"])?;
        if l.address.parse::<std::net::IpAddr>().is_err() {
            return Err((
                format!("listening[{i}].address"),
                format!("found {:?}, expected an IP address", l.address),
            ));
        }
    }
    if let Some(s) = &r.ssh {
        one_of(
            "ssh.permit_root_login",
            &s.permit_root_login,
            &[
                "yes",
                "no",
                "prohibit-password",
                "without-password",
                "forced-commands-only",
            ],
        )?;
    }
    for (i, d) in r.disks.iter().flatten().enumerate() {
        if !(0.0..=100.0).contains(&d.used_percent) {
            return Err((
                format!("disks[{i}].used_percent"),
                format!("found {}, expected 0 to 100", d.used_percent),
            ));
        }
    }
    if let Some(l) = &r.logs {
        let secs = window_secs(&l.window).ok_or_else(|| {
            (
                "logs.window".to_owned(),
                format!(
                    "found {:?}, expected a duration from 1m to 31d such as \"24h\"",
                    l.window
                ),
            )
        })?;
        if !(60..=31 * 86_400).contains(&secs) {
            return Err((
                "logs.window".into(),
                format!("found {:?}, expected a duration from 1m to 31d", l.window),
            ));
        }
    }
    for (i, c) in r.collectors.iter().enumerate() {
        one_of(
            &format!("collectors[{i}].status"),
            &c.status,
            &["ok", "unavailable"],
        )?;
    }
    Ok(())
}

/// `24h`, `30m`, `7d`, `90s` in seconds.
pub fn window_secs(window: &str) -> Option<u64> {
    let (number, unit) = window.split_at(window.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = number.parse().ok()?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(unit)
}
