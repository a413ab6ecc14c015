//! `stagegate agent`: what this server's state is, collected by
//! stagegate-agent and printed (`--once --dry-run`).

use std::io::Write;

use crate::cli::{AgentArgs, AgentFormat};
use crate::{Failure, Outcome};

pub fn run(args: &AgentArgs) -> Result<Outcome, Failure> {
    if !(args.once && args.dry_run) {
        return Err(Failure::Message(
            "this stagegate serve has no endpoint for agent reports yet: run `stagegate agent --once --dry-run` to see the report".to_owned(),
        ));
    }
    let rt = super::serve::runtime()?;
    let name = args.name.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default()
    });
    let mut opts = stagegate_agent::Options::new(name);
    opts.log_window = args.log_window.get();
    let report = rt.block_on(stagegate_agent::collect(&opts));
    let mut out = std::io::stdout().lock();
    match args.format {
        AgentFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        AgentFormat::Text => write!(out, "{}", stagegate_agent::text(&report))?,
    }
    Ok(Outcome::Ready)
}
