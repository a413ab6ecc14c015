//! Prometheus probes against a real Prometheus (the Debian package) that this
//! test starts on loopback, scraping a metrics endpoint the test serves and
//! a backup exporter that is down.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use stagegate_probe::{
    Component, Job, ProbeStatus, PrometheusCheck, PrometheusTarget, Subject, Target, TlsTrust,
    run_one,
};
use stagegate_spec::CheckKind;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Kills Prometheus when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves `/metrics` in the text exposition format.
async fn exporter() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let body = "# TYPE orders_total counter\norders_total 42\n";
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    port
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn start_prometheus(
    dir: &std::path::Path,
    app: u16,
    backup: u16,
) -> Option<(Running, String)> {
    let web = free_port();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:{app}']\n  - job_name: nightly-backup\n    static_configs:\n      - targets: ['127.0.0.1:{backup}']\n"
        ),
    )
    .expect("write config");
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => Running(c),
        Err(e) => {
            unavailable(&format!(
                "cannot start prometheus (apt-get install prometheus): {e}"
            ));
            return None;
        }
    };
    let base = format!("http://127.0.0.1:{web}");
    // Wait until both targets have been scraped once.
    let probe = PrometheusTarget {
        base: base.clone(),
        check: PrometheusCheck::Query {
            query: "count(up)".into(),
            expect: vec!["2".into()],
        },
        trust: TlsTrust::default_roots().expect("roots"),
    };
    for _ in 0..60 {
        if run(probe.clone()).await.status == ProbeStatus::Pass {
            return Some((child, base));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("prometheus did not scrape its targets within 30 s");
}

async fn run(t: PrometheusTarget) -> stagegate_probe::ProbeResult {
    let job = Job {
        environment: "test".into(),
        source: "127.0.0.1".into(),
        subject: Subject::Check {
            name: "prom".into(),
            kind: CheckKind::Prometheus,
        },
        target: Target::Prometheus(Box::new(t)),
        timeout: Duration::from_secs(5),
        retries: 0,
    };
    run_one(&job, &context(), Duration::from_millis(10)).await
}

#[tokio::test]
async fn queries_and_monitored_components() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = exporter().await;
    let backup_down = free_port();
    let Some((_prometheus, base)) = start_prometheus(dir.path(), app, backup_down).await else {
        return;
    };
    let target = |check| PrometheusTarget {
        base: base.clone(),
        check,
        trust: TlsTrust::default_roots().expect("roots"),
    };

    let r = run(target(PrometheusCheck::Query {
        query: "up{job=\"app\"}".into(),
        expect: vec!["1".into()],
    }))
    .await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    let r = run(target(PrometheusCheck::Query {
        query: "sum(orders_total)".into(),
        expect: vec!["41".into()],
    }))
    .await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary.contains("`sum(orders_total)` = 42") && r.summary.contains("(expected 41)"),
        "{}",
        r.summary
    );
    let r = run(target(PrometheusCheck::Query {
        query: "up{job=\"nope\"}".into(),
        expect: vec![],
    }))
    .await;
    assert!(
        r.summary.contains("(expected at least one sample)"),
        "{}",
        r.summary
    );
    let r = run(target(PrometheusCheck::Query {
        query: "up{".into(),
        expect: vec![],
    }))
    .await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(r.summary.contains("query `up{` failed"), "{}", r.summary);

    let app_server = Component::Server {
        name: "app-1".into(),
        host: Some("127.0.0.1".into()),
    };
    let r = run(target(PrometheusCheck::TargetsUp(vec![app_server.clone()]))).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    let r = run(target(PrometheusCheck::TargetsUp(vec![
        app_server,
        Component::Server {
            name: "db-1".into(),
            host: Some("db-1.internal".into()),
        },
        Component::Backup,
    ])))
    .await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert_eq!(
        r.errors,
        vec![
            "no scrape target for server db-1 (db-1.internal)".to_owned(),
            "up == 0 for the backup system".to_owned()
        ]
    );
}
