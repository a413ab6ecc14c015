//! Cluster mode: several servers in different locations share one
//! PostgreSQL store. Every node runs every check and votes its own
//! confirmed view of each; the leader (the holder of the store's advisory
//! lock) counts the votes of the live nodes by location and opens or
//! resolves incidents only when a quorum of locations agrees. Only the
//! leader judges heartbeats and delivers notifications, so each goes out
//! once.
//!
//! A node that cannot reach its reference targets (its own link is down)
//! abstains: its votes stop counting instead of reporting everything down.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use stagegate_probe::Subject;
use stagegate_store::{CheckStatus, Millis, NodeRecord, Outcome, Vote};

use crate::AppState;
use crate::snapshot::{Snapshot, check_key};

/// How a check stands by the votes of the live nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub down_locations: Vec<String>,
    pub up_locations: Vec<String>,
    pub quorum: usize,
    /// The verdict, when a quorum agrees.
    pub verdict: Option<CheckStatus>,
}

/// Counts votes by location. A location's view is its nodes' majority; a
/// check is down (or up) when at least `quorum` locations see it so
/// (`default_quorum` unless the check sets its own).
pub fn tally(votes: &[&Vote], default_quorum: usize, quorum: Option<u32>) -> Tally {
    let mut by_location: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for v in votes {
        let entry = by_location.entry(v.location.as_str()).or_default();
        match v.status {
            CheckStatus::Down => entry.0 += 1,
            CheckStatus::Up => entry.1 += 1,
            CheckStatus::Unknown => {}
        }
    }
    let down_locations: Vec<String> = by_location
        .iter()
        .filter(|(_, (d, u))| d > u)
        .map(|(l, _)| (*l).to_owned())
        .collect();
    let up_locations: Vec<String> = by_location
        .iter()
        .filter(|(_, (d, u))| u > d)
        .map(|(l, _)| (*l).to_owned())
        .collect();
    let quorum = quorum.map_or(default_quorum, |k| k as usize).max(1);
    let verdict = if down_locations.len() >= quorum {
        Some(CheckStatus::Down)
    } else if up_locations.len() >= quorum {
        Some(CheckStatus::Up)
    } else {
        None
    };
    Tally {
        down_locations,
        up_locations,
        quorum,
        verdict,
    }
}

/// A node's location for counting: its own, or its name when it has none.
fn location_of(node: &str, location: &str) -> String {
    if location.is_empty() {
        node.to_owned()
    } else {
        location.to_owned()
    }
}

/// Feeds an outcome into this node's own flap state and votes when its
/// confirmed view of the check changes.
pub async fn observe_locally(
    state: &AppState,
    key: &str,
    outcome: Outcome,
    summary: &str,
    thresholds: (u32, u32),
) {
    let before = state
        .flap_state(key)
        .unwrap_or_else(|| crate::lifecycle::unknown(key));
    let after = crate::lifecycle::next_state(before.clone(), outcome, thresholds);
    if after.status != before.status && after.status != CheckStatus::Unknown {
        let vote = Vote {
            check: key.to_owned(),
            node: state.node.clone(),
            location: location_of(&state.node, &state.location),
            status: after.status,
            summary: summary.to_owned(),
            at: state.clock.now(),
        };
        if let Err(e) = state.store.cast_vote(&vote).await {
            state.metrics.store_error();
            tracing::error!(check = key, error = %e, "cannot cast the vote");
            // Not remembered: the next run votes again.
            return;
        }
        tracing::info!(check = key, status = after.status.as_str(), "vote cast");
        state.wake_outbox();
    }
    state.remember_flap_state(after);
}

/// What the cluster loop needs to know about this node.
#[derive(Clone, Debug)]
pub struct Membership {
    pub tick: Duration,
    /// URLs this node must reach to count itself connected.
    pub references: Vec<String>,
    /// The fewest locations that decide a check; default 2 once the
    /// cluster has seen more than one location.
    pub min_locations: Option<u32>,
}

