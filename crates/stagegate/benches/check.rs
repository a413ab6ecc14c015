//! Load and check time for a large generated spec: 10,000 environments with
//! 10 servers and 5 checks each. Run with
//! `cargo bench -p stagegate --bench check`; see BENCHMARKS.md.
//!
//! A plain harness (no framework) keeps the dependency tree small; each
//! phase is timed over several runs and the median is reported.

use std::hint::black_box;
use std::time::{Duration, Instant};

use stagegate_report::{Format, Kind, Options, Report};
use stagegate_rules::{Evaluator, FileFacts, FileState, rule_ids};
use stagegate_spec::{Date, LoadOptions, SourceFile, load};

const ENVIRONMENTS: usize = 10_000;
const RUNS: usize = 7;

/// One production environment: 3 core nodes in a cluster, 2 databases, 2
/// caches, a queue, a load balancer and a worker; 5 checks.
fn environment(i: usize, out: &mut String) {
    use std::fmt::Write;
    let e = format!("env-{i:05}");
    let _ = write!(
        out,
        "[environments.{e}]\nmode = \"production\"\naudience = \"public\"\ncontrolled_by = \"client\"\n\n"
    );
    let servers = [
        ("app-1", "core", "fra1"),
        ("app-2", "core", "fra2"),
        ("app-3", "core", "fra3"),
        ("db-1", "database", "fra1"),
        ("db-2", "database", "fra2"),
        ("cache-1", "cache", "fra1"),
        ("cache-2", "cache", "fra2"),
        ("queue-1", "queue", "fra3"),
        ("lb-1", "load-balancer", "fra1"),
        ("worker-1", "other", "fra2"),
    ];
    for (name, role, location) in servers {
        let _ = write!(
            out,
            "[[environments.{e}.servers]]\nname = \"{name}\"\nroles = [\"{role}\"]\nlocation = \"{location}\"\nregion = \"eu\"\nhost = \"{name}.{e}.example.com\"\n\n"
        );
    }
    let _ = write!(
        out,
        "[environments.{e}.cluster]\nnodes = [\"app-1\", \"app-2\", \"app-3\"]\n\n\
         [environments.{e}.backup]\nlocation = \"ams1\"\ninterval = \"1h\"\nencrypted = true\nretention = \"30d\"\ncovers = [\"db-1\", \"db-2\"]\n\n\
         [environments.{e}.monitoring]\nnotify = [\"ops\"]\n\n"
    );
    let checks = [
        (
            "web",
            "core",
            "kind = \"http\"\nurl = \"https://{e}.example.com/healthz\"\nexpect = { status = 200, latency_under = \"800ms\" }",
        ),
        (
            "api",
            "app-1",
            "kind = \"http\"\nurl = \"https://api.{e}.example.com/health\"\ninterval = \"30s\"",
        ),
        (
            "db",
            "database",
            "kind = \"tcp\"\nhost = \"db-1.internal\"\nport = 5432",
        ),
        (
            "cert",
            "core",
            "kind = \"tls\"\nhost = \"{e}.example.com\"\nexpect = { cert_valid_for = \"14d\" }",
        ),
        (
            "backup",
            "backup",
            "kind = \"heartbeat\"\ntoken = \"${BACKUP_TOKEN}\"\ninterval = \"1h\"\ngrace = \"10m\"",
        ),
    ];
    for (name, covers, body) in checks {
        let body = body.replace("{e}", &e);
        let _ = write!(
            out,
            "[[environments.{e}.monitoring.checks]]\nname = \"{name}\"\ncovers = \"{covers}\"\n{body}\n\n"
        );
    }
    let _ = write!(
        out,
        "[environments.{e}.observability]\nmetrics = \"http://prometheus:9090\"\n\n\
         [environments.{e}.security]\nfirewall = true\nops_vpn = true\nsite_to_site_vpn = [\"backup\", \"monitoring\"]\npublic_ports = [443]\n\n\
         [environments.{e}.pentest]\nvendor = \"Redteam\"\nexternal = true\ndate = 2026-09-15\nopen_findings = {{ critical = 0, high = 0, medium = 2 }}\n\n\
         [environments.{e}.operations]\nlog_monitoring = \"ops\"\nbackup_monitoring = \"ops\"\nsecurity_updates = \"ops\"\nagreement = \"docs/agreement.md\"\n\n\
         [environments.{e}.runbooks]\nunavailability = \"rb/unavailability.md\"\nfailure = \"rb/failure.md\"\nbackup-restore = \"rb/backup-restore.md\"\nhardware-swap = \"rb/hardware-swap.md\"\ndata-corruption = \"rb/data-corruption.md\"\nattack-mitigation = \"rb/attack-mitigation.md\"\nsecurity-breach = \"rb/security-breach.md\"\n\n"
    );
}

