//! The backup system: present, elsewhere, encrypted, frequent enough, complete.

use stagegate_spec::{Backup, Date, Drill, Mode, Role};

use super::{fail, list, pass, skip};
use crate::context::Ctx;
use crate::rule::{Applies, Area, Outcome, Rule};

fn with_backup(cx: &Ctx<'_>, f: impl FnOnce(&Backup) -> Outcome) -> Outcome {
    match &cx.env.backup {
        Some(b) => f(b),
        None => skip("no backup is declared"),
    }
}

pub(super) const REQUIRED: Rule = Rule {
    id: "SG-BACKUP-REQUIRED",
    title: "A backup system exists",
    area: Area::Backup,
    applies: Applies::SOFT_PROD,
    condition: Some("in soft launch, when `product.retains_user_data` is true"),
    requirement: "a backup exists",
    guideline: &[
        "Backup (required)",
        "Backup (if user data should be retained for production launch)",
    ],
    rationale: "Without a backup, a failed disk, a bad migration or an attack loses user data for good.",
    remediation: "Declare `[environments.ENV.backup]` with a location away from the servers, an interval within the RPO, and encryption.",
    example: "[environments.production.backup]\nlocation = \"ams1\"\ninterval = \"1h\"\nencrypted = true\nretention = \"30d\"",
    live: false,
    check: |cx| {
        if cx.mode == Mode::SoftLaunch && !cx.spec.product.retains_user_data {
            return skip(
                "user data need not be retained for the production launch (`retains_user_data` is not true)",
            );
        }
        match &cx.env.backup {
            Some(b) => pass(
                format!(
                    "backed up every {} to {}",
                    b.interval.value, b.location.value
                ),
                b.span,
            ),
            None if cx.mode == Mode::SoftLaunch => fail(
                "no backup is declared, but user data must be retained for the production launch",
                cx.env.span,
            ),
            None => fail(
                "no backup is declared: production requires one",
                cx.env.span,
            ),
        }
    },
};

pub(super) const OFFSITE: Rule = Rule {
    id: "SG-BACKUP-OFFSITE",
    title: "Backups live in a different physical location",
    area: Area::Backup,
    applies: Applies::ANY,
    condition: Some("when a backup exists and servers are declared"),
    requirement: "backup location differs from every server location of the environment",
    guideline: &[
        "A dedicated solution or server located in a different physical location than the production environment for safety concerns.",
    ],
    rationale: "A fire, flood or provider outage that takes the servers must not take their backups with them.",
    remediation: "Store snapshots in a data centre where none of the environment's servers runs, and set `backup.location` to it.",
    example: "[environments.production.backup]\nlocation = \"ams1\"   # servers run in fra1",
    live: false,
    check: |cx| {
        with_backup(cx, |b| {
            let same: Vec<&str> = cx
                .env
                .servers
                .iter()
                .filter(|s| s.location.value == b.location.value)
                .map(|s| s.name.value.as_str())
                .collect();
            if same.is_empty() {
                let mut locations: Vec<&str> = cx
                    .env
                    .servers
                    .iter()
                    .map(|s| s.location.value.as_str())
                    .collect();
                locations.sort_unstable();
                locations.dedup();
                if locations.is_empty() {
                    // With no server to compare with, nothing shows the
                    // backup is elsewhere: not judged, rather than passed.
                    skip(
                        "no servers are declared, so there is no location to compare the backup's with",
                    )
                } else {
                    pass(
                        format!(
                            "backup location {} differs from every server location ({})",
                            b.location.value,
                            list(&locations)
                        ),
                        b.location.span,
                    )
                }
            } else {
                fail(
                    format!(
                        "backup location {} is also where {} run{}",
                        b.location.value,
                        list(&same),
                        if same.len() == 1 { "s" } else { "" }
                    ),
                    b.location.span,
                )
            }
        })
    },
};

