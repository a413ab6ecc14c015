//! The scenario sections of each runbook: what to do when the system is
//! unavailable, failing, needs a restore or a hardware swap, has corrupt
//! data, is attacked or breached — written from the spec's own servers,
//! checks, backup and contacts.

use stagegate_spec::{Environment, Framework, Role, Runbook, Spec};
use std::fmt::Write as _;
use std::path::PathBuf;

use super::{declares, dedup, detect, link};

pub(super) fn unavailability(md: &mut String, env: &Environment, paths: &[(Runbook, PathBuf)]) {
    detect(md, env, &["core"]);
    let _ = writeln!(md, "## Steps\n");
    let _ = writeln!(
        md,
        "1. Confirm from outside (another network, the monitoring dashboard) that users cannot reach the system."
    );
    let locations: Vec<&str> = env
        .servers
        .iter()
        .map(|s| s.location.value.as_str())
        .collect();
    let _ = writeln!(
        md,
        "2. Check the provider's status for the locations involved ({}); if a whole location is down, go to {}.",
        dedup(locations).join(", "),
        link(paths, Runbook::HardwareSwap)
    );
    let _ = writeln!(
        md,
        "3. Check DNS, certificates and the load balancer before the application: TODO commands."
    );
    if env.cluster.is_some() {
        let _ = writeln!(
            md,
            "4. If some cluster nodes still answer, take the failing ones out of the load balancer: TODO."
        );
    } else {
        let _ = writeln!(md, "4. Restart the application service: TODO command.");
    }
    let _ = writeln!(
        md,
        "5. Tell users what is happening (status page, TODO) within TODO minutes, and again when it is back."
    );
    let _ = writeln!(
        md,
        "6. Done when every check above is green again for TODO minutes.\n"
    );
}

pub(super) fn failure(md: &mut String, env: &Environment, paths: &[(Runbook, PathBuf)]) {
    detect(md, env, &["core", "database"]);
    let _ = writeln!(md, "## Steps\n");
    let _ = writeln!(
        md,
        "1. Did it start with a release? Roll back: TODO command."
    );
    match env.observability.as_ref().and_then(|o| o.logs.as_deref()) {
        Some(logs) => {
            let _ = writeln!(md, "2. Read the errors in the logs ({logs}): TODO query.");
        }
        None => {
            let _ = writeln!(md, "2. Read the application's error logs: TODO where.");
        }
    }
    let _ = writeln!(
        md,
        "3. Check the database and other dependencies (connections, disk, replication): TODO."
    );
    let _ = writeln!(
        md,
        "4. If data may have been written wrongly, stop writes and follow {}.",
        link(paths, Runbook::DataCorruption)
    );
    let _ = writeln!(
        md,
        "5. Done when the checks are green and the error rate is back to normal.\n"
    );
}

