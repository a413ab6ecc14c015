//! One environment: its findings by area with the guideline they enforce,
//! what its promotion to the next mode needs, and the promote action.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use stagegate_rules::{Area, EnvironmentResult, Finding, Status};
use stagegate_spec::Mode;
use stagegate_store::Role;

use super::html;
use super::overview::{achieved, title};
use super::session::{SignedForm, SignedIn};
use crate::AppState;
use crate::auth::extract::role;

struct Item<'r> {
    id: &'r str,
    title: &'r str,
    status: &'static str,
    status_label: &'static str,
    /// HTML: the text escaped, `code` spans as <code>.
    message: String,
    quote: String,
    /// HTML, as `message`.
    remediation: String,
    waiver: Option<String>,
    /// What the verdict rests on: "declared", "observed 3h ago from …".
    basis: String,
}

impl<'r> Item<'r> {
    /// `now`: Unix seconds, for the age of observations.
    fn new(f: &Finding<'r>, now: i64) -> Item<'r> {
        Item {
            basis: stagegate_report::basis_label(f, now),
            id: f.rule.id(),
            title: f.rule.title(),
            status: f.status.as_str(),
            status_label: match f.status {
                Status::Fail => "blocking",
                Status::Warn => "recommended",
                Status::Waived => "waived",
                Status::Pass => "passes",
                Status::Skip => "not applicable",
            },
            message: with_code(&f.message),
            quote: f.rule.guideline().join(" "),
            remediation: with_code(f.rule.remediation()),
            waiver: f.waiver.as_ref().map(|w| {
                format!(
                    "Waived until {}{}: {}{}",
                    w.expires,
                    w.approved_by
                        .as_ref()
                        .map(|a| format!(", approved by {a}"))
                        .unwrap_or_default(),
                    w.reason,
                    if w.expired { " (expired)" } else { "" }
                )
            }),
        }
    }
}

/// `text` as HTML: escaped, with backquoted spans set as code, which is
/// how messages and remediations write keys and commands.
fn with_code(text: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        // An unpaired backquote: no code spans at all.
        return escape(text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape(p))
            } else {
                escape(p)
            }
        })
        .collect()
}

struct Group<'r> {
    area: &'static str,
    open: Vec<Item<'r>>,
    passed: Vec<Item<'r>>,
}

#[derive(Template)]
#[template(path = "environment.html")]
struct EnvironmentPage<'r> {
    chrome: super::Chrome,
    name: String,
    promote_action: String,
    mode: &'static str,
    verdict: &'static str,
    fails: usize,
    warns: usize,
    achieved: Option<&'static str>,
    flash: Option<String>,
    next: Option<&'static str>,
    next_slug: &'static str,
    plan: Vec<Item<'r>>,
    can_promote: bool,
    groups: Vec<Group<'r>>,
    /// What the promotion gates measured, in words (label, value).
    gates: Vec<(&'static str, String)>,
    approvals: Vec<ApprovalRow>,
    can_approve: bool,
    approve_action: String,
    duties: Vec<DutyRow>,
    /// Each server and its agent's last report, in words.
    servers: Vec<(String, String)>,
}

/// A duty heartbeat as the page lists it.
struct DutyRow {
    label: &'static str,
    check: String,
    status: &'static str,
    /// When it was last done and by whom, in words.
    last: String,
    action: String,
}

/// An approval as the page lists it.
struct ApprovalRow {
    by: String,
    to: String,
    at: String,
    until: String,
    /// "valid", or why it does not count.
    state: String,
}