/// Locations count as the cluster's for this long after their last node
/// was seen: losing them shrinks nothing for a day.
const KNOWN_FOR: Millis = 86_400_000;

/// The default quorum: a majority of the `eligible` locations (seen within
/// a day, less those whose live nodes all abstain: connected to the store,
/// they say their own view cannot be trusted), and at least
/// `min_locations`, by default 2 once more than one location was `seen`.
/// Whether a location is live does not count: when two of three locations
/// go dark, the last one alone must not page.
pub fn default_quorum(eligible: usize, seen: usize, min_locations: Option<u32>) -> usize {
    let floor = min_locations.map_or(if seen > 1 { 2 } else { 1 }, |m| m as usize);
    (eligible / 2 + 1).max(floor).max(1)
}

/// The check name of the incident that says the cluster cannot decide.
pub const DEGRADED_CHECK: &str = "@monitoring";

/// Nodes not seen for this long are not live. Generous on purpose: a node
/// that is merely slow to report must not shrink the quorum, or one
/// location's view could decide alone.
pub fn live_window(tick: Duration) -> Millis {
    i64::try_from((tick * 3).max(Duration::from_secs(10)).as_millis()).unwrap_or(i64::MAX)
}

/// Every tick: check this node's own connectivity, take or keep the
/// leadership, report alive, and, as leader, decide.
pub async fn run(state: Arc<AppState>, m: Membership) {
    // Votes arrive through the store: the leader counts them at least every
    // second, so the quorum adds at most a second to an incident.
    let mut ticker = tokio::time::interval(m.tick.min(Duration::from_secs(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Since when too few locations have been live to decide, as this
    // leader saw it.
    let mut short_since: Option<Millis> = None;
    loop {
        ticker.tick().await;
        let abstaining = !m.references.is_empty() && !connected(&state, &m.references).await;
        if abstaining != state.abstaining.swap(abstaining, Ordering::SeqCst) {
            if abstaining {
                tracing::warn!("no reference target answers: this node abstains until they do");
            } else {
                tracing::info!("reference targets answer again: this node votes");
            }
        }
        let leader = match state.store.try_lead().await {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "cannot reach the store for leadership");
                false
            }
        };
        if leader != state.leader.swap(leader, Ordering::SeqCst) {
            // Another leader may have settled checks meanwhile.
            state.forget_shared();
            tracing::info!(leader, "leadership changed");
            if leader {
                state.wake_outbox();
            }
        }
        let me = NodeRecord {
            name: state.node.clone(),
            location: location_of(&state.node, &state.location),
            last_seen: state.clock.now(),
            abstaining,
            leader,
        };
        if let Err(e) = state.store.node_alive(&me).await {
            tracing::error!(error = %e, "cannot report this node alive");
        }
        if leader {
            decide(&state, &state.snapshot(), &m, &mut short_since).await;
        } else {
            short_since = None;
        }
    }
}

/// Whether any reference target answers (any HTTP status counts: the link
/// works).
async fn connected(state: &AppState, references: &[String]) -> bool {
    for url in references {
        let ok = stagegate_probe::request(
            &state.cx,
            http::Method::GET,
            url,
            Vec::new(),
            None,
            Duration::from_secs(3),
        )
        .await
        .is_ok();
        if ok {
            return true;
        }
    }
    false
}

/// The leader's count: every check's votes from live, voting nodes, and
/// the incidents that follow.
async fn decide(
    state: &AppState,
    snapshot: &Snapshot,
    m: &Membership,
    short_since: &mut Option<Millis>,
) {
    let now = state.clock.now();
    let (nodes, votes) = match (state.store.nodes().await, state.store.votes(None).await) {
        (Ok(n), Ok(v)) => (n, v),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "cannot read the votes");
            return;
        }
    };
    let window = live_window(m.tick);
    let voting: HashSet<&str> = nodes
        .iter()
        .filter(|n| now - n.last_seen <= window && !n.abstaining)
        .map(|n| n.name.as_str())
        .collect();
    let live = nodes
        .iter()
        .filter(|n| voting.contains(n.name.as_str()))
        .map(|n| n.location.as_str())
        .collect::<HashSet<_>>()
        .len();
    let seen: HashSet<&str> = nodes
        .iter()
        .filter(|n| now - n.last_seen <= KNOWN_FOR)
        .map(|n| n.location.as_str())
        .collect();
    let abstaining: HashSet<&str> = seen
        .iter()
        .copied()
        .filter(|loc| {
            let live: Vec<_> = nodes
                .iter()
                .filter(|n| n.location == *loc && now - n.last_seen <= window)
                .collect();
            !live.is_empty() && live.iter().all(|n| n.abstaining)
        })
        .collect();
    let known = seen.len();
    let quorum = default_quorum(known - abstaining.len(), known, m.min_locations);
    // Short of locations for a whole live window (nodes starting together
    // have all reported by then): say so. Enough again: say so at once.
    let short = live < quorum;
    let since = *short_since.get_or_insert(now);
    if !short {
        *short_since = None;
    }
    if !short || now - since >= window {
        degraded(state, snapshot, live, known, quorum, now).await;
    }
    for job in &snapshot.jobs {
        let Subject::Check { name, .. } = &job.subject else {
            continue;
        };
        let key = check_key(&job.environment, name);
        let counted: Vec<&Vote> = votes
            .iter()
            .filter(|v| v.check == key && voting.contains(v.node.as_str()))
            .collect();
        let own = snapshot
            .spec
            .environment(&job.environment)
            .and_then(|e| e.monitoring.as_ref())
            .and_then(|m| m.checks.iter().find(|c| &c.name.value == name))
            .and_then(|c| c.quorum);
        let t = tally(&counted, quorum, own);
        let Some(verdict) = t.verdict else {
            continue;
        };
        if state.flap_status_shared(&key) == Some(verdict) {
            continue;
        }
        let summary = match verdict {
            CheckStatus::Down => {
                let seen = counted
                    .iter()
                    .find(|v| v.status == CheckStatus::Down)
                    .map_or("", |v| v.summary.as_str());
                format!(
                    "down from {} of {} locations ({}): {seen}",
                    t.down_locations.len(),
                    known,
                    t.down_locations.join(", ")
                )
            }
            _ => format!(
                "up again from {} of {} locations",
                t.up_locations.len(),
                known
            ),
        };
        settle(
            state,
            snapshot,
            &job.environment,
            name,
            verdict,
            &summary,
            now,
        )
        .await;
    }
}

