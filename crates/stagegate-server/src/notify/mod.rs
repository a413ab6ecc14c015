//! Notification channels: one module per channel behind the [`Channel`]
//! trait. A channel owns its settings, what it sends for a notification,
//! and how its failures read. Adding one is a file here and a line in
//! [`build`]; nothing else in the server knows one channel from another.
//!
//! Claiming, retrying and recording outcomes is `dispatch`'s.

mod discord;
mod email;
mod google_chat;
mod gotify;
mod http;
mod matrix;
mod mattermost;
mod ntfy;
mod opsgenie;
mod pagerduty;
mod pushover;
mod slack;
mod teams;
mod telegram;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use stagegate_spec::NotifierKind;
use stagegate_store::Notification;

/// How long one attempt may take, whatever the channel.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What a notification says, as every channel reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct Facts {
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub check: String,
    #[serde(default)]
    pub covers: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub incident: i64,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub resolved_at: Option<String>,
    /// The escalation level paged, 1-based.
    #[serde(default)]
    pub level: Option<u32>,
    /// A public update's status: investigating, identified, monitoring,
    /// resolved.
    #[serde(default)]
    pub status: Option<String>,
    /// The status page's components a public update is about.
    #[serde(default)]
    pub components: Vec<String>,
    /// The status page's title, for public updates.
    #[serde(default)]
    pub title: Option<String>,
}

/// What a notification is, as a channel's wording and urgency read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Opened,
    Escalated,
    Reminder,
    Resolved,
    /// A public update posted to a status-page incident.
    Update,
}

impl Kind {
    /// Whether someone should act now: the channels that have priorities
    /// raise these.
    pub fn urgent(self) -> bool {
        matches!(self, Kind::Opened | Kind::Escalated | Kind::Reminder)
    }
}

/// The event of public status-page updates.
pub const UPDATE_EVENT: &str = "incident.update";

/// One notification on its way to one contact.
#[derive(Debug)]
pub struct Message<'a> {
    pub notification: &'a Notification,
    pub facts: Facts,
    /// The contact's email address, if it has one.
    pub email: Option<&'a str>,
}

impl<'a> Message<'a> {
    pub fn new(notification: &'a Notification, email: Option<&'a str>) -> Result<Self, String> {
        let facts = serde_json::from_str(&notification.payload)
            .map_err(|e| format!("unreadable payload: {e}"))?;
        Ok(Message {
            notification,
            facts,
            email,
        })
    }

    pub fn resolved(&self) -> bool {
        self.kind() == Kind::Resolved
    }

    pub fn kind(&self) -> Kind {
        match self.notification.event.as_str() {
            "incident.resolved" => Kind::Resolved,
            "incident.escalated" => Kind::Escalated,
            "incident.reminder" => Kind::Reminder,
            UPDATE_EVENT => Kind::Update,
            _ => Kind::Opened,
        }
    }

    /// What it is about: `prod/api`, or for a public update the status
    /// page's title.
    pub fn subject(&self) -> String {
        let f = &self.facts;
        match self.kind() {
            Kind::Update => f.title.clone().unwrap_or_else(|| f.environment.clone()),
            _ => format!("{}/{}", f.environment, f.check),
        }
    }

    /// A short heading: `Incident: prod/api`, `Escalated (level 2):
    /// prod/api`, `Identified: Shop status`.
    pub fn title(&self) -> String {
        let what = match self.kind() {
            Kind::Opened => "Incident".to_owned(),
            Kind::Escalated => match self.facts.level {
                Some(level) => format!("Escalated (level {level})"),
                None => "Escalated".to_owned(),
            },
            Kind::Reminder => "Still open".to_owned(),
            Kind::Resolved => "Resolved".to_owned(),
            Kind::Update => capitalised(self.facts.status.as_deref().unwrap_or("update")),
        };
        format!("{what}: {}", self.subject())
    }

    /// One line for chat channels: `[stagegate] incident prod/api: HTTP 503`.
    pub fn line(&self) -> String {
        let what = match self.kind() {
            Kind::Opened => "incident".to_owned(),
            Kind::Escalated => "escalated".to_owned(),
            Kind::Reminder => "still open".to_owned(),
            Kind::Resolved => "resolved".to_owned(),
            Kind::Update => self.facts.status.clone().unwrap_or_else(|| "update".into()),
        };
        format!(
            "[stagegate] {what} {}: {}",
            self.subject(),
            self.facts.message
        )
    }

