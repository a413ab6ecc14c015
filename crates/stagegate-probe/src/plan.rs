//! From spec to jobs: every monitoring check, every backup source and every
//! server with a host, with `${NAME}` secrets resolved. An unset variable a
//! job needs is a spec error pointing at the value that uses it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, Uri};
use stagegate_spec::{
    Check, CheckKind, Deferred, Diagnostic, EnvLookup, Environment, Mode, Spec, mask_userinfo,
};

use crate::database::{DatabaseTarget, Engine, mask_password};
use crate::job::{Job, Subject, Target};
use crate::jsonpath::JsonPath;
use crate::ports::{PortsTarget, SENSITIVE};
use crate::prometheus::{Component, PrometheusCheck, PrometheusTarget};
use crate::{
    DnsTarget, HttpExpect, HttpTarget, RedisTarget, Resolver, ResticTarget, TcpTarget, TlsTarget,
    TlsTrust,
};

#[derive(Clone, Copy)]
pub struct PlanOptions<'a> {
    pub env: EnvLookup<'a>,
    /// The spec's folder: relative paths (CA files) resolve against it.
    pub base_dir: &'a Path,
    /// Deadline of an attempt when the check sets no `timeout`.
    pub default_timeout: Duration,
    /// The restic binary.
    pub restic: &'a str,
}

impl std::fmt::Debug for PlanOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanOptions")
            .field("base_dir", &self.base_dir)
            .field("default_timeout", &self.default_timeout)
            .finish_non_exhaustive()
    }
}

struct Planner<'a> {
    opts: PlanOptions<'a>,
    diags: Vec<Diagnostic>,
    trust: HashMap<Option<PathBuf>, TlsTrust>,
}

/// Default grace for a snapshot: a quarter of the interval, at least 5 minutes.
fn default_grace(interval: Duration) -> Duration {
    (interval / 4).max(Duration::from_secs(300))
}

fn spell(d: Duration) -> String {
    stagegate_spec::Duration::from_secs(d.as_secs()).to_string()
}

