//! The Matrix channel against a real homeserver (Synapse, from PyPI, in
//! `target/synapse`; `.ci/run` installs it): a bot account and a room are
//! made through the client API, an incident opens and resolves, and both
//! messages are read back from the room with their HTML bodies.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use stagegate_test_support::*;

/// The Python with Synapse installed, if there is one.
fn synapse_python() -> Option<PathBuf> {
    let path = std::env::var_os("STAGEGATE_SYNAPSE_PYTHON").map_or_else(
        || common::root().join("target/synapse/bin/python"),
        PathBuf::from,
    );
    path.exists().then_some(path)
}

/// A homeserver for the test's lifetime: killed when dropped.
struct Homeserver {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Homeserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn homeserver(python: &PathBuf) -> Homeserver {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let d = dir.path().display();
    // Loopback only, no federation, no key servers: nothing leaves the
    // machine.
    let config = format!(
        r#"server_name: "localhost"
pid_file: {d}/hs.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {d}/hs.db
media_store_path: {d}/media
signing_key_path: {d}/signing.key
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
enable_registration: true
enable_registration_without_verification: true
macaroon_secret_key: "stagegate-test-macaroon"
form_secret: "stagegate-test-form"
rc_registration: {{per_second: 1000, burst_count: 1000}}
rc_message: {{per_second: 1000, burst_count: 1000}}
"#
    );
    let path = dir.path().join("hs.yaml");
    std::fs::write(&path, config).expect("config");
    let keys = Command::new(python)
        .args(["-m", "synapse.app.homeserver", "--generate-keys", "-c"])
        .arg(&path)
        .current_dir(dir.path())
        .output()
        .expect("synapse --generate-keys");
    assert!(
        keys.status.success(),
        "{}",
        String::from_utf8_lossy(&keys.stderr)
    );
    let log = std::fs::File::create(dir.path().join("hs.log")).expect("log");
    let child = Command::new(python)
        .args(["-m", "synapse.app.homeserver", "-c"])
        .arg(&path)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start synapse");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let hs = Homeserver {
        child,
        addr,
        _dir: dir,
    };
    wait_for("Synapse to listen", 120, || {
        std::net::TcpStream::connect(addr).ok().map(drop)
    });
    wait_for("Synapse to answer", 120, || {
        let (status, _) = http(addr, "GET", "/_matrix/client/versions", None, "");
        (status == 200).then_some(())
    });
    hs
}

fn call(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &Value) -> Value {
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, head, text) = http_with(addr, method, path, &auth, body.as_bytes());
    let text = unchunked(&head, &text);
    assert_eq!(status, 200, "{method} {path}: {text}");
    serde_json::from_str(&text).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_messages_arrive_in_a_real_room() {
    let Some(python) = synapse_python() else {
        skip(
            "matrix_messages_arrive_in_a_real_room",
            "no Synapse: `python3 -m venv target/synapse && target/synapse/bin/pip install matrix-synapse`",
        );
        return;
    };
    let up = Arc::new(AtomicBool::new(false));
    let target = switchable_target(up.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_dir = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let hs = homeserver(&python);
        let account = call(
            hs.addr,
            "POST",
            "/_matrix/client/v3/register",
            None,
            &json!({"username": "stagegate", "password": "a long password", "auth": {"type": "m.login.dummy"}}),
        );
        let bot = account["access_token"].as_str().expect("access token").to_owned();
        let room = call(
            hs.addr,
            "POST",
            "/_matrix/client/v3/createRoom",
            Some(&bot),
            &json!({"name": "ops", "preset": "private_chat"}),
        )["room_id"]
            .as_str()
            .expect("room id")
            .to_owned();
        std::fs::write(
            spec_dir.join("stagegate.toml"),
            format!(
                r#"[product]
name = "Told"

[contacts.ops]
notify = ["room"]

[notifiers.room]
type = "matrix"
url = "http://{hs}"
token = "${{MATRIX_TOKEN}}"
room = "{room}"

[environments.dev]
mode = "development"

[environments.dev.monitoring]
notify = ["ops"]

[[environments.dev.monitoring.checks]]
name = "web"
kind = "http"
url = "http://{target}/health"
interval = "300ms"
failure_threshold = 1
"#,
                hs = hs.addr
            ),
        )
        .expect("spec");
        let _server = start_env(&spec_dir, None, &[], &[("MATRIX_TOKEN", &bot)]);
        let encoded: String = room
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let messages = || -> Vec<Value> {
            let page = call(
                hs.addr,
                "GET",
                &format!("/_matrix/client/v3/rooms/{encoded}/messages?dir=b&limit=50"),
                Some(&bot),
                &Value::Null,
            );
            page["chunk"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["type"] == "m.room.message")
                .map(|e| e["content"].clone())
                .collect()
        };
        let opened = wait_for("the incident in the room", 60, || {
            messages()
                .into_iter()
                .find(|c| c["body"].as_str().is_some_and(|b| b.starts_with("Incident: dev/web")))
        });
        assert_eq!(opened["format"], "org.matrix.custom.html");
        assert!(
            opened["formatted_body"]
                .as_str()
                .is_some_and(|h| h.starts_with("<strong>Incident: dev/web</strong>")),
            "{opened}"
        );
        up.store(true, Ordering::SeqCst);
        wait_for("the resolution in the room", 60, || {
            messages()
                .into_iter()
                .find(|c| c["body"].as_str().is_some_and(|b| b.starts_with("Resolved: dev/web")))
        });
        let incidents = messages()
            .iter()
            .filter(|c| c["body"].as_str().is_some_and(|b| b.starts_with("Incident: ")))
            .count();
        assert_eq!(incidents, 1, "one message per event, retries included");
    })
    .await
    .expect("test");
}