pub(super) fn backup_restore(md: &mut String, spec: &Spec, env: &Environment) {
    let Some(b) = &env.backup else {
        return;
    };
    let covered: Vec<&str> = match &b.covers {
        Some(c) => c.value.iter().map(|s| s.value.as_str()).collect(),
        None => env
            .servers_with(Role::Database)
            .map(|s| s.name.value.as_str())
            .collect(),
    };
    detect(md, env, &["backup"]);
    let _ = writeln!(md, "## Before restoring\n");
    let _ = writeln!(
        md,
        "- The business owner ({}) agrees to the restore: data written after the chosen snapshot is lost (up to {}).",
        spec.product.owner.as_deref().unwrap_or("TODO"),
        b.interval.value
    );
    let _ = writeln!(
        md,
        "- Servers whose data is in the backup: {}.",
        if covered.is_empty() {
            "TODO".to_owned()
        } else {
            covered.join(", ")
        }
    );
    let _ = writeln!(
        md,
        "- Restore into a new, empty target; never over the only remaining copy.\n"
    );
    let _ = writeln!(md, "## Steps\n");
    match &b.source {
        Some(src) => {
            let repo = src.repository.raw();
            let _ = writeln!(
                md,
                "1. Get the repository password into `{}`: TODO (where it is kept).",
                src.password_env.value
            );
            let _ = writeln!(
                md,
                "2. List snapshots and pick the newest one before the incident:\n\n   ```sh\n   RESTIC_PASSWORD=\"${}\" restic -r {repo} snapshots --latest 10\n   ```",
                src.password_env.value
            );
            let _ = writeln!(
                md,
                "3. Restore it:\n\n   ```sh\n   RESTIC_PASSWORD=\"${}\" restic -r {repo} restore SNAPSHOT_ID --target /restore\n   ```",
                src.password_env.value
            );
        }
        None => {
            let _ = writeln!(
                md,
                "1. Reach the backup at {}: TODO (credentials, tool).",
                b.location.value
            );
            let _ = writeln!(
                md,
                "2. Pick the newest snapshot before the incident: TODO command."
            );
            let _ = writeln!(md, "3. Restore it into the new target: TODO command.");
        }
    }
    let _ = writeln!(
        md,
        "4. Load it into the database and verify: row counts, newest record time, TODO checks."
    );
    let _ = writeln!(
        md,
        "5. Point the application at the restored data and watch the checks turn green."
    );
    if let Some(d) = &b.drill {
        let _ = writeln!(
            md,
            "\nThis procedure is rehearsed every {} with `stagegate drill {}`; the drill log beside the spec has the last timings.",
            d.every.value, env.name.value
        );
    } else {
        let _ = writeln!(
            md,
            "\nRehearse this: declare `[environments.{}.backup.drill]` and run `stagegate drill {}` on a schedule.",
            env.name.value, env.name.value
        );
    }
    let _ = writeln!(md);
}

pub(super) fn hardware_swap(md: &mut String, env: &Environment, paths: &[(Runbook, PathBuf)]) {
    detect(md, env, &[]);
    let _ = writeln!(md, "## Steps\n");
    let _ = writeln!(
        md,
        "1. Confirm the loss with the provider of the location (ticket, status page): TODO contacts."
    );
    let _ = writeln!(
        md,
        "2. Provision the replacement from the same configuration: TODO (infrastructure code, image)."
    );
    if env.servers_with(Role::Database).next().is_some() {
        let _ = writeln!(
            md,
            "3. A database server: bring its data back following {}.",
            link(paths, Runbook::BackupRestore)
        );
    } else {
        let _ = writeln!(md, "3. Restore any state the server held: TODO.");
    }
    let _ = writeln!(
        md,
        "4. Update DNS, load balancer and monitoring to the new server: TODO."
    );
    let _ = writeln!(
        md,
        "5. Done when the replacement passes every check and the old one is removed from all configuration.\n"
    );
}

pub(super) fn data_corruption(md: &mut String, env: &Environment, paths: &[(Runbook, PathBuf)]) {
    detect(md, env, &["database"]);
    let _ = writeln!(md, "## Steps\n");
    let _ = writeln!(
        md,
        "1. Stop the damage: pause the job or release that writes bad data, or switch to read-only: TODO."
    );
    let _ = writeln!(
        md,
        "2. Find when it started (deploy times, logs, first bad record) and which data is affected."
    );
    let _ = writeln!(
        md,
        "3. Restore a snapshot from before that time into a separate database, following {} (never over production).",
        link(paths, Runbook::BackupRestore)
    );
    let _ = writeln!(
        md,
        "4. Repair: copy the good records back, or replay the changes made since the snapshot: TODO scripts."
    );
    let _ = writeln!(
        md,
        "5. Tell the users whose data was affected, as the business owner decides.\n"
    );
}

