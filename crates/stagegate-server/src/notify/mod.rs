//! Notification channels: one module per channel behind the [`Channel`]
//! trait. A channel owns its settings, what it sends for a notification,
//! and how its failures read. Adding one is a file here and a line in
//! [`build`]; nothing else in the server knows one channel from another.
//!
//! Claiming, retrying and recording outcomes is `dispatch`'s.

mod email;
mod http;
mod ntfy;
mod pagerduty;
mod slack;
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
}

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
        self.notification.event == "incident.resolved"
    }

    /// One line for chat channels: `[stagegate] incident prod/api: HTTP 503`.
    pub fn line(&self) -> String {
        format!(
            "[stagegate] {} {}/{}: {}",
            if self.resolved() {
                "resolved"
            } else {
                "incident"
            },
            self.facts.environment,
            self.facts.check,
            self.facts.message
        )
    }
}

/// A way to tell people.
#[async_trait::async_trait]
pub trait Channel: Send + Sync + std::fmt::Debug {
    /// Delivers `m`: `Ok` once the receiver accepted it, else why not.
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String>;
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
}

/// Why a notifier cannot be built: the setting at fault, what is wrong,
/// what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// `url`, `secret`, `routing_key`, `smtp`, `from` or `ca_file`.
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
    })
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
