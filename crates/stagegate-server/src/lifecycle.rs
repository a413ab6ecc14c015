//! Flap control and incidents: a check is confirmed down after
//! `failure_threshold` failures in a row and up again after
//! `success_threshold` passes; each confirmed change opens or resolves an
//! incident and queues a notification per contact and notifier.

use serde_json::json;
use stagegate_spec::NotifierKind;
use stagegate_store::{
    CheckState, CheckStatus, Incident, Millis, NewNotification, Outcome, Store, StoreError,
};

use crate::clock::rfc3339;
use crate::snapshot::{Snapshot, check_key};

pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;
pub const DEFAULT_SUCCESS_THRESHOLD: u32 = 2;

/// A check nobody has judged yet.
pub fn unknown(key: &str) -> CheckState {
    CheckState {
        check: key.to_owned(),
        status: CheckStatus::Unknown,
        consecutive_failures: 0,
        consecutive_successes: 0,
        last_run_at: None,
        next_run_at: None,
    }
}

/// What one observation changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub opened: Option<Incident>,
    pub resolved: Option<Incident>,
    /// The check's state after the observation (absent for skips).
    pub state: Option<CheckState>,
    /// Checks whose suppressed incidents resolved with this one: their
    /// flap state starts over, and what a caller cached of it is stale.
    pub restarted: Vec<String>,
}

/// Consecutive successes, consecutive failures and status after `outcome`.
fn step(
    (mut successes, mut failures, mut status): (u32, u32, CheckStatus),
    outcome: Outcome,
    (failure_threshold, success_threshold): (u32, u32),
) -> (u32, u32, CheckStatus) {
    match outcome {
        Outcome::Pass => {
            successes = (successes + 1).min(success_threshold.max(1));
            failures = 0;
        }
        Outcome::Fail => {
            failures = (failures + 1).min(failure_threshold.max(1));
            successes = 0;
        }
        Outcome::Skip => return (successes, failures, status),
    }
    if failures >= failure_threshold.max(1) {
        status = CheckStatus::Down;
    } else if successes >= success_threshold.max(1) {
        status = CheckStatus::Up;
    }
    (successes, failures, status)
}

/// The flap state after `outcome`, without any I/O: what [`observe`] would
/// store.
pub fn next_state(mut state: CheckState, outcome: Outcome, thresholds: (u32, u32)) -> CheckState {
    (
        state.consecutive_successes,
        state.consecutive_failures,
        state.status,
    ) = step(
        (
            state.consecutive_successes,
            state.consecutive_failures,
            state.status,
        ),
        outcome,
        thresholds,
    );
    state
}

/// Whether `outcome` leaves `state` as it is (the same confirmed status,
/// counts at their cap): then the scheduler skips the store entirely.
pub fn is_steady(state: &CheckState, outcome: Outcome, thresholds: (u32, u32)) -> bool {
    let now = (
        state.consecutive_successes,
        state.consecutive_failures,
        state.status,
    );
    step(now, outcome, thresholds) == now
}

/// Feeds one outcome of `environment/check` into its flap state.
#[allow(clippy::too_many_arguments)]
pub async fn observe(
    store: &dyn Store,
    snapshot: &Snapshot,
    environment: &str,
    check: &str,
    outcome: Outcome,
    summary: &str,
    (failure_threshold, success_threshold): (u32, u32),
    now: Millis,
) -> Result<Change, StoreError> {
    let key = check_key(environment, check);
    let stored = store.check_state(&key).await?;
    let mut state = stored.clone().unwrap_or_else(|| unknown(&key));
    match outcome {
        // Counts stop at the threshold: past it they decide nothing, and a
        // steady state then needs no write at all.
        Outcome::Pass => {
            state.consecutive_successes =
                (state.consecutive_successes + 1).min(success_threshold.max(1));
            state.consecutive_failures = 0;
        }
        Outcome::Fail => {
            state.consecutive_failures =
                (state.consecutive_failures + 1).min(failure_threshold.max(1));
            state.consecutive_successes = 0;
        }
        Outcome::Skip => return Ok(Change::default()),
    }
    let before_status = state.status;
    let next = if state.consecutive_failures >= failure_threshold.max(1) {
        CheckStatus::Down
    } else if state.consecutive_successes >= success_threshold.max(1) {
        CheckStatus::Up
    } else {
        state.status
    };
    let mut change = transition(
        store,
        snapshot,
        environment,
        &key,
        state.status,
        next,
        summary,
        now,
    )
    .await?;
    state.status = next;
    if next != before_status {
        state.last_run_at = Some(now);
    }
    if stored.as_ref() != Some(&state) {
        store.save_check_state(&state).await?;
    }
    change.state = Some(state);
    Ok(change)
}

