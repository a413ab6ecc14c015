//! `init runbooks`: a runbook per failure scenario of the guideline, filled
//! with what the spec already knows (who is on call, who owns which duty,
//! where the servers and backups are, how to restore, the RPO and RTO), so
//! the team starts from their own system instead of a blank page.
//!
//! Every runbook begins with the template marker; until someone completes it
//! and deletes that line, SG-OPS-RUNBOOKS counts it as missing.

use std::fmt::Write as _;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use stagegate_rules::TEMPLATE_MARKER;
use stagegate_spec::{Contact, Environment, Framework, Mode, Runbook, Spec};

mod scenarios;

use scenarios::{
    attack_mitigation, backup_restore, data_corruption, emergency_mode, failure, hardware_swap,
    security_breach, unavailability,
};

use crate::cli::InitRunbooksArgs;
use crate::load::Loaded;
use crate::{Failure, Outcome};

pub fn run(args: &InitRunbooksArgs) -> Result<Outcome, Failure> {
    let loaded = Loaded::read(&args.spec)?;
    let spec = &loaded.spec;
    let envs: Vec<&Environment> = match &args.env {
        Some(name) => {
            loaded.check_env_names(std::slice::from_ref(name))?;
            spec.environment(name).into_iter().collect()
        }
        None => spec
            .environments
            .iter()
            .filter(|e| matches!(e.mode.value, Mode::SoftLaunch | Mode::Production))
            .collect(),
    };
    if envs.is_empty() {
        return Err(Failure::Message(format!(
            "{} has no soft-launch or production environment; name one: `stagegate init runbooks ENV`",
            loaded.source.name()
        )));
    }
    let mut err = anstream::stderr();
    for env in envs {
        let mut undeclared = Vec::new();
        for which in scenarios(spec, env) {
            let declared = env.runbooks.as_ref().and_then(|r| r.get(which));
            let relative = declared.map_or_else(
                || format!("runbooks/{}/{}.md", env.name.value, which.as_str()),
                |p| p.value.clone(),
            );
            let path = loaded.dir.join(&relative);
            if path.exists() && !args.force {
                writeln!(
                    err,
                    "kept  {} (exists; --force overwrites it)",
                    path.display()
                )?;
            } else {
                write_file(
                    &path,
                    &render(spec, env, which, &relative_runbooks(spec, env)),
                )?;
                writeln!(err, "wrote {}", path.display())?;
            }
            if declared.is_none() {
                undeclared.push((which, relative));
            }
        }
        if !undeclared.is_empty() {
            writeln!(
                err,
                "\nadd to {} so the checks find them:\n\n[environments.{}.runbooks]",
                loaded.source.name(),
                env.name.value
            )?;
            for (which, path) in undeclared {
                writeln!(err, "{} = \"{path}\"", which.as_str())?;
            }
        }
        writeln!(
            err,
            "\nnext: complete each runbook with the people it names, then delete its \"{TEMPLATE_MARKER}\" line;\nuntil then SG-OPS-RUNBOOKS counts it as missing.\n"
        )?;
    }
    Ok(Outcome::Ready)
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)
            .map_err(|e| Failure::Message(format!("cannot create {}: {e}", dir.display())))?;
    }
    fs::write(path, text)
        .map_err(|e| Failure::Message(format!("cannot write {}: {e}", path.display())))
}

/// The scenarios an environment needs runbooks for.
fn scenarios(spec: &Spec, env: &Environment) -> Vec<Runbook> {
    Runbook::ALL
        .iter()
        .copied()
        .filter(|r| match r {
            Runbook::BackupRestore => env.backup.is_some(),
            Runbook::EmergencyMode => declares(spec, Framework::Hipaa),
            _ => true,
        })
        .collect()
}

pub(super) fn declares(spec: &Spec, f: Framework) -> bool {
    spec.product.frameworks.iter().any(|x| x.value == f)
}

/// Where each runbook of the environment lives, for cross-references.
fn relative_runbooks(spec: &Spec, env: &Environment) -> Vec<(Runbook, PathBuf)> {
    scenarios(spec, env)
        .into_iter()
        .map(|r| {
            let p = env.runbooks.as_ref().and_then(|x| x.get(r)).map_or_else(
                || PathBuf::from(format!("runbooks/{}/{}.md", env.name.value, r.as_str())),
                |p| PathBuf::from(&p.value),
            );
            (r, p)
        })
        .collect()
}

fn contact_line(c: &Contact) -> String {
    let mut parts = vec![format!(
        "**{}** (`{}`)",
        c.name.as_deref().unwrap_or(&c.id.value),
        c.id.value
    )];
    if let Some(e) = &c.email {
        parts.push(e.clone());
    }
    if let Some(p) = &c.phone {
        parts.push(p.clone());
    }
    parts.join(" · ")
}

