//! `stagegate run`: runs a backup or cron job under its heartbeat, as
//! runitor does for Healthchecks.io. The job comes first: its output passes
//! through untouched, its exit status is the run's, and a ping that cannot
//! be sent is said on stderr but never changes the outcome.

use std::collections::VecDeque;
use std::io::{IsTerminal, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use crate::cli::RunArgs;
use crate::load::Loaded;
use crate::{Failure, Outcome};

/// How much of the output the last ping carries (what the server keeps).
const TAIL: usize = 10_000;
/// One ping attempt's limit: a slow server must not hold the job's end.
const PING_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// How long output is still read after the command exited: a process it
/// left behind may hold its output open for good.
const DRAIN: Duration = Duration::from_secs(2);
/// The longest the run waits, once the command has ended, for its pings
/// to go out: a server that hangs must not hold a cron slot for minutes.
const PING_BUDGET: Duration = Duration::from_secs(60);

/// Exit statuses of the shell's conventions, as `timeout(1)` and `sh` use.
const TIMED_OUT: u8 = 124;
const CANNOT_EXECUTE: u8 = 126;
const NOT_FOUND: u8 = 127;

pub fn run(args: &RunArgs) -> Result<Outcome, Failure> {
    let rt = super::serve::runtime()?;
    let code = rt.block_on(supervise(args))?;
    // The runtime may hold a ping still retrying: the outcome is known.
    rt.shutdown_background();
    Ok(Outcome::Exited(code))
}

async fn supervise(args: &RunArgs) -> Result<u8, Failure> {
    let rid = run_id();
    let pinger = match ping_base(args) {
        Ok(base) => Some(Arc::new(Pinger::new(base, rid.clone(), args.ping_retries)?)),
        Err(why) => {
            say(&format!(
                "cannot ping: {why}; running the command all the same"
            ));
            None
        }
    };
    // Sent while the command runs: a slow or absent server never delays
    // the job. The exit ping waits for it, so the two arrive in order.
    let start = match (&pinger, args.no_start_ping) {
        (Some(p), false) => {
            let p = Arc::clone(p);
            Some(tokio::spawn(async move { p.send("start", None).await }))
        }
        _ => None,
    };

    let tail = Arc::new(Mutex::new(Tail::default()));
    let mut signals = Signals::listen()?;
    let (code, note) = match execute(args, &rid, &tail, &mut signals).await {
        Ok(ran) => ran,
        Err(Unstarted { code, why }) => {
            say(&why);
            (code, Some(why))
        }
    };

    if let Some(p) = pinger {
        let mut body = lock(&tail).take();
        if let Some(note) = note {
            if !body.is_empty() && !body.ends_with(b"\n") {
                body.push(b'\n');
            }
            body.extend_from_slice(format!("stagegate run: {note}\n").as_bytes());
        }
        let cut = body.len().saturating_sub(TAIL);
        let body = body[cut..].to_vec();
        let finish = async {
            if let Some(start) = start {
                let _ = start.await;
            }
            p.send(&code.to_string(), Some(body)).await;
        };
        // The command's outcome is known: a hanging server or a signal
        // only cuts the pings short.
        tokio::select! {
            () = finish => {}
            () = tokio::time::sleep(PING_BUDGET) => say(&format!(
                "gave up on the pings after {} s; the command's status stands",
                PING_BUDGET.as_secs()
            )),
            _ = signals.term.recv() => say("stopped pinging on SIGTERM"),
            _ = signals.int.recv() => say("stopped pinging on SIGINT"),
        }
    }
    Ok(code)
}

/// The signals the run forwards to its command, listened for from the
/// start so that none is missed, and so that none of those whose default
/// is to end a process ends the run without its end ping.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
    usr2: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> Result<Signals, Failure> {
        let listen = |kind| {
            signal(kind).map_err(|e| Failure::Message(format!("cannot listen for signals: {e}")))
        };
        Ok(Signals {
            term: listen(SignalKind::terminate())?,
            int: listen(SignalKind::interrupt())?,
            hup: listen(SignalKind::hangup())?,
            quit: listen(SignalKind::quit())?,
            usr1: listen(SignalKind::user_defined1())?,
            usr2: listen(SignalKind::user_defined2())?,
        })
    }
}

