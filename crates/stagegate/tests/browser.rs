//! The dashboard in a real browser: Debian's Chromium driven headless over
//! WebDriver (chromedriver), against the real server on 127.0.0.1. Signs
//! in, watches an incident appear when the target goes down (live, without
//! a reload), acknowledges it and sees it resolve; axe-core finds no WCAG
//! 2.2 A/AA violation on any page; the keyboard alone reaches every action.
//! Screenshots of each page land in `target/screenshots/`.
//!
//! Needs `chromium`, `chromium-driver` (apt) and axe-core (npm) at
//! `target/npm/node_modules/axe-core/axe.min.js` or `$STAGEGATE_AXE`;
//! `.ci/run` installs all three.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::root;
use stagegate_test_support::{start, token};

/// Under `STAGEGATE_STRICT_TESTS=1` a missing browser fails the test.
fn unavailable(what: &str) {
    stagegate_test_support::skip("dashboard_in_a_real_browser", what);
}

fn axe_path() -> PathBuf {
    std::env::var_os("STAGEGATE_AXE").map_or_else(
        || root().join("target/npm/node_modules/axe-core/axe.min.js"),
        PathBuf::from,
    )
}

/// One HTTP/1.1 exchange with a JSON body; the JSON of the answer.
fn call(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    // Read the head, then exactly the body: the driver may keep the
    // connection open whatever the request asks.
    let mut reader = BufReader::new(s);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read head") == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().expect("content-length");
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).expect("read body");
    serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)))
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            call(
                self.addr,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            )
        }));
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    fn start(extra: &[&str]) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let until = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < until, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1280,1000".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args,
            }
        }}});
        let created = call(addr, "POST", "/session", Some(&caps));
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        Browser {
            driver,
            addr,
            session,
            _profile: profile,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = call(
            self.addr,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        );
        if v["value"]["error"].is_string() {
            panic!("WebDriver {method} {path}: {}", v["value"]);
        }
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn find(&self, css: &str) -> String {
        self.cmd(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), Some(json!({})));
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    fn text(&self) -> String {
        self.js("return document.body.innerText;")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn wait_text(&self, what: &str, secs: u64) -> String {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let text = self.text();
            if text.contains(what) {
                return text;
            }
            assert!(
                Instant::now() < until,
                "timed out waiting for {what:?}; page: {text}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn press(&self, key: &str) {
        self.cmd(
            "POST",
            "/actions",
            Some(
                json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
                    { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }
                ]}]}),
            ),
        );
    }

    /// axe-core's WCAG 2.2 A/AA violations on the current page.
    fn axe(&self, axe: &str) -> Vec<Value> {
        let script = format!(
            "{axe}\nconst done = arguments[arguments.length - 1];\
             axe.run(document, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }} }})\
               .then(r => done(r.violations.map(v => ({{ id: v.id, help: v.help, nodes: v.nodes.map(n => n.html) }}))))\
               .catch(e => done([{{ id: 'axe-error', help: String(e) }}]));"
        );
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    fn screenshot(&self, name: &str) {
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = decode_base64(b64.as_str().unwrap_or_default());
        let dir = root().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Presses Tab until focus comes back round; what received focus, as
    /// "tag:text" descriptions.
    fn tab_through(&self) -> Vec<String> {
        self.js("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);");
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..200 {
            self.press("\u{E004}");
            let d = self.js(
                "const e = document.activeElement; if (!e || e === document.body) return ''; \
                 return e.tagName.toLowerCase() + ':' + (e.getAttribute('href') || e.innerText || e.name || e.id).trim();",
            );
            let d = d.as_str().unwrap_or_default().to_owned();
            if d.is_empty() || seen.first() == Some(&d) {
                break;
            }
            seen.push(d);
        }
        seen
    }

    /// Every action on the page, described as `tab_through` describes them.
    fn actions(&self) -> Vec<String> {
        self.js(
            "return [...document.querySelectorAll('a[href], button, input:not([type=hidden]), summary')]\
               .filter(e => e.offsetParent !== null || e.classList.contains('skip'))\
               .map(e => e.tagName.toLowerCase() + ':' + (e.getAttribute('href') || e.innerText || e.name || e.id).trim());",
        )
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_a_real_browser() {
    let axe_file = axe_path();
    for (what, present) in [
        (
            "chromium",
            std::path::Path::new("/usr/bin/chromium").exists(),
        ),
        (
            "chromedriver",
            Command::new("chromedriver")
                .arg("--version")
                .output()
                .is_ok(),
        ),
        ("axe-core", axe_file.exists()),
    ] {
        if !present {
            unavailable(&format!("{what} is not installed"));
            return;
        }
    }
    let axe = std::fs::read_to_string(&axe_file).expect("read axe");

    let up = Arc::new(AtomicBool::new(true));
    let target = stagegate_test_support::switchable_target(up.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("runbooks")).expect("mkdir");
    std::fs::write(
        dir.path().join("runbooks/restore.md"),
        "# Restoring the database\n\n1. Stop the application.\n2. Run `restic restore latest --target /srv/restore`.\n3. Check the row counts.\n",
    )
    .expect("runbook");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            r#"[product]
name = "Browser Shop"
frameworks = ["gdpr"]

[contacts.alice]
name = "Alice Nowak"
email = "alice@example.com"

[contacts.bob]
email = "bob@example.com"

[rotations.primary]
members = ["alice", "bob"]
shift = "7d"
start = 2026-11-30T09:00:00
timezone = "Europe/Warsaw"

[[rotations.primary.overrides]]
member = "bob"
from = 2099-12-24T09:00:00
until = 2099-12-27T09:00:00

[environments.prod]
mode = "staging"

[[environments.prod.servers]]
name = "app-1"
location = "fra1"

[environments.prod.backup]
location = "ams1"
interval = "24h"
encrypted = true

[environments.prod.runbooks]
backup-restore = "runbooks/restore.md"

[environments.prod.monitoring]
notify = ["rotation:primary"]

[[environments.prod.monitoring.checks]]
name = "web"
covers = "core"
kind = "http"
url = "http://{target}/health"
interval = "300ms"
failure_threshold = 1
success_threshold = 1

[environments.prod.status_page]
title = "Browser Shop status"
description = "Live state of the shop and its checkout."
components = [
  {{ name = "Website", checks = ["web"], description = "The shop's pages" }},
  {{ name = "Backups", checks = ["nightly"] }},
]

[[environments.prod.monitoring.checks]]
name = "nightly"
covers = "backup"
kind = "heartbeat"
token = "browser-ping"
interval = "24h"

[environments.dev]
mode = "development"
"#
        ),
    )
    .expect("spec");
    let server = start(dir.path(), None);
    let base = format!("http://{}", server.addr);
    let operator = token(dir.path(), None, "operator", "browser-op");
    let browser = Browser::start(&[]);
    let mut violations = Vec::new();
    let mut check_page = |name: &str, browser: &Browser| {
        for v in browser.axe(&axe) {
            violations.push(format!("{name}: {v}"));
        }
        browser.screenshot(name);
        let actions = browser.actions();
        let reached = browser.tab_through();
        eprintln!(
            "{name}: {} actions, all reached by Tab ({} stops)",
            actions.len(),
            reached.len()
        );
        assert!(!actions.is_empty(), "{name}: no actions found");
        for a in &actions {
            assert!(
                reached.contains(a),
                "{name}: the keyboard does not reach {a:?}; Tab reached {reached:?}"
            );
        }
    };

    // Sign in.
    browser.goto(&format!("{base}/"));
    assert!(browser.url().ends_with("/login"), "{}", browser.url());
    check_page("login", &browser);
    browser.type_into("#token", &operator);
    browser.click("form button[type=submit]");
    browser.wait_text("Rollout overview", 10);
    assert_eq!(browser.url(), format!("{base}/"));
    browser.wait_text("No open incidents.", 10);
    check_page("overview", &browser);

    // The target goes down: the overview shows the incident without a
    // reload (its script refreshes it in place).
    browser.js("window.__same_page = true;");
    up.store(false, Ordering::SeqCst);
    browser.wait_text("1 open incident.", 30);
    assert_eq!(
        browser.js("return window.__same_page === true;"),
        json!(true),
        "no reload"
    );

    // Acknowledge it, then watch it resolve.
    browser.goto(&format!("{base}/incidents"));
    browser.wait_text("#1 prod / web", 10);
    check_page("incidents", &browser);
    browser.click("form[action='/incidents/1/acknowledge'] button");
    browser.wait_text("Incident #1 is acknowledged.", 10);
    browser.wait_text("acknowledged by browser-op", 10);
    // A public update from the dashboard, then the public page shows it.
    browser.js("document.querySelector('#update-status-1').value = 'identified';");
    browser.type_into(
        "#update-message-1",
        "The shop's web server ran out of memory; restarting it.",
    );
    browser.click("form[action='/incidents/1/update'] button");
    browser.wait_text(
        "The public update to incident #1 is on the status page.",
        10,
    );
    browser.wait_text("public update (identified) by browser-op", 10);
    browser.goto(&format!("{base}/status/prod"));
    browser.wait_text("Website unavailable", 10);
    browser.wait_text("ran out of memory", 10);
    check_page("status-incident", &browser);
    browser.goto(&format!("{base}/incidents"));
    up.store(true, Ordering::SeqCst);
    browser.wait_text("resolved after", 30);
    // The status page catches up: the server within about a second (its
    // first reader after a change gets the last page while it is rebuilt),
    // the browser once its copy's max-age of 15 s has passed.
    let until = Instant::now() + Duration::from_secs(40);
    loop {
        browser.goto(&format!("{base}/status/prod"));
        if browser.text().contains("All systems operational") {
            break;
        }
        assert!(
            Instant::now() < until,
            "the status page did not catch up: {}",
            browser.text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    for (name, path) in [
        ("environment", "/environments/prod"),
        ("monitors", "/monitors"),
        ("monitor", "/monitors/prod/web"),
        ("backups", "/backups"),
        ("servers", "/servers"),
        ("runbooks", "/runbooks"),
        ("runbook", "/runbooks/prod/backup-restore"),
        ("oncall", "/oncall"),
        ("status", "/status/prod"),
        ("status-index", "/status"),
        ("compliance", "/compliance"),
        ("framework", "/compliance/gdpr"),
    ] {
        browser.goto(&format!("{base}{path}"));
        check_page(name, &browser);
    }

    // On a phone: nothing wider than the screen.
    browser.cmd(
        "POST",
        "/window/rect",
        Some(json!({ "width": 390, "height": 844 })),
    );
    for (name, path) in [
        ("overview-phone", "/"),
        ("environment-phone", "/environments/prod"),
        ("monitor-phone", "/monitors/prod/web"),
        ("status-phone", "/status/prod"),
        ("incidents-phone", "/incidents"),
    ] {
        browser.goto(&format!("{base}{path}"));
        let overflow = browser.js(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
        );
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{name}: {overflow} px wider than the screen"
        );
        browser.screenshot(name);
    }
    browser.cmd(
        "POST",
        "/window/rect",
        Some(json!({ "width": 1280, "height": 1000 })),
    );

    // The dark theme passes the same checks (contrast included).
    {
        let dark = Browser::start(&["--blink-settings=preferredColorScheme=0"]);
        dark.goto(&format!("{base}/login"));
        assert_eq!(
            dark.js("return matchMedia('(prefers-color-scheme: dark)').matches;"),
            json!(true),
            "the browser prefers dark"
        );
        dark.type_into("#token", &operator);
        dark.click("form button[type=submit]");
        dark.wait_text("Rollout overview", 10);
        for (name, path) in [
            ("overview-dark", "/"),
            ("environment-dark", "/environments/prod"),
            ("monitor-dark", "/monitors/prod/web"),
            ("incidents-dark", "/incidents"),
            ("status-dark", "/status/prod"),
            ("status-index-dark", "/status"),
        ] {
            dark.goto(&format!("{base}{path}"));
            for v in dark.axe(&axe) {
                violations.push(format!("{name}: {v}"));
            }
            dark.screenshot(name);
        }
    }
    assert!(
        violations.is_empty(),
        "axe-core found WCAG 2.2 A/AA violations:\n{}",
        violations.join("\n")
    );

    // Sign out: back to the form, and the dashboard asks again.
    browser.click("form[action='/logout'] button");
    browser.wait_text("Sign in", 10);
    browser.goto(&format!("{base}/"));
    assert!(browser.url().ends_with("/login"));
}
