//! Incidents: open ones first with their timeline, the operators'
//! acknowledge and resolve actions, and the notification delivery log.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use stagegate_store::Role;

use super::html;
use super::session::{Posted, SignedForm, SignedIn};
use crate::AppState;
use crate::auth::extract::role;

struct Item {
    id: i64,
    environment: String,
    check: String,
    /// The check's page: its monitor, or its server's agent report.
    href: Option<String>,
    state: &'static str,
    badge: &'static str,
    message: String,
    timeline: Vec<(String, String)>,
    /// Its environment has a status page, where updates to it appear.
    public: bool,
    /// The incident that suppressed this one, when it is not listed with
    /// it (it lies beyond the page's window).
    suppressed_by: Option<i64>,
    /// Incidents of checks depending on this one's, opened while it was
    /// open: recorded, not notified, resolved with it.
    children: Vec<Item>,
}

struct DeliveryRow {
    when: String,
    event: String,
    notifier: String,
    contact: String,
    ok: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    chrome: super::Chrome,
    flash: Option<String>,
    open: usize,
    can_act: bool,
    incidents: Vec<Item>,
    deliveries: Vec<DeliveryRow>,
}

/// Where a check is shown: an agent's heartbeat on the servers page, a
/// declared check on its monitor page; nothing for one the spec no longer
/// has.
fn page_of(snapshot: &crate::Snapshot, env: &str, check: &str) -> Option<String> {
    let declared = snapshot.spec.environment(env)?;
    if let Some(server) = check.strip_prefix(crate::snapshot::AGENT_PREFIX) {
        declared.server(server)?;
        return Some(format!("/servers#{}", super::servers::anchor(server)));
    }
    declared
        .monitoring
        .iter()
        .flat_map(|m| &m.checks)
        .any(|c| c.name.value == check)
        .then(|| {
            format!(
                "/monitors/{}/{}",
                super::path_segment(env),
                super::path_segment(check)
            )
        })
}

/// Incidents whose notifications the page lists: the open ones first.
const PAGED_FOR: usize = 20;

/// One queued notification as a timeline entry: "level 2: paged bob
/// through ops-slack (incident.escalated), delivered 10:05:03".
fn paged_entry(n: &stagegate_store::Notification) -> (String, String) {
    let level = serde_json::from_str::<serde_json::Value>(&n.payload)
        .ok()
        .and_then(|p| p["level"].as_u64())
        .map(|l| format!("level {l}: "))
        .unwrap_or_default();
    let outcome = match (&n.delivered_at, &n.last_error) {
        (Some(at), _) => format!("delivered {}", super::utc(*at)),
        (None, Some(e)) => format!("not delivered yet ({} attempts): {e}", n.attempts),
        (None, None) => "queued".to_owned(),
    };
    (
        super::utc(n.created_at),
        format!(
            "{level}{} {} through {} — {outcome}",
            match n.event.as_str() {
                "incident.resolved" => "told",
                "incident.reminder" => "reminded",
                crate::notify::UPDATE_EVENT => "sent the public update to",
                _ => "paged",
            },
            if n.contact.is_empty() {
                "the channel"
            } else {
                n.contact.as_str()
            },
            n.notifier
        ),
    )
}

