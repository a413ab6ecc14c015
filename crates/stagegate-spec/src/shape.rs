//! The shape of every table a spec may hold: its keys, which of them are
//! required, what each holds and what it means. The decoder reads each
//! table through its shape (a key outside it is unknown, with the shape's
//! keys as the expected ones) and the JSON Schema is generated from the same
//! shapes, so the editor's completion and the loader cannot disagree. In
//! debug builds a table checks, when decoded, that the decoder asked for
//! exactly the shape's keys and required exactly the shape's required ones.

use crate::model::*;

/// The keys of one kind of table.
pub(crate) struct Shape {
    /// How messages name the table, e.g. "[product] table".
    pub what: &'static str,
    /// What one such table is, for the schema.
    pub doc: &'static str,
    pub fields: Fields,
}

pub(crate) enum Fields {
    Listed(&'static [Field]),
    /// One key per name, each holding the same kind of value; the doc says
    /// what one holds, with `{}` standing for the name.
    Each(&'static [&'static str], Ty, &'static str),
}

pub(crate) struct Field {
    pub key: &'static str,
    pub required: bool,
    pub ty: Ty,
    pub doc: &'static str,
}

/// What a key holds, as far as the schema is concerned (the decoder checks
/// more: ranges between fields, references, variables).
#[derive(Clone, Copy)]
pub(crate) enum Ty {
    Str,
    Bool,
    Duration,
    Date,
    /// A number above 0 and at most 100.
    Percent,
    Int {
        min: u32,
        max: Option<u32>,
    },
    Strings,
    Enum(&'static [&'static str]),
    Enums(&'static [&'static str]),
    Ints {
        min: u32,
        max: u32,
    },
    Table(&'static Shape),
    /// An array of tables (`[[key]]`).
    Tables(&'static Shape),
    /// A table of ids to tables (`[key.ID]`); `min` ids at least.
    Map(&'static Shape, u32),
    /// Anything else, described by a schema fragment of its own, with a
    /// valid TOML value as a sample (for the test that decodes every key).
    Schema(
        fn() -> serde_json::Value,
        #[cfg_attr(not(test), allow(dead_code))] &'static str,
    ),
}

impl Shape {
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        let (listed, each): (&[Field], &[&str]) = match &self.fields {
            Fields::Listed(f) => (f, &[]),
            Fields::Each(names, _, _) => (&[], names),
        };
        listed.iter().map(|f| f.key).chain(each.iter().copied())
    }

    /// The position of `key`, if the shape has it.
    pub fn index(&self, key: &str) -> Option<usize> {
        self.keys().position(|k| k == key)
    }

    #[cfg(debug_assertions)]
    pub fn is_required(&self, key: &str) -> bool {
        match &self.fields {
            Fields::Listed(f) => f.iter().any(|f| f.key == key && f.required),
            Fields::Each(..) => false,
        }
    }
}

const fn req(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        required: true,
        ty,
        doc,
    }
}

const fn opt(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        required: false,
        ty,
        doc,
    }
}

const fn shape(what: &'static str, doc: &'static str, fields: &'static [Field]) -> Shape {
    Shape {
        what,
        doc,
        fields: Fields::Listed(fields),
    }
}

const COUNT: Ty = Ty::Int { min: 0, max: None };
const POSITIVE: Ty = Ty::Int { min: 1, max: None };
const PORT: Ty = Ty::Int {
    min: 1,
    max: Some(65535),
};

pub(crate) static SPEC: Shape = shape(
    "spec",
    "A product's rollout: environments, their rollout modes, and what each has in place.",
    &[
        opt("version", Ty::Schema(version, "1"), "Spec format version."),
        req("product", Ty::Table(&PRODUCT), "The product."),
        opt("policy", Ty::Table(&POLICY), "Policy knobs."),
        opt("contacts", Ty::Map(&CONTACT, 0), "People and teams, by id."),
        opt(
            "notifiers",
            Ty::Map(&NOTIFIER, 0),
            "Notification channels, by id.",
        ),
        req(
            "environments",
            Ty::Map(&ENVIRONMENT, 1),
            "Environments, by name.",
        ),
        opt(
            "waivers",
            Ty::Tables(&WAIVER),
            "Time-limited exceptions to rules.",
        ),
        opt(
            "attestations",
            Ty::Tables(&ATTESTATION),
            "Manual controls attested by a person, with evidence and an expiry.",
        ),
        opt(
            "policies",
            Ty::Strings,
            "Files or folders of custom rules written in Rego (`.rego`), relative to the spec file.",
        ),
    ],
);

