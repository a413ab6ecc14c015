//! `stagegate run` against a real server: the start and the exit status
//! arrive as one run with the output's tail, a timeout and a forwarded
//! SIGTERM end the command as they should, and an unreachable server never
//! changes the command's outcome.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use stagegate_store::{PingKind, StoredPing};
use stagegate_test_support::*;

/// The pings of `token`, oldest first, read from the server's store.
fn pings(dir: &std::path::Path, token: &str) -> Vec<StoredPing> {
    let url = format!("sqlite://{}", dir.join("data/stagegate.db").display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = stagegate_store::open(&url).await.expect("open the store");
        let mut all = store.pings(token, 100).await.expect("pings");
        all.sort_by_key(|p| p.id);
        all
    })
}

/// (kind, exit code) of each ping, and whether they all share one run id.
fn runs(pings: &[StoredPing]) -> (Vec<(PingKind, Option<i32>)>, bool) {
    let kinds = pings
        .iter()
        .map(|p| (p.ping.kind, p.ping.exit_code))
        .collect();
    let rid = pings.first().and_then(|p| p.ping.run_id.clone());
    let paired =
        rid.as_ref().is_some_and(|r| r.len() == 36) && pings.iter().all(|p| p.ping.run_id == rid);
    (kinds, paired)
}

fn body(ping: &StoredPing) -> &str {
    ping.ping.body.as_deref().unwrap_or_default()
}

fn spec() -> tempfile::TempDir {
    TestSpec::new("Jobs")
        .heartbeat("nightly", "1d", "")
        .heartbeat("exits", "1d", "")
        .heartbeat("slow", "1d", "")
        .heartbeat("stopped", "1d", "")
        .heartbeat("missing", "1d", "")
        .check(
            "weekly",
            "heartbeat",
            "covers = \"backup\"\ntoken = \"${WEEKLY_TOKEN}\"\ninterval = \"7d\"",
        )
        .dir()
}

