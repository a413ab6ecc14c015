//! `drill`: run an environment's restore drill and keep the result as
//! evidence for SG-BACKUP-DRILL, in the drill log beside the spec.

use std::io::Write;

use stagegate_probe::drill::{self, DrillError};
use stagegate_spec::process_env;

use crate::cli::DrillArgs;
use crate::drill_log::{self, Entry};
use crate::load::Loaded;
use crate::{Failure, Outcome, diagnostics};

pub fn run(args: &DrillArgs) -> Result<Outcome, Failure> {
    if let (Some(server), Some(token)) = (&args.server, &args.token) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Failure::Message(format!("cannot start the runtime: {e}")))?;
        return rt.block_on(remote(args, server, token));
    }
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
            &Entry::new(
                args.env.clone(),
                stagegate_rules::DrillRecord {
                    finished_at: run.finished_at,
                    seconds: run.seconds,
                    ok: run.ok,
                    message: run.message.clone(),
                },
                run.method.to_owned(),
            ),
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

/// Asks a running server to run the drill, then waits for its record.
async fn remote(args: &DrillArgs, server: &str, token: &str) -> Result<Outcome, Failure> {
    use std::time::{Duration, Instant};

    let remote = crate::remote::Remote::new(server, token)?;
    let path = format!("/api/v1/environments/{}/drills", args.env);
    let url = format!("{}{path}", remote.server());
    let call = |method: http::Method| remote.call(method, &path, None);
    let (_, before) = call(http::Method::GET).await?;
    let last_id = before["drills"][0]["id"].as_i64().unwrap_or(0);
    let (status, reply) = call(http::Method::POST).await?;
    if status != 202 {
        let why = reply["error"].as_str().unwrap_or("unexpected reply");
        return Err(Failure::Message(format!(
            "{server} did not start the drill ({status}): {why}"
        )));
    }
    writeln!(
        anstream::stderr(),
        "drill {}: started on {server}, waiting for it to finish",
        args.env
    )?;
    let deadline = Instant::now() + args.wait.get();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, now) = call(http::Method::GET).await?;
        let newest = &now["drills"][0];
        if newest["id"].as_i64().unwrap_or(0) > last_id {
            let ok = newest["ok"].as_bool().unwrap_or(false);
            let seconds = newest["seconds"].as_f64().unwrap_or(0.0);
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "drill {}: {} in {} (on {})",
                args.env,
                if ok { "passed" } else { "FAILED" },
                drill::human(seconds),
                newest["node"].as_str().unwrap_or("the server")
            )?;
            writeln!(out, "  {}", newest["message"].as_str().unwrap_or_default())?;
            writeln!(out, "  recorded in the server's store")?;
            return Ok(if ok { Outcome::Ready } else { Outcome::Blocked });
        }
        if Instant::now() >= deadline {
            return Err(Failure::Message(format!(
                "the drill did not finish within --wait {}; its result will appear at {url}",
                args.wait
            )));
        }
    }
}
