//! Who may do what, route by route: every operation of the OpenAPI
//! document and every dashboard route, asked with no token, a viewer, an
//! operator, an approver, an admin, a host agent, a revoked and an expired
//! token. The API's table
//! comes from the document itself (the role each operation states), so a
//! new endpoint is covered the day it is added.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::Value;
use stagegate_test_support::*;

const SPEC: &str = r#"[product]
name = "Access"

[environments.dev]
mode = "development"

[environments.dev.monitoring]

[[environments.dev.monitoring.checks]]
name = "nightly"
kind = "heartbeat"
token = "access-ping-token"
interval = "1h"
"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Nobody,
    Revoked,
    Expired,
    Viewer,
    Operator,
    Approver,
    Admin,
    Agent,
}

impl Who {
    /// Every caller the table is tried with.
    const ALL: [Who; 8] = [
        Who::Nobody,
        Who::Revoked,
        Who::Expired,
        Who::Viewer,
        Who::Operator,
        Who::Approver,
        Who::Admin,
        Who::Agent,
    ];

    fn rank(self) -> Option<u8> {
        match self {
            Who::Viewer => Some(0),
            Who::Operator => Some(1),
            Who::Approver => Some(2),
            Who::Admin => Some(3),
            _ => None,
        }
    }
}

/// Whether `who` may call what needs `role`: each role of the ladder what
/// the ones below may; an agent only what needs an agent.
fn allowed(who: Who, role: &str) -> bool {
    let rank = match role {
        "viewer" => 0,
        "operator" => 1,
        "approver" => 2,
        "admin" => 3,
        "agent" => return who == Who::Agent,
        other => panic!("unknown role {other}"),
    };
    who.rank().is_some_and(|have| have >= rank)
}

/// A concrete path for a documented one.
fn concrete(path: &str) -> String {
    path.replace("{env}", "dev")
        .replace("{id}", "1")
        .replace("{framework}", "gdpr")
        .replace("{prefix}", "sg_00000000")
        .replace("{token}", "access-ping-token")
        .replace("{action}", "start")
}

fn request(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let body = if method == "POST" && path.ends_with("/promotions") {
        r#"{"to":"staging"}"#
    } else {
        ""
    };
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\ncontent-type: application/json\r\n"))
        .unwrap_or_else(|| "content-type: application/json\r\n".to_owned());
    let (status, head, _) = http_with(addr, method, path, &auth, body.as_bytes());
    (status, head.to_ascii_lowercase())
}

