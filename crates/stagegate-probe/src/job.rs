//! Jobs: what to probe and why (the subject a finding will cite).

use std::time::Duration;

use stagegate_spec::CheckKind;

use crate::{
    DatabaseTarget, DnsTarget, HttpTarget, PortsTarget, PrometheusTarget, RedisTarget,
    ResticTarget, TcpTarget, TlsTarget,
};

/// What a job's result is evidence about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A monitoring check of the environment.
    Check { name: String, kind: CheckKind },
    /// The backup's `source`: freshness and readability (SG-BACKUP-FRESH).
    BackupSource,
    /// A server's exposed ports (SG-SEC-EXPOSURE).
    Exposure { server: String, host: String },
}

impl Subject {
    pub fn describe(&self) -> String {
        match self {
            Subject::Check { name, kind } => format!("check {name} ({kind})"),
            Subject::BackupSource => "backup source".to_owned(),
            Subject::Exposure { server, host } => format!("server {server} ({host})"),
        }
    }
}

/// How to probe.
#[derive(Clone, Debug)]
pub enum Target {
    Http(Box<HttpTarget>),
    Tcp(TcpTarget),
    Tls(Box<TlsTarget>),
    Dns(Box<DnsTarget>),
    Database(DatabaseTarget),
    Redis(RedisTarget),
    Restic(ResticTarget),
    Prometheus(Box<PrometheusTarget>),
    Ports(PortsTarget),
    /// Cannot run here; the reason becomes the result.
    Skip(String),
}

#[derive(Clone, Debug)]
pub struct Job {
    pub environment: String,
    pub subject: Subject,
    /// Where it probes, as the spec writes it (variables unexpanded,
    /// passwords masked): what evidence names as its source, never a secret.
    pub source: String,
    pub target: Target,
    /// Deadline of one attempt.
    pub timeout: Duration,
    /// Further attempts after a failure.
    pub retries: u32,
}