impl Planner<'_> {
    fn resolve(&mut self, d: &Deferred) -> Option<String> {
        match d.resolve(self.opts.env) {
            Ok(v) => Some(v),
            Err(diag) => {
                self.diags.push(diag);
                None
            }
        }
    }

    /// A URL: variables in its userinfo, path and query are percent-encoded.
    fn resolve_url(&mut self, d: &Deferred) -> Option<String> {
        match d.resolve_url(self.opts.env) {
            Ok(v) => Some(v),
            Err(diag) => {
                self.diags.push(diag);
                None
            }
        }
    }

    fn resolve_opt(&mut self, d: Option<&Deferred>) -> Option<Option<String>> {
        match d {
            Some(d) => self.resolve(d).map(Some),
            None => Some(None),
        }
    }

    fn error(&mut self, message: String, span: stagegate_spec::Span, expected: &str) {
        self.diags.push(
            Diagnostic::new(message, span)
                .label("here")
                .note(expected.to_owned()),
        );
    }

    fn trust(&mut self, ca_file: Option<&str>, span: stagegate_spec::Span) -> Option<TlsTrust> {
        let path = ca_file.map(|p| self.opts.base_dir.join(p));
        if let Some(t) = self.trust.get(&path) {
            return Some(t.clone());
        }
        let built = match &path {
            None => TlsTrust::default_roots(),
            Some(p) => TlsTrust::new(Some(p)),
        };
        match built {
            Ok(t) => {
                self.trust.insert(path, t.clone());
                Some(t)
            }
            Err(e) => {
                let mut chain = vec![e.to_string()];
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    chain.push(s.to_string());
                    src = s.source();
                }
                self.error(
                    chain.join(": "),
                    span,
                    "expected `ca_file` to name a PEM file of CA certificates",
                );
                None
            }
        }
    }

    fn password(&mut self, var: &str, span: stagegate_spec::Span) -> Option<String> {
        match (self.opts.env)(var) {
            Some(p) => Some(p),
            None => {
                self.diags.push(
                    Diagnostic::new(format!("environment variable `{var}` is not set"), span)
                        .label("the repository password is read from it")
                        .note(
                            "set it to the restic repository password before running live checks",
                        ),
                );
                None
            }
        }
    }

    fn check(&mut self, env: &Environment, c: &Check) -> Option<Target> {
        let latency = c
            .expect
            .latency_under
            .as_ref()
            .map(stagegate_spec::Duration::get);
        let url_span = c.url.as_ref().map_or(c.span, Deferred::span);
        match c.kind.value {
            CheckKind::Http => {
                let raw = self.resolve_url(c.url.as_ref()?)?;
                // Messages quote the URL as written: `${NAME}` stays a name.
                let written = stagegate_spec::mask_userinfo(c.url.as_ref()?.raw()).into_owned();
                let url: Uri = match raw.parse() {
                    Ok(u) => u,
                    Err(e) => {
                        self.error(format!("`{written}` is not a valid URL: {e}"), url_span, "expected http://host[:port]/path or https://...");
                        return None;
                    }
                };
                if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
                    self.error(format!("`{written}` is not an http or https URL"), url_span, "expected http://host[:port]/path or https://...");
                    return None;
                }
                if url.port().is_some() && url.port_u16().is_none() {
                    self.error(format!("`{written}` has a port out of range"), url_span, "expected a port from 1 to 65535");
                    return None;
                }
                let method = match Method::from_bytes(c.method.as_deref().unwrap_or("GET").as_bytes()) {
                    Ok(m) => m,
                    Err(_) => {
                        self.error(format!("`{}` is not an HTTP method", c.method.as_deref().unwrap_or_default()), c.span, "expected GET, HEAD, POST, ...");
                        return None;
                    }
                };
                let mut headers = Vec::new();
                for (name, value) in &c.headers {
                    let value_text = self.resolve(value)?;
                    match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value_text)) {
                        (Ok(n), Ok(v)) => headers.push((n, v)),
                        _ => {
                            self.error(format!("invalid HTTP header `{name}`"), value.span(), "expected a header name and a printable value");
                            return None;
                        }
                    }
                }
                let body = self.resolve_opt(c.body.as_ref())?;
                let mut json = Vec::new();
                for (path, want) in &c.expect.json {
                    match JsonPath::parse(path) {
                        Ok(p) => json.push((p, want.clone())),
                        Err(e) => {
                            self.error(e.to_string(), c.span, "expected a path such as $.status or $.items[0].id");
                            return None;
                        }
                    }
                }
                let trust = self.trust(c.ca_file.as_deref(), c.span)?;
                Some(Target::Http(Box::new(HttpTarget {
                    url,
                    method,
                    headers,
                    body: body.map(Into::into),
                    follow_redirects: c.follow_redirects.unwrap_or(false),
                    insecure: c.insecure.unwrap_or(false),
                    trust,
                    expect: HttpExpect {
                        status: c.expect.status.clone(),
                        latency_under: latency,
                        body_contains: c.expect.body_contains.clone(),
                        json,
                        cert_valid_for: c.expect.cert_valid_for.as_ref().map(stagegate_spec::Duration::get),
                    },
                })))
            }
            CheckKind::Tcp => Some(Target::Tcp(TcpTarget {
                host: self.resolve(c.host.as_ref()?)?,
                port: c.port?,
                latency_under: latency,
            })),
            CheckKind::Tls => {
                let host = self.resolve(c.host.as_ref()?)?;
                let trust = self.trust(c.ca_file.as_deref(), c.span)?;
                Some(Target::Tls(Box::new(TlsTarget {
                    host,
                    port: c.port.unwrap_or(443),
                    insecure: c.insecure.unwrap_or(false),
                    trust,
                    cert_valid_for: c.expect.cert_valid_for.as_ref().map(stagegate_spec::Duration::get),
                    latency_under: latency,
                })))
            }
            CheckKind::Dns => {
                let name = self.resolve(c.host.as_ref()?)?;
                let resolver = match c.resolver.as_ref() {
                    None => None,
                    Some(r) => {
                        let text = self.resolve(r)?;
                        let addr = text
                            .parse::<SocketAddr>()
                            .or_else(|_| text.parse::<std::net::IpAddr>().map(|ip| SocketAddr::new(ip, 53)));
                        match addr.ok().map(Resolver::at) {
                            Some(Ok(res)) => Some(res),
                            _ => {
                                self.error(format!("`{text}` is not a resolver address"), r.span(), "expected IP or IP:port, e.g. 9.9.9.9 or 127.0.0.1:5353");
                                return None;
                            }
                        }
                    }
                };
                Some(Target::Dns(Box::new(DnsTarget {
                    name,
                    record: c.record?,
                    resolver,
                    expect: c.expect.values.clone(),
                    latency_under: latency,
                })))
            }
            CheckKind::Postgres | CheckKind::Mysql => {
                let url = self.resolve_url(c.url.as_ref()?)?;
                Some(Target::Database(DatabaseTarget {
                    engine: if c.kind.value == CheckKind::Postgres { Engine::Postgres } else { Engine::Mysql },
                    shown: mask_password(&url),
                    url,
                    latency_under: latency,
                }))
            }
            CheckKind::Redis => {
                let url = self.resolve_url(c.url.as_ref()?)?;
                match RedisTarget::parse(&url, latency) {
                    Ok(t) => Some(Target::Redis(t)),
                    Err(e) => {
                        let written = stagegate_spec::mask_userinfo(c.url.as_ref()?.raw()).into_owned();
                        self.error(format!("`{written}` is not a Redis URL"), url_span, &e.to_string());
                        None
                    }
                }
            }
            CheckKind::Heartbeat => Some(Target::Skip(
                "heartbeats are pings that `stagegate serve` receives; a one-off check cannot wait for one".to_owned(),
            )),
            CheckKind::Restic => {
                let repository = self.resolve(c.repository.as_ref()?)?;
                let var = c.password_env.clone()?;
                let password = self.password(&var, c.span)?;
                let (interval, whose) = match &env.backup {
                    Some(b) => (b.interval.value.get(), format!("backup interval {}", b.interval.value)),
                    None => (c.interval.get(), format!("check interval {}", c.interval)),
                };
                let grace = c.grace.as_ref().map_or_else(|| default_grace(interval), stagegate_spec::Duration::get);
                Some(Target::Restic(ResticTarget {
                    repository,
                    password,
                    password_env: var,
                    max_age: interval + grace,
                    max_age_reason: format!("{whose} + grace {}", spell(grace)),
                    read_data_subset: c.read_data_subset.clone(),
                    binary: self.opts.restic.to_owned(),
                }))
            }
            CheckKind::Prometheus => {
                let base = self.resolve_url(c.url.as_ref()?)?;
                let trust = self.trust(c.ca_file.as_deref(), c.span)?;
                let check = match (c.query.as_ref(), c.targets_up) {
                    (Some(q), _) => PrometheusCheck::Query {
                        query: self.resolve(q)?,
                        expect: c.expect.values.clone(),
                    },
                    (None, _) => PrometheusCheck::TargetsUp(components(env)),
                };
                Some(Target::Prometheus(Box::new(PrometheusTarget { base, check, trust })))
            }
            CheckKind::Ports => Some(Target::Ports(PortsTarget {
                host: self.resolve(c.host.as_ref()?)?,
                public: public_ports(env),
                sensitive: exposure_ports(env),
                require_public: true,
            })),
        }
    }
}

