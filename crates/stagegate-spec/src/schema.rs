//! The JSON Schema of `stagegate.toml`, for editors (Taplo / Even Better
//! TOML) to complete and validate specs. Enumerations and per-kind check keys
//! come from the same tables the loader uses, so the two cannot drift.

use serde_json::{Map, Value, json};

use crate::decode::{CHECK_COMMON, check_keys};
use crate::model::*;

const DURATION_UNITS: &str = "nsec|ns|usec|us|msec|ms|seconds|second|sec|s|minutes|minute|min|m|hours|hour|hr|h|days|day|d|weeks|week|w|months|month|M|years|year|y";

fn duration(description: &str) -> Value {
    json!({
        "type": "string",
        "description": description,
        "pattern": format!("^\\s*[0-9]+\\s*({DURATION_UNITS})(\\s*[0-9]+\\s*({DURATION_UNITS}))*\\s*$"),
        "examples": ["30s", "15m", "4h", "365d"],
    })
}

fn date(description: &str) -> Value {
    json!({ "type": "string", "format": "date", "description": description })
}

fn string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn boolean(description: &str) -> Value {
    json!({ "type": "boolean", "description": description })
}

fn strings(description: &str) -> Value {
    json!({ "type": "array", "items": { "type": "string" }, "description": description })
}

fn one_of(names: &[&str], description: &str) -> Value {
    json!({ "type": "string", "enum": names, "description": description })
}

fn object(description: &str, required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "description": description,
        "required": required,
        "additionalProperties": false,
        "properties": properties,
    })
}

fn percent(description: &str) -> Value {
    json!({ "type": "number", "exclusiveMinimum": 0, "maximum": 100, "description": description })
}

fn check() -> Value {
    let properties = json!({
        "name": string("Unique name of the check within the environment."),
        "covers": string("What the check watches: `core`, `database`, `backup`, or a server name."),
        "kind": one_of(CheckKind::NAMES, "What the check probes."),
        "interval": duration("Time between runs (default 60s); for heartbeats, the expected period."),
        "timeout": duration("Deadline of one probe."),
        "retries": { "type": "integer", "minimum": 0, "description": "Retries within one run before it counts as failed." },
        "failure_threshold": { "type": "integer", "minimum": 1, "description": "Consecutive failures that open an incident (default 3)." },
        "success_threshold": { "type": "integer", "minimum": 1, "description": "Consecutive successes that resolve it (default 2)." },
        "quorum": { "type": "integer", "minimum": 1, "description": "Locations that must agree before the check counts as down (cluster mode)." },
        "url": string("Target URL (http, postgres, mysql, redis, prometheus). May use ${NAME}."),
        "method": string("HTTP method (default GET)."),
        "headers": { "type": "object", "additionalProperties": { "type": "string" }, "description": "HTTP request headers. Values may use ${NAME}." },
        "body": string("HTTP request body."),
        "follow_redirects": boolean("Follow HTTP redirects (default false)."),
        "insecure": boolean("Skip certificate verification. Never in production."),
        "ca_file": string("PEM file of an extra trusted CA."),
        "host": string("Host name to probe (tcp, tls, dns, ports)."),
        "port": { "type": "integer", "minimum": 1, "maximum": 65535, "description": "TCP port." },
        "record": one_of(RecordType::NAMES, "DNS record type to query."),
        "resolver": string("DNS resolver address (default: the system's)."),
        "query": string("PromQL instant query."),
        "targets_up": boolean("Prometheus: every monitored component has a target with up == 1."),
        "token": string("Heartbeat ping token (`/ping/TOKEN`). Use ${NAME} to keep it out of the file."),
        "cron": string("Heartbeat schedule as a cron expression, instead of `interval`."),
        "timezone": string("Time zone of `cron` (IANA name, default UTC)."),
        "grace": duration("How late a heartbeat or snapshot may be before it counts as missing."),
        "min_duration": duration("Heartbeat: a run shorter than this (start to success) is a failure."),
        "max_duration": duration("Heartbeat: a run longer than this is a failure."),
        "repository": string("restic repository."),
        "password_env": string("Name of the environment variable holding the repository password."),
        "read_data_subset": string("restic integrity check: `check --read-data-subset` argument, e.g. \"5%\"."),
        "expect": object("What a passing probe looks like.", &[], json!({
            "status": {
                "description": "Accepted HTTP status code(s).",
                "oneOf": [
                    { "type": "integer", "minimum": 100, "maximum": 599 },
                    { "type": "array", "items": { "type": "integer", "minimum": 100, "maximum": 599 } }
                ]
            },
            "latency_under": duration("The probe must complete faster than this."),
            "body_contains": string("Text the response body must contain."),
            "json": { "type": "object", "description": "JSON path (`$.a.b`) → expected value.", "propertyNames": { "pattern": "^\\$" } },
            "cert_valid_for": duration("The certificate must stay valid at least this long."),
            "values": {
                "description": "Expected DNS answers, or the Prometheus query's expected value.",
                "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }]
            }
        })),
    });
    let mut all_of = Vec::new();
    for kind in CheckKind::ALL {
        let (allowed, required) = check_keys(*kind);
        let forbidden: Vec<&str> = properties
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|k| !CHECK_COMMON.contains(k) && !allowed.contains(k))
            .collect();
        let not: Vec<Value> = forbidden
            .iter()
            .map(|k| json!({ "required": [k] }))
            .collect();
        all_of.push(json!({
            "if": { "properties": { "kind": { "const": kind.as_str() } }, "required": ["kind"] },
            "then": { "required": required, "not": { "anyOf": not } },
        }));
    }
    let mut check = object("A monitoring check.", &["name", "kind"], properties);
    check["allOf"] = Value::Array(all_of);
    check
}

