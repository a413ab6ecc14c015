//! `serve` and `token`: the long-running server and its API tokens.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use stagegate_server::{Loader, ServerOptions, Snapshot};
use stagegate_spec::process_env;

use super::telemetry::{self, TraceOptions};
use crate::cli::{ApproveArgs, PromoteArgs, RoleArg, ServeArgs, StoreArgs, TokenCommand};
use crate::load::Loaded;
use crate::{Failure, Outcome, diagnostics};

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Message(format!("cannot start the runtime: {e}")))
}

fn store_url(args: &StoreArgs) -> Result<String, Failure> {
    if let Some(url) = &args.db {
        return Ok(url.clone());
    }
    std::fs::create_dir_all(&args.data_dir).map_err(|e| {
        Failure::Message(format!(
            "cannot create the data directory {}: {e}",
            args.data_dir.display()
        ))
    })?;
    Ok(format!(
        "sqlite://{}",
        args.data_dir.join("stagegate.db").display()
    ))
}

/// Who acts from this command line, for the audit log: `cli:` and the
/// login name of the account that runs it.
pub(super) fn cli_identity() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("cli:{user}")
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut chain = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    chain.join(": ")
}

pub(super) async fn open_store(
    args: &StoreArgs,
) -> Result<Arc<dyn stagegate_store::Store>, Failure> {
    let url = store_url(args)?;
    let store = stagegate_store::open(&url)
        .await
        .map_err(|e| Failure::Message(chain(&e)))?;
    Ok(Arc::from(store))
}

