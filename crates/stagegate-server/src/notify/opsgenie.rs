//! Opsgenie (Alert API v2): an alert per incident under a fixed alias, so
//! a repeat or an escalation adds to it instead of opening another, the
//! resolution closes it, and a public update becomes a note on it.

use serde_json::json;

use super::http::{self, Post, header, path_segment};
use super::{Channel, Invalid, Kind, Message, Secret, Settings, header_safe, required, url_or};

const ALERT_API: &str = "https://api.opsgenie.com";

#[derive(Debug)]
pub struct Opsgenie {
    api: String,
    key: Secret,
}

impl Opsgenie {
    pub fn new(s: Settings) -> Result<Opsgenie, Invalid> {
        Ok(Opsgenie {
            api: url_or(&s, "Opsgenie", ALERT_API)?
                .trim_end_matches('/')
                .to_owned(),
            key: Secret(header_safe(
                required(
                    s.token,
                    "token",
                    "Opsgenie",
                    "expected the API key of an Opsgenie API integration, through ${NAME}",
                )?,
                "token",
                "Opsgenie",
            )?),
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let alias = m.thread_key();
        let f = &m.facts;
        let (path, body) = match m.kind() {
            Kind::Resolved => (
                format!(
                    "/v2/alerts/{}/close?identifierType=alias",
                    path_segment(&alias)
                ),
                json!({ "source": "stagegate", "note": m.line() }),
            ),
            Kind::Update => (
                format!(
                    "/v2/alerts/{}/notes?identifierType=alias",
                    path_segment(&alias)
                ),
                json!({ "source": "stagegate", "note": format!("{}: {}", m.title(), f.message) }),
            ),
            kind => (
                "/v2/alerts".to_owned(),
                json!({
                    "message": super::clip(&m.title(), 130),
                    "alias": alias,
                    "description": f.message,
                    "priority": priority(kind, f.level),
                    "source": "stagegate",
                    "entity": format!("{}/{}", f.environment, f.check),
                    "tags": ["stagegate", f.environment],
                    "details": m.fields().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
                }),
            ),
        };
        let mut post = Post::json(format!("{}{path}", self.api), &body);
        post.headers
            .extend(header("authorization", &format!("GenieKey {}", &*self.key)));
        post
    }
}

/// P2 when an incident opens, P1 once it escalates past the first level.
fn priority(kind: Kind, level: Option<u32>) -> &'static str {
    match (kind, level) {
        (Kind::Escalated, _) => "P1",
        (_, Some(level)) if level > 1 => "P1",
        _ => "P2",
    }
}

#[async_trait::async_trait]
impl Channel for Opsgenie {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    #[test]
    fn create_by_alias_then_close_by_alias() {
        let og = Opsgenie::new(Settings {
            token: Some("k-e-y".into()),
            ..Settings::default()
        })
        .expect("opsgenie");
        let n = notification("incident.opened");
        let post = og.post(&Message::new(&n, None).expect("m"));
        assert_eq!(post.url, "https://api.opsgenie.com/v2/alerts");
        assert_eq!(post.header("authorization"), Some("GenieKey k-e-y"));
        let body = post.body_json();
        assert_eq!(body["alias"], "stagegate-incident-7");
        assert_eq!(body["priority"], "P2");
        assert_eq!(body["message"], "Incident: prod/api");
        let n = notification("incident.resolved");
        let post = og.post(&Message::new(&n, None).expect("m"));
        assert_eq!(
            post.url,
            "https://api.opsgenie.com/v2/alerts/stagegate-incident-7/close?identifierType=alias"
        );
        assert_eq!(priority(Kind::Escalated, Some(2)), "P1");
    }
}
