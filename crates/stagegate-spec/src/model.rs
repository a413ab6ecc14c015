//! The rollout spec as the rest of stagegate sees it: fully decoded, with
//! defaults applied, cross-references checked, and spans kept for findings.

use crate::decode::string_enum;
use crate::{Date, Deferred, Duration, Span, Spanned};

string_enum!(
    /// A rollout mode, from the guideline's "Rollout Modes".
    Mode, "mode" {
        Development = "development",
        Staging = "staging",
        SoftLaunch = "soft-launch",
        Production = "production",
    }
);

impl Mode {
    /// The mode an environment is promoted to next, if any.
    pub fn next(self) -> Option<Mode> {
        match self {
            Mode::Development => Some(Mode::Staging),
            Mode::Staging => Some(Mode::SoftLaunch),
            Mode::SoftLaunch => Some(Mode::Production),
            Mode::Production => None,
        }
    }

    /// How the mode is named in prose.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Development => "development",
            Mode::Staging => "staging",
            Mode::SoftLaunch => "soft launch",
            Mode::Production => "production",
        }
    }

    /// Who uses an environment in this mode when the spec does not say.
    pub fn default_audience(self) -> Audience {
        match self {
            Mode::Development | Mode::Staging => Audience::Internal,
            Mode::SoftLaunch => Audience::Limited,
            Mode::Production => Audience::Public,
        }
    }
}

string_enum!(
    /// Who uses the environment.
    Audience, "audience" {
        Internal = "internal",
        Limited = "limited",
        Public = "public",
    }
);

string_enum!(
    /// Who controls the environment.
    Controller, "controller" {
        DevTeam = "dev-team",
        Client = "client",
    }
);

string_enum!(
    /// What a server does.
    Role, "server role" {
        Core = "core",
        Database = "database",
        Cache = "cache",
        Queue = "queue",
        LoadBalancer = "load-balancer",
        Other = "other",
    }
);

string_enum!(
    /// Kinds of data the product handles; they imply frameworks.
    DataClass, "data class" {
        Personal = "personal",
        PaymentCard = "payment-card",
        Health = "health",
        Government = "government",
        Cui = "cui",
    }
);

string_enum!(
    /// Formal frameworks in force.
    Framework, "framework" {
        Gdpr = "gdpr",
        Ccpa = "ccpa",
        Hipaa = "hipaa",
        PciDss = "pci-dss",
        Fisma = "fisma",
        Nist800171 = "nist-800-171",
        Iso27001 = "iso-27001",
        Wcag = "wcag",
        Section508 = "section-508",
    }
);

string_enum!(
    /// How a notifier delivers.
    NotifierKind, "notifier type" {
        Webhook = "webhook",
        Slack = "slack",
        Email = "email",
        Pagerduty = "pagerduty",
        Ntfy = "ntfy",
    }
);

string_enum!(
    /// What a monitoring check probes.
    CheckKind, "check kind" {
        Http = "http",
        Tcp = "tcp",
        Tls = "tls",
        Dns = "dns",
        Postgres = "postgres",
        Mysql = "mysql",
        Redis = "redis",
        Heartbeat = "heartbeat",
        Restic = "restic",
        Prometheus = "prometheus",
        Ports = "ports",
    }
);

string_enum!(
    /// DNS record types a `dns` check can query.
    RecordType, "DNS record type" {
        A = "A",
        Aaaa = "AAAA",
        Cname = "CNAME",
        Mx = "MX",
        Txt = "TXT",
    }
);

string_enum!(
    /// Traffic that a site-to-site VPN carries.
    VpnScope, "site-to-site VPN scope" {
        Backup = "backup",
        Monitoring = "monitoring",
    }
);

string_enum!(
    /// Days of the week, for maintenance windows.
    Weekday, "weekday" {
        Mon = "mon",
        Tue = "tue",
        Wed = "wed",
        Thu = "thu",
        Fri = "fri",
        Sat = "sat",
        Sun = "sun",
    }
);

string_enum!(
    /// Backup tools whose repositories live checks can read.
    BackupSourceKind, "backup source kind" {
        Restic = "restic",
    }
);

string_enum!(
    /// The failure scenarios of the guideline, each wanting a runbook.
    Runbook, "runbook" {
        Unavailability = "unavailability",
        Failure = "failure",
        BackupRestore = "backup-restore",
        HardwareSwap = "hardware-swap",
        DataCorruption = "data-corruption",
        AttackMitigation = "attack-mitigation",
        SecurityBreach = "security-breach",
        /// HIPAA's emergency mode operation plan: how the critical business
        /// processes keep running, and data stays protected, during an outage.
        EmergencyMode = "emergency-mode",
    }
);