fn version() -> serde_json::Value {
    serde_json::json!({ "const": 1, "description": "Spec format version." })
}

pub(crate) static PRODUCT: Shape = shape(
    "[product] table",
    "The product.",
    &[
        req("name", Ty::Str, "Product name."),
        opt("owner", Ty::Str, "Business owner."),
        opt("supporting_party", Ty::Str, "Who operates the product."),
        opt(
            "retains_user_data",
            Ty::Bool,
            "User data must survive into the production launch.",
        ),
        opt(
            "availability_target",
            Ty::Percent,
            "Availability target in percent, e.g. 99.9.",
        ),
        opt(
            "rpo",
            Ty::Duration,
            "Recovery point objective: max tolerated data loss.",
        ),
        opt("rto", Ty::Duration, "Recovery time objective."),
        opt("regions", Ty::Strings, "Markets served."),
        opt(
            "data_classes",
            Ty::Enums(DataClass::NAMES),
            "Kinds of data handled.",
        ),
        opt(
            "frameworks",
            Ty::Enums(Framework::NAMES),
            "Formal frameworks in force.",
        ),
    ],
);

pub(crate) static POLICY: Shape = shape(
    "[policy] table",
    "Policy knobs.",
    &[
        opt(
            "cluster_required_at",
            Ty::Percent,
            "Availability target at or above which production needs a cluster (default 99.9).",
        ),
        opt(
            "pentest_max_age",
            Ty::Duration,
            "Maximum age of the latest pentest (default 365d).",
        ),
        opt(
            "accessibility_audit_max_age",
            Ty::Duration,
            "Maximum age of the latest accessibility audit (default 365d).",
        ),
        opt(
            "policy_timeout",
            Ty::Duration,
            "How long one custom Rego policy may take to judge one environment (default 2s).",
        ),
        opt(
            "evidence_roots",
            Ty::Strings,
            "Folders besides the spec's own that evidence files (runbooks, agreement, reports, attestation evidence, policies) may live in, relative to the spec.",
        ),
    ],
);

pub(crate) static CONTACT: Shape = shape(
    "contact",
    "A contact.",
    &[
        opt("name", Ty::Str, "Display name."),
        opt("email", Ty::Str, "Email address."),
        opt("phone", Ty::Str, "Phone number."),
        opt("on_call", Ty::Bool, "Takes on-call duty."),
        opt(
            "notify",
            Ty::Strings,
            "Notifier ids that reach this contact.",
        ),
    ],
);

pub(crate) static NOTIFIER: Shape = shape(
    "notifier",
    "A notifier.",
    &[
        req("type", Ty::Enum(NotifierKind::NAMES), "Channel type."),
        opt(
            "url",
            Ty::Str,
            "Webhook, Slack or PagerDuty endpoint. May use ${NAME}.",
        ),
        opt(
            "secret",
            Ty::Str,
            "Webhook HMAC-SHA256 secret. May use ${NAME}.",
        ),
        opt(
            "routing_key",
            Ty::Str,
            "PagerDuty Events v2 routing key. May use ${NAME}.",
        ),
        opt(
            "smtp",
            Ty::Str,
            "SMTP server URL for email: smtp://user:pass@host:587 (STARTTLS required), smtps://host:465 (TLS), ?tls=none for a relay on the same host. May use ${NAME}.",
        ),
        opt(
            "from",
            Ty::Str,
            "Sender address for email, e.g. \"stagegate <alerts@example.com>\".",
        ),
        opt(
            "ca_file",
            Ty::Str,
            "PEM file of an extra trusted CA for the SMTP server, relative to the spec.",
        ),
    ],
);