    /// Labelled facts a card or an embed lists under the message; for a
    /// public update only what the status page shows.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let f = &self.facts;
        let mut fields = Vec::new();
        if self.kind() == Kind::Update {
            if !f.components.is_empty() {
                fields.push(("Affects", f.components.join(", ")));
            }
            return fields;
        }
        fields.push(("Environment", f.environment.clone()));
        fields.push(("Check", f.check.clone()));
        if let Some(covers) = &f.covers {
            fields.push(("Covers", covers.clone()));
        }
        if let Some(level) = f.level {
            fields.push(("Level", level.to_string()));
        }
        fields.push(("Started", f.started_at.clone()));
        if let Some(resolved) = &f.resolved_at {
            fields.push(("Resolved", resolved.clone()));
        }
        fields.push(("Incident", format!("#{}", f.incident)));
        fields
    }

    /// One conversation per incident on channels that thread or group:
    /// every message about it carries this key.
    pub fn thread_key(&self) -> String {
        format!("stagegate-incident-{}", self.facts.incident)
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// A way to tell people.
#[async_trait::async_trait]
pub trait Channel: Send + Sync + std::fmt::Debug {
    /// Delivers `m`: `Ok` once the receiver accepted it, else why not.
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String>;
}

/// A credential, or a URL that is one: used, never shown (`Debug` prints
/// `Secret(…)`, and it has no `Display`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::ops::Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// `value` if a request header can carry it: a token with a line break
/// (pasted with its newline, say) would otherwise be sent without, and
/// every delivery refused, with nothing said at start.
fn header_safe(value: String, setting: &'static str, channel: &str) -> Result<String, Invalid> {
    if ::http::HeaderValue::from_str(&value).is_err() || value.trim() != value {
        return Err(Invalid {
            setting,
            problem: format!(
                "the {channel} notifier's `{setting}` holds a line break, a control character or surrounding spaces"
            ),
            expected: "expected the value alone: check the variable it comes from",
        });
    }
    Ok(value)
}

/// `text` with Markdown's punctuation escaped, for channels that render
/// Markdown (Discord, Gotify): a check's message or a public update shows
/// as written, and cannot add links, images or headings.
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '+'
                | '-'
                | '.'
                | '!'
                | '<'
                | '>'
                | '|'
                | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` with mentions (`@channel`, `@all`, `<users/all>`) broken by a
/// zero-width space, for channels that would notify whole rooms because a
/// check's message happened to contain one.
pub fn no_mentions(text: &str) -> String {
    text.replace('@', "@\u{200B}").replace('<', "<\u{200B}")
}

/// The first `max` characters of `text`, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A notifier's settings with their `${NAME}`s resolved.
#[derive(Default)]
pub struct Settings {
    pub url: Option<String>,
    pub secret: Option<String>,
    pub routing_key: Option<String>,
    pub smtp: Option<String>,
    pub from: Option<String>,
    pub ca_file: Option<std::path::PathBuf>,
    pub token: Option<String>,
    pub chat_id: Option<String>,
    pub room: Option<String>,
    pub user_key: Option<String>,
}

/// Why a notifier cannot be built: the setting at fault, what is wrong,
/// what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// `url`, `secret`, `routing_key`, `smtp`, `from`, `ca_file`, `token`,
    /// `chat_id`, `room` or `user_key`.
    pub setting: &'static str,
    pub problem: String,
    pub expected: &'static str,
}

/// The channel of a notifier of `kind`: the one registration per channel.
pub fn build(kind: NotifierKind, s: Settings) -> Result<Arc<dyn Channel>, Invalid> {
    Ok(match kind {
        NotifierKind::Webhook => Arc::new(webhook::Webhook::new(s)?),
        NotifierKind::Slack => Arc::new(slack::Slack::new(s)?),
        NotifierKind::Pagerduty => Arc::new(pagerduty::PagerDuty::new(s)?),
        NotifierKind::Ntfy => Arc::new(ntfy::Ntfy::new(s)?),
        NotifierKind::Email => Arc::new(email::Email::new(s)?),
        NotifierKind::Teams => Arc::new(teams::Teams::new(s)?),
        NotifierKind::Discord => Arc::new(discord::Discord::new(s)?),
        NotifierKind::Telegram => Arc::new(telegram::Telegram::new(s)?),
        NotifierKind::GoogleChat => Arc::new(google_chat::GoogleChat::new(s)?),
        NotifierKind::Mattermost => Arc::new(mattermost::Mattermost::new(s)?),
        NotifierKind::Matrix => Arc::new(matrix::Matrix::new(s)?),
        NotifierKind::Opsgenie => Arc::new(opsgenie::Opsgenie::new(s)?),
        NotifierKind::Pushover => Arc::new(pushover::Pushover::new(s)?),
        NotifierKind::Gotify => Arc::new(gotify::Gotify::new(s)?),
    })
}

/// A setting a channel cannot do without.
fn required(
    value: Option<String>,
    setting: &'static str,
    channel: &str,
    expected: &'static str,
) -> Result<String, Invalid> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| Invalid {
        setting,
        problem: format!("a {channel} notifier needs a `{setting}`"),
        expected,
    })
}

/// The `url` setting if given (checked), else the channel's public API.
fn url_or(s: &Settings, channel: &str, default: &str) -> Result<String, Invalid> {
    match &s.url {
        Some(url) => http_url(url.clone(), channel),
        None => Ok(default.to_owned()),
    }
}

/// The `url` setting, which a channel cannot do without.
fn required_url(s: &Settings, channel: &str) -> Result<String, Invalid> {
    let url = s.url.clone().ok_or_else(|| Invalid {
        setting: "url",
        problem: format!("a {channel} notifier needs a `url`"),
        expected: "expected the URL messages are posted to",
    })?;
    http_url(url, channel)
}

/// `url` if it is an http(s) URL with a host: a malformed one is a spec
/// error when the server starts, not a failure at the first incident. The
/// problem never quotes the URL (it may hold a secret).
fn http_url(url: String, channel: &str) -> Result<String, Invalid> {
    let invalid = |why: &str| Invalid {
        setting: "url",
        problem: format!("the {channel} notifier's `url` {why}"),
        expected: "expected an http:// or https:// URL with a host, e.g. https://hooks.example.com/alerts",
    };
    let uri: axum::http::Uri = url.parse().map_err(|_| invalid("is not a valid URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(invalid("is not an http:// or https:// URL"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    if uri.port().is_some() && uri.port_u16().is_none() {
        return Err(invalid("has a port out of range"));
    }
    Ok(url)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn a_malformed_notifier_url_is_refused_when_built() {
        let settings = |url: &str| Settings {
            url: Some(url.to_owned()),
            ..Settings::default()
        };
        for bad in [
            "htp:/x y/z",
            "http://[::1/x",
            "ftp://h/x",
            "http:///x",
            "hooks.example.com",
        ] {
            for kind in [
                NotifierKind::Webhook,
                NotifierKind::Slack,
                NotifierKind::Ntfy,
            ] {
                let e = build(kind, settings(bad)).expect_err(bad);
                assert_eq!(e.setting, "url", "{bad}");
                assert!(
                    !e.problem.contains(bad),
                    "the problem quotes the URL: {}",
                    e.problem
                );
            }
        }
        assert!(build(NotifierKind::Webhook, settings("https://h.example/x?y=1")).is_ok());
    }

    /// A notification of `event` about prod/api, incident 7.
    pub fn notification(event: &str) -> Notification {
        Notification {
            id: 1,
            dedup_key: format!("incident-7/{event}/n/ops"),
            event: event.into(),
            notifier: "n".into(),
            contact: "ops".into(),
            payload: serde_json::json!({
                "event": event, "environment": "prod", "check": "api", "covers": "core",
                "message": "HTTP 503", "incident": 7, "started_at": "2026-11-30T10:00:00Z",
                "resolved_at": null,
            })
            .to_string(),
            created_at: 0,
            attempts: 1,
            next_attempt_at: 0,
            delivered_at: None,
            last_error: None,
        }
    }

    #[test]
    fn every_kind_builds_and_missing_settings_name_themselves() {
        let url = || Settings {
            url: Some("http://127.0.0.1:9/x".into()),
            routing_key: Some("R".into()),
            ..Settings::default()
        };
        for kind in [
            NotifierKind::Webhook,
            NotifierKind::Slack,
            NotifierKind::Pagerduty,
            NotifierKind::Ntfy,
        ] {
            assert!(build(kind, url()).is_ok(), "{kind:?}");
        }
        let e = build(NotifierKind::Webhook, Settings::default()).expect_err("no url");
        assert_eq!(e.setting, "url");
        let e = build(NotifierKind::Pagerduty, Settings::default()).expect_err("no key");
        assert_eq!(e.setting, "routing_key");
        let e = build(NotifierKind::Email, Settings::default()).expect_err("no smtp");
        assert_eq!(e.setting, "smtp");
    }
}
