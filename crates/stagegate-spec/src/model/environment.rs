//! An environment: its servers, backup, cluster, observability, security,
//! pentest, operations, runbooks and maintenance windows.

use super::*;
use crate::{Date, Deferred, Duration, Span, Spanned};

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: Spanned<String>,
    pub mode: Spanned<Mode>,
    pub audience: Option<Spanned<Audience>>,
    pub controlled_by: Option<Spanned<Controller>>,
    pub description: Option<String>,
    pub servers: Vec<Server>,
    pub cluster: Option<Cluster>,
    pub backup: Option<Backup>,
    pub monitoring: Option<Monitoring>,
    pub observability: Option<Observability>,
    pub security: Option<Security>,
    pub pentest: Option<Pentest>,
    pub accessibility_audit: Option<AccessibilityAudit>,
    pub operations: Option<Operations>,
    pub runbooks: Option<Runbooks>,
    /// When the environment last changed significantly (new infrastructure,
    /// a major release); PCI DSS wants a penetration test after it.
    pub last_significant_change: Option<Spanned<Date>>,
    /// Planned maintenance: notifications pause, results are kept.
    pub maintenance: Vec<Maintenance>,
    /// `agent = true` or `[environments.NAME.agent]`: its servers run
    /// `stagegate agent`, and the agent rules judge their reports.
    pub agent: Option<AgentWatch>,
    /// `[environments.NAME.status_page]`: a public page, feed and badges.
    pub status_page: Option<StatusPage>,
    /// The `[environments.NAME]` header, or the key where the environment
    /// first appears.
    pub span: Span,
}

impl Environment {
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name.value == name)
    }

    pub fn servers_with(&self, role: Role) -> impl Iterator<Item = &Server> {
        self.servers.iter().filter(move |s| s.has_role(role))
    }
}

#[derive(Debug, Clone)]
pub struct Server {
    pub name: Spanned<String>,
    pub roles: Vec<Spanned<Role>>,
    pub location: Spanned<String>,
    pub region: Option<Spanned<String>>,
    pub host: Option<Deferred>,
    pub span: Span,
}

impl Server {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r.value == role)
    }
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub nodes: Vec<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Backup {
    pub location: Spanned<String>,
    pub interval: Spanned<Duration>,
    pub encrypted: Option<Spanned<bool>>,
    pub retention: Option<Spanned<Duration>>,
    /// `None` means the default: every server with role `database`.
    pub covers: Option<Spanned<Vec<Spanned<String>>>>,
    pub source: Option<BackupSource>,
    pub drill: Option<Drill>,
    pub span: Span,
}

/// A restore drill: proof that the backup can actually be restored, and how
/// long it takes, rehearsed on a schedule.
#[derive(Debug, Clone)]
pub struct Drill {
    /// How often the drill must succeed.
    pub every: Spanned<Duration>,
    /// A shell command that performs the whole restore; without it the
    /// built-in restic restore of the backup `source` runs.
    pub command: Option<Deferred>,
    /// A shell command run after the built-in restore to prove the data is
    /// usable (`STAGEGATE_DRILL_DIR` names the restored tree).
    pub verify: Option<Deferred>,
    /// The drill is abandoned (and fails) after this long.
    pub timeout: Option<Spanned<Duration>>,
    pub span: Span,
}

impl Backup {
    pub fn is_encrypted(&self) -> bool {
        self.encrypted.as_ref().is_some_and(|e| e.value)
    }
}

#[derive(Debug, Clone)]
pub struct BackupSource {
    pub kind: Spanned<BackupSourceKind>,
    pub repository: Deferred,
    /// Name of the environment variable holding the repository password.
    pub password_env: Spanned<String>,
    /// Extra age a snapshot may have beyond the backup interval.
    pub grace: Option<Spanned<Duration>>,
    /// `restic check --read-data-subset` argument, e.g. "5%".
    pub read_data_subset: Option<String>,
    pub span: Span,
}

/// A recurring maintenance window.
#[derive(Debug, Clone)]
pub struct Maintenance {
    /// Local start time, minutes after midnight.
    pub start_minute: u32,
    pub duration: Duration,
    /// Days it starts on; every day when empty.
    pub weekdays: Vec<Weekday>,
    /// IANA time zone of `start` (UTC when absent).
    pub timezone: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Observability {
    pub metrics: Option<String>,
    pub logs: Option<String>,
    pub traces: Option<String>,
    /// How long logs are kept.
    pub log_retention: Option<Spanned<Duration>>,
    pub span: Span,
}

impl Observability {
    pub fn is_configured(&self) -> bool {
        self.metrics.is_some() || self.logs.is_some() || self.traces.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Security {
    pub firewall: Option<Spanned<bool>>,
    pub ops_vpn: Option<Spanned<bool>>,
    pub site_to_site_vpn: Option<Spanned<Vec<Spanned<VpnScope>>>>,
    pub public_ports: Vec<Spanned<u16>>,
    /// Ports that may listen on a server but must not be reachable from
    /// outside (the firewall keeps them in).
    pub private_ports: Vec<Spanned<u16>>,
    /// Every connection carrying the product's data is encrypted (TLS).
    pub encryption_in_transit: Option<Spanned<bool>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Pentest {
    pub vendor: Option<String>,
    pub external: Option<Spanned<bool>>,
    /// The test also covered the internal network (inside the perimeter).
    pub internal: Option<Spanned<bool>>,
    pub date: Spanned<Date>,
    pub report: Option<Spanned<String>>,
    pub open_findings: OpenFindings,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct OpenFindings {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub span: Option<Span>,
}

#[derive(Debug, Clone)]
pub struct Operations {
    pub log_monitoring: Option<Spanned<String>>,
    pub backup_monitoring: Option<Spanned<String>>,
    pub security_updates: Option<Spanned<String>>,
    pub agreement: Option<Spanned<String>>,
    /// How often someone reviews the logs.
    pub log_review: Option<Spanned<Duration>>,
    /// The most error-level log lines an hour a server may write
    /// (SG-OPS-LOGS, from agent reports).
    pub log_errors_max_per_hour: Option<Spanned<u32>>,
    pub span: Span,
}

/// How the servers of an environment report through `stagegate agent`.
#[derive(Debug, Clone)]
pub struct AgentWatch {
    /// How often each server reports; one silent for twice this is late.
    pub interval: Duration,
    pub span: Span,
}

impl AgentWatch {
    /// The agent's default: a report an hour.
    pub fn default_interval() -> Duration {
        Duration::from_secs(3600)
    }
}

/// The latest accessibility audit of a user-facing environment.
#[derive(Debug, Clone)]
pub struct AccessibilityAudit {
    pub auditor: Option<String>,
    pub standard: Spanned<AccessibilityStandard>,
    pub date: Spanned<Date>,
    pub report: Option<Spanned<String>>,
    /// Failures of the standard's success criteria still open.
    pub open_issues: Option<Spanned<u32>>,
    /// Per-criterion results (axe-core JSON, or a CSV of criterion →
    /// result), so each success criterion rests on what was found for it.
    pub results: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Runbooks {
    pub entries: Vec<(Runbook, Spanned<String>)>,
    pub span: Span,
}

impl Runbooks {
    pub fn get(&self, which: Runbook) -> Option<&Spanned<String>> {
        self.entries
            .iter()
            .find(|(r, _)| *r == which)
            .map(|(_, p)| p)
    }
}
