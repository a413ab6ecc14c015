//! Day-to-day operations as the servers' own agents report them (SPEC.md
//! §11): security updates applied, agents reporting, SSH closed to
//! passwords, log errors under a ceiling; and the agent's view of the
//! firewall and of listening ports for SG-SEC-FIREWALL and SG-SEC-EXPOSURE.
//! Every rule here asks for `agent = true` first: a spec that does not opt
//! in is judged as before.

use stagegate_spec::AgentWatch;

use super::{list, skip};
use crate::context::Ctx;
use crate::evidence::{AgentObservation, Observation, Observed, Reading};
use crate::rule::{Applies, Area, Outcome, Rule};

const STAFF: &str = "Depending on the desired rollout, various processes and staff members are needed to operate the environment.";
const NOT_OPTED_IN: &str = "the environment does not opt into agent reports (`agent = true`)";
const FROM_THE_SERVER: &str = "judged from agent reports kept by the server: `stagegate check --server URL`, or the server's own verdicts";

/// Whether rule `id` is judged from agent reports alone.
pub(crate) fn reads_agents(id: &str) -> bool {
    [PATCHES.id, AGENT.id, SSH.id, LOGS.id].contains(&id)
}

pub(super) const PATCHES: Rule = Rule {
    id: "SG-OPS-PATCHES",
    title: "Security updates are applied in time",
    area: Area::ProcessesAndStaff,
    applies: Applies::SOFT_PROD,
    condition: Some("when the environment has `agent = true`"),
    requirement: "no security update (nor a reboot) pending on a server longer than `policy.patch_max_age` (default 14d), counted from when its agent first reported it",
    guideline: &[STAFF, "Server and system security updates"],
    rationale: "Most breaches use a vulnerability whose fix was published weeks before. An update that stays pending leaves the server open all that time.",
    remediation: "Apply the pending security updates (unattended-upgrades, dnf-automatic), reboot where the kernel or libc changed, and watch SG-OPS-PATCHES turn green on the next report.",
    example: "[environments.production]\nagent = true\n\n[policy]\npatch_max_age = \"14d\"",
    live: true,
    check: patches,
};

pub(super) const AGENT: Rule = Rule {
    id: "SG-OPS-AGENT",
    title: "Every server reports through its agent",
    area: Area::ProcessesAndStaff,
    applies: Applies::STAGING_UP,
    condition: Some("when the environment has `agent = true`"),
    requirement: "every server of the environment reported within twice the agent `interval` (default 1h)",
    guideline: &[STAFF, "Server and system security updates"],
    rationale: "A server whose agent has gone quiet has not been seen: its updates, firewall and logs are whatever they were the last time.",
    remediation: "Install `stagegate agent` on the server with a token named after it (`stagegate token create --role agent --name SERVER`), and enable `stagegate-agent.timer`.",
    example: "[environments.production.agent]\ninterval = \"1h\"",
    live: true,
    check: agents,
};

pub(super) const SSH: Rule = Rule {
    id: "SG-SEC-SSH",
    title: "SSH takes no passwords",
    area: Area::Security,
    applies: Applies::SOFT_REC_PROD,
    condition: Some("when the environment has `agent = true`"),
    requirement: "sshd's effective settings allow no password login, and no root login by password",
    guideline: &[
        "Security must be addressed at various project stages. Before production launch (both soft and full launch), ensure:",
        "Implement security measures like firewalls, VPNs for operations/business teams, site-to-site VPNs for backups and monitoring, and backup encryption.",
    ],
    rationale: "SSH with passwords is brute-forced from the whole internet around the clock. Keys are not guessed.",
    remediation: "Set `PasswordAuthentication no`, `KbdInteractiveAuthentication no` and `PermitRootLogin prohibit-password` (or `no`) in sshd_config, then reload sshd.",
    example: "[environments.production]\nagent = true",
    live: true,
    check: ssh,
};

pub(super) const LOGS: Rule = Rule {
    id: "SG-OPS-LOGS",
    title: "Error logs stay under their ceiling",
    area: Area::ProcessesAndStaff,
    applies: Applies::STAGING_UP,
    condition: Some(
        "when the environment has `agent = true` and `operations.log_errors_max_per_hour`",
    ),
    requirement: "every server writes at most `operations.log_errors_max_per_hour` error-level log lines an hour, over the agent's log window",
    guideline: &[STAFF, "Log monitoring"],
    rationale: "A rising error rate is the first sign of most failures. When nobody reads the logs, a ceiling that fails the check reads them for you.",
    remediation: "Read the errors of the units the report names (`journalctl -p err -u UNIT`) and fix their cause, or raise the ceiling if the noise is understood.",
    example: "[environments.production]\nagent = true\n\n[environments.production.operations]\nlog_errors_max_per_hour = 10",
    live: true,
    check: logs,
};

