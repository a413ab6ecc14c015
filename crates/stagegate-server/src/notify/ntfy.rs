//! ntfy: the body is the message; title, priority and tags ride in
//! headers; `secret` is the access token, if the topic needs one.

use super::http::{self, Post, header};
use super::{Channel, Invalid, Kind, Message, Secret, Settings, header_safe, required_url};

#[derive(Debug)]
pub struct Ntfy {
    url: String,
    token: Option<Secret>,
}

impl Ntfy {
    pub fn new(s: Settings) -> Result<Ntfy, Invalid> {
        Ok(Ntfy {
            url: required_url(&s, "ntfy")?,
            token: s
                .secret
                .map(|t| header_safe(t, "secret", "ntfy"))
                .transpose()?
                .map(Secret),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let kind = m.kind();
        let mut headers: Vec<_> = [
            header("x-title", &m.title()),
            header(
                "x-priority",
                if kind.urgent() { "urgent" } else { "default" },
            ),
            header(
                "x-tags",
                match kind {
                    Kind::Resolved => "white_check_mark",
                    Kind::Update => "loudspeaker",
                    _ => "rotating_light",
                },
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(token) = &self.token {
            headers.extend(header("authorization", &format!("Bearer {}", &**token)));
        }
        Post {
            method: http::Method::POST,
            url: self.url.clone(),
            headers,
            body: if m.facts.message.is_empty() {
                m.line()
            } else {
                m.facts.message.clone()
            },
        }
    }
}

#[async_trait::async_trait]
impl Channel for Ntfy {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn the_message_with_title_priority_and_token() {
        let n = notification("incident.opened");
        let ntfy = Ntfy::new(Settings {
            url: Some("http://127.0.0.1:9/x".into()),
            secret: Some("k".into()),
            ..Settings::default()
        })
        .expect("ntfy");
        let post = ntfy.post(&Message::new(&n, None).expect("m"));
        assert_eq!(post.body, "HTTP 503");
        let get = |name: &str| {
            post.headers
                .iter()
                .find(|(h, _)| h == name)
                .and_then(|(_, v)| v.to_str().ok())
        };
        assert_eq!(get("x-title"), Some("Incident: prod/api"));
        assert_eq!(get("x-priority"), Some("urgent"));
        assert_eq!(get("authorization"), Some("Bearer k"));
    }
}
