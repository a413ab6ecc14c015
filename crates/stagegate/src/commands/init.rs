//! `init`: a commented starter spec, valid as written, whose production
//! environment lists what is still to do.

use std::fs::OpenOptions;
use std::io::Write;

use crate::cli::{InitArgs, InitCommand};
use crate::{Failure, Outcome};

const TEMPLATE: &str = include_str!("../../templates/stagegate.toml");

pub fn run(args: &InitArgs) -> Result<Outcome, Failure> {
    if let Some(InitCommand::Runbooks(r)) = &args.what {
        return super::runbooks::run(r);
    }
    let name = args.name.replace('\\', "\\\\").replace('"', "\\\"");
    let text = TEMPLATE.replace("{{product}}", &name);
    if args.output.as_os_str() == "-" {
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(Outcome::Ready);
    }
    let mut options = OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(&args.output).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::Message(format!(
                "{} already exists; pass --force to overwrite it",
                args.output.display()
            ))
        } else {
            Failure::Message(format!("cannot write {}: {e}", args.output.display()))
        }
    })?;
    file.write_all(text.as_bytes())?;
    let mut err = anstream::stderr();
    writeln!(
        err,
        "wrote {}\nnext: `stagegate check {}` shows what each environment still needs",
        args.output.display(),
        args.output.display()
    )?;
    Ok(Outcome::Ready)
}
