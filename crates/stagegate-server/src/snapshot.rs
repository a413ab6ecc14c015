//! What the server runs from one version of the spec, with every secret it
//! needs resolved. A reload builds a new snapshot; a spec with errors never
//! replaces the running one.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use stagegate_probe::{Job, PlanOptions, Subject};
use stagegate_rules::FileFacts;
use stagegate_spec::{CheckKind, Diagnostic, EnvLookup, NotifierKind, SourceFile, Spec};

/// When a heartbeat's job is expected.
#[derive(Clone, Debug)]
pub enum Schedule {
    /// At least once per period.
    Every(Duration),
    /// At the times of a cron expression in a time zone.
    Cron {
        cron: stagegate_spec::Cron,
        tz: jiff::tz::TimeZone,
    },
}

/// A heartbeat check: pings arrive at `/ping/{token}`.
#[derive(Clone, Debug)]
pub struct Heartbeat {
    pub environment: String,
    pub check: String,
    pub token: String,
    pub schedule: Schedule,
    pub grace: Duration,
    pub min_duration: Option<Duration>,
    pub max_duration: Option<Duration>,
}

impl Heartbeat {
    pub fn key(&self) -> String {
        format!("{}/{}", self.environment, self.check)
    }
}

/// A notifier with its secrets resolved.
#[derive(Clone)]
pub struct Notifier {
    pub id: String,
    pub kind: NotifierKind,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub routing_key: Option<String>,
    /// The SMTP transport and sender of an email notifier.
    pub mailer: Option<crate::email::Mailer>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct Snapshot {
    pub spec: Spec,
    pub source: SourceFile,
    pub files: FileFacts,
    /// Probe jobs of monitoring checks (heartbeats excluded).
    pub jobs: Vec<Job>,
    pub heartbeats: Vec<Heartbeat>,
    pub notifiers: HashMap<String, Notifier>,
    /// Maintenance windows by environment, with their time zones.
    pub maintenance: HashMap<String, Vec<(stagegate_spec::Maintenance, jiff::tz::TimeZone)>>,
    /// Where the spec's relative paths (runbooks, CA files) start.
    pub base_dir: std::path::PathBuf,
    /// The values of the variables resolved for this snapshot.
    pub redactor: stagegate_spec::Redactor,
    /// The folders evidence files may be read from.
    pub evidence: stagegate_spec::EvidenceRoots,
}

impl Snapshot {
    /// Resolves everything the server needs from a loaded spec. Errors name
    /// the spec line of every unset variable.
    pub fn build(
        spec: Spec,
        source: SourceFile,
        base_dir: &Path,
        env: EnvLookup<'_>,
        files: FileFacts,
    ) -> Result<Snapshot, Vec<Diagnostic>> {
        // Every variable the server resolves is remembered, so its value
        // can be hidden wherever it comes back (probe messages, delivery
        // errors, logs).
        let recorder = stagegate_spec::Recorder::new(env);
        let recording = |name: &str| recorder.lookup(name);
        let env: EnvLookup<'_> = &recording;
        let mut diags = Vec::new();
        let opts = PlanOptions {
            env,
            base_dir,
            default_timeout: Duration::from_secs(10),
            restic: "restic",
        };
        let jobs: Vec<Job> = match stagegate_probe::plan(&spec, &[], opts) {
            Ok(jobs) => jobs
                .into_iter()
                .filter(|j| matches!(&j.subject, Subject::Check { kind, .. } if *kind != CheckKind::Heartbeat))
                .collect(),
            Err(d) => {
                diags.extend(d);
                Vec::new()
            }
        };
        let mut heartbeats = Vec::new();
        for env_spec in &spec.environments {
            for check in env_spec.monitoring.iter().flat_map(|m| &m.checks) {
                if check.kind.value != CheckKind::Heartbeat {
                    continue;
                }
                let Some(token) = check.token.as_ref() else {
                    continue;
                };
                let schedule = match &check.cron {
                    None => Schedule::Every(check.interval.get()),
                    Some(expr) => {
                        let zone = check.timezone.as_deref().unwrap_or("UTC");
                        match (
                            stagegate_spec::Cron::parse(expr),
                            jiff::tz::TimeZone::get(zone),
                        ) {
                            (Ok(cron), Ok(tz)) => Schedule::Cron { cron, tz },
                            (Err(e), _) => {
                                diags.push(
                                    Diagnostic::new(
                                        format!("invalid cron schedule: {e}"),
                                        check.span,
                                    )
                                    .label("in this check"),
                                );
                                continue;
                            }
                            (_, Err(_)) => {
                                diags.push(
                                    Diagnostic::new(format!("unknown time zone `{zone}`"), check.span)
                                        .label("in this check")
                                        .note("expected an IANA time zone name, e.g. \"Europe/Berlin\" or \"UTC\""),
                                );
                                continue;
                            }
                        }
                    }
                };
                match token.resolve(env) {
                    Ok(token) => heartbeats.push(Heartbeat {
                        environment: env_spec.name.value.clone(),
                        check: check.name.value.clone(),
                        token,
                        schedule,
                        grace: check
                            .grace
                            .as_ref()
                            .map_or(Duration::from_secs(3600), stagegate_spec::Duration::get),
                        min_duration: check
                            .min_duration
                            .as_ref()
                            .map(stagegate_spec::Duration::get),
                        max_duration: check
                            .max_duration
                            .as_ref()
                            .map(stagegate_spec::Duration::get),
                    }),
                    Err(d) => diags.push(d),
                }
            }
        }
        let mut notifiers = HashMap::new();
        for n in &spec.notifiers {
            let mut resolve = |d: &Option<stagegate_spec::Deferred>| match d {
                Some(d) => match d.resolve(env) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        diags.push(e);
                        None
                    }
                },
                None => None,
            };
            let url = resolve(&n.url);
            let secret = resolve(&n.secret);
            let routing_key = resolve(&n.routing_key);
            let smtp = resolve(&n.smtp);
            let mailer = match (&n.smtp, smtp, &n.from) {
                (Some(smtp_key), Some(smtp), Some(from)) => {
                    let ca_file = n.ca_file.as_ref().map(|c| base_dir.join(&c.value));
                    match crate::email::Mailer::new(&smtp, &from.value, ca_file.as_deref()) {
                        Ok(m) => Some(m),
                        Err(e) => {
                            use crate::email::MailerError as E;
                            let (span, expected) = match &e {
                                E::Smtp(_) => (
                                    smtp_key.span(),
                                    "expected smtp://[user:password@]host[:port] (STARTTLS) or smtps://... (TLS)",
                                ),
                                E::From(_) => (
                                    from.span,
                                    "expected an address like `stagegate <alerts@example.com>`",
                                ),
                                E::CaFile { .. } => (
                                    n.ca_file.as_ref().map_or(n.span, |c| c.span),
                                    "expected a PEM file of CA certificates",
                                ),
                            };
                            diags.push(Diagnostic::new(e.to_string(), span).note(expected));
                            None
                        }
                    }
                }
                _ => None,
            };
            let notifier = Notifier {
                id: n.id.value.clone(),
                kind: n.kind.value,
                url,
                secret,
                routing_key,
                mailer,
            };
            notifiers.insert(n.id.value.clone(), notifier);
        }
        for contact in &spec.contacts {
            let emailed = contact.notify.iter().any(|id| {
                notifiers
                    .get(&id.value)
                    .is_some_and(|n: &Notifier| n.kind == stagegate_spec::NotifierKind::Email)
            });
            if emailed && contact.email.is_none() {
                tracing::warn!(
                    contact = %contact.id.value,
                    "contact uses an email notifier but has no `email`; it gets no email"
                );
            }
        }
        let mut maintenance: HashMap<String, Vec<_>> = HashMap::new();
        for env_spec in &spec.environments {
            for m in &env_spec.maintenance {
                let zone = m.timezone.as_ref().map_or("UTC", |z| z.value.as_str());
                match jiff::tz::TimeZone::get(zone) {
                    Ok(tz) => maintenance
                        .entry(env_spec.name.value.clone())
                        .or_default()
                        .push((m.clone(), tz)),
                    Err(_) => diags.push(
                        Diagnostic::new(
                            format!("unknown time zone `{zone}`"),
                            m.timezone.as_ref().map_or(m.span, |z| z.span),
                        )
                        .label("not an IANA time zone")
                        .note("expected a name such as \"Europe/Berlin\" or \"UTC\""),
                    ),
                }
            }
        }
        if diags.is_empty() {
            Ok(Snapshot {
                redactor: recorder.redactor(),
                evidence: stagegate_spec::EvidenceRoots::new(base_dir, &spec),
                maintenance,
                base_dir: base_dir.to_owned(),
                spec,
                source,
                files,
                jobs,
                heartbeats,
                notifiers,
            })
        } else {
            Err(diags)
        }
    }

    /// Whether `environment` is in a maintenance window at `at`.
    pub fn in_maintenance(&self, environment: &str, at: stagegate_store::Millis) -> bool {
        self.maintenance.get(environment).is_some_and(|windows| {
            windows
                .iter()
                .any(|(m, tz)| crate::schedule::in_window(m, tz, at))
        })
    }

    /// `text` as it may be shown: resolved secrets back to their
    /// `${NAME}`, passwords written into URLs masked.
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        self.redactor.show(text)
    }

    /// The store keys of every monitoring check, heartbeats included.
    pub fn check_keys(&self) -> std::collections::HashSet<String> {
        self.spec
            .environments
            .iter()
            .flat_map(|e| {
                e.monitoring
                    .iter()
                    .flat_map(|m| &m.checks)
                    .map(|c| check_key(&e.name.value, &c.name.value))
            })
            .collect()
    }

    pub fn heartbeat(&self, token: &str) -> Option<&Heartbeat> {
        self.heartbeats.iter().find(|h| h.token == token)
    }
}

/// `environment/check`: how the store names a check.
pub fn check_key(environment: &str, check: &str) -> String {
    format!("{environment}/{check}")
}