/// Opens an incident when a check goes down, resolves its open incident
/// when it comes back, and queues the notifications of either.
#[allow(clippy::too_many_arguments)]
async fn transition(
    store: &dyn Store,
    snapshot: &Snapshot,
    environment: &str,
    key: &str,
    from: CheckStatus,
    to: CheckStatus,
    summary: &str,
    now: Millis,
) -> Result<Change, StoreError> {
    let mut change = Change::default();
    if to == CheckStatus::Down && from != CheckStatus::Down {
        let parent = parent_incident(store, snapshot, environment, key).await?;
        if let Some(p) = &parent {
            tracing::info!(
                check = key,
                parent = p.id,
                "incident suppressed: a check it depends on is down"
            );
        }
        let incident = store
            .open_incident(key, environment, summary, parent.map(|p| p.id), now)
            .await?;
        notify(
            store,
            snapshot,
            &incident,
            "incident.opened",
            "incident.opened",
            now,
        )
        .await?;
        change.opened = Some(incident);
    } else if to == CheckStatus::Up
        && from == CheckStatus::Down
        && let Some(open) = store.open_incident_for(key).await?
        && let Some(resolved) = store.resolve_incident(open.id, now).await?
    {
        notify(
            store,
            snapshot,
            &resolved,
            "incident.resolved",
            "incident.resolved",
            now,
        )
        .await?;
        change.restarted = resolve_suppressed(store, &resolved, now).await?;
        change.resolved = Some(resolved);
    }
    Ok(change)
}

/// The open incident of a check `key` depends on, when that check is down:
/// the incident `key`'s would be suppressed by.
async fn parent_incident(
    store: &dyn Store,
    snapshot: &Snapshot,
    environment: &str,
    key: &str,
) -> Result<Option<Incident>, StoreError> {
    let name = key.split_once('/').map_or(key, |(_, c)| c);
    let Some(check) = snapshot
        .spec
        .environment(environment)
        .and_then(|e| e.monitoring.as_ref())
        .and_then(|m| m.checks.iter().find(|c| c.name.value == name))
    else {
        return Ok(None);
    };
    for parent in &check.depends_on {
        let parent_key = check_key(environment, &parent.value);
        let down = store
            .check_state(&parent_key)
            .await?
            .is_some_and(|s| s.status == CheckStatus::Down);
        if down && let Some(open) = store.open_incident_for(&parent_key).await? {
            return Ok(Some(open));
        }
    }
    Ok(None)
}

/// Resolves the incidents `parent` suppressed, with it. Their checks start
/// over from unknown: one still failing now that its parent is up opens an
/// incident of its own, and that one is notified.
pub async fn resolve_suppressed(
    store: &dyn Store,
    parent: &Incident,
    now: Millis,
) -> Result<Vec<String>, StoreError> {
    let mut restarted = Vec::new();
    for child in store.suppressed_under(parent.id).await? {
        if child.resolved_at.is_some() {
            continue;
        }
        if let Some(done) = store.resolve_incident(child.id, now).await? {
            store.save_check_state(&unknown(&child.check)).await?;
            tracing::info!(
                incident = child.id,
                parent = parent.id,
                "suppressed incident resolved with its parent"
            );
            restarted.push(done.check);
        }
    }
    Ok(restarted)
}

