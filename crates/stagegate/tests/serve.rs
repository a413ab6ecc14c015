//! `stagegate serve` end to end, on SQLite: the real binary on 127.0.0.1,
//! a target the test switches down and up, a webhook receiver that checks
//! signatures, pings, tokens and roles, and a clean SIGTERM.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use stagegate_test_support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// Waits until every queued notification was delivered (and recorded):
/// nothing more will arrive from what happened so far.
fn drained(addr: SocketAddr) {
    wait_for("an empty outbox", 30, || {
        let (_, m) = http(addr, "GET", "/metrics", None, "");
        m.lines()
            .any(|l| l == "stagegate_outbox_depth 0")
            .then_some(())
    });
}

/// Waits until `check` is confirmed up.
fn check_up(addr: SocketAddr, token: &str, check: &str) {
    wait_for("the check confirmed up", 30, || {
        let (_, body) = http(addr, "GET", "/api/v1/checks", Some(token), "");
        json_body(&body)["checks"]
            .as_array()?
            .iter()
            .any(|c| c["name"] == check && c["status"] == "up")
            .then_some(())
    });
}

/// Rewrites a file so a watcher sees it changed, whatever the resolution
/// of the file system's modification times.
fn rewrite(path: &std::path::Path, text: &str) {
    let before = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    std::fs::write(path, text).expect("rewrite");
    if let Some(before) = before {
        let later = before + Duration::from_secs(2);
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(later))
            .expect("set mtime");
    }
}