pub(crate) static WAIVER: Shape = shape(
    "waiver",
    "A waiver.",
    &[
        req("rule", Ty::Str, "Rule id, e.g. SG-SEC-PENTEST."),
        req("environment", Ty::Str, "Environment name."),
        req("reason", Ty::Str, "Why the gap is accepted."),
        req("expires", Ty::Date, "Last day the waiver applies."),
        opt("approved_by", Ty::Str, "Who approved it."),
    ],
);

pub(crate) static ATTESTATION: Shape = shape(
    "attestation",
    "An attestation.",
    &[
        req(
            "framework",
            Ty::Enum(Framework::NAMES),
            "Framework the control belongs to (must be in product.frameworks).",
        ),
        req(
            "control",
            Ty::Str,
            "Published control id, e.g. \"12.1.1\" or \"A.5.1\".",
        ),
        opt(
            "environment",
            Ty::Str,
            "Environment it is about (default: every environment).",
        ),
        req("by", Ty::Str, "Who attests."),
        req("date", Ty::Date, "When."),
        req("evidence", Ty::Str, "Path of the document that proves it."),
        req("valid_until", Ty::Date, "Last day it counts."),
        opt("note", Ty::Str, "Free text."),
    ],
);

pub(crate) static ENVIRONMENT: Shape = shape(
    "environment",
    "An environment and everything it runs on.",
    &[
        req(
            "mode",
            Ty::Enum(Mode::NAMES),
            "Rollout mode: which requirements apply.",
        ),
        opt(
            "audience",
            Ty::Enum(Audience::NAMES),
            "Who uses it (default: internal for development and staging, limited for soft launch, public for production).",
        ),
        opt(
            "controlled_by",
            Ty::Enum(Controller::NAMES),
            "Who controls it.",
        ),
        opt("description", Ty::Str, "Free text."),
        opt(
            "servers",
            Ty::Tables(&SERVER),
            "The servers of the environment.",
        ),
        opt("cluster", Ty::Table(&CLUSTER), "A fault-tolerant cluster."),
        opt("backup", Ty::Table(&BACKUP), "The backup system."),
        opt(
            "monitoring",
            Ty::Table(&MONITORING),
            "The monitoring system.",
        ),
        opt(
            "observability",
            Ty::Table(&OBSERVABILITY),
            "The observability platform.",
        ),
        opt("security", Ty::Table(&SECURITY), "Security measures."),
        opt(
            "pentest",
            Ty::Table(&PENTEST),
            "The latest penetration test.",
        ),
        opt(
            "accessibility_audit",
            Ty::Table(&ACCESSIBILITY_AUDIT),
            "The latest accessibility audit.",
        ),
        opt(
            "last_significant_change",
            Ty::Date,
            "When the environment last changed significantly (PCI DSS wants a pentest after it).",
        ),
        opt(
            "operations",
            Ty::Table(&OPERATIONS),
            "Day-to-day operations.",
        ),
        opt(
            "runbooks",
            Ty::Table(&RUNBOOKS),
            "Runbooks per failure scenario.",
        ),
        opt(
            "maintenance",
            Ty::Tables(&MAINTENANCE),
            "Recurring maintenance windows: notifications pause, results are kept.",
        ),
    ],
);

pub(crate) static SERVER: Shape = shape(
    "server",
    "A server.",
    &[
        req(
            "name",
            Ty::Str,
            "Unique server name within the environment.",
        ),
        opt(
            "roles",
            Ty::Enums(Role::NAMES),
            "What the server does (default [\"core\"]).",
        ),
        req(
            "location",
            Ty::Str,
            "Physical location (data centre). Equal strings are the same location.",
        ),
        opt("region", Ty::Str, "Product region the server serves."),
        opt("host", Ty::Str, "Host name for live checks."),
    ],
);

pub(crate) static CLUSTER: Shape = shape(
    "cluster table",
    "A fault-tolerant cluster.",
    &[req(
        "nodes",
        Ty::Strings,
        "Server names forming the cluster (at least 3 for a quorum).",
    )],
);

