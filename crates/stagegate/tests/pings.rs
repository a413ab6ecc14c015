//! Ping input at the edge: bytes no store can hold, malformed run ids,
//! floods of log bodies, and pings kept within their retention.

use std::sync::Arc;

use sqlx::Connection;
use stagegate_test_support::*;

fn dir() -> tempfile::TempDir {
    TestSpec::new("Pings").heartbeat("nightly", "1d", "").dir()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_byte_fails_nobody_on_postgres() {
    let Some(db) = PgDb::create("ping_nul").await else {
        return;
    };
    let dir = dir();
    let server = start_with(dir.path(), Some(&db.url), &[]);
    let addr = server.addr;
    // Legitimate pings race a NUL-carrying one into the same group commits.
    let mut all = Vec::new();
    for i in 0..40 {
        all.push(tokio::task::spawn_blocking(move || {
            if i % 10 == 0 {
                http_with(addr, "POST", "/ping/nightly-token/log", "", b"a\0b").0
            } else {
                http(addr, "POST", "/ping/nightly-token", None, "").0
            }
        }));
    }
    for p in all {
        assert_eq!(p.await.expect("join"), 200);
    }
    let (status, _, body) = http_with(addr, "POST", "/ping/nightly-token/start?rid=a%00b", "", b"");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("`rid`"), "{body}");

    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let bodies: Vec<Option<String>> =
        sqlx::query_scalar("SELECT body FROM pings WHERE kind = 'log'")
            .fetch_all(&mut conn)
            .await
            .expect("query");
    assert_eq!(bodies.len(), 4);
    assert!(
        bodies.iter().all(|b| b.as_deref() == Some("a\u{2400}b")),
        "{bodies:?}"
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pings")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(n, 40);
    drop(conn);
    drop(server);
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_floods_are_refused_and_pings_are_pruned() {
    let dir = dir();
    let server = start_with(
        dir.path(),
        None,
        &["--retention", "1s", "--keep-pings", "5", "--tick", "100ms"],
    );
    let addr = server.addr;
    let body = Arc::new(vec![b'x'; 10_000]);
    let mut refused = 0;
    for _ in 0..100 {
        let status = http_with(addr, "POST", "/ping/nightly-token/log", "", &body).0;
        match status {
            200 => {}
            429 => refused += 1,
            other => panic!("a log ping answered {other}"),
        }
    }
    assert!(refused >= 80, "only {refused} of 100 log pings refused");
    // Other pings of the same job are never refused.
    assert_eq!(http(addr, "POST", "/ping/nightly-token", None, "").0, 200);
    let (_, head, _) = http_with(addr, "POST", "/ping/nightly-token/log", "", b"x");
    assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
    let (_, metrics) = http(addr, "GET", "/metrics", None, "");
    assert!(
        metrics.contains("stagegate_pings_refused_total{reason=\"rate\"}"),
        "{metrics}"
    );
    // Past retention only the newest five stay.
    let url = format!(
        "sqlite://{}",
        dir.path().join("data/stagegate.db").display()
    );
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open");
    let mut left = 0;
    for _ in 0..600 {
        left = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pings")
            .fetch_one(&mut conn)
            .await
            .expect("count");
        if left == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        left, 5,
        "pings past retention are pruned to the newest five"
    );
    drop(server);
}
