//! Monitoring: what an environment watches and how each check judges.

use super::*;
use crate::{Deferred, Duration, Span, Spanned};

#[derive(Debug, Clone)]
pub struct Monitoring {
    pub notify: Vec<Spanned<String>>,
    /// The escalation policy that pages instead of `notify`.
    pub escalation: Option<Spanned<String>>,
    pub checks: Vec<Check>,
    pub span: Span,
}

/// What a check watches: one of the guideline's components or a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Covers {
    Core,
    Database,
    Backup,
    Server(String),
}

impl Covers {
    pub fn parse(s: &str) -> Covers {
        match s {
            "core" => Covers::Core,
            "database" => Covers::Database,
            "backup" => Covers::Backup,
            other => Covers::Server(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Covers::Core => "core",
            Covers::Database => "database",
            Covers::Backup => "backup",
            Covers::Server(s) => s,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: Spanned<String>,
    pub covers: Option<Spanned<Covers>>,
    pub kind: Spanned<CheckKind>,
    pub interval: Duration,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub failure_threshold: Option<u32>,
    pub success_threshold: Option<u32>,
    pub quorum: Option<u32>,
    /// Checks of the same environment this one depends on: while one of
    /// them is down, this check's incident opens suppressed.
    pub depends_on: Vec<Spanned<String>>,
    // http
    pub url: Option<Deferred>,
    pub method: Option<String>,
    pub headers: Vec<(String, Deferred)>,
    pub body: Option<Deferred>,
    pub follow_redirects: Option<bool>,
    pub insecure: Option<bool>,
    pub ca_file: Option<String>,
    // tcp / tls / dns / ports
    pub host: Option<Deferred>,
    pub port: Option<u16>,
    pub record: Option<RecordType>,
    pub resolver: Option<Deferred>,
    // prometheus
    pub query: Option<Deferred>,
    pub targets_up: Option<bool>,
    // heartbeat
    pub token: Option<Deferred>,
    pub cron: Option<String>,
    pub timezone: Option<String>,
    pub grace: Option<Duration>,
    pub min_duration: Option<Duration>,
    pub max_duration: Option<Duration>,
    /// The operations duty this heartbeat says was done.
    pub duty: Option<Spanned<Duty>>,
    // restic
    pub repository: Option<Deferred>,
    pub password_env: Option<String>,
    pub read_data_subset: Option<String>,
    pub expect: Expect,
    pub span: Span,
}

/// Typed expectations of a check.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub status: Vec<u16>,
    pub latency_under: Option<Duration>,
    pub body_contains: Option<String>,
    /// JSON path (`$.a.b`, `$.items[0].id`) → expected value.
    pub json: Vec<(String, serde_json::Value)>,
    pub cert_valid_for: Option<Duration>,
    /// DNS answers, or the Prometheus query's expected value.
    pub values: Vec<String>,
}