pub(crate) static BACKUP: Shape = shape(
    "backup table",
    "The backup system.",
    &[
        req(
            "location",
            Ty::Str,
            "Where snapshots live; must differ from every server location.",
        ),
        req(
            "interval",
            Ty::Duration,
            "Time between snapshots; at most product.rpo.",
        ),
        opt("encrypted", Ty::Bool, "Snapshots are encrypted."),
        opt("retention", Ty::Duration, "How long snapshots are kept."),
        opt(
            "covers",
            Ty::Strings,
            "Servers whose data is backed up (default: every database server).",
        ),
        opt(
            "source",
            Ty::Table(&BACKUP_SOURCE),
            "Where live checks read snapshots.",
        ),
        opt(
            "drill",
            Ty::Table(&DRILL),
            "A restore drill, run by `stagegate drill ENV`.",
        ),
    ],
);

pub(crate) static BACKUP_SOURCE: Shape = shape(
    "backup source",
    "Where live checks read snapshots.",
    &[
        req("kind", Ty::Enum(BackupSourceKind::NAMES), "Backup tool."),
        req(
            "repository",
            Ty::Str,
            "Repository location. May use ${NAME}.",
        ),
        req(
            "password_env",
            Ty::Str,
            "Name of the environment variable holding the password.",
        ),
        opt(
            "grace",
            Ty::Duration,
            "Extra age allowed beyond the interval.",
        ),
        opt(
            "read_data_subset",
            Ty::Str,
            "Integrity check sample, e.g. \"5%\".",
        ),
    ],
);

pub(crate) static DRILL: Shape = shape(
    "restore drill",
    "A restore drill, run by `stagegate drill ENV`.",
    &[
        req(
            "every",
            Ty::Duration,
            "How often the drill must succeed, e.g. \"90d\".",
        ),
        opt(
            "command",
            Ty::Str,
            "Shell command that restores and verifies (run in the spec's folder). Without it, the backup source is restored by restic into a scratch folder.",
        ),
        opt(
            "verify",
            Ty::Str,
            "Shell command run after the built-in restore; STAGEGATE_DRILL_DIR names the restored tree.",
        ),
        opt(
            "timeout",
            Ty::Duration,
            "Abandon (and fail) the drill after this long (default: twice product.rto, or 24h).",
        ),
    ],
);

pub(crate) static OBSERVABILITY: Shape = shape(
    "observability table",
    "The observability platform.",
    &[
        opt("metrics", Ty::Str, "Metrics endpoint."),
        opt("logs", Ty::Str, "Log platform."),
        opt("traces", Ty::Str, "Trace collector."),
        opt(
            "log_retention",
            Ty::Duration,
            "How long logs are kept, e.g. \"365d\".",
        ),
    ],
);

pub(crate) static SECURITY: Shape = shape(
    "security table",
    "Security measures.",
    &[
        opt("firewall", Ty::Bool, "A firewall protects the servers."),
        opt(
            "ops_vpn",
            Ty::Bool,
            "Operations/business teams connect through a VPN.",
        ),
        opt(
            "site_to_site_vpn",
            Ty::Enums(VpnScope::NAMES),
            "Traffic carried by site-to-site VPNs.",
        ),
        opt(
            "public_ports",
            Ty::Ints { min: 1, max: 65535 },
            "Ports meant to answer publicly.",
        ),
        opt(
            "encryption_in_transit",
            Ty::Bool,
            "Every connection carrying the product's data is encrypted (TLS).",
        ),
    ],
);

pub(crate) static PENTEST: Shape = shape(
    "pentest table",
    "The latest penetration test.",
    &[
        opt("vendor", Ty::Str, "Who performed it."),
        opt("external", Ty::Bool, "Performed by an external company."),
        opt(
            "internal",
            Ty::Bool,
            "Also covered the internal network (inside the perimeter).",
        ),
        req("date", Ty::Date, "When it was performed."),
        opt("report", Ty::Str, "Path of the report."),
        opt(
            "open_findings",
            Ty::Table(&OPEN_FINDINGS),
            "Findings still open.",
        ),
    ],
);

