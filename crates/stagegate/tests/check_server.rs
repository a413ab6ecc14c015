//! `check --server`: CI gates on what a running server's monitors saw. The
//! verdicts match the server's own, rest on `observed` evidence naming the
//! node and location, follow the target down and up again, and a server
//! that cannot be asked is exit 2, never a pass.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use stagegate_test_support::*;

fn check(dir: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .current_dir(dir)
        .args(["check", "-f", "json"])
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("STAGEGATE_SERVER")
        .env_remove("STAGEGATE_TOKEN")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), doc, stderr)
}

fn finding<'a>(doc: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    doc["environments"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {doc}"))
}

/// (environment, rule, status, basis) of every finding, in order.
fn verdicts(doc: &serde_json::Value) -> Vec<(String, String, String, String)> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let mut all: Vec<_> = doc["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .flat_map(|env| {
            let name = text(&env["name"]);
            env["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(move |f| {
                    (
                        name.clone(),
                        text(&f["rule"]),
                        text(&f["status"]),
                        text(&f["basis"]),
                    )
                })
        })
        .collect();
    all.sort();
    all
}

/// `rule`'s status in the server's own evaluation.
fn served(addr: std::net::SocketAddr, viewer: &str, rule: &str) -> String {
    let (status, body) = http(addr, "GET", "/api/v1/environments", Some(viewer), "");
    assert_eq!(status, 200, "{body}");
    let doc = json_body(&body);
    finding(&doc, rule)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn scenario(db: Option<&str>) {
    let up = Arc::new(AtomicBool::new(true));
    let target = switchable_target(up.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_owned();
    std::fs::write(
        root.join("stagegate.toml"),
        format!(
            r#"[product]
name = "Gated"

[contacts.ops]
email = "ops@example.com"

[environments.prod]
mode = "staging"
audience = "internal"
controlled_by = "client"

[[environments.prod.servers]]
name = "app-1"
roles = ["core"]
location = "here"

[environments.prod.monitoring]
notify = ["ops"]

[[environments.prod.monitoring.checks]]
name = "web"
covers = "core"
kind = "http"
url = "http://{target}/health"
interval = "300ms"
failure_threshold = 2
success_threshold = 1

[environments.zlive]
mode = "production"
audience = "public"

[[environments.zlive.servers]]
name = "live-1"
roles = ["core", "database"]
location = "here"

[environments.zlive.backup]
interval = "24h"
location = "here"
"#
        ),
    )
    .expect("spec");
    let db = db.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let db = db.as_deref();
        let server = start_with(&root, db, &["--node", "fra-1", "--location", "fra"]);
        let addr = server.addr;
        let viewer = token(&root, db, "viewer", "ci");
        let url = format!("http://{addr}");
        let gate = |extra: &[&str]| {
            let mut args = vec![
                "--server",
                url.as_str(),
                "--token",
                viewer.as_str(),
                "--env",
                "prod",
            ];
            args.extend(extra);
            check(&root, &args)
        };

        // Up: the gate passes on what fra-1 in fra observed.
        let doc = wait_for("the check observed up", 20, || {
            let (code, doc, _) = gate(&[]);
            (code == 0 && finding(&doc, "SG-LIVE-CHECKS")["status"] == "pass").then_some(doc)
        });
        let live = finding(&doc, "SG-LIVE-CHECKS");
        assert_eq!(live["basis"], "observed");
        let evidence = &live["evidence"][0];
        assert_eq!(evidence["source"], "fra-1@fra", "{evidence}");
        assert_eq!(evidence["basis"], "observed");
        assert!(evidence["at"].as_str().is_some_and(|a| a.ends_with('Z')));
        assert_eq!(served(addr, &viewer, "SG-LIVE-CHECKS"), "pass");

        // Down: the server confirms it, and the gate follows.
        up.store(false, Ordering::SeqCst);
        let (code, doc) = wait_for("the check observed down", 20, || {
            let (code, doc, _) = gate(&[]);
            (finding(&doc, "SG-LIVE-CHECKS")["status"] == "fail").then_some((code, doc))
        });
        assert_eq!(code, 1, "a failing live rule blocks: {doc}");
        assert_eq!(served(addr, &viewer, "SG-LIVE-CHECKS"), "fail");
        let message = finding(&doc, "SG-LIVE-CHECKS")["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.starts_with("1 of 1 checks fail now: web"),
            "{message}"
        );

        // Up again.
        up.store(true, Ordering::SeqCst);
        wait_for("the check observed up again", 20, || {
            let (code, doc, _) = gate(&[]);
            (code == 0 && finding(&doc, "SG-LIVE-CHECKS")["status"] == "pass").then_some(())
        });
        assert_eq!(served(addr, &viewer, "SG-LIVE-CHECKS"), "pass");

        // Every verdict of every environment, not only the live one, is
        // the server's own: same rules, statuses and bases.
        let (code, doc, stderr) = check(&root, &["--server", &url, "--token", &viewer]);
        assert_eq!(code, 1, "zlive is not ready: {stderr}");
        let (status, body) = http(addr, "GET", "/api/v1/environments", Some(&viewer), "");
        assert_eq!(status, 200, "{body}");
        let own = verdicts(&json_body(&body));
        assert!(own.len() > 20, "{own:?}");
        assert!(own.iter().any(|v| v.2 == "fail"), "{own:?}");
        assert_eq!(verdicts(&doc), own);

        // A local spec that differs is judged all the same, with a warning.
        let edited = std::fs::read_to_string(root.join("stagegate.toml"))
            .expect("read")
            .replace("name = \"Gated\"", "name = \"Gated locally\"");
        std::fs::write(root.join("local.toml"), edited).expect("write");
        let (_, doc, stderr) = gate(&["local.toml"]);
        assert!(stderr.contains("runs a different spec"), "{stderr}");
        assert_eq!(finding(&doc, "SG-LIVE-CHECKS")["status"], "pass");

        // Nothing to ask, or no right to ask: exit 2, never a pass.
        let (code, doc, stderr) = check(&root, &["--server", &url]);
        assert_eq!((code, &doc), (2, &serde_json::Value::Null), "{stderr}");
        assert!(stderr.contains("--server needs --token"), "{stderr}");
        let (code, _, stderr) = check(&root, &["--server", &url, "--token", "sg_00000000_nope"]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("401"), "{stderr}");
        drop(server);
        let (code, _, stderr) = gate(&[]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(&format!("cannot reach {url}")), "{stderr}");
    })
    .await
    .expect("join");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_server_gates_on_what_the_monitors_saw_on_sqlite() {
    scenario(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_server_gates_on_what_the_monitors_saw_on_postgres() {
    let Some(db) = PgDb::create("check_server").await else {
        return;
    };
    scenario(Some(&db.url)).await;
    db.drop_now().await;
}