pub fn spec(environments: usize) -> String {
    let mut out = String::from(
        "version = 1\n\n[product]\nname = \"Bench\"\nretains_user_data = true\navailability_target = 99.95\nrpo = \"1h\"\nregions = [\"eu\"]\ndata_classes = [\"personal\"]\nframeworks = [\"gdpr\"]\n\n[contacts.ops]\nemail = \"ops@example.com\"\non_call = true\n\n",
    );
    for i in 0..environments {
        environment(i, &mut out);
    }
    out
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn time<T>(mut f: impl FnMut() -> T) -> Duration {
    let samples = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    median(samples)
}

fn main() {
    // `cargo bench` passes `--bench`; a path argument writes the spec instead
    // (for timing the CLI end to end, see bench/check.sh).
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let text = spec(ENVIRONMENTS);
    if let Some(path) = args.first() {
        std::fs::write(path, &text).expect("write spec");
        eprintln!("wrote {path} ({} bytes)", text.len());
        return;
    }
    let source = SourceFile::new("bench.toml", text.clone());
    let ids = rule_ids();
    let env = |_: &str| None;
    let opts = LoadOptions {
        env: &env,
        known_rules: &ids,
        known_controls: stagegate_rules::frameworks::control_ids,
    };
    let mut facts = FileFacts::new();
    let as_of = Date::from_ymd(2026, 11, 26).expect("date");

    let parse = time(|| toml::de::DeTable::parse(&text).map(|t| t.into_inner().len()));
    let load_only = time(|| load(&source, &opts).map(|s| s.environments.len()));
    let spec = load(&source, &opts).expect("valid spec");
    for p in FileFacts::referenced_paths(&spec) {
        facts.insert(p, FileState::Present);
    }
    let eval = time(|| {
        Evaluator::new(&spec, as_of, &facts)
            .all(&[])
            .environments
            .len()
    });
    let full = time(|| {
        let spec = load(&source, &opts).expect("valid");
        Evaluator::new(&spec, as_of, &facts)
            .all(&[])
            .environments
            .len()
    });
    let evaluation = Evaluator::new(&spec, as_of, &facts).all(&[]);
    let provenance = stagegate_report::Provenance::new(
        stagegate_report::SpecIdentity::of(&source),
        as_of.start_unix_secs(),
    );
    let render = |format| {
        time(|| {
            let report = Report {
                kind: Kind::Check,
                product: "Bench",
                as_of,
                source: &source,
                environments: &evaluation.environments,
                provenance: &provenance,
            };
            let mut sink = Vec::with_capacity(64 << 20);
            report
                .render(format, Options::default(), &mut sink)
                .expect("render");
            sink.len()
        })
    };
    let json = render(Format::Json);
    let text_report = render(Format::Text);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "spec: {ENVIRONMENTS} environments, 10 servers and 5 checks each, {:.1} MB",
        text.len() as f64 / 1e6
    );
    println!("median of {RUNS} runs:");
    println!("  toml parse only (DeTable)      {:>9.1} ms", ms(parse));
    println!("  load (parse+decode+validate)   {:>9.1} ms", ms(load_only));
    println!("  evaluate rules                 {:>9.1} ms", ms(eval));
    println!("  load + evaluate (full check)   {:>9.1} ms", ms(full));
    println!("  render json                    {:>9.1} ms", ms(json));
    println!(
        "  render text                    {:>9.1} ms",
        ms(text_report)
    );
    println!(
        "rule evaluation adds {:.0}% over loading; full check is {:.2}x toml parsing",
        100.0 * ms(eval) / ms(load_only),
        ms(full) / ms(parse)
    );
}
