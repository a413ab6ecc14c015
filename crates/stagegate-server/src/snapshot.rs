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
    /// Fed by the server itself (an agent's reports), never by `/ping`.
    pub internal: bool,
}

impl Heartbeat {
    pub fn key(&self) -> String {
        format!("{}/{}", self.environment, self.check)
    }

    /// The heartbeat that watches `server`'s agent in `environment`: late
    /// when no report came for twice the agent's interval, which opens an
    /// "agent silent" incident. Its check name cannot be a spec check's
    /// (`:` is not allowed there).
    pub fn agent(environment: &str, server: &str, interval: Duration) -> Heartbeat {
        Heartbeat {
            environment: environment.to_owned(),
            check: format!("{AGENT_PREFIX}{server}"),
            token: Heartbeat::agent_token(environment, server),
            schedule: Schedule::Every(interval),
            grace: interval,
            min_duration: None,
            max_duration: None,
            internal: true,
        }
    }

    /// The internal token an agent's reports are recorded under: a
    /// control character no spec token starts with (and no NUL, which
    /// PostgreSQL's text refuses).
    pub fn agent_token(environment: &str, server: &str) -> String {
        format!("\u{1f}agent/{environment}/{server}")
    }

    /// The server whose agent this heartbeat watches, if it watches one.
    pub fn agent_server(&self) -> Option<&str> {
        self.check
            .strip_prefix(AGENT_PREFIX)
            .filter(|_| self.internal)
    }
}

/// How an agent-watching heartbeat's check is named: `agent:SERVER`.
pub const AGENT_PREFIX: &str = "agent:";

/// A notifier, ready to send: its channel holds its resolved settings
/// (and never shows them).
#[derive(Clone, Debug)]
pub struct Notifier {
    pub id: String,
    pub kind: NotifierKind,
    /// Whether public status-page updates go through it.
    pub status_updates: bool,
    pub channel: std::sync::Arc<dyn crate::notify::Channel>,
}