pub(super) const ENCRYPTED: Rule = Rule {
    id: "SG-BACKUP-ENCRYPTED",
    title: "Backups are encrypted",
    area: Area::Backup,
    applies: Applies::SOFT_PROD,
    condition: Some("when a backup exists"),
    requirement: "`encrypted = true`",
    guideline: &[
        "Implement security measures like firewalls, VPNs for operations/business teams, site-to-site VPNs for backups and monitoring, and backup encryption.",
    ],
    rationale: "Backups hold all the data in one place, often at a third party; unencrypted, whoever reaches them reads everything.",
    remediation: "Encrypt snapshots at rest (restic and borg do by default) and set `encrypted = true`.",
    example: "[environments.production.backup]\nencrypted = true",
    live: false,
    check: |cx| {
        with_backup(cx, |b| match &b.encrypted {
            Some(e) if e.value => pass("backups are encrypted", e.span),
            Some(e) => fail("backups are not encrypted (`encrypted = false`)", e.span),
            None => fail(
                "backup encryption is not declared (`encrypted` is not set)",
                b.span,
            ),
        })
    },
};

pub(super) const RPO: Rule = Rule {
    id: "SG-BACKUP-RPO",
    title: "Backup interval is within the recovery point objective",
    area: Area::Backup,
    applies: Applies::SOFT_PROD,
    condition: Some("when a backup exists and `product.rpo` is set"),
    requirement: "`interval` <= `rpo` (message states the worst-case data-loss window)",
    guideline: &[
        "Note that backup systems do not provide 100% data coverage as backups are processed and transferred in intervals.",
    ],
    rationale: "Everything written since the last snapshot is lost when the servers are; the interval is the worst-case loss, and it must not exceed what the business agreed to tolerate.",
    remediation: "Back up at least as often as the RPO (or agree a longer RPO with the business owner).",
    example: "[product]\nrpo = \"1h\"\n\n[environments.production.backup]\ninterval = \"1h\"",
    live: false,
    check: |cx| {
        with_backup(cx, |b| {
            let Some(rpo) = &cx.spec.product.rpo else {
                return skip("`product.rpo` is not set");
            };
            let interval = &b.interval.value;
            if interval.get() <= rpo.value.get() {
                pass(
                    format!(
                        "interval {interval} is within rpo {}: at most {interval} of data can be lost",
                        rpo.value
                    ),
                    b.interval.span,
                )
            } else {
                fail(
                    format!(
                        "interval {interval} exceeds rpo {}: up to {interval} of data can be lost",
                        rpo.value
                    ),
                    b.interval.span,
                )
            }
        })
    },
};

pub(super) const COVERAGE: Rule = Rule {
    id: "SG-BACKUP-COVERAGE",
    title: "Every database server is backed up",
    area: Area::Backup,
    applies: Applies::ANY,
    condition: Some("when a backup exists"),
    requirement: "every server with role `database` is covered",
    guideline: &["It takes snapshots of system data for backup purposes."],
    rationale: "A backup that leaves out one database restores an inconsistent system.",
    remediation: "Add every database server to `backup.covers`, or remove `covers` to back up all of them.",
    example: "[environments.production.backup]\ncovers = [\"db-1\", \"db-2\"]",
    live: false,
    check: |cx| {
        with_backup(cx, |b| {
            let databases: Vec<&str> = cx
                .env
                .servers_with(Role::Database)
                .map(|s| s.name.value.as_str())
                .collect();
            let Some(covers) = &b.covers else {
                return if databases.is_empty() {
                    pass("no server has role database", b.span)
                } else {
                    pass(
                        format!(
                            "covers every database server by default ({})",
                            list(&databases)
                        ),
                        b.span,
                    )
                };
            };
            let missing: Vec<&str> = databases
                .iter()
                .copied()
                .filter(|d| !covers.value.iter().any(|c| c.value == *d))
                .collect();
            if missing.is_empty() {
                pass(
                    if databases.is_empty() {
                        "no server has role database".to_owned()
                    } else {
                        format!("covers every database server ({})", list(&databases))
                    },
                    covers.span,
                )
            } else {
                fail(
                    format!(
                        "database server{} {} {} not covered by the backup",
                        if missing.len() == 1 { "" } else { "s" },
                        list(&missing),
                        if missing.len() == 1 { "is" } else { "are" }
                    ),
                    covers.span,
                )
            }
        })
    },
};

