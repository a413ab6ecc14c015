//! Promotion gates end to end, on SQLite and PostgreSQL: a soft launch
//! whose core check fails and recovers is refused production with what the
//! server measured (an open incident, no approval), an approval by the one
//! promoting does not count, a second person's does, and then the promotion
//! is accepted; `plan --server` judges the same gates.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use stagegate_test_support::*;

/// A soft launch that meets every production requirement the spec can
/// show, so only what the server observes decides.
fn spec(target: std::net::SocketAddr) -> String {
    format!(
        r#"[product]
name = "Gates"
availability_target = 50

[policy.promotion]
soak = {{ soft-launch = "1s" }}
approvals = 1
backup_runs = 2

[contacts.ops]
email = "ops@example.com"
on_call = true

[environments.beta]
mode = "soft-launch"
audience = "limited"

[[environments.beta.servers]]
name = "app-1"
roles = ["core"]
location = "fra1"

[[environments.beta.servers]]
name = "app-2"
roles = ["core"]
location = "fra2"

[[environments.beta.servers]]
name = "app-3"
roles = ["core"]
location = "fra3"

[[environments.beta.servers]]
name = "db-1"
roles = ["database"]
location = "fra1"

[environments.beta.cluster]
nodes = ["app-1", "app-2", "app-3"]

[environments.beta.backup]
location = "ams1"
interval = "1h"
encrypted = true

[environments.beta.backup.drill]
every = "30d"
command = "true"

[environments.beta.monitoring]
notify = ["ops"]

[[environments.beta.monitoring.checks]]
name = "web"
covers = "core"
kind = "http"
url = "http://{target}/health"
interval = "300ms"
failure_threshold = 2
success_threshold = 1

[[environments.beta.monitoring.checks]]
name = "db"
covers = "database"
kind = "tcp"
host = "{host}"
port = {port}
interval = "300ms"

[[environments.beta.monitoring.checks]]
name = "nightly"
covers = "backup"
kind = "heartbeat"
token = "nightly-token"
interval = "1h"
grace = "1h"

[environments.beta.security]
firewall = true
ops_vpn = true
site_to_site_vpn = ["backup", "monitoring"]

[environments.beta.pentest]
vendor = "Redteam"
external = true
date = 2026-11-01

[environments.beta.operations]
log_monitoring = "ops"
backup_monitoring = "ops"
security_updates = "ops"
agreement = "docs/agreement.md"

[environments.beta.runbooks]
unavailability = "runbooks/unavailability.md"
failure = "runbooks/failure.md"
backup-restore = "runbooks/backup-restore.md"
hardware-swap = "runbooks/hardware-swap.md"
data-corruption = "runbooks/data-corruption.md"
attack-mitigation = "runbooks/attack-mitigation.md"
security-breach = "runbooks/security-breach.md"
"#,
        host = target.ip(),
        port = target.port(),
    )
}

fn write_files(root: &Path, target: std::net::SocketAddr) {
    std::fs::write(root.join("stagegate.toml"), spec(target)).expect("spec");
    std::fs::create_dir_all(root.join("runbooks")).expect("mkdir");
    std::fs::create_dir_all(root.join("docs")).expect("mkdir");
    for name in [
        "unavailability",
        "failure",
        "backup-restore",
        "hardware-swap",
        "data-corruption",
        "attack-mitigation",
        "security-breach",
    ] {
        std::fs::write(
            root.join(format!("runbooks/{name}.md")),
            format!("# {name}\n\nWho decides, who is told, the steps.\n"),
        )
        .expect("runbook");
    }
    std::fs::write(root.join("docs/agreement.md"), "# Support agreement\n").expect("agreement");
}

