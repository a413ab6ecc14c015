//! `check --live`: plan the probes, run them with a progress bar, and hand
//! the observations to the live rules.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stagegate_probe::{Context, PlanOptions, RunOptions};
use stagegate_rules::LiveEvidence;
use stagegate_spec::process_env;

use crate::cli::LiveArgs;
use crate::load::Loaded;
use crate::{Failure, diagnostics};

pub fn gather(loaded: &Loaded, envs: &[&str], args: &LiveArgs) -> Result<LiveEvidence, Failure> {
    // Whatever a probe says may quote a secret it was given: shown, it
    // reads `${NAME}` again.
    let recorder = stagegate_spec::Recorder::new(&process_env);
    let lookup = |name: &str| recorder.lookup(name);
    let opts = PlanOptions {
        env: &lookup,
        base_dir: &loaded.dir,
        default_timeout: args.live_timeout.get(),
        restic: "restic",
    };
    let jobs = match stagegate_probe::plan(&loaded.spec, envs, opts) {
        Ok(jobs) => jobs,
        Err(diags) => {
            diagnostics::emit(&loaded.source, &diags, &mut anstream::stderr())?;
            return Err(Failure::Reported);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Message(format!("cannot start the probe runtime: {e}")))?;
    let results = runtime.block_on(async {
        let cx = Context::system()
            .map_err(|e| Failure::Message(format!("cannot set up probes: {e}")))?;
        let bar =
            ProgressBar::with_draw_target(Some(jobs.len() as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} probing {pos}/{len} {wide_msg}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        let run_opts = RunOptions {
            concurrency: usize::from(args.concurrency),
            ..RunOptions::default()
        };
        let results = stagegate_probe::run(&jobs, &cx, run_opts, |job, _| {
            bar.set_message(format!("{} · {}", job.environment, job.subject.describe()));
            bar.inc(1);
        })
        .await;
        bar.finish_and_clear();
        Ok::<_, Failure>(results)
    })?;
    let redactor = recorder.redactor();
    let results: Vec<_> = results
        .into_iter()
        .map(|mut r| {
            let shown = |text: &str| redactor.show(text).into_owned();
            r.summary = shown(&r.summary);
            r.errors = r.errors.iter().map(|e| shown(e)).collect();
            r.facts = r.facts.iter().map(|(k, v)| (k.clone(), shown(v))).collect();
            r
        })
        .collect();
    Ok(stagegate_probe::evidence(
        &jobs,
        &results,
        stagegate_spec::now_unix(),
    ))
}
