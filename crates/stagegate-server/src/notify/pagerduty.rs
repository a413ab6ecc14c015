//! PagerDuty Events API v2: trigger on open, resolve on resolve, one alert
//! per incident (its dedup key).

use super::http::{self, Post};
use super::{Channel, Invalid, Message, Secret, Settings};

const EVENTS_API: &str = "https://events.pagerduty.com/v2/enqueue";

#[derive(Debug)]
pub struct PagerDuty {
    url: String,
    routing_key: Secret,
}

impl PagerDuty {
    pub fn new(s: Settings) -> Result<PagerDuty, Invalid> {
        Ok(PagerDuty {
            routing_key: Secret(s.routing_key.ok_or(Invalid {
                setting: "routing_key",
                problem: "a PagerDuty notifier needs a `routing_key`".to_owned(),
                expected: "expected the integration key of a PagerDuty service",
            })?),
            url: match s.url {
                Some(url) => super::http_url(url, "PagerDuty")?,
                None => EVENTS_API.to_owned(),
            },
        })
    }

    fn post(&self, m: &Message<'_>) -> Post {
        let f = &m.facts;
        let payload: serde_json::Value =
            serde_json::from_str(&m.notification.payload).unwrap_or_default();
        let body = serde_json::json!({
            "routing_key": &*self.routing_key,
            "event_action": if m.resolved() { "resolve" } else { "trigger" },
            "dedup_key": format!("stagegate-incident-{}", f.incident),
            "payload": {
                "summary": m.line(),
                "source": format!("{}/{}", f.environment, f.check),
                "severity": "critical",
                "custom_details": payload,
            },
        });
        Post {
            method: http::Method::POST,
            url: self.url.clone(),
            headers: http::json(),
            body: body.to_string(),
        }
    }
}

#[async_trait::async_trait]
impl Channel for PagerDuty {
    async fn send(&self, m: &Message<'_>, cx: &stagegate_probe::Context) -> Result<(), String> {
        http::send(self.post(m), cx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notification;

    fn body(pd: &PagerDuty, event: &str) -> serde_json::Value {
        let n = notification(event);
        serde_json::from_str(&pd.post(&Message::new(&n, None).expect("m")).body).expect("json")
    }

    #[test]
    fn trigger_then_resolve_the_same_alert() {
        let pd = PagerDuty::new(Settings {
            routing_key: Some("R0UT1NG".into()),
            ..Settings::default()
        })
        .expect("pd");
        assert_eq!(pd.url, EVENTS_API);
        let opened = body(&pd, "incident.opened");
        assert_eq!(
            (
                opened["event_action"].as_str(),
                opened["dedup_key"].as_str(),
                opened["routing_key"].as_str()
            ),
            (
                Some("trigger"),
                Some("stagegate-incident-7"),
                Some("R0UT1NG")
            )
        );
        assert_eq!(body(&pd, "incident.resolved")["event_action"], "resolve");
    }
}