fn render(spec: &Spec, env: &Environment, which: Runbook, paths: &[(Runbook, PathBuf)]) -> String {
    let p = &spec.product;
    let mut md = String::new();
    // The commitments a rule reads, stated where no wording can blur them.
    if which == Runbook::SecurityBreach && declares(spec, Framework::Gdpr) {
        let _ = writeln!(
            md,
            "---\nnotifies: [supervisory-authority, data-subjects]\nwithin: 72h\n---"
        );
    }
    let _ = writeln!(
        md,
        "<!-- {TEMPLATE_MARKER}: complete every TODO with the people named here, then delete this line. -->"
    );
    let _ = writeln!(
        md,
        "# {}: {} ({})\n",
        p.name.value,
        which.title(),
        env.name.value
    );
    let _ = writeln!(md, "**Scenario.** {}\n", purpose(which));
    let mut objectives = Vec::new();
    if let Some(rto) = &p.rto {
        objectives.push(format!("service back within **{}** (RTO)", rto.value));
    }
    if let Some(rpo) = &p.rpo {
        objectives.push(format!("lose at most **{}** of data (RPO)", rpo.value));
    }
    if let Some(a) = &p.availability_target {
        objectives.push(format!("availability target **{}%**", a.value));
    }
    if !objectives.is_empty() {
        let _ = writeln!(md, "**Objectives.** {}.\n", objectives.join("; "));
    }

    who(&mut md, spec, env);
    where_it_runs(&mut md, env);
    match which {
        Runbook::Unavailability => unavailability(&mut md, env, paths),
        Runbook::Failure => failure(&mut md, env, paths),
        Runbook::BackupRestore => backup_restore(&mut md, spec, env),
        Runbook::HardwareSwap => hardware_swap(&mut md, env, paths),
        Runbook::DataCorruption => data_corruption(&mut md, env, paths),
        Runbook::AttackMitigation => attack_mitigation(&mut md, env, paths),
        Runbook::SecurityBreach => security_breach(&mut md, spec, env),
        Runbook::EmergencyMode => emergency_mode(&mut md, env),
    }
    let _ = writeln!(md, "## Afterwards\n");
    let _ = writeln!(
        md,
        "1. Record what happened, when, who decided what, and how long recovery took."
    );
    let _ = writeln!(
        md,
        "2. Hold a blameless review within TODO working days; turn what was learnt into changes to the system and to this runbook."
    );
    if let Some(a) = env.operations.as_ref().and_then(|o| o.agreement.as_ref()) {
        let _ = writeln!(
            md,
            "3. Check the reaction and recovery times against the support agreement ({}).",
            a.value
        );
    }
    md
}

fn purpose(which: Runbook) -> &'static str {
    match which {
        Runbook::Unavailability => "Users cannot reach the system, or it is too slow to use.",
        Runbook::Failure => {
            "The system answers, but fails or returns errors (a bad release, a broken dependency, exhausted resources)."
        }
        Runbook::BackupRestore => {
            "Data must be brought back from the backup (infrastructure failure, lost database)."
        }
        Runbook::HardwareSwap => {
            "A server or its disk, network or data centre is lost and must be replaced."
        }
        Runbook::DataCorruption => {
            "Data is wrong or damaged (a faulty migration, a bug, an operator error) and must be repaired without losing what is still good."
        }
        Runbook::AttackMitigation => {
            "The system is under attack: unauthorized access attempts, slowdowns caused on purpose, or malicious use."
        }
        Runbook::SecurityBreach => {
            "Someone gained access they should not have, or data may have left the system."
        }
        Runbook::EmergencyMode => {
            "Critical work must continue, and protected data stay protected, while the system is down or being restored."
        }
    }
}

