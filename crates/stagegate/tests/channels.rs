//! Every chat and paging channel on a running server, against local
//! imitations of the services' APIs that check each request the way the
//! service documents it (method, path, headers, authentication, JSON shape)
//! and answer as the service does, refusals included: an incident opens
//! and resolves, each channel tells of both, Opsgenie closes its alert by
//! alias, and a refusal reaches the delivery log in the service's words.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use stagegate_test_support::*;

/// What one imitation says to a request, and why it would refuse it.
fn answer(head: &str, body: &str) -> Result<(u16, String), String> {
    let line = head.lines().next().unwrap_or_default();
    let (method, path) = line
        .split_once(' ')
        .map(|(m, rest)| (m, rest.split(' ').next().unwrap_or_default()))
        .unwrap_or_default();
    let has = |h: &str| head.lines().any(|l| l.trim() == h);
    if !has("content-type: application/json") {
        return Err(format!("{path}: no JSON content type"));
    }
    let b: Value = serde_json::from_str(body).map_err(|e| format!("{path}: {e}"))?;
    let text = |v: &Value, what: &str| -> Result<(), String> {
        match v.as_str() {
            Some(s) if !s.is_empty() => Ok(()),
            _ => Err(format!("{path}: {what} is not a non-empty string: {b}")),
        }
    };
    let post = |ok: bool| -> Result<(), String> {
        if method == "post" && ok {
            Ok(())
        } else {
            Err(format!("{method} {path}: unexpected request {b}"))
        }
    };
    if let Some(rest) = path.strip_prefix("/teams/") {
        // Workflows: a message whose attachment is an Adaptive Card.
        post(rest == "workflow")?;
        text(&b["type"], "type")?;
        let a = &b["attachments"][0];
        if a["contentType"] != "application/vnd.microsoft.card.adaptive"
            || a["content"]["type"] != "AdaptiveCard"
            || !a["content"]["body"].is_array()
        {
            return Err(format!("teams: not an Adaptive Card: {b}"));
        }
        text(&a["content"]["version"], "card version")?;
        return Ok((202, String::new()));
    }
    if let Some(rest) = path.strip_prefix("/discord/") {
        post(rest == "api/webhooks/1/t0ken")?;
        let embeds = b["embeds"].as_array().ok_or("discord: no embeds")?;
        if embeds.is_empty() || embeds.len() > 10 {
            return Err(format!("discord: {} embeds", embeds.len()));
        }
        for e in embeds {
            text(&e["title"], "embed title")?;
            if e["title"].as_str().is_some_and(|t| t.chars().count() > 256) {
                return Err("discord: title over 256 characters".into());
            }
            if !e["color"].is_u64() {
                return Err("discord: colour is not an integer".into());
            }
        }
        return Ok((204, String::new()));
    }
    if let Some(rest) = path.strip_prefix("/telegram/") {
        post(rest == "bot12345:tg-token/sendmessage")?;
        if b["parse_mode"] != "HTML" {
            return Err("telegram: not HTML".into());
        }
        text(&b["text"], "text")?;
        if b["chat_id"] == "-404" {
            return Ok((
                400,
                json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}).to_string(),
            ));
        }
        return Ok((
            200,
            json!({"ok": true, "result": {"message_id": 1}}).to_string(),
        ));
    }
    if let Some(rest) = path.strip_prefix("/chat/") {
        post(
            rest == "v1/spaces/s/messages?key=k&token=t&messagereplyoption=reply_message_fallback_to_new_thread",
        )?;
        text(&b["thread"]["threadKey"], "thread key")?;
        text(&b["cardsV2"][0]["card"]["header"]["title"], "card title")?;
        return Ok((200, json!({"name": "spaces/S/messages/1"}).to_string()));
    }
    if let Some(rest) = path.strip_prefix("/mattermost/") {
        post(rest == "hooks/xyz")?;
        text(&b["text"], "text")?;
        if !b["attachments"].is_array() {
            return Err("mattermost: attachments".into());
        }
        return Ok((200, "ok".into()));
    }
    if let Some(rest) = path
        .strip_prefix("/matrix/_matrix/client/v3/rooms/%21room%3aexample.org/send/m.room.message/")
    {
        if method != "put" || rest.is_empty() {
            return Err(format!("matrix: {method} {path}"));
        }
        if !has("authorization: bearer mx-token") {
            return Ok((
                401,
                json!({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"}).to_string(),
            ));
        }
        text(&b["formatted_body"], "formatted_body")?;
        if b["msgtype"] != "m.text" || b["format"] != "org.matrix.custom.html" {
            return Err(format!("matrix: {b}"));
        }
        return Ok((200, json!({"event_id": "$e"}).to_string()));
    }
    if let Some(rest) = path.strip_prefix("/opsgenie/v2/alerts") {
        if !has("authorization: geniekey og-key") {
            return Ok((
                422,
                json!({"message": "Key format is not valid!", "took": 0.0}).to_string(),
            ));
        }
        if rest.is_empty() {
            post(true)?;
            text(&b["message"], "message")?;
            text(&b["alias"], "alias")?;
            if !["P1", "P2", "P3", "P4", "P5"].contains(&b["priority"].as_str().unwrap_or("")) {
                return Err("opsgenie: priority".into());
            }
        } else {
            post(rest.ends_with("/close?identifiertype=alias"))?;
        }
        return Ok((
            202,
            json!({"result": "Request will be processed", "took": 0.1, "requestId": "r"})
                .to_string(),
        ));
    }
    if path == "/pushover/1/messages.json" {
        post(true)?;
        if b["token"] != "po-app" || b["user"] != "po-user" {
            return Ok((
                400,
                json!({"user": "invalid", "errors": ["user identifier is invalid"], "status": 0})
                    .to_string(),
            ));
        }
        text(&b["message"], "message")?;
        if !(-2..=2).contains(&b["priority"].as_i64().unwrap_or(9)) {
            return Err("pushover: priority".into());
        }
        return Ok((200, json!({"status": 1, "request": "r"}).to_string()));
    }
    if path == "/gotify/message" {
        post(true)?;
        if !has("x-gotify-key: gotify-app") {
            return Ok((401, json!({"error": "Unauthorized", "errorCode": 401, "errorDescription": "you need to provide a valid access token or user credentials to access this api"}).to_string()));
        }
        text(&b["message"], "message")?;
        if !b["priority"].is_i64() {
            return Err("gotify: priority".into());
        }
        return Ok((200, json!({"id": 1}).to_string()));
    }
    Err(format!("unknown path {path}"))
}

const CHANNELS: &[(&str, &str)] = &[
    ("teams", "/teams/"),
    ("discord", "/discord/"),
    ("telegram", "/telegram/"),
    ("chat", "/chat/"),
    ("mattermost", "/mattermost/"),
    ("matrix", "/matrix/"),
    ("opsgenie", "/opsgenie/"),
    ("pushover", "/pushover/"),
    ("gotify", "/gotify/"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_channel_tells_of_an_incident_and_its_end() {
    let up = Arc::new(AtomicBool::new(false));
    let target = switchable_target(up.clone()).await;
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let wrong: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let noted = wrong.clone();
    let api = answering(
        seen.clone(),
        Arc::new(move |head: &str, body: &str| match answer(head, body) {
            Ok(a) => a,
            Err(why) => {
                noted.lock().expect("wrong").push(why.clone());
                (400, json!({ "message": why }).to_string())
            }
        }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        format!(
            r#"[product]
name = "Told"

[contacts.ops]
notify = ["teams", "discord", "telegram", "chat", "mattermost", "matrix", "opsgenie", "pushover", "gotify", "wrong-chat"]

[notifiers.teams]
type = "teams"
url = "http://{api}/teams/${{TEAMS_WORKFLOW}}"

[notifiers.discord]
type = "discord"
url = "${{DISCORD_WEBHOOK_URL}}"

[notifiers.telegram]
type = "telegram"
url = "http://{api}/telegram"
token = "${{TELEGRAM_TOKEN}}"
chat_id = "-1001"

[notifiers.wrong-chat]
type = "telegram"
url = "http://{api}/telegram"
token = "${{TELEGRAM_TOKEN}}"
chat_id = "-404"

[notifiers.chat]
type = "google-chat"
url = "http://{api}/chat/v1/spaces/S/messages?key=${{CHAT_KEY}}&token=t"

[notifiers.mattermost]
type = "mattermost"
url = "http://{api}/mattermost/hooks/${{MATTERMOST_HOOK}}"

[notifiers.matrix]
type = "matrix"
url = "http://{api}/matrix"
token = "${{MATRIX_TOKEN}}"
room = "!room:example.org"

[notifiers.opsgenie]
type = "opsgenie"
url = "http://{api}/opsgenie"
token = "${{OPSGENIE_KEY}}"

[notifiers.pushover]
type = "pushover"
url = "http://{api}/pushover/1/messages.json"
token = "${{PUSHOVER_TOKEN}}"
user_key = "${{PUSHOVER_USER}}"

[notifiers.gotify]
type = "gotify"
url = "http://{api}/gotify"
token = "${{GOTIFY_TOKEN}}"

[notifiers.unused]
type = "opsgenie"
token = "${{NOT_SET_ANYWHERE}}"

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
"#
        ),
    )
    .expect("write spec");
    let path = dir.path().to_owned();
    let viewer = token(&path, None, "viewer", "vic");
    let discord = format!("http://{api}/discord/api/webhooks/1/t0ken");
    tokio::task::spawn_blocking(move || {
        // The unused notifier's variable is unset: the server starts anyway.
        let server = start_env(
            &path,
            None,
            &[],
            &[
                ("TEAMS_WORKFLOW", "workflow"),
                ("DISCORD_WEBHOOK_URL", &discord),
                ("TELEGRAM_TOKEN", "12345:TG-token"),
                ("CHAT_KEY", "k"),
                ("MATTERMOST_HOOK", "xyz"),
                ("MATRIX_TOKEN", "mx-token"),
                ("OPSGENIE_KEY", "og-key"),
                ("PUSHOVER_TOKEN", "po-app"),
                ("PUSHOVER_USER", "po-user"),
                ("GOTIFY_TOKEN", "gotify-app"),
            ],
        );
        let requests = |prefix: &str, resolved: bool| {
            seen.lock()
                .expect("seen")
                .iter()
                .filter(|(head, body)| {
                    head.split(' ')
                        .nth(1)
                        .is_some_and(|p| p.starts_with(prefix))
                        && (body.contains("Resolved") || head.contains("/close?")) == resolved
                })
                .count()
        };
        for (name, prefix) in CHANNELS {
            wait_for(&format!("{name} told of the incident"), 30, || {
                (requests(prefix, false) >= 1).then_some(())
            });
        }
        up.store(true, Ordering::SeqCst);
        for (name, prefix) in CHANNELS {
            wait_for(&format!("{name} told of the resolution"), 30, || {
                (requests(prefix, true) >= 1).then_some(())
            });
        }
        assert_eq!(
            wrong.lock().expect("wrong").as_slice(),
            &[] as &[String],
            "requests that do not follow the services' documented formats"
        );
        let refused = wait_for("the refusal in the delivery log", 30, || {
            let (_, body) = http(server.addr, "GET", "/api/v1/deliveries", Some(&viewer), "");
            let log: Value = serde_json::from_str(&body).ok()?;
            log["deliveries"]
                .as_array()?
                .iter()
                .find(|d| d["notifier"] == "wrong-chat")
                .cloned()
        });
        assert_eq!(refused["ok"], false);
        assert_eq!(
            refused["error"], "HTTP 400: Bad Request: chat not found",
            "{refused}"
        );
        let (_, log) = http(server.addr, "GET", "/api/v1/deliveries", Some(&viewer), "");
        assert!(
            !log.contains("TG-token") && !log.contains("12345:"),
            "the delivery log shows the bot token: {log}"
        );
    })
    .await
    .expect("test");
}
