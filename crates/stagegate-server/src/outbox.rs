//! What each notifier sends for a notification, and sending it. Claiming,
//! retrying and recording outcomes is `dispatch`'s.

use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use serde_json::{Value, json};
use stagegate_spec::NotifierKind;
use stagegate_store::Notification;

use crate::snapshot::{Notifier, Snapshot};

/// How long one attempt may take, whatever the channel.
pub const TIMEOUT: Duration = Duration::from_secs(10);
const PAGERDUTY: &str = "https://events.pagerduty.com/v2/enqueue";

/// Delay before attempt `n + 1`: 5 s, 10 s, 20 s ... capped at one hour.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(20));
    Duration::from_secs(secs.min(3600))
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn header(name: &'static str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    Some((
        HeaderName::from_static(name),
        HeaderValue::from_str(value).ok()?,
    ))
}

/// The request a notifier makes for a notification.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: String,
}

/// The request a notifier makes for a notification.
pub fn request_for(n: &Notification, notifier: &Notifier) -> Result<Outgoing, String> {
    let payload: Value =
        serde_json::from_str(&n.payload).map_err(|e| format!("unreadable payload: {e}"))?;
    let text = format!(
        "[stagegate] {} {}/{}: {}",
        if n.event == "incident.resolved" {
            "resolved"
        } else {
            "incident"
        },
        payload["environment"].as_str().unwrap_or_default(),
        payload["check"].as_str().unwrap_or_default(),
        payload["message"].as_str().unwrap_or_default()
    );
    let json_type = header("content-type", "application/json");
    match notifier.kind {
        NotifierKind::Webhook => {
            let url = notifier.url.clone().ok_or("the webhook has no url")?;
            let mut headers: Vec<_> = [
                json_type,
                header("x-stagegate-event", &n.event),
                header("x-stagegate-delivery", &n.dedup_key),
            ]
            .into_iter()
            .flatten()
            .collect();
            if let Some(secret) = &notifier.secret {
                headers.extend(header(
                    "x-stagegate-signature",
                    &format!("sha256={}", hmac_hex(secret, n.payload.as_bytes())),
                ));
            }
            Ok(Outgoing {
                url,
                headers,
                body: n.payload.clone(),
            })
        }
        NotifierKind::Slack => {
            let url = notifier
                .url
                .clone()
                .ok_or("the Slack notifier has no url")?;
            Ok(Outgoing {
                url,
                headers: json_type.into_iter().collect(),
                body: json!({ "text": text }).to_string(),
            })
        }
        NotifierKind::Pagerduty => {
            let key = notifier
                .routing_key
                .clone()
                .ok_or("the PagerDuty notifier has no routing_key")?;
            let url = notifier.url.clone().unwrap_or_else(|| PAGERDUTY.to_owned());
            let incident = payload["incident"].as_i64().unwrap_or_default();
            let body = json!({
                "routing_key": key,
                "event_action": if n.event == "incident.resolved" { "resolve" } else { "trigger" },
                "dedup_key": format!("stagegate-incident-{incident}"),
                "payload": {
                    "summary": text,
                    "source": format!("{}/{}", payload["environment"].as_str().unwrap_or_default(), payload["check"].as_str().unwrap_or_default()),
                    "severity": "critical",
                    "custom_details": payload,
                },
            });
            Ok(Outgoing {
                url,
                headers: json_type.into_iter().collect(),
                body: body.to_string(),
            })
        }
        NotifierKind::Ntfy => {
            // ntfy: the body is the message, headers carry title, priority
            // and tags; `secret` is the access token, if the topic needs one.
            let url = notifier.url.clone().ok_or("the ntfy notifier has no url")?;
            let resolved = n.event == "incident.resolved";
            let title = format!(
                "{} {}/{}",
                if resolved { "Resolved:" } else { "Incident:" },
                payload["environment"].as_str().unwrap_or_default(),
                payload["check"].as_str().unwrap_or_default()
            );
            let mut headers: Vec<_> = [
                header("x-title", &title),
                header("x-priority", if resolved { "default" } else { "urgent" }),
                header(
                    "x-tags",
                    if resolved {
                        "white_check_mark"
                    } else {
                        "rotating_light"
                    },
                ),
            ]
            .into_iter()
            .flatten()
            .collect();
            if let Some(token) = &notifier.secret {
                headers.extend(header("authorization", &format!("Bearer {token}")));
            }
            Ok(Outgoing {
                url,
                headers,
                body: payload["message"].as_str().unwrap_or(&text).to_owned(),
            })
        }
        NotifierKind::Email => Err("an email notifier sends mail, not HTTP requests".to_owned()),
    }
}