pub(super) fn who(md: &mut String, spec: &Spec, env: &Environment) {
    let _ = writeln!(md, "## Who\n");
    // One line per person, with every part they play here.
    let mut people: Vec<(String, Vec<String>)> = Vec::new();
    let mut add =
        |c: &Contact, part: String| match people.iter_mut().find(|(id, _)| *id == c.id.value) {
            Some((_, parts)) => parts.push(part),
            None => people.push((c.id.value.clone(), vec![part])),
        };
    for c in spec.contacts.iter().filter(|c| c.on_call) {
        add(c, "responds first".to_owned());
    }
    for c in env
        .monitoring
        .iter()
        .flat_map(|m| &m.notify)
        .filter_map(|id| spec.contact(&id.value))
    {
        add(c, "notified by monitoring".to_owned());
    }
    if let Some(ops) = &env.operations {
        for (duty, owner) in [
            ("log monitoring", &ops.log_monitoring),
            ("backup monitoring", &ops.backup_monitoring),
            ("security updates", &ops.security_updates),
        ] {
            if let Some(c) = owner.as_ref().and_then(|o| spec.contact(&o.value)) {
                add(c, format!("owns {duty}"));
            }
        }
    }
    if !spec.contacts.iter().any(|c| c.on_call) {
        let _ = writeln!(
            md,
            "- TODO: who responds first (no contact is `on_call = true` in the spec)"
        );
    }
    for (id, parts) in people {
        if let Some(c) = spec.contact(&id) {
            let _ = writeln!(md, "- {}: {}", contact_line(c), parts.join(", "));
        }
    }
    let _ = writeln!(md, "\n**Escalation.**\n");
    let _ = writeln!(
        md,
        "1. The first responder acknowledges within TODO minutes and leads until handing over."
    );
    let _ = writeln!(
        md,
        "2. Not resolved within TODO minutes: the supporting party ({}) is called in.",
        spec.product.supporting_party.as_deref().unwrap_or("TODO")
    );
    let _ = writeln!(
        md,
        "3. Customer impact beyond TODO, data loss, or a restore decision: the business owner ({}) decides and communicates.\n",
        spec.product.owner.as_deref().unwrap_or("TODO")
    );
}

fn where_it_runs(md: &mut String, env: &Environment) {
    let _ = writeln!(md, "## Where it runs\n");
    if env.servers.is_empty() {
        let _ = writeln!(
            md,
            "TODO: the spec declares no servers for `{}`.\n",
            env.name.value
        );
    } else {
        let _ = writeln!(md, "| Server | Roles | Location | Host |");
        let _ = writeln!(md, "| --- | --- | --- | --- |");
        for s in &env.servers {
            let roles: Vec<&str> = s.roles.iter().map(|r| r.value.as_str()).collect();
            let host = s.host.as_ref().map_or("—", |h| h.raw());
            let _ = writeln!(
                md,
                "| {} | {} | {} | {host} |",
                s.name.value,
                roles.join(", "),
                s.location.value
            );
        }
        let _ = writeln!(md);
    }
    if let Some(c) = &env.cluster {
        let nodes: Vec<&str> = c.nodes.iter().map(|n| n.value.as_str()).collect();
        let tolerate = nodes.len().saturating_sub(1) / 2;
        let _ = writeln!(
            md,
            "Cluster nodes: {}; it keeps a quorum while at most {tolerate} of them {} down.\n",
            nodes.join(", "),
            if tolerate == 1 { "is" } else { "are" }
        );
    }
    if let Some(b) = &env.backup {
        let _ = writeln!(
            md,
            "Backups: every {} to **{}**{}{}.\n",
            b.interval.value,
            b.location.value,
            if b.is_encrypted() { ", encrypted" } else { "" },
            b.retention
                .as_ref()
                .map(|r| format!(", kept {}", r.value))
                .unwrap_or_default()
        );
    }
}

/// Checks that watch any of `what` (components, or servers in those roles);
/// every check when `what` is empty.
pub(super) fn checks_covering(env: &Environment, what: &[&str]) -> Vec<String> {
    let watches = |covers: &str| {
        what.contains(&covers)
            || env
                .server(covers)
                .is_some_and(|s| s.roles.iter().any(|r| what.contains(&r.value.as_str())))
    };
    env.monitoring
        .iter()
        .flat_map(|m| &m.checks)
        .filter(|c| {
            what.is_empty()
                || c.covers
                    .as_ref()
                    .is_some_and(|cv| watches(cv.value.as_str()))
        })
        .map(|c| format!("`{}` ({})", c.name.value, c.kind.value))
        .collect()
}

pub(super) fn link(paths: &[(Runbook, PathBuf)], which: Runbook) -> String {
    paths.iter().find(|(r, _)| *r == which).map_or_else(
        || which.title().to_lowercase(),
        |(_, p)| {
            format!(
                "the {} runbook at `{}`",
                which.title().to_lowercase(),
                p.display()
            )
        },
    )
}

pub(super) fn detect(md: &mut String, env: &Environment, covers: &[&str]) {
    let checks = checks_covering(env, covers);
    let _ = writeln!(md, "## Detect\n");
    if checks.is_empty() {
        let _ = writeln!(
            md,
            "- TODO: no monitoring check covers this; say how the team finds out."
        );
    } else {
        let _ = writeln!(md, "- Monitoring checks: {}.", checks.join(", "));
    }
    let _ = writeln!(md, "- Reports from users reach the team through: TODO.\n");
}

pub(super) fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v.dedup();
    v
}
