//! What a public status page says, built from the store and the spec: the
//! one place that decides what the public sees. It reads check states,
//! daily rollups, incidents and their public updates, and keeps only
//! component names, states, percentages, times and public updates; check
//! names, URLs, hosts, evidence, internal incident messages and who posted
//! an update never enter it.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use stagegate_spec::StatusPage;
use stagegate_store::{CheckStatus, Incident, IncidentState, Millis, Store, StoreError};

use crate::clock::rfc3339;
use crate::snapshot::Snapshot;

pub const DAY: Millis = 24 * 60 * 60 * 1000;
/// Days of history on the page.
pub const DAYS: usize = 90;
/// The public statuses of an update, in the order an incident goes
/// through them.
pub const UPDATE_STATUSES: [&str; 4] = ["investigating", "identified", "monitoring", "resolved"];

/// A component's or the page's state now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// No result yet.
    Unknown,
    Operational,
    /// In a planned maintenance window.
    Maintenance,
    /// Some of its checks are down.
    Degraded,
    /// All of its checks are down.
    Outage,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Operational => "operational",
            State::Maintenance => "maintenance",
            State::Degraded => "degraded",
            State::Outage => "outage",
        }
    }

    /// Words for people: on the page, in badges and the feed.
    pub fn words(self) -> &'static str {
        match self {
            State::Unknown => "No data yet",
            State::Operational => "Operational",
            State::Maintenance => "Under maintenance",
            State::Degraded => "Degraded performance",
            State::Outage => "Outage",
        }
    }

    /// The page's headline for this overall state.
    pub fn headline(self) -> &'static str {
        match self {
            State::Unknown => "Status not known yet",
            State::Operational => "All systems operational",
            State::Maintenance => "Scheduled maintenance in progress",
            State::Degraded => "Some systems are degraded",
            State::Outage => "Major outage",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Day {
    /// `2026-11-30` (UTC).
    pub date: String,
    /// Percentage of passing results that day; `None` without results.
    pub uptime: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Component {
    pub name: String,
    /// Its name in badge URLs.
    pub slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: State,
    /// Over the whole period shown.
    pub uptime: Option<f64>,
    pub days: Vec<Day>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Update {
    pub status: String,
    pub message: String,
    pub at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PublicIncident {
    pub id: i64,
    /// `Checkout unavailable`, from component names only.
    pub title: String,
    /// The latest public update's status, else `investigating` while it
    /// is open and `resolved` once it is.
    pub status: String,
    pub components: Vec<String>,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    /// Oldest first.
    pub updates: Vec<Update>,
    #[serde(skip)]
    pub updated_ms: Millis,
}

/// Everything a status page shows; `/status/{env}.json` is this.
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    pub environment: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: State,
    pub headline: String,
    /// Over the whole period shown, all components together.
    pub uptime: Option<f64>,
    pub days: usize,
    pub components: Vec<Component>,
    /// Open ones first, then the last 90 days' newest first.
    pub incidents: Vec<PublicIncident>,
    pub generated_at: String,
}

impl Page {
    pub fn active(&self) -> impl Iterator<Item = &PublicIncident> {
        self.incidents.iter().filter(|i| i.resolved_at.is_none())
    }

    pub fn past(&self) -> impl Iterator<Item = &PublicIncident> {
        self.incidents.iter().filter(|i| i.resolved_at.is_some())
    }
}

/// The page of environment `env`, if it declares one.
pub async fn build(
    store: &dyn Store,
    snapshot: &Snapshot,
    env: &str,
    now: Millis,
) -> Result<Option<Page>, StoreError> {
    let Some(environment) = snapshot.spec.environment(env) else {
        return Ok(None);
    };
    let Some(spec) = &environment.status_page else {
        return Ok(None);
    };
    let key = |check: &str| format!("{env}/{check}");
    let keys: Vec<String> = spec
        .components
        .iter()
        .flat_map(|c| &c.checks)
        .map(|c| key(&c.value))
        .collect();
    let today = now.div_euclid(DAY) * DAY;
    let first = today - (DAYS as Millis - 1) * DAY;
    let mut daily: HashMap<String, BTreeMap<Millis, (u64, u64)>> = HashMap::new();
    for (check, d) in store.daily_counts(&keys, first).await? {
        let e = daily.entry(check).or_default().entry(d.day).or_default();
        e.0 += d.total;
        e.1 += d.passed;
    }
    let states: HashMap<String, CheckStatus> = store
        .check_states()
        .await?
        .into_iter()
        .filter(|s| s.check.starts_with(env) && s.check[env.len()..].starts_with('/'))
        .map(|s| (s.check, s.status))
        .collect();
    let maintenance = snapshot.in_maintenance(env, now);
    let (mut all_total, mut all_passed) = (0u64, 0u64);
    let components: Vec<Component> = spec
        .components
        .iter()
        .map(|c| {
            let statuses: Vec<CheckStatus> = c
                .checks
                .iter()
                .map(|ch| {
                    states
                        .get(&key(&ch.value))
                        .copied()
                        .unwrap_or(CheckStatus::Unknown)
                })
                .collect();
            let down = statuses.iter().filter(|s| **s == CheckStatus::Down).count();
            let known = statuses
                .iter()
                .filter(|s| **s != CheckStatus::Unknown)
                .count();
            let status = if maintenance {
                State::Maintenance
            } else if down > 0 && down == statuses.len() {
                State::Outage
            } else if down > 0 {
                State::Degraded
            } else if known == 0 {
                State::Unknown
            } else {
                State::Operational
            };
            let (mut total, mut passed) = (0u64, 0u64);
            let days = (0..DAYS as Millis)
                .map(|k| {
                    let day = first + k * DAY;
                    let (t, p) = c
                        .checks
                        .iter()
                        .filter_map(|ch| daily.get(&key(&ch.value))?.get(&day))
                        .fold((0, 0), |(t, p), (dt, dp)| (t + dt, p + dp));
                    total += t;
                    passed += p;
                    Day {
                        date: date(day),
                        uptime: percent(t, p),
                    }
                })
                .collect();
            all_total += total;
            all_passed += passed;
            Component {
                name: c.name.value.clone(),
                slug: c.slug(),
                description: c.description.clone(),
                status,
                uptime: percent(total, passed),
                days,
            }
        })
        .collect();
    let status = overall(&components);
    let incidents = incidents(store, spec, env, first).await?;
    Ok(Some(Page {
        environment: env.to_owned(),
        title: spec.title.as_ref().map_or_else(
            || snapshot.spec.product.name.value.clone(),
            |t| t.value.clone(),
        ),
        description: spec.description.clone(),
        status,
        headline: status.headline().to_owned(),
        uptime: percent(all_total, all_passed),
        days: DAYS,
        components,
        incidents,
        generated_at: rfc3339(now),
    }))
}

/// The page's state: the worst of its components', where an outage of
/// some but not all components reads as degraded.
fn overall(components: &[Component]) -> State {
    let worst = components
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(State::Unknown);
    // Components without data yet neither soften an outage nor make one.
    if worst == State::Outage
        && components
            .iter()
            .any(|c| !matches!(c.status, State::Outage | State::Unknown))
    {
        State::Degraded
    } else if components.iter().any(|c| c.status == State::Unknown) && worst == State::Operational {
        State::Operational
    } else {
        worst
    }
}

/// The environment's incidents about checks on the page, as the public
/// sees them: a suppressed incident counts toward its parent's.
async fn incidents(
    store: &dyn Store,
    spec: &StatusPage,
    env: &str,
    since: Millis,
) -> Result<Vec<PublicIncident>, StoreError> {
    let prefix = format!("{env}/");
    let keys: Vec<String> = spec
        .components
        .iter()
        .flat_map(|c| &c.checks)
        .map(|c| format!("{prefix}{}", c.value))
        .collect();
    // Only the page's checks: a noisy internal check cannot push public
    // incidents off the page.
    let mut all = store.check_incidents(&keys, since, 1000).await?;
    // A parent on a check the page does not show still names the incident.
    let mut parents: Vec<i64> = all.iter().filter_map(|i| i.suppressed_by).collect();
    parents.sort_unstable();
    parents.dedup();
    for parent in parents {
        if !all.iter().any(|i| i.id == parent)
            && let Some(p) = store.incident(parent).await?
        {
            all.push(p);
        }
    }
    let component_of = |incident: &Incident| -> Vec<&str> {
        let check = incident
            .check
            .strip_prefix(&prefix)
            .unwrap_or(incident.check.as_str());
        spec.components
            .iter()
            .filter(|c| c.checks.iter().any(|ch| ch.value == check))
            .map(|c| c.name.value.as_str())
            .collect()
    };
    // Root incident → the components it and the incidents under it touch.
    let mut roots: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    for i in &all {
        let root = i.suppressed_by.unwrap_or(i.id);
        let names = roots.entry(root).or_default();
        for c in component_of(i) {
            if !names.contains(&c) {
                names.push(c);
            }
        }
    }
    roots.retain(|_, names| !names.is_empty());
    let ids: Vec<i64> = roots.keys().copied().collect();
    let mut updates: HashMap<i64, Vec<Update>> = HashMap::new();
    let mut last_update: HashMap<i64, (String, Millis)> = HashMap::new();
    for u in store.incident_updates(&ids).await? {
        last_update.insert(u.incident, (u.status.clone(), u.posted_at));
        updates.entry(u.incident).or_default().push(Update {
            status: u.status,
            message: u.message,
            at: rfc3339(u.posted_at),
        });
    }
    let by_id: HashMap<i64, &Incident> = all.iter().map(|i| (i.id, i)).collect();
    let mut out = Vec::new();
    for (id, names) in roots {
        // A parent resolved before the period shown is not in `all`.
        let Some(incident) = by_id.get(&id) else {
            continue;
        };
        let resolved = incident.state == IncidentState::Resolved;
        let resolved_at = incident.resolved_at.filter(|_| resolved);
        // Resolved is resolved, whatever the last update said before.
        let (status, updated) = match (last_update.get(&id), resolved_at) {
            (Some((status, at)), Some(r)) if status != "resolved" => {
                ("resolved".to_owned(), r.max(*at))
            }
            (Some((status, at)), _) => (status.clone(), *at),
            (None, Some(r)) => ("resolved".to_owned(), r),
            (None, None) => ("investigating".to_owned(), incident.opened_at),
        };
        let names: Vec<String> = names.into_iter().map(str::to_owned).collect();
        out.push(PublicIncident {
            id,
            title: format!("{} unavailable", names.join(", ")),
            status,
            components: names,
            started_at: rfc3339(incident.opened_at),
            resolved_at: resolved_at.map(rfc3339),
            updates: updates.remove(&id).unwrap_or_default(),
            updated_ms: updated.max(incident.resolved_at.unwrap_or(incident.opened_at)),
        });
    }
    out.sort_by_key(|i| (i.resolved_at.is_some(), std::cmp::Reverse(i.id)));
    Ok(out)
}

fn percent(total: u64, passed: u64) -> Option<f64> {
    (total > 0).then(|| passed as f64 * 100.0 / total as f64)
}

/// `2026-11-30` for a day's start.
pub fn date(day: Millis) -> String {
    jiff::Timestamp::from_second(day.div_euclid(1000))
        .map_or_else(|_| day.to_string(), |t| t.strftime("%Y-%m-%d").to_string())
}

/// A percentage as the page prints it: two decimals, never rounded up to
/// 100 when something failed.
pub fn shown(p: f64) -> String {
    let floored = (p * 100.0).floor() / 100.0;
    format!("{floored:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(status: State) -> Component {
        Component {
            name: "c".into(),
            slug: "c".into(),
            description: None,
            status,
            uptime: None,
            days: Vec::new(),
        }
    }

    #[test]
    fn the_page_reads_as_its_components() {
        let page =
            |states: &[State]| overall(&states.iter().map(|s| component(*s)).collect::<Vec<_>>());
        assert_eq!(
            page(&[State::Operational, State::Operational]),
            State::Operational
        );
        assert_eq!(page(&[State::Operational, State::Outage]), State::Degraded);
        assert_eq!(page(&[State::Outage, State::Outage]), State::Outage);
        assert_eq!(
            page(&[State::Unknown, State::Operational]),
            State::Operational
        );
        assert_eq!(page(&[State::Unknown, State::Outage]), State::Outage);
        assert_eq!(page(&[State::Unknown]), State::Unknown);
        assert_eq!(
            page(&[State::Degraded, State::Operational]),
            State::Degraded
        );
    }

    #[test]
    fn percentages_never_round_up_to_a_clean_record() {
        assert_eq!(shown(99.999), "99.99");
        assert_eq!(shown(100.0), "100.00");
        assert_eq!(shown(12.345), "12.34");
    }
}