/// Opens the store for a server, waiting while it is merely busy or not up
/// yet (nodes of a cluster starting together, PostgreSQL restarting): a
/// server that exits then would leave its location unwatched. Gives up at
/// once on what waiting cannot fix, and when told to stop.
async fn open_store_patiently(
    args: &StoreArgs,
) -> Result<Arc<dyn stagegate_store::Store>, Failure> {
    let url = store_url(args)?;
    let mut wait = std::time::Duration::from_millis(500);
    // One listener for the whole wait, opening included: a signal that
    // arrives while no one listens would be swallowed.
    let stop = terminated();
    tokio::pin!(stop);
    let stopped = |e: &stagegate_store::StoreError| {
        Failure::Message(format!("stopped while waiting for the store: {}", chain(e)))
    };
    loop {
        let opened = tokio::select! {
            opened = stagegate_store::open(&url) => opened,
            _ = &mut stop => {
                return Err(Failure::Message("stopped while waiting for the store".to_owned()));
            }
        };
        match opened {
            Ok(store) => return Ok(Arc::from(store)),
            Err(e) if e.is_transient() => {
                tracing::warn!(
                    error = %chain(&e),
                    retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "the store is not ready; trying again"
                );
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = &mut stop => return Err(stopped(&e)),
                }
                wait = (wait * 2).min(std::time::Duration::from_secs(30));
            }
            Err(e) => return Err(Failure::Message(chain(&e))),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn terminated() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Loads the spec and resolves what the server needs; problems come back
/// rendered, as a reload logs them.
fn snapshot(path: &Path) -> Result<Snapshot, (Option<Failure>, String)> {
    let loaded = Loaded::read_quiet(path).map_err(|(f, text)| (Some(f), text))?;
    let files = loaded.file_facts().map_err(|f| {
        let text = match &f {
            Failure::Message(m) => m.clone(),
            _ => String::new(),
        };
        (Some(f), text)
    })?;
    let identity = loaded.provenance().spec;
    let Loaded {
        spec,
        source,
        dir,
        custom,
        ..
    } = loaded;
    Snapshot::build(spec, source.clone(), &dir, &process_env, files)
        .map(|s| s.with_custom(custom).with_identity(identity))
        .map_err(|diags| {
            let mut buf = Vec::new();
            let _ = diagnostics::emit(&source, &diags, &mut buf);
            (None, String::from_utf8_lossy(&buf).into_owned())
        })
}

pub fn serve(args: &ServeArgs) -> Result<Outcome, Failure> {
    let rt = runtime()?;
    let traces = TraceOptions {
        #[cfg(feature = "otlp")]
        otlp_endpoint: args.otlp_endpoint.clone(),
        #[cfg(feature = "otlp")]
        node: args.node.clone().unwrap_or_else(|| "local".to_owned()),
        #[cfg(feature = "otlp")]
        location: args.location.clone(),
    };
    let telemetry =
        telemetry::init(args.log_format, traces, rt.handle()).map_err(Failure::Message)?;
    let outcome = serve_on(&rt, args);
    telemetry.shutdown();
    outcome
}

fn serve_on(rt: &tokio::runtime::Runtime, args: &ServeArgs) -> Result<Outcome, Failure> {
    let first = match snapshot(&args.spec) {
        Ok(s) => s,
        Err((failure, rendered)) => {
            let _ = anstream::stderr().write_all(rendered.as_bytes());
            return Err(failure.unwrap_or(Failure::Reported));
        }
    };
    let spec_path = args.spec.clone();
    let loader: Loader =
        Arc::new(move || snapshot(&spec_path).map_err(|(_, text)| diagnostics::for_log(&text)));
    rt.block_on(async {
        let store = open_store_patiently(&args.store).await?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| Failure::Message(format!("cannot listen on {}: {e}", args.listen)))?;
        let addr = listener.local_addr()?;
        tracing::info!(
            store = store.backend(),
            checks = first.jobs.len(),
            heartbeats = first.heartbeats.len(),
            "stagegate serve listening on http://{addr}"
        );
        let cluster = args.node.is_some() && store.backend() == "postgres";
        if args.node.is_some() && !cluster {
            tracing::warn!("--node has no effect on a SQLite store: cluster mode needs PostgreSQL");
        }
        let opts = ServerOptions {
            node: args.node.clone().unwrap_or_else(|| "local".to_owned()),
            location: args.location.clone(),
            tick: args.tick.get(),
            retention: args.retention.get(),
            keep_pings: args.keep_pings,
            remind_every: (!args.remind_every.is_zero()).then_some(args.remind_every),
            run_drills: args.run_drills,
            cluster,
            references: args.reference.clone(),
            min_locations: args.min_locations,
            watch: Some(args.spec.clone()),
            clock: Arc::new(stagegate_server::SystemClock),
            limits: stagegate_server::Limits {
                header_timeout: args.header_timeout.get(),
                body_timeout: args.body_timeout.get(),
                max_connections: args.max_connections as usize,
                per_client: args.max_connections_per_client as usize,
                shutdown_timeout: args.shutdown_timeout,
            },
        };
        let shutdown = async {
            terminated().await;
            tracing::info!("shutting down: finishing requests in flight");
        };
        stagegate_server::serve(listener, store, first, loader, opts, shutdown).await?;
        tracing::info!("stopped");
        Ok(Outcome::Ready)
    })
}

pub fn token(command: &TokenCommand) -> Result<Outcome, Failure> {
    let rt = runtime()?;
    rt.block_on(async {
        match command {
            TokenCommand::Create {
                role,
                name,
                expires,
                store,
            } => {
                if *role == RoleArg::Agent && name == "api" {
                    return Err(Failure::Message(
                        "an agent token is bound to one server: name it with --name, as the spec's `[[environments.ENV.servers]] name` does".to_owned(),
                    ));
                }
                let store = open_store(store).await?;
                let expires_at = expires.as_ref().map(|d| {
                    stagegate_store::now_ms()
                        .saturating_add(i64::try_from(d.get().as_millis()).unwrap_or(i64::MAX))
                });
                let issued = stagegate_server::create_token(
                    store.as_ref(),
                    (*role).into(),
                    name,
                    expires_at,
                    &cli_identity(),
                )
                .await
                .map_err(|e| Failure::Message(format!("cannot store the token: {e}")))?;
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", issued.token)?;
                let until = expires_at.map_or_else(
                    || "does not expire".to_owned(),
                    |at| format!("valid until {}", stagegate_probe::rfc3339(at / 1000)),
                );
                let _ = writeln!(
                    anstream::stderr(),
                    "created {} token `{name}` ({}, {until}); it is shown only this once",
                    stagegate_store::Role::from(*role),
                    issued.prefix
                );
                if *role == RoleArg::Agent {
                    let _ = writeln!(
                        anstream::stderr(),
                        "it sends reports for the server `{name}` only; the server refuses reports for any other, and for a server its spec does not declare"
                    );
                }
                Ok(Outcome::Ready)
            }
            TokenCommand::List { store } => {
                let store = open_store(store).await?;
                let tokens = store
                    .tokens()
                    .await
                    .map_err(|e| Failure::Message(format!("cannot read the tokens: {e}")))?;
                let now = stagegate_store::now_ms();
                let when = |at: Option<i64>| {
                    at.map_or_else(|| "-".to_owned(), |ms| stagegate_probe::rfc3339(ms / 1000))
                };
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "{:<12} {:<20} {:<9} {:<21} {:<21} {:<21} STATE",
                    "PREFIX", "NAME", "ROLE", "CREATED", "LAST USED", "EXPIRES"
                )?;
                for t in &tokens {
                    let state = if t.revoked_at.is_some() {
                        format!("revoked {}", when(t.revoked_at))
                    } else if !t.is_valid(now) {
                        "expired".to_owned()
                    } else {
                        "active".to_owned()
                    };
                    writeln!(
                        out,
                        "{:<12} {:<20} {:<9} {:<21} {:<21} {:<21} {state}",
                        t.prefix,
                        t.name,
                        t.role.as_str(),
                        when(Some(t.created_at)),
                        when(t.last_used_at),
                        when(t.expires_at),
                    )?;
                }
                Ok(Outcome::Ready)
            }
            TokenCommand::Revoke { prefix, store } => {
                let store = open_store(store).await?;
                let revoked = store
                    .revoke_token(prefix, stagegate_store::now_ms())
                    .await
                    .map_err(|e| Failure::Message(format!("cannot revoke the token: {e}")))?;
                if !revoked {
                    let known = store.token(prefix).await.ok().flatten();
                    return Err(Failure::Message(match known {
                        Some(_) => format!("token {prefix} was revoked already"),
                        None => format!(
                            "no token with prefix `{prefix}`: `stagegate token list` shows them"
                        ),
                    }));
                }
                stagegate_server::audit_record(
                    store.as_ref(),
                    stagegate_store::now_ms(),
                    &cli_identity(),
                    "token.revoke",
                    prefix,
                    serde_json::json!({}),
                )
                .await;
                let _ = writeln!(
                    anstream::stderr(),
                    "revoked {prefix}; its dashboard sessions have ended"
                );
                Ok(Outcome::Ready)
            }
        }
    })
}