/// Moves a check to a status decided elsewhere (in a cluster, the leader's
/// quorum of locations), with the incident and notifications that follow.
pub async fn settle(
    store: &dyn Store,
    snapshot: &Snapshot,
    environment: &str,
    check: &str,
    to: CheckStatus,
    summary: &str,
    now: Millis,
) -> Result<Change, StoreError> {
    let key = check_key(environment, check);
    let stored = store.check_state(&key).await?;
    let mut state = stored.clone().unwrap_or_else(|| unknown(&key));
    let mut change = transition(
        store,
        snapshot,
        environment,
        &key,
        state.status,
        to,
        summary,
        now,
    )
    .await?;
    if state.status != to {
        state.status = to;
        state.last_run_at = Some(now);
        store.save_check_state(&state).await?;
    }
    change.state = Some(state);
    Ok(change)
}

/// Queues `event` for the people the environment pages, through each of
/// their notifiers: `monitoring.notify`, or with an escalation policy the
/// levels due (opened), everyone paged so far (resolved), or the last level
/// (reminder, when the policy repeats). The dedup key (incident, `tag`,
/// notifier, contact) makes a repeated call harmless; reminders pass a
/// numbered tag, levels `incident.level#K`.
pub async fn notify(
    store: &dyn Store,
    snapshot: &Snapshot,
    incident: &Incident,
    event: &str,
    tag: &str,
    now: Millis,
) -> Result<(), StoreError> {
    let Some(env) = snapshot.spec.environment(&incident.environment) else {
        return Ok(());
    };
    if let Some(parent) = incident.suppressed_by {
        // Whoever is told of the parent's incident knows of this one.
        tracing::info!(
            incident = incident.id,
            parent,
            event,
            "notification suppressed: a check it depends on is down"
        );
        return Ok(());
    }
    if snapshot.in_maintenance(&incident.environment, now) {
        // Results and incidents are kept; only the notification waits out
        // the planned work.
        tracing::info!(
            incident = incident.id,
            event,
            "notification suppressed: maintenance window"
        );
        return Ok(());
    }
    let Some(escalation) = escalation_of(snapshot, env) else {
        let recipients: Vec<&str> = env
            .monitoring
            .iter()
            .flat_map(|m| &m.notify)
            .map(|r| r.value.as_str())
            .collect();
        return queue(
            store,
            snapshot,
            incident,
            event,
            tag,
            None,
            &recipients,
            now,
        )
        .await;
    };
    match event {
        "incident.opened" => escalate(store, snapshot, incident, now).await,
        "incident.reminder" => {
            let Some((k, last)) = escalation.levels.iter().enumerate().next_back() else {
                return Ok(());
            };
            let recipients: Vec<&str> = last.notify.iter().map(|r| r.value.as_str()).collect();
            queue(
                store,
                snapshot,
                incident,
                event,
                tag,
                Some(k),
                &recipients,
                now,
            )
            .await
        }
        _ => {
            // Everyone paged before someone acknowledged (or it resolved)
            // learns that it is over.
            let until = incident
                .acknowledged_at
                .or(incident.resolved_at)
                .unwrap_or(now);
            let recipients: Vec<&str> = escalation
                .due(until - incident.opened_at)
                .flat_map(|(_, l)| &l.notify)
                .map(|r| r.value.as_str())
                .collect();
            queue(
                store,
                snapshot,
                incident,
                event,
                tag,
                None,
                &recipients,
                now,
            )
            .await
        }
    }
}

/// The escalation policy of an environment's monitoring, if it names one.
pub fn escalation_of<'s>(
    snapshot: &'s Snapshot,
    env: &stagegate_spec::Environment,
) -> Option<&'s stagegate_spec::Escalation> {
    let id = env.monitoring.as_ref()?.escalation.as_ref()?;
    snapshot.spec.escalation(&id.value)
}