/// Opens (or resolves) a "monitoring degraded" incident in every monitored
/// environment while too few locations are live to reach the quorum: the
/// people who would be paged learn why pages may be missing.
async fn degraded(
    state: &AppState,
    snapshot: &Snapshot,
    live: usize,
    known: usize,
    quorum: usize,
    now: Millis,
) {
    let (to, summary) = if live < quorum {
        (
            CheckStatus::Down,
            format!(
                "monitoring degraded: {live} of {known} locations live, {quorum} needed to decide; outages may go unreported"
            ),
        )
    } else {
        (
            CheckStatus::Up,
            format!("monitoring restored: {live} of {known} locations live"),
        )
    };
    for env in &snapshot.spec.environments {
        if env.monitoring.as_ref().is_none_or(|m| m.checks.is_empty()) {
            continue;
        }
        let key = check_key(&env.name.value, DEGRADED_CHECK);
        if state.flap_status_shared(&key) == Some(to) {
            continue;
        }
        settle(
            state,
            snapshot,
            &env.name.value,
            DEGRADED_CHECK,
            to,
            &summary,
            now,
        )
        .await;
    }
}

async fn settle(
    state: &AppState,
    snapshot: &Snapshot,
    environment: &str,
    check: &str,
    verdict: CheckStatus,
    summary: &str,
    now: Millis,
) {
    let key = check_key(environment, check);
    match crate::lifecycle::settle(
        state.store.as_ref(),
        snapshot,
        environment,
        check,
        verdict,
        summary,
        now,
    )
    .await
    {
        Ok(change) => {
            if let Some(s) = &change.state {
                state.remember_shared(&key, s.status);
                if check != DEGRADED_CHECK {
                    state.metrics.set_check(&key, s.status);
                }
            }
            if let Some(i) = change.opened {
                tracing::warn!(check = %key, incident = i.id, %summary, "incident opened by quorum");
                state.wake_outbox();
            }
            if let Some(i) = change.resolved {
                tracing::info!(check = %key, incident = i.id, "incident resolved by quorum");
                state.wake_outbox();
            }
            state.restart_checks(&change.restarted);
        }
        Err(e) => {
            state.metrics.store_error();
            tracing::error!(check = %key, error = %e, "cannot settle the check");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quorum_counts_locations_seen_not_locations_live() {
        // One location alone decides for itself only.
        assert_eq!(default_quorum(1, 1, None), 1);
        // Two or three known: two must agree, however many are live.
        assert_eq!(default_quorum(2, 2, None), 2);
        assert_eq!(default_quorum(3, 3, None), 2);
        assert_eq!(default_quorum(5, 5, None), 3);
        assert_eq!(default_quorum(3, 3, Some(3)), 3);
        assert_eq!(default_quorum(4, 4, Some(1)), 3, "a majority still");
        // Two of five locations abstain: a majority of the other three.
        assert_eq!(default_quorum(3, 5, None), 2);
        // All but one abstain: still two, so one vantage point never pages.
        assert_eq!(default_quorum(1, 3, None), 2);
        // Of three known locations only one is live: its down votes alone
        // are no verdict.
        let v = [vote("a", "fra", CheckStatus::Down)];
        let refs: Vec<&Vote> = v.iter().collect();
        assert_eq!(tally(&refs, default_quorum(3, 3, None), None).verdict, None);
    }

    fn vote(node: &str, location: &str, status: CheckStatus) -> Vote {
        Vote {
            check: "prod/web".into(),
            node: node.into(),
            location: location.into(),
            status,
            summary: String::new(),
            at: 0,
        }
    }

    #[test]
    fn one_location_alone_decides_nothing() {
        let v = [
            vote("a", "fra", CheckStatus::Down),
            vote("b", "ams", CheckStatus::Up),
            vote("c", "nyc", CheckStatus::Up),
        ];
        let refs: Vec<&Vote> = v.iter().collect();
        let t = tally(&refs, default_quorum(3, 3, None), None);
        assert_eq!(t.quorum, 2);
        assert_eq!(t.verdict, Some(CheckStatus::Up));
        assert_eq!(t.down_locations, ["fra"]);
    }

    #[test]
    fn a_majority_of_locations_is_down() {
        let v = [
            vote("a", "fra", CheckStatus::Down),
            vote("b", "ams", CheckStatus::Down),
            vote("c", "nyc", CheckStatus::Up),
        ];
        let refs: Vec<&Vote> = v.iter().collect();
        assert_eq!(tally(&refs, 2, None).verdict, Some(CheckStatus::Down));
        // An explicit quorum of 3 needs all three.
        assert_eq!(tally(&refs, 3, Some(3)).verdict, None);
    }

    #[test]
    fn a_location_speaks_by_the_majority_of_its_nodes() {
        let v = [
            vote("a1", "fra", CheckStatus::Down),
            vote("a2", "fra", CheckStatus::Up),
            vote("a3", "fra", CheckStatus::Up),
            vote("b", "ams", CheckStatus::Down),
        ];
        let refs: Vec<&Vote> = v.iter().collect();
        let t = tally(&refs, default_quorum(2, 2, None), None);
        assert_eq!(
            (t.down_locations.clone(), t.up_locations.clone()),
            (vec!["ams".to_owned()], vec!["fra".to_owned()])
        );
        assert_eq!(t.verdict, None, "one location each way, quorum 2");
    }
}
