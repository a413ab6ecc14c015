//! A generic webhook: the notification's JSON as it is, with its event and
//! delivery id in headers and, given a `secret`, an HMAC-SHA256 signature
//! of the body the receiver can check.

use super::http::{self, Post, header};
use super::{Channel, Invalid, Message, Secret, Settings, required_url};

#[derive(Debug)]
pub struct Webhook {
    url: String,
    secret: Option<Secret>,
}

impl Webhook {
    pub fn new(s: Settings) -> Result<Webhook, Invalid> {
        Ok(Webhook {
            url: required_url(&s, "webhook")?,
            secret: s.secret.map(Secret),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let n = m.notification;
        let mut headers = http::json();
        headers.extend(header("x-stagegate-event", &n.event));
        headers.extend(header("x-stagegate-delivery", &n.dedup_key));
        if let Some(secret) = &self.secret {
            headers.extend(header(
                "x-stagegate-signature",
                &format!("sha256={}", hmac_hex(secret, n.payload.as_bytes())),
            ));
        }
        Post {
            method: http::Method::POST,
            url: self.url.clone(),
            headers,
            body: n.payload.clone(),
        }
    }
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[async_trait::async_trait]
impl Channel for Webhook {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn the_body_is_the_payload_signed() {
        let n = notification("incident.opened");
        let hook = Webhook::new(Settings {
            url: Some("http://127.0.0.1:9/x".into()),
            secret: Some("k".into()),
            ..Settings::default()
        })
        .expect("webhook");
        let post = hook.post(&Message::new(&n, None).expect("message"));
        assert_eq!(post.body, n.payload);
        let get = |name: &str| {
            post.headers
                .iter()
                .find(|(h, _)| h == name)
                .and_then(|(_, v)| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            get("x-stagegate-signature"),
            Some(format!("sha256={}", hmac_hex("k", n.payload.as_bytes())))
        );
        assert_eq!(get("x-stagegate-event").as_deref(), Some("incident.opened"));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