/// The command could not be started: its exit status and why.
struct Unstarted {
    code: u8,
    why: String,
}

/// Runs the command to its end: its exit status, and a note on how it
/// ended when it did not end by itself.
async fn execute(
    args: &RunArgs,
    rid: &str,
    tail: &Arc<Mutex<Tail>>,
    signals: &mut Signals,
) -> Result<(u8, Option<String>), Unstarted> {
    let (program, rest) = args.command.split_first().ok_or_else(|| Unstarted {
        code: NOT_FOUND,
        why: "no command given".to_owned(),
    })?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest)
        .env("STAGEGATE_RUN_ID", rid)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Off a terminal, the command gets a process group of its own, so a
    // timeout stops what it started too (a shell's children). On one, it
    // stays in the terminal's group so that it can still read a password.
    let own_group = !std::io::stdin().is_terminal();
    if own_group {
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().map_err(|e| Unstarted {
        code: if e.kind() == std::io::ErrorKind::NotFound {
            NOT_FOUND
        } else {
            CANNOT_EXECUTE
        },
        why: format!("cannot run {}: {e}", program.to_string_lossy()),
    })?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    let send = |sig: rustix::process::Signal| {
        if let Some(pid) = pid {
            let _ = if own_group {
                rustix::process::kill_process_group(pid, sig)
            } else {
                rustix::process::kill_process(pid, sig)
            };
        }
    };

    let mut copies = Vec::new();
    if let Some(fd) = child.stdout.take().and_then(|o| o.into_owned_fd().ok()) {
        let tail = Arc::clone(tail);
        copies.push(tokio::task::spawn_blocking(move || {
            pass(std::fs::File::from(fd), std::io::stdout(), &tail);
        }));
    }
    if let Some(fd) = child.stderr.take().and_then(|e| e.into_owned_fd().ok()) {
        let tail = Arc::clone(tail);
        copies.push(tokio::task::spawn_blocking(move || {
            pass(std::fs::File::from(fd), std::io::stderr(), &tail);
        }));
    }

    let mut stop_at = args.timeout.as_ref().map(|t| Instant::now() + t.get());
    let mut kill_at = None;
    let mut timed_out = false;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            _ = signals.term.recv() => send(rustix::process::Signal::TERM),
            _ = signals.int.recv() => send(rustix::process::Signal::INT),
            _ = signals.hup.recv() => send(rustix::process::Signal::HUP),
            _ = signals.quit.recv() => send(rustix::process::Signal::QUIT),
            _ = signals.usr1.recv() => send(rustix::process::Signal::USR1),
            _ = signals.usr2.recv() => send(rustix::process::Signal::USR2),
            () = until(stop_at) => {
                timed_out = true;
                stop_at = None;
                send(rustix::process::Signal::TERM);
                kill_at = Some(Instant::now() + args.kill_after.get());
            }
            () = until(kill_at) => {
                kill_at = None;
                send(rustix::process::Signal::KILL);
            }
        }
    };
    let drained = async {
        for copy in copies {
            let _ = copy.await;
        }
    };
    let _ = tokio::time::timeout(DRAIN, drained).await;

    let status = status.map_err(|e| Unstarted {
        code: CANNOT_EXECUTE,
        why: format!("lost the command: {e}"),
    })?;
    if timed_out {
        let after = args
            .timeout
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default();
        let why = format!("the command did not finish within --timeout {after}; it was stopped");
        say(&why);
        return Ok((TIMED_OUT, Some(why)));
    }
    Ok(ended(status))
}

