//! Heartbeats are judged when a ping lands and at their exact deadline,
//! and a notifier that never answers delays neither detection nor any
//! other channel. The server runs with a one-minute tick, so nothing here
//! can pass by polling.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use stagegate_test_support::*;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn incidents(server: &Server, token: &str) -> Vec<Value> {
    let (status, body) = http(server.addr, "GET", "/api/v1/incidents", Some(token), "");
    assert_eq!(status, 200, "{body}");
    json_body(&body)["incidents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn incident_of(server: &Server, token: &str, check: &str) -> Option<Value> {
    incidents(server, token)
        .into_iter()
        .find(|i| i["check"] == check)
}

fn ping(server: &Server, path: &str) {
    let (status, body) = http(server.addr, "POST", path, None, "");
    assert_eq!(status, 200, "{path}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_is_judged_when_it_lands_and_lateness_at_its_deadline() {
    let dir = TestSpec::new("Beats")
        .heartbeat("quick", "2s", "grace = \"1s\"")
        .heartbeat("nightly", "1d", "")
        .dir();
    let viewer = token(dir.path(), None, "viewer", "vic");
    let server = start_with(dir.path(), None, &["--tick", "60s"]);

    // A /fail opens at once, a success resolves at once.
    ping(&server, "/ping/nightly-token/fail");
    let opened = wait_for("the /fail to open an incident", 20, || {
        incident_of(&server, &viewer, "prod/nightly")
    });
    assert_eq!(opened["state"], "open");
    ping(&server, "/ping/nightly-token");
    wait_for("the success ping to resolve it", 20, || {
        incident_of(&server, &viewer, "prod/nightly").filter(|i| i["state"] == "resolved")
    });

    // Late at last success + interval + grace, not before, not at a tick.
    let before = now_ms();
    ping(&server, "/ping/quick-token");
    let late = wait_for("the late heartbeat to open an incident", 30, || {
        incident_of(&server, &viewer, "prod/quick")
    });
    let opened_at = late["opened_at"].as_i64().expect("opened_at");
    assert!(
        opened_at >= before + 3_000,
        "opened {} ms after the ping, before its deadline of 3000 ms",
        opened_at - before
    );
    eprintln!(
        "late heartbeat: incident {} ms after its deadline",
        opened_at - (before + 3_000)
    );
    assert!(
        late["message"]
            .as_str()
            .is_some_and(|m| m.contains("the last successful ping was")),
        "{late}"
    );
    ping(&server, "/ping/quick-token");
    wait_for("the next success to resolve it", 20, || {
        incident_of(&server, &viewer, "prod/quick").filter(|i| i["state"] == "resolved")
    });
    // Heartbeat incidents are logged like a check's.
    assert!(
        server.logged("incident opened") && server.logged("prod/quick"),
        "{}",
        server.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notifier_that_never_answers_delays_nothing_else() {
    let (hole, held) = blackhole().await;
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let dir = (0..7)
        .fold(
            TestSpec::new("Stuck")
                .webhook("stuck", format!("http://{hole}/hook"))
                .webhook("hook", format!("http://{hook}/hook")),
            |spec, i| spec.heartbeat(&format!("job{i}"), "1d", ""),
        )
        .dir();
    let viewer = token(dir.path(), None, "viewer", "vic");
    let server = start_with(dir.path(), None, &["--tick", "60s"]);

    // Six jobs fail: the black hole takes deliveries it never answers.
    for i in 0..6 {
        ping(&server, &format!("/ping/job{i}-token/fail"));
    }
    for i in 0..6 {
        let check = format!("job{i}");
        wait_for("the working notifier to hear of every incident", 20, || {
            (events(&seen, "incident.opened", &check) == 1).then_some(())
        });
    }
    // The hanging channel holds at most its own bound of deliveries.
    let holding = held.load(Ordering::SeqCst);
    assert!(
        (1..=4).contains(&holding),
        "{holding} deliveries hang on one notifier"
    );

    // Still hanging, a new failure is detected and delivered at once.
    ping(&server, "/ping/job6-token/fail");
    wait_for("the seventh incident, judged and delivered", 20, || {
        (events(&seen, "incident.opened", "job6") == 1).then_some(())
    });
    assert!(incident_of(&server, &viewer, "prod/job6").is_some());
    let (_, body) = http(server.addr, "GET", "/api/v1/deliveries", Some(&viewer), "");
    let deliveries = json_body(&body)["deliveries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !deliveries.iter().any(|d| d["notifier"] == "stuck"),
        "all of that happened while the stuck deliveries were still waiting: {deliveries:?}"
    );
}