fn hmac(secret: &str, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::sign(&key, body.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_notifications_pings_and_api_on_sqlite() {
    scenario(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_notifications_pings_and_api_on_postgres() {
    let Some(db) = PgDb::create("serve_e2e").await else {
        return;
    };
    scenario(Some(&db.url)).await;
    db.drop_now().await;
}

async fn scenario(db: Option<&str>) {
    let db = db.map(str::to_owned);
    let up = Arc::new(AtomicBool::new(true));
    let target = switchable_target(up.clone()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            r#"[product]
name = "Served"

[contacts.ops]
name = "Ops"
notify = ["hook"]

[notifiers.hook]
type = "webhook"
url = "http://{hook}/hook"
secret = "${{HOOK_SECRET}}"

[environments.prod]
mode = "staging"

[[environments.prod.servers]]
name = "app-1"
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

[[environments.prod.monitoring.checks]]
name = "nightly"
covers = "backup"
kind = "heartbeat"
token = "hb-token-1"
interval = "1h"
grace = "1h"
"#
        ),
    )
    .expect("write spec");
    let dir_path = dir.path().to_owned();
    let (server, viewer, operator) = tokio::task::spawn_blocking(move || {
        let db = db.as_deref();
        let server = start(&dir_path, db);
        (
            server,
            token(&dir_path, db, "viewer", "dash"),
            token(&dir_path, db, "operator", "alice"),
        )
    })
    .await
    .expect("join");
    let addr = server.addr;

    let checks = tokio::task::spawn_blocking(move || {
        // Health and metrics need no token; the API does.
        assert_eq!(http(addr, "GET", "/healthz", None, "").0, 200);
        let (status, metrics) = http(addr, "GET", "/metrics", None, "");
        assert_eq!(status, 200);
        assert!(metrics.contains("stagegate_outbox_depth"), "{metrics}");
        assert_eq!(http(addr, "GET", "/api/v1/environments", None, "").0, 401);
        assert_eq!(
            http(
                addr,
                "GET",
                "/api/v1/environments",
                Some("sg_00000000_nope"),
                ""
            )
            .0,
            401
        );
        let (status, body) = http(addr, "GET", "/api/v1/environments", Some(&viewer), "");
        assert_eq!(status, 200, "{body}");
        let doc = json_body(&body);
        assert_eq!(doc["environments"][0]["name"], "prod");
        assert_eq!(doc["environments"][0]["live"]["checks"][0]["name"], "web");

        // Pings: Healthchecks.io-style URLs; unknown tokens are 404.
        assert_eq!(
            http(addr, "POST", "/ping/hb-token-1/start?rid=r1", None, ""),
            (200, "OK\n".to_owned())
        );
        assert_eq!(
            http(
                addr,
                "POST",
                "/ping/hb-token-1?rid=r1",
                None,
                "backup done: 3 GB"
            )
            .0,
            200
        );
        assert_eq!(http(addr, "GET", "/ping/hb-token-1/0", None, "").0, 200);
        assert_eq!(http(addr, "GET", "/ping/hb-token-1/log", None, "").0, 200);
        assert_eq!(http(addr, "GET", "/ping/unknown-token", None, "").0, 404);
        assert_eq!(http(addr, "GET", "/ping/hb-token-1/bogus", None, "").0, 404);
        assert_eq!(
            http(addr, "POST", "/ping/hb-token-1", None, &"x".repeat(70_000)).0,
            413
        );

        // The target goes down: after two failures an incident opens and the
        // webhook receives it, signed.
        wait_for("the check to be up", 20, || {
            let (_, body) = http(addr, "GET", "/api/v1/checks", Some(&viewer), "");
            (json_body(&body)["checks"][0]["status"] == "up").then_some(())
        });
        let result = wait_for("a stored result", 10, || {
            let (_, body) = http(addr, "GET", "/api/v1/checks", Some(&viewer), "");
            let result = json_body(&body)["checks"][0]["recent"][0].clone();
            (!result.is_null()).then_some(result)
        });
        assert_eq!(result["outcome"], "pass", "{result}");
        assert_eq!(result["evidence"]["status"], "200", "{result}");
        assert!(result["evidence"]["time_total"].is_string(), "{result}");
        up.store(false, Ordering::SeqCst);
        let (head, body) = wait_for("incident.opened", 20, || {
            seen.lock()
                .ok()?
                .iter()
                .find(|(h, _)| h.contains("x-stagegate-event: incident.opened"))
                .cloned()
        });
        assert!(
            head.contains(&format!(
                "x-stagegate-signature: sha256={}",
                hmac("s3cret", &body)
            )),
            "{head}"
        );
        let event = json_body(&body);
        assert_eq!(
            (
                event["environment"].as_str(),
                event["check"].as_str(),
                event["covers"].as_str()
            ),
            (Some("prod"), Some("web"), Some("core"))
        );
        assert!(
            event["message"]
                .as_str()
                .expect("message")
                .contains("status 503"),
            "{event}"
        );
        assert!(event["resolved_at"].is_null());

        // A viewer may not acknowledge; an operator may.
        let id = event["incident"].as_i64().expect("incident id");
        assert_eq!(
            http(
                addr,
                "POST",
                &format!("/api/v1/incidents/{id}/acknowledge"),
                Some(&viewer),
                ""
            )
            .0,
            403
        );
        assert_eq!(
            http(
                addr,
                "POST",
                "/api/v1/incidents/abc/acknowledge",
                Some(&operator),
                ""
            )
            .0,
            400
        );
        let (status, body) = http(
            addr,
            "POST",
            &format!("/api/v1/incidents/{id}/acknowledge"),
            Some(&operator),
            "",
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(json_body(&body)["acknowledged_by"], "alice");

        // It recovers: the incident resolves and the webhook hears it once.
        up.store(true, Ordering::SeqCst);
        wait_for("incident.resolved", 20, || {
            seen.lock()
                .ok()?
                .iter()
                .find(|(h, _)| h.contains("x-stagegate-event: incident.resolved"))
                .cloned()
        });
        let (_, body) = http(addr, "GET", "/api/v1/incidents", Some(&viewer), "");
        let incidents = json_body(&body);
        assert_eq!(incidents["incidents"][0]["state"], "resolved");
        let (_, body) = http(addr, "GET", "/api/v1/deliveries", Some(&viewer), "");
        let log = json_body(&body);
        assert_eq!(log["deliveries"].as_array().expect("log").len(), 2);
        assert!(
            log["deliveries"]
                .as_array()
                .expect("log")
                .iter()
                .all(|d| d["ok"] == true)
        );
        drained(addr);
        let opened = seen
            .lock()
            .expect("seen")
            .iter()
            .filter(|(h, _)| h.contains("incident.opened"))
            .count();
        assert_eq!(opened, 1, "delivered once");
    });
    checks.await.expect("checks");

    // SIGTERM stops the server cleanly.
    let mut server = server;
    let pid = server.child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let status = tokio::task::spawn_blocking(move || {
        let status = server.child.wait().expect("wait");
        let log = server.log.lock().map(|l| l.join("\n")).unwrap_or_default();
        (status, log)
    })
    .await
    .expect("join");
    assert!(status.0.success(), "exit {:?}\n{}", status.0, status.1);
    assert!(status.1.contains("shutting down"), "{}", status.1);
}

/// Pings acknowledged before a SIGKILL are all in the store afterwards; a
/// restart resumes the open incident, resolves it once, and never repeats
/// a notification that was delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_acknowledged_and_repeats_nothing() {
    let up = Arc::new(AtomicBool::new(false));
    let target = switchable_target(up.clone()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let dir = TestSpec::new("Crash")
        .webhook("hook", format!("http://{hook}/hook"))
        .check(
            "web",
            "http",
            &format!(
                "url = \"http://{target}/health\"\ninterval = \"300ms\"\nfailure_threshold = 1\nsuccess_threshold = 1"
            ),
        )
        .check(
            "nightly",
            "heartbeat",
            "covers = \"backup\"\ntoken = \"crash-token\"\ninterval = \"1h\"",
        )
        .dir();
    let path = dir.path().to_owned();
    let (acknowledged, stored, seen_after) = tokio::task::spawn_blocking(move || {
        let mut server = start(&path, None);
        let addr = server.addr;
        // The target is down from the start: an incident opens and is
        // delivered before the crash.
        wait_for("incident.opened", 20, || {
            seen.lock().ok()?.iter().find(|(h, _)| h.contains("incident.opened")).cloned()
        });
        // Ping load from four threads; kill -9 in the middle of it.
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let (stop, acked) = (stop.clone(), acked.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let Ok(mut s) = TcpStream::connect(addr) else { break };
                        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                        let req = format!("POST /ping/crash-token HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                        if s.write_all(req.as_bytes()).is_err() {
                            break;
                        }
                        let mut out = String::new();
                        let _ = s.read_to_string(&mut out);
                        if out.starts_with("HTTP/1.1 200") {
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        // Under load: a good number of pings acknowledged, more in flight.
        wait_for("pings acknowledged under load", 30, || {
            (acked.load(Ordering::SeqCst) >= 300).then_some(())
        });
        let _ = Command::new("kill").args(["-KILL", &server.child.id().to_string()]).status();
        let _ = server.child.wait();
        stop.store(true, Ordering::SeqCst);
        for s in senders {
            let _ = s.join();
        }
        let acknowledged = acked.load(Ordering::SeqCst);
        drop(server);

        // Count what the store kept.
        let url = format!("sqlite://{}", path.join("data/stagegate.db").display());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        let stored = rt.block_on(async {
            let store = stagegate_store::open(&url).await.expect("open store");
            store.pings("crash-token", 1_000_000).await.expect("pings").len()
        });

        // Restart: the open incident resumes and resolves once the target is
        // back; the delivered `opened` notification is not sent again.
        let server = start(&path, None);
        let viewer = token(&path, None, "viewer", "v");
        let (_, body) = http(server.addr, "GET", "/api/v1/incidents", Some(&viewer), "");
        assert_eq!(json_body(&body)["incidents"][0]["state"], "open", "{body}");
        up.store(true, Ordering::SeqCst);
        wait_for("incident.resolved", 20, || {
            seen.lock().ok()?.iter().find(|(h, _)| h.contains("incident.resolved")).cloned()
        });
        drained(server.addr);
        let seen_after = seen.lock().expect("seen").iter().map(|(h, _)| h.clone()).collect::<Vec<_>>();
        drop(server);
        (acknowledged, stored, seen_after)
    })
    .await
    .expect("join");
    eprintln!("kill -9 under load: {acknowledged} pings acknowledged, {stored} stored");
    assert!(
        acknowledged > 50,
        "the load test pinged too little ({acknowledged})"
    );
    assert!(
        stored >= acknowledged,
        "{acknowledged} pings were acknowledged but only {stored} are stored"
    );
    let opened = seen_after
        .iter()
        .filter(|h| h.contains("x-stagegate-event: incident.opened"))
        .count();
    let resolved = seen_after
        .iter()
        .filter(|h| h.contains("x-stagegate-event: incident.resolved"))
        .count();
    assert_eq!(
        (opened, resolved),
        (1, 1),
        "every notification delivered exactly once here"
    );
}

/// Promotions through the API and the CLI, the OpenAPI document, and
/// reminders while an incident stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotions_openapi_and_reminders() {
    let up = Arc::new(AtomicBool::new(false));
    let target = switchable_target(up.clone()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            r#"[product]
name = "Promoted"

[contacts.ops]
notify = ["hook"]

[notifiers.hook]
type = "webhook"
url = "http://{hook}/hook"

[environments.dev]
mode = "development"
audience = "internal"

[[environments.dev.servers]]
name = "dev-1"
location = "here"

[environments.dev.monitoring]
notify = ["ops"]

[[environments.dev.monitoring.checks]]
name = "web"
covers = "core"
kind = "http"
url = "http://{target}/health"
interval = "300ms"
failure_threshold = 1
"#
        ),
    )
    .expect("write spec");
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let server = start_with(&path, None, &["--remind-every", "600ms"]);
        let addr = server.addr;
        let operator = token(&path, None, "operator", "release-bot");
        let viewer = token(&path, None, "viewer", "v");

        // OpenAPI: public, 3.1, and it lists the routes.
        let (status, body) = http(addr, "GET", "/api/v1/openapi.json", None, "");
        assert_eq!(status, 200);
        let doc = json_body(&body);
        assert_eq!(doc["openapi"], "3.1.0");
        for route in [
            "/api/v1/environments",
            "/api/v1/incidents/{id}/acknowledge",
            "/api/v1/environments/{env}/promotions",
            "/ping/{token}/{action}",
        ] {
            assert!(
                doc["paths"].get(route).is_some(),
                "{route} is not described"
            );
        }

        // Promotions: bad bodies name the field; blocked plans are refused.
        let promote = "/api/v1/environments/dev/promotions";
        assert_eq!(
            http(addr, "POST", promote, Some(&viewer), r#"{"to":"staging"}"#).0,
            403
        );
        let (status, body) = http(
            addr,
            "POST",
            promote,
            Some(&operator),
            r#"{"mode":"staging"}"#,
        );
        assert_eq!(status, 400);
        assert!(body.contains("unknown field `mode`"), "{body}");
        let (status, body) = http(addr, "POST", promote, Some(&operator), r#"{"to":"prod"}"#);
        assert_eq!(status, 400);
        assert!(body.contains("`to` is not a mode"), "{body}");
        assert_eq!(
            http(
                addr,
                "POST",
                "/api/v1/environments/nope/promotions",
                Some(&operator),
                r#"{"to":"staging"}"#
            )
            .0,
            404
        );
        let (status, body) = http(
            addr,
            "POST",
            promote,
            Some(&operator),
            r#"{"to":"production"}"#,
        );
        assert_eq!(status, 409, "{body}");
        assert!(
            json_body(&body)["failing"]
                .as_array()
                .expect("failing")
                .iter()
                .any(|f| f["rule"] == "SG-BACKUP-REQUIRED")
        );
        let (status, body) = http(
            addr,
            "POST",
            promote,
            Some(&operator),
            r#"{"to":"staging"}"#,
        );
        assert_eq!(status, 201, "{body}");
        let record = &json_body(&body)["promotion"];
        assert_eq!(
            (
                record["from_mode"].as_str(),
                record["to_mode"].as_str(),
                record["promoted_by"].as_str()
            ),
            (Some("development"), Some("staging"), Some("release-bot"))
        );
        assert_eq!(record["digest"].as_str().map(str::len), Some(64));

        // The CLI, through the server...
        let out = stagegate()
            .current_dir(&path)
            .args([
                "promote",
                "dev",
                "--to",
                "staging",
                "--server",
                &format!("http://{addr}"),
                "--token",
                &operator,
            ])
            .output()
            .expect("promote");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = stagegate()
            .current_dir(&path)
            .args([
                "promote",
                "dev",
                "--to",
                "production",
                "--server",
                &format!("http://{addr}"),
                "--token",
                &operator,
            ])
            .output()
            .expect("promote");
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("SG-BACKUP-REQUIRED"));
        let (_, body) = http(addr, "GET", promote, Some(&viewer), "");
        assert_eq!(
            json_body(&body)["promotions"]
                .as_array()
                .expect("list")
                .len(),
            2
        );

        // Reminders arrive while the incident stays open, each once.
        let reminders = wait_for("two reminders", 20, || {
            let v: Vec<String> = seen
                .lock()
                .ok()?
                .iter()
                .filter(|(h, _)| h.contains("x-stagegate-event: incident.reminder"))
                .map(|(h, _)| {
                    h.lines()
                        .find(|l| l.starts_with("x-stagegate-delivery"))
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect();
            (v.len() >= 2).then_some(v)
        });
        let mut unique = reminders.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), reminders.len(), "{reminders:?}");
        drop(server);

        // ...and locally, against a store of its own.
        let out = stagegate()
            .current_dir(&path)
            .args([
                "promote",
                "dev",
                "--to",
                "staging",
                "--by",
                "carol",
                "--data-dir",
                "local",
            ])
            .output()
            .expect("promote");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains("promoted dev from development to staging")
        );
    })
    .await
    .expect("scenario");
}

/// The spec is re-read when the file changes; a broken spec is rejected and
/// the running one stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_a_changed_spec_and_keeps_the_old_one_when_broken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = |token: &str| {
        format!(
            "[product]\nname = \"Reload\"\n\n[environments.prod]\nmode = \"staging\"\n\n[environments.prod.monitoring]\n\n[[environments.prod.monitoring.checks]]\nname = \"nightly\"\nkind = \"heartbeat\"\ntoken = \"{token}\"\ninterval = \"1h\"\n"
        )
    };
    std::fs::write(dir.path().join("stagegate.toml"), spec("first-token")).expect("write");
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let server = start(&path, None);
        let addr = server.addr;
        assert_eq!(http(addr, "GET", "/ping/first-token", None, "").0, 200);
        assert_eq!(http(addr, "GET", "/ping/second-token", None, "").0, 404);
        rewrite(&path.join("stagegate.toml"), &spec("second-token"));
        wait_for("the reload", 15, || {
            (http(addr, "GET", "/ping/second-token", None, "").0 == 200).then_some(())
        });
        assert_eq!(http(addr, "GET", "/ping/first-token", None, "").0, 404);
        // A broken spec is logged and ignored.
        rewrite(&path.join("stagegate.toml"), "[product]\nnmae = \"x\"\n");
        wait_for("the rejection to be logged", 15, || {
            server
                .log
                .lock()
                .ok()?
                .iter()
                .any(|l| l.contains("the new spec is invalid; the running one stays"))
                .then_some(())
        });
        assert_eq!(http(addr, "GET", "/ping/second-token", None, "").0, 200);
        let log = server.log.lock().map(|l| l.join("\n")).unwrap_or_default();
        assert!(
            log.contains("unknown key `nmae`"),
            "the diagnostics are logged: {log}"
        );
    })
    .await
    .expect("scenario");
}

