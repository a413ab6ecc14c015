//! Google Chat (a space's incoming webhook): a card with the incident's
//! facts, every message about one incident in one thread (its thread key),
//! so the resolution lands under the alert it ends.

use serde_json::{Value, json};

use super::http::{self, Post};
use super::{Channel, Invalid, Message, Secret, Settings, no_mentions, required_url};

#[derive(Debug)]
pub struct GoogleChat {
    url: Secret,
}

impl GoogleChat {
    pub fn new(s: Settings) -> Result<GoogleChat, Invalid> {
        Ok(GoogleChat {
            url: Secret(required_url(&s, "Google Chat")?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let widgets: Vec<Value> = m
            .fields()
            .into_iter()
            .map(|(label, value)| {
                json!({ "decoratedText": { "topLabel": label, "text": crate::markup::escape(&value) } })
            })
            .collect();
        let separator = if self.url.contains('?') { '&' } else { '?' };
        Post::json(
            format!(
                "{}{separator}messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
                &*self.url
            ),
            &json!({
                "text": no_mentions(&m.line()),
                "thread": { "threadKey": m.thread_key() },
                "cardsV2": [{
                    "cardId": m.thread_key(),
                    "card": {
                        "header": { "title": m.title(), "subtitle": "stagegate" },
                        "sections": [
                            { "widgets": [{ "textParagraph": { "text": crate::markup::escape(&m.facts.message) } }] },
                            { "widgets": widgets },
                        ],
                    },
                }],
            }),
        )
    }
}

#[async_trait::async_trait]
impl Channel for GoogleChat {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn a_card_in_the_incidents_thread() {
        let chat = GoogleChat::new(Settings {
            url: Some("https://example.invalid/v1/spaces/S/messages?key=k&token=t".into()),
            ..Settings::default()
        })
        .expect("google chat");
        for event in ["incident.opened", "incident.resolved"] {
            let n = notification(event);
            let post = chat.post(&Message::new(&n, None).expect("m"));
            assert!(post.url.ends_with(
                "?key=k&token=t&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
            ));
            let body = post.body_json();
            assert_eq!(body["thread"]["threadKey"], "stagegate-incident-7");
            assert!(
                body["cardsV2"][0]["card"]["header"]["title"]
                    .as_str()
                    .is_some_and(|t| t.ends_with(": prod/api"))
            );
        }
    }
}
