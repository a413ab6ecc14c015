//! `stagegate serve` as a child process on 127.0.0.1 for end-to-end tests,
//! and API tokens for it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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
    let (child, log) = spawn_serve(dir, db, extra, envs);
    let addr = wait_for("serve to listen", 30, || {
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
/// lines are collected as they come.
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

/// One HTTP exchange over a fresh connection: (status, body).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The JSON of a body that may be chunked.
pub fn json_body(body: &str) -> serde_json::Value {
    let start = body.find(['{', '[']).expect("json start");
    let end = body.rfind(['}', ']']).expect("json end");
    serde_json::from_str(&body[start..=end]).expect("json")
}

/// A webhook receiver keeping (headers, body) of every POST.
pub async fn receiver(seen: Arc<Mutex<Vec<(String, String)>>>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = s.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&data[..end]);
                        let body = &data[end + 4..];
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            if let Ok(mut v) = seen.lock() {
                                v.push((
                                    head.to_ascii_lowercase(),
                                    String::from_utf8_lossy(body).into_owned(),
                                ));
                            }
                            let _ = s
                                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                                .await;
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A fresh PostgreSQL database on this machine's server.
pub struct PgDb {
    pub name: String,
    pub url: String,
}

pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

impl PgDb {
    pub async fn create(test: &str) -> Option<PgDb> {
        use sqlx::Connection;
        let mut admin = match sqlx::PgConnection::connect(ADMIN_URL).await {
            Ok(c) => c,
            Err(e) => {
                let what = format!("PostgreSQL at {ADMIN_URL} is not reachable: {e}");
                if std::env::var("STAGEGATE_STRICT_TESTS").as_deref() == Ok("1") {
                    panic!("{what}; STAGEGATE_STRICT_TESTS=1 forbids skipping");
                }
                eprintln!("\n!!! SKIPPED {test}: {what}\n");
                return None;
            }
        };
        let name = format!("stagegate_{test}_{}", std::process::id());
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
                .expect("create database");
        }
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        Some(PgDb { name, url })
    }

    pub async fn drop_now(self) {
        use sqlx::Connection;
        if let Ok(mut admin) = sqlx::PgConnection::connect(ADMIN_URL).await {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut admin)
            .await;
        }
    }
}
