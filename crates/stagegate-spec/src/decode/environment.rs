//! Decoding an environment's tables (mirrors `model/environment.rs`).

use toml::de::DeValue;

use super::{Cx, Decode, Path, Table, Value, decode_monitoring, span_of};
use crate::load::{decode_array_of_tables, sub};
use crate::model::*;
use crate::shape;
use crate::{Diagnostic, Duration, Spanned};

pub(crate) fn decode_environment(
    name: Spanned<&str>,
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Environment> {
    let mut t = Table::new(v, cx, *path, &shape::ENVIRONMENT)?;
    let mode = t.req(cx, "mode");
    let audience = t.opt(cx, "audience");
    let controlled_by = t.opt(cx, "controlled_by");
    let description = t.opt(cx, "description");
    let servers = match t.get("servers") {
        Some(v) => decode_array_of_tables(v, cx, &Path::Key(path, "servers"), decode_server),
        None => Some(Vec::new()),
    };
    let cluster = sub(&mut t, cx, "cluster", decode_cluster);
    let backup = sub(&mut t, cx, "backup", decode_backup);
    let monitoring = sub(&mut t, cx, "monitoring", decode_monitoring);
    let observability = sub(&mut t, cx, "observability", decode_observability);
    let security = sub(&mut t, cx, "security", decode_security);
    let pentest = sub(&mut t, cx, "pentest", decode_pentest);
    let accessibility_audit = sub(
        &mut t,
        cx,
        "accessibility_audit",
        decode_accessibility_audit,
    );
    let last_significant_change = t.opt(cx, "last_significant_change");
    let operations = sub(&mut t, cx, "operations", decode_operations);
    let runbooks = sub(&mut t, cx, "runbooks", decode_runbooks);
    let agent = match t.get("agent") {
        Some(av) if matches!(av.get_ref(), DeValue::Boolean(_)) => {
            bool::decode(av, cx, &t.child_path("agent")).map(|on| {
                on.then(|| AgentWatch {
                    interval: AgentWatch::default_interval(),
                    span: span_of(av),
                })
            })
        }
        Some(av) if matches!(av.get_ref(), DeValue::Table(_)) => {
            decode_agent(av, cx, &t.child_path("agent")).map(Some)
        }
        Some(av) => {
            cx.mismatch(
                av,
                &t.child_path("agent"),
                "`true`, or a table such as `{ interval = \"1h\" }`",
            );
            None
        }
        None => Some(None),
    };
    let status_page = sub(&mut t, cx, "status_page", decode_status_page);
    let maintenance = match t.get("maintenance") {
        Some(v) => {
            decode_array_of_tables(v, cx, &Path::Key(path, "maintenance"), decode_maintenance)
        }
        None => Some(Vec::new()),
    };
    // An environment declared only through sub-tables has no header of its
    // own; its span is the key, which is where users look for it anyway.
    let span = if t.span == name.span {
        name.span
    } else {
        t.span
    };
    t.finish(cx);
    Some(Environment {
        name: name.map(str::to_owned),
        mode: mode.unwrap_or_default(),
        audience,
        controlled_by,
        description,
        servers: servers.unwrap_or_default(),
        cluster: cluster.unwrap_or_default(),
        backup: backup.unwrap_or_default(),
        monitoring: monitoring.unwrap_or_default(),
        observability: observability.unwrap_or_default(),
        security: security.unwrap_or_default(),
        pentest: pentest.unwrap_or_default(),
        accessibility_audit: accessibility_audit.unwrap_or_default(),
        last_significant_change,
        operations: operations.unwrap_or_default(),
        runbooks: runbooks.unwrap_or_default(),
        maintenance: maintenance.unwrap_or_default(),
        agent: agent.unwrap_or_default(),
        status_page: status_page.unwrap_or_default(),
        span,
    })
}

fn decode_status_page(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<StatusPage> {
    let mut t = Table::new(v, cx, *path, &shape::STATUS_PAGE)?;
    let title = t.opt(cx, "title");
    let description = t.opt(cx, "description");
    let components = match t.get_required("components") {
        Some(v) => {
            decode_array_of_tables(v, cx, &Path::Key(path, "components"), decode_page_component)
        }
        None => {
            cx.push(
                Diagnostic::new("status page has no `components`", t.span)
                    .label("this status page has no `components`")
                    .note("expected `components = [{ name = \"Website\", checks = [\"web\"] }]`"),
            );
            None
        }
    };
    let span = t.span;
    t.finish(cx);
    Some(StatusPage {
        title,
        description,
        components: components.unwrap_or_default(),
        span,
    })
}

fn decode_page_component(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<PageComponent> {
    let mut t = Table::new(v, cx, *path, &shape::PAGE_COMPONENT)?;
    let name = t.req(cx, "name");
    let description = t.opt(cx, "description");
    let checks = t.req(cx, "checks");
    let span = t.span;
    t.finish(cx);
    Some(PageComponent {
        name: name?,
        description,
        checks: checks.unwrap_or_default(),
        span,
    })
}

fn decode_agent(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<AgentWatch> {
    let mut t = Table::new(v, cx, *path, &shape::AGENT)?;
    let interval: Option<Spanned<Duration>> = t.opt(cx, "interval");
    if let Some(i) = &interval {
        let secs = i.value.get().as_secs();
        if !(1..=31 * 86_400).contains(&secs) {
            cx.push(
                Diagnostic::new(
                    format!("agent interval {} is out of range", i.value),
                    i.span,
                )
                .label(format!("found {}", i.value))
                .note("expected a duration from 1s to 31d, such as \"1h\""),
            );
        }
    }
    let interval = interval.map(|i| i.value);
    let span = t.span;
    t.finish(cx);
    Some(AgentWatch {
        interval: interval.unwrap_or_else(AgentWatch::default_interval),
        span,
    })
}

pub(crate) fn decode_server(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Server> {
    let mut t = Table::new(v, cx, *path, &shape::SERVER)?;
    let name = t.req(cx, "name");
    let roles: Option<Vec<Spanned<Role>>> = match t.get("roles") {
        Some(_) => t.opt(cx, "roles"),
        None => Some(vec![Spanned::new(Role::Core, t.span)]),
    };
    let location = t.req(cx, "location");
    let region = t.opt(cx, "region");
    let host = t.opt(cx, "host");
    let span = t.span;
    t.finish(cx);
    Some(Server {
        name: name.unwrap_or_default(),
        roles: roles.unwrap_or_default(),
        location: location.unwrap_or_default(),
        region,
        host,
        span,
    })
}

pub(crate) fn decode_cluster(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Cluster> {
    let mut t = Table::new(v, cx, *path, &shape::CLUSTER)?;
    let nodes = t.req(cx, "nodes");
    let span = t.span;
    t.finish(cx);
    Some(Cluster {
        nodes: nodes.unwrap_or_default(),
        span,
    })
}

pub(crate) fn decode_backup(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Backup> {
    let mut t = Table::new(v, cx, *path, &shape::BACKUP)?;
    let location = t.req(cx, "location");
    let interval = t.req(cx, "interval");
    let encrypted = t.opt(cx, "encrypted");
    let retention = t.opt(cx, "retention");
    let covers = t.opt(cx, "covers");
    let source = sub(&mut t, cx, "source", decode_backup_source);
    let drill = sub(&mut t, cx, "drill", decode_drill);
    let span = t.span;
    if let Some(Some(d)) = &drill
        && d.command.is_none()
        && matches!(&source, Some(None))
    {
        cx.push(
            Diagnostic::new("a restore drill needs something to restore", d.span)
                .label("no `command`, and the backup has no `source`")
                .note("expected `command = \"...\"` (a script that restores and verifies), or a `[...backup.source]` restic repository for the built-in restore"),
        );
    }
    t.finish(cx);
    Some(Backup {
        location: location.unwrap_or_default(),
        interval: interval.unwrap_or_default(),
        encrypted,
        retention,
        covers,
        source: source.unwrap_or_default(),
        drill: drill.unwrap_or_default(),
        span,
    })
}

pub(crate) fn decode_drill(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Drill> {
    let mut t = Table::new(v, cx, *path, &shape::DRILL)?;
    let every = t.req(cx, "every");
    let command = t.opt(cx, "command");
    let verify = t.opt(cx, "verify");
    let timeout = t.opt(cx, "timeout");
    let span = t.span;
    if t.has("command")
        && let Some(k) = t.key_span("verify")
    {
        cx.push(
            Diagnostic::new("`verify` only follows the built-in restore", k)
                .label("ignored: `command` performs the whole drill")
                .note("expected either `command` alone, or `verify` alone with a backup `source`"),
        );
    }
    t.finish(cx);
    Some(Drill {
        every: every.unwrap_or_default(),
        command,
        verify,
        timeout,
        span,
    })
}

pub(crate) fn decode_backup_source(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<BackupSource> {
    let mut t = Table::new(v, cx, *path, &shape::BACKUP_SOURCE)?;
    let kind = t.req(cx, "kind");
    let repository = t.req(cx, "repository");
    let password_env = t.req(cx, "password_env");
    let grace = t.opt(cx, "grace");
    let read_data_subset = t.opt(cx, "read_data_subset");
    let span = t.span;
    t.finish(cx);
    Some(BackupSource {
        kind: kind.unwrap_or_default(),
        repository: repository.unwrap_or_default(),
        password_env: password_env.unwrap_or_default(),
        grace,
        read_data_subset,
        span,
    })
}

pub(crate) fn decode_observability(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Observability> {
    let mut t = Table::new(v, cx, *path, &shape::OBSERVABILITY)?;
    let metrics = t.opt(cx, "metrics");
    let logs = t.opt(cx, "logs");
    let traces = t.opt(cx, "traces");
    let log_retention = t.opt(cx, "log_retention");
    let span = t.span;
    t.finish(cx);
    Some(Observability {
        metrics,
        logs,
        traces,
        log_retention,
        span,
    })
}

pub(crate) fn decode_security(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Security> {
    let mut t = Table::new(v, cx, *path, &shape::SECURITY)?;
    let firewall = t.opt(cx, "firewall");
    let ops_vpn = t.opt(cx, "ops_vpn");
    let site_to_site_vpn = t.opt(cx, "site_to_site_vpn");
    let public_ports: Vec<Spanned<u16>> = t.opt(cx, "public_ports").unwrap_or_default();
    let private_ports: Vec<Spanned<u16>> = t.opt(cx, "private_ports").unwrap_or_default();
    for p in private_ports
        .iter()
        .filter(|p| public_ports.iter().any(|q| q.value == p.value))
    {
        cx.push(
            Diagnostic::new(
                format!("port {} is both public and private", p.value),
                p.span,
            )
            .label("also in `public_ports`")
            .note("a port either answers publicly or stays inside: keep it in one list"),
        );
    }
    for (key, ports) in [
        ("public_ports", &public_ports),
        ("private_ports", &private_ports),
    ] {
        for p in ports.iter().filter(|p| p.value == 0) {
            cx.push(
                Diagnostic::new(format!("port 0 in `{}`", t.child_path(key)), p.span)
                    .label("found 0")
                    .note("expected a port from 1 to 65535"),
            );
        }
    }
    let encryption_in_transit = t.opt(cx, "encryption_in_transit");
    let span = t.span;
    t.finish(cx);
    Some(Security {
        firewall,
        ops_vpn,
        site_to_site_vpn,
        public_ports,
        private_ports,
        encryption_in_transit,
        span,
    })
}

pub(crate) fn decode_pentest(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Pentest> {
    let mut t = Table::new(v, cx, *path, &shape::PENTEST)?;
    let vendor = t.opt(cx, "vendor");
    let external = t.opt(cx, "external");
    let internal = t.opt(cx, "internal");
    let date = t.req(cx, "date");
    let report = t.opt(cx, "report");
    let open_findings = sub(&mut t, cx, "open_findings", decode_open_findings);
    let span = t.span;
    t.finish(cx);
    Some(Pentest {
        vendor,
        external,
        internal,
        date: date.unwrap_or_default(),
        report,
        open_findings: open_findings?.unwrap_or_default(),
        span,
    })
}

pub(crate) fn decode_open_findings(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<OpenFindings> {
    let mut t = Table::new(v, cx, *path, &shape::OPEN_FINDINGS)?;
    let critical = t.opt(cx, "critical");
    let high = t.opt(cx, "high");
    let medium = t.opt(cx, "medium");
    let low = t.opt(cx, "low");
    let span = t.span;
    t.finish(cx);
    Some(OpenFindings {
        critical: critical.unwrap_or(0),
        high: high.unwrap_or(0),
        medium: medium.unwrap_or(0),
        low: low.unwrap_or(0),
        span: Some(span),
    })
}

pub(crate) fn decode_operations(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Operations> {
    let mut t = Table::new(v, cx, *path, &shape::OPERATIONS)?;
    let log_monitoring = t.opt(cx, "log_monitoring");
    let backup_monitoring = t.opt(cx, "backup_monitoring");
    let security_updates = t.opt(cx, "security_updates");
    let agreement = t.opt(cx, "agreement");
    let log_review = t.opt(cx, "log_review");
    let log_errors_max_per_hour = t.opt(cx, "log_errors_max_per_hour");
    let span = t.span;
    t.finish(cx);
    Some(Operations {
        log_monitoring,
        backup_monitoring,
        security_updates,
        agreement,
        log_review,
        log_errors_max_per_hour,
        span,
    })
}

pub(crate) fn decode_accessibility_audit(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<AccessibilityAudit> {
    let mut t = Table::new(v, cx, *path, &shape::ACCESSIBILITY_AUDIT)?;
    let auditor = t.opt(cx, "auditor");
    let standard = t.req(cx, "standard");
    let date = t.req(cx, "date");
    let report = t.opt(cx, "report");
    let open_issues = t.opt(cx, "open_issues");
    let results: Option<Spanned<String>> = t.opt(cx, "results");
    if let Some(r) = &results {
        let lower = r.value.to_ascii_lowercase();
        if !lower.ends_with(".json") && !lower.ends_with(".csv") {
            cx.push(
                Diagnostic::new(
                    format!("`{}` is neither `.json` nor `.csv`", t.child_path("results")),
                    r.span,
                )
                .label(format!("found `{}`", r.value))
                .note("expected axe-core results (`.json`) or a CSV of `criterion,result[,note]` (`.csv`)"),
            );
        }
    }
    let span = t.span;
    t.finish(cx);
    Some(AccessibilityAudit {
        auditor,
        standard: standard.unwrap_or_default(),
        date: date.unwrap_or_default(),
        report,
        open_issues,
        results,
        span,
    })
}

pub(crate) fn decode_runbooks(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Runbooks> {
    let mut t = Table::new(v, cx, *path, &shape::RUNBOOKS)?;
    let mut entries = Vec::new();
    for which in Runbook::ALL {
        let file: Option<Spanned<String>> = t.opt(cx, which.as_str());
        if let Some(file) = file {
            entries.push((*which, file));
        }
    }
    let span = t.span;
    t.finish(cx);
    Some(Runbooks { entries, span })
}

pub(crate) fn decode_maintenance(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Maintenance> {
    let mut t = Table::new(v, cx, *path, &shape::MAINTENANCE)?;
    let start: Option<Spanned<String>> = t.req(cx, "start");
    let duration = t.req(cx, "duration");
    let weekdays = t.opt(cx, "weekdays");
    let timezone = t.opt(cx, "timezone");
    let span = t.span;
    t.finish(cx);
    let start_minute = start.as_ref().and_then(|s| {
        let parsed = s
            .value
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
            .filter(|(h, m)| *h < 24 && *m < 60 && s.value.len() == 5);
        if parsed.is_none() {
            cx.push(
                Diagnostic::new(
                    format!("invalid start time for `{}`", Path::Key(path, "start")),
                    s.span,
                )
                .label(format!("found \"{}\"", s.value))
                .note("expected HH:MM on a 24-hour clock, e.g. \"02:30\""),
            );
        }
        parsed.map(|(h, m)| h * 60 + m)
    });
    Some(Maintenance {
        start_minute: start_minute.unwrap_or_default(),
        duration: duration.unwrap_or_default(),
        weekdays: weekdays.unwrap_or_default(),
        timezone,
        span,
    })
}
