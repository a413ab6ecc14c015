//! Pending updates and pending security updates, from the package manager
//! the host has, without refreshing its lists and without taking its lock:
//! the agent must never stand in the way of an upgrade.

use std::path::Path;
use std::time::Duration;

use crate::command::{self, Unavailable};
use crate::report::Updates;

/// Runs the package manager the host has; one still resolving after
/// `limit` is cut off.
pub async fn collect(limit: Duration) -> Result<Updates, Unavailable> {
    let has = |p: &str| which(p).is_some();
    let mut updates = if has("apt-get") {
        apt(limit).await?
    } else if has("dnf") {
        rpm("dnf", limit).await?
    } else if has("yum") {
        rpm("yum", limit).await?
    } else if has("apk") {
        apk(limit).await?
    } else {
        return Err(Unavailable(
            "no package manager this agent reads (apt, dnf, yum, apk)".to_owned(),
        ));
    };
    updates.reboot_required = reboot_required(limit).await;
    Ok(updates)
}

async fn apt(limit: Duration) -> Result<Updates, Unavailable> {
    // A simulation reads the lists as they are; Debug::NoLocking keeps it
    // off dpkg's lock even as root.
    let out = command::run(
        "apt-get",
        &["-s", "-o", "Debug::NoLocking=1", "dist-upgrade"],
        limit,
    )
    .await?;
    if !out.success() {
        return Err(Unavailable(format!(
            "apt-get -s failed: {}",
            out.complaint()
        )));
    }
    let mut updates = parse_apt(&out.stdout);
    updates.lists_updated_at = newest_mtime(Path::new("/var/lib/apt/lists"));
    Ok(updates)
}

/// `apt-get -s dist-upgrade`: one `Inst NAME [OLD] (NEW ORIGINS [ARCH])`
/// line per package; a security update comes from a `*-security` origin.
pub fn parse_apt(text: &str) -> Updates {
    let mut updates = Updates {
        manager: "apt".to_owned(),
        security: Some(0),
        ..Updates::default()
    };
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("Inst ") else {
            continue;
        };
        updates.pending += 1;
        let name = rest.split_whitespace().next().unwrap_or_default();
        let origins = rest.split_once('(').map_or("", |(_, o)| o);
        if origins.split([',', ' ']).any(|o| {
            let o = o.to_ascii_lowercase();
            o.starts_with("debian-security:") || o.contains("-security")
        }) {
            updates.security = updates.security.map(|n| n + 1);
            updates.security_packages.push(name.to_owned());
        }
    }
    updates
}

async fn rpm(manager: &str, limit: Duration) -> Result<Updates, Unavailable> {
    // From the cache only: no metadata refresh, no network, no lock held
    // for long.
    let all = command::run(manager, &["-q", "-C", "check-update"], limit).await?;
    // check-update exits 100 when updates are pending, 0 when none.
    if !matches!(all.code, Some(0 | 100)) {
        return Err(Unavailable(format!(
            "{manager} check-update failed: {}",
            all.complaint()
        )));
    }
    let security = command::run(
        manager,
        &["-q", "-C", "updateinfo", "list", "--security"],
        limit,
    )
    .await?;
    let mut updates = parse_rpm_pending(manager, &all.stdout);
    if security.success() {
        let packages = parse_rpm_security(&security.stdout);
        updates.security = Some(u32::try_from(packages.len()).unwrap_or(u32::MAX));
        updates.security_packages = packages;
    } else {
        updates.security = None;
    }
    updates.lists_updated_at = newest_mtime(Path::new(if manager == "dnf" {
        "/var/cache/dnf"
    } else {
        "/var/cache/yum"
    }));
    Ok(updates)
}