/// `promote`: locally against a store, or through a server's API.
pub fn promote(args: &PromoteArgs) -> Result<Outcome, Failure> {
    let rt = runtime()?;
    if let (Some(server), Some(token)) = (&args.server, &args.token) {
        return rt.block_on(promote_remote(args, server, token));
    }
    let snapshot = snapshot(&args.spec).map_err(|(failure, rendered)| {
        let _ = anstream::stderr().write_all(rendered.as_bytes());
        failure.unwrap_or(Failure::Reported)
    })?;
    let by = args
        .by
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    rt.block_on(async {
        let store = open_store(&args.store).await?;
        let now = stagegate_server::Now::of(
            store.as_ref(),
            Arc::new(snapshot),
            stagegate_spec::now_unix(),
            None,
        )
        .await;
        match stagegate_server::promote(store.as_ref(), &now, &args.env, args.to, &by, "cli").await
        {
            Ok((record, _)) => {
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "promoted {} from {} to {} (record {}, by {by}, report sha256 {})",
                    record.environment, record.from_mode, record.to_mode, record.id, record.digest
                )?;
                writeln!(
                    out,
                    "set `mode = \"{}\"` for environment {} in the spec",
                    record.to_mode, record.environment
                )?;
                Ok(Outcome::Ready)
            }
            Err(stagegate_server::Refused::UnknownEnvironment(e)) => {
                Err(Failure::Message(format!("no environment `{e}`")))
            }
            Err(stagegate_server::Refused::Blocked { to, failing }) => {
                let mut err = anstream::stderr();
                let _ = writeln!(
                    err,
                    "refused: {} cannot be promoted to {to}; these must change first:",
                    args.env
                );
                for f in failing {
                    let _ = writeln!(err, "  {}: {} ({})", f.rule, f.message, f.basis.as_str());
                }
                let _ = writeln!(
                    err,
                    "`stagegate plan {} --to {to}` shows the whole plan",
                    args.env
                );
                Ok(Outcome::Blocked)
            }
            Err(stagegate_server::Refused::Store(e)) => Err(Failure::Message(format!(
                "cannot record the promotion: {e}"
            ))),
        }
    })
}

