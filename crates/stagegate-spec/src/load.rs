//! Loading a spec: TOML syntax, then typed decoding, then cross-references.
//! Every phase collects all of its problems before giving up.

use toml::de::{DeTable, DeValue};

use crate::decode::{Cx, Decode, Path, Table, Value, span_of};
use crate::interpolate::EnvLookup;
use crate::model::*;
use crate::{Diagnostic, Duration, SourceFile, Span, Spanned};

/// What loading needs from its caller.
#[derive(Clone, Copy)]
pub struct LoadOptions<'a> {
    /// Environment variables for `${NAME}` interpolation.
    pub env: EnvLookup<'a>,
    /// Rule ids a waiver may name (the spec crate knows no rules itself).
    pub known_rules: &'a [&'a str],
    /// Control ids of each framework an attestation may name (the packs
    /// live with the rules).
    pub known_controls: fn(Framework) -> &'static [&'static str],
}

impl std::fmt::Debug for LoadOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadOptions")
            .field("known_rules", &self.known_rules)
            .finish_non_exhaustive()
    }
}

/// Parses and validates a spec. On failure, returns every problem found.
pub fn load(source: &SourceFile, opts: &LoadOptions<'_>) -> Result<Spec, Vec<Diagnostic>> {
    let text = source.text();
    if u32::try_from(text.len()).is_err() {
        return Err(vec![Diagnostic::global("the spec is larger than 4 GiB")]);
    }
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| {
                let span = e.span().map_or(Span::new(0, 0), Span::from);
                let message = e.message().trim().to_owned();
                Diagnostic::new("invalid TOML", span).label(message)
            })
            .collect());
    }
    let root = Value::new(root.span(), DeValue::Table(root.into_inner()));
    let mut cx = Cx {
        diags: Vec::new(),
        env: opts.env,
    };
    // Decoding recovers from every problem it reports (substituting
    // placeholders that never leave this function), so cross-references are
    // checked in the same run and every problem is reported at once.
    let spec = decode_spec(&root, &mut cx);
    if let Some(spec) = &spec {
        crate::validate::validate(spec, opts, &mut cx.diags);
    }
    match spec {
        Some(spec) if cx.diags.is_empty() => Ok(spec),
        _ => {
            if cx.diags.is_empty() {
                cx.diags
                    .push(Diagnostic::global("the spec could not be read"));
            }
            cx.diags.sort_by_key(|d| d.span.map_or(0, |s| s.start));
            Err(cx.diags)
        }
    }
}

fn decode_spec(root: &Value<'_>, cx: &mut Cx<'_>) -> Option<Spec> {
    let mut t = Table::new(root, cx, Path::Root, "spec")?;
    let version = match t.get("version") {
        Some(v) => {
            let n = u32::decode(v, cx, &Path::Key(&Path::Root, "version"));
            if n.is_some_and(|n| n != 1) {
                cx.push(
                    Diagnostic::new("unsupported spec version", span_of(v))
                        .label(format!("found version {}", n.unwrap_or_default()))
                        .note("expected `version = 1`: this stagegate reads version 1 specs"),
                );
            }
            n.unwrap_or(1)
        }
        None => 1,
    };
    let product = match t.get("product") {
        Some(v) => decode_product(v, cx),
        None => {
            missing_table(cx, "product", "[product]\nname = \"My Product\"");
            None
        }
    };
    let policy = t
        .get("policy")
        .map_or(Some(Policy::default()), |v| decode_policy(v, cx));
    let contacts = decode_map(&mut t, cx, "contacts", "contacts table", decode_contact);
    let notifiers = decode_map(&mut t, cx, "notifiers", "notifiers table", decode_notifier);
    let environments = match t.get("environments") {
        Some(_) => decode_map(
            &mut t,
            cx,
            "environments",
            "environments table",
            decode_environment,
        ),
        None => {
            missing_table(
                cx,
                "environments",
                "[environments.production]\nmode = \"production\"",
            );
            None
        }
    };
    if let (Some(envs), Some(span)) = (&environments, t.key_span("environments"))
        && envs.is_empty()
        && !cx
            .diags
            .iter()
            .any(|d| d.span.is_some_and(|s| s.start >= span.start))
    {
        cx.push(
            Diagnostic::new("the spec declares no environments", span)
                .label("empty")
                .note("expected at least one, e.g. [environments.production] with mode = \"production\""),
        );
    }
    let waivers = match t.get("waivers") {
        Some(v) => decode_array_of_tables(v, cx, &Path::Key(&Path::Root, "waivers"), decode_waiver),
        None => Some(Vec::new()),
    };
    let attestations = match t.get("attestations") {
        Some(v) => decode_array_of_tables(
            v,
            cx,
            &Path::Key(&Path::Root, "attestations"),
            decode_attestation,
        ),
        None => Some(Vec::new()),
    };
    let policies = match t.get("policies") {
        Some(v) => Vec::<Spanned<String>>::decode(v, cx, &Path::Key(&Path::Root, "policies")),
        None => Some(Vec::new()),
    };
    t.finish(cx);
    Some(Spec {
        version,
        product: product.unwrap_or_default(),
        policy: policy.unwrap_or_default(),
        contacts: contacts.unwrap_or_default(),
        notifiers: notifiers.unwrap_or_default(),
        environments: environments.unwrap_or_default(),
        waivers: waivers.unwrap_or_default(),
        attestations: attestations.unwrap_or_default(),
        policies: policies.unwrap_or_default(),
    })
}

