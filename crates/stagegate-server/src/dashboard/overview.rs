//! The overview: every environment as a card on the rollout path, with its
//! verdict, the highest mode it qualifies for, live state, open incidents
//! and backup monitoring.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use stagegate_rules::{EnvironmentResult, Verdict};
use stagegate_spec::{Environment, Mode};
use stagegate_store::CheckStatus;

use super::html;
use super::session::SignedIn;
use crate::AppState;
use crate::snapshot::check_key;

const PATH: [Mode; 4] = [
    Mode::Development,
    Mode::Staging,
    Mode::SoftLaunch,
    Mode::Production,
];

struct Card {
    name: String,
    href: String,
    verdict: &'static str,
    fails: usize,
    warns: usize,
    achieved: Option<&'static str>,
    checks: usize,
    up: usize,
    down: usize,
    unknown: usize,
    incidents: usize,
    backup: String,
}

struct Column {
    label: &'static str,
    cards: Vec<Card>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct Overview {
    chrome: super::Chrome,
    open_incidents: usize,
    updated: String,
    columns: Vec<Column>,
}

pub async fn page(State(state): State<Arc<AppState>>, SignedIn(viewer, _): SignedIn) -> Response {
    let verdicts = crate::verdicts::Now::gather(&state).await;
    let snapshot = &verdicts.snapshot;
    let now = state.clock.now();
    let (states, incidents) = match (
        state.store.check_states().await,
        state.store.incidents(now, 10_000).await,
    ) {
        (Ok(s), Ok(i)) => (s, i),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "overview: the store is unavailable");
            return super::unavailable();
        }
    };
    let states: HashMap<&str, CheckStatus> = states
        .iter()
        .map(|s| (s.check.as_str(), s.status))
        .collect();
    let mut open: HashMap<&str, usize> = HashMap::new();
    for i in incidents.iter().filter(|i| i.resolved_at.is_none()) {
        *open.entry(i.environment.as_str()).or_default() += 1;
    }

    let mut columns: Vec<Column> = PATH
        .iter()
        .map(|m| Column {
            label: title(*m),
            cards: Vec::new(),
        })
        .collect();
    for env in &snapshot.spec.environments {
        let own = verdicts.environment(env, env.mode.value);
        let achieved = achieved(&verdicts, env, &own).map(title);
        let checks = env.monitoring.iter().flat_map(|m| &m.checks);
        let mut card = Card {
            name: env.name.value.clone(),
            href: format!("/environments/{}", super::path_segment(&env.name.value)),
            verdict: own.verdict().as_str(),
            fails: own.summary().fail,
            warns: own.summary().warn,
            achieved,
            checks: 0,
            up: 0,
            down: 0,
            unknown: 0,
            incidents: open.get(env.name.value.as_str()).copied().unwrap_or(0),
            backup: String::new(),
        };
        let mut backups = Vec::new();
        for c in checks {
            let key = check_key(&env.name.value, &c.name.value);
            let status = states
                .get(key.as_str())
                .copied()
                .unwrap_or(CheckStatus::Unknown);
            card.checks += 1;
            match status {
                CheckStatus::Up => card.up += 1,
                CheckStatus::Down => card.down += 1,
                CheckStatus::Unknown => card.unknown += 1,
            }
            if c.covers
                .as_ref()
                .is_some_and(|cv| cv.value.as_str() == "backup")
            {
                backups.push(format!("{} {}", c.name.value, status_word(status)));
            }
        }
        card.backup = if backups.is_empty() {
            if env.backup.is_some() {
                "declared, not monitored".to_owned()
            } else {
                "none".to_owned()
            }
        } else {
            backups.join(", ")
        };
        if let Some(i) = PATH.iter().position(|m| *m == env.mode.value) {
            columns[i].cards.push(card);
        }
    }
    let open_incidents = open.values().sum();
    html(
        StatusCode::OK,
        &Overview {
            chrome: super::Chrome::new(
                &viewer,
                snapshot.spec.product.name.value.clone(),
                "overview",
            ),
            open_incidents,
            updated: super::utc(now),
            columns,
        },
    )
}

/// The highest mode whose requirements all hold (`own` is the evaluation
/// in the environment's own mode, already at hand).
pub(super) fn achieved(
    now: &crate::verdicts::Now,
    env: &Environment,
    own: &EnvironmentResult<'_>,
) -> Option<Mode> {
    PATH.iter().rev().copied().find(|&m| {
        let verdict = if m == env.mode.value {
            own.verdict()
        } else {
            now.environment(env, m).verdict()
        };
        verdict == Verdict::Ready
    })
}

pub(super) fn title(m: Mode) -> &'static str {
    match m {
        Mode::Development => "Development",
        Mode::Staging => "Staging",
        Mode::SoftLaunch => "Soft launch",
        Mode::Production => "Production",
    }
}

fn status_word(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Up => "fresh (up)",
        CheckStatus::Down => "late or failing (down)",
        CheckStatus::Unknown => "not yet known",
    }
}
