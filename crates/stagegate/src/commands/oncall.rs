//! `oncall`: who a rotation pages now, and who comes next, in the
//! rotation's own time zone.

use std::io::Write;

use stagegate_spec::{Rotation, Shift};

use crate::cli::{OncallArgs, OncallFormat};
use crate::load::Loaded;
use crate::{Failure, Outcome};

pub fn run(args: &OncallArgs) -> Result<Outcome, Failure> {
    let loaded = Loaded::read(&args.spec)?;
    let spec = &loaded.spec;
    let at = match &args.at {
        Some(t) => t
            .parse::<jiff::Timestamp>()
            .map_err(|e| {
                Failure::Message(format!(
                    "--at: {e}; expected an RFC 3339 time such as 2026-12-24T10:00:00Z"
                ))
            })?
            .as_second(),
        None => stagegate_spec::now_unix(),
    };
    let rotations: Vec<&Rotation> = match &args.rotation {
        Some(id) => vec![spec.rotation(id).ok_or_else(|| {
            let known: Vec<&str> = spec.rotations.iter().map(|r| r.id.value.as_str()).collect();
            Failure::Message(if known.is_empty() {
                format!(
                    "no rotation `{id}`: {} declares none ([rotations.ID])",
                    loaded.source.name()
                )
            } else {
                format!("no rotation `{id}`; expected one of: {}", known.join(", "))
            })
        })?],
        None => spec.rotations.iter().collect(),
    };
    let mut out = anstream::stdout().lock();
    match args.format {
        OncallFormat::Json => {
            let doc: Vec<serde_json::Value> = rotations
                .iter()
                .map(|r| {
                    let shifts = r.upcoming(at, args.next + 1);
                    let now = r.on_call(at);
                    serde_json::json!({
                        "rotation": r.id.value,
                        "timezone": r.timezone.value,
                        "now": now.as_ref().map(|s| shift_json(r, s)),
                        "next": shifts
                            .iter()
                            .skip(usize::from(now.is_some()))
                            .take(args.next)
                            .map(|s| shift_json(r, s))
                            .collect::<Vec<_>>(),
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "at": stagegate_spec::rfc3339(at),
                "rotations": doc,
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )?;
        }
        OncallFormat::Text => {
            if rotations.is_empty() {
                writeln!(
                    out,
                    "{} declares no rotations ([rotations.ID])",
                    loaded.source.name()
                )?;
            }
            for r in rotations {
                writeln!(
                    out,
                    "{} ({} shifts, {})",
                    r.id.value, r.shift.value, r.timezone.value
                )?;
                let now = r.on_call(at);
                match &now {
                    Some(s) => writeln!(out, "  now   {}", line(r, s))?,
                    None => writeln!(
                        out,
                        "  now   nobody: the rotation starts {}",
                        r.local(r.upcoming(at, 1).first().map_or(at, |s| s.from))
                    )?,
                }
                for s in r
                    .upcoming(at, args.next + 1)
                    .iter()
                    .skip(usize::from(now.is_some()))
                    .take(args.next)
                {
                    writeln!(out, "  next  {}", line(r, s))?;
                }
            }
        }
    }
    Ok(Outcome::Ready)
}

fn line(r: &Rotation, s: &Shift<'_>) -> String {
    format!(
        "{:<16} {} → {}{}",
        s.member,
        r.local(s.from),
        r.local(s.until),
        if s.overridden { "  (override)" } else { "" }
    )
}

fn shift_json(r: &Rotation, s: &Shift<'_>) -> serde_json::Value {
    serde_json::json!({
        "member": s.member,
        "from": stagegate_spec::rfc3339(s.from),
        "until": stagegate_spec::rfc3339(s.until),
        "from_local": r.local(s.from),
        "until_local": r.local(s.until),
        "override": s.overridden,
    })
}