#[test]
fn every_route_answers_each_kind_of_caller_as_it_should() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("stagegate.toml"), SPEC).expect("spec");
    let mut tokens: BTreeMap<Who, String> = BTreeMap::new();
    tokens.insert(Who::Viewer, token(dir.path(), None, "viewer", "vic"));
    tokens.insert(Who::Operator, token(dir.path(), None, "operator", "olga"));
    tokens.insert(Who::Approver, token(dir.path(), None, "approver", "april"));
    tokens.insert(Who::Admin, token(dir.path(), None, "admin", "ada"));
    tokens.insert(Who::Agent, token(dir.path(), None, "agent", "app-1"));
    let revoked = token(dir.path(), None, "admin", "gone");
    let prefix = revoked.rsplit_once('_').expect("prefix").0.to_owned();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .current_dir(dir.path())
        .args(["token", "revoke", &prefix, "--data-dir", "data"])
        .output()
        .expect("revoke");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tokens.insert(Who::Revoked, revoked);
    let expiring = std::process::Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .current_dir(dir.path())
        .args([
            "token",
            "create",
            "--role",
            "admin",
            "--name",
            "brief",
            "--expires",
            "1s",
            "--data-dir",
            "data",
        ])
        .output()
        .expect("token");
    tokens.insert(
        Who::Expired,
        String::from_utf8(expiring.stdout)
            .expect("utf-8")
            .trim()
            .to_owned(),
    );
    let server = start(dir.path(), None);
    let addr = server.addr;
    // The expired token expires: wait until the server says so.
    wait_for("the short-lived token to expire", 30, || {
        let (status, _) = request(
            addr,
            "GET",
            "/api/v1/incidents",
            Some(&tokens[&Who::Expired]),
        );
        (status == 401).then_some(())
    });

    let (_, body) = http(addr, "GET", "/api/v1/openapi.json", None, "");
    let doc = json_body(&body);
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let method = method.to_ascii_uppercase();
            if !["GET", "POST", "DELETE"].contains(&method.as_str()) {
                continue;
            }
            let documented: Vec<u16> = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .filter_map(|k| k.parse().ok())
                .collect();
            let needs = op["description"]
                .as_str()
                .and_then(|d| d.split("Needs the `").nth(1))
                .and_then(|r| r.split('`').next());
            assert_eq!(
                needs.is_some(),
                op.get("security").is_some(),
                "{method} {path}: a role in the description exactly when it needs a token"
            );
            let target = concrete(path);
            for who in Who::ALL {
                let (status, head) =
                    request(addr, &method, &target, tokens.get(&who).map(String::as_str));
                let expected: &[u16] = match (needs, who) {
                    (None, _) => &[],
                    (Some(_), Who::Nobody | Who::Revoked | Who::Expired) => &[401],
                    (Some(need), who) if !allowed(who, need) => &[403],
                    (Some(_), _) => &[],
                };
                if expected.is_empty() {
                    assert!(
                        status != 401 && status != 403 && documented.contains(&status),
                        "{method} {path} as {who:?}: {status}, documented {documented:?}"
                    );
                } else {
                    assert!(
                        expected.contains(&status),
                        "{method} {path} as {who:?}: {status}, expected {expected:?}"
                    );
                }
                if status == 401 {
                    assert!(
                        head.contains("www-authenticate: bearer"),
                        "{method} {path}: {head}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 6 * 20,
        "only {checked} requests: is the document complete?"
    );

    // The dashboard: pages need someone signed in, forms an operator.
    let pages = [
        "/",
        "/environments/dev",
        "/monitors",
        "/monitors/dev/nightly",
        "/incidents",
        "/backups",
        "/servers",
        "/runbooks",
        "/oncall",
        "/compliance",
        "/compliance/gdpr",
    ];
    for page in pages {
        for who in Who::ALL {
            let (status, head) = request(addr, "GET", page, tokens.get(&who).map(String::as_str));
            if who.rank().is_some() {
                assert_eq!(status, 200, "GET {page} as {who:?}");
            } else {
                assert_eq!(status, 303, "GET {page} as {who:?}");
                assert!(head.contains("location: /login"), "{head}");
            }
        }
    }
    for (form, action) in [
        ("/environments/dev/promote", "to=staging"),
        ("/incidents/1/acknowledge", ""),
        ("/environments/dev/duties/log-monitoring", ""),
    ] {
        for who in Who::ALL {
            let auth = tokens
                .get(&who)
                .map(|t| format!("authorization: Bearer {t}\r\n"))
                .unwrap_or_default();
            let (status, _, _) = post_form(addr, form, &auth, action);
            let expected: &[u16] = match who.rank() {
                None => &[303],
                Some(0) => &[403],
                Some(_) => &[200, 303, 404, 409],
            };
            assert!(
                expected.contains(&status),
                "POST {form} as {who:?}: {status}, expected {expected:?}"
            );
        }
    }
}

#[test]
fn revoking_a_token_ends_its_sessions_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("stagegate.toml"), SPEC).expect("spec");
    let admin = token(dir.path(), None, "admin", "ada");
    let viewer = token(dir.path(), None, "viewer", "vic");
    let server = start(dir.path(), None);
    let (status, head, _) = sign_in(server.addr, &viewer);
    assert_eq!(status, 303, "{head}");
    let cookie = set_cookie(&head, "sg_session").expect("session cookie");
    let cookie = format!(
        "cookie: {}\r\n",
        cookie.split(';').next().unwrap_or_default()
    );
    assert_eq!(get_with(server.addr, "/", &cookie).0, 200);

    // The admin finds it by prefix and revokes it through the API.
    let (status, body) = http(server.addr, "GET", "/api/v1/tokens", Some(&admin), "");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(&viewer), "a secret in the token list");
    let list = json_body(&body);
    let prefix = list["tokens"]
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "vic"))
        .and_then(|t| t["prefix"].as_str())
        .expect("vic's prefix")
        .to_owned();
    let used = list["tokens"]
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "vic"))
        .map(|t| t["last_used_at"].clone())
        .expect("vic");
    assert!(used.is_i64(), "last use recorded: {used}");
    let (status, _) = http(
        server.addr,
        "DELETE",
        &format!("/api/v1/tokens/{prefix}"),
        Some(&admin),
        "",
    );
    assert_eq!(status, 204);
    let (status, head, _) = get_with(server.addr, "/", &cookie);
    assert_eq!(status, 303, "the session outlived its token: {head}");
    let (status, body) = http(server.addr, "GET", "/api/v1/incidents", Some(&viewer), "");
    assert_eq!(status, 401);
    assert!(body.contains("revoked"), "{body}");
    let (status, _) = http(
        server.addr,
        "DELETE",
        &format!("/api/v1/tokens/{prefix}"),
        Some(&admin),
        "",
    );
    assert_eq!(status, 204, "revoking again changes nothing");
    // The CLI lists it as revoked, never with its secret.
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .current_dir(dir.path())
        .args(["token", "list", "--data-dir", "data"])
        .output()
        .expect("list");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    let line = text.lines().find(|l| l.contains(&prefix)).expect("listed");
    assert!(
        line.contains("vic") && line.contains("viewer") && line.contains("revoked"),
        "{line}"
    );
    assert!(!text.contains(&viewer));
    let _: Value = list;
}

#[test]
fn a_token_name_is_one_readable_line_and_an_agent_token_names_its_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let create = |role: &str, name: Option<&str>| {
        let mut args = vec!["token", "create", "--role", role, "--data-dir", "data"];
        if let Some(name) = name {
            args.extend(["--name", name]);
        }
        run_in(dir.path(), &args)
    };
    for (name, why) in [
        ("", "is empty"),
        ("  ", "is empty"),
        ("a\u{1b}[31mred", "control character"),
        (&"x".repeat(101), "at most 100"),
    ] {
        let (code, _, stderr) = create("viewer", Some(name));
        assert_eq!(code, 2, "{name:?}: {stderr}");
        assert!(stderr.contains(why), "{name:?}: {stderr}");
    }
    let (code, _, stderr) = create("agent", None);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bound to one server"), "{stderr}");
    let (code, stdout, stderr) = create("agent", Some("db-1"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("sg_"), "{stdout}");
    assert!(
        stderr.contains("reports for the server `db-1` only"),
        "{stderr}"
    );
}
