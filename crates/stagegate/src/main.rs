//! The `stagegate` command line.

mod cli;
mod commands;
mod diagnostics;
mod drill_log;
mod git;
mod live;
mod load;
#[cfg(feature = "rego")]
mod policies;
mod remote;

use std::io::{self, Write};
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use clap::Parser;

/// Exit codes of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every evaluated environment is ready (or the command did its job).
    Ready,
    /// At least one evaluated environment is blocked.
    Blocked,
    /// The spec or the command line is invalid.
    Invalid,
    /// `stagegate run` passes on its command's exit status.
    Exited(u8),
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ready => 0,
            Outcome::Blocked => 1,
            Outcome::Invalid => 2,
            Outcome::Exited(code) => code,
        }
    }
}

/// A failure that ends the command with exit code 2. Its message has been
/// or will be written to stderr.
#[derive(Debug)]
pub enum Failure {
    /// Already reported (e.g. rendered spec diagnostics).
    Reported,
    /// A one-line problem to report.
    Message(String),
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = commands::run(cli.command);
    let code = match result {
        Ok(outcome) => outcome.code(),
        // A closed pipe (`stagegate check | head`) is the reader's choice.
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(failure) => {
            let message = match failure {
                Failure::Reported => None,
                Failure::Message(m) => Some(m),
                Failure::Io(e) => Some(e.to_string()),
            };
            if let Some(m) = message {
                let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
                let _ = writeln!(anstream::stderr(), "{red}error{red:#}: {m}");
            }
            Outcome::Invalid.code()
        }
    };
    ExitCode::from(code)
}
