//! Restore drills: restore the backup for real, time it against the RTO,
//! and say how it went. Used by `stagegate drill` and by the server's drill
//! endpoint, which record the result in the drill log or the store.
//!
//! The restore runs either the team's own `command`, or restic's restore of
//! the newest snapshot into a scratch folder followed by the `verify`
//! command. Either way it runs in its own process group so a timeout stops
//! everything it started, and its output goes to a log whose tail explains a
//! failure.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use stagegate_spec::{Deferred, Diagnostic, Drill, EnvLookup, Environment, Spec};

/// Without `timeout` or an RTO, a drill may run this long.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Lines of output kept to explain a failure.
const TAIL_LINES: usize = 15;

/// How a drill went.
#[derive(Debug, Clone)]
pub struct DrillRun {
    /// Restored (and verified) within the RTO.
    pub ok: bool,
    pub seconds: f64,
    /// What was done and how it ended, for the record.
    pub message: String,
    /// `command` or `restic`.
    pub method: &'static str,
    /// The last lines the drill printed.
    pub tail: Vec<String>,
    /// When it finished, Unix seconds.
    pub finished_at: i64,
}

/// Why a drill could not start.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error(
        "environment `{0}` declares no restore drill: expected `[environments.{0}.backup.drill]` with `every` (and `command`, or a backup `source`)"
    )]
    NotDeclared(String),
    /// A `${NAME}` in the drill could not be resolved.
    #[error("{}", .0.message)]
    Unresolved(Diagnostic),
    #[error("{0}")]
    Setup(String),
}

/// Runs the drill of `env`; `dir` is the spec's folder, where commands run.
pub fn run(
    spec: &Spec,
    env: &Environment,
    dir: &Path,
    restic: &str,
    lookup: EnvLookup<'_>,
) -> Result<DrillRun, DrillError> {
    let drill = env
        .backup
        .as_ref()
        .and_then(|b| b.drill.as_ref())
        .ok_or_else(|| DrillError::NotDeclared(env.name.value.clone()))?;
    // A spec given as a bare file name has an empty folder: the current one.
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let plan = Plan::new(spec, env, drill, restic, lookup)?;
    let scratch = Scratch::create()?;
    let started = Instant::now();
    let (method, what) = (plan.method, plan.what.clone());
    let result = plan.execute(&scratch, dir);
    let seconds = started.elapsed().as_secs_f64();
    let tail = scratch.tail();
    drop(scratch);
    let rto = spec.product.rto.as_ref().map(|r| &r.value);
    let (ok, message) = match result {
        Ok(()) => match rto {
            Some(rto) if seconds > rto.get().as_secs_f64() => (
                false,
                format!(
                    "{what} succeeded but took {}, longer than the rto of {rto}",
                    human(seconds)
                ),
            ),
            _ => (true, format!("{what}: passed")),
        },
        Err(why) => (false, format!("{what}: {why}")),
    };
    Ok(DrillRun {
        ok,
        seconds,
        message,
        method,
        tail,
        finished_at: unix_now(),
    })
}

/// The commands a drill runs, resolved before anything starts.
struct Plan {
    steps: Vec<Step>,
    timeout: Duration,
    method: &'static str,
    /// What was done, for the record: "restic restore of the newest snapshot...".
    what: String,
}

struct Step {
    name: &'static str,
    command: Command,
}

