//! `drill`: run an environment's restore drill and keep the result as
//! evidence for SG-BACKUP-DRILL, in the drill log beside the spec.

use std::io::Write;

use stagegate_server::drill::{self, DrillError};
use stagegate_spec::process_env;

use crate::cli::DrillArgs;
use crate::drill_log::{self, Entry};
use crate::load::Loaded;
use crate::{Failure, Outcome, diagnostics};

pub fn run(args: &DrillArgs) -> Result<Outcome, Failure> {
    let loaded = Loaded::read(&args.spec)?;
    loaded.check_env_names(std::slice::from_ref(&args.env))?;
    let spec = &loaded.spec;
    let env = spec
        .environment(&args.env)
        .ok_or_else(|| Failure::Message(format!("no environment `{}`", args.env)))?;
    let run =
        drill::run(spec, env, &loaded.dir, &args.restic, &process_env).map_err(|e| match e {
            DrillError::Unresolved(diag) => {
                let _ = diagnostics::emit(&loaded.source, &[diag], &mut anstream::stderr());
                Failure::Reported
            }
            DrillError::NotDeclared(_) => {
                Failure::Message(format!("{}: {e}", loaded.source.name()))
            }
            DrillError::Setup(m) => Failure::Message(m),
        })?;

    let mut out = anstream::stdout().lock();
    let verdict = if run.ok { "passed" } else { "FAILED" };
    let against = spec
        .product
        .rto
        .as_ref()
        .map(|r| format!(" (rto {})", r.value))
        .unwrap_or_default();
    writeln!(
        out,
        "drill {}: {verdict} in {}{against}",
        args.env,
        drill::human(run.seconds)
    )?;
    writeln!(out, "  {}", run.message)?;
    if !run.ok && !run.tail.is_empty() {
        writeln!(out, "  last output:")?;
        for line in &run.tail {
            writeln!(out, "    {line}")?;
        }
    }
    if !args.no_record {
        let log = drill_log::path_for(&loaded.path);
        drill_log::append(
            &log,
            &Entry {
                environment: args.env.clone(),
                record: stagegate_rules::DrillRecord {
                    finished_at: run.finished_at,
                    seconds: run.seconds,
                    ok: run.ok,
                    message: run.message.clone(),
                },
                method: run.method.to_owned(),
            },
        )
        .map_err(|e| {
            Failure::Message(format!("cannot record the drill in {}: {e}", log.display()))
        })?;
        writeln!(out, "  recorded in {}", log.display())?;
    }
    Ok(if run.ok {
        Outcome::Ready
    } else {
        Outcome::Blocked
    })
}
