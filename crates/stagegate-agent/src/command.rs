//! Running the host's own tools: with a deadline, in the C locale (their
//! output is parsed), killed when they hang, and "unavailable: why" when
//! they are missing or refuse.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// Why a collector could not read what it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// At most this much output is kept of a tool that is read whole.
const MAX_OUTPUT: usize = 8 * 1024 * 1024;

/// What a tool printed, and how it ended.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The first line of stderr, for saying why a tool refused.
    pub fn complaint(&self) -> String {
        self.stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no message")
            .to_owned()
    }
}

/// Runs `program` to its end within `limit`, reading its whole output.
pub async fn run(program: &str, args: &[&str], limit: Duration) -> Result<Output, Unavailable> {
    let mut stdout = String::new();
    let out = stream(program, args, limit, |line| {
        if stdout.len() < MAX_OUTPUT {
            stdout.push_str(line);
            stdout.push('\n');
        }
    })
    .await?;
    Ok(Output { stdout, ..out })
}

/// Runs `program` within `limit`, handing each line of its stdout to
/// `line` as it comes (a tool whose output may be large is never held
/// whole). The returned output's `stdout` is empty.
pub async fn stream(
    program: &str,
    args: &[&str],
    limit: Duration,
    mut line: impl FnMut(&str),
) -> Result<Output, Unavailable> {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Unavailable(format!("{program} is not installed")),
            std::io::ErrorKind::PermissionDenied => {
                Unavailable(format!("{program} may not be run by this user"))
            }
            _ => Unavailable(format!("cannot run {program}: {e}")),
        })?;
    let (Some(out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Unavailable(format!("{program}: no output pipes")));
    };
    let work = async {
        let mut stderr = Vec::new();
        let read_err = async {
            let _ = (&mut err).take(64 * 1024).read_to_end(&mut stderr).await;
        };
        let read_out = async {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                line(&l);
            }
        };
        tokio::join!(read_err, read_out);
        let status = child.wait().await;
        (status, stderr)
    };
    match tokio::time::timeout(limit, work).await {
        Ok((Ok(status), stderr)) => Ok(Output {
            code: status.code(),
            stdout: String::new(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }),
        Ok((Err(e), _)) => Err(Unavailable(format!("{program}: {e}"))),
        // Dropping the child kills it (kill_on_drop): a tool waiting on a
        // lock is cut off, never waited for.
        Err(_) => Err(Unavailable(format!(
            "{program} did not finish within {}; it was stopped",
            stagegate_duration(limit)
        ))),
    }
}

/// `60 s`, or `500 ms` under a second.
fn stagegate_duration(d: Duration) -> String {
    if d.as_secs() == 0 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs())
    }
}

/// Whether a tool's complaint means it needs more privileges.
pub fn needs_privileges(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    s.contains("permission denied")
        || s.contains("operation not permitted")
        || s.contains("must be root")
        || s.contains("need to be root")
        || s.contains("you need to be root")
        || s.contains("are you root")
}
