//! What the server has observed, as the live rules read it: each check's
//! confirmed state and latest result (with the node and location that saw
//! it), certificates from https and tls results, and each environment's
//! newest restore drill.
//!
//! One shape serves the server's own verdicts and `stagegate check --server`
//! (which fetches it from `GET /api/v1/observations`), so CI gating on the
//! monitors and the dashboard judge from the same facts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stagegate_rules::{
    AgentFirewall, AgentListener, AgentLogs, AgentObservation, AgentSsh, AgentUpdates,
    CertificateObservation, DrillRecord, ExposureObservation, FileFacts, LiveEvidence, Observation,
    Observed, PresentedCertificate, Reading, RecordSource,
};
use stagegate_spec::{CheckKind, Spec};
use stagegate_store::{CheckStatus, Millis, Outcome, Store, StoreError};
use utoipa::ToSchema;

use crate::snapshot::{Snapshot, check_key};

/// Everything observed, per environment of the server's spec.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Observations {
    /// SHA-256 of the spec the server runs: a different local spec is
    /// judged from these observations all the same, with a warning.
    pub spec_sha256: String,
    pub environments: Vec<EnvironmentObservations>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentObservations {
    pub name: String,
    pub checks: Vec<CheckObservation>,
    /// The newest restore drill run under the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drill: Option<DrillObservation>,
    /// The newest report of each of its servers' agents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentSeen>,
}

/// A server's newest agent report, as the server keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentSeen {
    pub server: String,
    /// Milliseconds since the epoch.
    pub collected_at: Millis,
    pub received_at: Millis,
    /// The report as the agent sent it (SPEC.md §11).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// Each pending security update (and `(reboot required)`), with when
    /// an agent first reported it, in milliseconds since the epoch.
    #[serde(default)]
    pub pending_since: BTreeMap<String, Millis>,
}