/// A new incident is delivered at once, not at the next housekeeping tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_are_delivered_without_waiting_for_the_tick() {
    let up = Arc::new(AtomicBool::new(true));
    let target = switchable_target(up.clone()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            "[product]\nname = \"Fast\"\n\n[contacts.ops]\nnotify = [\"hook\"]\n\n[notifiers.hook]\ntype = \"webhook\"\nurl = \"http://{hook}/hook\"\n\n[environments.prod]\nmode = \"staging\"\n\n[environments.prod.monitoring]\nnotify = [\"ops\"]\n\n[[environments.prod.monitoring.checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://{target}/health\"\ninterval = \"300ms\"\nfailure_threshold = 1\n"
        ),
    )
    .expect("write spec");
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        // Housekeeping every 60 s: only the wake-up can deliver in time.
        let server = start_with(&path, None, &["--tick", "60s"]);
        let viewer = token(&path, None, "viewer", "v");
        check_up(server.addr, &viewer, "web");
        up.store(false, Ordering::SeqCst);
        let down_at = Instant::now();
        wait_for("incident.opened within seconds", 10, || {
            seen.lock()
                .ok()?
                .iter()
                .find(|(h, _)| h.contains("incident.opened"))
                .cloned()
        });
        assert!(down_at.elapsed() < Duration::from_secs(10));
    })
    .await
    .expect("scenario");
}