/// The promotion facts as lines of the page: soak progress, measured
/// availability against the target with the error budget used, open
/// incidents, backup runs, freezes in force or coming.
fn gate_lines(
    spec: &stagegate_spec::Spec,
    env: &stagegate_spec::Environment,
    f: &stagegate_rules::PromotionFacts,
) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    let policy = spec.policy.promotion.clone().unwrap_or_default();
    if let Some(soak) = policy.soak(env.mode.value) {
        let value = match f.in_mode_since {
            Some(since) => {
                let ran = f.now - since;
                let needed = i64::try_from(soak.as_secs()).unwrap_or(i64::MAX);
                let pct = if needed > 0 {
                    (100 * ran.min(needed) / needed).clamp(0, 100)
                } else {
                    100
                };
                format!(
                    "{} of {soak} ({pct}%), {}",
                    stagegate_spec::age(ran),
                    f.in_mode_since_from
                )
            }
            None => format!("not yet watched in {}", env.mode.value.label()),
        };
        lines.push(("Soak", value));
    }
    if let Some(a) = &f.availability {
        let measured = a.percent(f.now);
        let value = match spec.product.availability_target.as_ref().map(|t| t.value) {
            Some(target) => {
                let window = (f.now - a.from).max(1) as f64;
                let budget = (100.0 - target) / 100.0 * window;
                let used = if budget > 0.0 {
                    format!("{:.0}%", 100.0 * a.down_secs as f64 / budget)
                } else {
                    "n/a".to_owned()
                };
                format!(
                    "{measured:.3}% over {} (target {target}%, error budget used {used})",
                    stagegate_spec::age(f.now - a.from)
                )
            }
            None => format!(
                "{measured:.3}% over {} (no target set)",
                stagegate_spec::age(f.now - a.from)
            ),
        };
        lines.push(("Availability", value));
    }
    lines.push((
        "Open incidents",
        if f.open_incidents.is_empty() {
            "none".to_owned()
        } else {
            f.open_incidents.join("; ")
        },
    ));
    if let Some(runs) = &f.backup_runs {
        let ok = runs.runs.iter().take_while(|(_, ok)| *ok).count();
        lines.push((
            "Backup runs",
            format!(
                "{} reported; the last {ok} succeeded ({} needed)",
                runs.runs.len(),
                policy.backup_runs
            ),
        ));
    }
    for w in spec
        .freezes
        .iter()
        .filter(|w| w.covers(&env.name.value) && w.until > f.now)
    {
        let when = if w.from <= f.now {
            "in force"
        } else {
            "coming"
        };
        lines.push((
            "Freeze",
            format!(
                "{when}: {} to {} ({}): {}",
                w.start.value, w.end.value, w.timezone.value, w.reason
            ),
        ));
    }
    lines
}

fn groups<'r>(result: &EnvironmentResult<'r>, now: i64) -> Vec<Group<'r>> {
    Area::ALL
        .iter()
        .map(|&area| {
            let of_area = || {
                result
                    .findings
                    .iter()
                    .filter(move |f| f.rule.area() == area)
            };
            Group {
                area: area.title(),
                open: of_area()
                    .filter(|f| f.status.is_open())
                    .map(|f| Item::new(f, now))
                    .collect(),
                passed: of_area()
                    .filter(|f| f.status == Status::Pass)
                    .map(|f| Item::new(f, now))
                    .collect(),
            }
        })
        .filter(|g| !g.open.is_empty() || !g.passed.is_empty())
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct Flash {
    promoted: Option<String>,
    done: Option<String>,
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    SignedIn(viewer, _): SignedIn,
    Path(name): Path<String>,
    Query(flash): Query<Flash>,
) -> Response {
    let done = flash
        .done
        .as_deref()
        .and_then(stagegate_spec::Duty::parse)
        .map(|d| {
            format!(
                "{} is recorded as done, by you, now.",
                capitalised(d.label())
            )
        });
    let flash = flash
        .promoted
        .as_deref()
        .and_then(Mode::parse)
        .map(|m| format!("The promotion to {} is recorded.", m.label()))
        .or(done);
    render(&state, &viewer, &name, StatusCode::OK, flash).await
}