/// Subject and plain-text body of the email for a notification.
pub fn email_for(n: &Notification) -> Result<(String, String), String> {
    let payload: Value =
        serde_json::from_str(&n.payload).map_err(|e| format!("unreadable payload: {e}"))?;
    let field = |k: &str| payload[k].as_str().unwrap_or_default().to_owned();
    let resolved = n.event == "incident.resolved";
    let subject = format!(
        "[stagegate] {} {}/{}: {}",
        if resolved { "Resolved:" } else { "Incident:" },
        field("environment"),
        field("check"),
        field("message")
    );
    let mut body = format!(
        "{}\n\nEnvironment: {}\nCheck:       {}\n",
        if resolved {
            "The incident is resolved: the check passes again."
        } else {
            "A monitoring check is failing and an incident is open."
        },
        field("environment"),
        field("check"),
    );
    if let Some(covers) = payload["covers"].as_str() {
        body.push_str(&format!("Covers:      {covers}\n"));
    }
    body.push_str(&format!(
        "Incident:    #{}\nStarted:     {}\n",
        payload["incident"].as_i64().unwrap_or_default(),
        field("started_at")
    ));
    if resolved {
        body.push_str(&format!("Resolved:    {}\n", field("resolved_at")));
    }
    body.push_str(&format!(
        "Message:     {}\n\n-- \nstagegate, event {}\n",
        field("message"),
        n.dedup_key
    ));
    Ok((subject, body))
}

async fn send_email(
    snapshot: &Snapshot,
    n: &Notification,
    notifier: &Notifier,
) -> Result<(), String> {
    let mailer = notifier
        .mailer
        .as_ref()
        .ok_or("the email notifier has no usable `smtp` and `from`")?;
    let to = snapshot
        .spec
        .contact(&n.contact)
        .and_then(|c| c.email.as_deref())
        .ok_or_else(|| format!("contact `{}` has no email address", n.contact))?;
    let (subject, body) = email_for(n)?;
    mailer.send(to, &subject, body).await
}