/// The exit status of a command that ended by itself or by a signal.
fn ended(status: ExitStatus) -> (u8, Option<String>) {
    match (status.code(), status.signal()) {
        (Some(code), _) => (u8::try_from(code).unwrap_or(1), None),
        (None, Some(sig)) => (
            u8::try_from(128 + sig).unwrap_or(1),
            Some(format!("the command was ended by signal {sig}")),
        ),
        _ => (1, Some("the command ended without a status".to_owned())),
    }
}

/// Waits until `at`, or forever when there is none.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Passes output through and keeps its tail. A closed stdout of ours
/// must not stall the command: its output is still read.
fn pass(mut from: impl Read, mut to: impl Write, tail: &Mutex<Tail>) {
    let mut buf = vec![0; 16 * 1024];
    let mut writable = true;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let chunk = &buf[..n];
        lock(tail).push(chunk);
        if writable && let Err(e) = to.write_all(chunk).and_then(|()| to.flush()) {
            // Whoever read our output is gone (`stagegate run -- yes | head`):
            // stop reading too, so the command meets the closed pipe as it
            // would in the bare pipeline.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return;
            }
            writable = false;
        }
    }
}

/// The last [`TAIL`] bytes of the command's output, both streams as they
/// arrived.
#[derive(Default)]
struct Tail(VecDeque<u8>);

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        let chunk = &chunk[chunk.len().saturating_sub(TAIL)..];
        let excess = (self.0.len() + chunk.len()).saturating_sub(TAIL);
        self.0.drain(..excess);
        self.0.extend(chunk);
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0).into()
    }
}

fn lock(tail: &Mutex<Tail>) -> std::sync::MutexGuard<'_, Tail> {
    tail.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Where pings go: `--ping`, or the token of `--check` in the spec on
/// `--server`.
fn ping_base(args: &RunArgs) -> Result<String, String> {
    if let Some(url) = &args.ping {
        let url = url.trim_end_matches('/');
        // Paths are appended to it: a query or fragment would swallow them.
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || !url.contains("/ping/")
            || url.contains(['?', '#'])
        {
            return Err(format!(
                "--ping {}: expected a ping URL without a query, such as https://stagegate.example/ping/TOKEN",
                shown(url)
            ));
        }
        return Ok(url.to_owned());
    }
    let (Some(check), Some(server)) = (&args.check, &args.server) else {
        return Err("give --ping URL, or --check ENV/CHECK with --server URL".to_owned());
    };
    let Some((env, name)) = check.split_once('/') else {
        return Err(format!("--check {check}: expected ENV/CHECK"));
    };
    let loaded = Loaded::read_quiet(&args.spec).map_err(|(_, text)| text.trim().to_owned())?;
    let spec = args.spec.display();
    let environment = loaded
        .spec
        .environments
        .iter()
        .find(|e| e.name.value == env)
        .ok_or_else(|| format!("{spec} has no environment `{env}`"))?;
    let heartbeat = environment
        .monitoring
        .iter()
        .flat_map(|m| &m.checks)
        .find(|c| c.name.value == name)
        .ok_or_else(|| format!("{spec} has no check `{name}` in environment `{env}`"))?;
    if heartbeat.kind.value != stagegate_spec::CheckKind::Heartbeat {
        return Err(format!(
            "{check} is a {} check, not a heartbeat: only heartbeats take pings",
            heartbeat.kind.value.as_str()
        ));
    }
    let token = heartbeat
        .token
        .as_ref()
        .ok_or_else(|| format!("{check} has no `token`"))?
        .resolve(&stagegate_spec::process_env)
        .map_err(|d| format!("the token of {check}: {}", d.message))?;
    let server = server.trim_end_matches('/');
    if !(server.starts_with("http://") || server.starts_with("https://"))
        || server.contains(['?', '#'])
    {
        return Err(format!(
            "--server {}: expected an http:// or https:// URL without a query",
            shown(server)
        ));
    }
    Ok(format!("{server}/ping/{}", path_segment(&token)))
}

