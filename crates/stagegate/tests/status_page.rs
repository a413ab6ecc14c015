//! The public status page on a running server: no sign-in, components and
//! their state, incidents with their public updates (posted through the
//! API, sent to `status_updates` notifiers), JSON, Atom and badges, ETag
//! and caching; and nothing internal in any public answer: no check name,
//! URL, host, port, token, internal incident message or who posted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use stagegate_test_support::*;

/// Every public answer of environment `prod`'s page.
const PUBLIC: &[&str] = &[
    "/status",
    "/status/prod",
    "/status/prod.json",
    "/status/prod/feed.atom",
    "/badge/prod/uptime.svg",
    "/badge/prod/storefront.svg",
    "/badge/prod/storefront/uptime.svg",
    "/badge/prod/payments.svg",
];

fn public(addr: std::net::SocketAddr) -> Vec<(String, u16, String, String)> {
    PUBLIC
        .iter()
        .map(|path| {
            let (status, head, body) = get_with(addr, path, "");
            ((*path).to_owned(), status, head, body)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_page_tells_the_outage_and_nothing_internal() {
    let up = Arc::new(AtomicBool::new(true));
    let target = switchable_target(up.clone()).await;
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let (ip, port) = (target.ip(), target.port());
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            r#"[product]
name = "Shop"

[contacts.ops]
notify = ["ops-hook"]

[notifiers.ops-hook]
type = "webhook"
url = "http://{hook}/ops"

[notifiers.public-channel]
type = "webhook"
url = "http://{hook}/public"
status_updates = true

[environments.prod]
mode = "development"

[environments.prod.monitoring]
notify = ["ops"]

[[environments.prod.monitoring.checks]]
name = "internal-web-probe"
kind = "http"
url = "http://{target}/health?key=SEKRET-KEY"
interval = "300ms"
failure_threshold = 1

[[environments.prod.monitoring.checks]]
name = "internal-pay-probe"
kind = "tcp"
host = "{ip}"
port = {port}
interval = "300ms"

[[environments.prod.monitoring.checks]]
name = "internal-only"
kind = "http"
url = "http://{target}/internal"
interval = "300ms"
failure_threshold = 1

[environments.prod.status_page]
title = "Shop status"
components = [
  {{ name = "Storefront", checks = ["internal-web-probe"] }},
  {{ name = "Payments", checks = ["internal-pay-probe"] }},
]

[environments.staging]
mode = "development"
"#
        ),
    )
    .expect("write spec");
    let path = dir.path().to_owned();
    let operator = token(&path, None, "operator", "olga-operator");
    let viewer = token(&path, None, "viewer", "vic");
    tokio::task::spawn_blocking(move || {
        let server = start(&path, None);
        let addr = server.addr;
        let page = || -> Value {
            let (status, _, body) = get_with(addr, "/status/prod.json", "");
            assert_eq!(status, 200, "{body}");
            serde_json::from_str(&body).expect("JSON")
        };
        wait_for("both components operational", 30, || {
            let p = page();
            (p["components"][0]["status"] == "operational"
                && p["components"][1]["status"] == "operational")
                .then_some(())
        });
        // No sign-in, cacheable, and a second request with the ETag is 304.
        let (status, head, body) = get_with(addr, "/status/prod", "");
        assert_eq!(status, 200);
        assert!(head.contains("content-type: text/html"), "{head}");
        assert!(head.contains("cache-control: public, max-age="), "{head}");
        assert!(body.contains("All systems operational"), "{body}");
        assert!(!body.contains("<script"), "works without JavaScript");
        let etag = head
            .lines()
            .find_map(|l| l.strip_prefix("etag: "))
            .expect("an ETag")
            .trim()
            // The helper lower-cases heads; a weak tag starts `W/`.
            .replacen("w/", "W/", 1);
        let (status, _, body) = get_with(addr, "/status/prod", &format!("if-none-match: {etag}\r\n"));
        assert_eq!((status, body.as_str()), (304, ""));

        up.store(false, Ordering::SeqCst);
        let incident = wait_for("the outage on the page", 30, || {
            let p = page();
            (p["components"][0]["status"] == "outage").then_some(p)
        });
        assert_eq!(incident["status"], "degraded", "one of two components is down");
        assert_eq!(incident["components"][1]["status"], "operational");
        assert_eq!(incident["components"][0]["days"].as_array().map(Vec::len), Some(90));
        let open = &incident["incidents"][0];
        assert_eq!(open["title"], "Storefront unavailable");
        assert_eq!(open["status"], "investigating");
        let id = open["id"].as_i64().expect("incident id");

        // Public updates: validated, posted by operators only.
        let post = |token: &str, body: &str| {
            http(addr, "POST", &format!("/api/v1/incidents/{id}/updates"), Some(token), body)
        };
        let (status, body) = post(&operator, r#"{"status": "fixed", "message": "x"}"#);
        assert_eq!(status, 400);
        assert!(
            body.contains("unknown variant `fixed`, expected one of `investigating`, `identified`, `monitoring`, `resolved`"),
            "{body}"
        );
        let (status, body) = post(&operator, r#"{"status": "identified", "message": "   "}"#);
        assert_eq!(status, 400);
        assert!(body.contains("`message` must be 1 to 5000 characters"), "{body}");
        let (status, _) = post(&operator, r#"{"status": "identified", "message": "x", "extra": 1}"#);
        assert_eq!(status, 400, "unknown fields are refused");
        let (status, _) = post(&viewer, r#"{"status": "identified", "message": "x"}"#);
        assert_eq!(status, 403);
        let (status, _) = http(addr, "POST", "/api/v1/incidents/99999/updates", Some(&operator), r#"{"status": "identified", "message": "x"}"#);
        assert_eq!(status, 404);
        let (status, body) = post(&operator, r#"{"status": "identified", "message": " \u0001\uffff "}"#);
        assert_eq!(status, 400, "nothing but what cannot be shown: {body}");
        let (status, body) = post(
            &operator,
            r#"{"status": "identified", "message": "A payment provider <b>change</b> broke the storefront; rolling back."}"#,
        );
        assert_eq!(status, 201, "{body}");
        // An incident no page shows takes no public update.
        let internal_id = wait_for("the internal check's incident", 30, || {
            let (_, body) = http(addr, "GET", "/api/v1/incidents", Some(&viewer), "");
            let list: Value = serde_json::from_str(&body).ok()?;
            list["incidents"]
                .as_array()?
                .iter()
                .find(|i| i["check"] == "prod/internal-only")
                .and_then(|i| i["id"].as_i64())
        });
        let (status, body) = http(
            addr,
            "POST",
            &format!("/api/v1/incidents/{internal_id}/updates"),
            Some(&operator),
            r#"{"status": "identified", "message": "x"}"#,
        );
        assert_eq!(status, 409, "{body}");
        assert!(
            body.contains("which no component of prod's status page includes"),
            "{body}"
        );

        let shown = wait_for("the update on the page", 30, || {
            let p = page();
            (p["incidents"][0]["status"] == "identified").then_some(p)
        });
        assert_eq!(
            shown["incidents"][0]["updates"][0]["message"],
            "A payment provider <b>change</b> broke the storefront; rolling back."
        );
        let (_, _, html) = get_with(addr, "/status/prod", "");
        assert!(
            html.contains("broke the storefront") && !html.contains("<b>change</b>"),
            "shown, and escaped in HTML"
        );
        let (_, head, feed) = get_with(addr, "/status/prod/feed.atom", "");
        assert!(head.contains("content-type: application/atom+xml"), "{head}");
        assert!(feed.contains("<title>Identified: Storefront unavailable</title>"), "{feed}");
        assert!(feed.contains("rolling back"), "{feed}");
        let doc = roxmltree::Document::parse(&feed).expect("the feed is well-formed XML");
        assert_eq!(doc.root_element().tag_name().name(), "feed");
        assert_eq!(
            doc.root_element()
                .children()
                .filter(|n| n.tag_name().name() == "entry")
                .count(),
            1,
            "one entry: the internal check's incident is not public"
        );
        let (_, head, svg) = get_with(addr, "/badge/prod/storefront.svg", "");
        assert!(head.contains("content-type: image/svg+xml"), "{head}");
        assert!(svg.contains("Storefront: outage"), "{svg}");
        roxmltree::Document::parse(&svg).expect("the badge is well-formed SVG");

        // The status_updates notifier receives the update, in public words.
        let sent = wait_for("the update sent to the public channel", 30, || {
            seen.lock()
                .expect("seen")
                .iter()
                .find(|(head, _)| head.contains("post /public") && head.contains("incident.update"))
                .map(|(_, body)| body.clone())
        });
        let sent: Value = serde_json::from_str(&sent).expect("JSON");
        assert_eq!(sent["status"], "identified");
        assert_eq!(sent["components"], serde_json::json!(["Storefront"]));
        assert!(!sent.to_string().contains("internal-web-probe"), "{sent}");

        // Nothing internal in any public answer, now that there is an
        // incident, an internal message, an update and its author.
        let internal = wait_for("the internal message", 30, || {
            let (_, body) = http(addr, "GET", "/api/v1/incidents", Some(&viewer), "");
            let list: Value = serde_json::from_str(&body).ok()?;
            list["incidents"][0]["message"].as_str().map(str::to_owned)
        });
        let port = target.port().to_string();
        for (path, status, head, body) in public(addr) {
            assert_eq!(status, 200, "{path}: {body}");
            let all = format!("{head}\n{body}");
            for secret in [
                "internal-web-probe",
                "internal-pay-probe",
                "internal-only",
                "SEKRET-KEY",
                "127.0.0.1",
                port.as_str(),
                operator.as_str(),
                viewer.as_str(),
                "olga-operator",
                internal.as_str(),
                "ops-hook",
            ] {
                assert!(!all.contains(secret), "{path} shows {secret:?}:\n{all}");
            }
        }
        // An environment without a page, and one that does not exist, read
        // the same.
        let (a, _, none) = get_with(addr, "/status/staging", "");
        let (b, _, missing) = get_with(addr, "/status/nowhere", "");
        assert_eq!((a, b), (404, 404));
        assert_eq!(none, missing);
        let (status, _, _) = get_with(addr, "/badge/staging/uptime.svg", "");
        assert_eq!(status, 404);

        // Resolved: the page is operational again and the incident past.
        up.store(true, Ordering::SeqCst);
        let after = wait_for("the page operational again", 30, || {
            let p = page();
            (p["status"] == "operational").then_some(p)
        });
        assert!(after["incidents"][0]["resolved_at"].is_string(), "{after}");
        let (_, _, html) = get_with(addr, "/status/prod", "");
        assert!(html.contains("Past incidents"), "{html}");
        assert!(html.contains("Storefront unavailable"), "{html}");
        let (status, body) = http(addr, "GET", &format!("/api/v1/incidents/{id}/updates"), Some(&viewer), "");
        assert_eq!(status, 200);
        let updates: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(updates["updates"][0]["posted_by"], "olga-operator", "the API names who posted");
    })
    .await
    .expect("test");
}
