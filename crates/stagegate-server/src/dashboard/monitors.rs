//! Monitors: every check with its status and uptime, and one check's
//! latency chart and recent results with their evidence.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use stagegate_store::{CheckStatus, Outcome, Uptime};

use super::chart::{self, Point};
use super::session::SignedIn;
use super::{html, path_segment};
use crate::AppState;
use crate::snapshot::check_key;

const DAY_MS: i64 = 86_400_000;

fn percent(u: Option<&Uptime>) -> String {
    match u.and_then(Uptime::percent) {
        Some(p) if p >= 99.995 => "100%".to_owned(),
        Some(p) => format!("{p:.2}%"),
        None => "—".to_owned(),
    }
}

fn status_class(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Up => "up",
        CheckStatus::Down => "down",
        CheckStatus::Unknown => "unknown",
    }
}

struct Row {
    name: String,
    href: String,
    kind: &'static str,
    status: &'static str,
    day: String,
    week: String,
    month: String,
    latency: String,
}

struct Section {
    environment: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "monitors.html")]
struct MonitorsPage {
    chrome: super::Chrome,
    up: usize,
    down: usize,
    unknown: usize,
    sections: Vec<Section>,
}

pub async fn list(State(state): State<Arc<AppState>>, SignedIn(viewer, _): SignedIn) -> Response {
    let snapshot = state.snapshot();
    let now = state.clock.now();
    let fetched = async {
        Ok::<_, stagegate_store::StoreError>((
            state.store.check_states().await?,
            state.store.uptimes(now - DAY_MS).await?,
            state.store.uptimes(now - 7 * DAY_MS).await?,
            state.store.uptimes(now - 30 * DAY_MS).await?,
        ))
    };
    let (states, day, week, month) = match fetched.await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "monitors: the store is unavailable");
            return super::unavailable();
        }
    };
    let states: HashMap<&str, CheckStatus> = states
        .iter()
        .map(|s| (s.check.as_str(), s.status))
        .collect();
    let index = |v: &[(String, Uptime)]| -> HashMap<String, Uptime> { v.iter().cloned().collect() };
    let (day, week, month) = (index(&day), index(&week), index(&month));
    let (mut up, mut down, mut unknown) = (0, 0, 0);
    let mut sections = Vec::new();
    for env in &snapshot.spec.environments {
        let Some(monitoring) = &env.monitoring else {
            continue;
        };
        if monitoring.checks.is_empty() {
            continue;
        }
        let rows = monitoring
            .checks
            .iter()
            .map(|c| {
                let key = check_key(&env.name.value, &c.name.value);
                let status = states
                    .get(key.as_str())
                    .copied()
                    .unwrap_or(CheckStatus::Unknown);
                match status {
                    CheckStatus::Up => up += 1,
                    CheckStatus::Down => down += 1,
                    CheckStatus::Unknown => unknown += 1,
                }
                Row {
                    name: c.name.value.clone(),
                    href: format!(
                        "/monitors/{}/{}",
                        path_segment(&env.name.value),
                        path_segment(&c.name.value)
                    ),
                    kind: c.kind.value.as_str(),
                    status: status_class(status),
                    day: percent(day.get(&key)),
                    week: percent(week.get(&key)),
                    month: percent(month.get(&key)),
                    latency: day
                        .get(&key)
                        .and_then(|u| u.latency_avg_ms)
                        .map_or("—".to_owned(), |v| format!("{v:.1} ms")),
                }
            })
            .collect();
        sections.push(Section {
            environment: env.name.value.clone(),
            rows,
        });
    }
    html(
        StatusCode::OK,
        &MonitorsPage {
            chrome: super::Chrome::new(
                &viewer,
                snapshot.spec.product.name.value.clone(),
                "monitors",
            ),
            up,
            down,
            unknown,
            sections,
        },
    )
}

struct ResultRow {
    when: String,
    outcome: &'static str,
    class: &'static str,
    place: String,
    summary: String,
    evidence: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "monitor.html")]
struct MonitorPage {
    chrome: super::Chrome,
    environment: String,
    name: String,
    kind: &'static str,
    status: &'static str,
    target: Option<String>,
    day: String,
    week: String,
    month: String,
    chart: String,
    results: Vec<ResultRow>,
    /// Cluster mode: each node's vote, and whether its vote counts now.
    votes: Vec<VoteRow>,
    cluster: bool,
}

