//! Live probes: prove that what a spec claims is true.
//!
//! A [`Job`] is one probe of one subject (a monitoring check, a backup
//! repository, a server's exposed ports), built from the spec by [`plan`]
//! with its secrets resolved. [`run`] executes jobs with bounded concurrency
//! and a deadline each, and returns a [`ProbeResult`] per job: a verdict,
//! measured facts, phase timings and the error chain. Nothing here persists
//! results or knows about the command line; the server runs the same jobs.

mod connect;
mod database;
mod deadline;
mod dns;
pub mod drill;
mod engine;
mod evidence;
mod http;
mod job;
mod jsonpath;
mod plan;
mod ports;
mod prometheus;
mod redis;
mod restic;
mod result;
mod tcp;
mod tls;

pub use connect::Resolver;
pub use database::{DatabaseTarget, Engine as DatabaseEngine, mask_password};
pub use deadline::Deadline;
pub use dns::DnsTarget;
pub use engine::{RunOptions, run, run_one};
pub use evidence::{details, evidence, observation};
pub use http::{HttpExpect, HttpTarget, request};
pub use hyper::body::Bytes;
pub use job::{Job, Subject, Target};
pub use jsonpath::JsonPath;
pub use plan::{PlanOptions, exposure_ports, plan, public_ports};
pub use ports::{PortsTarget, SENSITIVE, service_name};
pub use prometheus::{Component, PrometheusCheck, PrometheusTarget};
pub use redis::RedisTarget;
pub use restic::ResticTarget;
pub use result::{Certificate, ProbeResult, ProbeStatus, Timings, format_ms};
pub use stagegate_spec::rfc3339;
pub use tcp::TcpTarget;
pub use tls::{TlsTarget, TlsTrust};

/// `stagegate/VERSION`, sent by every probe that speaks HTTP.
pub const USER_AGENT: &str = concat!("stagegate/", env!("CARGO_PKG_VERSION"));

/// What probes share: the resolver and the identity they announce.
#[derive(Clone, Debug)]
pub struct Context {
    pub resolver: Resolver,
    pub user_agent: String,
}

impl Context {
    /// The system resolver and `User-Agent: stagegate/VERSION`.
    pub fn system() -> Result<Self, connect::ConnectError> {
        Ok(Context {
            resolver: Resolver::system()?,
            user_agent: USER_AGENT.to_owned(),
        })
    }
}

pub use connect::ConnectError;

/// Adds the presented certificate's facts to a result.
pub(crate) fn certificate_facts(mut r: ProbeResult) -> ProbeResult {
    if let Some(c) = r.certificate.clone() {
        r = r
            .fact("cert_subject", &c.subject)
            .fact("cert_issuer", &c.issuer)
            .fact("cert_not_after", &c.not_after)
            .fact("cert_days_left", c.days_left)
            .fact("cert_trusted", c.verify_error.as_deref().unwrap_or("yes"));
    }
    r
}
