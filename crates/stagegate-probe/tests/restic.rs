//! restic probes against real repositories these tests create: fresh, stale
//! (a snapshot backdated with `restic backup --time`), wrong password,
//! missing repository, missing binary, and the integrity check.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use stagegate_probe::{Job, ProbeStatus, ResticTarget, Subject, Target, run_one};
use support::*;

const PASSWORD: &str = "correct horse battery staple";

fn restic_available() -> bool {
    Command::new("restic")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn restic(repo: &Path, args: &[&str]) {
    let out = Command::new("restic")
        .arg("--repo")
        .arg(repo)
        .args(args)
        .args(["--no-cache", "--quiet"])
        .env("RESTIC_PASSWORD", PASSWORD)
        .output()
        .expect("run restic");
    assert!(
        out.status.success(),
        "restic {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository with one snapshot taken `backdate` (restic's --time format)
/// or now.
fn repository(dir: &Path, backdate: Option<&str>) -> std::path::PathBuf {
    let repo = dir.join("repo");
    restic(&repo, &["init"]);
    let data = dir.join("data.txt");
    std::fs::write(&data, "orders table dump").expect("write");
    let data = data.to_str().expect("path").to_owned();
    match backdate {
        Some(time) => restic(&repo, &["backup", &data, "--time", time]),
        None => restic(&repo, &["backup", &data]),
    }
    repo
}

fn target(repo: &Path, password: &str, max_age: Duration) -> ResticTarget {
    ResticTarget {
        repository: repo.to_str().expect("path").to_owned(),
        password: password.to_owned(),
        password_env: "RESTIC_PASSWORD".to_owned(),
        max_age,
        max_age_reason: "backup interval 1h + grace 15m".to_owned(),
        read_data_subset: None,
        binary: "restic".to_owned(),
    }
}

async fn probe(t: ResticTarget) -> stagegate_probe::ProbeResult {
    let job = Job {
        environment: "test".into(),
        source: "127.0.0.1".into(),
        subject: Subject::BackupSource,
        target: Target::Restic(t),
        timeout: Duration::from_secs(60),
        retries: 0,
    };
    run_one(&job, &context(), Duration::from_millis(10)).await
}

#[tokio::test]
async fn fresh_stale_wrong_password_missing_repository_and_binary() {
    if !restic_available() {
        return unavailable("the restic binary is not installed (apt-get install restic)");
    }
    let hour = Duration::from_secs(3600 + 900);
    let fresh_dir = tempfile::tempdir().expect("tempdir");
    let fresh = repository(fresh_dir.path(), None);
    let r = probe(target(&fresh, PASSWORD, hour)).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    assert!(r.summary.contains("newest snapshot"), "{}", r.summary);
    assert!(
        r.summary
            .contains("(limit 1h 15m, backup interval 1h + grace 15m)"),
        "{}",
        r.summary
    );
    assert!(r.facts.contains(&("snapshots".into(), "1".into())));

    let stale_dir = tempfile::tempdir().expect("tempdir");
    let stale = repository(stale_dir.path(), Some("2026-01-01 03:00:00"));
    let r = probe(target(&stale, PASSWORD, hour)).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary
            .contains("the newest snapshot (2026-01-01T03:00:00"),
        "{}",
        r.summary
    );
    assert!(
        r.summary
            .contains("older than 1h 15m (backup interval 1h + grace 15m)"),
        "{}",
        r.summary
    );

    let r = probe(target(&fresh, "not the password", hour)).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary
            .ends_with("wrong password (from $RESTIC_PASSWORD)"),
        "{}",
        r.summary
    );

    let r = probe(target(
        &fresh_dir.path().join("no-such-repo"),
        PASSWORD,
        hour,
    ))
    .await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary.ends_with("no repository exists there"),
        "{}",
        r.summary
    );

    let mut t = target(&fresh, PASSWORD, hour);
    t.binary = "restic-not-installed".into();
    let r = probe(t).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary
            .contains("the restic binary `restic-not-installed` is not installed"),
        "{}",
        r.summary
    );
}

#[tokio::test]
async fn integrity_check_reads_a_data_subset() {
    if !restic_available() {
        return unavailable("the restic binary is not installed (apt-get install restic)");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repository(dir.path(), None);
    let mut t = target(&repo, PASSWORD, Duration::from_secs(3600));
    t.read_data_subset = Some("100%".into());
    let r = probe(t.clone()).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    assert!(
        r.summary
            .contains("integrity check of 100% of the data passed"),
        "{}",
        r.summary
    );
    // Corrupt every pack file: the check must notice.
    for entry in walk(&repo.join("data")) {
        let mut bytes = std::fs::read(&entry).expect("read");
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&entry, bytes).expect("write");
    }
    let r = probe(t).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{}", r.summary);
    assert!(
        r.summary
            .contains("integrity check (read 100% of the data) failed"),
        "{}",
        r.summary
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
