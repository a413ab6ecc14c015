//! The shapes of an environment's tables (mirrors `decode/environment.rs`).

use super::{COUNT, Fields, MONITORING, Shape, Ty, opt, req, shape};
use crate::model::*;

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
            "status_page",
            Ty::Table(&STATUS_PAGE),
            "A public status page: components, 90-day uptime, incidents and their public updates.",
        ),
        opt(
            "maintenance",
            Ty::Tables(&MAINTENANCE),
            "Recurring maintenance windows: notifications pause, results are kept.",
        ),
        opt(
            "agent",
            Ty::Schema(agent, r#"{ interval = "1h" }"#),
            "Its servers run `stagegate agent`: `true`, or a table with the reporting `interval` (default 1h).",
        ),
    ],
);

pub(crate) static AGENT: Shape = shape(
    "agent table",
    "How the servers report through `stagegate agent`.",
    &[opt(
        "interval",
        Ty::Duration,
        "How often each server reports (default 1h); one silent for twice this is late.",
    )],
);

fn agent() -> serde_json::Value {
    serde_json::json!({
        "description": "Its servers run `stagegate agent`: `true`, or a table with the reporting `interval` (default 1h).",
        "oneOf": [
            { "type": "boolean" },
            {
                "type": "object",
                "properties": { "interval": { "type": "string", "description": "How often each server reports, e.g. \"1h\"." } },
                "additionalProperties": false
            }
        ]
    })
}

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
            "private_ports",
            Ty::Ints { min: 1, max: 65535 },
            "Ports that may listen on a server but must not answer from outside.",
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
        opt(
            "log_errors_max_per_hour",
            Ty::Int { min: 0, max: None },
            "The most error-level log lines an hour a server may write (judged from agent reports).",
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
        opt(
            "results",
            Ty::Str,
            "Path of per-criterion results: axe-core JSON (`.json`) or a CSV of `criterion,result[,note]` (`.csv`).",
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

pub(crate) static STATUS_PAGE: Shape = shape(
    "status page",
    "A public status page of the environment, served at /status/NAME without sign-in.",
    &[
        opt(
            "title",
            Ty::Str,
            "The page's heading (default: the product's name).",
        ),
        opt("description", Ty::Str, "A line under the heading."),
        req(
            "components",
            Ty::Tables(&PAGE_COMPONENT),
            "The rows of the page: named groups of checks.",
        ),
    ],
);

pub(crate) static PAGE_COMPONENT: Shape = shape(
    "status page component",
    "A component of a status page: down while any of its checks is down.",
    &[
        req("name", Ty::Str, "Its public name, e.g. \"Checkout\"."),
        opt(
            "description",
            Ty::Str,
            "A line about it, shown under its name.",
        ),
        req(
            "checks",
            Ty::Strings,
            "Names of this environment's monitoring checks it consists of.",
        ),
    ],
);

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