async fn render(
    state: &AppState,
    viewer: &super::session::Viewer,
    name: &str,
    status: StatusCode,
    flash: Option<String>,
) -> Response {
    let now = crate::verdicts::Now::gather(state).await;
    let unix_now = state.clock.now().div_euclid(1000);
    let snapshot = &now.snapshot;
    let Some(env) = snapshot.spec.environment(name) else {
        return super::not_found(&format!(
            "There is no environment named “{name}” in the spec."
        ));
    };
    let own = now.environment(env, env.mode.value);
    let next = env.mode.value.next();
    let source = crate::gates::source(&state.node, &state.location);
    let facts = match crate::gates::facts(
        state.store.as_ref(),
        &now,
        env,
        Some(&viewer.token.name),
        &source,
    )
    .await
    {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(error = %e, "dashboard: cannot gather the promotion facts");
            None
        }
    };
    let plan = next
        .map(|m| {
            now.evaluator_for(env, m, facts.as_ref())
                .findings
                .iter()
                .filter(|f| f.status == Status::Fail)
                .map(|f| Item::new(f, unix_now))
                .collect()
        })
        .unwrap_or_default();
    let gates = facts
        .as_ref()
        .map(|f| gate_lines(&snapshot.spec, env, f))
        .unwrap_or_default();
    let approvals = facts
        .as_ref()
        .map(|f| {
            f.approvals
                .iter()
                .take(20)
                .map(|a| ApprovalRow {
                    by: a.by.clone(),
                    to: a.to.clone(),
                    at: stagegate_spec::rfc3339(a.at),
                    until: stagegate_spec::rfc3339(a.expires_at),
                    state: a
                        .problem(&a.to, &f.spec_sha256, f.now)
                        .unwrap_or_else(|| "valid".to_owned()),
                })
                .collect()
        })
        .unwrap_or_default();
    let (duties, servers) = match duties_and_servers(state, env).await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "dashboard: the store is unavailable");
            return super::unavailable();
        }
    };
    html(
        status,
        &EnvironmentPage {
            chrome: super::Chrome::new(
                viewer,
                snapshot.spec.product.name.value.clone(),
                "environment",
            ),
            name: env.name.value.clone(),
            promote_action: format!(
                "/environments/{}/promote",
                super::path_segment(&env.name.value)
            ),
            mode: env.mode.value.label(),
            verdict: own.verdict().as_str(),
            fails: own.summary().fail,
            warns: own.summary().warn,
            achieved: achieved(&now, env, &own).map(title),
            flash,
            next: next.map(Mode::label),
            next_slug: next.map_or("", Mode::as_str),
            plan,
            can_promote: viewer.can(Role::Operator),
            groups: groups(&own, unix_now),
            gates,
            approvals,
            can_approve: viewer.can(Role::Approver),
            approve_action: format!(
                "/environments/{}/approve",
                super::path_segment(&env.name.value)
            ),
            duties,
            servers,
        },
    )
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The environment's duty heartbeats (last done, by whom) and its servers'
/// last agent reports.
async fn duties_and_servers(
    state: &AppState,
    env: &stagegate_spec::Environment,
) -> Result<(Vec<DutyRow>, Vec<(String, String)>), stagegate_store::StoreError> {
    let snapshot = state.snapshot();
    let now = state.clock.now();
    let mut duties = Vec::new();
    for check in env.monitoring.iter().flat_map(|m| &m.checks) {
        let Some(duty) = &check.duty else { continue };
        let Some(h) = snapshot
            .heartbeats
            .iter()
            .find(|h| h.environment == env.name.value && h.check == check.name.value)
        else {
            continue;
        };
        let pings = state.store.pings(&h.token, 50).await?;
        let last = super::last_done(&pings, now).unwrap_or_else(|| "never signalled".to_owned());
        let status = match state.store.check_state(&h.key()).await?.map(|s| s.status) {
            Some(stagegate_store::CheckStatus::Up) => "up",
            Some(stagegate_store::CheckStatus::Down) => "down",
            _ => "unknown",
        };
        duties.push(DutyRow {
            label: duty.value.label(),
            check: check.name.value.clone(),
            status,
            last,
            action: format!(
                "/environments/{}/duties/{}",
                super::path_segment(&env.name.value),
                duty.value.as_str()
            ),
        });
    }
    let mut servers = Vec::new();
    if env.agent.is_some() {
        let reports = state.store.latest_agent_reports().await?;
        for s in &env.servers {
            let last = reports
                .iter()
                .find(|r| r.server == s.name.value)
                .map_or_else(
                    || "no agent report yet".to_owned(),
                    |r| {
                        format!(
                            "last agent report {} ago",
                            super::lasted(now - r.collected_at)
                        )
                    },
                );
            servers.push((s.name.value.clone(), last));
        }
    }
    Ok((duties, servers))
}

