//! Duties done, not just owned: a person records a duty as done on the
//! server; its duty heartbeat turns up, SG-OPS-DUTIES rests on it, the
//! environment page and the audit log say who did it.

use stagegate_test_support::*;

fn duties(doc: &serde_json::Value) -> serde_json::Value {
    doc["environments"][0]["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "SG-OPS-DUTIES").cloned())
        .unwrap_or_else(|| panic!("no SG-OPS-DUTIES in {doc}"))
}

#[test]
fn a_duty_done_is_observed_with_who_did_it() {
    let dir = TestSpec::new("Duties")
        .mode("production")
        .heartbeat("logs-read", "1d", "covers = \"core\"\nduty = \"log-monitoring\"")
        .heartbeat("backups-checked", "1d", "covers = \"core\"\nduty = \"backup-monitoring\"")
        .raw("[environments.prod.operations]\nlog_monitoring = \"ops\"\nsecurity_updates = \"ops\"\nbackup_monitoring = \"ops\"\n\n[environments.prod.backup]\nlocation = \"elsewhere\"\ninterval = \"1d\"\n\n[contacts.ops]\nemail = \"ops@example.com\"\n")
        .dir();
    let root = dir.path();
    let operator = token(root, None, "operator", "olga");
    let viewer = token(root, None, "viewer", "vic");
    let admin = token(root, None, "admin", "ada");
    let server = start(root, None);
    let url = format!("http://{}", server.addr);
    let verdict = || {
        let (status, body) = http(
            server.addr,
            "GET",
            "/api/v1/environments",
            Some(&viewer),
            "",
        );
        assert_eq!(status, 200, "{body}");
        duties(&json_body(&body))
    };

    // Owned, but never done: not enough once a duty heartbeat exists.
    let before = verdict();
    assert_eq!(before["status"], "fail", "{before}");
    assert!(
        before["message"]
            .as_str()
            .is_some_and(|m| m.contains("log monitoring (never signalled done)")),
        "{before}"
    );

    let (code, stdout, stderr) = run_in(
        root,
        &[
            "duty",
            "done",
            "log-monitoring",
            "--env",
            "prod",
            "--note",
            "read the shop errors",
            "--server",
            &url,
            "--token",
            &operator,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("log-monitoring of prod done by olga at "),
        "{stdout}"
    );
    let (code, _, stderr) = run_in(
        root,
        &[
            "duty",
            "done",
            "backup-monitoring",
            "--env",
            "prod",
            "--server",
            &url,
            "--token",
            &operator,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let after = wait_for("the duty heartbeats to turn up", 30, || {
        Some(verdict()).filter(|f| f["status"] == "pass")
    });
    assert_eq!(after["basis"], "observed", "{after}");

    // The environment page says when and by whom.
    let (status, _, page) = get_with(
        server.addr,
        "/environments/prod",
        &format!("authorization: Bearer {viewer}\r\n"),
    );
    assert_eq!(status, 200);
    assert!(page.contains("Day-to-day operations"), "{page}");
    assert!(page.contains("by olga: read the shop errors"), "{page}");

    let (status, _, page) = get_with(
        server.addr,
        "/backups",
        &format!("authorization: Bearer {viewer}\r\n"),
    );
    assert_eq!(status, 200);
    assert!(
        page.contains("Backup monitoring") && page.contains("by olga"),
        "{page}"
    );

    // The audit log keeps it.
    let (status, body) = http(server.addr, "GET", "/api/v1/audit", Some(&admin), "");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"duty.done\"") && body.contains("prod/log-monitoring"),
        "{body}"
    );

    // What is refused, and why.
    let post =
        |path: &str, token: &str, body: &str| http(server.addr, "POST", path, Some(token), body);
    let (status, body) = post("/api/v1/environments/prod/duties/cooking", &operator, "");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not a duty"), "{body}");
    let (status, body) = post(
        "/api/v1/environments/prod/duties/security-updates",
        &operator,
        "",
    );
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("duty = \\\"security-updates\\\""), "{body}");
    let (status, body) = post(
        "/api/v1/environments/prod/duties/log-monitoring",
        &viewer,
        "",
    );
    assert_eq!(status, 403, "{body}");
    let long = format!("{{\"note\":\"{}\"}}", "x".repeat(1_001));
    let (status, body) = post(
        "/api/v1/environments/prod/duties/log-monitoring",
        &operator,
        &long,
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(
        "/api/v1/environments/nope/duties/log-monitoring",
        &operator,
        "",
    );
    assert_eq!(status, 404, "{body}");
}
