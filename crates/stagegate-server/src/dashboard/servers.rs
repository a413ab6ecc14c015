//! Servers: what each server's agent last reported (updates, firewall,
//! listening ports against the declared ones, SSH, time, disks, log
//! errors), how long ago, and what its collectors could not read.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use stagegate_agent::Report;
use stagegate_store::Millis;

use super::html;
use super::session::SignedIn;
use crate::AppState;

struct Fact {
    label: &'static str,
    value: String,
    /// `up`, `down` or `unknown`: how the value reads against the rules.
    class: &'static str,
}

struct ServerRow {
    name: String,
    anchor: String,
    reported: String,
    reported_class: &'static str,
    facts: Vec<Fact>,
    /// Collectors that could not read, with why.
    unavailable: Vec<String>,
}

struct Section {
    environment: String,
    watched: Option<String>,
    servers: Vec<ServerRow>,
}

#[derive(Template)]
#[template(path = "servers.html")]
struct ServersPage {
    chrome: super::Chrome,
    sections: Vec<Section>,
}

/// The fragment that names a server's facts on this page, which links to
/// it (an agent-silent incident) use: ASCII letters, digits and `-` as they
/// are, anything else as `_HEX_`, so two names never share one.
pub(super) fn anchor(server: &str) -> String {
    let mut id = String::from("server-");
    for c in server.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            id.push(c);
        } else {
            id.push_str(&format!("_{:x}_", u32::from(c)));
        }
    }
    id
}

pub async fn page(State(state): State<Arc<AppState>>, SignedIn(viewer, _): SignedIn) -> Response {
    let snapshot = state.snapshot();
    let now = state.clock.now();
    let read = async {
        Ok::<_, stagegate_store::StoreError>((
            state.store.latest_agent_reports().await?,
            state.store.pending_updates().await?,
        ))
    };
    let (reports, pending) = match read.await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "servers: the store is unavailable");
            return super::unavailable();
        }
    };
    let mut oldest_pending: BTreeMap<&str, (Millis, &str)> = BTreeMap::new();
    for p in &pending {
        let entry = oldest_pending
            .entry(p.server.as_str())
            .or_insert((p.first_seen_at, p.package.as_str()));
        if p.first_seen_at < entry.0 {
            *entry = (p.first_seen_at, p.package.as_str());
        }
    }
    let mut sections = Vec::new();
    for env in &snapshot.spec.environments {
        let reported_here: Vec<_> = env
            .servers
            .iter()
            .map(|s| (s, reports.iter().find(|r| r.server == s.name.value)))
            .collect();
        if env.agent.is_none() && reported_here.iter().all(|(_, r)| r.is_none()) {
            continue;
        }
        let interval = env
            .agent
            .as_ref()
            .map(|a| i64::try_from(a.interval.get().as_millis()).unwrap_or(i64::MAX));
        let security = env.security.as_ref();
        let declared: Vec<u16> = security.map_or_else(Vec::new, |s| {
            s.public_ports
                .iter()
                .chain(&s.private_ports)
                .map(|p| p.value)
                .collect()
        });
        let servers = reported_here
            .into_iter()
            .map(|(server, stored)| {
                let name = server.name.value.clone();
                let anchor = anchor(&name);
                let Some(stored) = stored else {
                    return ServerRow {
                        name,
                        anchor,
                        reported: "never".to_owned(),
                        reported_class: "down",
                        facts: Vec::new(),
                        unavailable: Vec::new(),
                    };
                };
                let age = now - stored.collected_at;
                let late = interval.is_some_and(|i| age > i.saturating_mul(2));
                let report: Option<Report> = serde_json::from_str(&stored.report).ok();
                let (facts, unavailable) = report.as_ref().map_or_else(
                    || {
                        (
                            Vec::new(),
                            vec!["the stored report cannot be read".to_owned()],
                        )
                    },
                    |r| {
                        facts(
                            r,
                            &declared,
                            oldest_pending.get(name.as_str()).copied(),
                            now,
                        )
                    },
                );
                ServerRow {
                    name,
                    anchor,
                    reported: format!(
                        "{} ago ({}){}",
                        super::lasted(age),
                        super::utc(stored.collected_at),
                        if late { " — silent" } else { "" }
                    ),
                    reported_class: if late { "down" } else { "up" },
                    facts,
                    unavailable,
                }
            })
            .collect();
        sections.push(Section {
            environment: env.name.value.clone(),
            watched: env
                .agent
                .as_ref()
                .map(|a| format!("agents report every {}", a.interval)),
            servers,
        });
    }
    html(
        StatusCode::OK,
        &ServersPage {
            chrome: super::Chrome::new(
                &viewer,
                snapshot.spec.product.name.value.clone(),
                "servers",
            ),
            sections,
        },
    )
}