/// The environment's agent settings and the reports of its servers, or
/// why the rule does not judge.
fn reports<'a>(cx: &Ctx<'a>) -> Result<(&'a AgentWatch, &'a [AgentObservation]), Outcome> {
    let Some(watch) = &cx.env.agent else {
        return Err(skip(NOT_OPTED_IN));
    };
    let Some(live) = cx.live else {
        return Err(skip(FROM_THE_SERVER));
    };
    Ok((watch, live.agents(&cx.env.name.value)))
}

/// The reports of the environment's servers, or why the rule does not
/// judge (not opted in, no server's observations, no report yet).
fn reporting<'a>(cx: &Ctx<'a>) -> Result<&'a [AgentObservation], Outcome> {
    let (_, seen_reports) = reports(cx)?;
    if seen_reports.is_empty() {
        return Err(skip(
            "no agent of this environment has reported yet (SG-OPS-AGENT says which)",
        ));
    }
    Ok(seen_reports)
}

/// Why a collector could not read (empty when it did).
fn unread<T>(r: &Reading<T>) -> &str {
    match r {
        Reading::Unavailable(why) => why,
        Reading::Read(_) => "",
    }
}

/// A finding's evidence: what one agent reported.
fn seen(a: &AgentObservation, status: Observed, summary: String) -> Observation {
    Observation {
        subject: format!("server {} (agent report)", a.server),
        status,
        summary,
        details: Vec::new(),
        source: a.source.clone(),
        at: a.at,
    }
}

fn verdict(
    cx: &Ctx<'_>,
    problems: Vec<String>,
    fine: String,
    evidence: Vec<Observation>,
) -> Outcome {
    let span = cx.env.agent.as_ref().map(|a| a.span);
    Outcome::Observed {
        passed: problems.is_empty(),
        message: if problems.is_empty() {
            fine
        } else {
            problems.join("; ")
        },
        span,
        evidence,
    }
}