#[test]
fn a_job_reports_its_run_its_output_and_its_exit_status() {
    let dir = spec();
    let root = dir.path();
    let server = start_env(root, None, &[], &[("WEEKLY_TOKEN", "we/ek?ly")]);
    let ping = |name: &str| format!("http://{}/ping/{name}-token", server.addr);

    // Success: output passes through, both streams end up in the tail.
    let (code, stdout, stderr) = run_in(
        root,
        &[
            "run",
            "--ping",
            &ping("nightly"),
            "--",
            "sh",
            "-c",
            "echo backed up; echo 'a warning' >&2; test \"${#STAGEGATE_RUN_ID}\" = 36",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "backed up\n");
    assert_eq!(stderr, "a warning\n");
    let seen = pings(root, "nightly-token");
    assert_eq!(
        runs(&seen),
        (
            vec![(PingKind::Start, None), (PingKind::Exit, Some(0))],
            true
        )
    );
    assert!(body(&seen[1]).contains("backed up\n"), "{seen:?}");
    assert!(body(&seen[1]).contains("a warning\n"), "{seen:?}");

    // A failure: its status is the run's and the server's; the token comes
    // from the spec, `${VARIABLE}` and all, even with `/` and `?` in it.
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("stagegate"));
    let out = cmd
        .current_dir(root)
        .env("WEEKLY_TOKEN", "we/ek?ly")
        .args(["run", "--check", "prod/weekly", "--server"])
        .arg(format!("http://{}", server.addr))
        .args(["--", "sh", "-c", "echo disk full >&2; exit 3"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let seen = pings(root, "we/ek?ly");
    assert_eq!(
        runs(&seen),
        (
            vec![(PingKind::Start, None), (PingKind::Exit, Some(3))],
            true
        )
    );
    assert!(body(&seen[1]).contains("disk full"));

    // A command that cannot start: 127, and the server hears why.
    let (code, _, stderr) = run_in(
        root,
        &[
            "run",
            "--ping",
            &ping("missing"),
            "--",
            "no-such-command-here",
        ],
    );
    assert_eq!(code, 127, "{stderr}");
    assert!(
        stderr.contains("cannot run no-such-command-here"),
        "{stderr}"
    );
    let seen = pings(root, "missing-token");
    assert_eq!(runs(&seen).0.last(), Some(&(PingKind::Exit, Some(127))));
    assert!(body(&seen[1]).contains("cannot run"), "{seen:?}");

    // Past --timeout: stopped, 124, and the tail says so.
    let (code, stdout, stderr) = run_in(
        root,
        &[
            "run",
            "--ping",
            &ping("slow"),
            "--timeout",
            "300ms",
            "--",
            "sh",
            "-c",
            "echo started; sleep 60",
        ],
    );
    assert_eq!(code, 124, "{stderr}");
    assert_eq!(stdout, "started\n");
    assert!(
        stderr.contains("did not finish within --timeout"),
        "{stderr}"
    );
    let seen = pings(root, "slow-token");
    assert_eq!(
        runs(&seen),
        (
            vec![(PingKind::Start, None), (PingKind::Exit, Some(124))],
            true
        )
    );
    assert!(body(&seen[1]).starts_with("started\n"), "{seen:?}");
    assert!(body(&seen[1]).contains("stopped"), "{seen:?}");

    // A token the server does not know: said, never fatal, never shown.
    let (code, _, stderr) = run_in(
        root,
        &[
            "run",
            "--ping",
            &ping("unknown"),
            "--",
            "sh",
            "-c",
            "exit 0",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("does not know this ping URL"), "{stderr}");
    assert!(!stderr.contains("unknown-token"), "{stderr}");
}

#[test]
fn sigterm_reaches_the_command_and_its_status_is_kept() {
    let dir = spec();
    let root = dir.path();
    let server = start_env(root, None, &[], &[("WEEKLY_TOKEN", "weekly")]);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .current_dir(root)
        .args(["run", "--ping"])
        .arg(format!("http://{}/ping/stopped-token", server.addr))
        .args([
            "--",
            "sh",
            "-c",
            "trap 'echo rotating' USR1; trap 'echo cleaning up; exit 7' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read");
    assert_eq!(line, "ready\n");
    let pid =
        rustix::process::Pid::from_raw(i32::try_from(child.id()).expect("pid")).expect("a pid");
    // A signal whose default would end the run reaches the command instead.
    rustix::process::kill_process(pid, rustix::process::Signal::USR1).expect("SIGUSR1");
    line.clear();
    out.read_line(&mut line).expect("read");
    assert_eq!(line, "rotating\n");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(7), "the command's own status");
    line.clear();
    out.read_line(&mut line).expect("read");
    assert_eq!(line, "cleaning up\n");
    let seen = pings(root, "stopped-token");
    assert_eq!(runs(&seen).0.last(), Some(&(PingKind::Exit, Some(7))));
    assert!(body(&seen[1]).contains("cleaning up"), "{seen:?}");
}

#[test]
fn an_unreachable_server_never_changes_the_outcome() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let url = format!("http://{closed}/ping/s3cret-token");
    for (script, expected) in [("echo still ran; exit 5", 5), ("exit 0", 0)] {
        let (code, stdout, stderr) = run_in(
            dir.path(),
            &[
                "run",
                "--ping",
                &url,
                "--ping-retries",
                "1",
                "--",
                "sh",
                "-c",
                script,
            ],
        );
        assert_eq!(code, expected, "{stderr}");
        assert_eq!(stdout, if expected == 5 { "still ran\n" } else { "" });
        assert!(
            stderr.contains("cannot send the start ping") && stderr.contains("after 2 attempts"),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("exit status {expected} ping")),
            "{stderr}"
        );
        assert!(
            !stderr.contains("s3cret"),
            "the token is never shown: {stderr}"
        );
    }

    // A ping URL with a query would swallow the paths appended to it.
    let (code, _, stderr) = run_in(
        dir.path(),
        &[
            "run",
            "--ping",
            &format!("{url}?x=1"),
            "--",
            "sh",
            "-c",
            "exit 3",
        ],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("without a query"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");

    // A spec that does not resolve the check: the job runs all the same.
    let (code, _, stderr) = run_in(
        dir.path(),
        &[
            "run",
            "--check",
            "prod/none",
            "--server",
            &format!("http://{closed}"),
            "--",
            "sh",
            "-c",
            "exit 4",
        ],
    );
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("cannot ping"), "{stderr}");
    assert!(
        stderr.contains("running the command all the same"),
        "{stderr}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_command_as_in_a_bare_pipeline() {
    // `stagegate run -- yes | head -1`: once head is gone, yes meets the
    // closed pipe and ends, and so does the run.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .args(["run", "--ping-retries", "0", "--ping"])
        .arg(format!("http://{closed}/ping/t"))
        .args(["--", "yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read");
    assert_eq!(line, "y\n");
    drop(out);
    let status = wait_for("the run to end", 60, || child.try_wait().ok().flatten());
    assert_eq!(
        status.code(),
        Some(128 + 13),
        "yes ended by SIGPIPE: {status:?}"
    );
}