pub(crate) static OPEN_FINDINGS: Shape = shape(
    "open findings table",
    "Findings still open.",
    &[
        opt("critical", COUNT, "Open critical findings."),
        opt("high", COUNT, "Open high findings."),
        opt("medium", COUNT, "Open medium findings."),
        opt("low", COUNT, "Open low findings."),
    ],
);

pub(crate) static OPERATIONS: Shape = shape(
    "operations table",
    "Day-to-day operations.",
    &[
        opt(
            "log_monitoring",
            Ty::Str,
            "Contact id owning log monitoring.",
        ),
        opt(
            "backup_monitoring",
            Ty::Str,
            "Contact id owning backup monitoring.",
        ),
        opt(
            "security_updates",
            Ty::Str,
            "Contact id owning security updates.",
        ),
        opt(
            "agreement",
            Ty::Str,
            "Path of the agreement between supporting party and business owner.",
        ),
        opt(
            "log_review",
            Ty::Duration,
            "How often someone reviews the logs, e.g. \"1d\".",
        ),
    ],
);

pub(crate) static ACCESSIBILITY_AUDIT: Shape = shape(
    "accessibility audit table",
    "The latest accessibility audit.",
    &[
        opt("auditor", Ty::Str, "Who performed it."),
        req(
            "standard",
            Ty::Enum(AccessibilityStandard::NAMES),
            "Standard and level audited against.",
        ),
        req("date", Ty::Date, "When it was performed."),
        opt("report", Ty::Str, "Path of the report (e.g. an ACR/VPAT)."),
        opt(
            "open_issues",
            COUNT,
            "Failures of success criteria still open.",
        ),
    ],
);

pub(crate) static RUNBOOKS: Shape = Shape {
    what: "runbooks table",
    doc: "Runbooks per failure scenario.",
    fields: Fields::Each(
        Runbook::NAMES,
        Ty::Str,
        "Path of the {} runbook (Markdown).",
    ),
};

