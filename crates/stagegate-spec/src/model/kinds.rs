//! The closed sets of words a spec uses: modes, audiences, roles, kinds
//! of check and notifier, frameworks, runbook scenarios.

use crate::decode::string_enum;

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
    /// What the product is to PCI DSS: a merchant is not assessed on the
    /// requirements for service providers only.
    PciRole, "PCI DSS role" {
        Merchant = "merchant",
        ServiceProvider = "service-provider",
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
        Teams = "teams",
        Discord = "discord",
        Telegram = "telegram",
        GoogleChat = "google-chat",
        Mattermost = "mattermost",
        Matrix = "matrix",
        Opsgenie = "opsgenie",
        Pushover = "pushover",
        Gotify = "gotify",
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
    /// A day-to-day operations duty a person signals as done (a duty
    /// heartbeat): the guideline's "Processes and staff".
    Duty, "duty" {
        LogMonitoring = "log-monitoring",
        BackupMonitoring = "backup-monitoring",
        SecurityUpdates = "security-updates",
    }
);

impl Duty {
    /// How the duty is named in prose.
    pub fn label(self) -> &'static str {
        match self {
            Duty::LogMonitoring => "log monitoring",
            Duty::BackupMonitoring => "backup monitoring",
            Duty::SecurityUpdates => "security updates",
        }
    }
}

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
