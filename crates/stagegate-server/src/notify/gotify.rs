//! Gotify (`POST /message` with an application token): Markdown text, the
//! priority mapped so clients' "notify from priority N" settings work:
//! 8 when an incident opens, 10 when it escalates, 4 for a public update,
//! 2 when it resolves.

use serde_json::json;

use super::http::{self, Post, header};
use super::{
    Channel, Invalid, Kind, Message, Secret, Settings, header_safe, markdown_escape, required,
    required_url,
};

#[derive(Debug)]
pub struct Gotify {
    url: String,
    token: Secret,
}

impl Gotify {
    pub fn new(s: Settings) -> Result<Gotify, Invalid> {
        Ok(Gotify {
            url: format!(
                "{}/message",
                required_url(&s, "Gotify")?.trim_end_matches('/')
            ),
            token: Secret(header_safe(
                required(
                    s.token,
                    "token",
                    "Gotify",
                    "expected an application token (Apps → Create application), through ${NAME}",
                )?,
                "token",
                "Gotify",
            )?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let priority = match m.kind() {
            Kind::Opened | Kind::Reminder => 8,
            Kind::Escalated => 10,
            Kind::Update => 4,
            Kind::Resolved => 2,
        };
        let mut message = markdown_escape(&m.facts.message);
        for (label, value) in m.fields() {
            message.push_str(&format!("  \n**{label}**: {}", markdown_escape(&value)));
        }
        let mut post = Post::json(
            self.url.clone(),
            &json!({
                "title": m.title(),
                "message": message,
                "priority": priority,
                "extras": { "client::display": { "contentType": "text/markdown" } },
            }),
        );
        post.headers.extend(header("x-gotify-key", &self.token));
        post
    }
}

#[async_trait::async_trait]
impl Channel for Gotify {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn markdown_with_a_mapped_priority() {
        let g = Gotify::new(Settings {
            url: Some("http://127.0.0.1:9/".into()),
            token: Some("AppTok".into()),
            ..Settings::default()
        })
        .expect("gotify");
        let n = notification("incident.opened");
        let post = g.post(&Message::new(&n, None).expect("m"));
        assert_eq!(post.url, "http://127.0.0.1:9/message");
        assert_eq!(post.header("x-gotify-key"), Some("AppTok"));
        let body = post.body_json();
        assert_eq!(body["priority"], 8);
        assert_eq!(
            body["extras"]["client::display"]["contentType"],
            "text/markdown"
        );
        let n = notification("incident.resolved");
        assert_eq!(
            g.post(&Message::new(&n, None).expect("m")).body_json()["priority"],
            2
        );
    }
}