/// Why a declared drill does not count now, if it does not.
pub(super) fn drill_problem(cx: &Ctx<'_>, drill: &Drill) -> Option<String> {
    let env = &cx.env.name.value;
    let Some(last) = cx.last_drill() else {
        return Some(format!(
            "it has never run: run `stagegate drill {env}` (at least every {})",
            drill.every.value
        ));
    };
    let when = Date::from_unix_secs(last.finished_at);
    if when > cx.as_of {
        // A back-dated report judges what was known then.
        return Some(format!(
            "the last recorded drill, on {when}, is after the as-of date {}",
            cx.as_of
        ));
    }
    if !last.ok {
        return Some(format!(
            "the last drill, on {when}, failed: {}",
            last.message
        ));
    }
    let age = cx.as_of.days_since(when);
    let every = i64::try_from(drill.every.value.whole_days()).unwrap_or(i64::MAX);
    if age > every {
        return Some(format!(
            "the last drill, on {when}, is {age} days old, longer ago than every {}",
            drill.every.value
        ));
    }
    if let Some(rto) = &cx.spec.product.rto
        && last.seconds > rto.value.get().as_secs_f64()
    {
        return Some(format!(
            "the last drill, on {when}, took {}, longer than the rto of {}",
            humanize(last.seconds),
            rto.value
        ));
    }
    None
}

/// "42s", "3m 20s", "2h 5m".
fn humanize(seconds: f64) -> String {
    let s = seconds.round().max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

pub(super) const DRILL: Rule = Rule {
    id: "SG-BACKUP-DRILL",
    title: "Restores are rehearsed and fast enough",
    area: Area::Backup,
    applies: Applies::PROD,
    condition: Some(
        "when a backup exists; required once a drill is declared, recommended until then",
    ),
    requirement: "a restore drill is declared (`[backup.drill]`), its last run succeeded within `every` and took no longer than `product.rto`",
    guideline: &[
        "Infrastructure failure (backup restore procedures, hardware swap procedures)",
        "Note that backup systems do not provide 100% data coverage as backups are processed and transferred in intervals.",
    ],
    rationale: "A backup nobody has restored is a hope, not a backup: restores fail on missing keys, wrong versions and forgotten steps, and take longer than anyone guessed. A drill finds that out on a quiet day.",
    remediation: "Declare `[environments.ENV.backup.drill]` with `every` (and a `command`, or a backup `source` for the built-in restic restore), then run `stagegate drill ENV` on that schedule (cron or CI).",
    example: "[environments.production.backup.drill]\nevery = \"90d\"\nverify = \"test -s \\\"$STAGEGATE_DRILL_DIR/srv/db/dump.sql\\\"\"",
    live: false,
    check: |cx| {
        with_backup(cx, |b| {
            let Some(drill) = &b.drill else {
                return Outcome::Recommend(
                    "no restore drill is declared: nobody has shown the backup can be restored within the rto".to_owned(),
                    Some(b.span),
                );
            };
            match drill_problem(cx, drill) {
                Some(p) => fail(format!("restore drill: {p}"), drill.span),
                None => {
                    let last = cx.last_drill();
                    let took = last.map(|l| humanize(l.seconds)).unwrap_or_default();
                    let when = last
                        .map(|l| Date::from_unix_secs(l.finished_at).to_string())
                        .unwrap_or_default();
                    pass(
                        format!("the last restore drill, on {when}, succeeded in {took}"),
                        drill.span,
                    )
                }
            }
        })
    },
};