#[derive(Debug, Deserialize)]
pub struct DutyForm {
    csrf: Option<String>,
    note: Option<String>,
}

impl super::session::Posted for DutyForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// The "done" button of a duty: records it as done by the signed-in
/// operator.
pub async fn duty_done(
    State(state): State<Arc<AppState>>,
    Path((name, duty)): Path<(String, String)>,
    SignedForm { viewer, form, .. }: SignedForm<DutyForm, role::Operator>,
) -> Response {
    match crate::api::duties::record(
        &state,
        &name,
        &duty,
        &viewer.token.name,
        form.note.as_deref(),
    )
    .await
    {
        Ok(done) => Redirect::to(&format!(
            "/environments/{}?done={}",
            super::path_segment(&name),
            done.duty
        ))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct PromoteForm {
    csrf: Option<String>,
    to: String,
}

impl super::session::Posted for PromoteForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn promote(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    SignedForm { viewer, form, .. }: SignedForm<PromoteForm, role::Operator>,
) -> Response {
    let Some(to) = Mode::parse(&form.to) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("`to` is not a mode: {:?}", form.to),
        )
            .into_response();
    };
    let now = crate::verdicts::Now::gather(&state).await;
    let source = crate::gates::source(&state.node, &state.location);
    match crate::promote::promote(
        state.store.as_ref(),
        &now,
        &name,
        to,
        &viewer.token.name,
        &source,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!(
            "/environments/{}?promoted={}",
            super::path_segment(&name),
            to.as_str()
        ))
        .into_response(),
        Err(crate::promote::Refused::UnknownEnvironment(_)) => super::not_found(&format!(
            "There is no environment named “{name}” in the spec."
        )),
        Err(crate::promote::Refused::Blocked { to, failing }) => {
            render(
                &state,
                &viewer,
                &name,
                StatusCode::CONFLICT,
                Some(format!(
                    "Not promoted: {} requirement{} of {} fail{} (listed below).",
                    failing.len(),
                    if failing.len() == 1 { "" } else { "s" },
                    to.label(),
                    if failing.len() == 1 { "s" } else { "" }
                )),
            )
            .await
        }
        Err(crate::promote::Refused::Store(e)) => {
            tracing::error!(error = %e, "dashboard: cannot record a promotion");
            super::unavailable()
        }
    }
}

/// The approve button: records an approval of the promotion to `to` by the
/// signed-in approver.
pub async fn approve(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    SignedForm { viewer, form, .. }: SignedForm<PromoteForm, role::Approver>,
) -> Response {
    let Some(to) = Mode::parse(&form.to) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("`to` is not a mode: {:?}", form.to),
        )
            .into_response();
    };
    if state.snapshot().spec.environment(&name).is_none() {
        return super::not_found(&format!(
            "There is no environment named “{name}” in the spec."
        ));
    }
    match crate::api::approve_now(&state, &name, to, &viewer.token.name).await {
        Ok(_) => Redirect::to(&format!(
            "/environments/{}?approved={}",
            super::path_segment(&name),
            to.as_str()
        ))
        .into_response(),
        Err(_) => super::unavailable(),
    }
}

#[cfg(test)]
mod tests {
    use super::with_code;

    #[test]
    fn code_spans_are_code_and_the_rest_is_escaped() {
        assert_eq!(
            with_code("set `security.firewall = true` for <all>"),
            "set <code>security.firewall = true</code> for &lt;all&gt;"
        );
        assert_eq!(with_code("a ` b <i>"), "a ` b &lt;i&gt;");
        assert_eq!(with_code("`<b>`"), "<code>&lt;b&gt;</code>");
    }
}
