//! `stagegate agent`: collects what this server's state is (stagegate-agent)
//! and sends it to the server, or prints it (`--dry-run`). Every report
//! goes through a bounded spool on disk first, so a report made while the
//! server was away is sent later, oldest first. A spool that cannot be
//! written (a full disk, a read-only mount) never stops a report: it is
//! sent on its own, and only lost if the server is away too.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{AgentArgs, AgentFormat};
use crate::remote::Remote;
use crate::{Failure, Outcome};

/// The longest pause between attempts to empty the spool.
const MAX_RETRY: Duration = Duration::from_secs(300);

pub fn run(args: &AgentArgs) -> Result<Outcome, Failure> {
    let rt = super::serve::runtime()?;
    let name = args.name.clone().unwrap_or_else(host_name);
    if name.trim().is_empty() {
        return Err(Failure::Message(
            "--name is empty: expected the spec's name of this server".to_owned(),
        ));
    }
    let mut opts = stagegate_agent::Options::new(name);
    opts.log_window = args.log_window.get();
    opts.tool_timeout = args.tool_timeout.get();
    if args.dry_run {
        let report = rt.block_on(stagegate_agent::collect(&opts));
        let mut out = std::io::stdout().lock();
        match args.format {
            AgentFormat::Json => {
                serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from)?;
                writeln!(out)?;
            }
            AgentFormat::Text => write!(out, "{}", stagegate_agent::text(&report))?,
        }
        return Ok(Outcome::Ready);
    }
    let (Some(server), Some(token)) = (&args.server, &args.token) else {
        return Err(Failure::Message(
            "--server and --token (an agent token) are needed to send reports; --dry-run prints one".to_owned(),
        ));
    };
    let spool = Spool::open(
        args.spool.clone().unwrap_or_else(default_spool),
        args.spool_max,
    )
    .map_err(|why| say(&format!("{why}; reports go without a spool")))
    .ok();
    rt.block_on(async {
        let remote = Remote::new(server, token)?;
        let interval = args.interval.get();
        loop {
            let report = stagegate_agent::collect(&opts).await;
            let flushed = deliver(spool.as_ref(), &remote, &report).await?;
            if args.once {
                // A refused report is a misconfigured agent: say so in the
                // exit status, so a timer shows the failed run.
                return Ok(if flushed == Flushed::All {
                    Outcome::Ready
                } else {
                    Outcome::Blocked
                });
            }
            // Until the next report, keep trying to empty the spool.
            let next = tokio::time::Instant::now() + interval;
            let mut pause = Duration::from_secs(5);
            let mut waiting = flushed == Flushed::Waiting;
            while waiting {
                let wake = (tokio::time::Instant::now() + pause).min(next);
                tokio::time::sleep_until(wake).await;
                if wake >= next {
                    break;
                }
                waiting = match &spool {
                    Some(spool) => spool.flush(&remote).await? == Flushed::Waiting,
                    None => false,
                };
                pause = (pause * 2).min(MAX_RETRY);
            }
            tokio::time::sleep_until(next).await;
        }
    })
}

/// Keeps `report` in the spool and sends what waits there, oldest first;
/// without a usable spool, sends it on its own after what waits.
async fn deliver(
    spool: Option<&Spool>,
    remote: &Remote,
    report: &stagegate_agent::Report,
) -> Result<Flushed, Failure> {
    let kept = spool.is_some_and(|s| {
        s.put(report)
            .map_err(|why| say(&format!("{why}; this report goes without the spool")))
            .is_ok()
    });
    let before = match spool {
        Some(s) => s.flush(remote).await?,
        None => Flushed::All,
    };
    if kept {
        return Ok(before);
    }
    if before == Flushed::Waiting {
        say("this report is lost: the spool cannot keep it and the server does not take it now");
        return Ok(before);
    }
    let value = serde_json::to_value(report).map_err(std::io::Error::from)?;
    Ok(
        match send(
            remote,
            value,
            "this report is lost: the spool cannot keep it",
        )
        .await?
        {
            Sent::Stored => before,
            Sent::Refused => Flushed::Refused,
            Sent::Waiting => Flushed::Waiting,
        },
    )
}

/// What became of one report.
enum Sent {
    Stored,
    /// Refused for what it is: sending it again would change nothing.
    Refused,
    /// Not taken now: the server is away or busy.
    Waiting,
}

