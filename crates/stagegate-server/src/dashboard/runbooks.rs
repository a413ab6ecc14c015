//! Runbooks: the files each environment names for its failure scenarios,
//! rendered from Markdown. Only the files the spec names are served; a
//! request cannot name a path.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use stagegate_spec::Runbook;

use super::session::SignedIn;
use super::{html, markdown, path_segment};
use crate::AppState;

/// Larger files are not rendered: a runbook is a page, not a manual.
const MAX_BYTES: u64 = 1024 * 1024;

struct Entry {
    scenario: &'static str,
    path: String,
    href: String,
    readable: bool,
}

struct Env {
    name: String,
    runbooks: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "runbooks.html")]
struct RunbooksPage {
    chrome: super::Chrome,
    environments: Vec<Env>,
}

fn readable(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0 && m.len() <= MAX_BYTES)
}

pub async fn list(State(state): State<Arc<AppState>>, SignedIn(viewer, _): SignedIn) -> Response {
    let snapshot = state.snapshot();
    let environments = snapshot
        .spec
        .environments
        .iter()
        .filter_map(|env| {
            let runbooks = env.runbooks.as_ref()?;
            Some(Env {
                name: env.name.value.clone(),
                runbooks: runbooks
                    .entries
                    .iter()
                    .map(|(which, path)| Entry {
                        scenario: Runbook::title(*which),
                        path: path.value.clone(),
                        href: format!(
                            "/runbooks/{}/{}",
                            path_segment(&env.name.value),
                            which.as_str()
                        ),
                        readable: snapshot
                            .evidence
                            .resolve(&path.value)
                            .is_ok_and(|file| readable(&file)),
                    })
                    .collect(),
            })
        })
        .collect();
    html(
        StatusCode::OK,
        &RunbooksPage {
            chrome: super::Chrome::new(
                &viewer,
                snapshot.spec.product.name.value.clone(),
                "runbooks",
            ),
            environments,
        },
    )
}

#[derive(Template)]
#[template(path = "runbook.html")]
struct RunbookPage {
    chrome: super::Chrome,
    environment: String,
    scenario: &'static str,
    path: String,
    /// The front matter's keys and values.
    commitments: Vec<(String, String)>,
    body: String,
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    SignedIn(viewer, _): SignedIn,
    Path((env_name, which)): Path<(String, String)>,
) -> Response {
    let snapshot = state.snapshot();
    let found = Runbook::parse(&which).and_then(|which| {
        let env = snapshot.spec.environment(&env_name)?;
        let path = env.runbooks.as_ref()?.get(which)?;
        Some((env, which, path))
    });
    let Some((env, which, path)) = found else {
        return super::not_found(&format!(
            "Environment “{env_name}” names no “{which}” runbook."
        ));
    };
    // Checked again now, on the file opened: it may have become a symlink
    // since the spec was loaded, or become one while it is being read.
    let file = match snapshot.evidence.open(&path.value) {
        Ok(f) => f,
        Err(stagegate_spec::OpenError::Outside(_)) => {
            tracing::warn!(environment = %env_name, runbook = %which, path = %path.value, "refused a runbook that resolves outside the evidence folders");
            return super::not_found(&format!(
                "The runbook file {} is not inside the spec's folder.",
                path.value
            ));
        }
        Err(stagegate_spec::OpenError::Io(e)) => {
            return super::not_found(&format!("Cannot read {}: {e}", path.value));
        }
    };
    let usable = file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() > 0 && m.len() <= MAX_BYTES);
    if !usable {
        return super::not_found(&format!(
            "The runbook file {} is missing, empty or larger than 1 MiB.",
            path.value
        ));
    }
    let mut bytes = Vec::new();
    if let Err(e) =
        std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_BYTES), &mut bytes)
    {
        return super::not_found(&format!("Cannot read {}: {e}", path.value));
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // Front matter is what the runbook commits to: shown as facts, not
    // rendered as Markdown (where `---` lines would make headings of it).
    let front = stagegate_rules::FrontMatter::of(&text);
    let commitments = front
        .fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    html(
        StatusCode::OK,
        &RunbookPage {
            chrome: super::Chrome::new(
                &viewer,
                snapshot.spec.product.name.value.clone(),
                "runbooks",
            ),
            environment: env.name.value.clone(),
            scenario: Runbook::title(which),
            path: path.value.clone(),
            commitments,
            body: markdown::to_html(front.body),
        },
    )
}
