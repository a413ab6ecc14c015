//! Telegram (a bot's `sendMessage`): HTML text to one chat. The bot token
//! is part of the request path, so no error ever quotes the URL.

use serde_json::json;

use super::http::{self, Post};
use super::{Channel, Invalid, Message, Secret, Settings, required, url_or};

const BOT_API: &str = "https://api.telegram.org";

#[derive(Debug)]
pub struct Telegram {
    api: String,
    chat_id: String,
    token: Secret,
}

impl Telegram {
    pub fn new(s: Settings) -> Result<Telegram, Invalid> {
        Ok(Telegram {
            api: url_or(&s, "Telegram", BOT_API)?
                .trim_end_matches('/')
                .to_owned(),
            chat_id: required(
                s.chat_id.clone(),
                "chat_id",
                "Telegram",
                "expected the chat's id, e.g. \"-1001234567890\", or \"@channelname\"",
            )?,
            token: Secret(required(
                s.token,
                "token",
                "Telegram",
                "expected the bot token BotFather gave, through ${NAME}",
            )?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let mut text = format!(
            "<b>{}</b>\n{}",
            crate::markup::escape(&m.title()),
            // Telegram takes 4,096 characters of text.
            crate::markup::escape(&super::clip(&m.facts.message, 3000))
        );
        for (label, value) in m.fields() {
            text.push_str(&format!(
                "\n<i>{}</i>: {}",
                crate::markup::escape(label),
                crate::markup::escape(&value)
            ));
        }
        Post::json(
            format!("{}/bot{}/sendMessage", self.api, &*self.token),
            &json!({
                "chat_id": self.chat_id,
                "text": text,
                "parse_mode": "HTML",
                "link_preview_options": { "is_disabled": true },
            }),
        )
    }
}

#[async_trait::async_trait]
impl Channel for Telegram {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx)
            .await
            .map_err(|e| e.replace(&*self.token, "…"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn html_to_one_chat_through_the_bots_path() {
        let tg = Telegram::new(Settings {
            token: Some("123:ABC".into()),
            chat_id: Some("-100".into()),
            ..Settings::default()
        })
        .expect("telegram");
        assert!(!format!("{tg:?}").contains("123:ABC"));
        let mut n = notification("incident.opened");
        n.payload = n.payload.replace("HTTP 503", "<script> & more");
        let post = tg.post(&Message::new(&n, None).expect("m"));
        assert_eq!(post.url, "https://api.telegram.org/bot123:ABC/sendMessage");
        let body = post.body_json();
        assert_eq!(body["chat_id"], "-100");
        assert_eq!(body["parse_mode"], "HTML");
        let text = body["text"].as_str().expect("text");
        assert!(
            text.starts_with("<b>Incident: prod/api</b>\n&lt;script&gt; &amp; more"),
            "{text}"
        );
        let e = Telegram::new(Settings::default()).expect_err("no chat");
        assert_eq!(e.setting, "chat_id");
    }
}