fn failing(body: &str) -> Vec<(String, String)> {
    json_body(body)["failing"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap_or_default().to_owned(),
                        f["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn scenario(db: Option<&str>) {
    let up = Arc::new(AtomicBool::new(true));
    let target = switchable_target(up.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_owned();
    write_files(&root, target);
    let db = db.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let db = db.as_deref();
        let server = start_with(&root, db, &["--node", "fra-1", "--location", "fra"]);
        let addr = server.addr;
        let alice = token(&root, db, "operator", "alice");
        let alice_approves = token(&root, db, "approver", "alice");
        let bob = token(&root, db, "approver", "bob");
        let viewer = token(&root, db, "viewer", "ci");
        let url = format!("http://{addr}");
        let promote = || {
            http(
                addr,
                "POST",
                "/api/v1/environments/beta/promotions",
                Some(&alice),
                r#"{"to":"production"}"#,
            )
        };

        // Backup runs and a restore drill, as a production launch needs.
        for _ in 0..2 {
            assert_eq!(http(addr, "POST", "/ping/nightly-token", None, "").0, 200);
        }
        assert_eq!(
            http(
                addr,
                "POST",
                "/api/v1/environments/beta/drills",
                Some(&alice),
                ""
            )
            .0,
            202
        );
        wait_for("the drill", 20, || {
            let (_, body) = http(
                addr,
                "GET",
                "/api/v1/environments/beta/drills",
                Some(&viewer),
                "",
            );
            json_body(&body)["drills"][0]["ok"]
                .as_bool()
                .filter(|ok| *ok)
        });

        // The core goes down: an incident opens, and the promotion is
        // refused on what the server saw.
        up.store(false, Ordering::SeqCst);
        wait_for("the incident", 20, || {
            let (_, body) = http(addr, "GET", "/api/v1/incidents", Some(&viewer), "");
            json_body(&body)["incidents"]
                .as_array()
                .and_then(|i| i.iter().find(|i| i["resolved_at"].is_null()).cloned())
        });
        let (status, body) = promote();
        assert_eq!(status, 409, "{body}");
        let refused = failing(&body);
        let rules: Vec<&str> = refused.iter().map(|(r, _)| r.as_str()).collect();
        assert!(rules.contains(&"SG-PROMO-INCIDENTS"), "{refused:?}");
        assert!(rules.contains(&"SG-PROMO-APPROVAL"), "{refused:?}");
        assert!(
            json_body(&body)["failing"][0]["basis"].as_str().is_some(),
            "{body}"
        );
        let (_, facts) = http(
            addr,
            "GET",
            "/api/v1/environments/beta/promotion?to=production",
            Some(&viewer),
            "",
        );
        let facts = json_body(&facts);
        assert!(
            facts["availability"]["down_secs"].as_i64() >= Some(0),
            "{facts}"
        );
        assert_eq!(facts["source"], "fra-1@fra");

        // It recovers.
        up.store(true, Ordering::SeqCst);
        wait_for("the incident resolved", 20, || {
            let (_, body) = http(addr, "GET", "/api/v1/incidents", Some(&viewer), "");
            json_body(&body)["incidents"]
                .as_array()
                .is_some_and(|i| i.iter().all(|i| !i["resolved_at"].is_null()))
                .then_some(())
        });

        // An operator cannot approve; alice's approver token can, but her
        // approval of her own promotion does not count.
        assert_eq!(
            http(
                addr,
                "POST",
                "/api/v1/environments/beta/approvals",
                Some(&alice),
                r#"{"to":"production"}"#
            )
            .0,
            403
        );
        let (code, out, err) = run_in(
            &root,
            &[
                "approve",
                "beta",
                "--to",
                "production",
                "--server",
                &url,
                "--token",
                &alice_approves,
            ],
        );
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.starts_with("approved beta to production"), "{out}");
        let (status, body) = wait_for("only the approval left", 30, || {
            let (status, body) = promote();
            let f = failing(&body);
            (f.len() == 1 && f[0].0 == "SG-PROMO-APPROVAL").then_some((status, body))
        });
        assert_eq!(status, 409);
        assert!(
            body.contains("alice cannot approve their own promotion"),
            "{body}"
        );
        let (status, body) = http(
            addr,
            "POST",
            "/api/v1/environments/beta/approvals",
            Some(&bob),
            r#"{"to":"moon"}"#,
        );
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("`to` is not a mode"), "{body}");

        // Bob approves: plan --server sees it, and the promotion goes through.
        let (code, out, err) = run_in(
            &root,
            &[
                "approve",
                "beta",
                "--to",
                "production",
                "--server",
                &url,
                "--token",
                &bob,
            ],
        );
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, err) = run_in(
            &root,
            &[
                "plan",
                "beta",
                "--to",
                "production",
                "-f",
                "json",
                "--server",
                &url,
                "--token",
                &viewer,
            ],
        );
        assert_eq!(code, 0, "{out}{err}");
        let plan: serde_json::Value = serde_json::from_str(&out).expect("json");
        let finding = |rule: &str| {
            plan["environments"][0]["findings"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["rule"] == rule).cloned())
                .unwrap_or_default()
        };
        assert_eq!(finding("SG-PROMO-APPROVAL")["status"], "pass");
        assert!(
            finding("SG-PROMO-APPROVAL")["message"]
                .as_str()
                .is_some_and(|m| m.contains("bob")),
            "{plan}"
        );
        assert_eq!(finding("SG-PROMO-SLO")["basis"], "observed");
        assert!(
            finding("SG-PROMO-SLO")["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("measured ")),
            "{plan}"
        );
        let (status, body) = promote();
        assert_eq!(status, 201, "{body}");

        // The environment page shows what the gates measured and who approved.
        let bearer = format!("authorization: Bearer {bob}\r\n");
        let (status, _, page) = get_with(addr, "/environments/beta", &bearer);
        assert_eq!(status, 200);
        for needle in [
            "What the server measured",
            "<dt>Soak</dt>",
            "<dt>Availability</dt>",
            "target 50%, error budget used",
            "<td>bob</td>",
            "alice",
            "Approve the promotion to production",
        ] {
            assert!(page.contains(needle), "no {needle:?} in the page");
        }

        // Every step is in the audit log.
        let admin = token(&root, db, "admin", "root");
        let (_, log) = http(addr, "GET", "/api/v1/audit", Some(&admin), "");
        let actions: Vec<String> = json_body(&log)["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["action"].as_str().unwrap_or(""),
                    r["who"].as_str().unwrap_or("")
                )
            })
            .collect();
        for expected in [
            "approval alice",
            "approval bob",
            "promotion alice",
            "drill alice",
        ] {
            assert!(
                actions.iter().any(|a| a == expected),
                "{expected}: {actions:?}"
            );
        }
        drop(server);
    })
    .await
    .expect("join");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_gates_on_sqlite() {
    scenario(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_gates_on_postgres() {
    let Some(db) = PgDb::create("promotion_gates").await else {
        return;
    };
    scenario(Some(&db.url)).await;
    db.drop_now().await;
}
