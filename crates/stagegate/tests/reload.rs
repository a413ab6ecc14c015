//! Reloading the spec of a running server: a removed check's incident is
//! closed (and said so once, no more reminders, no more series), and a
//! broken spec is logged as plain, short text.

use std::sync::{Arc, Mutex};

use stagegate_test_support::*;

fn spec(hook: std::net::SocketAddr, checks: &[&str]) -> String {
    checks
        .iter()
        .fold(
            TestSpec::new("Reload").webhook("hook", format!("http://{hook}/hook")),
            |spec, c| spec.heartbeat(c, "1d", ""),
        )
        .toml()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_checks_incident_is_closed_once() {
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stagegate.toml");
    std::fs::write(&path, spec(hook, &["gone", "kept"])).expect("spec");
    let viewer = token(dir.path(), None, "viewer", "vic");
    let server = start_with(dir.path(), None, &["--remind-every", "1s"]);
    for c in ["gone", "kept"] {
        assert_eq!(
            http(
                server.addr,
                "POST",
                &format!("/ping/{c}-token/fail"),
                None,
                ""
            )
            .0,
            200
        );
    }
    wait_for("both incidents and a reminder of the one to go", 30, || {
        (events(&seen, "incident.opened", "gone") == 1
            && events(&seen, "incident.opened", "kept") == 1
            && events(&seen, "incident.reminder", "gone") >= 1)
            .then_some(())
    });

    std::fs::write(&path, spec(hook, &["kept"])).expect("spec");
    let resolved = wait_for("the removed check's incident resolved", 30, || {
        seen.lock()
            .expect("seen")
            .iter()
            .find(|(_, b)| {
                b.contains("\"event\":\"incident.resolved\"") && b.contains("\"check\":\"gone\"")
            })
            .map(|(_, b)| b.clone())
    });
    assert!(
        resolved.contains("check removed from the spec"),
        "{resolved}"
    );
    let reminded = events(&seen, "incident.reminder", "gone");
    // Two more reminders of the check that stays: reminders went round
    // twice, and none was about the removed one.
    let kept = events(&seen, "incident.reminder", "kept");
    wait_for("two more reminder rounds", 30, || {
        (events(&seen, "incident.reminder", "kept") >= kept + 2).then_some(())
    });
    assert_eq!(events(&seen, "incident.reminder", "gone"), reminded);
    assert_eq!(events(&seen, "incident.resolved", "gone"), 1);

    let (_, incidents) = http(server.addr, "GET", "/api/v1/incidents", Some(&viewer), "");
    let doc = json_body(&incidents);
    let gone = doc["incidents"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["check"] == "prod/gone"))
        .cloned()
        .expect("the incident is kept, resolved");
    assert_eq!(gone["state"], "resolved");
    let metrics = wait_for("the removed check's series gone", 30, || {
        let (_, m) = http(server.addr, "GET", "/metrics", None, "");
        (!m.contains("prod/gone") && m.contains("prod/kept")).then_some(m)
    });
    assert!(metrics.contains("stagegate_incidents_open 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_spec_is_logged_plain_and_short() {
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stagegate.toml");
    std::fs::write(&path, spec(hook, &["kept"])).expect("spec");
    let server = start_with(dir.path(), None, &[]);
    // One enormous line with an error at its end.
    let broken = format!(
        "{}\n[product]\nname = \"{}\" nope\n",
        spec(hook, &["kept"]).replace("[product]\nname = \"Reload\"\n", ""),
        "x".repeat(2_000_000)
    );
    std::fs::write(&path, broken).expect("spec");
    wait_for("the reload to be refused", 30, || {
        server.logged("the new spec is invalid").then_some(())
    });
    let log = server.log_text();
    assert!(!log.contains('\u{1b}'), "terminal styles in the log");
    let longest = log.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest < 1_000, "a log line of {longest} characters");
    assert!(log.contains("more characters)"), "{log}");
}

/// Text from outside (here a webhook's answer) cannot style the log or
/// forge a line of it: control characters come out escaped and a second
/// line is indented under its event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_text_cannot_forge_a_log_line() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = "\u{1b}[31mred\n2026-01-01T00:00:00Z  INFO FORGED line";
            let reply = format!(
                "HTTP/1.1 500 Internal Server Error\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    let dir = TestSpec::new("Forge")
        .webhook("evil", format!("http://{hook}/hook"))
        .heartbeat("job", "1d", "")
        .dir();
    let server = start(dir.path(), None);
    assert_eq!(
        http(server.addr, "POST", "/ping/job-token/fail", None, "").0,
        200
    );
    wait_for("the failed delivery in the log", 30, || {
        server.logged("delivery failed").then_some(())
    });
    let log = server.log_text();
    assert!(log.contains("FORGED"), "the answer is logged: {log}");
    assert!(!log.contains('\u{1b}'), "{log}");
    assert!(
        !log.lines().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "a forged line:\n{log}"
    );
}