/// One message an SMTP receiver accepted, with how the session went.
#[derive(Clone, Debug, Default)]
struct Mail {
    tls: bool,
    auth: Option<String>,
    from: String,
    to: Vec<String>,
    data: String,
}

/// A certificate for 127.0.0.1 from a CA written to `ca.pem` in `dir`.
fn smtp_tls(dir: &std::path::Path) -> Arc<rustls::ServerConfig> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("key")).expect("ca");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca");
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&key, &*ca)
        .expect("sign");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone(), ca.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .expect("server config");
    Arc::new(config)
}

/// Runs SMTP commands on `stream` until QUIT, or until the client asks
/// for STARTTLS (then returns the stream to be wrapped).
async fn smtp_session<S>(stream: S, tls: bool, starttls: bool, seen: &Mutex<Vec<Mail>>) -> Option<S>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncBufReadExt;
    let mut s = tokio::io::BufReader::new(stream);
    let mut mail = Mail {
        tls,
        ..Mail::default()
    };
    loop {
        let mut line = String::new();
        if s.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            match (tls, starttls) {
                (false, true) => b"250-test\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
                _ => b"250-test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
            }
        } else if upper.starts_with("STARTTLS") {
            s.get_mut().write_all(b"220 go ahead\r\n").await.ok()?;
            return Some(s.into_inner());
        } else if upper.starts_with("AUTH PLAIN") {
            mail.auth = Some(line[10..].trim().to_owned());
            b"235 2.7.0 accepted\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = line[10..].trim().to_owned();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(line[8..].trim().to_owned());
            b"250 ok\r\n"
        } else if upper.starts_with("DATA") {
            s.get_mut().write_all(b"354 go on\r\n").await.ok()?;
            loop {
                let mut l = String::new();
                if s.read_line(&mut l).await.ok()? == 0 || l == ".\r\n" {
                    break;
                }
                mail.data.push_str(&l);
            }
            seen.lock().ok()?.push(std::mem::take(&mut mail));
            mail.tls = tls;
            b"250 2.0.0 queued\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = s.get_mut().write_all(b"221 bye\r\n").await;
            return None;
        } else {
            b"250 ok\r\n"
        };
        s.get_mut().write_all(reply).await.ok()?;
    }
}

/// An SMTP receiver on 127.0.0.1 that offers STARTTLS (or, when `tls` is
/// None, does not) and keeps every message it accepts.
async fn smtp_receiver(
    tls: Option<Arc<rustls::ServerConfig>>,
    seen: Arc<Mutex<Vec<Mail>>>,
) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let (tls, seen) = (tls.clone(), seen.clone());
            tokio::spawn(async move {
                if s.write_all(b"220 test ESMTP\r\n").await.is_err() {
                    return;
                }
                let Some(plain) = smtp_session(s, false, tls.is_some(), &seen).await else {
                    return;
                };
                let Some(config) = tls else { return };
                let Ok(secure) = tokio_rustls::TlsAcceptor::from(config).accept(plain).await else {
                    return;
                };
                smtp_session(secure, true, false, &seen).await;
            });
        }
    });
    addr
}

/// Email goes out over STARTTLS with the credentials of the `smtp` URL,
/// for the incident and its resolution; a server that does not offer
/// STARTTLS gets neither credentials nor message, and the delivery log
/// says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_over_starttls_and_never_in_the_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let up = Arc::new(AtomicBool::new(true));
    let target = switchable_target(up.clone()).await;
    let mails = Arc::new(Mutex::new(Vec::new()));
    let smtp = smtp_receiver(Some(smtp_tls(dir.path())), mails.clone()).await;
    let plain_mails = Arc::new(Mutex::new(Vec::new()));
    let plain = smtp_receiver(None, plain_mails.clone()).await;
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            r#"[product]
name = "Mailed"

[contacts.ops]
email = "ops@acme.example"
notify = ["mail", "downgraded"]

[notifiers.mail]
type = "email"
smtp = "smtp://alerts:${{HOOK_SECRET}}@127.0.0.1:{port}"
from = "stagegate <alerts@acme.example>"
ca_file = "ca.pem"

[notifiers.downgraded]
type = "email"
smtp = "smtp://alerts:${{HOOK_SECRET}}@127.0.0.1:{plain_port}"
from = "alerts@acme.example"

[environments.prod]
mode = "staging"

[environments.prod.monitoring]
notify = ["ops"]

[[environments.prod.monitoring.checks]]
name = "web"
kind = "http"
url = "http://{target}/health"
interval = "300ms"
failure_threshold = 1
success_threshold = 1
"#,
            port = smtp.port(),
            plain_port = plain.port(),
        ),
    )
    .expect("write spec");
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let server = start(&path, None);
        let viewer = token(&path, None, "viewer", "v");
        check_up(server.addr, &viewer, "web");
        up.store(false, Ordering::SeqCst);
        let opened = wait_for("the incident email", 20, || {
            mails.lock().ok()?.first().cloned()
        });
        assert!(opened.tls, "sent before STARTTLS: {opened:?}");
        // AUTH PLAIN of "\0alerts\0s3cret".
        assert_eq!(opened.auth.as_deref(), Some("AGFsZXJ0cwBzM2NyZXQ="));
        assert_eq!(opened.from, "<alerts@acme.example>");
        assert_eq!(opened.to, ["<ops@acme.example>"]);
        assert!(
            opened
                .data
                .contains("Subject: [stagegate] Incident: prod/web: HTTP 503"),
            "{}",
            opened.data
        );
        assert!(
            opened
                .data
                .contains("From: stagegate <alerts@acme.example>")
        );
        assert!(opened.data.contains("Environment: prod"), "{}", opened.data);

        up.store(true, Ordering::SeqCst);
        let resolved = wait_for("the resolution email", 20, || {
            mails.lock().ok()?.get(1).cloned()
        });
        assert!(resolved.tls);
        assert!(
            resolved
                .data
                .contains("Subject: [stagegate] Resolved: prod/web"),
            "{}",
            resolved.data
        );

        // The downgraded server never saw a message; its deliveries failed
        // and say so.
        let (_, body) = http(server.addr, "GET", "/api/v1/deliveries", Some(&viewer), "");
        let log = json_body(&body);
        let failed: Vec<_> = log["deliveries"]
            .as_array()
            .expect("log")
            .iter()
            .filter(|d| d["notifier"] == "downgraded")
            .collect();
        assert!(!failed.is_empty(), "{log}");
        assert!(failed.iter().all(|d| d["ok"] == false), "{log}");
        assert!(
            failed[0]["error"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase()
                .contains("tls"),
            "{log}"
        );
        assert!(plain_mails.lock().expect("mails").is_empty());
        assert_eq!(mails.lock().expect("mails").len(), 2, "each event once");
    })
    .await
    .expect("scenario");
}