pub(super) fn attack_mitigation(md: &mut String, env: &Environment, paths: &[(Runbook, PathBuf)]) {
    detect(md, env, &["core"]);
    let _ = writeln!(md, "## Steps\n");
    if let Some(sec) = &env.security {
        let ports: Vec<String> = sec
            .public_ports
            .iter()
            .map(|p| p.value.to_string())
            .collect();
        let _ = writeln!(
            md,
            "1. Only these ports should answer publicly: {}. Anything else open is closed in the firewall first.",
            if ports.is_empty() {
                "none declared (TODO)".to_owned()
            } else {
                ports.join(", ")
            }
        );
    } else {
        let _ = writeln!(
            md,
            "1. Close everything that need not answer publicly: TODO firewall."
        );
    }
    let _ = writeln!(
        md,
        "2. Identify the traffic: sources, endpoints, accounts. Block or rate-limit it: TODO (WAF, firewall, provider DDoS protection)."
    );
    let _ = writeln!(
        md,
        "3. Unauthorized access attempts: lock the targeted accounts, force credential resets, check for successful logins."
    );
    let _ = writeln!(
        md,
        "4. Keep the logs of the attack; do not delete anything an investigation may need."
    );
    let _ = writeln!(
        md,
        "5. Any sign that access succeeded or data left the system: follow {} now.\n",
        link(paths, Runbook::SecurityBreach)
    );
}

pub(super) fn security_breach(md: &mut String, spec: &Spec, env: &Environment) {
    detect(md, env, &[]);
    let _ = writeln!(md, "## Steps\n");
    let _ = writeln!(
        md,
        "1. Contain: revoke the access used (keys, tokens, accounts), isolate affected servers without wiping them."
    );
    let _ = writeln!(
        md,
        "2. Preserve evidence: snapshots of affected disks, logs, the timeline of what was seen when."
    );
    let classes: Vec<&str> = spec
        .product
        .data_classes
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    let _ = writeln!(
        md,
        "3. Assess what data was exposed; the product handles: {}.",
        if classes.is_empty() {
            "TODO".to_owned()
        } else {
            classes.join(", ")
        }
    );
    let _ = writeln!(
        md,
        "4. Notify, within the deadlines below, through the people named in Who."
    );
    let _ = writeln!(
        md,
        "5. Eradicate and recover: close the hole, rotate every secret, restore from a known-good state.\n"
    );
    let _ = writeln!(md, "## Notification deadlines\n");
    let mut any = false;
    if declares(spec, Framework::Gdpr) {
        any = true;
        let _ = writeln!(
            md,
            "- **GDPR Art. 33:** notify the supervisory authority within 72 hours of becoming aware of a personal data breach (TODO: which authority, how). **Art. 34:** tell the data subjects without undue delay when the risk to them is high."
        );
    }
    if declares(spec, Framework::Hipaa) {
        any = true;
        let _ = writeln!(
            md,
            "- **HIPAA 164.404:** notify affected individuals without unreasonable delay and no later than 60 calendar days after discovery; **164.408:** the HHS Secretary (within 60 days when 500 or more are affected); **164.406:** prominent media when more than 500 residents of a state are affected."
        );
    }
    if declares(spec, Framework::PciDss) {
        any = true;
        let _ = writeln!(
            md,
            "- **PCI DSS 12.10.1:** activate the incident response plan and notify the acquirer and the payment brands as their rules require (TODO: contacts)."
        );
    }
    if declares(spec, Framework::Ccpa) {
        any = true;
        let _ = writeln!(
            md,
            "- **California (Civ. Code 1798.82):** notify affected California residents in the most expedient time possible and without unreasonable delay."
        );
    }
    if !any {
        let _ = writeln!(
            md,
            "- TODO: the legal and contractual notification duties that apply (the spec declares no framework)."
        );
    }
    let _ = writeln!(md);
}

pub(super) fn emergency_mode(md: &mut String, env: &Environment) {
    let _ = writeln!(md, "## What keeps working\n");
    let _ = writeln!(
        md,
        "- TODO: which critical work continues without the system, and how (offline copies, paper procedures)."
    );
    let _ = writeln!(md, "\n## Protecting data meanwhile\n");
    let _ = writeln!(
        md,
        "- Only the people named in Who access production while emergency mode lasts; every access is recorded."
    );
    let _ = writeln!(
        md,
        "- Protected data is not copied to personal devices or chat."
    );
    let _ = writeln!(md, "\n## Ending emergency mode\n");
    let _ = writeln!(
        md,
        "- When `{}` is back and verified, reconcile what was done offline, then announce the end.\n",
        env.name.value
    );
}
