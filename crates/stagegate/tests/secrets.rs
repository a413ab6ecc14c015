//! A secret resolved from `${NAME}` is never shown: not in incident
//! messages, results, delivery errors, webhook payloads, the API, the
//! dashboard, the log, `check --live` or spec errors. It reads `${NAME}`
//! there, and a URL's password reads `***`.

use std::sync::{Arc, Mutex};

use stagegate_test_support::*;

/// Values with the characters that end a URL's part (`#`, `/`, `?`, `@`):
/// put in raw, a URL would be cut or sent elsewhere, and a message would
/// show a piece of the value that masking does not recognise.
const SECRETS: [(&str, &str); 3] = [
    ("CHECK_TOKEN", "tokfront-1#tokback-1"),
    ("DB_PASSWORD", "pwfront-2/pwback-2@x"),
    ("HOOK_PATH", "hookfront-3?hookback-3"),
];

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn spec(hook: std::net::SocketAddr, closed: u16) -> String {
    TestSpec::new("Secrets")
        .webhook("broken", format!("http://127.0.0.1:{closed}/${{HOOK_PATH}}"))
        .webhook("hook", format!("http://{hook}/hook"))
        .check(
            "api",
            "http",
            &format!(
                "url = \"http://127.0.0.1:{closed}/health?token=${{CHECK_TOKEN}}\"\ninterval = \"200ms\"\nfailure_threshold = 1"
            ),
        )
        .check(
            "db",
            "postgres",
            &format!(
                "url = \"postgres://app:${{DB_PASSWORD}}@127.0.0.1:{closed}/shop\"\ninterval = \"200ms\"\nfailure_threshold = 1"
            ),
        )
        .toml()
}

fn assert_hidden(what: &str, text: &str) {
    for (name, value) in SECRETS {
        for piece in value.split(['#', '/', '?', '@']).filter(|p| p.len() > 2) {
            assert!(
                !text.contains(piece),
                "{what} shows `{piece}` of the value of {name}:\n{text}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_show() {
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let closed = closed_port();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("stagegate.toml"), spec(hook, closed)).expect("spec");
    let viewer = token(dir.path(), None, "viewer", "vic");
    let server = start_env(dir.path(), None, &[], &SECRETS);

    // Both checks fail, both incidents are delivered to the working hook,
    // and the broken notifier has failed at least once.
    wait_for("both incidents delivered", 30, || {
        (seen.lock().expect("seen").len() >= 2).then_some(())
    });
    let deliveries = wait_for("a failed delivery", 30, || {
        let (_, body) = http(server.addr, "GET", "/api/v1/deliveries", Some(&viewer), "");
        body.contains("\"ok\":false").then_some(body)
    });
    assert_hidden("the delivery log", &deliveries);
    assert!(deliveries.contains("${HOOK_PATH}"), "{deliveries}");

    for path in [
        "/api/v1/incidents",
        "/api/v1/checks",
        "/api/v1/environments",
        "/monitors/prod/api",
        "/monitors/prod/db",
        "/incidents",
        "/",
    ] {
        let (status, body) = http(server.addr, "GET", path, Some(&viewer), "");
        assert_eq!(status, 200, "{path}");
        assert_hidden(path, &body);
    }
    // Results quote their targets as written.
    let checks = wait_for("results of both checks", 30, || {
        let (_, body) = http(server.addr, "GET", "/api/v1/checks", Some(&viewer), "");
        (body.contains("${CHECK_TOKEN}") && body.contains("app:***@")).then_some(body)
    });
    assert_hidden("/api/v1/checks", &checks);
    for (_, body) in seen.lock().expect("seen").iter() {
        assert_hidden("a webhook payload", body);
    }
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_show_in_the_log_live_checks_or_spec_errors() {
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let closed = closed_port();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("stagegate.toml"), spec(hook, closed)).expect("spec");
    let server = start_env(dir.path(), None, &[], &SECRETS);
    wait_for("both incidents delivered", 30, || {
        (seen.lock().expect("seen").len() >= 2).then_some(())
    });
    wait_for("a failed delivery in the log", 30, || {
        server.logged("delivery failed").then_some(())
    });
    let log = server.log_text();
    drop(server);
    assert_hidden("the server's log", &log);

    let bin = assert_cmd::cargo::cargo_bin("stagegate");
    let live = std::process::Command::new(&bin)
        .current_dir(dir.path())
        .args(["check", "--live", "--format", "json"])
        .envs(SECRETS)
        .env("NO_COLOR", "1")
        .output()
        .expect("check --live");
    let out =
        String::from_utf8_lossy(&live.stdout).into_owned() + &String::from_utf8_lossy(&live.stderr);
    assert!(out.contains("${CHECK_TOKEN}"), "{out}");
    assert_hidden("check --live", &out);

    // A secret that makes a URL invalid is quoted as written.
    std::fs::write(
        dir.path().join("stagegate.toml"),
        spec(hook, closed).replace(
            &format!("http://127.0.0.1:{closed}/health?token=${{CHECK_TOKEN}}"),
            "http://${CHECK_TOKEN}",
        ),
    )
    .expect("spec");
    let broken = std::process::Command::new(&bin)
        .current_dir(dir.path())
        .args(["check", "--live"])
        .envs(SECRETS)
        .env("CHECK_TOKEN", "tok very-secret-1 with spaces")
        .env("NO_COLOR", "1")
        .output()
        .expect("check --live");
    let err = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`http://${CHECK_TOKEN}` is not a valid URL"),
        "{err}"
    );
    assert!(!err.contains("very-secret-1"), "{err}");
}
