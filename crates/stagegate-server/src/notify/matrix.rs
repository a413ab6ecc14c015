//! Matrix (the client-server API): an `m.text` message with an HTML body
//! to one room, sent with `PUT .../send/m.room.message/{txnId}`. The
//! transaction id comes from the delivery's dedup key, so a retry after a
//! lost answer is recognised by the homeserver instead of posted twice.

use serde_json::json;

use super::http::{self, Method, Post, header, path_segment};
use super::{Channel, Invalid, Message, Secret, Settings, header_safe, required, required_url};

#[derive(Debug)]
pub struct Matrix {
    homeserver: String,
    room: String,
    token: Secret,
}

impl Matrix {
    pub fn new(s: Settings) -> Result<Matrix, Invalid> {
        let homeserver = required_url(&s, "Matrix")?.trim_end_matches('/').to_owned();
        let room = required(
            s.room,
            "room",
            "Matrix",
            "expected a room id such as \"!abcdef:example.org\"",
        )?;
        if !room.starts_with('!') {
            return Err(Invalid {
                setting: "room",
                problem: format!("`{room}` is not a Matrix room id"),
                expected: "expected a room id, which starts with `!` (Room settings → Advanced), not an alias such as \"#ops:example.org\"",
            });
        }
        Ok(Matrix {
            homeserver,
            room,
            token: Secret(header_safe(
                required(
                    s.token,
                    "token",
                    "Matrix",
                    "expected the access token of the account that posts, through ${NAME}",
                )?,
                "token",
                "Matrix",
            )?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let mut html = format!(
            "<strong>{}</strong><br>{}",
            crate::markup::escape(&m.title()),
            crate::markup::escape(&m.facts.message).replace('\n', "<br>")
        );
        let mut plain = format!("{}\n{}", m.title(), m.facts.message);
        if !m.fields().is_empty() {
            html.push_str("<ul>");
            for (label, value) in m.fields() {
                html.push_str(&format!(
                    "<li><em>{}</em>: {}</li>",
                    crate::markup::escape(label),
                    crate::markup::escape(&value)
                ));
                plain.push_str(&format!("\n{label}: {value}"));
            }
            html.push_str("</ul>");
        }
        let mut headers = http::json();
        headers.extend(header("authorization", &format!("Bearer {}", &*self.token)));
        Post {
            method: Method::PUT,
            url: format!(
                "{}/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
                self.homeserver,
                path_segment(&self.room),
                path_segment(&format!("stagegate-{}", m.notification.dedup_key))
            ),
            headers,
            body: json!({
                "msgtype": "m.text",
                "body": plain,
                "format": "org.matrix.custom.html",
                "formatted_body": html,
            })
            .to_string(),
        }
    }
}

#[async_trait::async_trait]
impl Channel for Matrix {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn an_html_message_put_once_per_delivery() {
        let mx = Matrix::new(Settings {
            url: Some("https://matrix.example.invalid/".into()),
            token: Some("syt_x".into()),
            room: Some("!room:example.invalid".into()),
            ..Settings::default()
        })
        .expect("matrix");
        let n = notification("incident.opened");
        let post = mx.post(&Message::new(&n, None).expect("m"));
        assert_eq!(post.method, Method::PUT);
        assert_eq!(
            post.url,
            "https://matrix.example.invalid/_matrix/client/v3/rooms/%21room%3Aexample.invalid/send/m.room.message/stagegate-incident-7%2Fincident.opened%2Fn%2Fops"
        );
        assert_eq!(post.header("authorization"), Some("Bearer syt_x"));
        let body = post.body_json();
        assert_eq!(body["format"], "org.matrix.custom.html");
        assert!(
            body["formatted_body"].as_str().is_some_and(
                |h| h.starts_with("<strong>Incident: prod/api</strong><br>HTTP 503<ul>")
            )
        );
        let e = Matrix::new(Settings {
            url: Some("https://m.example.invalid".into()),
            token: Some("t".into()),
            room: Some("#ops:example.invalid".into()),
            ..Settings::default()
        })
        .expect_err("an alias");
        assert_eq!(e.setting, "room");
    }
}
