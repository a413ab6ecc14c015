//! `stagegate serve` as a child process on 127.0.0.1, and API tokens for
//! it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::wait_for;

/// A running server; killed when dropped.
#[derive(Debug)]
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// What the server wrote on stderr, line by line.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Whether a line of the log contains `what`.
    pub fn logged(&self, what: &str) -> bool {
        self.log
            .lock()
            .map(|l| l.iter().any(|line| line.contains(what)))
            .unwrap_or(false)
    }

    /// The whole log, for a failing assertion's message.
    pub fn log_text(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

/// `--db URL`, or the default SQLite file in `data/`.
pub fn store_args(db: Option<&str>) -> Vec<String> {
    match db {
        Some(url) => vec!["--db".into(), url.into()],
        None => vec!["--data-dir".into(), "data".into()],
    }
}

pub fn start(dir: &std::path::Path, db: Option<&str>) -> Server {
    start_with(dir, db, &[])
}

/// Starts `stagegate serve` with extra options.
pub fn start_with(dir: &std::path::Path, db: Option<&str>, extra: &[&str]) -> Server {
    start_env(dir, db, extra, &[])
}

/// Starts `stagegate serve` with extra options and environment variables,
/// and waits until it listens.
pub fn start_env(
    dir: &std::path::Path,
    db: Option<&str>,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> Server {
    let (child, log) = spawn_serve(dir, db, extra, envs);
    let addr = wait_for("serve to listen", 60, || {
        log.lock()
            .ok()?
            .iter()
            .find_map(|line| line.split("listening on http://").nth(1))
            .and_then(|a| a.split_whitespace().next())
            .and_then(|a| a.parse().ok())
    });
    Server { child, addr, log }
}

/// Spawns `stagegate serve` without waiting for it to listen; its stderr
/// lines are collected as they come. `--tick 200ms` unless `extra` sets a
/// tick.
pub fn spawn_serve(
    dir: &std::path::Path,
    db: Option<&str>,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> (Child, Arc<Mutex<Vec<String>>>) {
    let bin = assert_cmd::cargo::cargo_bin("stagegate");
    let mut child = Command::new(bin)
        .current_dir(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(if extra.contains(&"--tick") {
            &[][..]
        } else {
            &["--tick", "200ms"][..]
        })
        .args(store_args(db))
        .args(extra)
        .env("NO_COLOR", "1")
        .env("HOOK_SECRET", "s3cret")
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(mut l) = sink.lock() {
                l.push(line);
            }
        }
    });
    (child, log)
}

/// A new API token of `role`, printed by `stagegate token create`.
pub fn token(dir: &std::path::Path, db: Option<&str>, role: &str, name: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin("stagegate");
    let out = Command::new(bin)
        .current_dir(dir)
        .args(["token", "create", "--role", role, "--name", name])
        .args(store_args(db))
        .env("NO_COLOR", "1")
        .output()
        .expect("token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert!(token.starts_with("sg_") && token.len() > 70, "{token}");
    token
}

/// `stagegate ARGS` run in `dir` without colour and without a server or
/// token from the environment: (exit code, stdout, stderr).
pub fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("STAGEGATE_SERVER")
        .env_remove("STAGEGATE_TOKEN")
        .output()
        .expect("run stagegate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