pub(crate) static MAINTENANCE: Shape = shape(
    "maintenance window",
    "A maintenance window.",
    &[
        req(
            "start",
            Ty::Schema(start_time, r#""02:30""#),
            "Local start time, HH:MM.",
        ),
        req("duration", Ty::Duration, "How long it lasts."),
        opt(
            "weekdays",
            Ty::Enums(Weekday::NAMES),
            "Days it starts on (default: every day).",
        ),
        opt(
            "timezone",
            Ty::Str,
            "IANA time zone of `start` (default UTC).",
        ),
    ],
);

fn start_time() -> serde_json::Value {
    serde_json::json!({
        "type": "string",
        "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
        "description": "Local start time, HH:MM.",
    })
}

pub(crate) static MONITORING: Shape = shape(
    "monitoring table",
    "The monitoring system.",
    &[
        opt(
            "notify",
            Ty::Strings,
            "Contact ids notified about incidents.",
        ),
        opt("checks", Ty::Tables(&CHECK), "Monitoring checks."),
    ],
);

/// Every key a check may have; which of them a kind accepts and requires is
/// `decode::check_keys`.
pub(crate) static CHECK: Shape = shape(
    "check",
    "A monitoring check.",
    &[
        req(
            "name",
            Ty::Str,
            "Unique name of the check within the environment.",
        ),
        req("kind", Ty::Enum(CheckKind::NAMES), "What the check probes."),
        opt(
            "covers",
            Ty::Str,
            "What the check watches: `core`, `database`, `backup`, or a server name.",
        ),
        opt(
            "interval",
            Ty::Duration,
            "Time between runs (default 60s); for heartbeats, the expected period.",
        ),
        opt("timeout", Ty::Duration, "Deadline of one probe."),
        opt(
            "retries",
            COUNT,
            "Retries within one run before it counts as failed.",
        ),
        opt(
            "failure_threshold",
            POSITIVE,
            "Consecutive failures that open an incident (default 3).",
        ),
        opt(
            "success_threshold",
            POSITIVE,
            "Consecutive successes that resolve it (default 2).",
        ),
        opt(
            "quorum",
            POSITIVE,
            "Locations that must agree before the check counts as down (cluster mode).",
        ),
        opt(
            "url",
            Ty::Str,
            "Target URL (http, postgres, mysql, redis, prometheus). May use ${NAME}.",
        ),
        opt("method", Ty::Str, "HTTP method (default GET)."),
        opt(
            "headers",
            Ty::Schema(headers, r#"{ Accept = "text/html" }"#),
            "HTTP request headers. Values may use ${NAME}.",
        ),
        opt("body", Ty::Str, "HTTP request body."),
        opt(
            "follow_redirects",
            Ty::Bool,
            "Follow HTTP redirects (default false).",
        ),
        opt(
            "insecure",
            Ty::Bool,
            "Skip certificate verification. Never in production.",
        ),
        opt("ca_file", Ty::Str, "PEM file of an extra trusted CA."),
        opt(
            "host",
            Ty::Str,
            "Host name to probe (tcp, tls, dns, ports).",
        ),
        opt("port", PORT, "TCP port."),
        opt(
            "record",
            Ty::Enum(RecordType::NAMES),
            "DNS record type to query.",
        ),
        opt(
            "resolver",
            Ty::Str,
            "DNS resolver address (default: the system's).",
        ),
        opt("query", Ty::Str, "PromQL instant query."),
        opt(
            "targets_up",
            Ty::Bool,
            "Prometheus: every monitored component has a target with up == 1.",
        ),
        opt(
            "token",
            Ty::Str,
            "Heartbeat ping token (`/ping/TOKEN`). Use ${NAME} to keep it out of the file.",
        ),
        opt(
            "cron",
            Ty::Str,
            "Heartbeat schedule as a cron expression, instead of `interval`.",
        ),
        opt(
            "timezone",
            Ty::Str,
            "Time zone of `cron` (IANA name, default UTC).",
        ),
        opt(
            "grace",
            Ty::Duration,
            "How late a heartbeat or snapshot may be before it counts as missing.",
        ),
        opt(
            "min_duration",
            Ty::Duration,
            "Heartbeat: a run shorter than this (start to success) is a failure.",
        ),
        opt(
            "max_duration",
            Ty::Duration,
            "Heartbeat: a run longer than this is a failure.",
        ),
        opt("repository", Ty::Str, "restic repository."),
        opt(
            "password_env",
            Ty::Str,
            "Name of the environment variable holding the repository password.",
        ),
        opt(
            "read_data_subset",
            Ty::Str,
            "restic integrity check: `check --read-data-subset` argument, e.g. \"5%\".",
        ),
        opt(
            "expect",
            Ty::Table(&EXPECT),
            "What a passing probe looks like.",
        ),
    ],
);

fn headers() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "additionalProperties": { "type": "string" },
        "description": "HTTP request headers. Values may use ${NAME}.",
    })
}

pub(crate) static EXPECT: Shape = shape(
    "expect table",
    "What a passing probe looks like.",
    &[
        opt(
            "status",
            Ty::Schema(status, "200"),
            "Accepted HTTP status code(s).",
        ),
        opt(
            "latency_under",
            Ty::Duration,
            "The probe must complete faster than this.",
        ),
        opt(
            "body_contains",
            Ty::Str,
            "Text the response body must contain.",
        ),
        opt(
            "json",
            Ty::Schema(json_paths, r#"{ "$.status" = "ok" }"#),
            "JSON path (`$.a.b`) → expected value.",
        ),
        opt(
            "cert_valid_for",
            Ty::Duration,
            "The certificate must stay valid at least this long.",
        ),
        opt(
            "values",
            Ty::Schema(values, r#""ok""#),
            "Expected DNS answers, or the Prometheus query's expected value.",
        ),
    ],
);

fn status() -> serde_json::Value {
    serde_json::json!({
        "description": "Accepted HTTP status code(s).",
        "oneOf": [
            { "type": "integer", "minimum": 100, "maximum": 599 },
            { "type": "array", "items": { "type": "integer", "minimum": 100, "maximum": 599 } }
        ]
    })
}

fn json_paths() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "description": "JSON path (`$.a.b`) → expected value.",
        "propertyNames": { "pattern": "^\\$" },
    })
}

