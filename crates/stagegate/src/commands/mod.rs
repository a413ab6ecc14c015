//! One module per command.

mod agent;
mod audit;
mod check;
mod drill;
mod duty;
mod init;
mod oncall;
mod report;
mod rules;
mod run;
mod runbooks;
mod serve;
mod telemetry;

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::{Failure, Outcome};

pub fn run(command: Command) -> Result<Outcome, Failure> {
    match command {
        Command::Check(args) => check::check(&args),
        Command::Plan(args) => check::plan(&args),
        Command::Report(args) => report::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Schema => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &stagegate_spec::json_schema())
                .map_err(std::io::Error::from)?;
            writeln!(out)?;
            Ok(Outcome::Ready)
        }
        Command::Init(args) => init::run(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Token { command } => serve::token(&command),
        Command::Audit { command } => audit::run(&command),
        Command::Promote(args) => serve::promote(&args),
        Command::Approve(args) => serve::approve(&args),
        Command::Drill(args) => drill::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Agent(args) => agent::run(&args),
        Command::Duty { command } => duty::run(&command),
        Command::Oncall(args) => oncall::run(&args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "stagegate",
                &mut std::io::stdout(),
            );
            Ok(Outcome::Ready)
        }
    }
}
