//! `stagegate duty done`: says on a running server that a day-to-day
//! operations duty was done, and by whom (the token's name).

use std::io::Write;

use crate::cli::DutyCommand;
use crate::remote::Remote;
use crate::{Failure, Outcome};

pub fn run(command: &DutyCommand) -> Result<Outcome, Failure> {
    let DutyCommand::Done(args) = command;
    let rt = super::serve::runtime()?;
    rt.block_on(async {
        let remote = Remote::new(&args.server, &args.token)?;
        let body = args.note.as_ref().map(|n| serde_json::json!({ "note": n }));
        let path = format!("/api/v1/environments/{}/duties/{}", args.env, args.duty);
        let (status, reply) = remote.call(http::Method::POST, &path, body).await?;
        if status != 201 {
            let why = reply["error"].as_str().unwrap_or("unexpected reply");
            return Err(Failure::Message(format!(
                "{} answered {status}: {why}",
                remote.server()
            )));
        }
        writeln!(
            std::io::stdout().lock(),
            "{} of {} done by {} at {} (heartbeat {})",
            args.duty,
            args.env,
            reply["done_by"].as_str().unwrap_or_default(),
            reply["at"].as_str().unwrap_or_default(),
            reply["check"].as_str().unwrap_or_default()
        )?;
        Ok(Outcome::Ready)
    })
}
