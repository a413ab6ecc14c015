//! On call: each rotation's current and coming shifts, in its own time
//! zone, and the environments that page it.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::html;
use super::session::SignedIn;
use crate::AppState;

/// Shifts listed per rotation, the current one included.
const SHIFTS: usize = 6;

struct ShiftRow {
    member: String,
    from: String,
    until: String,
    now: bool,
    overridden: bool,
}

struct RotationView {
    id: String,
    shift: String,
    timezone: String,
    members: String,
    /// Environments whose monitoring pages this rotation.
    paged_by: Vec<String>,
    shifts: Vec<ShiftRow>,
}

#[derive(Template)]
#[template(path = "oncall.html")]
struct OncallPage {
    chrome: super::Chrome,
    rotations: Vec<RotationView>,
}

pub async fn page(State(state): State<Arc<AppState>>, SignedIn(viewer, _): SignedIn) -> Response {
    let snapshot = state.snapshot();
    let spec = &snapshot.spec;
    let now = state.clock.now().div_euclid(1000);
    let name = |id: &str| {
        spec.contact(id)
            .and_then(|c| c.name.clone())
            .map_or_else(|| id.to_owned(), |n| format!("{n} ({id})"))
    };
    let rotations =
        spec.rotations
            .iter()
            .map(|r| {
                let current = r.on_call(now);
                let paged_by =
                    spec.environments
                        .iter()
                        .filter(|e| {
                            e.monitoring.iter().flat_map(|m| &m.notify).any(|n| {
                                n.value.strip_prefix("rotation:") == Some(r.id.value.as_str())
                            })
                        })
                        .map(|e| e.name.value.clone())
                        .collect();
                RotationView {
                    id: r.id.value.clone(),
                    shift: r.shift.value.to_string(),
                    timezone: r.timezone.value.clone(),
                    members: r
                        .members
                        .iter()
                        .map(|m| name(&m.value))
                        .collect::<Vec<_>>()
                        .join(", "),
                    paged_by,
                    shifts: r
                        .upcoming(now, SHIFTS)
                        .iter()
                        .map(|s| ShiftRow {
                            member: name(s.member),
                            from: r.local(s.from),
                            until: r.local(s.until),
                            now: current.as_ref() == Some(s),
                            overridden: s.overridden,
                        })
                        .collect(),
                }
            })
            .collect();
    html(
        StatusCode::OK,
        &OncallPage {
            chrome: super::Chrome::new(&viewer, spec.product.name.value.clone(), "oncall"),
            rotations,
        },
    )
}
