//! Decoding monitoring and its checks (mirrors `model/monitoring.rs`).

use toml::de::DeValue;

use super::{Cx, Decode, Path, Table, Value, to_json};
use crate::load::{decode_array_of_tables, sub};
use crate::model::*;
use crate::shape;
use crate::{Diagnostic, Duration, Spanned};

pub(crate) fn decode_monitoring(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Monitoring> {
    let mut t = Table::new(v, cx, *path, &shape::MONITORING)?;
    let notify = t.opt(cx, "notify").unwrap_or_default();
    let escalation = t.opt(cx, "escalation");
    let checks = match t.get("checks") {
        Some(v) => decode_array_of_tables(v, cx, &Path::Key(path, "checks"), decode_check),
        None => Some(Vec::new()),
    };
    let span = t.span;
    t.finish(cx);
    Some(Monitoring {
        notify,
        escalation,
        checks: checks.unwrap_or_default(),
        span,
    })
}

/// Keys every check accepts, whatever its kind.
pub(crate) const CHECK_COMMON: &[&str] = &[
    "name",
    "covers",
    "kind",
    "interval",
    "timeout",
    "retries",
    "failure_threshold",
    "success_threshold",
    "quorum",
    "depends_on",
    "expect",
];

/// Keys that only some kinds accept, and which of them each kind requires.
pub(crate) fn check_keys(kind: CheckKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        CheckKind::Http => (
            &[
                "url",
                "method",
                "headers",
                "body",
                "follow_redirects",
                "insecure",
                "ca_file",
            ],
            &["url"],
        ),
        CheckKind::Tcp => (&["host", "port"], &["host", "port"]),
        CheckKind::Tls => (&["host", "port", "insecure", "ca_file"], &["host"]),
        CheckKind::Dns => (&["host", "record", "resolver"], &["host", "record"]),
        CheckKind::Postgres | CheckKind::Mysql | CheckKind::Redis => (&["url"], &["url"]),
        CheckKind::Heartbeat => (
            &[
                "token",
                "cron",
                "timezone",
                "grace",
                "min_duration",
                "max_duration",
                "duty",
            ],
            &["token"],
        ),
        CheckKind::Restic => (
            &["repository", "password_env", "grace", "read_data_subset"],
            &["repository", "password_env"],
        ),
        CheckKind::Prometheus => (&["url", "query", "targets_up"], &["url"]),
        CheckKind::Ports => (&["host"], &["host"]),
    }
}