impl Plan {
    fn new(
        spec: &Spec,
        env: &Environment,
        drill: &Drill,
        restic: &str,
        lookup: EnvLookup<'_>,
    ) -> Result<Plan, DrillError> {
        let resolve = |d: &Deferred| -> Result<String, DrillError> {
            d.resolve(lookup).map_err(DrillError::Unresolved)
        };
        let timeout = drill
            .timeout
            .as_ref()
            .map(|t| t.value.get())
            .or_else(|| spec.product.rto.as_ref().map(|r| r.value.get() * 2))
            .unwrap_or(DEFAULT_TIMEOUT);
        if let Some(command) = &drill.command {
            return Ok(Plan {
                steps: vec![Step {
                    name: "command",
                    command: shell(&resolve(command)?),
                }],
                timeout,
                method: "command",
                what: "the drill command".to_owned(),
            });
        }
        let source = env
            .backup
            .as_ref()
            .and_then(|b| b.source.as_ref())
            .ok_or_else(|| {
                DrillError::Setup(
                    "the drill has no `command` and the backup no `source`".to_owned(),
                )
            })?;
        let repository = resolve(&source.repository)?;
        let password_env = &source.password_env.value;
        let password = lookup(password_env).ok_or_else(|| {
            DrillError::Setup(format!(
                "environment variable `{password_env}` is not set: the restic restore needs the repository password"
            ))
        })?;
        let mut restore = Command::new(restic);
        restore
            .args([
                "--no-cache",
                "--json",
                "-r",
                &repository,
                "restore",
                "latest",
                "--target",
            ])
            .env("RESTIC_PASSWORD", password)
            .env_remove("RESTIC_PASSWORD_FILE")
            .env_remove("RESTIC_PASSWORD_COMMAND");
        let mut steps = vec![Step {
            name: "restic restore",
            command: restore,
        }];
        let mut what = "restic restore of the newest snapshot into a scratch folder".to_owned();
        if let Some(verify) = &drill.verify {
            steps.push(Step {
                name: "verify",
                command: shell(&resolve(verify)?),
            });
            what.push_str(", then the verify command");
        }
        Ok(Plan {
            steps,
            timeout,
            method: "restic",
            what,
        })
    }

    fn execute(mut self, scratch: &Scratch, dir: &Path) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        for step in &mut self.steps {
            let cmd = &mut step.command;
            if step.name == "restic restore" {
                cmd.arg(&scratch.restore);
            }
            let log = scratch
                .log_handle()
                .map_err(|e| format!("cannot write the drill log: {e}"))?;
            let err = log.try_clone().map_err(|e| e.to_string())?;
            cmd.current_dir(dir)
                .env("STAGEGATE_DRILL_DIR", &scratch.restore)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(err)
                .process_group(0);
            let mut child = cmd
                .spawn()
                .map_err(|e| format!("cannot start the {}: {e}", step.name))?;
            let status =
                wait_until(&mut child, deadline).map_err(|e| format!("the {} {e}", step.name))?;
            match status {
                Some(s) if s.success() => {}
                Some(s) => return Err(format!("the {} failed ({})", step.name, describe(s))),
                None => {
                    return Err(format!(
                        "the {} did not finish within the drill's timeout of {}",
                        step.name,
                        human(self.timeout.as_secs_f64())
                    ));
                }
            }
        }
        Ok(())
    }
}

fn shell(command: &str) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", command]);
    c
}

/// Waits for the child; past the deadline, kills its whole process group
/// and returns `None`.
fn wait_until(
    child: &mut std::process::Child,
    deadline: Instant,
) -> Result<Option<ExitStatus>, String> {
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            // The group id is the child's pid (process_group(0)).
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => "unknown status".to_owned(),
    }
}

/// A private scratch folder for one drill, removed afterwards.
struct Scratch {
    root: PathBuf,
    restore: PathBuf,
    log: PathBuf,
}

impl Scratch {
    fn create() -> Result<Scratch, DrillError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let root =
            std::env::temp_dir().join(format!("stagegate-drill-{}-{nanos}", std::process::id()));
        let restore = root.join("restore");
        fs::create_dir_all(&restore).map_err(|e| {
            DrillError::Setup(format!(
                "cannot create scratch folder {}: {e}",
                restore.display()
            ))
        })?;
        let log = root.join("output.log");
        Ok(Scratch { root, restore, log })
    }

    fn log_handle(&self) -> std::io::Result<File> {
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
    }

    /// The last lines of everything the drill printed.
    fn tail(&self) -> Vec<String> {
        let Ok(mut f) = File::open(&self.log) else {
            return Vec::new();
        };
        let len = f.metadata().map_or(0, |m| m.len());
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
        let mut buf = String::new();
        let _ = f.read_to_string(&mut buf);
        let lines: Vec<String> = buf
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.chars().take(300).collect())
            .collect();
        lines[lines.len().saturating_sub(TAIL_LINES)..].to_vec()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// "42.1s", "3m 20s", "2h 5m".
pub fn human(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1}s");
    }
    let s = seconds.round() as u64;
    if s < 3600 {
        format!("{}m {}s", s / 60, s % 60)
    } else {
        format!("{}h {}m", s / 3600, (s % 3600) / 60)
    }
}
