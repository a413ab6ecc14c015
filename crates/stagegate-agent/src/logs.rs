//! Error-level log lines per unit over a window, from journald's JSON
//! export, counted as they stream (a noisy day is never held in memory).

use std::time::Duration;

use crate::command::{self, Unavailable, needs_privileges};
use crate::report::Logs;
use crate::updates::which;

pub async fn collect(
    window: Duration,
    limit: Duration,
) -> Result<(Logs, Option<String>), Unavailable> {
    if which("journalctl").is_none() {
        return Err(Unavailable("journalctl is not installed".to_owned()));
    }
    // journalctl says nothing and exits 0 when there is no journal at all:
    // that is not a quiet system.
    if !["/var/log/journal", "/run/log/journal"]
        .iter()
        .any(|d| holds_journal(std::path::Path::new(d), 2))
    {
        return Err(Unavailable(
            "journald keeps no journal on this host (no files under /var/log/journal or /run/log/journal)"
                .to_owned(),
        ));
    }
    let since = format!("-{}s", window.as_secs());
    let mut logs = Logs {
        source: "journald".to_owned(),
        window: humanize(window),
        ..Logs::default()
    };
    let out = command::stream(
        "journalctl",
        &[
            "--since",
            &since,
            "--priority",
            "err",
            "--output",
            "json",
            "--output-fields",
            "_SYSTEMD_UNIT,SYSLOG_IDENTIFIER,_TRANSPORT",
            "--no-pager",
            "--quiet",
        ],
        limit,
        |line| count(&mut logs, line),
    )
    .await?;
    if !out.success() {
        let why = out.complaint();
        if needs_privileges(&out.stderr) {
            return Err(Unavailable(format!(
                "journalctl needs more privileges: {why}"
            )));
        }
        return Err(Unavailable(format!("journalctl failed: {why}")));
    }
    if out.stderr.contains("No journal files were found") {
        return Err(Unavailable(
            "journald keeps no journal on this host".to_owned(),
        ));
    }
    // Without root or the systemd-journal group only this user's own
    // journal is readable: say so rather than report a quiet system.
    let note = (!rustix::process::geteuid().is_root() && !in_journal_group()).then(|| {
        "only this user's journal is readable: add the agent's user to the systemd-journal group"
            .to_owned()
    });
    Ok((logs, note))
}

/// Whether `dir`, or a folder in it up to `depth` levels down, holds a
/// `.journal` file.
fn holds_journal(dir: &std::path::Path, depth: u32) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path
            .extension()
            .is_some_and(|x| x == "journal" || x == "journal~")
        {
            return true;
        }
        depth > 0 && path.is_dir() && holds_journal(&path, depth - 1)
    })
}

/// Counts one line of `journalctl -o json`.
pub fn count(logs: &mut Logs, line: &str) {
    let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else {
        return;
    };
    let unit = ["_SYSTEMD_UNIT", "SYSLOG_IDENTIFIER"]
        .iter()
        .find_map(|k| entry[*k].as_str())
        .or_else(|| (entry["_TRANSPORT"] == "kernel").then_some("kernel"))
        .unwrap_or("unknown");
    logs.errors += 1;
    *logs.by_unit.entry(unit.to_owned()).or_insert(0) += 1;
}

fn in_journal_group() -> bool {
    let Ok(groups) = std::fs::read_to_string("/etc/group") else {
        return false;
    };
    let gid = groups.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _ = f.next();
        let gid = f.next()?;
        (name == "systemd-journal" || name == "adm").then(|| gid.parse::<u32>().ok())?
    });
    let Some(gid) = gid else { return false };
    rustix::process::getgid().as_raw() == gid
        || rustix::process::getgroups()
            .map(|gs| gs.iter().any(|g| g.as_raw() == gid))
            .unwrap_or(false)
}

/// `86400 s` as `24h`, `7 days` as `7d`.
fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) && s >= 86_400 * 2 {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_counted_by_unit() {
        let mut logs = Logs::default();
        for line in [
            r#"{"_SYSTEMD_UNIT":"shop.service","__CURSOR":"x"}"#,
            r#"{"_SYSTEMD_UNIT":"shop.service"}"#,
            r#"{"SYSLOG_IDENTIFIER":"sudo"}"#,
            r#"{"_TRANSPORT":"kernel"}"#,
            "not json",
        ] {
            count(&mut logs, line);
        }
        assert_eq!(logs.errors, 4);
        assert_eq!(logs.by_unit["shop.service"], 2);
        assert_eq!(logs.by_unit["kernel"], 1);
        assert_eq!(humanize(Duration::from_secs(86_400)), "24h");
        assert_eq!(humanize(Duration::from_secs(7 * 86_400)), "7d");
    }
}
