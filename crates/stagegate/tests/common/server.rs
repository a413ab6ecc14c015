//! `stagegate serve` as a child process on 127.0.0.1 for end-to-end tests,
//! and API tokens for it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::stagegate;

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

/// Starts `stagegate serve` with extra options and environment variables.
pub fn start_env(
    dir: &std::path::Path,
    db: Option<&str>,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> Server {
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
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("listening on http://").nth(1) {
                let _ = tx.send(
                    addr.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            if let Ok(mut l) = sink.lock() {
                l.push(line);
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("serve did not start: {:?}", log.lock().map(|l| l.clone())));
    Server {
        child,
        addr: addr.parse().expect("addr"),
        log,
    }
}

pub fn token(dir: &std::path::Path, db: Option<&str>, role: &str, name: &str) -> String {
    let out = stagegate()
        .current_dir(dir)
        .args(["token", "create", "--role", role, "--name", name])
        .args(store_args(db))
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