#[derive(Debug)]
pub struct Snapshot {
    pub spec: Spec,
    pub source: SourceFile,
    pub files: FileFacts,
    /// The spec's custom rules, judged with the catalogue.
    pub custom: stagegate_rules::CustomRules,
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
    /// The store keys of every monitoring check, heartbeats included.
    pub keys: std::collections::HashSet<String>,
    /// The spec's path and hash (and git commit, when the loader knew it),
    /// for the provenance of every report the server renders.
    pub identity: stagegate_report::SpecIdentity,
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
                        internal: false,
                    }),
                    Err(d) => diags.push(d),
                }
            }
            if let Some(watch) = &env_spec.agent {
                for server in &env_spec.servers {
                    heartbeats.push(Heartbeat::agent(
                        &env_spec.name.value,
                        &server.name.value,
                        watch.interval.get(),
                    ));
                }
            }
        }
        let mut notifiers = HashMap::new();
        // A notifier nobody is reached through sends nothing: an unset
        // variable in it is worth a warning, not a refusal to start.
        let in_use: std::collections::HashSet<&str> = spec
            .contacts
            .iter()
            .flat_map(|c| &c.notify)
            .map(|n| n.value.as_str())
            .chain(
                spec.notifiers
                    .iter()
                    .filter(|n| n.status_updates)
                    .map(|n| n.id.value.as_str()),
            )
            .collect();
        for n in &spec.notifiers {
            let unused = !in_use.contains(n.id.value.as_str());
            let mut unset = Vec::new();
            let before = diags.len();
            let mut resolve = |d: &Option<stagegate_spec::Deferred>, url: bool| match d {
                Some(d) => match if url {
                    d.resolve_url(env)
                } else {
                    d.resolve(env)
                } {
                    Ok(v) => Some(v),
                    Err(e) if unused => {
                        unset.push(e.message.clone());
                        None
                    }
                    Err(e) => {
                        diags.push(e);
                        None
                    }
                },
                None => None,
            };
            let settings = crate::notify::Settings {
                url: resolve(&n.url, true),
                secret: resolve(&n.secret, false),
                routing_key: resolve(&n.routing_key, false),
                smtp: resolve(&n.smtp, true),
                from: n.from.as_ref().map(|f| f.value.clone()),
                ca_file: n.ca_file.as_ref().map(|c| base_dir.join(&c.value)),
                token: resolve(&n.token, false),
                chat_id: n.chat_id.as_ref().map(|c| c.value.clone()),
                room: n.room.as_ref().map(|r| r.value.clone()),
                user_key: resolve(&n.user_key, false),
            };
            if !unset.is_empty() {
                tracing::warn!(
                    notifier = %n.id.value,
                    problems = %unset.join("; "),
                    "notifier left out: no contact uses it and it cannot be built"
                );
                continue;
            }
            if diags.len() > before {
                // An unset variable is reported already.
                continue;
            }
            let channel = match crate::notify::build(n.kind.value, settings) {
                Ok(c) => c,
                Err(invalid) => {
                    let span = match invalid.setting {
                        "url" => n.url.as_ref().map(|d| d.span()),
                        "secret" => n.secret.as_ref().map(|d| d.span()),
                        "routing_key" => n.routing_key.as_ref().map(|d| d.span()),
                        "smtp" => n.smtp.as_ref().map(|d| d.span()),
                        "from" => n.from.as_ref().map(|f| f.span),
                        "ca_file" => n.ca_file.as_ref().map(|c| c.span),
                        "token" => n.token.as_ref().map(|d| d.span()),
                        "chat_id" => n.chat_id.as_ref().map(|c| c.span),
                        "room" => n.room.as_ref().map(|r| r.span),
                        "user_key" => n.user_key.as_ref().map(|d| d.span()),
                        _ => None,
                    }
                    .unwrap_or(n.span);
                    diags.push(Diagnostic::new(invalid.problem, span).note(invalid.expected));
                    continue;
                }
            };
            let notifier = Notifier {
                id: n.id.value.clone(),
                kind: n.kind.value,
                status_updates: n.status_updates,
                channel,
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
                identity: stagegate_report::SpecIdentity::of(&source),
                redactor: recorder.redactor(),
                evidence: stagegate_spec::EvidenceRoots::new(base_dir, &spec),
                keys: keys_of(&spec),
                maintenance,
                base_dir: base_dir.to_owned(),
                spec,
                source,
                files,
                custom: Default::default(),
                jobs,
                heartbeats,
                notifiers,
            })
        } else {
            Err(diags)
        }
    }

    /// The same snapshot judging `custom` rules too.
    pub fn with_custom(self, custom: stagegate_rules::CustomRules) -> Snapshot {
        Snapshot { custom, ..self }
    }

    /// The same snapshot with what the loader knew of the spec (git).
    pub fn with_identity(self, identity: stagegate_report::SpecIdentity) -> Snapshot {
        Snapshot { identity, ..self }
    }

    /// Where a report rendered now from this snapshot comes from.
    pub fn provenance(&self, generated_at: i64) -> stagegate_report::Provenance {
        stagegate_report::Provenance::new(self.identity.clone(), generated_at)
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
    pub fn check_keys(&self) -> &std::collections::HashSet<String> {
        &self.keys
    }

    pub fn heartbeat(&self, token: &str) -> Option<&Heartbeat> {
        self.heartbeats.iter().find(|h| h.token == token)
    }
}

/// Every check key of the spec, the agent heartbeats' included: a reload
/// closes the incidents of keys no longer here.
fn keys_of(spec: &Spec) -> std::collections::HashSet<String> {
    spec.environments
        .iter()
        .flat_map(|e| {
            let agents = e.agent.iter().flat_map(move |_| {
                e.servers.iter().map(move |s| {
                    check_key(&e.name.value, &format!("{AGENT_PREFIX}{}", s.name.value))
                })
            });
            e.monitoring
                .iter()
                .flat_map(|m| &m.checks)
                .map(|c| check_key(&e.name.value, &c.name.value))
                .chain(agents)
        })
        .collect()
}

/// `environment/check`: how the store names a check.
pub fn check_key(environment: &str, check: &str) -> String {
    format!("{environment}/{check}")
}