/// A notifier that could never deliver is a spec error at start-up, with
/// the line of the key at fault.
#[test]
fn bad_email_settings_are_spec_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nname = \"x\"\n\n[notifiers.mail]\ntype = \"email\"\nsmtp = \"http://mail.example\"\nfrom = \"alerts at example\"\n\n[environments.dev]\nmode = \"development\"\n",
    )
    .expect("write spec");
    let out = stagegate()
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .env("NO_COLOR", "1")
        .output()
        .expect("serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("invalid `smtp` URL: unsupported scheme `http`"),
        "{stderr}"
    );
    assert!(stderr.contains("stagegate.toml:6:"), "{stderr}");
}

/// With the `otlp` feature, spans of probes and API requests reach an
/// OTLP/HTTP collector, and those still buffered at SIGTERM are flushed.
#[cfg(feature = "otlp")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_reach_an_otlp_collector_and_are_flushed_on_sigterm() {
    let up = Arc::new(AtomicBool::new(true));
    let target = switchable_target(up).await;
    let posts = Arc::new(Mutex::new(Vec::new()));
    let collector = receiver(posts.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            "[product]\nname = \"Traced\"\n\n[environments.prod]\nmode = \"staging\"\n\n[environments.prod.monitoring]\n\n[[environments.prod.monitoring.checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://{target}/health\"\ninterval = \"300ms\"\n"
        ),
    )
    .expect("write spec");
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let endpoint = format!("http://{collector}");
        // Batches leave only at shutdown: what arrives was flushed.
        let mut server = start_env(
            &path,
            None,
            &["--otlp-endpoint", &endpoint, "--node", "n1"],
            &[("OTEL_BSP_SCHEDULE_DELAY", "600000")],
        );
        wait_for("a probe to run", 10, || {
            let (_, body) = http(server.addr, "GET", "/metrics", None, "");
            body.contains("stagegate_check_up{check=\"prod/web\"} 1")
                .then_some(())
        });
        assert_eq!(http(server.addr, "GET", "/healthz", None, "").0, 200);
        assert!(posts.lock().expect("posts").is_empty(), "exported early");
        let pid = server.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = server.child.wait().expect("wait");
        assert!(
            status.success(),
            "{:?}",
            server.log.lock().map(|l| l.join("\n"))
        );
        let posts = posts.lock().expect("posts");
        assert!(!posts.is_empty(), "nothing exported");
        let (head, body) = &posts[0];
        assert!(head.starts_with("post /v1/traces "), "{head}");
        assert!(
            head.contains("content-type: application/x-protobuf"),
            "{head}"
        );
        let all: String = posts.iter().map(|(_, b)| b.as_str()).collect();
        for needle in [
            "stagegate",
            "probe",
            "prod/web",
            "GET /healthz",
            "service.instance.id",
            "n1",
        ] {
            assert!(
                all.contains(needle),
                "no {needle:?} in the export: {body:?}"
            );
        }
    })
    .await
    .expect("scenario");
}

/// One raw HTTP exchange: (status, lower-cased head, body).
/// The dashboard: redirected to sign in, a token exchanged for an
/// HttpOnly SameSite=Strict session cookie behind an anti-forgery check,
/// the overview with the environment on its rollout stage, sign-out that
/// needs the session's anti-forgery token and ends the session.
#[test]
fn dashboard_sign_in_overview_and_sign_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nname = \"Dash & Co\"\n\n[environments.shop-staging]\nmode = \"staging\"\n\n[environments.shop-dev]\nmode = \"development\"\n",
    )
    .expect("write spec");
    let server = start(dir.path(), None);
    let viewer = token(dir.path(), None, "viewer", "dana");
    let addr = server.addr;

    let (status, head, _) = get_with(addr, "/", "");
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("location: /login"), "{head}");

    let (status, head, body) = get_with(addr, "/login", "");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'self'"),
        "{head}"
    );
    let login_cookie = set_cookie(&head, "sg_login").expect("login cookie");
    assert!(
        login_cookie.contains("httponly") && login_cookie.contains("samesite=strict"),
        "{login_cookie}"
    );
    let csrf = csrf_field(&body);
    let cookie = format!("cookie: sg_login={csrf}\r\n");

    // A forged form (no matching cookie) and a bad token are refused.
    let (status, _, _) = post_form(addr, "/login", "", &format!("token={viewer}&csrf={csrf}"));
    assert_eq!(status, 403);
    let (status, _, body) = post_form(
        addr,
        "/login",
        &cookie,
        &format!("token=sg_nope_00&csrf={csrf}"),
    );
    assert_eq!(status, 401);
    assert!(body.contains("That token is not valid"), "{body}");

    let (status, head, _) = post_form(
        addr,
        "/login",
        &cookie,
        &format!("token={viewer}&csrf={csrf}"),
    );
    assert_eq!(status, 303, "{head}");
    let session = set_cookie(&head, "sg_session").expect("session cookie");
    assert!(
        session.contains("httponly") && session.contains("samesite=strict"),
        "{session}"
    );
    assert!(
        !session.contains(&viewer.to_ascii_lowercase()),
        "the token is not the cookie"
    );
    let value = session
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("value");
    // Cookie values are hex: lower-casing the head kept them intact.
    let session_cookie = format!("cookie: sg_session={value}\r\n");

    let (status, _, body) = get_with(addr, "/", &session_cookie);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Dash &#38; Co"),
        "escaped product name: {body}"
    );
    assert!(body.contains("<h2>Staging</h2>"), "{body}");
    assert!(
        body.contains(r#"<h3><a href="/environments/shop-staging">shop-staging</a></h3>"#),
        "{body}"
    );
    assert!(body.contains("dana (viewer)"), "{body}");
    let logout_csrf = csrf_field(&body);

    // An environment: findings with the guideline and the fix, the plan
    // to the next mode, promotion refused while blocked and to viewers.
    let (status, _, body) = get_with(addr, "/environments/shop-staging", &session_cookie);
    assert_eq!(status, 200, "{body}");
    for needle in [
        "Findings in staging",
        "Promotion to soft launch",
        "must hold first",
        "<blockquote>",
        "Fix:",
    ] {
        assert!(body.contains(needle), "no {needle:?} in {body}");
    }
    assert!(
        !body.contains("Record the promotion"),
        "viewers get no promote button"
    );
    let (status, _, _) = get_with(addr, "/environments/nope", &session_cookie);
    assert_eq!(status, 404);
    let (status, _, body) = post_form(
        addr,
        "/environments/shop-dev/promote",
        &session_cookie,
        &format!("csrf={logout_csrf}&to=staging"),
    );
    assert_eq!(status, 403);
    assert!(body.contains("needs the operator role"), "{body}");
    let (status, _, _) = post_form(
        addr,
        "/environments/shop-dev/promote",
        &session_cookie,
        "csrf=forged&to=staging",
    );
    assert_eq!(status, 403);
    let operator = token(dir.path(), None, "operator", "olga");
    let (status, _, body) = post_form(
        addr,
        "/environments/shop-dev/promote",
        &format!("authorization: Bearer {operator}\r\n"),
        "to=staging",
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("Not promoted:"), "{body}");

    // The API token works as a bearer too.
    let (status, _, _) = get_with(addr, "/", &format!("authorization: Bearer {viewer}\r\n"));
    assert_eq!(status, 200);
    let (status, head, body) = get_with(addr, "/assets/style.css", "");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/css"), "{head}");
    assert!(body.contains("prefers-color-scheme: dark"));

    // Sign-out needs the session's anti-forgery token.
    let (status, _, _) = post_form(addr, "/logout", &session_cookie, "csrf=forged");
    assert_eq!(status, 403);
    let (status, head, _) = post_form(
        addr,
        "/logout",
        &session_cookie,
        &format!("csrf={logout_csrf}"),
    );
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("location: /login"), "{head}");
    let (status, _, _) = get_with(addr, "/", &session_cookie);
    assert_eq!(status, 303, "the session is gone");
}