/// Percent-encodes a path segment: a token holding `/` or `?` is still one
/// token.
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A ping URL as it may be shown: the server only, with a password in it
/// masked; the path holds the token, a secret.
fn shown(url: &str) -> String {
    let masked = stagegate_probe::mask_password(url);
    match masked.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            if rest.len() > authority.len() {
                format!("{scheme}://{authority}/…")
            } else {
                format!("{scheme}://{authority}")
            }
        }
        None => "the URL given".to_owned(),
    }
}

/// A random version 4 UUID pairing this run's start with its end.
fn run_id() -> String {
    let mut b = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_err()
    {
        // No randomness at hand: the time and process id still tell runs
        // apart (the id only pairs pings, it grants nothing).
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = (nanos ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn say(what: &str) {
    eprintln!("stagegate run: {what}");
}

/// Sends pings with retries.
struct Pinger {
    cx: stagegate_probe::Context,
    base: String,
    rid: String,
    retries: u32,
}

impl Pinger {
    fn new(base: String, rid: String, retries: u32) -> Result<Pinger, Failure> {
        let cx = stagegate_probe::Context::system()
            .map_err(|e| Failure::Message(format!("cannot set up the client: {e}")))?;
        Ok(Pinger {
            cx,
            base,
            rid,
            retries,
        })
    }

    /// Sends `/{what}?rid=...`, retrying what may pass later (no answer,
    /// 408, 429, 5xx) with growing pauses; says on stderr when it gives up.
    async fn send(&self, what: &str, body: Option<Vec<u8>>) {
        let url = format!("{}/{what}?rid={}", self.base, self.rid);
        let ping = match what {
            "start" => "start".to_owned(),
            code => format!("exit status {code}"),
        };
        let body = body.map(stagegate_probe::Bytes::from);
        let mut pause = Duration::from_secs(1);
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            let headers = vec![(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            )];
            match stagegate_probe::request(
                &self.cx,
                http::Method::POST,
                &url,
                headers,
                body.clone(),
                PING_TIMEOUT,
            )
            .await
            {
                Ok((status, _)) if (200..300).contains(&status) => return,
                Ok((status, _)) if matches!(status, 408 | 429) || status >= 500 => {
                    last = format!("it answered {status}");
                }
                Ok((404, _)) => {
                    say(&format!(
                        "{} does not know this ping URL (404): is the token the heartbeat's?",
                        shown(&self.base)
                    ));
                    return;
                }
                Ok((status, _)) => {
                    say(&format!(
                        "{} refused the {ping} ping ({status})",
                        shown(&self.base)
                    ));
                    return;
                }
                // The error names the URL, token and all.
                Err(e) => last = e.replace(&self.base, &shown(&self.base)),
            }
        }
        say(&format!(
            "cannot send the {ping} ping to {} after {} attempt{}: {last}",
            shown(&self.base),
            self.retries + 1,
            if self.retries == 0 { "" } else { "s" }
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_bytes_across_chunks() {
        let mut t = Tail::default();
        t.push(&[b'a'; TAIL - 3]);
        t.push(b"bcdef");
        let kept = t.take();
        assert_eq!(kept.len(), TAIL);
        assert!(kept.ends_with(b"abcdef"));
        t.push(&vec![b'x'; TAIL * 3]);
        assert_eq!(t.take(), vec![b'x'; TAIL]);
    }

    #[test]
    fn run_ids_are_version_4_uuids() {
        let id = run_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, run_id());
    }

    #[test]
    fn a_token_stays_one_path_segment_and_is_never_shown() {
        assert_eq!(path_segment("a/b?c d"), "a%2Fb%3Fc%20d");
        assert_eq!(
            shown("https://sg.example/ping/s3cret"),
            "https://sg.example/…"
        );
        assert_eq!(
            shown("http://u:pw@sg.example:8080/TOKEN"),
            "http://u:***@sg.example:8080/…"
        );
        assert_eq!(shown("http://sg.example"), "http://sg.example");
    }

    #[test]
    fn a_signal_is_128_plus_its_number() {
        assert_eq!(ended(ExitStatus::from_raw(15)).0, 143);
        assert_eq!(ended(ExitStatus::from_raw(3 << 8)), (3, None));
    }
}
