//! `check` and `plan`: evaluate, render, and turn the verdicts into an exit code.

use std::io::{BufWriter, Write};

use stagegate_report::{Format, Kind, Options, Report};
use stagegate_rules::{EnvironmentResult, Verdict};
use stagegate_spec::Date;

use crate::cli::{CheckArgs, PlanArgs, ReportArgs};
use crate::load::Loaded;
use crate::{Failure, Outcome};

pub fn check(args: &CheckArgs) -> Result<Outcome, Failure> {
    let loaded = Loaded::read(&args.spec)?;
    loaded.check_env_names(&args.envs)?;
    let envs: Vec<&str> = args.envs.iter().map(String::as_str).collect();
    let as_of = args.report.as_of.unwrap_or_else(Date::today_utc);
    if args.live.live && args.server.server.is_some() {
        return Err(Failure::Message(
            "--live probes from here and --server takes the server's observations: choose one"
                .to_owned(),
        ));
    }
    let mut files = loaded.file_facts()?;
    let live = if args.live.live {
        Some(crate::live::gather(&loaded, &envs, &args.live)?)
    } else if let Some(server) = &args.server.server {
        let observations = observed(&loaded, server, args.server.token.as_deref())?;
        observations.add_drills(&mut files);
        Some(observations.live_evidence(&loaded.spec))
    } else {
        None
    };
    let evaluation = loaded
        .evaluator(as_of, &files)
        .live(live.as_ref())
        .all(&envs);
    emit(
        &loaded,
        Kind::Check,
        as_of,
        &evaluation.environments,
        &args.report,
    )
}

/// What `server`'s monitors observed, read with a viewer `token`. A server
/// that cannot be reached, or refuses the token, is a failure (exit 2):
/// never a pass on nothing.
fn observed(
    loaded: &Loaded,
    server: &str,
    token: Option<&str>,
) -> Result<stagegate_server::Observations, Failure> {
    let token = token.ok_or_else(|| {
        Failure::Message(
            "--server needs --token (or STAGEGATE_TOKEN): a viewer token of that server".to_owned(),
        )
    })?;
    let reply = fetch(server, token, "/api/v1/observations")?;
    let observations: stagegate_server::Observations =
        serde_json::from_value(reply).map_err(|e| {
            Failure::Message(format!(
                "{server} answered /api/v1/observations with something this stagegate cannot read: {e}"
            ))
        })?;
    let local = stagegate_spec::sha256_hex(loaded.source.text().as_bytes());
    if observations.spec_sha256 != local {
        let _ = writeln!(
            anstream::stderr(),
            "warning: {server} runs a different spec (sha256 {}) than {} (sha256 {}); its observations are judged against the local spec",
            short(&observations.spec_sha256),
            loaded.source.name(),
            short(&local)
        );
    }
    Ok(observations)
}

/// What `server` knows about promoting `env` to `to`: the facts the
/// promotion gates judge.
fn promotion_facts(
    server: &str,
    token: Option<&str>,
    env: &str,
    to: stagegate_spec::Mode,
) -> Result<stagegate_rules::PromotionFacts, Failure> {
    let token = token.unwrap_or_default();
    let reply = fetch(
        server,
        token,
        &format!("/api/v1/environments/{env}/promotion?to={}", to.as_str()),
    )?;
    serde_json::from_value(reply).map_err(|e| {
        Failure::Message(format!(
            "{server} answered with promotion facts this stagegate cannot read: {e}"
        ))
    })
}

/// GET `path` from `server`, on a runtime of its own.
fn fetch(server: &str, token: &str, path: &str) -> Result<serde_json::Value, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Message(format!("cannot start the client runtime: {e}")))?;
    runtime.block_on(async { crate::remote::Remote::new(server, token)?.get(path).await })
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

pub fn plan(args: &PlanArgs) -> Result<Outcome, Failure> {
    let loaded = Loaded::read(&args.spec)?;
    loaded.check_env_names(std::slice::from_ref(&args.env))?;
    let env = loaded
        .spec
        .environment(&args.env)
        .ok_or_else(|| Failure::Message(format!("no environment `{}`", args.env)))?;
    let from = env.mode.value;
    let to = match args.to {
        Some(to) => to,
        None => from.next().ok_or_else(|| {
            Failure::Message(format!(
                "environment `{}` is already in production; pass `--to MODE` to evaluate it in another mode",
                args.env
            ))
        })?,
    };
    let as_of = args.report.as_of.unwrap_or_else(Date::today_utc);
    let mut files = loaded.file_facts()?;
    let (live, promotion) = match &args.server.server {
        Some(server) => {
            let token = args.server.token.as_deref();
            let observations = observed(&loaded, server, token)?;
            observations.add_drills(&mut files);
            let facts = promotion_facts(server, token, &args.env, to)?;
            (Some(observations.live_evidence(&loaded.spec)), Some(facts))
        }
        None => (None, None),
    };
    let result = loaded
        .evaluator(as_of, &files)
        .live(live.as_ref())
        .promotion(promotion.as_ref())
        .environment(env, to);
    emit(
        &loaded,
        Kind::Plan { from },
        as_of,
        std::slice::from_ref(&result),
        &args.report,
    )
}

fn emit(
    loaded: &Loaded,
    kind: Kind,
    as_of: Date,
    environments: &[EnvironmentResult<'_>],
    args: &ReportArgs,
) -> Result<Outcome, Failure> {
    let provenance = loaded.provenance();
    let report = Report {
        kind,
        product: &loaded.spec.product.name.value,
        as_of,
        source: &loaded.source,
        environments,
        provenance: &provenance,
    };
    let format = Format::from(args.format);
    let opts = Options {
        styled: true,
        verbose: args.verbose,
    };
    // Reports can be large (one finding per rule and environment), so they
    // are buffered; text is styled only for a terminal without NO_COLOR.
    let stdout = std::io::stdout();
    let opts = Options {
        styled: anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never,
        ..opts
    };
    let mut out = BufWriter::new(stdout.lock());
    report.render(format, opts, &mut out)?;
    out.flush()?;
    Ok(
        if environments.iter().any(|e| e.verdict() == Verdict::Blocked) {
            Outcome::Blocked
        } else {
            Outcome::Ready
        },
    )
}
