//! `report`: judge every control of one framework per environment and write
//! the evidence report.

use std::fs::File;
use std::io::{BufWriter, Write};

use stagegate_report::{ComplianceFormat, ComplianceReport, Options};
use stagegate_rules::frameworks::{assess, pack};
use stagegate_spec::Date;

use crate::cli::ComplianceArgs;
use crate::load::Loaded;
use crate::{Failure, Outcome};

pub fn run(args: &ComplianceArgs) -> Result<Outcome, Failure> {
    let loaded = Loaded::read(&args.spec)?;
    loaded.check_env_names(&args.envs)?;
    let pack = pack(args.framework).ok_or_else(|| {
        Failure::Message(format!(
            "no control pack for framework `{}`",
            args.framework
        ))
    })?;
    let envs: Vec<&str> = args.envs.iter().map(String::as_str).collect();
    let as_of = args.as_of.unwrap_or_else(Date::today_utc);
    let live = if args.live.live {
        Some(crate::live::gather(&loaded, &envs, &args.live)?)
    } else {
        None
    };
    let files = loaded.file_facts()?;
    let evaluation = loaded
        .evaluator(as_of, &files)
        .live(live.as_ref())
        .all(&envs);
    let assessments: Vec<_> = evaluation
        .environments
        .iter()
        .map(|result| assess(pack, result, &loaded.spec, as_of, &files))
        .collect();
    let provenance = loaded.provenance();
    let report = ComplianceReport {
        provenance: &provenance,
        files: &files,
        product: &loaded.spec.product.name.value,
        as_of,
        source: &loaded.source,
        pack,
        declared: loaded
            .spec
            .product
            .frameworks
            .iter()
            .any(|f| f.value == args.framework),
        live: live.is_some(),
        environments: &assessments,
    };
    let format = ComplianceFormat::from(args.format);
    if format == ComplianceFormat::OscalPoam && report.poam_items() == 0 {
        // OSCAL requires at least one item; an empty plan is not written
        // rather than written invalid.
        eprintln!(
            "no POA&M item: no control is not met, declared only or waived, so no plan of action was written"
        );
        return Ok(Outcome::Ready);
    }
    match &args.output {
        Some(path) => {
            let file = File::create(path)
                .map_err(|e| Failure::Message(format!("cannot write {}: {e}", path.display())))?;
            let mut out = BufWriter::new(file);
            report.render(
                format,
                Options {
                    styled: false,
                    verbose: args.verbose,
                },
                &mut out,
            )?;
            out.flush()?;
        }
        None => {
            let stdout = std::io::stdout();
            let styled = anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never;
            let mut out = BufWriter::new(stdout.lock());
            report.render(
                format,
                Options {
                    styled,
                    verbose: args.verbose,
                },
                &mut out,
            )?;
            out.flush()?;
        }
    }
    Ok(if report.any_not_met() {
        Outcome::Blocked
    } else {
        Outcome::Ready
    })
}