/// The facts of one report, and the collectors that could not read.
fn facts(
    r: &Report,
    declared: &[u16],
    oldest_pending: Option<(Millis, &str)>,
    now: Millis,
) -> (Vec<Fact>, Vec<String>) {
    let mut out = Vec::new();
    if let Some(os) = &r.os {
        out.push(Fact {
            label: "System",
            value: format!("{} {} ({})", os.id, os.version, r.host),
            class: "unknown",
        });
    }
    if let Some(u) = &r.updates {
        let mut value = format!(
            "{} pending, {} security ({})",
            u.pending,
            u.security.map_or("unknown".to_owned(), |s| s.to_string()),
            u.manager
        );
        if u.reboot_required == Some(true) {
            value.push_str(", reboot required");
        }
        if let Some((since, what)) = oldest_pending {
            value.push_str(&format!(
                "; oldest pending: {what} for {}",
                super::lasted(now - since)
            ));
        }
        out.push(Fact {
            label: "Updates",
            value,
            class: if u.security.unwrap_or(0) == 0 && u.reboot_required != Some(true) {
                "up"
            } else {
                "down"
            },
        });
    }
    if let Some(f) = &r.firewall {
        let closed = f.active && matches!(f.inbound_default.as_str(), "drop" | "reject");
        out.push(Fact {
            label: "Firewall",
            value: if f.active {
                format!("{}, inbound default {}", f.backend, f.inbound_default)
            } else {
                "no inbound filter loaded".to_owned()
            },
            class: if closed { "up" } else { "down" },
        });
    }
    if let Some(l) = &r.listening {
        let mut ports: Vec<(u16, String)> = l
            .iter()
            .filter(|l| !l.loopback())
            .map(|l| {
                (
                    l.port,
                    format!(
                        "{}/{} ({})",
                        l.port,
                        l.proto,
                        l.process.as_deref().unwrap_or("?")
                    ),
                )
            })
            .collect();
        ports.sort();
        ports.dedup_by_key(|(p, _)| *p);
        let undeclared: Vec<&str> = ports
            .iter()
            .filter(|(p, _)| !declared.contains(p))
            .map(|(_, s)| s.as_str())
            .collect();
        let all: Vec<&str> = ports.iter().map(|(_, s)| s.as_str()).collect();
        out.push(Fact {
            label: "Listening",
            value: if all.is_empty() {
                "loopback only".to_owned()
            } else if undeclared.is_empty() {
                all.join(", ")
            } else {
                format!(
                    "{} — not declared: {}",
                    all.join(", "),
                    undeclared.join(", ")
                )
            },
            class: if undeclared.is_empty() { "up" } else { "down" },
        });
    }
    if let Some(s) = &r.ssh {
        let password = s.password_login();
        let open = !password.is_empty() || s.permit_root_login == "yes";
        out.push(Fact {
            label: "SSH",
            value: format!(
                "password login {}, root login {}",
                if password.is_empty() {
                    "off".to_owned()
                } else {
                    format!("on ({})", password.join(", "))
                },
                s.permit_root_login
            ),
            class: if open { "down" } else { "up" },
        });
    }
    if let Some(t) = &r.time {
        out.push(Fact {
            label: "Time",
            value: match (t.synchronized, t.source.is_empty()) {
                (true, true) => "synchronized".to_owned(),
                (true, false) => format!("synchronized ({})", t.source),
                (false, true) => "not synchronized".to_owned(),
                (false, false) => format!("not synchronized ({})", t.source),
            },
            class: if t.synchronized { "up" } else { "down" },
        });
    }
    if let Some(d) = &r.disks {
        let fullest = d.iter().map(|d| d.used_percent).fold(0.0, f64::max);
        out.push(Fact {
            label: "Disks",
            value: d
                .iter()
                .map(|d| format!("{} {:.0}%", d.mount, d.used_percent))
                .collect::<Vec<_>>()
                .join(", "),
            class: if fullest >= 90.0 { "down" } else { "up" },
        });
    }
    if let Some(l) = &r.logs {
        let mut busiest: Vec<(&String, &u64)> = l.by_unit.iter().collect();
        busiest.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = busiest
            .iter()
            .take(3)
            .map(|(u, n)| format!("{u} {n}"))
            .collect();
        out.push(Fact {
            label: "Log errors",
            value: if top.is_empty() {
                format!("none in {}", l.window)
            } else {
                format!("{} in {}: {}", l.errors, l.window, top.join(", "))
            },
            class: "unknown",
        });
    }
    let unavailable = r
        .collectors
        .iter()
        .filter(|c| c.status != "ok")
        .map(|c| format!("{}: {}", c.name, c.note.as_deref().unwrap_or("unavailable")))
        .collect();
    (out, unavailable)
}

#[cfg(test)]
mod tests {
    use super::anchor;

    #[test]
    fn anchors_keep_plain_names_and_never_collide() {
        assert_eq!(anchor("db-1"), "server-db-1");
        assert_eq!(anchor("a b"), "server-a_20_b");
        assert_ne!(anchor("a b"), anchor("a_20_b"));
        assert_ne!(anchor("a.b"), anchor("a-b"));
    }
}
