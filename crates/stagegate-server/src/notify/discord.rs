//! Discord (a channel webhook): one embed, coloured by what happened, with
//! mentions switched off so a message quoting `@everyone` pings nobody.

use serde_json::{Value, json};

use super::http::{self, Post};
use super::{
    Channel, Invalid, Kind, Message, Secret, Settings, clip, markdown_escape, required_url,
};

const RED: u32 = 0xD9_30_25;
const GREEN: u32 = 0x1E_8E_3E;
const AMBER: u32 = 0xE3_74_00;
const BLUE: u32 = 0x1A_73_E8;

#[derive(Debug)]
pub struct Discord {
    url: Secret,
}

impl Discord {
    pub fn new(s: Settings) -> Result<Discord, Invalid> {
        Ok(Discord {
            url: Secret(required_url(&s, "Discord")?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let color = match m.kind() {
            Kind::Opened => RED,
            Kind::Escalated | Kind::Reminder => AMBER,
            Kind::Resolved => GREEN,
            Kind::Update => BLUE,
        };
        let fields: Vec<Value> = m
            .fields()
            .into_iter()
            .map(|(name, value)| {
                json!({ "name": name, "value": clip(&markdown_escape(&value), 1024), "inline": true })
            })
            .collect();
        let mut embed = json!({
            "title": clip(&m.title(), 256),
            "description": clip(&markdown_escape(&m.facts.message), 4096),
            "color": color,
            "fields": fields,
            "footer": { "text": "stagegate" },
        });
        let at = m
            .facts
            .resolved_at
            .as_deref()
            .unwrap_or(&m.facts.started_at);
        if !at.is_empty() && m.kind() != Kind::Update {
            embed["timestamp"] = json!(at);
        }
        Post::json(
            self.url.to_string(),
            &json!({
                "username": "stagegate",
                "embeds": [embed],
                "allowed_mentions": { "parse": [] },
            }),
        )
    }
}

#[async_trait::async_trait]
impl Channel for Discord {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn an_embed_that_mentions_nobody() {
        let discord = Discord::new(Settings {
            url: Some("https://example.invalid/api/webhooks/1/t".into()),
            ..Settings::default()
        })
        .expect("discord");
        let n = notification("incident.opened");
        let body = discord
            .post(&Message::new(&n, None).expect("m"))
            .body_json();
        let embed = &body["embeds"][0];
        assert_eq!(embed["title"], "Incident: prod/api");
        assert_eq!(embed["description"], "HTTP 503");
        assert_eq!(embed["color"], RED);
        assert_eq!(embed["timestamp"], "2026-11-30T10:00:00Z");
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        assert_eq!(clip(&"x".repeat(300), 256).chars().count(), 256);
    }
}