/// Sends one notification through its notifier: `Ok` once the receiver
/// accepted it, else why not.
pub async fn send(
    snapshot: &Snapshot,
    cx: &stagegate_probe::Context,
    n: &Notification,
) -> Result<(), String> {
    let Some(notifier) = snapshot.notifiers.get(&n.notifier) else {
        return Err(format!(
            "notifier `{}` is no longer in the spec",
            n.notifier
        ));
    };
    if notifier.kind == NotifierKind::Email {
        return send_email(snapshot, n, notifier).await;
    }
    let out = request_for(n, notifier)?;
    match stagegate_probe::request(
        cx,
        Method::POST,
        &out.url,
        out.headers,
        Some(out.body.into()),
        TIMEOUT,
    )
    .await
    {
        Ok((status, _)) if (200..300).contains(&status) => Ok(()),
        Ok((status, body)) => Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        )),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let secs: Vec<u64> = (1..=12).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(
            secs,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
    }

    fn notification(event: &str) -> Notification {
        Notification {
            id: 1,
            dedup_key: format!("incident-7/{event}/n/ops"),
            event: event.into(),
            notifier: "n".into(),
            contact: "ops".into(),
            payload: json!({ "event": event, "environment": "prod", "check": "api", "message": "HTTP 503", "incident": 7 }).to_string(),
            created_at: 0,
            attempts: 1,
            next_attempt_at: 0,
            delivered_at: None,
            last_error: None,
        }
    }

    fn notifier(kind: NotifierKind) -> Notifier {
        Notifier {
            id: "n".into(),
            kind,
            url: Some("http://127.0.0.1:1/x".into()),
            secret: Some("k".into()),
            routing_key: Some("R0UT1NG".into()),
            mailer: None,
        }
    }

    #[test]
    fn email_says_what_happened_where() {
        let (subject, body) = email_for(&notification("incident.opened")).expect("email");
        assert_eq!(subject, "[stagegate] Incident: prod/api: HTTP 503");
        assert!(
            body.contains("Environment: prod\nCheck:       api\n"),
            "{body}"
        );
        assert!(body.contains("Incident:    #7\n"), "{body}");
        assert!(!body.contains("Resolved:"), "{body}");
        let (subject, body) = email_for(&notification("incident.resolved")).expect("email");
        assert!(
            subject.starts_with("[stagegate] Resolved: prod/api"),
            "{subject}"
        );
        assert!(body.contains("Resolved:"), "{body}");
        assert!(
            request_for(
                &notification("incident.opened"),
                &notifier(NotifierKind::Email)
            )
            .is_err()
        );
    }

    fn header_value<'a>(out: &'a Outgoing, name: &str) -> Option<&'a str> {
        out.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.to_str().ok())
    }

    #[test]
    fn each_notifier_kind_builds_its_request() {
        let opened = notification("incident.opened");
        let hook = request_for(&opened, &notifier(NotifierKind::Webhook)).expect("webhook");
        assert_eq!(hook.body, opened.payload);
        assert_eq!(
            header_value(&hook, "x-stagegate-signature"),
            Some(format!("sha256={}", hmac_hex("k", opened.payload.as_bytes())).as_str())
        );
        assert_eq!(
            header_value(&hook, "x-stagegate-event"),
            Some("incident.opened")
        );

        let slack = request_for(&opened, &notifier(NotifierKind::Slack)).expect("slack");
        assert_eq!(
            serde_json::from_str::<Value>(&slack.body).expect("json")["text"],
            "[stagegate] incident prod/api: HTTP 503"
        );

        let pd = request_for(&opened, &notifier(NotifierKind::Pagerduty)).expect("pagerduty");
        let body: Value = serde_json::from_str(&pd.body).expect("json");
        assert_eq!(
            (
                body["event_action"].as_str(),
                body["dedup_key"].as_str(),
                body["routing_key"].as_str()
            ),
            (
                Some("trigger"),
                Some("stagegate-incident-7"),
                Some("R0UT1NG")
            )
        );
        let resolved = request_for(
            &notification("incident.resolved"),
            &notifier(NotifierKind::Pagerduty),
        )
        .expect("pagerduty");
        assert_eq!(
            serde_json::from_str::<Value>(&resolved.body).expect("json")["event_action"],
            "resolve"
        );
        let mut default_url = notifier(NotifierKind::Pagerduty);
        default_url.url = None;
        assert_eq!(
            request_for(&opened, &default_url).expect("pd").url,
            PAGERDUTY
        );

        let ntfy = request_for(&opened, &notifier(NotifierKind::Ntfy)).expect("ntfy");
        assert_eq!(ntfy.body, "HTTP 503");
        assert_eq!(header_value(&ntfy, "x-title"), Some("Incident: prod/api"));
        assert_eq!(header_value(&ntfy, "x-priority"), Some("urgent"));
        assert_eq!(header_value(&ntfy, "authorization"), Some("Bearer k"));

        assert!(request_for(&opened, &notifier(NotifierKind::Email)).is_err());
    }

    #[test]
    fn webhook_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