async fn promote_remote(args: &PromoteArgs, server: &str, token: &str) -> Result<Outcome, Failure> {
    let (status, reply) = crate::remote::Remote::new(server, token)?
        .call(
            http::Method::POST,
            &format!("/api/v1/environments/{}/promotions", args.env),
            Some(serde_json::json!({ "to": args.to.as_str() })),
        )
        .await?;
    match status {
        201 => {
            let p = &reply["promotion"];
            writeln!(
                std::io::stdout(),
                "promoted {} from {} to {} (record {}, by {})",
                p["environment"].as_str().unwrap_or_default(),
                p["from_mode"].as_str().unwrap_or_default(),
                p["to_mode"].as_str().unwrap_or_default(),
                p["id"],
                p["promoted_by"].as_str().unwrap_or_default()
            )?;
            Ok(Outcome::Ready)
        }
        409 => {
            let mut err = anstream::stderr();
            let _ = writeln!(
                err,
                "refused: {}",
                reply["error"].as_str().unwrap_or("the plan is blocked")
            );
            for f in reply["failing"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    err,
                    "  {}: {} ({})",
                    f["rule"].as_str().unwrap_or_default(),
                    f["message"].as_str().unwrap_or_default(),
                    f["basis"].as_str().unwrap_or_default()
                );
            }
            Ok(Outcome::Blocked)
        }
        other => Err(Failure::Message(format!(
            "{server} answered {other}: {}",
            reply["error"].as_str().unwrap_or("no explanation")
        ))),
    }
}

/// `approve`: records an approval on a running server (as the token's
/// name), or in a local store (as `cli:$USER`).
pub fn approve(args: &ApproveArgs) -> Result<Outcome, Failure> {
    let rt = runtime()?;
    if let Some(server) = &args.server {
        let token = args.token.as_deref().ok_or_else(|| {
            Failure::Message(
                "--server needs --token (or STAGEGATE_TOKEN): an approver token".into(),
            )
        })?;
        return rt.block_on(async {
            let (status, reply) = crate::remote::Remote::new(server, token)?
                .call(
                    http::Method::POST,
                    &format!("/api/v1/environments/{}/approvals", args.env),
                    Some(serde_json::json!({ "to": args.to.as_str() })),
                )
                .await?;
            if status != 201 {
                return Err(Failure::Message(format!(
                    "{server} answered {status}: {}",
                    reply["error"].as_str().unwrap_or("unexpected reply")
                )));
            }
            approved(&reply)
        });
    }
    let loaded = crate::load::Loaded::read(&args.spec)?;
    loaded.check_env_names(std::slice::from_ref(&args.env))?;
    let valid_for = loaded
        .spec
        .policy
        .promotion
        .clone()
        .unwrap_or_default()
        .approval_valid_for;
    rt.block_on(async {
        let store = open_store(&args.store).await?;
        let now = stagegate_store::now_ms();
        let who = cli_identity();
        let record = store
            .record_approval(
                &stagegate_store::NewApproval {
                    environment: args.env.clone(),
                    to_mode: args.to.as_str().to_owned(),
                    approved_by: who.clone(),
                    expires_at: now.saturating_add(
                        i64::try_from(valid_for.get().as_millis()).unwrap_or(i64::MAX),
                    ),
                    spec_sha256: stagegate_spec::sha256_hex(loaded.source.text().as_bytes()),
                },
                now,
            )
            .await
            .map_err(|e| Failure::Message(format!("cannot record the approval: {e}")))?;
        stagegate_server::audit_record(
            store.as_ref(),
            now,
            &who,
            "approval",
            &args.env,
            serde_json::json!({ "id": record.id, "to": record.to_mode, "spec_sha256": record.spec_sha256 }),
        )
        .await;
        approved(&serde_json::to_value(&record).map_err(std::io::Error::from)?)
    })
}

fn approved(record: &serde_json::Value) -> Result<Outcome, Failure> {
    let expires = record["expires_at"]
        .as_i64()
        .map_or_else(String::new, |ms| stagegate_probe::rfc3339(ms / 1000));
    writeln!(
        std::io::stdout(),
        "approved {} to {} (approval {}, by {}, valid until {expires}, for spec sha256 {})",
        record["environment"].as_str().unwrap_or_default(),
        record["to_mode"].as_str().unwrap_or_default(),
        record["id"],
        record["approved_by"].as_str().unwrap_or_default(),
        record["spec_sha256"]
            .as_str()
            .map(|s| &s[..s.len().min(12)])
            .unwrap_or_default(),
    )?;
    Ok(Outcome::Ready)
}
