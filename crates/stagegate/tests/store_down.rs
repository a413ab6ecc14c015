//! With its store unreachable the server still answers: `/healthz` says so
//! at once, `/metrics` keeps every series with its last value and marks
//! them stale, and the failure is counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use stagegate_test_support::*;

fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_answer_while_the_store_hangs() {
    let Some(db) = PgDb::create("store_down").await else {
        return;
    };
    let paused: Switch = Arc::new(AtomicBool::new(false));
    let proxy = pausable_proxy(
        "127.0.0.1:0".parse().expect("addr"),
        "127.0.0.1:5432".parse().expect("addr"),
        paused.clone(),
    )
    .await;
    let url = db.url.replace("127.0.0.1:5432", &proxy.to_string());
    let dir = TestSpec::new("Down").heartbeat("nightly", "1d", "").dir();
    let server = start_with(dir.path(), Some(&url), &["--tick", "200ms"]);
    assert_eq!(
        http(server.addr, "POST", "/ping/nightly-token/fail", None, "").0,
        200
    );
    wait_for("the incident in the metrics", 30, || {
        let (_, m) = http(server.addr, "GET", "/metrics", None, "");
        (value(&m, "stagegate_incidents_open") == Some(1.0)
            && value(&m, "stagegate_check_up{check=\"prod/nightly\"}") == Some(0.0))
        .then_some(())
    });

    paused.store(true, Ordering::SeqCst);
    let (status, body) = http(server.addr, "GET", "/healthz", None, "");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("no answer within 1s"), "{body}");
    let m = wait_for("the metrics to mark the store down", 30, || {
        let (status, m) = http(server.addr, "GET", "/metrics", None, "");
        assert_eq!(status, 200);
        (value(&m, "stagegate_store_up") == Some(0.0)).then_some(m)
    });
    assert_eq!(value(&m, "stagegate_incidents_open"), Some(1.0), "{m}");
    assert_eq!(
        value(&m, "stagegate_check_up{check=\"prod/nightly\"}"),
        Some(0.0),
        "the series stays, with its last value: {m}"
    );
    assert!(
        value(&m, "stagegate_store_errors_total").is_some_and(|n| n >= 1.0),
        "{m}"
    );
    assert!(
        m.contains("stagegate_store_last_success_timestamp_seconds "),
        "{m}"
    );

    paused.store(false, Ordering::SeqCst);
    wait_for("the store back", 60, || {
        let (_, m) = http(server.addr, "GET", "/metrics", None, "");
        (value(&m, "stagegate_store_up") == Some(1.0)).then_some(())
    });
    assert_eq!(http(server.addr, "GET", "/healthz", None, "").0, 200);
    drop(server);
    db.drop_now().await;
}

/// A store that answers connections and hangs up at once (a PostgreSQL
/// proxy with no server behind it): the node waits for it, and a SIGTERM
/// while it waits stops it at once.
#[test]
fn a_store_that_hangs_up_is_waited_for_and_a_stop_is_heard_while_waiting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let accepted = accepted.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                accepted.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
    }
    let dir = TestSpec::new("Proxy").heartbeat("nightly", "1d", "").dir();
    let url = format!("postgres://postgres@{addr}/none");
    let (mut child, log) = spawn_serve(dir.path(), Some(&url), &["--node", "n1"], &[]);
    wait_for("two attempts, each answered by a hang-up", 60, || {
        let retries = log
            .lock()
            .ok()?
            .iter()
            .filter(|l| l.contains("the store is not ready; trying again"))
            .count();
        (retries >= 2 && accepted.load(Ordering::SeqCst) >= 2).then_some(())
    });
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "the node gave up: {:?}",
        log.lock().expect("log")
    );
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = wait_for("the node to stop", 10, || child.try_wait().ok().flatten());
    assert!(
        !status.success(),
        "stopping while waiting is not a clean start"
    );
    let text = log.lock().expect("log").join("\n");
    assert!(
        text.contains("stopped while waiting for the store"),
        "{text}"
    );
}

/// A status page outlives its store: with the store hanging, a page that
/// must be rebuilt (the spec changed) is served as it last was, within
/// the build deadline, rather than an error after the store's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_outlives_the_store() {
    let Some(db) = PgDb::create("status_down").await else {
        return;
    };
    let paused: Switch = Arc::new(AtomicBool::new(false));
    let proxy = pausable_proxy(
        "127.0.0.1:0".parse().expect("addr"),
        "127.0.0.1:5432".parse().expect("addr"),
        paused.clone(),
    )
    .await;
    let url = db.url.replace("127.0.0.1:5432", &proxy.to_string());
    let page = |title: &str| {
        TestSpec::new("Down")
            .heartbeat("nightly", "1d", "")
            .raw(&format!(
                "[environments.prod.status_page]\ntitle = \"{title}\"\ncomponents = [{{ name = \"Backups\", checks = [\"nightly\"] }}]\n"
            ))
    };
    let dir = page("Before").dir();
    let server = start_with(dir.path(), Some(&url), &["--tick", "200ms"]);
    let (status, _, body) = get_with(server.addr, "/status/prod", "");
    assert_eq!(status, 200);
    assert!(body.contains("Before"), "{body}");

    paused.store(true, Ordering::SeqCst);
    std::fs::write(dir.path().join("stagegate.toml"), page("After").toml()).expect("spec");
    wait_for("the new spec to be served", 30, || {
        let (_, _, body) = get_with(server.addr, "/status/prod", "");
        // The rebuild cannot read the store: the last page is served.
        assert!(body.contains("Before") || body.contains("After"), "{body}");
        server
            .log
            .lock()
            .ok()?
            .iter()
            .any(|l| l.contains("cannot read a status page's data"))
            .then_some(())
    });
    let (status, _, body) = get_with(server.addr, "/status/prod", "");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Before"),
        "the last page, until the store answers: {body}"
    );

    paused.store(false, Ordering::SeqCst);
    wait_for("the page rebuilt once the store is back", 60, || {
        let (_, _, body) = get_with(server.addr, "/status/prod", "");
        body.contains("After").then_some(())
    });
    drop(server);
    db.drop_now().await;
}
