//! Pushover (Message API): a push to one user or group, high priority
//! (sounds through quiet hours) while an incident is open, normal when it
//! resolves, with HTML formatting.

use serde_json::json;

use super::http::{self, Post};
use super::{Channel, Invalid, Message, Secret, Settings, required, url_or};

const MESSAGES_API: &str = "https://api.pushover.net/1/messages.json";

#[derive(Debug)]
pub struct Pushover {
    url: String,
    token: Secret,
    user: Secret,
}

impl Pushover {
    pub fn new(s: Settings) -> Result<Pushover, Invalid> {
        Ok(Pushover {
            url: url_or(&s, "Pushover", MESSAGES_API)?,
            token: Secret(required(
                s.token,
                "token",
                "Pushover",
                "expected the application's API token, through ${NAME}",
            )?),
            user: Secret(required(
                s.user_key,
                "user_key",
                "Pushover",
                "expected the user or group key, through ${NAME}",
            )?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        // Cut before escaping, so no entity or tag is cut in half.
        let mut message = crate::markup::escape(&super::clip(&m.facts.message, 700));
        for (label, value) in m.fields() {
            message.push_str(&format!(
                "\n<i>{}</i>: {}",
                crate::markup::escape(label),
                crate::markup::escape(&super::clip(&value, 60))
            ));
        }
        Post::json(
            self.url.clone(),
            &json!({
                "token": &*self.token,
                "user": &*self.user,
                "title": super::clip(&m.title(), 250),
                "message": message,
                "html": 1,
                "priority": if m.kind().urgent() { 1 } else { 0 },
            }),
        )
    }
}

#[async_trait::async_trait]
impl Channel for Pushover {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn high_priority_while_open() {
        let po = Pushover::new(Settings {
            token: Some("a".into()),
            user_key: Some("u".into()),
            ..Settings::default()
        })
        .expect("pushover");
        let body = |event: &str| {
            let n = notification(event);
            po.post(&Message::new(&n, None).expect("m")).body_json()
        };
        let opened = body("incident.opened");
        assert_eq!(
            (opened["token"].as_str(), opened["user"].as_str()),
            (Some("a"), Some("u"))
        );
        assert_eq!(opened["priority"], 1);
        assert_eq!(opened["html"], 1);
        assert_eq!(body("incident.resolved")["priority"], 0);
        let e = Pushover::new(Settings {
            token: Some("a".into()),
            ..Settings::default()
        })
        .expect_err("no user");
        assert_eq!(e.setting, "user_key");
    }
}