/// Pages the levels of the incident's escalation policy that are due and
/// not paged yet: every level whose `after` has passed, while nobody has
/// acknowledged. Called when the incident opens and on every housekeeping
/// tick; the dedup key pages each level once.
pub async fn escalate(
    store: &dyn Store,
    snapshot: &Snapshot,
    incident: &Incident,
    now: Millis,
) -> Result<(), StoreError> {
    if incident.state != stagegate_store::IncidentState::Open || incident.suppressed_by.is_some() {
        return Ok(());
    }
    let Some(env) = snapshot.spec.environment(&incident.environment) else {
        return Ok(());
    };
    let Some(escalation) = escalation_of(snapshot, env) else {
        return Ok(());
    };
    if snapshot.in_maintenance(&incident.environment, now) {
        return Ok(());
    }
    for (k, level) in escalation.due(now - incident.opened_at) {
        let event = if k == 0 {
            "incident.opened"
        } else {
            "incident.escalated"
        };
        let recipients: Vec<&str> = level.notify.iter().map(|r| r.value.as_str()).collect();
        queue(
            store,
            snapshot,
            incident,
            event,
            &format!("incident.level#{k}"),
            Some(k),
            &recipients,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Queues one event for each contact `recipients` name (rotations read at
/// `now`), once per contact, through each of the contact's notifiers.
/// `level` is the escalation level's index, sent 1-based as `"level"`.
#[allow(clippy::too_many_arguments)]
async fn queue(
    store: &dyn Store,
    snapshot: &Snapshot,
    incident: &Incident,
    event: &str,
    tag: &str,
    level: Option<usize>,
    recipients: &[&str],
    now: Millis,
) -> Result<(), StoreError> {
    let Some(env) = snapshot.spec.environment(&incident.environment) else {
        return Ok(());
    };
    let check_name = incident
        .check
        .split_once('/')
        .map_or(incident.check.as_str(), |(_, c)| c);
    let covers = env
        .monitoring
        .iter()
        .flat_map(|m| &m.checks)
        .find(|c| c.name.value == check_name)
        .and_then(|c| c.covers.as_ref())
        .map(|c| c.value.as_str().to_owned());
    let mut payload = json!({
        "event": event,
        "environment": incident.environment,
        "check": check_name,
        "covers": covers,
        "started_at": rfc3339(incident.opened_at),
        "resolved_at": incident.resolved_at.map(rfc3339),
        "message": incident.message,
        "incident": incident.id,
    });
    if let Some(k) = level {
        payload["level"] = json!(k + 1);
    }
    let payload = payload.to_string();
    let mut told = std::collections::HashSet::new();
    for recipient in recipients {
        let Some(contact) = recipient_at(&snapshot.spec, recipient, now) else {
            continue;
        };
        if !told.insert(contact.id.value.as_str()) {
            continue;
        }
        for notifier_id in &contact.notify {
            let Some(notifier) = snapshot.notifiers.get(&notifier_id.value) else {
                continue;
            };
            if notifier.kind == NotifierKind::Email && contact.email.is_none() {
                // Nowhere to send it; reported once per spec load.
                continue;
            }
            store
                .enqueue(
                    &NewNotification {
                        dedup_key: format!(
                            "incident-{}/{tag}/{}/{}",
                            incident.id, notifier.id, contact.id.value
                        ),
                        event: event.to_owned(),
                        notifier: notifier.id.clone(),
                        contact: contact.id.value.clone(),
                        payload: payload.clone(),
                    },
                    now,
                )
                .await?;
        }
    }
    Ok(())
}

/// The contact `recipient` names at `now`: the contact itself, or for
/// `rotation:ID` whoever is on call.
pub fn recipient_at<'s>(
    spec: &'s stagegate_spec::Spec,
    recipient: &str,
    now: Millis,
) -> Option<&'s stagegate_spec::Contact> {
    match recipient.strip_prefix("rotation:") {
        Some(rotation) => {
            let shift = spec.rotation(rotation)?.on_call(now.div_euclid(1000));
            if shift.is_none() {
                tracing::warn!(rotation, "nobody is on call: the rotation has not started");
            }
            spec.contact(shift?.member)
        }
        None => spec.contact(recipient),
    }
}

/// An operator resolves incident `id` (API or dashboard): resolved now,
/// and the contacts told at once if it was not resolved already.
pub async fn resolve_by_hand(
    state: &crate::AppState,
    id: i64,
    now: Millis,
    who: &str,
) -> Result<Option<Incident>, StoreError> {
    let Some(before) = state.store.incident(id).await? else {
        return Ok(None);
    };
    let Some(resolved) = state.store.resolve_incident(id, now).await? else {
        return Ok(None);
    };
    if before.resolved_at.is_none() {
        crate::audit::incident(state, who, "incident.resolve", &resolved).await;
        let snapshot = state.snapshot();
        notify(
            state.store.as_ref(),
            &snapshot,
            &resolved,
            "incident.resolved",
            "incident.resolved",
            now,
        )
        .await?;
        let restarted = resolve_suppressed(state.store.as_ref(), &resolved, now).await?;
        state.restart_checks(&restarted);
        state.wake_outbox();
    }
    Ok(Some(resolved))
}

/// The longest public update accepted, in characters.
pub const UPDATE_MAX_CHARS: usize = 5000;

/// The message of a public update with `status`, trimmed, or why it is
/// refused (naming the field).
pub fn valid_update(status: &str, message: &str) -> Result<String, String> {
    use crate::status::page::UPDATE_STATUSES;
    if !UPDATE_STATUSES.contains(&status) {
        return Err(format!(
            "`status` must be one of {}, found {status:?}",
            UPDATE_STATUSES.join(", ")
        ));
    }
    // Control characters and what XML forbids are dropped rather than
    // refused: pasted text brings them along, and none can be shown.
    let message: String = message
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| {
            (!c.is_control() || matches!(c, '\n' | '\t')) && crate::markup::allowed_in_xml(*c)
        })
        .collect();
    let message = message.trim().to_owned();
    let chars = message.chars().count();
    if chars == 0 || chars > UPDATE_MAX_CHARS {
        return Err(format!(
            "`message` must be 1 to {UPDATE_MAX_CHARS} characters of text, found {chars}"
        ));
    }
    Ok(message)
}

/// What became of a public update.
pub enum Published {
    Posted(stagegate_store::IncidentUpdate),
    NoIncident,
    /// No status page shows the incident; why, in a sentence.
    NotPublic(String),
}

/// The components of `environment`'s status page that show `incident`:
/// those holding its check or the check of an incident it suppressed.
/// `Err` says why no page shows it.
async fn public_components(
    store: &dyn Store,
    snapshot: &Snapshot,
    incident: &Incident,
) -> Result<Result<(String, Vec<String>), String>, StoreError> {
    let Some(page) = snapshot
        .spec
        .environment(&incident.environment)
        .and_then(|e| e.status_page.as_ref())
    else {
        return Ok(Err(format!(
            "incident {} is in environment `{}`, which has no status page",
            incident.id, incident.environment
        )));
    };
    if let Some(parent) = incident.suppressed_by {
        return Ok(Err(format!(
            "incident {} is shown as part of incident {parent} (a check it depends on was down): post the update to incident {parent}",
            incident.id
        )));
    }
    let mut checks = vec![incident.check.clone()];
    checks.extend(
        store
            .suppressed_under(incident.id)
            .await?
            .into_iter()
            .map(|i| i.check),
    );
    let prefix = format!("{}/", incident.environment);
    let components: Vec<String> = page
        .components
        .iter()
        .filter(|c| {
            c.checks.iter().any(|ch| {
                checks
                    .iter()
                    .any(|k| k.strip_prefix(&prefix) == Some(ch.value.as_str()))
            })
        })
        .map(|c| c.name.value.clone())
        .collect();
    if components.is_empty() {
        let check = incident
            .check
            .strip_prefix(&prefix)
            .unwrap_or(&incident.check);
        return Ok(Err(format!(
            "incident {} is about check `{check}`, which no component of {}'s status page includes",
            incident.id, incident.environment
        )));
    }
    let title = page.title.as_ref().map_or_else(
        || snapshot.spec.product.name.value.clone(),
        |t| t.value.clone(),
    );
    Ok(Ok((title, components)))
}

/// Posts a public update to incident `id`, shown on its status page, and
/// tells every notifier that takes `status_updates` (once per channel;
/// email once per contact that lists it). An update saying `resolved`
/// resolves the incident too, if it is still open. Refused for an
/// incident no status page shows: the update would reach public channels
/// about something the page never mentions.
pub async fn publish_update(
    state: &crate::AppState,
    id: i64,
    status: &str,
    message: &str,
    who: &str,
) -> Result<Published, StoreError> {
    let now = state.clock.now();
    let Some(incident) = state.store.incident(id).await? else {
        return Ok(Published::NoIncident);
    };
    let snapshot = state.snapshot();
    let (title, components) =
        match public_components(state.store.as_ref(), &snapshot, &incident).await? {
            Ok(shown) => shown,
            Err(why) => return Ok(Published::NotPublic(why)),
        };
    let Some(update) = state
        .store
        .add_incident_update(id, status, message, who, now)
        .await?
    else {
        return Ok(Published::NoIncident);
    };
    crate::audit::record(
        state.store.as_ref(),
        now,
        who,
        "incident.update",
        &format!("incident {id}"),
        json!({ "status": status, "message": message, "environment": incident.environment }),
    )
    .await;
    let incident = if status == "resolved" && incident.resolved_at.is_none() {
        resolve_by_hand(state, id, now, who)
            .await?
            .unwrap_or(incident)
    } else {
        incident
    };
    // What the public reads: no check name, no internal message.
    let payload = json!({
        "event": crate::notify::UPDATE_EVENT,
        "environment": incident.environment,
        "incident": incident.id,
        "status": status,
        "message": message,
        "components": components,
        "title": title,
        "started_at": rfc3339(incident.opened_at),
        "resolved_at": incident.resolved_at.map(rfc3339),
    })
    .to_string();
    for notifier in snapshot.notifiers.values().filter(|n| n.status_updates) {
        // A channel posts to the same place whoever lists it; email goes
        // to each contact that does.
        let contacts: Vec<&str> = if notifier.kind == NotifierKind::Email {
            snapshot
                .spec
                .contacts
                .iter()
                .filter(|c| c.email.is_some() && c.notify.iter().any(|n| n.value == notifier.id))
                .map(|c| c.id.value.as_str())
                .collect()
        } else {
            vec![""]
        };
        for contact in contacts {
            state
                .store
                .enqueue(
                    &NewNotification {
                        dedup_key: format!(
                            "incident-{}/update#{}/{}/{contact}",
                            incident.id, update.id, notifier.id
                        ),
                        event: crate::notify::UPDATE_EVENT.to_owned(),
                        notifier: notifier.id.clone(),
                        contact: contact.to_owned(),
                        payload: payload.clone(),
                    },
                    now,
                )
                .await?;
        }
    }
    state.wake_outbox();
    Ok(Published::Posted(update))
}

/// Closes the open incidents of checks that `new` no longer has, telling
/// their contacts once (through `old`, which still knows who they are):
/// an incident nobody can resolve would otherwise remind forever.
pub async fn close_removed(
    store: &dyn Store,
    old: &Snapshot,
    new: &Snapshot,
    now: Millis,
) -> Result<(Vec<Incident>, Vec<String>), StoreError> {
    let mut restarted = Vec::new();
    let keep = new.check_keys();
    let mut closed = Vec::new();
    for open in store.incidents(now, 10_000).await? {
        let check = open.check.split_once('/').map_or("", |(_, c)| c);
        if open.resolved_at.is_some()
            || keep.contains(&open.check)
            || check == crate::cluster::DEGRADED_CHECK
        {
            continue;
        }
        let Some(mut resolved) = store.resolve_incident(open.id, now).await? else {
            continue;
        };
        resolved.message = format!("check removed from the spec (was: {})", open.message);
        notify(
            store,
            old,
            &resolved,
            "incident.resolved",
            "incident.resolved",
            now,
        )
        .await?;
        restarted.extend(resolve_suppressed(store, &resolved, now).await?);
        closed.push(resolved);
    }
    Ok((closed, restarted))
}