/// The ports a scan of `env`'s servers tests beyond the public ones: the
/// well-known sensitive services and the declared private ports, which
/// may listen but must not answer from outside.
pub fn exposure_ports(env: &Environment) -> Vec<u16> {
    let mut ports: Vec<u16> = SENSITIVE.iter().map(|(p, _)| *p).collect();
    if let Some(s) = &env.security {
        ports.extend(s.private_ports.iter().map(|p| p.value));
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

pub fn public_ports(env: &Environment) -> Vec<u16> {
    env.security
        .as_ref()
        .map(|s| s.public_ports.iter().map(|p| p.value).collect())
        .unwrap_or_default()
}

/// The components a `targets_up` Prometheus check looks for: every server,
/// and the backup system when there is one.
fn components(env: &Environment) -> Vec<Component> {
    let mut out: Vec<Component> = env
        .servers
        .iter()
        .map(|s| Component::Server {
            name: s.name.value.clone(),
            host: s.host.as_ref().map(|h| h.raw().to_owned()),
        })
        .collect();
    if env.backup.is_some() {
        out.push(Component::Backup);
    }
    out
}

/// Where a check probes, as the spec writes it: its URL (password masked,
/// variables as `${NAME}`), else `host:port`, else its repository; a
/// heartbeat is probed by whoever pings it.
fn check_source(check: &Check) -> String {
    if let Some(url) = &check.url {
        return mask_userinfo(url.raw()).into_owned();
    }
    if let Some(host) = &check.host {
        return match check.port {
            Some(port) => format!("{}:{port}", host.raw()),
            None => host.raw().to_owned(),
        };
    }
    if let Some(repository) = &check.repository {
        return mask_userinfo(repository.raw()).into_owned();
    }
    format!("{} check {}", check.kind.value, check.name.value)
}

/// The jobs that prove `envs` (every environment when empty) live.
pub fn plan(
    spec: &Spec,
    envs: &[&str],
    opts: PlanOptions<'_>,
) -> Result<Vec<Job>, Vec<Diagnostic>> {
    let mut p = Planner {
        opts,
        diags: Vec::new(),
        trust: HashMap::new(),
    };
    let mut jobs = Vec::new();
    for env in spec
        .environments
        .iter()
        .filter(|e| envs.is_empty() || envs.contains(&e.name.value.as_str()))
    {
        let name = env.name.value.clone();
        for check in env.monitoring.iter().flat_map(|m| &m.checks) {
            if let Some(target) = p.check(env, check) {
                jobs.push(Job {
                    environment: name.clone(),
                    subject: Subject::Check {
                        name: check.name.value.clone(),
                        kind: check.kind.value,
                    },
                    source: check_source(check),
                    target,
                    timeout: check
                        .timeout
                        .as_ref()
                        .map_or(opts.default_timeout, stagegate_spec::Duration::get),
                    retries: check.retries.unwrap_or(0),
                });
            }
        }
        if let Some(backup) = &env.backup
            && let Some(source) = &backup.source
        {
            let repository = p.resolve(&source.repository);
            let password = p.password(&source.password_env.value, source.password_env.span);
            if let (Some(repository), Some(password)) = (repository, password) {
                let interval = backup.interval.value.get();
                let grace = source
                    .grace
                    .as_ref()
                    .map_or_else(|| default_grace(interval), |g| g.value.get());
                jobs.push(Job {
                    environment: name.clone(),
                    subject: Subject::BackupSource,
                    source: mask_userinfo(source.repository.raw()).into_owned(),
                    target: Target::Restic(ResticTarget {
                        repository,
                        password,
                        password_env: source.password_env.value.clone(),
                        max_age: interval + grace,
                        max_age_reason: format!(
                            "backup interval {} + grace {}",
                            backup.interval.value,
                            spell(grace)
                        ),
                        read_data_subset: source.read_data_subset.clone(),
                        binary: opts.restic.to_owned(),
                    }),
                    timeout: opts.default_timeout.max(Duration::from_secs(60)),
                    retries: 0,
                });
            }
        }
        if matches!(env.mode.value, Mode::SoftLaunch | Mode::Production) {
            for server in &env.servers {
                let Some(host) = server.host.as_ref() else {
                    continue;
                };
                let Some(host) = p.resolve(host) else {
                    continue;
                };
                jobs.push(Job {
                    environment: name.clone(),
                    subject: Subject::Exposure {
                        server: server.name.value.clone(),
                        host: host.clone(),
                    },
                    source: server
                        .host
                        .as_ref()
                        .map_or_else(String::new, |h| h.raw().to_owned()),
                    target: Target::Ports(PortsTarget {
                        host,
                        public: public_ports(env),
                        sensitive: exposure_ports(env),
                        require_public: false,
                    }),
                    timeout: opts.default_timeout,
                    retries: 0,
                });
            }
        }
    }
    if p.diags.is_empty() {
        Ok(jobs)
    } else {
        Err(p.diags)
    }
}
