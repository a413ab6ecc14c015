//! The facts a promotion is judged on, from the store: how long the
//! environment has run in its mode, the measured availability of its core
//! checks, its open incidents, its backup runs and its approvals.
//!
//! Availability is time-weighted from incidents: a check counts down from
//! the result that confirmed it down (the incident opened) until the one
//! that confirmed it up (the incident resolved). Incidents are kept when raw
//! results are pruned, so the figure holds for any window.

use stagegate_rules::{Approval, Availability, BackupRuns, PromotionFacts};
use stagegate_spec::{CheckKind, Covers, Environment};
use stagegate_store::{Millis, PingKind, Store, StoreError};

use crate::snapshot::check_key;
use crate::verdicts::Now;

/// The shortest window availability is measured over.
const MIN_WINDOW_SECS: i64 = 86_400;

/// Gathers the facts of promoting `env` (to a later mode) by `promoter`.
pub async fn facts(
    store: &dyn Store,
    now: &Now,
    env: &Environment,
    promoter: Option<&str>,
    source: &str,
) -> Result<PromotionFacts, StoreError> {
    let name = &env.name.value;
    let mode = env.mode.value;
    let at = now.at;
    let at_ms = at.saturating_mul(1000);

    let last_promotion = store
        .promotions(Some(name))
        .await?
        .into_iter()
        .find(|p| p.to_mode == mode.as_str());
    let (in_mode_since, in_mode_since_from) = match last_promotion {
        Some(p) => (
            Some(p.promoted_at.div_euclid(1000)),
            format!(
                "promotion #{} by {} at {}",
                p.id,
                p.promoted_by,
                crate::clock::rfc3339(p.promoted_at)
            ),
        ),
        None => match store.first_seen_in(name, mode.as_str()).await? {
            Some(seen) => (
                Some(seen.div_euclid(1000)),
                format!(
                    "first seen in {} by the server at {}",
                    mode.label(),
                    crate::clock::rfc3339(seen)
                ),
            ),
            None => (None, String::new()),
        },
    };

    let soak = now
        .snapshot
        .spec
        .policy
        .promotion
        .clone()
        .unwrap_or_default()
        .soak(mode)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let window = soak.max(MIN_WINDOW_SECS);
    let incidents = store
        .incidents(at_ms.saturating_sub(window.saturating_mul(1000)), 10_000)
        .await?;

    let core: Vec<&str> = env
        .monitoring
        .iter()
        .flat_map(|m| &m.checks)
        .filter(|c| {
            c.kind.value != CheckKind::Heartbeat
                && c.covers.as_ref().is_some_and(|cv| cv.value == Covers::Core)
        })
        .map(|c| c.name.value.as_str())
        .collect();
    let observed = now
        .observations
        .environments
        .iter()
        .find(|e| e.name == *name)
        .is_some_and(|e| {
            e.checks
                .iter()
                .any(|c| core.contains(&c.name.as_str()) && c.latest.is_some())
        });
    let availability = (observed && !core.is_empty()).then(|| {
        let keys: Vec<String> = core.iter().map(|c| check_key(name, c)).collect();
        // Only what was watched counts: not before the environment entered
        // its mode (time nobody observed is neither up nor down).
        let from = (at - window).max(in_mode_since.unwrap_or(i64::MIN)).min(at);
        let intervals = incidents
            .iter()
            .filter(|i| keys.contains(&i.check))
            .map(|i| {
                (
                    i.opened_at.div_euclid(1000),
                    i.resolved_at.map_or(at, |r| r.div_euclid(1000)),
                )
            });
        Availability {
            from,
            down_secs: union_within(intervals, from, at),
            checks: core.iter().map(|c| (*c).to_owned()).collect(),
        }
    });

    let open_incidents = incidents
        .iter()
        .filter(|i| i.environment == *name && i.resolved_at.is_none())
        .map(|i| {
            let check = i.check.split_once('/').map_or(i.check.as_str(), |(_, c)| c);
            format!(
                "#{} {check} (open since {})",
                i.id,
                crate::clock::rfc3339(i.opened_at)
            )
        })
        .collect();

    let backup = env.monitoring.iter().flat_map(|m| &m.checks).find(|c| {
        c.kind.value == CheckKind::Heartbeat
            && c.covers
                .as_ref()
                .is_some_and(|cv| cv.value == Covers::Backup)
    });
    let backup_runs = match backup.and_then(|c| {
        now.snapshot
            .heartbeats
            .iter()
            .find(|h| h.environment == *name && h.check == c.name.value)
    }) {
        Some(h) => Some(BackupRuns {
            check: h.check.clone(),
            runs: store
                .pings(&h.token, 200)
                .await?
                .iter()
                .filter_map(|p| {
                    let ok = match p.ping.kind {
                        PingKind::Success => true,
                        PingKind::Fail => false,
                        PingKind::Exit => p.ping.exit_code == Some(0),
                        PingKind::Start | PingKind::Log => return None,
                    };
                    Some((p.ping.received_at.div_euclid(1000), ok))
                })
                .collect(),
        }),
        None => None,
    };

    let approvals = store
        .approvals(name)
        .await?
        .into_iter()
        .map(|a| Approval {
            id: a.id,
            by: a.approved_by,
            to: a.to_mode,
            at: a.approved_at.div_euclid(1000),
            expires_at: a.expires_at.div_euclid(1000),
            spec_sha256: a.spec_sha256,
        })
        .collect();

    Ok(PromotionFacts {
        environment: name.clone(),
        now: at,
        promoter: promoter.map(str::to_owned),
        spec_sha256: now.snapshot.identity.sha256.clone(),
        source: source.to_owned(),
        in_mode_since,
        in_mode_since_from,
        availability,
        open_incidents,
        backup_runs,
        approvals,
    })
}

/// Seconds of `[from, to)` covered by any of `intervals`.
fn union_within(intervals: impl Iterator<Item = (i64, i64)>, from: i64, to: i64) -> i64 {
    let mut clipped: Vec<(i64, i64)> = intervals
        .map(|(a, b)| (a.max(from), b.min(to)))
        .filter(|(a, b)| a < b)
        .collect();
    clipped.sort_unstable();
    let mut total = 0;
    let mut current: Option<(i64, i64)> = None;
    for (a, b) in clipped {
        current = match current {
            Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total += cb - ca;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    total + current.map_or(0, |(a, b)| b - a)
}

/// `node@location`, the source of what this server recorded.
pub fn source(node: &str, location: &str) -> String {
    if location.is_empty() {
        node.to_owned()
    } else {
        format!("{node}@{location}")
    }
}

/// Notes each environment's current mode as seen now (soak time counts
/// from the first sighting when no promotion was recorded).
pub async fn saw_modes(store: &dyn Store, spec: &stagegate_spec::Spec, at: Millis) {
    for env in &spec.environments {
        if let Err(e) = store
            .saw_mode(&env.name.value, env.mode.value.as_str(), at)
            .await
        {
            tracing::warn!(environment = %env.name.value, error = %e, "cannot note the environment's mode");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::union_within;

    #[test]
    fn overlapping_outages_count_once_and_only_inside_the_window() {
        assert_eq!(union_within([].into_iter(), 0, 100), 0);
        assert_eq!(union_within([(10, 20), (15, 30)].into_iter(), 0, 100), 20);
        assert_eq!(union_within([(10, 20), (40, 50)].into_iter(), 0, 100), 20);
        assert_eq!(union_within([(-50, 10), (90, 500)].into_iter(), 0, 100), 20);
        assert_eq!(union_within([(10, 20), (20, 30)].into_iter(), 0, 100), 20);
    }
}