/// An age in the largest unit that keeps it readable: `45s`, `12m`,
/// `5h`, `20d`.
fn days(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..120 => format!("{secs}s"),
        120..7_200 => format!("{}m", secs / 60),
        7_200..172_800 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

fn patches(cx: &Ctx<'_>) -> Outcome {
    let seen_reports = match reporting(cx) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let max = i64::try_from(cx.spec.policy.patch_max_age.get().as_secs()).unwrap_or(i64::MAX);
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for a in seen_reports {
        let Some(u) = a.updates.read() else {
            let why = unread(&a.updates);
            problems.push(format!("{}: updates not observed ({why})", a.server));
            evidence.push(seen(
                a,
                Observed::Fail,
                format!("updates not observed: {why}"),
            ));
            continue;
        };
        let overdue: Vec<String> = u
            .pending_since
            .iter()
            .filter(|(_, since)| cx.now - since > max)
            .map(|(what, since)| format!("{what} for {}", days(cx.now - since)))
            .collect();
        let summary = format!(
            "{} pending, {} security ({})",
            u.pending,
            u.security.map_or("unknown".to_owned(), |s| s.to_string()),
            u.manager
        );
        if overdue.is_empty() {
            evidence.push(seen(a, Observed::Pass, summary));
        } else {
            problems.push(format!(
                "{}: pending longer than patch_max_age {}: {}",
                a.server,
                cx.spec.policy.patch_max_age,
                list(&overdue)
            ));
            evidence.push(seen(a, Observed::Fail, summary));
        }
    }
    let n = seen_reports.len();
    verdict(
        cx,
        problems,
        format!(
            "{n} server{}: no security update pending longer than {}",
            if n == 1 { "" } else { "s" },
            cx.spec.policy.patch_max_age
        ),
        evidence,
    )
}

fn agents(cx: &Ctx<'_>) -> Outcome {
    let (watch, seen_reports) = match reports(cx) {
        Ok(r) => r,
        Err(o) => return o,
    };
    if cx.env.servers.is_empty() {
        return skip("the environment declares no servers");
    }
    let late_after = i64::try_from(watch.interval.get().as_secs())
        .unwrap_or(i64::MAX / 2)
        .saturating_mul(2);
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for server in &cx.env.servers {
        let name = &server.name.value;
        match seen_reports.iter().find(|a| a.server == *name) {
            None => problems.push(format!("{name} never reported")),
            Some(a) if cx.now - a.at > late_after => {
                let summary = format!(
                    "last report {} ago, expected every {}",
                    days(cx.now - a.at),
                    watch.interval
                );
                problems.push(format!("{name}: {summary}"));
                evidence.push(seen(a, Observed::Fail, summary));
            }
            Some(a) => evidence.push(seen(a, Observed::Pass, "reported in time".to_owned())),
        }
    }
    let n = cx.env.servers.len();
    verdict(
        cx,
        problems,
        format!(
            "{n} server{} reported within twice the interval of {}",
            if n == 1 { "" } else { "s" },
            watch.interval
        ),
        evidence,
    )
}

fn ssh(cx: &Ctx<'_>) -> Outcome {
    let seen_reports = match reporting(cx) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for a in seen_reports {
        match &a.ssh {
            Reading::Read(s) => {
                let mut wrong = Vec::new();
                if !s.password_login.is_empty() {
                    wrong.push(format!(
                        "password login is on ({})",
                        s.password_login.join(", ")
                    ));
                }
                if s.permit_root_login == "yes" {
                    wrong.push("root may log in with a password (PermitRootLogin yes)".to_owned());
                }
                let summary = format!(
                    "password login {}, PermitRootLogin {}",
                    if s.password_login.is_empty() {
                        "off".to_owned()
                    } else {
                        s.password_login.join(", ")
                    },
                    s.permit_root_login
                );
                if wrong.is_empty() {
                    evidence.push(seen(a, Observed::Pass, summary));
                } else {
                    problems.push(format!("{}: {}", a.server, list(&wrong)));
                    evidence.push(seen(a, Observed::Fail, summary));
                }
            }
            // No SSH daemon: no SSH login at all.
            Reading::Unavailable(why) if why.contains("not installed") => {
                evidence.push(seen(a, Observed::Pass, "no SSH daemon".to_owned()));
            }
            Reading::Unavailable(why) => {
                problems.push(format!("{}: sshd settings not observed ({why})", a.server));
                evidence.push(seen(a, Observed::Fail, format!("not observed: {why}")));
            }
        }
    }
    verdict(
        cx,
        problems,
        "no server takes SSH passwords".to_owned(),
        evidence,
    )
}

fn logs(cx: &Ctx<'_>) -> Outcome {
    if cx.env.agent.is_none() {
        return skip(NOT_OPTED_IN);
    }
    let Some(max) = cx
        .env
        .operations
        .as_ref()
        .and_then(|o| o.log_errors_max_per_hour.as_ref())
    else {
        return skip("no `operations.log_errors_max_per_hour` is set");
    };
    let seen_reports = match reporting(cx) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for a in seen_reports {
        let Some(l) = a.logs.read() else {
            let why = unread(&a.logs);
            problems.push(format!("{}: log errors not observed ({why})", a.server));
            evidence.push(seen(a, Observed::Fail, format!("not observed: {why}")));
            continue;
        };
        #[allow(clippy::cast_precision_loss)]
        let rate = l.errors as f64 * 3600.0 / (l.window_secs.max(1) as f64);
        let busiest: Vec<String> = l
            .busiest
            .iter()
            .take(3)
            .map(|(unit, n)| format!("{unit} {n}"))
            .collect();
        let summary = format!(
            "{} error{} in {}, {rate:.1} an hour{}",
            l.errors,
            if l.errors == 1 { "" } else { "s" },
            days(l.window_secs),
            if busiest.is_empty() {
                String::new()
            } else {
                format!(" ({})", list(&busiest))
            }
        );
        if rate > f64::from(max.value) {
            problems.push(format!(
                "{}: {summary}, above the ceiling of {}",
                a.server, max.value
            ));
            evidence.push(seen(a, Observed::Fail, summary));
        } else {
            evidence.push(seen(a, Observed::Pass, summary));
        }
    }
    verdict(
        cx,
        problems,
        format!("every server under {} error lines an hour", max.value),
        evidence,
    )
}

/// SG-SEC-FIREWALL from the agents' reports: every reporting server filters
/// inbound traffic by default. `None` when the environment has no agent
/// reports to judge from (the declared setting is judged instead).
pub(super) fn firewall(cx: &Ctx<'_>) -> Option<Outcome> {
    cx.env.agent.as_ref()?;
    let seen_reports = cx.live?.agents(&cx.env.name.value);
    if seen_reports.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for a in seen_reports {
        match &a.firewall {
            Reading::Read(f)
                if f.active && matches!(f.inbound_default.as_str(), "drop" | "reject") =>
            {
                evidence.push(seen(
                    a,
                    Observed::Pass,
                    format!("{}: inbound default {}", f.backend, f.inbound_default),
                ));
            }
            Reading::Read(f) => {
                let summary = if f.active {
                    format!("{}: inbound default {}", f.backend, f.inbound_default)
                } else {
                    "no inbound filter loaded".to_owned()
                };
                problems.push(format!("{}: {summary}", a.server));
                evidence.push(seen(a, Observed::Fail, summary));
            }
            Reading::Unavailable(why) => {
                problems.push(format!("{}: firewall not observed ({why})", a.server));
                evidence.push(seen(a, Observed::Fail, format!("not observed: {why}")));
            }
        }
    }
    Some(verdict(
        cx,
        problems,
        "every reporting server drops or rejects inbound traffic no rule accepts".to_owned(),
        evidence,
    ))
}

/// What a scan from outside saw of a server: the ports that answered, and
/// every port it tested.
pub(super) type Scanned = (Vec<u16>, Vec<u16>);

/// SG-SEC-EXPOSURE from the agents' reports: every port listening beyond
/// loopback is declared public or private, and a private port does not
/// answer from outside. `outside` holds, per server name, the ports a live
/// scan found answering and those it tested: only a tested port that did
/// not answer is known to be kept in. Problems, and the evidence judged.
pub(super) fn listening(
    cx: &Ctx<'_>,
    outside: &dyn Fn(&str) -> Option<Scanned>,
) -> Option<(Vec<String>, Vec<String>, Vec<Observation>)> {
    cx.env.agent.as_ref()?;
    let seen_reports = cx.live?.agents(&cx.env.name.value);
    if seen_reports.is_empty() {
        return None;
    }
    let security = cx.env.security.as_ref();
    let public: Vec<u16> = security.map_or_else(Vec::new, |s| {
        s.public_ports.iter().map(|p| p.value).collect()
    });
    let private: Vec<u16> = security.map_or_else(Vec::new, |s| {
        s.private_ports.iter().map(|p| p.value).collect()
    });
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut evidence = Vec::new();
    for a in seen_reports {
        let Some(sockets) = a.listening.read() else {
            let why = unread(&a.listening);
            problems.push(format!(
                "{}: listening sockets not observed ({why})",
                a.server
            ));
            evidence.push(seen(a, Observed::Fail, format!("not observed: {why}")));
            continue;
        };
        let answering = outside(&a.server);
        let mut undeclared = Vec::new();
        let mut leaking = Vec::new();
        let mut shut_in = Vec::new();
        let mut open: Vec<&crate::evidence::AgentListener> =
            sockets.iter().filter(|l| !l.loopback()).collect();
        open.sort_by_key(|l| l.port);
        open.dedup_by_key(|l| l.port);
        for l in open {
            let name = format!(
                "{}/{} ({})",
                l.port,
                l.proto,
                l.process.as_deref().unwrap_or("unknown process")
            );
            let answers = answering
                .as_ref()
                .filter(|(_, tested)| tested.contains(&l.port))
                .map(|(open, _)| open.contains(&l.port));
            if public.contains(&l.port) {
                continue;
            }
            if private.contains(&l.port) {
                if answers == Some(true) {
                    leaking.push(name);
                }
                continue;
            }
            match answers {
                Some(false) => shut_in.push(name),
                _ => undeclared.push(name),
            }
        }
        let mut wrong = Vec::new();
        if !undeclared.is_empty() {
            wrong.push(format!(
                "listening on {}, declared neither in public_ports nor in private_ports",
                list(&undeclared)
            ));
        }
        if !leaking.is_empty() {
            wrong.push(format!(
                "private port {} answers from outside",
                list(&leaking)
            ));
        }
        if !shut_in.is_empty() {
            notes.push(format!(
                "{}: {} listens but is protected by the firewall (no answer from outside)",
                a.server,
                list(&shut_in)
            ));
        }
        if wrong.is_empty() {
            evidence.push(seen(
                a,
                Observed::Pass,
                "every listening port is declared".to_owned(),
            ));
        } else {
            let summary = wrong.join("; ");
            problems.push(format!("{}: {summary}", a.server));
            evidence.push(seen(a, Observed::Fail, summary));
        }
    }
    Some((problems, notes, evidence))
}