struct VoteRow {
    node: String,
    location: String,
    status: &'static str,
    counts: &'static str,
    since: String,
    summary: String,
}

/// Evidence as (name, value) pairs, whatever JSON shape it was stored in.
fn evidence_pairs(raw: &str) -> Vec<(String, String)> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) else {
        return Vec::new();
    };
    if let Some(Value::Array(pairs)) = map.get("details") {
        return pairs
            .iter()
            .filter_map(|p| {
                Some((
                    p.get(0)?.as_str()?.to_owned(),
                    p.get(1)?.as_str()?.to_owned(),
                ))
            })
            .collect();
    }
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

pub async fn detail(
    State(state): State<Arc<AppState>>,
    SignedIn(viewer, _): SignedIn,
    Path((env_name, check_name)): Path<(String, String)>,
) -> Response {
    let snapshot = state.snapshot();
    let Some((env, check)) = snapshot.spec.environment(&env_name).and_then(|e| {
        e.monitoring
            .as_ref()?
            .checks
            .iter()
            .find(|c| c.name.value == check_name)
            .map(|c| (e, c))
    }) else {
        return super::not_found(&format!(
            "There is no check “{check_name}” in environment “{env_name}”."
        ));
    };
    let key = check_key(&env.name.value, &check.name.value);
    let now = state.clock.now();
    let fetched = async {
        Ok::<_, stagegate_store::StoreError>((
            state.store.votes(Some(&key)).await?,
            state.store.nodes().await?,
            state.store.check_state(&key).await?,
            state.store.recent_results(&key, 100).await?,
            state.store.uptime(&key, now - DAY_MS).await?,
            state.store.uptime(&key, now - 7 * DAY_MS).await?,
            state.store.uptime(&key, now - 30 * DAY_MS).await?,
        ))
    };
    let (votes, nodes, st, recent, day, week, month) = match fetched.await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "monitor: the store is unavailable");
            return super::unavailable();
        }
    };
    let points: Vec<Point> = recent
        .iter()
        .rev()
        .map(|r| Point {
            latency_ms: r.latency_ms,
            failed: r.outcome == Outcome::Fail,
        })
        .collect();
    let results = recent
        .iter()
        .take(25)
        .map(|r| ResultRow {
            when: super::utc(r.started_at),
            outcome: r.outcome.as_str(),
            class: match r.outcome {
                Outcome::Pass => "up",
                Outcome::Fail => "down",
                Outcome::Skip => "unknown",
            },
            place: match (r.node.as_str(), r.location.as_str()) {
                (node, "") => node.to_owned(),
                (node, loc) => format!("{node} ({loc})"),
            },
            summary: r.summary.clone(),
            evidence: evidence_pairs(&r.evidence),
        })
        .collect();
    let window = crate::cluster::live_window(state.tick);
    let votes = votes
        .iter()
        .map(|v| {
            let node = nodes.iter().find(|n| n.name == v.node);
            let counts = match node {
                Some(n) if now - n.last_seen > window => "no: node not live",
                Some(n) if n.abstaining => "no: node abstains",
                Some(_) => "yes",
                None => "no: unknown node",
            };
            VoteRow {
                node: v.node.clone(),
                location: v.location.clone(),
                status: status_class(v.status),
                counts,
                since: super::utc(v.at),
                summary: v.summary.clone(),
            }
        })
        .collect();
    // The target as written: `${NAME}` references stay unresolved, so no
    // secret reaches the page.
    let target = check
        .url
        .as_ref()
        .or(check.host.as_ref())
        .map(|d| d.raw().to_owned());
    html(
        StatusCode::OK,
        &MonitorPage {
            chrome: super::Chrome::new(
                &viewer,
                snapshot.spec.product.name.value.clone(),
                "monitors",
            ),
            environment: env.name.value.clone(),
            name: check.name.value.clone(),
            kind: check.kind.value.as_str(),
            status: status_class(st.map_or(CheckStatus::Unknown, |s| s.status)),
            target,
            day: percent(Some(&day)),
            week: percent(Some(&week)),
            month: percent(Some(&month)),
            chart: chart::latency(&points),
            results,
            votes,
            cluster: state.cluster,
        },
    )
}
