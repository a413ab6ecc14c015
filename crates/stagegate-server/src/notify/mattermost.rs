//! Mattermost (an incoming webhook): a line of text and a coloured
//! attachment with the incident's facts, in the Slack-compatible format
//! Mattermost documents.

use serde_json::{Value, json};

use super::http::{self, Post};
use super::{Channel, Invalid, Kind, Message, Secret, Settings, no_mentions, required_url};

#[derive(Debug)]
pub struct Mattermost {
    url: Secret,
}

impl Mattermost {
    pub fn new(s: Settings) -> Result<Mattermost, Invalid> {
        Ok(Mattermost {
            url: Secret(required_url(&s, "Mattermost")?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let color = match m.kind() {
            Kind::Resolved => "#1E8E3E",
            Kind::Update => "#1A73E8",
            Kind::Escalated | Kind::Reminder => "#E37400",
            Kind::Opened => "#D93025",
        };
        let fields: Vec<Value> = m
            .fields()
            .into_iter()
            .map(|(title, value)| json!({ "title": title, "value": no_mentions(&value), "short": true }))
            .collect();
        Post::json(
            self.url.to_string(),
            &json!({
                "username": "stagegate",
                "text": format!("**{}**", no_mentions(&m.title())),
                "attachments": [{
                    "fallback": no_mentions(&m.line()),
                    "color": color,
                    "text": no_mentions(&m.facts.message),
                    "fields": fields,
                }],
            }),
        )
    }
}

#[async_trait::async_trait]
impl Channel for Mattermost {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn text_and_an_attachment() {
        let mm = Mattermost::new(Settings {
            url: Some("https://example.invalid/hooks/x".into()),
            ..Settings::default()
        })
        .expect("mattermost");
        let n = notification("incident.resolved");
        let body = mm.post(&Message::new(&n, None).expect("m")).body_json();
        assert_eq!(body["text"], "**Resolved: prod/api**");
        assert_eq!(body["attachments"][0]["color"], "#1E8E3E");
        assert_eq!(body["attachments"][0]["fields"][0]["title"], "Environment");
    }
}
