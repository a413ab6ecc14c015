//! Escalation on a running server: level 1 pages when the incident opens,
//! level 2 once its `after` has passed while nobody acknowledged, webhook
//! payloads say which level, and the incidents page shows who was paged.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use stagegate_test_support::*;

fn level_pages(seen: &Received, contact_hook: &str, level: u64) -> usize {
    seen.lock()
        .expect("seen")
        .iter()
        .filter(|(head, body)| {
            head.contains(contact_hook)
                && serde_json::from_str::<serde_json::Value>(body)
                    .is_ok_and(|b| b["level"] == level)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn levels_page_in_turn_and_show_on_the_incident() {
    let up = Arc::new(AtomicBool::new(false));
    let target = switchable_target(up.clone()).await;
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            r#"[product]
name = "Escalated"

[contacts.ops]
notify = ["ops-hook"]

[contacts.cto]
notify = ["cto-hook"]

[notifiers.ops-hook]
type = "webhook"
url = "http://{hook}/ops"

[notifiers.cto-hook]
type = "webhook"
url = "http://{hook}/cto"

[escalations.urgent]

[[escalations.urgent.levels]]
after = "0m"
notify = ["ops"]

[[escalations.urgent.levels]]
after = "1s"
notify = ["cto"]

[environments.dev]
mode = "development"

[environments.dev.monitoring]
escalation = "urgent"

[[environments.dev.monitoring.checks]]
name = "web"
kind = "http"
url = "http://{target}/health"
interval = "300ms"
failure_threshold = 1
"#
        ),
    )
    .expect("write spec");
    let path = dir.path().to_owned();
    let viewer = token(&path, None, "viewer", "vic");
    tokio::task::spawn_blocking(move || {
        let server = start_with(&path, None, &[]);
        wait_for("level 1 paging ops", 30, || {
            (level_pages(&seen, "post /ops", 1) == 1).then_some(())
        });
        wait_for("level 2 paging the cto", 30, || {
            (level_pages(&seen, "post /cto", 2) == 1).then_some(())
        });
        let escalated = seen
            .lock()
            .expect("seen")
            .iter()
            .filter(|(head, _)| head.contains("x-stagegate-event: incident.escalated"))
            .count();
        assert_eq!(escalated, 1, "level 2 is `incident.escalated`, once");
        let (status, body) = http(server.addr, "GET", "/incidents", Some(&viewer), "");
        assert_eq!(status, 200);
        assert!(
            body.contains("level 1: paged ops through ops-hook"),
            "{body}"
        );
        assert!(
            body.contains("level 2: paged cto through cto-hook"),
            "{body}"
        );
    })
    .await
    .expect("test");
}