/// Monitors: each check with status and uptime, and one check's latency
/// chart and recent results with their evidence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_monitors_show_status_uptime_chart_and_evidence() {
    let up = Arc::new(AtomicBool::new(true));
    let target = switchable_target(up).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            "[product]\nname = \"Mon\"\n\n[environments.prod]\nmode = \"staging\"\n\n[environments.prod.monitoring]\n\n[[environments.prod.monitoring.checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://{target}/health\"\ninterval = \"300ms\"\nsuccess_threshold = 1\n"
        ),
    )
    .expect("write spec");
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let server = start(&path, None);
        let viewer = token(&path, None, "viewer", "vic");
        let bearer = format!("authorization: Bearer {viewer}\r\n");
        let addr = server.addr;
        let body = wait_for("the check up with results", 20, || {
            let (status, _, body) = get_with(addr, "/monitors/prod/web", &bearer);
            assert_eq!(status, 200, "{body}");
            (body.contains("<span class=\"up\">up</span>") && body.contains("<dt>status</dt>"))
                .then_some(body)
        });
        assert!(body.contains("role=\"img\""), "an SVG chart: {body}");
        assert!(body.contains("Latency of the last"), "{body}");
        assert!(
            body.contains(&format!("<code>http://{target}/health</code>")),
            "{body}"
        );
        let (status, _, body) = get_with(addr, "/monitors", &bearer);
        assert_eq!(status, 200);
        assert!(
            body.contains("<a href=\"/monitors/prod/web\">web</a>"),
            "{body}"
        );
        assert!(body.contains("1 up, 0 down"), "{body}");
        assert!(body.contains("aria-current=\"page\">Monitors"), "{body}");
        let (status, _, _) = get_with(addr, "/monitors/prod/nope", &bearer);
        assert_eq!(status, 404);
    })
    .await
    .expect("scenario");
}

/// Incidents: one appears when the target goes down; a viewer sees no
/// actions and may not act; an operator acknowledges and resolves it; the
/// timeline says who and when.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_incidents_acknowledge_and_resolve() {
    let up = Arc::new(AtomicBool::new(false));
    let target = switchable_target(up).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            "[product]\nname = \"Inc\"\n\n[environments.prod]\nmode = \"staging\"\n\n[environments.prod.monitoring]\n\n[[environments.prod.monitoring.checks]]\nname = \"web\"\nkind = \"http\"\nurl = \"http://{target}/health\"\ninterval = \"300ms\"\nfailure_threshold = 1\n"
        ),
    )
    .expect("write spec");
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let server = start(&path, None);
        let addr = server.addr;
        let viewer = format!(
            "authorization: Bearer {}\r\n",
            token(&path, None, "viewer", "vic")
        );
        let operator = format!(
            "authorization: Bearer {}\r\n",
            token(&path, None, "operator", "olga")
        );
        let body = wait_for("an open incident", 20, || {
            let (_, _, body) = get_with(addr, "/incidents", &viewer);
            body.contains("#1 prod / <a href=\"/monitors/prod/web\">web</a>")
                .then_some(body)
        });
        assert!(body.contains("1 open."), "{body}");
        assert!(
            !body.contains("Acknowledge #1"),
            "no actions for viewers: {body}"
        );
        let (status, _, _) = post_form(addr, "/incidents/1/acknowledge", &viewer, "");
        assert_eq!(status, 403);
        let (_, _, body) = get_with(addr, "/incidents", &operator);
        assert!(
            body.contains("Acknowledge #1") && body.contains("Resolve #1"),
            "{body}"
        );

        let (status, head, _) = post_form(addr, "/incidents/1/acknowledge", &operator, "");
        assert_eq!(status, 303, "{head}");
        assert!(
            head.contains("location: /incidents?done=acknowledged&id=1"),
            "{head}"
        );
        let (_, _, body) = get_with(addr, "/incidents?done=acknowledged&id=1", &operator);
        assert!(body.contains("Incident #1 is acknowledged."), "{body}");
        assert!(body.contains("acknowledged by olga"), "{body}");
        assert!(!body.contains("Acknowledge #1"), "{body}");

        let (status, _, _) = post_form(addr, "/incidents/1/resolve", &operator, "");
        assert_eq!(status, 303);
        let (_, _, body) = get_with(addr, "/incidents", &operator);
        assert!(body.contains("resolved after"), "{body}");
        let (status, _, _) = post_form(addr, "/incidents/99/resolve", &operator, "");
        assert_eq!(status, 404);
    })
    .await
    .expect("scenario");
}

/// Backups: what the spec declares, the last good run and the run history
/// from the heartbeat's pings, with durations; the ping token never shows.
#[test]
fn dashboard_backups_show_runs_and_freshness() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nname = \"Bk\"\n\n[environments.prod]\nmode = \"staging\"\n\n[environments.prod.backup]\nlocation = \"ams1\"\ninterval = \"24h\"\nencrypted = true\n\n[environments.prod.monitoring]\n\n[[environments.prod.monitoring.checks]]\nname = \"nightly\"\ncovers = \"backup\"\nkind = \"heartbeat\"\ntoken = \"secret-ping-token-7\"\ninterval = \"24h\"\n",
    )
    .expect("write spec");
    let server = start(dir.path(), None);
    let addr = server.addr;
    let bearer = format!(
        "authorization: Bearer {}\r\n",
        token(dir.path(), None, "viewer", "vic")
    );
    assert_eq!(
        http(
            addr,
            "POST",
            "/ping/secret-ping-token-7/start?rid=r1",
            None,
            ""
        )
        .0,
        200
    );
    // The job runs for a second: its duration is what the page shows.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        http(
            addr,
            "POST",
            "/ping/secret-ping-token-7?rid=r1",
            None,
            "done"
        )
        .0,
        200
    );
    assert_eq!(
        http(addr, "POST", "/ping/secret-ping-token-7/3", None, "").0,
        200
    );
    let (status, _, body) = get_with(addr, "/backups", &bearer);
    assert_eq!(status, 200, "{body}");
    for needle in [
        "every 24h, to ams1, encrypted",
        "Heartbeat nightly",
        "failed (exit 3)",
        "succeeded",
        "last good run",
        "1 s</td>",
    ] {
        assert!(body.contains(needle), "no {needle:?} in {body}");
    }
    assert!(
        !body.contains("secret-ping-token-7"),
        "the token stays secret"
    );
}

