//! Live evidence: what probes observed, as data the live rules judge. Built
//! by the probe engine's caller; rules only read it.

use std::collections::HashMap;

use serde::Serialize;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Observed {
    Pass,
    Fail,
    /// The probe could not run here (e.g. a heartbeat outside the server).
    Skip,
}

/// One probe's observation of one subject.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Observation {
    /// What was observed: "check api-health (http)", "server db-1 (10.0.0.5)".
    pub subject: String,
    pub status: Observed,
    pub summary: String,
    /// Measured values, phase timings and the error chain, in order.
    pub details: Vec<(String, String)>,
    /// Where it was observed: the probe target with credentials masked, or
    /// `node@location` for what a server saw.
    pub source: String,
    /// When, in Unix seconds.
    pub at: i64,
}

/// The certificate an https or tls check saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertificateObservation {
    pub check: String,
    pub host: String,
    /// `None` when the handshake did not get that far; the reason is given.
    pub presented: Option<PresentedCertificate>,
    pub unreachable: Option<String>,
    /// `expect.cert_valid_for` in whole days.
    pub min_days: Option<i64>,
    /// Where and when the handshake was made, as for [`Observation`].
    pub source: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PresentedCertificate {
    pub subject: String,
    pub not_after: String,
    pub days_left: i64,
    /// Why the chain does not verify for the host name, if it does not.
    pub verify_error: Option<String>,
}

/// A server's port scan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExposureObservation {
    pub server: String,
    pub observation: Observation,
    /// Ports that answered.
    pub open: Vec<u16>,
    /// Ports the scan tested: one of these that did not answer is closed
    /// or filtered from outside; any other port is unknown.
    pub tested: Vec<u16>,
}

/// What a host agent last reported of one server (SPEC.md §11), as the
/// server that received it keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentObservation {
    pub server: String,
    /// When the report was collected, Unix seconds.
    pub at: i64,
    /// Who received it: `node@location` of the stagegate server.
    pub source: String,
    pub firewall: Reading<AgentFirewall>,
    pub listening: Reading<Vec<AgentListener>>,
    pub ssh: Reading<AgentSsh>,
    pub updates: Reading<AgentUpdates>,
    pub logs: Reading<AgentLogs>,
}

/// What a collector read, or why it could not.
#[derive(Clone, Debug, PartialEq)]
pub enum Reading<T> {
    Read(T),
    Unavailable(String),
}

impl<T> Reading<T> {
    pub fn read(&self) -> Option<&T> {
        match self {
            Reading::Read(t) => Some(t),
            Reading::Unavailable(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentFirewall {
    pub backend: String,
    pub active: bool,
    /// `drop`, `reject` or `accept`.
    pub inbound_default: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentListener {
    pub proto: String,
    pub address: String,
    pub port: u16,
    pub process: Option<String>,
}

impl AgentListener {
    /// Whether only the host itself can reach it.
    pub fn loopback(&self) -> bool {
        self.address
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentSsh {
    /// The settings that allow a password login as sshd reports them
    /// (`PasswordAuthentication yes`, `KbdInteractiveAuthentication yes`);
    /// empty when none does.
    pub password_login: Vec<String>,
    pub permit_root_login: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentUpdates {
    pub manager: String,
    pub pending: u32,
    /// `None` where the package manager keeps no security records.
    pub security: Option<u32>,
    pub reboot_required: Option<bool>,
    /// Each pending security update (and a pending reboot) with when an
    /// agent first reported it, Unix seconds.
    pub pending_since: Vec<(String, i64)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentLogs {
    pub errors: u64,
    /// The window they were counted over, in seconds.
    pub window_secs: i64,
    /// The busiest units, busiest first.
    pub busiest: Vec<(String, u64)>,
}

/// Everything probes observed, by environment.
#[derive(Clone, Debug, Default)]
pub struct LiveEvidence {
    checks: HashMap<(String, String), Observation>,
    certificates: HashMap<String, Vec<CertificateObservation>>,
    backups: HashMap<String, Vec<Observation>>,
    exposure: HashMap<String, Vec<ExposureObservation>>,
    agents: HashMap<String, Vec<AgentObservation>>,
}

impl LiveEvidence {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_check(&mut self, env: &str, check: &str, o: Observation) {
        self.checks.insert((env.to_owned(), check.to_owned()), o);
    }

    pub fn add_certificate(&mut self, env: &str, c: CertificateObservation) {
        self.certificates.entry(env.to_owned()).or_default().push(c);
    }

    /// Backup freshness evidence: the backup's `source`, and `restic` checks.
    pub fn add_backup(&mut self, env: &str, o: Observation) {
        self.backups.entry(env.to_owned()).or_default().push(o);
    }

    /// Port scans: of servers with a `host`, and `ports` checks.
    pub fn add_exposure(&mut self, env: &str, e: ExposureObservation) {
        self.exposure.entry(env.to_owned()).or_default().push(e);
    }

    pub fn check(&self, env: &str, check: &str) -> Option<&Observation> {
        self.checks.get(&(env.to_owned(), check.to_owned()))
    }

    pub fn certificates(&self, env: &str) -> &[CertificateObservation] {
        self.certificates.get(env).map_or(&[], Vec::as_slice)
    }

    pub fn backups(&self, env: &str) -> &[Observation] {
        self.backups.get(env).map_or(&[], Vec::as_slice)
    }

    pub fn exposure(&self, env: &str) -> &[ExposureObservation] {
        self.exposure.get(env).map_or(&[], Vec::as_slice)
    }

    /// The latest agent report of a server of `env`.
    pub fn add_agent(&mut self, env: &str, a: AgentObservation) {
        self.agents.entry(env.to_owned()).or_default().push(a);
    }

    pub fn agents(&self, env: &str) -> &[AgentObservation] {
        self.agents.get(env).map_or(&[], Vec::as_slice)
    }
}