impl Runbook {
    /// The guideline's name for the scenario.
    pub fn title(self) -> &'static str {
        match self {
            Runbook::Unavailability => "System unavailability",
            Runbook::Failure => "System failure",
            Runbook::BackupRestore => "Backup restore",
            Runbook::HardwareSwap => "Hardware swap",
            Runbook::DataCorruption => "Data corruption",
            Runbook::AttackMitigation => "Attack mitigation",
            Runbook::SecurityBreach => "Security breach",
            Runbook::EmergencyMode => "Emergency mode operation",
        }
    }
}

string_enum!(
    /// The standard an accessibility audit measured against.
    AccessibilityStandard, "accessibility standard" {
        Wcag20Aa = "wcag-2.0-aa",
        Wcag21Aa = "wcag-2.1-aa",
        Wcag22Aa = "wcag-2.2-aa",
    }
);

/// A whole `stagegate.toml`.
#[derive(Debug, Clone)]
pub struct Spec {
    pub version: u32,
    pub product: Product,
    pub policy: Policy,
    pub contacts: Vec<Contact>,
    pub notifiers: Vec<Notifier>,
    pub environments: Vec<Environment>,
    pub waivers: Vec<Waiver>,
    /// Manual controls attested by a person, with evidence and an expiry.
    pub attestations: Vec<Attestation>,
    /// Files and folders of custom Rego rules, relative to the spec file.
    pub policies: Vec<Spanned<String>>,
}

impl Spec {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name.value == name)
    }

    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.id.value == id)
    }

    pub fn notifier(&self, id: &str) -> Option<&Notifier> {
        self.notifiers.iter().find(|n| n.id.value == id)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Product {
    pub name: Spanned<String>,
    pub owner: Option<String>,
    pub supporting_party: Option<String>,
    pub retains_user_data: bool,
    /// Percent, e.g. 99.9.
    pub availability_target: Option<Spanned<f64>>,
    pub rpo: Option<Spanned<Duration>>,
    pub rto: Option<Spanned<Duration>>,
    pub regions: Vec<Spanned<String>>,
    pub data_classes: Vec<Spanned<DataClass>>,
    pub frameworks: Vec<Spanned<Framework>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub cluster_required_at: f64,
    pub pentest_max_age: Duration,
    pub accessibility_audit_max_age: Duration,
    /// How long one custom policy may take to judge one environment.
    pub policy_timeout: Duration,
    /// Folders besides the spec's own that evidence files may live in.
    pub evidence_roots: Vec<Spanned<String>>,
    pub span: Option<Span>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            cluster_required_at: 99.9,
            pentest_max_age: Duration::from_secs(365 * 86_400),
            accessibility_audit_max_age: Duration::from_secs(365 * 86_400),
            policy_timeout: Duration::from_secs(2),
            evidence_roots: Vec::new(),
            span: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub on_call: bool,
    pub notify: Vec<Spanned<String>>,
    pub span: Span,
}

impl Contact {
    /// A contact is reachable when stagegate has a way to tell them.
    pub fn reachable(&self) -> bool {
        self.email.is_some() || !self.notify.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Notifier {
    pub id: Spanned<String>,
    pub kind: Spanned<NotifierKind>,
    /// Webhook, Slack or PagerDuty events endpoint.
    pub url: Option<Deferred>,
    /// HMAC-SHA256 key for webhook signatures.
    pub secret: Option<Deferred>,
    /// PagerDuty Events v2 routing key.
    pub routing_key: Option<Deferred>,
    /// SMTP server URL for email (`smtp://user:pass@host:587`).
    pub smtp: Option<Deferred>,
    /// Sender address for email.
    pub from: Option<Spanned<String>>,
    /// PEM file of an extra CA the SMTP server's certificate is checked
    /// against (a private mail relay), relative to the spec file.
    pub ca_file: Option<Spanned<String>>,
    pub span: Span,
}

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

#[derive(Debug, Clone)]
pub struct Monitoring {
    pub notify: Vec<Spanned<String>>,
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
    pub span: Span,
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

#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: Spanned<String>,
    pub environment: Spanned<String>,
    pub reason: String,
    pub expires: Spanned<Date>,
    pub approved_by: Option<String>,
    pub span: Span,
}

/// A person's statement that a control no rule can judge holds.
#[derive(Debug, Clone)]
pub struct Attestation {
    pub framework: Spanned<Framework>,
    pub control: Spanned<String>,
    /// The environment it is about; every environment when absent.
    pub environment: Option<Spanned<String>>,
    pub by: Spanned<String>,
    pub date: Spanned<Date>,
    /// The document that proves it, relative to the spec file.
    pub evidence: Spanned<String>,
    /// The last day it counts.
    pub valid_until: Spanned<Date>,
    pub note: Option<String>,
    pub span: Span,
}

impl Attestation {
    pub fn covers(&self, environment: &str) -> bool {
        self.environment
            .as_ref()
            .is_none_or(|e| e.value == environment)
    }
}
