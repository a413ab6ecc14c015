//! Slack (an incoming webhook): one line of text.

use super::http::{self, Post};
use super::{Channel, Invalid, Message, Secret, Settings, required_url};

#[derive(Debug)]
pub struct Slack {
    url: Secret,
}

impl Slack {
    pub fn new(s: Settings) -> Result<Slack, Invalid> {
        Ok(Slack {
            url: Secret(required_url(&s, "Slack")?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        Post {
            method: http::Method::POST,
            url: self.url.to_string(),
            headers: http::json(),
            body: serde_json::json!({ "text": m.line() }).to_string(),
        }
    }
}

#[async_trait::async_trait]
impl Channel for Slack {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn one_line_of_text() {
        let n = notification("incident.opened");
        let slack = Slack::new(Settings {
            url: Some("http://127.0.0.1:9/x".into()),
            ..Settings::default()
        })
        .expect("slack");
        let body: serde_json::Value =
            serde_json::from_str(&slack.post(&Message::new(&n, None).expect("m")).body)
                .expect("json");
        assert_eq!(body["text"], "[stagegate] incident prod/api: HTTP 503");
    }
}
