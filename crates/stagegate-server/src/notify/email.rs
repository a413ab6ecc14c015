//! Email notifications over SMTP, to the contact's address.
//!
//! The transport is built once per spec load, so a bad `smtp` URL, sender
//! or CA file is a spec error at start-up or reload, not a delivery that
//! fails at three in the morning. `smtp://` insists on STARTTLS: a server
//! that does not offer it gets no credentials and no message (a downgrade
//! would otherwise leak both).

use std::path::Path;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncTransport, Tokio1Executor};

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS; refused if not offered.
    StartTls,
    /// TLS from the first byte (`smtps://`, port 465).
    Tls,
    /// No encryption: only for a relay on the same host (`?tls=none`).
    None,
}

/// A parsed `smtp` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish_non_exhaustive()
    }
}

impl SmtpUrl {
    /// Parses `smtp://[user[:password]@]host[:port][?tls=none]` or
    /// `smtps://...`; user and password are percent-decoded.
    pub fn parse(text: &str) -> Result<SmtpUrl, String> {
        let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
        let (mut security, default_port) = match url.scheme() {
            "smtp" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            other => {
                return Err(format!(
                    "unsupported scheme `{other}`: expected `smtp` (STARTTLS) or `smtps` (TLS)"
                ));
            }
        };
        for (key, value) in url.query_pairs() {
            match (&*key, &*value) {
                ("tls", "none") if security == Security::StartTls => security = Security::None,
                ("tls", "starttls" | "required") if security == Security::StartTls => {}
                ("tls", other) => {
                    return Err(format!(
                        "unsupported `tls={other}`: expected `tls=none` (plain `smtp://` only) or no `tls` at all"
                    ));
                }
                (other, _) => {
                    return Err(format!(
                        "unknown URL parameter `{other}`: expected only `tls`"
                    ));
                }
            }
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err("the URL has no host".to_owned()),
        };
        let decode = |s: &str| {
            stagegate_spec::percent_decode(s)
                .ok_or_else(|| "the user or password is not valid UTF-8".to_owned())
        };
        let credentials = if url.username().is_empty() {
            None
        } else {
            Some((
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };
        Ok(SmtpUrl {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            credentials,
        })
    }
}

/// A ready-to-use email channel: transport and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// What went wrong building a mailer, by the spec key at fault.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("invalid `smtp` URL: {0}")]
    Smtp(String),
    #[error("invalid `from` address: {0}")]
    From(String),
    #[error("cannot use `ca_file` {path}: {reason}")]
    CaFile { path: String, reason: String },
}

/// The name this host gives in EHLO; receiving servers log it and some
/// reject the bare address literal.
fn hello_name() -> ClientId {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .map_or_else(ClientId::default, ClientId::Domain)
}

/// How long one delivery attempt may take, from connecting to the last
/// answer.
const ATTEMPT: Duration = Duration::from_secs(10);

impl Mailer {
    pub fn new(smtp: &str, from: &str, ca_file: Option<&Path>) -> Result<Mailer, MailerError> {
        let url = SmtpUrl::parse(smtp).map_err(MailerError::Smtp)?;
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailerError::From(e.to_string()))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&url.host)
            .port(url.port)
            .hello_name(hello_name())
            .timeout(Some(ATTEMPT));
        if url.security != Security::None {
            let mut params = TlsParameters::builder(url.host.clone());
            if let Some(path) = ca_file {
                let ca_error = |reason: String| MailerError::CaFile {
                    path: path.display().to_string(),
                    reason,
                };
                let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| ca_error(e.to_string()))?;
                params = params.add_root_certificate(cert);
            }
            let params = params
                .build_rustls()
                .map_err(|e| MailerError::Smtp(e.to_string()))?;
            builder = builder.tls(match url.security {
                Security::Tls => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }
        if let Some((user, password)) = url.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one plain-text message; the error says what the server said.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("invalid recipient address `{to}`: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("cannot build the message: {e}"))?;
        // The transport's timeout covers each command, not a server that
        // stalls mid-handshake: one attempt has ATTEMPT in all.
        match tokio::time::timeout(ATTEMPT, self.transport.send(message)).await {
            Ok(sent) => sent.map(drop).map_err(|e| format!("SMTP: {e}")),
            Err(_) => Err(format!("SMTP: no answer within {}s", ATTEMPT.as_secs())),
        }
    }
}

/// The email channel: a plain-text message to the contact's address.
#[derive(Debug)]
pub struct Email {
    mailer: Mailer,
}

impl Email {
    pub fn new(s: super::Settings) -> Result<Email, super::Invalid> {
        let smtp = s.smtp.ok_or(super::Invalid {
            setting: "smtp",
            problem: "an email notifier needs `smtp`".to_owned(),
            expected: "expected smtp://[user:password@]host[:port] (STARTTLS) or smtps://... (TLS)",
        })?;
        let from = s.from.ok_or(super::Invalid {
            setting: "from",
            problem: "an email notifier needs `from`".to_owned(),
            expected: "expected an address like `stagegate <alerts@example.com>`",
        })?;
        let mailer = Mailer::new(&smtp, &from, s.ca_file.as_deref()).map_err(|e| {
            let (setting, expected) = match &e {
                MailerError::Smtp(_) => (
                    "smtp",
                    "expected smtp://[user:password@]host[:port] (STARTTLS) or smtps://... (TLS)",
                ),
                MailerError::From(_) => (
                    "from",
                    "expected an address like `stagegate <alerts@example.com>`",
                ),
                MailerError::CaFile { .. } => ("ca_file", "expected a PEM file of CA certificates"),
            };
            super::Invalid {
                setting,
                problem: e.to_string(),
                expected,
            }
        })?;
        Ok(Email { mailer })
    }
}

/// Subject and plain-text body of the email for a message.
pub fn compose(m: &super::Message<'_>) -> (String, String) {
    let f = &m.facts;
    if m.kind() == super::Kind::Update {
        let mut body = format!("{}\n\n", f.message);
        for (label, value) in m.fields() {
            body.push_str(&format!("{label}: {value}\n"));
        }
        body.push_str(&format!(
            "\n-- \nA public status update, event {}\n",
            m.notification.dedup_key
        ));
        return (format!("[stagegate] {}", m.title()), body);
    }
    let resolved = m.resolved();
    let subject = format!(
        "[stagegate] {} {}/{}: {}",
        if resolved { "Resolved:" } else { "Incident:" },
        f.environment,
        f.check,
        f.message
    );
    let mut body = format!(
        "{}\n\nEnvironment: {}\nCheck:       {}\n",
        if resolved {
            "The incident is resolved: the check passes again."
        } else {
            "A monitoring check is failing and an incident is open."
        },
        f.environment,
        f.check,
    );
    if let Some(covers) = &f.covers {
        body.push_str(&format!("Covers:      {covers}\n"));
    }
    body.push_str(&format!(
        "Incident:    #{}\nStarted:     {}\n",
        f.incident, f.started_at
    ));
    if resolved {
        body.push_str(&format!(
            "Resolved:    {}\n",
            f.resolved_at.as_deref().unwrap_or_default()
        ));
    }
    body.push_str(&format!(
        "Message:     {}\n\n-- \nstagegate, event {}\n",
        f.message, m.notification.dedup_key
    ));
    (subject, body)
}

#[async_trait::async_trait]
impl super::Channel for Email {
    async fn send(
        &self,
        m: &super::Message<'_>,
        _cx: &stagegate_probe::Context,
    ) -> Result<(), String> {
        let to = m
            .email
            .ok_or_else(|| format!("contact `{}` has no email address", m.notification.contact))?;
        let (subject, body) = compose(m);
        self.mailer.send(to, &subject, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Message;
    use crate::notify::tests::notification;

    #[test]
    fn an_email_says_what_happened_where() {
        let n = notification("incident.opened");
        let (subject, body) = compose(&Message::new(&n, None).expect("m"));
        assert_eq!(subject, "[stagegate] Incident: prod/api: HTTP 503");
        assert!(
            body.contains("Environment: prod\nCheck:       api\n"),
            "{body}"
        );
        assert!(body.contains("Incident:    #7\n"), "{body}");
        assert!(!body.contains("Resolved:"), "{body}");
        let n = notification("incident.resolved");
        let (subject, body) = compose(&Message::new(&n, None).expect("m"));
        assert!(
            subject.starts_with("[stagegate] Resolved: prod/api"),
            "{subject}"
        );
        assert!(body.contains("Resolved:"), "{body}");
    }

    #[test]
    fn parses_smtp_urls() {
        let u =
            SmtpUrl::parse("smtp://alerts%40acme.example:p%3Ass@mail.acme.example").expect("url");
        assert_eq!(u.host, "mail.acme.example");
        assert_eq!(u.port, 587);
        assert_eq!(u.security, Security::StartTls);
        assert_eq!(
            u.credentials,
            Some(("alerts@acme.example".into(), "p:ss".into()))
        );
        let u = SmtpUrl::parse("smtps://mail:2465").expect("url");
        assert_eq!(
            (u.port, u.security, u.credentials),
            (2465, Security::Tls, None)
        );
        let u = SmtpUrl::parse("smtp://127.0.0.1:25?tls=none").expect("url");
        assert_eq!((u.host.as_str(), u.security), ("127.0.0.1", Security::None));
    }

    #[test]
    fn rejects_what_it_cannot_honour() {
        for (url, expected) in [
            ("http://mail", "unsupported scheme `http`"),
            ("smtps://mail?tls=none", "unsupported `tls=none`"),
            ("smtp://mail?starttls=1", "unknown URL parameter `starttls`"),
            ("smtp://", "no host"),
            ("mail.example:25", "unsupported scheme"),
        ] {
            let e = SmtpUrl::parse(url).expect_err(url);
            assert!(e.contains(expected), "{url}: {e}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let u = SmtpUrl::parse("smtp://u:hunter2@mail").expect("url");
        assert!(!format!("{u:?}").contains("hunter2"));
    }

    #[test]
    fn mailer_checks_sender_and_ca_file() {
        assert!(matches!(
            Mailer::new("smtp://mail", "not an address", None),
            Err(MailerError::From(_))
        ));
        assert!(matches!(
            Mailer::new(
                "smtp://mail",
                "a@b.example",
                Some(Path::new("/nonexistent.pem"))
            ),
            Err(MailerError::CaFile { .. })
        ));
        assert!(Mailer::new("smtp://mail", "stagegate <a@b.example>", None).is_ok());
    }
}