/// Runbooks: listed per environment, missing files flagged, Markdown
/// rendered with raw HTML escaped; only the files the spec names.
#[test]
fn dashboard_runbooks_render_markdown_safely() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("runbooks")).expect("mkdir");
    std::fs::write(
        dir.path().join("runbooks/restore.md"),
        "---\nwithin: <b>4h</b>\n---\n# Restore\n\n1. `restic restore latest`\n2. <script>alert(1)</script>\n",
    )
    .expect("write runbook");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nname = \"Rb\"\n\n[environments.prod]\nmode = \"staging\"\n\n[environments.prod.runbooks]\nbackup-restore = \"runbooks/restore.md\"\nfailure = \"runbooks/failure.md\"\n",
    )
    .expect("write spec");
    let server = start(dir.path(), None);
    let addr = server.addr;
    let bearer = format!(
        "authorization: Bearer {}\r\n",
        token(dir.path(), None, "viewer", "vic")
    );
    let (status, _, body) = get_with(addr, "/runbooks", &bearer);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<a href=\"/runbooks/prod/backup-restore\">Backup restore</a>"),
        "{body}"
    );
    assert!(body.contains("System failure <code>runbooks/failure.md</code> <span class=\"down\">missing or empty</span>"), "{body}");
    let (status, _, body) = get_with(addr, "/runbooks/prod/backup-restore", &bearer);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<h1>Restore</h1>"), "{body}");
    // Front matter is shown as what the runbook commits to, escaped, and
    // not rendered as Markdown.
    assert!(
        body.contains("<dt>within</dt><dd><code>&#60;b&#62;4h&#60;/b&#62;</code></dd>"),
        "{body}"
    );
    assert!(!body.contains("<hr"), "{body}");
    assert!(
        body.contains("<code>restic restore latest</code>"),
        "{body}"
    );
    assert!(
        body.contains("&lt;script&gt;") && !body.contains("<script>alert"),
        "{body}"
    );
    for missing in [
        "/runbooks/prod/failure",
        "/runbooks/prod/unavailability",
        "/runbooks/prod/..%2F..%2Fetc%2Fpasswd",
    ] {
        let (status, _, _) = get_with(addr, missing, &bearer);
        assert_eq!(status, 404, "{missing}");
    }
}

/// An operator records a promotion from the environment page when nothing
/// blocks it: redirected back with a confirmation, and the record is in
/// the API with who did it.
#[test]
fn dashboard_records_a_promotion() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nname = \"Pr\"\n\n[environments.dev]\nmode = \"development\"\naudience = \"internal\"\ncontrolled_by = \"client\"\n\n[[environments.dev.servers]]\nname = \"app-1\"\nlocation = \"fra1\"\n",
    )
    .expect("write spec");
    let server = start(dir.path(), None);
    let addr = server.addr;
    let operator = token(dir.path(), None, "operator", "olga");
    let bearer = format!("authorization: Bearer {operator}\r\n");
    let (_, _, body) = get_with(addr, "/environments/dev", &bearer);
    assert!(
        body.contains("Nothing blocks the promotion to staging."),
        "{body}"
    );
    assert!(body.contains("Record the promotion to staging"), "{body}");
    let (status, head, _) = post_form(addr, "/environments/dev/promote", &bearer, "to=staging");
    assert_eq!(status, 303, "{head}");
    assert!(
        head.contains("location: /environments/dev?promoted=staging"),
        "{head}"
    );
    let (_, _, body) = get_with(addr, "/environments/dev?promoted=staging", &bearer);
    assert!(
        body.contains("The promotion to staging is recorded."),
        "{body}"
    );
    let (_, body) = http(
        addr,
        "GET",
        "/api/v1/environments/dev/promotions",
        Some(&operator),
        "",
    );
    let record = &json_body(&body)["promotions"][0];
    assert_eq!(
        (record["to_mode"].as_str(), record["promoted_by"].as_str()),
        (Some("staging"), Some("olga")),
        "{record}"
    );
}

/// Restore drills under the server: started over the API (operators only,
/// one at a time), recorded in the store, shown on the backups page, and
/// judged by SG-BACKUP-DRILL in the API's report; `stagegate drill
/// --server` does the same from a shell.
#[test]
fn drills_run_under_the_server_and_are_kept_in_its_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nname = \"Dr\"\nrto = \"1h\"\n\n[environments.prod]\nmode = \"production\"\n\n[[environments.prod.servers]]\nname = \"db-1\"\nroles = [\"database\"]\nlocation = \"fra1\"\n\n[environments.prod.backup]\nlocation = \"ams1\"\ninterval = \"1h\"\nencrypted = true\n\n[environments.prod.backup.drill]\nevery = \"30d\"\ncommand = \"sleep 1; test -d \\\"$STAGEGATE_DRILL_DIR\\\" && echo restored > restored.txt\"\n\n[environments.dev]\nmode = \"development\"\n",
    )
    .expect("write spec");
    let server = start(dir.path(), None);
    let addr = server.addr;
    let viewer = token(dir.path(), None, "viewer", "vic");
    let operator = token(dir.path(), None, "operator", "olga");

    let drill_status = |report: &serde_json::Value| {
        report["environments"]
            .as_array()
            .expect("environments")
            .iter()
            .find(|e| e["name"] == "prod")
            .and_then(|e| e["findings"].as_array())
            .and_then(|f| f.iter().find(|f| f["rule"] == "SG-BACKUP-DRILL"))
            .map(|f| f["status"].as_str().unwrap_or_default().to_owned())
            .expect("SG-BACKUP-DRILL")
    };
    let (_, body) = http(addr, "GET", "/api/v1/environments", Some(&viewer), "");
    assert_eq!(drill_status(&json_body(&body)), "fail", "never run yet");

    assert_eq!(
        http(
            addr,
            "POST",
            "/api/v1/environments/prod/drills",
            Some(&viewer),
            ""
        )
        .0,
        403
    );
    assert_eq!(
        http(
            addr,
            "POST",
            "/api/v1/environments/nope/drills",
            Some(&operator),
            ""
        )
        .0,
        404
    );
    let (status, body) = http(
        addr,
        "POST",
        "/api/v1/environments/dev/drills",
        Some(&operator),
        "",
    );
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("declares no restore drill"), "{body}");
    let (status, body) = http(
        addr,
        "POST",
        "/api/v1/environments/prod/drills",
        Some(&operator),
        "",
    );
    assert_eq!(status, 202, "{body}");
    let (status, body) = http(
        addr,
        "POST",
        "/api/v1/environments/prod/drills",
        Some(&operator),
        "",
    );
    assert_eq!(status, 409, "one at a time: {body}");
    assert!(body.contains("already running"), "{body}");

    let drill = wait_for("the drill's record", 20, || {
        let (_, body) = http(
            addr,
            "GET",
            "/api/v1/environments/prod/drills",
            Some(&viewer),
            "",
        );
        let doc = json_body(&body);
        (doc["running"] == false && doc["drills"].as_array().is_some_and(|d| !d.is_empty()))
            .then(|| doc["drills"][0].clone())
    });
    assert_eq!(drill["ok"], true, "{drill}");
    assert_eq!(drill["method"], "command");
    assert_eq!(drill["node"], "local");
    assert!(drill["seconds"].as_f64().expect("seconds") >= 1.0);
    assert!(
        dir.path().join("restored.txt").exists(),
        "the command ran in the spec's folder"
    );

    let (_, body) = http(addr, "GET", "/api/v1/environments", Some(&viewer), "");
    assert_eq!(
        drill_status(&json_body(&body)),
        "pass",
        "the store's drill counts"
    );
    let (status, _, page) = get_with(
        addr,
        "/backups",
        &format!("authorization: Bearer {viewer}\r\n"),
    );
    assert_eq!(status, 200);
    for needle in [
        "every 30d (the drill command), within the rto of 1h",
        "Restore drills",
        "server local",
        "passed",
    ] {
        assert!(page.contains(needle), "no {needle:?} in {page}");
    }

    // From a shell: the server runs it and the command waits for the record.
    let out = stagegate()
        .current_dir(dir.path())
        .args([
            "drill",
            "prod",
            "--server",
            &format!("http://{addr}"),
            "--token",
            &operator,
        ])
        .output()
        .expect("drill --server");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("drill prod: passed in")
            && stdout.contains("recorded in the server's store"),
        "{stdout}"
    );
    let (_, body) = http(
        addr,
        "GET",
        "/api/v1/environments/prod/drills",
        Some(&viewer),
        "",
    );
    assert_eq!(json_body(&body)["drills"].as_array().map(Vec::len), Some(2));
    assert!(
        !dir.path().join("stagegate.drills.jsonl").exists(),
        "the server's drills go to its store"
    );
}