/// `dnf check-update`: `NAME.ARCH VERSION REPO` per package, after a blank
/// line; "Obsoleting packages" and what follows is not an update.
pub fn parse_rpm_pending(manager: &str, text: &str) -> Updates {
    let mut pending = 0;
    for line in text.lines() {
        if line.starts_with("Obsoleting") {
            break;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() == 3 && fields[0].contains('.') && !line.starts_with(' ') {
            pending += 1;
        }
    }
    Updates {
        manager: manager.to_owned(),
        pending,
        ..Updates::default()
    }
}

/// `dnf updateinfo list --security`: `ADVISORY SEVERITY/Sec. NEVRA` per
/// package update; the package names, each once.
pub fn parse_rpm_security(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [_, kind, nevra] if kind.ends_with("Sec.") || kind.contains("ecurity") => {
                    Some(rpm_name(nevra).to_owned())
                }
                _ => None,
            }
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The name of `NAME-VERSION-RELEASE.ARCH` (the name may hold dashes).
fn rpm_name(nevra: &str) -> &str {
    let mut parts = nevra.rsplitn(3, '-');
    let _release = parts.next();
    let _version = parts.next();
    parts.next().unwrap_or(nevra)
}

async fn apk(limit: Duration) -> Result<Updates, Unavailable> {
    let out = command::run("apk", &["list", "--upgradable"], limit).await?;
    if !out.success() {
        return Err(Unavailable(format!("apk list failed: {}", out.complaint())));
    }
    Ok(parse_apk(&out.stdout))
}

/// `apk list --upgradable`: one line per package. apk keeps no record of
/// which updates fix a vulnerability, so `security` stays unknown.
pub fn parse_apk(text: &str) -> Updates {
    Updates {
        manager: "apk".to_owned(),
        pending: u32::try_from(
            text.lines()
                .filter(|l| l.contains("[upgradable from:"))
                .count(),
        )
        .unwrap_or(u32::MAX),
        security: None,
        ..Updates::default()
    }
}

/// Debian and Ubuntu leave a flag file; RHEL-likes answer
/// `needs-restarting -r` (exit 1: a reboot is needed). Elsewhere unknown.
async fn reboot_required(limit: Duration) -> Option<bool> {
    if Path::new("/var/run/reboot-required").exists() {
        return Some(true);
    }
    if Path::new("/etc/debian_version").exists() {
        return Some(false);
    }
    if which("needs-restarting").is_some() {
        let out = command::run("needs-restarting", &["-r"], limit)
            .await
            .ok()?;
        return match out.code {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        };
    }
    None
}

/// The newest modification time among the files of `dir`, as RFC 3339.
fn newest_mtime(dir: &Path) -> Option<String> {
    let newest = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.metadata().ok()?.modified().ok())
        .max()?;
    let ts = jiff::Timestamp::try_from(newest).ok()?;
    Some(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// The path of `program` on `PATH`.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apt_counts_security_updates_by_origin() {
        let text = include_str!("../tests/fixtures/apt-debian12.txt");
        let u = parse_apt(text);
        assert_eq!(u.pending, 128);
        assert_eq!(u.security, Some(81));
        assert!(u.security_packages.contains(&"libgcrypt20".to_owned()));
        assert!(!u.security_packages.contains(&"base-files".to_owned()));
        let ubuntu = "Inst libssl3 [3.0.2-0ubuntu1.10] (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])\n\
                      Inst vim [2:8.2] (2:8.2.1 Ubuntu:22.04/jammy-updates [amd64])\n";
        let u = parse_apt(ubuntu);
        assert_eq!((u.pending, u.security), (2, Some(1)));
        assert_eq!(parse_apt("0 upgraded, 0 newly installed").pending, 0);
    }

    /// Recorded from dnf 4.14 (the version RHEL 9 ships) by
    /// `tests/fixtures/record-dnf.sh`: older packages installed, a local
    /// repository offering newer ones, two under security advisories and
    /// one under a bug fix.
    #[test]
    fn dnf_as_recorded() {
        let u = parse_rpm_pending(
            "dnf",
            include_str!("../tests/fixtures/dnf-check-update.txt"),
        );
        assert_eq!((u.manager.as_str(), u.pending), ("dnf", 3));
        assert_eq!(
            parse_rpm_security(include_str!(
                "../tests/fixtures/dnf-updateinfo-security.txt"
            )),
            ["curl", "openssl-libs"]
        );
    }

    // Shapes the recording does not hold: an epoch, an "Obsoleting
    // Packages" section, real RHEL repository names; and apk-tools 2.14 on
    // Alpine 3.19, which no package source reachable from the machines
    // these tests were written on provides, so it is not a recording.
    #[test]
    fn dnf_pending_and_security_updates() {
        let check_update = "\n\
            openssl.x86_64              1:3.0.7-25.el9_3              rhel-9-for-x86_64-baseos-rpms\n\
            openssl-libs.x86_64         1:3.0.7-25.el9_3              rhel-9-for-x86_64-baseos-rpms\n\
            kernel.x86_64               5.14.0-362.18.1.el9_3         rhel-9-for-x86_64-baseos-rpms\n\
            Obsoleting Packages\n\
            grub2-tools.x86_64          1:2.06-70.el9_3.2             rhel-9-for-x86_64-baseos-rpms\n\
                grub2-tools.x86_64      1:2.06-70.el9_3.1             @rhel-9-for-x86_64-baseos-rpms\n";
        let u = parse_rpm_pending("dnf", check_update);
        assert_eq!((u.manager.as_str(), u.pending), ("dnf", 3));
        let security = "RHSA-2024:0310 Moderate/Sec.  openssl-1:3.0.7-25.el9_3.x86_64\n\
            RHSA-2024:0310 Moderate/Sec.  openssl-libs-1:3.0.7-25.el9_3.x86_64\n\
            RHSA-2024:0533 Important/Sec. kernel-5.14.0-362.18.1.el9_3.x86_64\n\
            RHBA-2024:0400 bugfix         tzdata-2024a-1.el9.noarch\n";
        assert_eq!(
            parse_rpm_security(security),
            ["kernel", "openssl", "openssl-libs"]
        );
    }

    #[test]
    fn apk_upgradable_packages() {
        let text = "busybox-1.36.1-r19 x86_64 {busybox} (GPL-2.0-only) [upgradable from: busybox-1.36.1-r15]\n\
            libcrypto3-3.1.4-r5 x86_64 {openssl} (Apache-2.0) [upgradable from: libcrypto3-3.1.4-r1]\n";
        let u = parse_apk(text);
        assert_eq!((u.pending, u.security), (2, None));
    }

    #[test]
    fn rpm_names_keep_their_dashes() {
        assert_eq!(
            rpm_name("openssl-libs-3.0.7-25.el9_3.x86_64"),
            "openssl-libs"
        );
        assert_eq!(rpm_name("kernel-5.14.0-362.18.1.el9_3.x86_64"), "kernel");
    }
}
