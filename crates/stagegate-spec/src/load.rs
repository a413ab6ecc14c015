//! Loading a spec: TOML syntax, then typed decoding, then cross-references.
//! Every phase collects all of its problems before giving up.

use toml::de::{DeTable, DeValue};

use crate::decode::{
    Cx, Decode, LocalDateTime, Path, Table, Value, decode_environment, positive, span_of, to_json,
};
use crate::interpolate::EnvLookup;
use crate::model::*;
use crate::shape;
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
    let mut t = Table::new(root, cx, Path::Root, &shape::SPEC)?;
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
    let product = match t.get_required("product") {
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
    let rotations = decode_map(&mut t, cx, "rotations", "rotations table", decode_rotation);
    let escalations = decode_map(
        &mut t,
        cx,
        "escalations",
        "escalations table",
        decode_escalation,
    );
    let environments = match t.get_required("environments") {
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
    let applicability = match t.get("applicability") {
        Some(v) => decode_array_of_tables(
            v,
            cx,
            &Path::Key(&Path::Root, "applicability"),
            decode_applicability,
        ),
        None => Some(Vec::new()),
    };
    let freezes = match t.get("freeze") {
        Some(v) => decode_array_of_tables(v, cx, &Path::Key(&Path::Root, "freeze"), decode_freeze),
        None => Some(Vec::new()),
    };
    let policies = match t.get("policies") {
        Some(v) => Vec::<Spanned<String>>::decode(v, cx, &Path::Key(&Path::Root, "policies")),
        None => Some(Vec::new()),
    };
    t.finish(cx);
    let policies = policies.unwrap_or_default();
    let document = (!policies.is_empty()).then(|| std::sync::Arc::new(to_json(root.get_ref())));
    Some(Spec {
        version,
        product: product.unwrap_or_default(),
        policy: policy.unwrap_or_default(),
        contacts: contacts.unwrap_or_default(),
        notifiers: notifiers.unwrap_or_default(),
        environments: environments.unwrap_or_default(),
        waivers: waivers.unwrap_or_default(),
        attestations: attestations.unwrap_or_default(),
        applicability: applicability.unwrap_or_default(),
        policies,
        freezes: freezes.unwrap_or_default(),
        rotations: rotations.unwrap_or_default(),
        escalations: escalations.unwrap_or_default(),
        document,
    })
}

pub(crate) fn missing_table(cx: &mut Cx<'_>, key: &str, example: &str) {
    cx.push(
        Diagnostic::new(format!("missing required table `[{key}]`"), Span::new(0, 0))
            .label(format!("the spec has no `{key}`"))
            .note(format!("expected, for example:\n{example}")),
    );
}

/// Decodes a table of id → table (contacts, notifiers, environments).
pub(crate) fn decode_map<T>(
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
    let t = Table::map(v, cx, path, what)?;
    let mut out = Vec::new();
    for (id, value) in t.entries() {
        let name = id.value;
        out.extend(decode(id, value, cx, &t.child_path(name)));
    }
    Some(out)
}

pub(crate) fn decode_array_of_tables<T>(
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
    let mut t = Table::new(v, cx, Path::Key(&Path::Root, "product"), &shape::PRODUCT)?;
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
    let pci_role = t.opt(cx, "pci_role");
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
        pci_role,
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
    let mut t = Table::new(v, cx, Path::Key(&Path::Root, "policy"), &shape::POLICY)?;
    let defaults = Policy::default();
    let cluster_required_at = percent(&mut t, cx, "cluster_required_at").map(|s| s.value);
    let pentest_max_age: Option<Duration> = t.opt(cx, "pentest_max_age");
    let accessibility_audit_max_age: Option<Duration> = t.opt(cx, "accessibility_audit_max_age");
    let policy_timeout: Option<Duration> = t.opt(cx, "policy_timeout");
    let evidence_roots: Vec<Spanned<String>> = t.opt(cx, "evidence_roots").unwrap_or_default();
    let evidence_max_age: Option<Duration> = t.opt(cx, "evidence_max_age");
    let waiver_max_days = positive(&mut t, cx, "waiver_max_days");
    let attestation_max_days = positive(&mut t, cx, "attestation_max_days");
    let promotion = match t.get("promotion") {
        Some(v) => decode_promotion(v, cx),
        None => None,
    };
    let patch_max_age: Option<Duration> = t.opt(cx, "patch_max_age");
    let custom_claims: Vec<Spanned<String>> = t.opt(cx, "custom_claims").unwrap_or_default();
    let span = t.span;
    t.finish(cx);
    Some(Policy {
        cluster_required_at: cluster_required_at.unwrap_or(defaults.cluster_required_at),
        pentest_max_age: pentest_max_age.unwrap_or(defaults.pentest_max_age),
        accessibility_audit_max_age: accessibility_audit_max_age
            .unwrap_or(defaults.accessibility_audit_max_age),
        policy_timeout: policy_timeout.unwrap_or(defaults.policy_timeout),
        evidence_roots,
        evidence_max_age: evidence_max_age.unwrap_or(defaults.evidence_max_age),
        waiver_max_days: waiver_max_days.unwrap_or(defaults.waiver_max_days),
        attestation_max_days: attestation_max_days.unwrap_or(defaults.attestation_max_days),
        promotion,
        patch_max_age: patch_max_age.unwrap_or(defaults.patch_max_age),
        custom_claims,
        span: Some(span),
    })
}

fn decode_promotion(v: &Value<'_>, cx: &mut Cx<'_>) -> Option<PromotionPolicy> {
    let path = Path::Key(&Path::Root, "policy");
    let mut t = Table::new(v, cx, Path::Key(&path, "promotion"), &shape::PROMOTION)?;
    let defaults = PromotionPolicy::default();
    let (soak_staging, soak_soft_launch) = match t.get("soak") {
        Some(soak) => {
            let promotion = Path::Key(&path, "promotion");
            match Table::new(soak, cx, Path::Key(&promotion, "soak"), &shape::SOAK) {
                Some(mut s) => {
                    let staging: Option<Duration> = s.opt(cx, "staging");
                    let soft: Option<Duration> = s.opt(cx, "soft-launch");
                    s.finish(cx);
                    (staging, soft)
                }
                None => (None, None),
            }
        }
        None => (None, None),
    };
    let backup_runs = positive(&mut t, cx, "backup_runs");
    let approvals: Option<u32> = t.opt(cx, "approvals");
    let approval_valid_for: Option<Duration> = t.opt(cx, "approval_valid_for");
    let span = t.span;
    t.finish(cx);
    Some(PromotionPolicy {
        soak_staging: soak_staging.unwrap_or(defaults.soak_staging),
        soak_soft_launch: soak_soft_launch.unwrap_or(defaults.soak_soft_launch),
        backup_runs: backup_runs.unwrap_or(defaults.backup_runs),
        approvals: approvals.unwrap_or(defaults.approvals),
        approval_valid_for: approval_valid_for.unwrap_or(defaults.approval_valid_for),
        span,
    })
}

fn decode_freeze(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Freeze> {
    let mut t = Table::new(v, cx, *path, &shape::FREEZE)?;
    let start: Option<Spanned<LocalDateTime>> = t.req(cx, "start");
    let end: Option<Spanned<LocalDateTime>> = t.req(cx, "end");
    let timezone: Option<Spanned<String>> = t.req(cx, "timezone");
    let reason: Option<String> = t.req(cx, "reason");
    let environments: Vec<Spanned<String>> = t.opt(cx, "environments").unwrap_or_default();
    let span = t.span;
    t.finish(cx);
    let timezone = timezone?;
    let zone = time_zone(cx, &timezone)?;
    let (start, end) = (start?, end?);
    let (from, until) = (
        unix_in(&zone, start.value.value)?,
        unix_in(&zone, end.value.value)?,
    );
    let (start, end) = (start.map(|s| s.text), end.map(|e| e.text));
    if until <= from {
        cx.push(
            Diagnostic::new("freeze window ends before it starts", end.span)
                .label(format!(
                    "end {} is not after start {}",
                    end.value, start.value
                ))
                .note("expected `end` later than `start`"),
        );
        return None;
    }
    Some(Freeze {
        start,
        end,
        timezone,
        from,
        until,
        reason: reason.unwrap_or_default(),
        environments,
        span,
    })
}

/// The IANA time zone a spec names, or a diagnostic with the closest name.
fn time_zone(cx: &mut Cx<'_>, timezone: &Spanned<String>) -> Option<jiff::tz::TimeZone> {
    match jiff::tz::TimeZone::get(&timezone.value) {
        Ok(zone) => Some(zone),
        Err(_) => {
            let zones: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
            let suggestion =
                crate::suggest::did_you_mean(&timezone.value, zones.iter().map(String::as_str));
            cx.push(
                Diagnostic::new("unknown time zone", timezone.span)
                    .label(format!("\"{}\" is not an IANA time zone", timezone.value))
                    .note("expected a name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\"")
                    .with_hint(suggestion),
            );
            None
        }
    }
}

/// A local time in `zone` as Unix seconds. A local time skipped by a DST
/// change moves forward; a repeated one takes its first occurrence (jiff's
/// "compatible" choice, as RFC 5545).
fn unix_in(zone: &jiff::tz::TimeZone, t: jiff::civil::DateTime) -> Option<i64> {
    zone.to_ambiguous_zoned_datetime(t)
        .compatible()
        .ok()
        .map(|z| z.timestamp().as_second())
}

fn decode_escalation(
    id: Spanned<&str>,
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Escalation> {
    let mut t = Table::new(v, cx, *path, &shape::ESCALATION)?;
    let repeat = t.opt(cx, "repeat").unwrap_or(false);
    let levels = match t.get_required("levels") {
        Some(lv) => decode_array_of_tables(lv, cx, &t.child_path("levels"), |v, cx, path| {
            let mut t = Table::new(v, cx, *path, &shape::LEVEL)?;
            let after: Option<Spanned<crate::decode::Delay>> = t.req(cx, "after");
            let notify: Option<Vec<Spanned<String>>> = t.req(cx, "notify");
            let span = t.span;
            t.finish(cx);
            Some(Level {
                after: after?.map(|d| d.0),
                notify: notify?,
                span,
            })
        }),
        None => None,
    };
    let span = t.span;
    t.finish(cx);
    let levels = levels?;
    if levels.is_empty() {
        cx.push(
            Diagnostic::new(format!("escalation `{}` has no levels", id.value), span)
                .label("no [[levels]]")
                .note("expected at least one level, e.g. [[escalations.ID.levels]] after = \"0m\", notify = [\"rotation:primary\"]"),
        );
    }
    for pair in levels.windows(2) {
        let (before, level) = (&pair[0], &pair[1]);
        if level.after.value.get() <= before.after.value.get() {
            cx.push(
                Diagnostic::new(
                    format!("levels of escalation `{}` are out of order", id.value),
                    level.after.span,
                )
                .label(format!(
                    "after {} is not later than the level before ({})",
                    level.after.value, before.after.value
                ))
                .related(before.after.span, "the level before")
                .note("expected each level's `after` later than the one before it, e.g. \"0m\", then \"15m\", then \"45m\""),
            );
        }
    }
    Some(Escalation {
        id: id.map(str::to_owned),
        levels,
        repeat,
        span,
    })
}

fn decode_rotation(
    id: Spanned<&str>,
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Rotation> {
    let mut t = Table::new(v, cx, *path, &shape::ROTATION)?;
    let members: Option<Spanned<Vec<Spanned<String>>>> = t.req(cx, "members");
    let shift: Option<Spanned<Duration>> = t.req(cx, "shift");
    let start: Option<Spanned<LocalDateTime>> = t.req(cx, "start");
    let timezone: Option<Spanned<String>> = t.req(cx, "timezone");
    let overrides = match t.get("overrides") {
        Some(ov) => decode_array_of_tables(ov, cx, &t.child_path("overrides"), |v, cx, path| {
            let mut t = Table::new(v, cx, *path, &shape::OVERRIDE)?;
            let member: Option<Spanned<String>> = t.req(cx, "member");
            let from: Option<Spanned<LocalDateTime>> = t.req(cx, "from");
            let until: Option<Spanned<LocalDateTime>> = t.req(cx, "until");
            let span = t.span;
            t.finish(cx);
            Some((member?, from?, until?, span))
        }),
        None => Some(Vec::new()),
    };
    let span = t.span;
    t.finish(cx);
    if let Some(m) = &members
        && m.value.is_empty()
    {
        cx.push(
            Diagnostic::new(format!("rotation `{}` has no members", id.value), m.span)
                .label("empty")
                .note("expected the contact ids who take shifts in turn, e.g. members = [\"alice\", \"bob\"]"),
        );
    }
    let timezone = timezone?;
    let zone = time_zone(cx, &timezone)?;
    let mut decoded: Vec<Override> = Vec::new();
    for (member, from, until, span) in overrides.unwrap_or_default() {
        let (Some(f), Some(u)) = (
            unix_in(&zone, from.value.value),
            unix_in(&zone, until.value.value),
        ) else {
            continue;
        };
        let (from_text, until_text) = (from.map(|f| f.text), until.map(|u| u.text));
        if u <= f {
            cx.push(
                Diagnostic::new("override ends before it starts", until_text.span)
                    .label(format!(
                        "until {} is not after from {}",
                        until_text.value, from_text.value
                    ))
                    .note("expected `until` later than `from`"),
            );
            continue;
        }
        if let Some(other) = decoded.iter().find(|o| o.from < u && f < o.until) {
            cx.push(
                Diagnostic::new(
                    format!("overrides of rotation `{}` overlap", id.value),
                    from_text.span,
                )
                .label(format!(
                    "{} – {} overlaps the override of {}",
                    from_text.value, until_text.value, other.member.value
                ))
                .related(other.span, "the override it overlaps")
                .note(
                    "expected one person on call at a time: end one override where the next begins",
                ),
            );
            continue;
        }
        decoded.push(Override {
            member,
            from_text,
            until_text,
            from: f,
            until: u,
            span,
        });
    }
    let start = start?;
    Some(Rotation {
        id: id.map(str::to_owned),
        members: members?.value,
        shift: shift?,
        start_local: start.value.value,
        start: start.map(|s| s.text),
        timezone,
        zone,
        overrides: decoded,
        span,
    })
}

fn decode_contact(
    id: Spanned<&str>,
    v: &Value<'_>,
    cx: &mut Cx<'_>,
    path: &Path<'_>,
) -> Option<Contact> {
    let mut t = Table::new(v, cx, *path, &shape::CONTACT)?;
    let name = t.opt(cx, "name");
    let email = t.opt(cx, "email");
    let phone = t.opt(cx, "phone");
    let on_call = t.opt(cx, "on_call").unwrap_or(false);
    let signs_off = t.opt(cx, "signs_off").unwrap_or(false);
    let notify = t.opt(cx, "notify").unwrap_or_default();
    let span = t.span;
    t.finish(cx);
    Some(Contact {
        id: id.map(str::to_owned),
        name,
        email,
        phone,
        on_call,
        signs_off,
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
    let mut t = Table::new(v, cx, *path, &shape::NOTIFIER)?;
    let kind: Option<Spanned<NotifierKind>> = t.req(cx, "type");
    let url = t.opt(cx, "url");
    let secret = t.opt(cx, "secret");
    let routing_key = t.opt(cx, "routing_key");
    let smtp = t.opt(cx, "smtp");
    let from = t.opt(cx, "from");
    let ca_file = t.opt(cx, "ca_file");
    let token: Option<crate::Deferred> = t.opt(cx, "token");
    let chat_id = t.opt(cx, "chat_id");
    let room = t.opt(cx, "room");
    let user_key: Option<crate::Deferred> = t.opt(cx, "user_key");
    let status_updates = t.opt(cx, "status_updates").unwrap_or(false);
    let span = t.span;
    if let Some(kind) = &kind {
        let needs: &[&str] = match kind.value {
            NotifierKind::Webhook
            | NotifierKind::Slack
            | NotifierKind::Ntfy
            | NotifierKind::Teams
            | NotifierKind::Discord
            | NotifierKind::GoogleChat
            | NotifierKind::Mattermost => &["url"],
            NotifierKind::Pagerduty => &["routing_key"],
            NotifierKind::Email => &["smtp", "from"],
            NotifierKind::Telegram => &["token", "chat_id"],
            NotifierKind::Matrix => &["url", "token", "room"],
            NotifierKind::Opsgenie => &["token"],
            NotifierKind::Pushover => &["token", "user_key"],
            NotifierKind::Gotify => &["url", "token"],
        };
        if status_updates && kind.value == NotifierKind::Pagerduty {
            cx.push(
                Diagnostic::new(
                    "a pagerduty notifier cannot take `status_updates`",
                    t.key_span("status_updates").unwrap_or(span),
                )
                .label("PagerDuty pages whoever is on call")
                .note("public status updates are for people to read: send them through a chat, webhook, email or push notifier"),
            );
        }
        // The webhook URLs of these channels are their credential.
        let url_is_secret = matches!(
            kind.value,
            NotifierKind::Teams
                | NotifierKind::Discord
                | NotifierKind::GoogleChat
                | NotifierKind::Mattermost
        );
        for (key, value) in [
            ("token", token.as_ref()),
            ("user_key", user_key.as_ref()),
            ("url", url.as_ref().filter(|_| url_is_secret)),
        ] {
            if let Some(value) = value.filter(|v| v.variables().is_empty()) {
                cx.push(secret_written_out(kind.value, key, value.span()));
            }
        }
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
        token,
        chat_id,
        room,
        user_key,
        status_updates,
        span,
    })
}

/// A credential written into the spec, where anyone who reads the
/// repository can use it: the newer channels take theirs only from the
/// server's environment.
fn secret_written_out(kind: NotifierKind, key: &str, span: Span) -> Diagnostic {
    let var = format!(
        "{}_{}",
        kind.as_str().replace('-', "_").to_ascii_uppercase(),
        if key == "url" {
            "WEBHOOK_URL".to_owned()
        } else {
            key.to_ascii_uppercase()
        }
    );
    Diagnostic::new(
        format!("the {kind} notifier's `{key}` is a secret written into the spec"),
        span,
    )
    .label("written out here")
    .note(format!(
        "take it from the server's environment instead: `{key} = \"${{{var}}}\"`, with {var} set where `stagegate serve` runs"
    ))
}

/// An optional sub-table: `Some(None)` when absent, `None` when invalid.
pub(crate) fn sub<T>(
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

fn decode_waiver(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Waiver> {
    let mut t = Table::new(v, cx, *path, &shape::WAIVER)?;
    let rule = t.req(cx, "rule");
    let environment = t.req(cx, "environment");
    let reason = t.req(cx, "reason");
    let expires = t.req(cx, "expires");
    let approved_by = t.opt(cx, "approved_by");
    let granted: Option<Spanned<crate::Date>> = t.opt(cx, "granted");
    let span = t.span;
    t.finish(cx);
    let expires: Option<Spanned<crate::Date>> = expires;
    if let (Some(g), Some(e)) = (&granted, &expires)
        && e.value < g.value
    {
        cx.push(
            Diagnostic::new("waiver expires before it was granted", e.span)
                .label(format!("expires {} is before granted {}", e.value, g.value))
                .note("expected `expires` on or after `granted`"),
        );
    }
    Some(Waiver {
        rule: rule.unwrap_or_default(),
        environment: environment.unwrap_or_default(),
        reason: reason.unwrap_or_default(),
        expires: expires.unwrap_or_default(),
        approved_by,
        granted,
        span,
    })
}

fn decode_applicability(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Applicability> {
    let mut t = Table::new(v, cx, *path, &shape::APPLICABILITY)?;
    let framework = t.req(cx, "framework");
    let control = t.req(cx, "control");
    let environment = t.opt(cx, "environment");
    let reason: Option<Spanned<String>> = t.req(cx, "reason");
    let approved_by: Option<Spanned<String>> = t.req(cx, "approved_by");
    let span = t.span;
    t.finish(cx);
    // A control left out without a reason or an owner is a hole in the
    // Statement of Applicability, not an exclusion.
    for (key, value) in [("reason", &reason), ("approved_by", &approved_by)] {
        if let Some(v) = value
            && v.value.trim().is_empty()
        {
            cx.push(
                Diagnostic::new(format!("`{key}` is empty"), v.span)
                    .label("empty")
                    .note(if key == "reason" {
                        "expected why the control does not apply, e.g. \"no cardholder data is stored\""
                    } else {
                        "expected who approved leaving the control out, e.g. \"ciso@example.com\""
                    }),
            );
        }
    }
    Some(Applicability {
        framework: framework.unwrap_or_default(),
        control: control.unwrap_or_default(),
        environment,
        reason: reason.unwrap_or_default(),
        approved_by: approved_by.unwrap_or_default(),
        span,
    })
}

fn decode_attestation(v: &Value<'_>, cx: &mut Cx<'_>, path: &Path<'_>) -> Option<Attestation> {
    let mut t = Table::new(v, cx, *path, &shape::ATTESTATION)?;
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