fn values() -> serde_json::Value {
    serde_json::json!({
        "description": "Expected DNS answers, or the Prometheus query's expected value.",
        "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TOML value of type `ty` (inline), every table with every key.
    fn sample(ty: Ty) -> String {
        fn first(names: &[&str]) -> String {
            format!("{:?}", names[0])
        }
        match ty {
            Ty::Str => "\"x\"".to_owned(),
            Ty::Bool => "true".to_owned(),
            Ty::Duration => "\"1d\"".to_owned(),
            Ty::Date => "2026-01-01".to_owned(),
            Ty::Percent => "99.9".to_owned(),
            Ty::Int { min, .. } => min.to_string(),
            Ty::Strings => "[\"x\"]".to_owned(),
            Ty::Enum(names) => first(names),
            Ty::Enums(names) => format!("[{}]", first(names)),
            Ty::Ints { min, .. } => format!("[{min}]"),
            Ty::Table(s) => table(s),
            Ty::Tables(s) => format!("[{}]", table(s)),
            Ty::Map(s, _) => format!("{{ id = {} }}", table(s)),
            Ty::Schema(_, sample) => sample.to_owned(),
        }
    }

    fn table(shape: &Shape) -> String {
        let entries: Vec<String> = match &shape.fields {
            Fields::Listed(fields) => fields
                .iter()
                .map(|f| format!("{} = {}", f.key, sample(f.ty)))
                .collect(),
            Fields::Each(names, ty, _) => names
                .iter()
                .map(|n| format!("{n} = {}", sample(*ty)))
                .collect(),
        };
        format!("{{ {} }}", entries.join(", "))
    }

    /// A spec with every key of every table: decoding it checks (in
    /// `Table::finish`) that each decoder reads exactly its shape's keys.
    #[test]
    fn the_decoder_reads_every_shape_exactly() {
        let Fields::Listed(top) = &SPEC.fields else {
            unreachable!()
        };
        let text: String = top
            .iter()
            .map(|f| format!("{} = {}\n", f.key, sample(f.ty)))
            .collect();
        let source = crate::SourceFile::new("stagegate.toml", text);
        let opts = crate::LoadOptions {
            env: &|_| Some("x".to_owned()),
            known_rules: &[],
            known_controls: |_| &[],
        };
        let diags = crate::load(&source, &opts).err().unwrap_or_default();
        // Only problems between fields (a cron of one word, a cluster of
        // unknown servers): no key is unknown, missing or of the wrong type.
        for d in &diags {
            let m = &d.message;
            assert!(
                !m.starts_with("unknown key")
                    && !m.starts_with("missing required key `")
                    && !m.starts_with("wrong type"),
                "{m}"
            );
        }
    }

    #[test]
    fn every_key_is_listed_once() {
        for shape in [
            &SPEC,
            &PRODUCT,
            &POLICY,
            &CONTACT,
            &NOTIFIER,
            &WAIVER,
            &ATTESTATION,
            &ENVIRONMENT,
            &SERVER,
            &CLUSTER,
            &BACKUP,
            &BACKUP_SOURCE,
            &DRILL,
            &OBSERVABILITY,
            &SECURITY,
            &PENTEST,
            &OPEN_FINDINGS,
            &OPERATIONS,
            &ACCESSIBILITY_AUDIT,
            &RUNBOOKS,
            &MAINTENANCE,
            &MONITORING,
            &CHECK,
            &EXPECT,
        ] {
            let keys: Vec<&str> = shape.keys().collect();
            assert!(
                keys.len() <= 64,
                "{}: too many keys for the decoder's mask",
                shape.what
            );
            for (i, k) in keys.iter().enumerate() {
                assert!(!keys[..i].contains(k), "{}: `{k}` twice", shape.what);
            }
        }
    }
}