impl AgentSeen {
    /// The report as the rules read it.
    fn observation(&self) -> Option<AgentObservation> {
        let report: stagegate_agent::Report = serde_json::from_value(self.report.clone()).ok()?;
        /// Why a section is missing: its collector's note.
        fn unavailable<T>(report: &stagegate_agent::Report, name: &str) -> Reading<T> {
            Reading::Unavailable(
                report
                    .collectors
                    .iter()
                    .find(|c| c.name == name)
                    .and_then(|c| c.note.clone())
                    .unwrap_or_else(|| "not in the report".to_owned()),
            )
        }
        Some(AgentObservation {
            server: self.server.clone(),
            at: self.collected_at.div_euclid(1000),
            source: format!("agent@{}", self.server),
            firewall: report.firewall.as_ref().map_or_else(
                || unavailable(&report, "firewall"),
                |f| {
                    Reading::Read(AgentFirewall {
                        backend: f.backend.clone(),
                        active: f.active,
                        inbound_default: f.inbound_default.clone(),
                    })
                },
            ),
            listening: report.listening.as_ref().map_or_else(
                || unavailable(&report, "listening"),
                |l| {
                    Reading::Read(
                        l.iter()
                            .map(|l| AgentListener {
                                proto: l.proto.clone(),
                                address: l.address.clone(),
                                port: l.port,
                                process: l.process.clone(),
                            })
                            .collect(),
                    )
                },
            ),
            ssh: report.ssh.as_ref().map_or_else(
                || unavailable(&report, "ssh"),
                |s| {
                    Reading::Read(AgentSsh {
                        password_login: s.password_login().into_iter().map(str::to_owned).collect(),
                        permit_root_login: s.permit_root_login.clone(),
                    })
                },
            ),
            updates: report.updates.as_ref().map_or_else(
                || unavailable(&report, "updates"),
                |u| {
                    Reading::Read(AgentUpdates {
                        manager: u.manager.clone(),
                        pending: u.pending,
                        security: u.security,
                        reboot_required: u.reboot_required,
                        pending_since: self
                            .pending_since
                            .iter()
                            .map(|(p, at)| (p.clone(), at.div_euclid(1000)))
                            .collect(),
                    })
                },
            ),
            logs: report.logs.as_ref().map_or_else(
                || unavailable(&report, "logs"),
                |l| {
                    let mut busiest: Vec<(String, u64)> =
                        l.by_unit.iter().map(|(u, n)| (u.clone(), *n)).collect();
                    busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                    Reading::Read(AgentLogs {
                        errors: l.errors,
                        window_secs: stagegate_spec::Duration::parse(&l.window)
                            .map_or(86_400, |d| {
                                i64::try_from(d.get().as_secs()).unwrap_or(86_400)
                            }),
                        busiest,
                    })
                },
            ),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckObservation {
    pub name: String,
    /// The check's kind (`http`, `heartbeat`, ...).
    pub kind: String,
    /// The confirmed state after flap control: `up`, `down` or `unknown`.
    pub status: CheckStatus,
    /// The latest result, if any is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<LatestResult>,
    /// When the server last knew the confirmed state to hold, in
    /// milliseconds since the epoch, where that is later than the latest
    /// result: a heartbeat's result is stored only when its state changes,
    /// while a running server judges it continuously, so one that has been
    /// up for a month is up as of this report, not as of a month ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds_at: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LatestResult {
    pub outcome: Outcome,
    /// Milliseconds since the epoch.
    pub at: Millis,
    pub node: String,
    pub location: String,
    pub summary: String,
    /// Measured values, timings and the error chain (secrets hidden).
    pub details: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DrillObservation {
    pub id: i64,
    /// Milliseconds since the epoch.
    pub finished_at: Millis,
    pub seconds: f64,
    pub ok: bool,
    pub message: String,
    pub node: String,
}

impl From<&stagegate_store::Drill> for DrillObservation {
    fn from(d: &stagegate_store::Drill) -> Self {
        DrillObservation {
            id: d.id,
            finished_at: d.finished_at,
            seconds: d.seconds,
            ok: d.ok,
            message: d.message.clone(),
            node: d.node.clone(),
        }
    }
}

impl Observations {
    /// Only the newest drill of each environment (what scheduling drills
    /// needs, without reading every check).
    pub fn drills(drills: &[stagegate_store::Drill]) -> Observations {
        Observations {
            spec_sha256: String::new(),
            environments: drills
                .iter()
                .map(|d| EnvironmentObservations {
                    name: d.environment.clone(),
                    checks: Vec::new(),
                    drill: Some(DrillObservation::from(d)),
                    agents: Vec::new(),
                })
                .collect(),
        }
    }

    /// Reads what the store holds for every check and environment of
    /// `snapshot`. `watching` is the time now when a running server judges
    /// the heartbeats (so their confirmed states hold as of then), `None`
    /// when the store is read without one.
    pub async fn gather(
        store: &dyn Store,
        snapshot: &Snapshot,
        watching: Option<Millis>,
    ) -> Result<Observations, StoreError> {
        let states: BTreeMap<String, CheckStatus> = store
            .check_states()
            .await?
            .into_iter()
            .map(|s| (s.check, s.status))
            .collect();
        let drills = store.last_drills().await?;
        let reports = store.latest_agent_reports().await?;
        let mut pending: BTreeMap<String, BTreeMap<String, Millis>> = BTreeMap::new();
        for p in store.pending_updates().await? {
            pending
                .entry(p.server)
                .or_default()
                .insert(p.package, p.first_seen_at);
        }
        let keys: Vec<String> = snapshot
            .spec
            .environments
            .iter()
            .flat_map(|env| {
                env.monitoring
                    .iter()
                    .flat_map(|m| &m.checks)
                    .map(|c| check_key(&env.name.value, &c.name.value))
            })
            .collect();
        let mut latest: BTreeMap<String, stagegate_store::StoredResult> = store
            .latest_results(&keys)
            .await?
            .into_iter()
            .map(|r| (r.check.clone(), r))
            .collect();
        let mut environments = Vec::with_capacity(snapshot.spec.environments.len());
        for env in &snapshot.spec.environments {
            let name = &env.name.value;
            let mut checks = Vec::new();
            for check in env.monitoring.iter().flat_map(|m| &m.checks) {
                let key = check_key(name, &check.name.value);
                let status = states.get(&key).copied().unwrap_or(CheckStatus::Unknown);
                let latest = latest.remove(&key).map(|r| LatestResult {
                    outcome: r.outcome,
                    at: r.started_at,
                    node: r.node,
                    location: r.location,
                    summary: r.summary,
                    details: serde_json::from_str(&r.evidence).unwrap_or_default(),
                });
                let holds_at = watching.filter(|w| {
                    check.kind.value == CheckKind::Heartbeat
                        && status != CheckStatus::Unknown
                        && latest.as_ref().is_some_and(|l| l.at < *w)
                });
                checks.push(CheckObservation {
                    name: check.name.value.clone(),
                    kind: check.kind.value.as_str().to_owned(),
                    status,
                    latest,
                    holds_at,
                });
            }
            let drill = drills
                .iter()
                .find(|d| d.environment == *name)
                .map(DrillObservation::from);
            let agents = reports
                .iter()
                .filter(|r| env.server(&r.server).is_some())
                .filter_map(|r| {
                    Some(AgentSeen {
                        server: r.server.clone(),
                        collected_at: r.collected_at,
                        received_at: r.received_at,
                        report: serde_json::from_str(&r.report).ok()?,
                        pending_since: pending.get(&r.server).cloned().unwrap_or_default(),
                    })
                })
                .collect();
            environments.push(EnvironmentObservations {
                name: name.clone(),
                checks,
                drill,
                agents,
            });
        }
        Ok(Observations {
            spec_sha256: snapshot.identity.sha256.clone(),
            environments,
        })
    }

    /// The observations as the live rules read them, for the checks `spec`
    /// declares (a check the server does not know is simply not observed).
    pub fn live_evidence(&self, spec: &Spec) -> LiveEvidence {
        let mut live = LiveEvidence::new();
        for env in &spec.environments {
            let name = &env.name.value;
            let Some(seen) = self.environments.iter().find(|e| e.name == *name) else {
                continue;
            };
            for check in env.monitoring.iter().flat_map(|m| &m.checks) {
                let Some(o) = seen.checks.iter().find(|c| c.name == check.name.value) else {
                    continue;
                };
                let Some(observation) = o.observation(check.kind.value) else {
                    continue;
                };
                if let Some(cert) = o.certificate(check) {
                    live.add_certificate(name, cert);
                }
                match check.kind.value {
                    CheckKind::Restic => live.add_backup(name, observation.clone()),
                    CheckKind::Ports => live.add_exposure(
                        name,
                        ExposureObservation {
                            server: check
                                .host
                                .as_ref()
                                .map_or_else(String::new, |h| h.raw().to_owned()),
                            open: o
                                .latest
                                .as_ref()
                                .and_then(|l| l.details.get("open"))
                                .map(|open| {
                                    open.split([',', ' '])
                                        .filter_map(|p| p.trim().parse().ok())
                                        .collect()
                                })
                                .unwrap_or_default(),
                            tested: {
                                let mut tested = stagegate_probe::exposure_ports(env);
                                tested.extend(stagegate_probe::public_ports(env));
                                tested.sort_unstable();
                                tested.dedup();
                                tested
                            },
                            observation: observation.clone(),
                        },
                    ),
                    _ => {}
                }
                live.add_check(name, &check.name.value, observation);
            }
            for agent in &seen.agents {
                if let Some(a) = agent.observation() {
                    live.add_agent(name, a);
                }
            }
        }
        live
    }

    /// Each environment's newest drill run under the server, into `facts`
    /// where it is newer than what the drill log says.
    pub fn add_drills(&self, facts: &mut FileFacts) {
        for env in &self.environments {
            let Some(d) = &env.drill else { continue };
            let record = DrillRecord {
                finished_at: d.finished_at.div_euclid(1000),
                seconds: d.seconds,
                ok: d.ok,
                message: d.message.clone(),
            };
            let newer = facts
                .last_drill(&env.name)
                .is_none_or(|f| f.finished_at <= record.finished_at);
            if newer {
                // The record's identity: its store id and content.
                let sha256 = stagegate_spec::sha256_hex(
                    format!(
                        "{}\n{}\n{}\n{}\n{}\n{}",
                        d.id, env.name, d.finished_at, d.seconds, d.ok, d.node
                    )
                    .as_bytes(),
                );
                let from = RecordSource {
                    source: format!("drill #{} by {}", d.id, d.node),
                    sha256: Some(sha256),
                };
                facts.insert_drill(env.name.clone(), record, from);
            }
        }
    }
}

impl CheckObservation {
    /// Where it was seen: `node@location`, or the node alone.
    fn seen_by(latest: &LatestResult) -> String {
        if latest.location.is_empty() {
            latest.node.clone()
        } else {
            format!("{}@{}", latest.node, latest.location)
        }
    }

    /// The check as an observation: its confirmed state when known (one
    /// failed probe is not an outage), else its latest result.
    fn observation(&self, kind: CheckKind) -> Option<Observation> {
        let latest = self.latest.as_ref()?;
        let status = match (self.status, latest.outcome) {
            (CheckStatus::Up, _) => Observed::Pass,
            (CheckStatus::Down, _) => Observed::Fail,
            (CheckStatus::Unknown, Outcome::Pass) => Observed::Pass,
            (CheckStatus::Unknown, Outcome::Fail) => Observed::Fail,
            (CheckStatus::Unknown, Outcome::Skip) => Observed::Skip,
        };
        let mut details: Vec<(String, String)> = latest
            .details
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        details.push(("state".to_owned(), self.status.as_str().to_owned()));
        if self.holds_at.is_some() {
            details.push(("state_since".to_owned(), crate::clock::rfc3339(latest.at)));
        }
        Some(Observation {
            subject: format!("check {} ({kind})", self.name),
            status,
            summary: latest.summary.clone(),
            details,
            source: Self::seen_by(latest),
            at: self.holds_at.unwrap_or(latest.at).div_euclid(1000),
        })
    }

    /// The certificate an https or tls check's latest result presented.
    fn certificate(&self, check: &stagegate_spec::Check) -> Option<CertificateObservation> {
        let https = check.kind.value == CheckKind::Http
            && check
                .url
                .as_ref()
                .is_some_and(|u| u.raw().starts_with("https://"));
        if !https && check.kind.value != CheckKind::Tls {
            return None;
        }
        let latest = self.latest.as_ref()?;
        let d = &latest.details;
        let presented = match (d.get("cert_not_after"), d.get("cert_days_left")) {
            (Some(not_after), Some(days)) => Some(PresentedCertificate {
                subject: d.get("cert_subject").cloned().unwrap_or_default(),
                not_after: not_after.clone(),
                days_left: days.parse().unwrap_or(0),
                verify_error: d.get("cert_trusted").filter(|t| *t != "yes").cloned(),
            }),
            _ => None,
        };
        let host = match (&check.url, &check.host) {
            (Some(url), _) => url
                .raw()
                .split("://")
                .nth(1)
                .and_then(|rest| rest.split(['/', ':', '?']).next())
                .unwrap_or_default()
                .to_owned(),
            (None, Some(host)) => host.raw().to_owned(),
            (None, None) => String::new(),
        };
        Some(CertificateObservation {
            check: self.name.clone(),
            host,
            unreachable: presented.is_none().then(|| latest.summary.clone()),
            presented,
            min_days: check
                .expect
                .cert_valid_for
                .as_ref()
                .map(|v| i64::try_from(v.whole_days()).unwrap_or(i64::MAX)),
            source: Self::seen_by(latest),
            at: latest.at.div_euclid(1000),
        })
    }
}
