//! restic repositories: the newest snapshot is fresh and the repository is
//! readable, through the `restic` binary itself, so the evidence is exactly
//! what a restore would see.

use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::process::Command;
use tokio::time::Instant;

use crate::deadline::Deadline;
use crate::result::{ProbeResult, Timings, format_ms};
use stagegate_spec::{age, now_unix, parse_rfc3339};

#[derive(Clone)]
pub struct ResticTarget {
    pub repository: String,
    pub password: String,
    /// The environment variable the password came from, for messages.
    pub password_env: String,
    /// Snapshots older than this are stale (backup interval + grace).
    pub max_age: Duration,
    /// How `max_age` was made, e.g. "interval 1h + grace 15m".
    pub max_age_reason: String,
    /// `restic check --read-data-subset` argument.
    pub read_data_subset: Option<String>,
    /// The binary to run (default `restic` on PATH).
    pub binary: String,
}

impl std::fmt::Debug for ResticTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResticTarget")
            .field("repository", &self.repository)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Snapshot {
    time: String,
    #[serde(default)]
    short_id: String,
    #[serde(default)]
    hostname: String,
}

enum Failure {
    NoBinary(String),
    NoRepository(String),
    WrongPassword,
    Other(String),
}

/// restic's stderr, reduced to the line that matters.
fn classify(stderr: &str) -> Failure {
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("wrong password") || lower.contains("no key found") {
        Failure::WrongPassword
    } else if lower.contains("is there a repository at the following location")
        || lower.contains("repository does not exist")
        || lower.contains("unable to open config file")
    {
        Failure::NoRepository(last_line(stderr))
    } else {
        Failure::Other(last_line(stderr))
    }
}

fn last_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no output")
        .to_owned()
}

async fn run(
    t: &ResticTarget,
    args: &[&str],
    deadline: &Deadline,
    phase: &str,
) -> Result<Vec<u8>, ProbeResult> {
    let mut cmd = Command::new(&t.binary);
    cmd.arg("--repo")
        .arg(&t.repository)
        .args(args)
        .arg("--no-cache")
        .env("RESTIC_PASSWORD", &t.password)
        .env_remove("RESTIC_PASSWORD_FILE")
        .env_remove("RESTIC_PASSWORD_COMMAND")
        .env_remove("RESTIC_REPOSITORY")
        .env_remove("RESTIC_REPOSITORY_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let what = format!("restic repository {}", t.repository);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(describe(&what, Failure::NoBinary(t.binary.clone()), t));
        }
        Err(e) => {
            return Err(ProbeResult::from_error(
                format!("{what}: cannot run {}", t.binary),
                &e,
            ));
        }
    };
    let output = match deadline
        .run(phase.to_owned(), child.wait_with_output())
        .await
    {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            return Err(ProbeResult::from_error(
                format!("{what}: {} failed", t.binary),
                &e,
            ));
        }
        Err(timeout) => return Err(ProbeResult::from_error(what, &timeout)),
    };
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(describe(
            &what,
            classify(&String::from_utf8_lossy(&output.stderr)),
            t,
        ))
    }
}

fn describe(what: &str, f: Failure, t: &ResticTarget) -> ProbeResult {
    let (summary, detail) = match f {
        Failure::NoBinary(bin) => (
            format!("{what}: the restic binary `{bin}` is not installed (not found on PATH)"),
            "install restic on the machine running the check".to_owned(),
        ),
        Failure::NoRepository(line) => (format!("{what}: no repository exists there"), line),
        Failure::WrongPassword => (
            format!("{what}: wrong password (from ${})", t.password_env),
            "restic: wrong password or no key found".to_owned(),
        ),
        Failure::Other(line) => (format!("{what}: restic failed: {line}"), line),
    };
    let mut r = ProbeResult::fail(summary);
    r.errors = vec![detail];
    r
}

pub async fn probe(t: &ResticTarget, deadline: &Deadline) -> ProbeResult {
    let start = Instant::now();
    let what = format!("restic repository {}", t.repository);
    let stdout = match run(
        t,
        &["snapshots", "--json", "--no-lock"],
        deadline,
        "listing restic snapshots",
    )
    .await
    {
        Ok(out) => out,
        Err(r) => return r,
    };
    let snapshots: Vec<Snapshot> = match serde_json::from_slice(&stdout) {
        Ok(s) => s,
        Err(e) => {
            return ProbeResult::from_error(
                format!("{what}: unreadable `restic snapshots --json` output"),
                &e,
            );
        }
    };
    let newest = snapshots
        .iter()
        .filter_map(|s| parse_rfc3339(&s.time).map(|t| (t, s)))
        .max_by_key(|(t, _)| *t);
    let Some((taken, snapshot)) = newest else {
        return ProbeResult::fail(format!("{what}: the repository has no snapshots"))
            .fact("snapshots", 0);
    };
    let age_secs = now_unix() - taken;
    let max = i64::try_from(t.max_age.as_secs()).unwrap_or(i64::MAX);
    let mut result = if age_secs > max {
        ProbeResult::fail(format!(
            "{what}: the newest snapshot ({}) is {} old, older than {} ({})",
            snapshot.time,
            age(age_secs),
            age(max),
            t.max_age_reason
        ))
    } else {
        ProbeResult::pass(format!(
            "{what}: newest snapshot {} is {} old (limit {}, {})",
            snapshot.short_id,
            age(age_secs),
            age(max),
            t.max_age_reason
        ))
    };
    result = result
        .fact("snapshots", snapshots.len())
        .fact("newest_snapshot", &snapshot.time)
        .fact("newest_snapshot_id", &snapshot.short_id)
        .fact("newest_snapshot_host", &snapshot.hostname)
        .fact("age_seconds", age_secs);
    if let (true, Some(subset)) = (result.passed(), &t.read_data_subset) {
        let check_start = Instant::now();
        match run(
            t,
            &["check", "--read-data-subset", subset],
            deadline,
            "checking restic repository integrity",
        )
        .await
        {
            Ok(_) => {
                result.summary.push_str(&format!(
                    "; integrity check of {subset} of the data passed in {}",
                    format_ms(check_start.elapsed())
                ));
                result = result.fact("integrity_check", format!("passed ({subset})"));
            }
            Err(mut failed) => {
                failed.summary = format!(
                    "{what}: integrity check (read {subset} of the data) failed: {}",
                    failed.errors.join("; ")
                );
                failed.facts = result.facts;
                return failed;
            }
        }
    }
    result.with_timings(Timings {
        total: Some(start.elapsed()),
        ..Timings::default()
    })
}