/// Sends one report; `otherwise` says what becomes of it when the server
/// does not take it now.
async fn send(
    remote: &Remote,
    report: serde_json::Value,
    otherwise: &str,
) -> Result<Sent, Failure> {
    match remote
        .call(http::Method::POST, "/api/v1/agents/report", Some(report))
        .await
    {
        Ok((201, _)) => Ok(Sent::Stored),
        Ok((status @ (400 | 413 | 422), reply)) => {
            let why = reply["error"].as_str().unwrap_or("no reason given");
            say(&format!(
                "{} refused a report ({status}: {why}); dropped it",
                remote.server()
            ));
            Ok(Sent::Refused)
        }
        Ok((status, reply)) => {
            let why = reply["error"].as_str().unwrap_or("unexpected reply");
            say(&format!(
                "{} answered {status} ({why}); {otherwise}",
                remote.server()
            ));
            Ok(Sent::Waiting)
        }
        Err(Failure::Message(why)) => {
            say(&format!("{why}; {otherwise}"));
            Ok(Sent::Waiting)
        }
        Err(other) => Err(other),
    }
}

/// What became of the waiting reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flushed {
    /// Every one was stored.
    All,
    /// Some wait for the server.
    Waiting,
    /// The rest were stored, but the server refused one for what it holds.
    Refused,
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

fn default_spool() -> PathBuf {
    if rustix::process::geteuid().is_root() {
        return PathBuf::from("/var/lib/stagegate-agent/spool");
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    state.join("stagegate-agent/spool")
}

/// Reports waiting to be sent, one file each, named so that their order
/// is the order they were made in.
struct Spool {
    dir: PathBuf,
    max: usize,
}

impl Spool {
    fn open(dir: PathBuf, max: u32) -> Result<Spool, String> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create the spool {}: {e}", dir.display()))?;
        Ok(Spool {
            dir,
            max: usize::try_from(max).unwrap_or(usize::MAX),
        })
    }

    /// Writes a report (whole or not at all: written aside, then renamed),
    /// then drops the oldest beyond the limit.
    fn put(&self, report: &stagegate_agent::Report) -> Result<(), String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("{PREFIX}{nanos:020}.json");
        let partial = self.dir.join(format!(".{name}.partial"));
        let written = serde_json::to_vec(report)
            .map_err(std::io::Error::from)
            .and_then(|text| std::fs::write(&partial, text))
            .and_then(|()| std::fs::rename(&partial, self.dir.join(&name)));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(format!(
                "cannot write to the spool {}: {e}",
                self.dir.display()
            ));
        }
        let waiting = self.waiting()?;
        let excess = waiting.len().saturating_sub(self.max);
        for old in &waiting[..excess] {
            let _ = std::fs::remove_file(old);
        }
        if excess > 0 {
            say(&format!(
                "the spool holds at most {} report{}: dropped the {excess} oldest",
                self.max,
                if self.max == 1 { "" } else { "s" }
            ));
        }
        Ok(())
    }

    /// The waiting reports, oldest first.
    fn waiting(&self) -> Result<Vec<PathBuf>, String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(|e| format!("cannot read the spool {}: {e}", self.dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_report(p))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Sends the waiting reports, oldest first, until one cannot be sent;
    /// whether the spool is empty now. A report the server refuses for what
    /// it is (malformed, another server's) is dropped: sending it again
    /// would change nothing.
    async fn flush(&self, remote: &Remote) -> Result<Flushed, Failure> {
        let mut refused = false;
        let waiting = self.waiting().unwrap_or_else(|why| {
            say(&why);
            Vec::new()
        });
        for file in waiting {
            let Ok(text) = std::fs::read(&file) else {
                continue;
            };
            let Ok(report) = serde_json::from_slice::<serde_json::Value>(&text) else {
                say(&format!("dropped {}: not a report", file.display()));
                let _ = std::fs::remove_file(&file);
                continue;
            };
            let otherwise = format!("the report waits in {}", self.dir.display());
            match send(remote, report, &otherwise).await? {
                Sent::Stored => {
                    let _ = std::fs::remove_file(&file);
                }
                Sent::Refused => {
                    let _ = std::fs::remove_file(&file);
                    refused = true;
                }
                Sent::Waiting => return Ok(Flushed::Waiting),
            }
        }
        Ok(if refused {
            Flushed::Refused
        } else {
            Flushed::All
        })
    }
}

/// How the agent names its reports in the spool; it touches no other file.
const PREFIX: &str = "stagegate-report-";

/// Whether `path` is a report the agent wrote: `stagegate-report-`, twenty
/// digits, `.json`.
fn is_report(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix(PREFIX))
        .and_then(|n| n.strip_suffix(".json"))
        .is_some_and(|digits| digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
}

fn say(what: &str) {
    eprintln!("stagegate agent: {what}");
}
