//! The shapes of monitoring and its checks (mirrors `decode/monitoring.rs`).

use super::{COUNT, PORT, POSITIVE, Shape, Ty, opt, req, shape};
use crate::model::*;

pub(crate) static MONITORING: Shape = shape(
    "monitoring table",
    "The monitoring system.",
    &[
        opt(
            "notify",
            Ty::Strings,
            "Contact ids (or `rotation:ID`) notified about incidents.",
        ),
        opt(
            "escalation",
            Ty::Str,
            "An escalation policy (`[escalations.ID]`) that pages level by level until someone acknowledges, instead of `notify`.",
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
            "depends_on",
            Ty::Strings,
            "Checks of the same environment this one depends on: while one is down, this check's incident opens suppressed (recorded and shown under the parent's, not notified) and resolves with it.",
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
        opt(
            "duty",
            Ty::Enum(Duty::NAMES),
            "Heartbeat: the operations duty a person signals done with it (`stagegate duty done`); SG-OPS-DUTIES counts the duty as done while it is up.",
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