fn missing_table(cx: &mut Cx<'_>, key: &str, example: &str) {
    cx.push(
        Diagnostic::new(format!("missing required table `[{key}]`"), Span::new(0, 0))
            .label(format!("the spec has no `{key}`"))
            .note(format!("expected, for example:\n{example}")),
    );
}

/// Decodes a table of id → table (contacts, notifiers, environments).
fn decode_map<T>(
    parent: &mut Table<'_, '_, '_>,
    cx: &mut Cx<'_>,
    key: &'static str,
    what: &'static str,
    decode: fn(Spanned<&str>, &Value<'_>, &mut Cx<'_>, &Path<'_>) -> Option<T>,
) -> Option<Vec<T>> {
    let Some(v) = parent.get(key) else {
        return Some(Vec::new());
    };
    let path = parent.child_path(key);
    let t = Table::new(v, cx, path, what)?;
    let mut out = Vec::new();
    for (id, value) in t.entries() {
        let name = id.value;
        out.extend(decode(id, value, cx, &t.child_path(name)));
    }
    Some(out)
}

fn decode_array_of_tables<T>(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
    decode: fn(&Value<'_>, &mut Cx<'_>, &Path<'_>) -> Option<T>,
) -> Option<Vec<T>> {
    let DeValue::Array(items) = v.get_ref() else {
        cx.mismatch(v, path, &format!("an array of tables (`[[{path}]]`)"));
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.extend(decode(item, cx, &Path::Index(path, i)));
    }
    Some(out)
}

fn decode_product(v: &Value<'_>, cx: &mut Cx<'_>) -> Option<Product> {
    let mut t = Table::new(v, cx, Path::Key(&Path::Root, "product"), "[product] table")?;
    let name = t.req::<Spanned<String>>(cx, "name");
    let owner = t.opt(cx, "owner");
    let supporting_party = t.opt(cx, "supporting_party");
    let retains_user_data = t.opt(cx, "retains_user_data").unwrap_or(false);
    let availability_target = percent(&mut t, cx, "availability_target");
    let rpo = t.opt(cx, "rpo");
    let rto = t.opt(cx, "rto");
    let regions = t.opt(cx, "regions").unwrap_or_default();
    let data_classes = t.opt(cx, "data_classes").unwrap_or_default();
    let frameworks = t.opt(cx, "frameworks").unwrap_or_default();
    let span = t.span;
    t.finish(cx);
    Some(Product {
        name: name.unwrap_or_default(),
        owner,
        supporting_party,
        retains_user_data,
        availability_target,
        rpo,
        rto,
        regions,
        data_classes,
        frameworks,
        span,
    })
}

/// A percentage in (0, 100].
fn percent(t: &mut Table<'_, '_, '_>, cx: &mut Cx<'_>, key: &'static str) -> Option<Spanned<f64>> {
    let value: Spanned<f64> = t.opt(cx, key)?;
    if value.value <= 0.0 || value.value > 100.0 {
        cx.push(
            Diagnostic::new(
                format!("`{}` is not a percentage", t.child_path(key)),
                value.span,
            )
            .label(format!("found {}", value.value))
            .note("expected a percentage above 0 and at most 100, e.g. 99.9"),
        );
        return None;
    }
    Some(value)
}

fn decode_policy(v: &Value<'_>, cx: &mut Cx<'_>) -> Option<Policy> {
    let mut t = Table::new(v, cx, Path::Key(&Path::Root, "policy"), "[policy] table")?;
    let defaults = Policy::default();
    let cluster_required_at = percent(&mut t, cx, "cluster_required_at").map(|s| s.value);
    let pentest_max_age: Option<Duration> = t.opt(cx, "pentest_max_age");
    let accessibility_audit_max_age: Option<Duration> = t.opt(cx, "accessibility_audit_max_age");
    let policy_timeout: Option<Duration> = t.opt(cx, "policy_timeout");
    let evidence_roots: Vec<Spanned<String>> = t.opt(cx, "evidence_roots").unwrap_or_default();
    let span = t.span;
    t.finish(cx);
    Some(Policy {
        cluster_required_at: cluster_required_at.unwrap_or(defaults.cluster_required_at),
        pentest_max_age: pentest_max_age.unwrap_or(defaults.pentest_max_age),
        accessibility_audit_max_age: accessibility_audit_max_age
            .unwrap_or(defaults.accessibility_audit_max_age),
        policy_timeout: policy_timeout.unwrap_or(defaults.policy_timeout),
        evidence_roots,
        span: Some(span),
    })
}

fn decode_contact(
    id: Spanned<&str>,
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Contact> {
    let mut t = Table::new(v, cx, *path, "contact")?;
    let name = t.opt(cx, "name");
    let email = t.opt(cx, "email");
    let phone = t.opt(cx, "phone");
    let on_call = t.opt(cx, "on_call").unwrap_or(false);
    let notify = t.opt(cx, "notify").unwrap_or_default();
    let span = t.span;
    t.finish(cx);
    Some(Contact {
        id: id.map(str::to_owned),
        name,
        email,
        phone,
        on_call,
        notify,
        span,
    })
}

fn decode_notifier(
    id: Spanned<&str>,
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Notifier> {
    let mut t = Table::new(v, cx, *path, "notifier")?;
    let kind: Option<Spanned<NotifierKind>> = t.req(cx, "type");
    let url = t.opt(cx, "url");
    let secret = t.opt(cx, "secret");
    let routing_key = t.opt(cx, "routing_key");
    let smtp = t.opt(cx, "smtp");
    let from = t.opt(cx, "from");
    let ca_file = t.opt(cx, "ca_file");
    let span = t.span;
    if let Some(kind) = &kind {
        let needs: &[&str] = match kind.value {
            NotifierKind::Webhook | NotifierKind::Slack | NotifierKind::Ntfy => &["url"],
            NotifierKind::Pagerduty => &["routing_key"],
            NotifierKind::Email => &["smtp", "from"],
        };
        for key in needs {
            if !t.has(key) {
                cx.push(
                    Diagnostic::new(
                        format!("missing required key `{key}` in {} notifier", kind.value),
                        span,
                    )
                    .label(format!("this notifier has no `{key}`"))
                    .note(format!(
                        "a `{}` notifier needs: {}",
                        kind.value,
                        needs.join(", ")
                    )),
                );
            }
        }
    }
    t.finish(cx);
    Some(Notifier {
        id: id.map(str::to_owned),
        kind: kind.unwrap_or_default(),
        url,
        secret,
        routing_key,
        smtp,
        from,
        ca_file,
        span,
    })
}

fn decode_environment(
    name: Spanned<&str>,
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Environment> {
    let mut t = Table::new(v, cx, *path, "environment")?;
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
        span,
    })
}

/// An optional sub-table: `Some(None)` when absent, `None` when invalid.
fn sub<T>(
    t: &mut Table<'_, '_, '_>,
    cx: &mut Cx<'_>,
    key: &'static str,
    decode: fn(&Value<'_>, &mut Cx<'_>, &Path<'_>) -> Option<T>,
) -> Option<Option<T>> {
    match t.get(key) {
        Some(v) => decode(v, cx, &t.child_path(key)).map(Some),
        None => Some(None),
    }
}

fn decode_server(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Server> {
    let mut t = Table::new(v, cx, *path, "server")?;
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

fn decode_cluster(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Cluster> {
    let mut t = Table::new(v, cx, *path, "cluster table")?;
    let nodes = t.req(cx, "nodes");
    let span = t.span;
    t.finish(cx);
    Some(Cluster {
        nodes: nodes.unwrap_or_default(),
        span,
    })
}

fn decode_backup(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Backup> {
    let mut t = Table::new(v, cx, *path, "backup table")?;
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

fn decode_drill(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Drill> {
    let mut t = Table::new(v, cx, *path, "restore drill")?;
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

fn decode_backup_source(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<BackupSource> {
    let mut t = Table::new(v, cx, *path, "backup source")?;
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

fn decode_monitoring(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Monitoring> {
    let mut t = Table::new(v, cx, *path, "monitoring table")?;
    let notify = t.opt(cx, "notify").unwrap_or_default();
    let checks = match t.get("checks") {
        Some(v) => decode_array_of_tables(v, cx, &Path::Key(path, "checks"), decode_check),
        None => Some(Vec::new()),
    };
    let span = t.span;
    t.finish(cx);
    Some(Monitoring {
        notify,
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

const ALL_CHECK_KEYS: &[&str] = &[
    "url",
    "method",
    "headers",
    "body",
    "follow_redirects",
    "insecure",
    "ca_file",
    "host",
    "port",
    "record",
    "resolver",
    "query",
    "targets_up",
    "token",
    "cron",
    "timezone",
    "grace",
    "min_duration",
    "max_duration",
    "repository",
    "password_env",
    "read_data_subset",
];

fn decode_check(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Check> {
    let mut t = Table::new(v, cx, *path, "check")?;
    let name: Option<Spanned<String>> = t.req(cx, "name");
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
    let repository = t.opt(cx, "repository");
    let password_env = t.opt(cx, "password_env");
    let read_data_subset = t.opt(cx, "read_data_subset");
    let expect = sub(&mut t, cx, "expect", decode_expect);
    let span = t.span;

    if let Some(kind) = &kind {
        let (allowed, required) = check_keys(kind.value);
        for key in ALL_CHECK_KEYS {
            if !allowed.contains(key)
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
        repository,
        password_env,
        read_data_subset,
        expect: expect?.unwrap_or_default(),
        span,
    })
}

fn positive(t: &mut Table<'_, '_, '_>, cx: &mut Cx<'_>, key: &'static str) -> Option<u32> {
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

fn decode_headers(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Vec<(String, crate::Deferred)>> {
    let t = Table::new(v, cx, *path, "headers table")?;
    let mut out = Vec::new();
    for (name, value) in t.entries() {
        if let Some(d) = crate::Deferred::decode(value, cx, &t.child_path(name.value)) {
            out.push((name.value.to_owned(), d));
        }
    }
    Some(out)
}

fn decode_expect(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Expect> {
    let mut t = Table::new(v, cx, *path, "expect table")?;
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

fn decode_json_expect(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Vec<(String, serde_json::Value)>> {
    let t = Table::new(v, cx, *path, "json expectations")?;
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

fn to_json(v: &DeValue<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        DeValue::String(s) => J::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).map_or(J::Null, J::from),
        DeValue::Float(f) => f.as_str().parse::<f64>().map_or(J::Null, J::from),
        DeValue::Boolean(b) => J::Bool(*b),
        DeValue::Datetime(d) => J::String(d.to_string()),
        DeValue::Array(a) => J::Array(a.iter().map(|x| to_json(x.get_ref())).collect()),
        DeValue::Table(t) => J::Object(
            t.iter()
                .map(|(k, x)| (k.get_ref().to_string(), to_json(x.get_ref())))
                .collect(),
        ),
    }
}

fn decode_observability(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Observability> {
    let mut t = Table::new(v, cx, *path, "observability table")?;
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

fn decode_security(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Security> {
    let mut t = Table::new(v, cx, *path, "security table")?;
    let firewall = t.opt(cx, "firewall");
    let ops_vpn = t.opt(cx, "ops_vpn");
    let site_to_site_vpn = t.opt(cx, "site_to_site_vpn");
    let public_ports = t.opt(cx, "public_ports").unwrap_or_default();
    let encryption_in_transit = t.opt(cx, "encryption_in_transit");
    let span = t.span;
    t.finish(cx);
    Some(Security {
        firewall,
        ops_vpn,
        site_to_site_vpn,
        public_ports,
        encryption_in_transit,
        span,
    })
}

fn decode_pentest(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Pentest> {
    let mut t = Table::new(v, cx, *path, "pentest table")?;
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

fn decode_open_findings(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<OpenFindings> {
    let mut t = Table::new(v, cx, *path, "open findings table")?;
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

fn decode_operations(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Operations> {
    let mut t = Table::new(v, cx, *path, "operations table")?;
    let log_monitoring = t.opt(cx, "log_monitoring");
    let backup_monitoring = t.opt(cx, "backup_monitoring");
    let security_updates = t.opt(cx, "security_updates");
    let agreement = t.opt(cx, "agreement");
    let log_review = t.opt(cx, "log_review");
    let span = t.span;
    t.finish(cx);
    Some(Operations {
        log_monitoring,
        backup_monitoring,
        security_updates,
        agreement,
        log_review,
        span,
    })
}

fn decode_accessibility_audit(
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<AccessibilityAudit> {
    let mut t = Table::new(v, cx, *path, "accessibility audit table")?;
    let auditor = t.opt(cx, "auditor");
    let standard = t.req(cx, "standard");
    let date = t.req(cx, "date");
    let report = t.opt(cx, "report");
    let open_issues = t.opt(cx, "open_issues");
    let span = t.span;
    t.finish(cx);
    Some(AccessibilityAudit {
        auditor,
        standard: standard.unwrap_or_default(),
        date: date.unwrap_or_default(),
        report,
        open_issues,
        span,
    })
}

fn decode_runbooks(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Runbooks> {
    let mut t = Table::new(v, cx, *path, "runbooks table")?;
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

fn decode_maintenance(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Maintenance> {
    let mut t = Table::new(v, cx, *path, "maintenance window")?;
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

fn decode_waiver(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Waiver> {
    let mut t = Table::new(v, cx, *path, "waiver")?;
    let rule = t.req(cx, "rule");
    let environment = t.req(cx, "environment");
    let reason = t.req(cx, "reason");
    let expires = t.req(cx, "expires");
    let approved_by = t.opt(cx, "approved_by");
    let span = t.span;
    t.finish(cx);
    Some(Waiver {
        rule: rule.unwrap_or_default(),
        environment: environment.unwrap_or_default(),
        reason: reason.unwrap_or_default(),
        expires: expires.unwrap_or_default(),
        approved_by,
        span,
    })
}

fn decode_attestation(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Attestation> {
    let mut t = Table::new(v, cx, *path, "attestation")?;
    let framework = t.req(cx, "framework");
    let control = t.req(cx, "control");
    let environment = t.opt(cx, "environment");
    let by = t.req(cx, "by");
    let date: Option<Spanned<crate::Date>> = t.req(cx, "date");
    let evidence = t.req(cx, "evidence");
    let valid_until: Option<Spanned<crate::Date>> = t.req(cx, "valid_until");
    let note = t.opt(cx, "note");
    let span = t.span;
    t.finish(cx);
    if let (Some(d), Some(until)) = (&date, &valid_until)
        && until.value < d.value
    {
        cx.push(
            Diagnostic::new("attestation expires before it was made", until.span)
                .label(format!(
                    "valid_until {} is before date {}",
                    until.value, d.value
                ))
                .note("expected `valid_until` on or after `date`"),
        );
    }
    Some(Attestation {
        framework: framework.unwrap_or_default(),
        control: control.unwrap_or_default(),
        environment,
        by: by.unwrap_or_default(),
        date: date.unwrap_or_default(),
        evidence: evidence.unwrap_or_default(),
        valid_until: valid_until.unwrap_or_default(),
        note,
        span,
    })
}