pub(crate) fn decode_check(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Check> {
    let mut t = Table::new(v, cx, *path, &shape::CHECK)?;
    let name: Option<Spanned<String>> = t.req(cx, "name");
    if let Some(n) = &name
        && n.value.starts_with("agent:")
    {
        cx.push(
            Diagnostic::new(
                format!("check name `{}` is reserved", n.value),
                n.span,
            )
            .label("starts with `agent:`")
            .note("names starting with `agent:` are the server's own heartbeats of `stagegate agent`; choose another name"),
        );
    }
    let kind: Option<Spanned<CheckKind>> = t.req(cx, "kind");
    let covers = t
        .opt::<Spanned<String>>(cx, "covers")
        .map(|c| c.map(|s| Covers::parse(&s)));
    let interval_given = t.has("interval");
    let interval: Option<Duration> = t.opt(cx, "interval");
    let timeout = t.opt(cx, "timeout");
    let retries = t.opt(cx, "retries");
    let failure_threshold = positive(&mut t, cx, "failure_threshold");
    let success_threshold = positive(&mut t, cx, "success_threshold");
    let quorum = positive(&mut t, cx, "quorum");
    let depends_on = t.opt(cx, "depends_on").unwrap_or_default();
    let url = t.opt(cx, "url");
    let method = t
        .opt::<String>(cx, "method")
        .map(|m| m.to_ascii_uppercase());
    let headers = match t.get("headers") {
        Some(hv) => decode_headers(hv, cx, &Path::Key(path, "headers")),
        None => Some(Vec::new()),
    };
    let body = t.opt(cx, "body");
    let follow_redirects = t.opt(cx, "follow_redirects");
    let insecure = t.opt(cx, "insecure");
    let ca_file = t.opt(cx, "ca_file");
    let host = t.opt(cx, "host");
    let port = t.opt(cx, "port");
    let record = t.opt(cx, "record");
    let resolver = t.opt(cx, "resolver");
    let query = t.opt(cx, "query");
    let targets_up = t.opt(cx, "targets_up");
    let token = t.opt(cx, "token");
    let cron: Option<String> = t.opt(cx, "cron");
    let timezone = t.opt(cx, "timezone");
    let grace = t.opt(cx, "grace");
    let min_duration = t.opt(cx, "min_duration");
    let max_duration = t.opt(cx, "max_duration");
    let duty = t.opt(cx, "duty");
    let repository = t.opt(cx, "repository");
    let password_env = t.opt(cx, "password_env");
    let read_data_subset = t.opt(cx, "read_data_subset");
    let expect = sub(&mut t, cx, "expect", decode_expect);
    let span = t.span;

    if let Some(kind) = &kind {
        let (allowed, required) = check_keys(kind.value);
        for key in shape::CHECK.keys().filter(|k| !CHECK_COMMON.contains(k)) {
            if !allowed.contains(&key)
                && let Some(kv) = t.key_span(key)
            {
                cx.push(
                    Diagnostic::new(
                        format!("`{key}` does not apply to a `{}` check", kind.value),
                        kv,
                    )
                    .label("not used by this kind of check")
                    .note(format!(
                        "a `{}` check accepts: {}",
                        kind.value,
                        CHECK_COMMON
                            .iter()
                            .chain(allowed)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
        for key in required {
            if !t.has(key) {
                cx.push(
                    Diagnostic::new(
                        format!("missing required key `{key}` in {} check", kind.value),
                        span,
                    )
                    .label(format!("this check has no `{key}`"))
                    .note(format!(
                        "a `{}` check needs: {}",
                        kind.value,
                        required.join(", ")
                    )),
                );
            }
        }
        if let (Some(expr), Some(cron_span)) = (&cron, t.key_span("cron"))
            && let Err(e) = crate::Cron::parse(expr)
        {
            cx.push(
                    Diagnostic::new(format!("invalid cron schedule: {e}"), cron_span)
                        .label(format!("found \"{expr}\""))
                        .note("expected five fields, e.g. \"0 2 * * *\" (02:00 every day) or \"30 3 * * mon-fri\""),
                );
        }
        if kind.value == CheckKind::Heartbeat && interval_given == cron.is_some() {
            cx.push(
                Diagnostic::new("a heartbeat check needs exactly one schedule", span)
                    .label(if interval_given { "both `interval` and `cron` are set" } else { "no `interval` or `cron`" })
                    .note("expected `interval = \"24h\"` or `cron = \"0 2 * * *\"` (with optional `timezone`)"),
            );
        }
    }
    t.finish(cx);
    Some(Check {
        name: name.unwrap_or_default(),
        covers,
        kind: kind.unwrap_or_default(),
        interval: interval.unwrap_or_else(|| Duration::from_secs(60)),
        timeout,
        retries,
        failure_threshold,
        success_threshold,
        quorum,
        depends_on,
        url,
        method,
        headers: headers.unwrap_or_default(),
        body,
        follow_redirects,
        insecure,
        ca_file,
        host,
        port,
        record,
        resolver,
        query,
        targets_up,
        token,
        cron,
        timezone,
        grace,
        min_duration,
        max_duration,
        duty,
        repository,
        password_env,
        read_data_subset,
        expect: expect?.unwrap_or_default(),
        span,
    })
}

pub(crate) fn positive(
    t: &mut Table<'_, '_, '_>,
    cx: &mut Cx<'_>,
    key: &'static str,
) -> Option<u32> {
    let v: Spanned<u32> = t.opt(cx, key)?;
    if v.value == 0 {
        cx.push(
            Diagnostic::new(
                format!("`{}` must be at least 1", t.child_path(key)),
                v.span,
            )
            .label("found 0")
            .note("expected a positive integer"),
        );
        return None;
    }
    Some(v.value)
}

pub(crate) fn decode_headers(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Vec<(String, crate::Deferred)>> {
    let t = Table::map(v, cx, *path, "headers table")?;
    let mut out = Vec::new();
    for (name, value) in t.entries() {
        if let Some(d) = crate::Deferred::decode(value, cx, &t.child_path(name.value)) {
            out.push((name.value.to_owned(), d));
        }
    }
    Some(out)
}

pub(crate) fn decode_expect(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Expect> {
    let mut t = Table::new(v, cx, *path, &shape::EXPECT)?;
    let status = match t.get("status") {
        Some(sv) if matches!(sv.get_ref(), DeValue::Array(_)) => {
            Vec::<u16>::decode(sv, cx, &t.child_path("status"))
        }
        Some(sv) => u16::decode(sv, cx, &t.child_path("status")).map(|s| vec![s]),
        None => Some(Vec::new()),
    };
    let latency_under = t.opt(cx, "latency_under");
    let body_contains = t.opt(cx, "body_contains");
    let json = match t.get("json") {
        Some(jv) => decode_json_expect(jv, cx, &t.child_path("json")),
        None => Some(Vec::new()),
    };
    let cert_valid_for = t.opt(cx, "cert_valid_for");
    let values = match t.get("values") {
        Some(vv) if matches!(vv.get_ref(), DeValue::Array(_)) => {
            Vec::<String>::decode(vv, cx, &t.child_path("values"))
        }
        Some(vv) => String::decode(vv, cx, &t.child_path("values")).map(|s| vec![s]),
        None => Some(Vec::new()),
    };
    t.finish(cx);
    Some(Expect {
        status: status.unwrap_or_default(),
        latency_under,
        body_contains,
        json: json.unwrap_or_default(),
        cert_valid_for,
        values: values.unwrap_or_default(),
    })
}

pub(crate) fn decode_json_expect(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Vec<(String, serde_json::Value)>> {
    let t = Table::map(v, cx, *path, "json expectations")?;
    let mut out = Vec::new();
    for (key, value) in t.entries() {
        if !key.value.starts_with('$') {
            cx.push(
                Diagnostic::new(format!("invalid JSON path in `{path}`"), key.span)
                    .label(format!("found \"{}\"", key.value))
                    .note(
                        "expected a path starting with `$`, e.g. \"$.status\" or \"$.items[0].id\"",
                    ),
            );
            continue;
        }
        out.push((key.value.to_owned(), to_json(value.get_ref())));
    }
    Some(out)
}