#[derive(Debug, Deserialize)]
pub struct Flash {
    done: Option<String>,
    id: Option<i64>,
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    SignedIn(viewer, _): SignedIn,
    Query(flash): Query<Flash>,
) -> Response {
    let now = state.clock.now();
    let snapshot = state.snapshot();
    let fetched = async {
        Ok::<_, stagegate_store::StoreError>((
            state.store.incidents(now - 7 * 86_400_000, 200).await?,
            state.store.deliveries(50).await?,
        ))
    };
    let (mut incidents, deliveries) = match fetched.await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "incidents: the store is unavailable");
            return super::unavailable();
        }
    };
    // Who was paged, for the incidents still open and the latest others:
    // one read each, so the page stays cheap with a long history.
    let mut paged: std::collections::HashMap<i64, Vec<(String, String)>> = Default::default();
    let mut recent = incidents.clone();
    recent.sort_by_key(|i| (i.resolved_at.is_some(), std::cmp::Reverse(i.opened_at)));
    for i in recent.iter().take(PAGED_FOR) {
        match state.store.incident_notifications(i.id).await {
            Ok(list) => {
                paged.insert(i.id, list.iter().map(paged_entry).collect());
            }
            Err(e) => {
                tracing::error!(error = %e, "incidents: the store is unavailable");
                return super::unavailable();
            }
        }
    }
    let ids: Vec<i64> = incidents.iter().map(|i| i.id).collect();
    let mut updates: std::collections::HashMap<i64, Vec<(String, String)>> = Default::default();
    match state.store.incident_updates(&ids).await {
        Ok(list) => {
            for u in list {
                updates.entry(u.incident).or_default().push((
                    super::utc(u.posted_at),
                    format!(
                        "public update ({}) by {}: {}",
                        u.status, u.posted_by, u.message
                    ),
                ));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "incidents: the store is unavailable");
            return super::unavailable();
        }
    }
    // Open first, then acknowledged, then resolved; newest first within.
    incidents.sort_by_key(|i| {
        (
            i.resolved_at.is_some(),
            i.acknowledged_at.is_some(),
            std::cmp::Reverse(i.opened_at),
        )
    });
    let open = incidents
        .iter()
        .filter(|i| i.resolved_at.is_none() && i.suppressed_by.is_none())
        .count();
    let mut items: Vec<Item> = incidents
        .iter()
        .map(|i| {
            let mut timeline = vec![(super::utc(i.opened_at), "opened".to_owned())];
            if let Some(at) = i.acknowledged_at {
                timeline.push((
                    super::utc(at),
                    format!(
                        "acknowledged by {}",
                        i.acknowledged_by.as_deref().unwrap_or("someone")
                    ),
                ));
            }
            if let Some(at) = i.last_reminder_at {
                timeline.push((super::utc(at), "last reminder sent".to_owned()));
            }
            timeline.extend(paged.remove(&i.id).unwrap_or_default());
            timeline.extend(updates.remove(&i.id).unwrap_or_default());
            match i.resolved_at {
                Some(at) => timeline.push((
                    super::utc(at),
                    format!("resolved after {}", super::lasted(at - i.opened_at)),
                )),
                None => timeline.push((
                    super::utc(now),
                    format!("open for {}", super::lasted(now - i.opened_at)),
                )),
            }
            timeline.sort();
            let state = i.state.as_str();
            let check = i
                .check
                .split_once('/')
                .map_or(i.check.as_str(), |(_, c)| c)
                .to_owned();
            // Updates go to incidents a status page shows.
            let public = i.suppressed_by.is_none()
                && snapshot
                    .spec
                    .environment(&i.environment)
                    .and_then(|e| e.status_page.as_ref())
                    .is_some_and(|p| {
                        p.components
                            .iter()
                            .any(|c| c.checks.iter().any(|ch| ch.value == check))
                    });
            Item {
                id: i.id,
                environment: i.environment.clone(),
                href: page_of(&snapshot, &i.environment, &check),
                check,
                state,
                badge: state,
                message: i.message.clone(),
                timeline,
                public,
                suppressed_by: i.suppressed_by,
                children: Vec::new(),
            }
        })
        .collect();
    // Suppressed incidents go under the incident that suppressed them.
    let listed: std::collections::HashSet<i64> = items.iter().map(|i| i.id).collect();
    let (children, top): (Vec<Item>, Vec<Item>) = items
        .drain(..)
        .partition(|i| i.suppressed_by.is_some_and(|p| listed.contains(&p)));
    items = top;
    for child in children {
        if let Some(parent) = items.iter_mut().find(|p| Some(p.id) == child.suppressed_by) {
            parent.children.push(child);
        }
    }
    let flash = match (flash.done.as_deref(), flash.id) {
        (Some("acknowledged"), Some(id)) => Some(format!("Incident #{id} is acknowledged.")),
        (Some("resolved"), Some(id)) => Some(format!(
            "Incident #{id} is resolved; its contacts are being told."
        )),
        (Some("updated"), Some(id)) => Some(format!(
            "The public update to incident #{id} is on the status page."
        )),
        _ => None,
    };
    html(
        StatusCode::OK,
        &IncidentsPage {
            chrome: super::Chrome::new(
                &viewer,
                state.snapshot().spec.product.name.value.clone(),
                "incidents",
            ),
            flash,
            open,
            can_act: viewer.can(Role::Operator),
            incidents: items,
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryRow {
                    when: super::utc(d.attempted_at),
                    event: d.event,
                    notifier: d.notifier,
                    contact: d.contact,
                    ok: d.ok,
                    error: d.error,
                })
                .collect(),
        },
    )
}

/// Acknowledge or resolve, as the form's action says.
/// What the incident actions post: the CSRF token, and for a public
/// update its status and message.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
    status: Option<String>,
    message: Option<String>,
}

impl Posted for ActionForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn act(
    State(state): State<Arc<AppState>>,
    Path((id, action)): Path<(String, String)>,
    SignedForm { viewer, form, .. }: SignedForm<ActionForm, role::Operator>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return super::not_found(&format!("There is no incident “{id}”."));
    };
    let now = state.clock.now();
    let done = match action.as_str() {
        "acknowledge" => match state
            .store
            .acknowledge_incident(id, &viewer.token.name, now)
            .await
        {
            Ok(Some(i)) => {
                crate::audit::incident(&state, &viewer.token.name, "incident.acknowledge", &i)
                    .await;
                Ok(Some("acknowledged"))
            }
            other => other.map(|i| i.map(|_| "acknowledged")),
        },
        "resolve" => crate::lifecycle::resolve_by_hand(&state, id, now, &viewer.token.name)
            .await
            .map(|i| i.map(|_| "resolved")),
        "update" => {
            let status = form.status.as_deref().unwrap_or_default();
            let message = match crate::lifecycle::valid_update(
                status,
                form.message.as_deref().unwrap_or_default(),
            ) {
                Ok(message) => message,
                Err(why) => return super::bad_request(&why),
            };
            match crate::lifecycle::publish_update(&state, id, status, &message, &viewer.token.name)
                .await
            {
                Ok(crate::lifecycle::Published::Posted(_)) => Ok(Some("updated")),
                Ok(crate::lifecycle::Published::NoIncident) => Ok(None),
                Ok(crate::lifecycle::Published::NotPublic(why)) => {
                    return super::bad_request(&format!("{why}."));
                }
                Err(e) => Err(e),
            }
        }
        _ => return super::not_found("There is no such incident action."),
    };
    match done {
        Ok(Some(done)) => Redirect::to(&format!("/incidents?done={done}&id={id}")).into_response(),
        Ok(None) => super::not_found(&format!("There is no incident #{id}.")),
        Err(e) => {
            tracing::error!(error = %e, "dashboard: cannot change an incident");
            super::unavailable()
        }
    }
}
