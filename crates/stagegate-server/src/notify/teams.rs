//! Microsoft Teams through a Workflows webhook ("Post to a channel when a
//! webhook request is received"): one Adaptive Card per notification.

use serde_json::{Value, json};

use super::http::{self, Post};
use super::{Channel, Invalid, Kind, Message, Secret, Settings, required_url};

#[derive(Debug)]
pub struct Teams {
    url: Secret,
}

impl Teams {
    pub fn new(s: Settings) -> Result<Teams, Invalid> {
        Ok(Teams {
            url: Secret(required_url(&s, "Teams")?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let color = match m.kind() {
            Kind::Resolved => "Good",
            Kind::Update => "Accent",
            _ => "Attention",
        };
        let facts: Vec<Value> = m
            .fields()
            .into_iter()
            .map(|(title, value)| json!({ "title": title, "value": value }))
            .collect();
        let card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.5",
            "msteams": { "width": "Full" },
            "body": [
                {
                    "type": "TextBlock",
                    "text": m.title(),
                    "weight": "Bolder",
                    "size": "Medium",
                    "color": color,
                    "wrap": true,
                    "style": "heading",
                },
                { "type": "TextBlock", "text": m.facts.message, "wrap": true },
                { "type": "FactSet", "facts": facts },
            ],
        });
        Post::json(
            self.url.to_string(),
            &json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": card,
                }],
            }),
        )
    }
}

#[async_trait::async_trait]
impl Channel for Teams {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn an_adaptive_card_in_a_message() {
        let teams = Teams::new(Settings {
            url: Some("https://example.invalid/workflows/x".into()),
            ..Settings::default()
        })
        .expect("teams");
        let n = notification("incident.opened");
        let body = teams.post(&Message::new(&n, None).expect("m")).body_json();
        let attachment = &body["attachments"][0];
        assert_eq!(
            attachment["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let card = &attachment["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["body"][0]["text"], "Incident: prod/api");
        assert_eq!(card["body"][0]["color"], "Attention");
        assert_eq!(card["body"][1]["text"], "HTTP 503");
        assert_eq!(card["body"][2]["facts"][0]["value"], "prod");
        let n = notification("incident.resolved");
        let body = teams.post(&Message::new(&n, None).expect("m")).body_json();
        assert_eq!(
            body["attachments"][0]["content"]["body"][0]["color"],
            "Good"
        );
    }
}