fn environment() -> Value {
    let runbooks: Map<String, Value> = Runbook::NAMES
        .iter()
        .map(|r| {
            (
                (*r).to_owned(),
                string(&format!("Path of the {r} runbook (Markdown).")),
            )
        })
        .collect();
    object(
        "An environment and everything it runs on.",
        &["mode"],
        json!({
            "mode": one_of(Mode::NAMES, "Rollout mode: which requirements apply."),
            "audience": one_of(Audience::NAMES, "Who uses it (default: internal for development and staging, limited for soft launch, public for production)."),
            "controlled_by": one_of(Controller::NAMES, "Who controls it."),
            "description": string("Free text."),
            "servers": {
                "type": "array",
                "description": "The servers of the environment.",
                "items": object("A server.", &["name", "location"], json!({
                    "name": string("Unique server name within the environment."),
                    "roles": { "type": "array", "items": one_of(Role::NAMES, "Role."), "description": "What the server does (default [\"core\"])." },
                    "location": string("Physical location (data centre). Equal strings are the same location."),
                    "region": string("Product region the server serves."),
                    "host": string("Host name for live checks."),
                })),
            },
            "cluster": object("A fault-tolerant cluster.", &["nodes"], json!({
                "nodes": strings("Server names forming the cluster (at least 3 for a quorum)."),
            })),
            "backup": object("The backup system.", &["location", "interval"], json!({
                "location": string("Where snapshots live; must differ from every server location."),
                "interval": duration("Time between snapshots; at most product.rpo."),
                "encrypted": boolean("Snapshots are encrypted."),
                "retention": duration("How long snapshots are kept."),
                "covers": strings("Servers whose data is backed up (default: every database server)."),
                "source": object("Where live checks read snapshots.", &["kind", "repository", "password_env"], json!({
                    "kind": one_of(BackupSourceKind::NAMES, "Backup tool."),
                    "repository": string("Repository location. May use ${NAME}."),
                    "password_env": string("Name of the environment variable holding the password."),
                    "grace": duration("Extra age allowed beyond the interval."),
                    "read_data_subset": string("Integrity check sample, e.g. \"5%\"."),
                })),
                "drill": object("A restore drill, run by `stagegate drill ENV`.", &["every"], json!({
                    "every": duration("How often the drill must succeed, e.g. \"90d\"."),
                    "command": string("Shell command that restores and verifies (run in the spec's folder). Without it, the backup source is restored by restic into a scratch folder."),
                    "verify": string("Shell command run after the built-in restore; STAGEGATE_DRILL_DIR names the restored tree."),
                    "timeout": duration("Abandon (and fail) the drill after this long (default: twice product.rto, or 24h)."),
                })),
            })),
            "monitoring": object("The monitoring system.", &[], json!({
                "notify": strings("Contact ids notified about incidents."),
                "checks": { "type": "array", "items": check(), "description": "Monitoring checks." },
            })),
            "observability": object("The observability platform.", &[], json!({
                "metrics": string("Metrics endpoint."),
                "logs": string("Log platform."),
                "traces": string("Trace collector."),
                "log_retention": duration("How long logs are kept, e.g. \"365d\"."),
            })),
            "security": object("Security measures.", &[], json!({
                "firewall": boolean("A firewall protects the servers."),
                "ops_vpn": boolean("Operations/business teams connect through a VPN."),
                "site_to_site_vpn": { "type": "array", "items": one_of(VpnScope::NAMES, "Traffic carried."), "description": "Traffic carried by site-to-site VPNs." },
                "public_ports": { "type": "array", "items": { "type": "integer", "minimum": 1, "maximum": 65535 }, "description": "Ports meant to answer publicly." },
                "encryption_in_transit": boolean("Every connection carrying the product's data is encrypted (TLS)."),
            })),
            "pentest": object("The latest penetration test.", &["date"], json!({
                "vendor": string("Who performed it."),
                "external": boolean("Performed by an external company."),
                "internal": boolean("Also covered the internal network (inside the perimeter)."),
                "date": date("When it was performed."),
                "report": string("Path of the report."),
                "open_findings": object("Findings still open.", &[], json!({
                    "critical": { "type": "integer", "minimum": 0 },
                    "high": { "type": "integer", "minimum": 0 },
                    "medium": { "type": "integer", "minimum": 0 },
                    "low": { "type": "integer", "minimum": 0 },
                })),
            })),
            "operations": object("Day-to-day operations.", &[], json!({
                "log_monitoring": string("Contact id owning log monitoring."),
                "backup_monitoring": string("Contact id owning backup monitoring."),
                "security_updates": string("Contact id owning security updates."),
                "agreement": string("Path of the agreement between supporting party and business owner."),
                "log_review": duration("How often someone reviews the logs, e.g. \"1d\"."),
            })),
            "accessibility_audit": object("The latest accessibility audit.", &["standard", "date"], json!({
                "auditor": string("Who performed it."),
                "standard": one_of(AccessibilityStandard::NAMES, "Standard and level audited against."),
                "date": date("When it was performed."),
                "report": string("Path of the report (e.g. an ACR/VPAT)."),
                "open_issues": { "type": "integer", "minimum": 0, "description": "Failures of success criteria still open." },
            })),
            "last_significant_change": date("When the environment last changed significantly (PCI DSS wants a pentest after it)."),
            "maintenance": {
                "type": "array",
                "description": "Recurring maintenance windows: notifications pause, results are kept.",
                "items": object("A maintenance window.", &["start", "duration"], json!({
                    "start": { "type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "Local start time, HH:MM." },
                    "duration": duration("How long it lasts."),
                    "weekdays": { "type": "array", "items": one_of(Weekday::NAMES, "Day."), "description": "Days it starts on (default: every day)." },
                    "timezone": string("IANA time zone of `start` (default UTC)."),
                })),
            },
            "runbooks": {
                "type": "object",
                "description": "Runbooks per failure scenario.",
                "additionalProperties": false,
                "properties": runbooks,
            },
        }),
    )
}

/// The JSON Schema (draft-07) of a version 1 spec.
pub fn json_schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "stagegate.toml",
        "description": "A product's rollout: environments, their rollout modes, and what each has in place.",
        "type": "object",
        "required": ["product", "environments"],
        "additionalProperties": false,
        "properties": {
            "version": { "const": 1, "description": "Spec format version." },
            "product": object("The product.", &["name"], json!({
                "name": string("Product name."),
                "owner": string("Business owner."),
                "supporting_party": string("Who operates the product."),
                "retains_user_data": boolean("User data must survive into the production launch."),
                "availability_target": percent("Availability target in percent, e.g. 99.9."),
                "rpo": duration("Recovery point objective: max tolerated data loss."),
                "rto": duration("Recovery time objective."),
                "regions": strings("Markets served."),
                "data_classes": { "type": "array", "items": one_of(DataClass::NAMES, "Data class."), "description": "Kinds of data handled." },
                "frameworks": { "type": "array", "items": one_of(Framework::NAMES, "Framework."), "description": "Formal frameworks in force." },
            })),
            "policy": object("Policy knobs.", &[], json!({
                "cluster_required_at": percent("Availability target at or above which production needs a cluster (default 99.9)."),
                "pentest_max_age": duration("Maximum age of the latest pentest (default 365d)."),
                "accessibility_audit_max_age": duration("Maximum age of the latest accessibility audit (default 365d)."),
                "policy_timeout": duration("How long one custom Rego policy may take to judge one environment (default 2s)."),
                "evidence_roots": strings("Folders besides the spec's own that evidence files (runbooks, agreement, reports, attestation evidence, policies) may live in, relative to the spec."),
            })),
            "contacts": {
                "type": "object",
                "description": "People and teams, by id.",
                "additionalProperties": object("A contact.", &[], json!({
                    "name": string("Display name."),
                    "email": string("Email address."),
                    "phone": string("Phone number."),
                    "on_call": boolean("Takes on-call duty."),
                    "notify": strings("Notifier ids that reach this contact."),
                })),
            },
            "notifiers": {
                "type": "object",
                "description": "Notification channels, by id.",
                "additionalProperties": object("A notifier.", &["type"], json!({
                    "type": one_of(NotifierKind::NAMES, "Channel type."),
                    "url": string("Webhook, Slack or PagerDuty endpoint. May use ${NAME}."),
                    "secret": string("Webhook HMAC-SHA256 secret. May use ${NAME}."),
                    "routing_key": string("PagerDuty Events v2 routing key. May use ${NAME}."),
                    "smtp": string("SMTP server URL for email: smtp://user:pass@host:587 (STARTTLS required), smtps://host:465 (TLS), ?tls=none for a relay on the same host. May use ${NAME}."),
                    "from": string("Sender address for email, e.g. \"stagegate <alerts@example.com>\"."),
                    "ca_file": string("PEM file of an extra trusted CA for the SMTP server, relative to the spec."),
                })),
            },
            "environments": {
                "type": "object",
                "description": "Environments, by name.",
                "minProperties": 1,
                "additionalProperties": environment(),
            },
            "waivers": {
                "type": "array",
                "description": "Time-limited exceptions to rules.",
                "items": object("A waiver.", &["rule", "environment", "reason", "expires"], json!({
                    "rule": string("Rule id, e.g. SG-SEC-PENTEST."),
                    "environment": string("Environment name."),
                    "reason": string("Why the gap is accepted."),
                    "expires": date("Last day the waiver applies."),
                    "approved_by": string("Who approved it."),
                })),
            },
            "policies": strings("Files or folders of custom rules written in Rego (`.rego`), relative to the spec file."),
            "attestations": {
                "type": "array",
                "description": "Manual controls attested by a person, with evidence and an expiry.",
                "items": object("An attestation.", &["framework", "control", "by", "date", "evidence", "valid_until"], json!({
                    "framework": one_of(Framework::NAMES, "Framework the control belongs to (must be in product.frameworks)."),
                    "control": string("Published control id, e.g. \"12.1.1\" or \"A.5.1\"."),
                    "environment": string("Environment it is about (default: every environment)."),
                    "by": string("Who attests."),
                    "date": date("When."),
                    "evidence": string("Path of the document that proves it."),
                    "valid_until": date("Last day it counts."),
                    "note": string("Free text."),
                })),
            },
        },
    })
}