/// Compliance over the API and on the dashboard: the report's JSON for
/// any framework, per-environment counts for the declared ones, and every
/// control with why it has its status.
#[test]
fn compliance_api_and_dashboard() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nname = \"Co\"\nframeworks = [\"pci-dss\"]\n\n[contacts.ops]\nemail = \"ops@example.com\"\non_call = true\n\n[environments.prod]\nmode = \"production\"\n\n[[environments.prod.servers]]\nname = \"app-1\"\nlocation = \"fra1\"\n\n[environments.prod.pentest]\nexternal = true\ninternal = true\ndate = 2026-11-01\n",
    )
    .expect("write spec");
    let server = start(dir.path(), None);
    let addr = server.addr;
    let viewer = token(dir.path(), None, "viewer", "vic");

    let (status, body) = http(addr, "GET", "/api/v1/compliance/pci-dss", Some(&viewer), "");
    assert_eq!(status, 200, "{body}");
    let doc = json_body(&body);
    assert_eq!(
        (doc["framework"].as_str(), doc["version"].as_str()),
        (Some("pci-dss"), Some("4.0.1"))
    );
    let controls = doc["environments"][0]["controls"]
        .as_array()
        .expect("controls");
    let staff = controls
        .iter()
        .find(|c| c["id"] == "12.10.3")
        .expect("12.10.3");
    // One on-call contact written in the spec is part of 24/7 cover at
    // most, and proves none of it.
    assert_eq!(
        (&staff["status"], &staff["basis"]),
        (&"manual".into(), &"none".into()),
        "{staff}"
    );
    assert!(doc["environments"][0]["summary"]["declared"].as_u64() >= Some(1));
    assert_eq!(doc["spec"]["path"], "stagegate.toml");
    assert!(doc["generated_at"].as_str().is_some());
    let ext = controls
        .iter()
        .find(|c| c["id"] == "11.4.3")
        .expect("11.4.3");
    // A pentest written in the spec without its report: declared only.
    assert_eq!(ext["status"], "declared", "{ext}");
    let monitored = controls
        .iter()
        .find(|c| c["id"] == "10.7.2")
        .expect("10.7.2");
    assert_eq!(monitored["status"], "not-met", "no monitoring: {monitored}");
    assert_eq!(
        http(addr, "GET", "/api/v1/compliance/pci", Some(&viewer), "").0,
        404
    );
    assert_eq!(
        http(addr, "GET", "/api/v1/compliance/pci-dss", None, "").0,
        401
    );

    let bearer = format!("authorization: Bearer {viewer}\r\n");
    let (status, _, page) = get_with(addr, "/compliance", &bearer);
    assert_eq!(status, 200);
    for needle in [
        "<a href=\"/compliance/pci-dss\">PCI DSS</a>",
        "<th scope=\"row\">prod</th>",
        "Other frameworks",
        "/compliance/hipaa",
    ] {
        assert!(page.contains(needle), "no {needle:?} in {page}");
    }
    let (status, _, page) = get_with(addr, "/compliance/pci-dss", &bearer);
    assert_eq!(status, 200);
    for needle in [
        "<strong>11.4.3</strong>",
        "<span class=\"control not-met\">not-met</span>",
        "<span class=\"control declared\">declared</span>",
        "SG-MON-REQUIRED does not hold",
        "SG-PCI-PENTEST-EXTERNAL holds only as declared",
        "manual controls need an attestation",
    ] {
        assert!(page.contains(needle), "no {needle:?} in {page}");
    }
    let (status, _, page) = get_with(addr, "/compliance/hipaa", &bearer);
    assert_eq!(status, 200);
    assert!(
        page.contains("hipaa is not in <code>product.frameworks</code>"),
        "{page}"
    );
    assert_eq!(get_with(addr, "/compliance/nope", &bearer).0, 404);
}

/// With `--run-drills` the server runs a declared drill that is due
/// without being asked, and records it.
#[test]
fn due_drills_run_on_their_own_with_run_drills() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nname = \"Sched\"\n\n[environments.prod]\nmode = \"production\"\n\n[[environments.prod.servers]]\nname = \"db-1\"\nroles = [\"database\"]\nlocation = \"fra1\"\n\n[environments.prod.backup]\nlocation = \"ams1\"\ninterval = \"1h\"\n\n[environments.prod.backup.drill]\nevery = \"30d\"\ncommand = \"echo restored\"\n",
    )
    .expect("write spec");
    let server = start_with(dir.path(), None, &["--run-drills"]);
    let viewer = token(dir.path(), None, "viewer", "vic");
    let drills = wait_for("the scheduled drill", 20, || {
        let (_, body) = http(
            server.addr,
            "GET",
            "/api/v1/environments/prod/drills",
            Some(&viewer),
            "",
        );
        let doc = json_body(&body);
        doc["drills"].as_array().filter(|d| !d.is_empty()).cloned()
    });
    assert_eq!(drills.len(), 1, "due once, run once: {drills:?}");
    assert_eq!(drills[0]["ok"], true, "{drills:?}");
    assert!(
        server
            .log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains("restore drill is due")),
        "the log says why it ran"
    );
}
