//! Command-line arguments as clap parses them; `main` turns them into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use stagegate_spec::{Date, Mode};

/// Takes a product from development to a full production launch: checks every
/// environment of `stagegate.toml` against the requirements of its rollout mode.
#[derive(Debug, Parser)]
#[command(
    name = "stagegate",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate environments against the requirements of their rollout mode.
    ///
    /// Exits 0 when every evaluated environment is ready, 1 when one is
    /// blocked, and 2 when the spec or the command line is invalid.
    Check(CheckArgs),
    /// Show what must change before promoting an environment to another mode.
    Plan(PlanArgs),
    /// Write the compliance report of a framework: every control, its status
    /// and the evidence behind it.
    ///
    /// Exits 0 when no control is `not-met` (manual controls still need an
    /// attestation), 1 when one is, 2 when the spec or command line is invalid.
    Report(ComplianceArgs),
    /// List the rule catalogue or explain one rule.
    Rules(RulesArgs),
    /// Print the JSON Schema of stagegate.toml, for editor completion and validation.
    Schema,
    /// Write a commented starter stagegate.toml.
    Init(InitArgs),
    /// Run the server: monitors, heartbeats, incidents, notifications, API.
    Serve(Box<ServeArgs>),
    /// Run an environment's restore drill, time it against the RTO and record it.
    ///
    /// Exits 0 when the restore succeeded within the RTO, 1 when it failed or
    /// was too slow, 2 when the spec declares no drill for the environment.
    Drill(DrillArgs),
    /// Run a backup or cron job and report it to its heartbeat: a start
    /// ping with a run id, the exit status and the last 10 kB of output.
    ///
    /// The command's output passes through; SIGINT, SIGTERM and SIGHUP are
    /// forwarded to it. Exits with the command's exit status: 124 when
    /// `--timeout` ran out, 126/127 when it could not be started, 128+N when
    /// signal N ended it. A ping that cannot be sent is reported on stderr
    /// and never changes the outcome.
    Run(RunArgs),
    /// Read what this server's state is: pending (security) updates, the
    /// inbound firewall, listening sockets, SSH settings, time sync, disk
    /// use and error-level log lines.
    ///
    /// Each collector that cannot read what it reads says why in the report.
    /// `--dry-run` prints one report; otherwise reports go to `--server`.
    Agent(AgentArgs),
    /// Record that a day-to-day operations duty was done (log monitoring,
    /// backup monitoring, security updates), on a running server.
    Duty {
        #[command(subcommand)]
        command: DutyCommand,
    },
    /// Print who is on call now and who comes next, per rotation.
    ///
    /// Exits 0, or 2 when the spec is invalid or names no such rotation.
    Oncall(OncallArgs),
    /// Record a promotion: refused while the plan to the mode is blocked.
    Promote(PromoteArgs),
    /// Approve promoting an environment to a mode (for the spec as it is
    /// now, until `policy.promotion.approval_valid_for` has passed).
    Approve(ApproveArgs),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Check the server's hash-chained audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Text,
    Json,
    Markdown,
    Sarif,
    Junit,
}

impl From<FormatArg> for stagegate_report::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Text => Self::Text,
            FormatArg::Json => Self::Json,
            FormatArg::Markdown => Self::Markdown,
            FormatArg::Sarif => Self::Sarif,
            FormatArg::Junit => Self::Junit,
        }
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Evaluate date rules (pentest age, waiver expiry) as of this date (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Text format: also list passing and skipped rules.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The spec file.
    #[arg(value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    /// Evaluate only this environment (repeatable).
    #[arg(long = "env", short = 'e', value_name = "NAME")]
    pub envs: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Judge the live rules from what this running server's monitors
    /// observed (its latest results, heartbeats and drills) instead of
    /// probing from here.
    #[arg(long, value_name = "URL", env = "STAGEGATE_SERVER")]
    pub server: Option<String>,
    /// A viewer token for `--server`.
    #[arg(long, value_name = "TOKEN", env = "STAGEGATE_TOKEN")]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Also probe what the spec claims: monitoring checks, backup freshness,
    /// exposed ports and certificates (the live rules).
    #[arg(long)]
    pub live: bool,
    /// Live probes in flight at once.
    #[arg(long, value_name = "N", default_value_t = 32, requires = "live", value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Deadline of one probe attempt, unless a check sets `timeout`.
    #[arg(long, value_name = "DURATION", default_value = "10s", requires = "live", value_parser = parse_duration)]
    pub live_timeout: stagegate_spec::Duration,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The environment to promote.
    #[arg(value_name = "ENV")]
    pub env: String,
    /// The mode to promote to (default: the next mode after the current one).
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub to: Option<Mode>,
    /// The spec file.
    #[arg(value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Judge the promotion gates (soak, availability, incidents, backup
    /// runs, approvals, freezes) and the live rules from this running
    /// server's records.
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: Option<RulesCommand>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule with the modes it applies to.
    List {
        #[arg(long, short = 'f', value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Explain a rule: the guideline it enforces, why, and how to fix it.
    Explain {
        /// Rule id, e.g. SG-BACKUP-OFFSITE.
        rule: String,
        #[arg(long, short = 'f', value_enum, default_value = "text")]
        format: ListFormat,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct InitArgs {
    #[command(subcommand)]
    pub what: Option<InitCommand>,
    /// Where to write the spec (`-` for standard output).
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        default_value = "stagegate.toml"
    )]
    pub output: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// Product name to put in the spec.
    #[arg(long, value_name = "NAME", default_value = "My Product")]
    pub name: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ComplianceFormatArg {
    Text,
    Json,
    Markdown,
    Csv,
    Html,
    /// OSCAL 1.1 assessment results (JSON).
    OscalAr,
    /// OSCAL 1.1 plan of action and milestones (JSON): controls not met,
    /// only declared or waived, with remediation and waiver expiry.
    OscalPoam,
}

impl From<ComplianceFormatArg> for stagegate_report::ComplianceFormat {
    fn from(f: ComplianceFormatArg) -> Self {
        match f {
            ComplianceFormatArg::Text => Self::Text,
            ComplianceFormatArg::Json => Self::Json,
            ComplianceFormatArg::Markdown => Self::Markdown,
            ComplianceFormatArg::Csv => Self::Csv,
            ComplianceFormatArg::Html => Self::Html,
            ComplianceFormatArg::OscalAr => Self::OscalAr,
            ComplianceFormatArg::OscalPoam => Self::OscalPoam,
        }
    }
}

#[derive(Debug, Args)]
pub struct ComplianceArgs {
    /// The framework: gdpr, ccpa, hipaa, pci-dss, fisma, nist-800-171, iso-27001, wcag, section-508.
    #[arg(long, value_name = "ID", value_parser = parse_framework)]
    pub framework: stagegate_spec::Framework,
    /// The spec file.
    #[arg(value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    /// Report only this environment (repeatable).
    #[arg(long = "env", short = 'e', value_name = "NAME")]
    pub envs: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: ComplianceFormatArg,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Judge date rules and attestations as of this date (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Text format: also list the manual controls.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// The environment whose `[backup.drill]` runs.
    #[arg(value_name = "ENV")]
    pub env: String,
    /// The spec file.
    #[arg(value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    /// Run it without appending the result to the drill log.
    #[arg(long)]
    pub no_record: bool,
    /// The restic binary for the built-in restore.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "restic",
        env = "STAGEGATE_RESTIC"
    )]
    pub restic: String,
    /// Have this running server run the drill and keep the result in its
    /// store, instead of running it here.
    #[arg(long, value_name = "URL", requires = "token", env = "STAGEGATE_SERVER")]
    pub server: Option<String>,
    /// An operator token for `--server`.
    #[arg(long, value_name = "TOKEN", env = "STAGEGATE_TOKEN")]
    pub token: Option<String>,
    /// With `--server`: how long to wait for the result.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub wait: stagegate_spec::Duration,
}

#[derive(Debug, Args)]
pub struct OncallArgs {
    /// The rotation; every rotation when absent.
    #[arg(value_name = "ROTATION")]
    pub rotation: Option<String>,
    /// The spec file.
    #[arg(long, value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    /// The moment to ask about (RFC 3339, e.g. 2026-12-24T10:00:00Z),
    /// instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// How many shifts to list after the current one.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub next: usize,
    #[arg(short, long, value_enum, default_value_t = OncallFormat::Text)]
    pub format: OncallFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OncallFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum DutyCommand {
    /// Say that DUTY was done now: the environment's duty heartbeat
    /// (`duty = "..."`) records it, with who did it, and so does the audit
    /// log.
    Done(DutyDoneArgs),
}

#[derive(Debug, Args)]
pub struct DutyDoneArgs {
    /// The duty.
    #[arg(value_name = "DUTY", value_parser = ["log-monitoring", "backup-monitoring", "security-updates"])]
    pub duty: String,
    /// The environment it was done for.
    #[arg(long = "env", short = 'e', value_name = "NAME")]
    pub env: String,
    /// What was done, for the record.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// The running server.
    #[arg(long, value_name = "URL", env = "STAGEGATE_SERVER")]
    pub server: String,
    /// An operator token: its name is who did it.
    #[arg(long, value_name = "TOKEN", env = "STAGEGATE_TOKEN")]
    pub token: String,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The spec's name of this server (the report's `server`); the host
    /// name by default.
    #[arg(long, value_name = "NAME", env = "STAGEGATE_AGENT_NAME")]
    pub name: Option<String>,
    /// The stagegate server to send reports to.
    #[arg(
        long,
        value_name = "URL",
        env = "STAGEGATE_SERVER",
        required_unless_present = "dry_run"
    )]
    pub server: Option<String>,
    /// An `agent` token named after this server
    /// (`stagegate token create --role agent --name NAME`).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "STAGEGATE_TOKEN",
        required_unless_present = "dry_run"
    )]
    pub token: Option<String>,
    /// How often to report.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub interval: stagegate_spec::Duration,
    /// Report once and exit (under a systemd timer or cron): exits 1 when
    /// the report could not be sent and waits in the spool.
    #[arg(long)]
    pub once: bool,
    /// Print one report instead of sending it.
    #[arg(long)]
    pub dry_run: bool,
    /// Where reports wait while the server cannot be reached; they are
    /// sent later, oldest first. `/var/lib/stagegate-agent/spool` for root,
    /// `~/.local/state/stagegate-agent/spool` otherwise.
    #[arg(long, value_name = "DIR", env = "STAGEGATE_AGENT_SPOOL")]
    pub spool: Option<PathBuf>,
    /// The most reports the spool keeps; the oldest go first.
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub spool_max: u32,
    /// How the printed report is written.
    #[arg(long, value_enum, default_value = "text")]
    pub format: AgentFormat,
    /// How far back error-level log lines are counted.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub log_window: stagegate_spec::Duration,
    /// How long one tool (apt-get, nft, journalctl, ...) may take; one
    /// that takes longer (a package manager waiting on its lock) is stopped
    /// and its collector reported unavailable.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub tool_timeout: stagegate_spec::Duration,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AgentFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The heartbeat's ping URL, `https://SERVER/ping/TOKEN` (it holds the
    /// token: keep it in the environment rather than in a crontab).
    #[arg(
        long,
        value_name = "URL",
        env = "STAGEGATE_PING_URL",
        required_unless_present = "check",
        conflicts_with = "check"
    )]
    pub ping: Option<String>,
    /// The heartbeat check, as ENV/CHECK: its token comes from the spec (with
    /// its `${VARIABLES}`), pinged on `--server`.
    #[arg(long, value_name = "ENV/CHECK", requires = "server")]
    pub check: Option<String>,
    /// With `--check`: the server to ping.
    #[arg(long, value_name = "URL", env = "STAGEGATE_SERVER")]
    pub server: Option<String>,
    /// With `--check`: the spec file that declares it.
    #[arg(long, value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    /// Stop the command after this long: SIGTERM, then SIGKILL after
    /// `--kill-after`; the run exits 124.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<stagegate_spec::Duration>,
    /// How long a command stopped by `--timeout` has to exit before SIGKILL.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub kill_after: stagegate_spec::Duration,
    /// Attempts per ping beyond the first, with growing pauses (1 s, 2 s,
    /// 4 s, ... at most 30 s).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub ping_retries: u32,
    /// Send no start ping (the run's duration is then not measured).
    #[arg(long)]
    pub no_start_ping: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Subcommand)]
pub enum InitCommand {
    /// Write a runbook per failure scenario of the guideline, filled from the
    /// spec (contacts, escalation, locations, backup and restore, RPO/RTO).
    ///
    /// Each carries a line marking it an unedited template; SG-OPS-RUNBOOKS
    /// counts it as missing until the team completes it and deletes the line.
    Runbooks(InitRunbooksArgs),
}

#[derive(Debug, Args)]
pub struct InitRunbooksArgs {
    /// Only this environment (default: every soft-launch and production one).
    #[arg(value_name = "ENV")]
    pub env: Option<String>,
    /// The spec file.
    #[arg(long, value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    /// Overwrite runbooks that already exist.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store: sqlite://PATH or postgres://USER@HOST/DB (default: a SQLite
    /// file in the data directory).
    #[arg(long, value_name = "URL", env = "STAGEGATE_DB")]
    pub db: Option<String>,
    /// Where the default SQLite store lives.
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".stagegate",
        env = "STAGEGATE_DATA_DIR"
    )]
    pub data_dir: std::path::PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The spec file.
    #[arg(value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    /// Address to listen on (port 0 picks a free one).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8080",
        env = "STAGEGATE_LISTEN"
    )]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    /// This node's name. With a PostgreSQL store it turns on cluster mode:
    /// every node runs every check, a quorum of locations decides, one
    /// leader notifies.
    #[arg(long, value_name = "NAME", env = "STAGEGATE_NODE")]
    pub node: Option<String>,
    /// Where this node stands (a data centre or region); probes say it in
    /// their User-Agent.
    #[arg(
        long,
        value_name = "LOC",
        default_value = "",
        env = "STAGEGATE_LOCATION"
    )]
    pub location: String,
    /// Cluster mode: a URL this node must reach to count itself connected
    /// (repeatable); when none answers, it abstains from voting.
    #[arg(long = "reference", value_name = "URL")]
    pub reference: Vec<String>,
    /// Cluster mode: the fewest locations whose agreement decides a check
    /// (default: a majority of the locations seen in the last day, at least
    /// 2 once more than one was seen).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_locations: Option<u32>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Export traces to this OTLP/HTTP collector (e.g. http://127.0.0.1:4318);
    /// without it, OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT are honoured.
    #[cfg(feature = "otlp")]
    #[arg(long, value_name = "URL", env = "STAGEGATE_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// How long raw results and heartbeat pings are kept; hourly and daily
    /// rollups stay for good.
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_duration)]
    pub retention: stagegate_spec::Duration,
    /// Pings kept per heartbeat however old they are (its latest runs and
    /// logs stay visible after a long silence).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub keep_pings: u32,
    /// Remind the contacts while an incident stays open and unacknowledged
    /// ("0s" for no reminders).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration_or_zero)]
    pub remind_every: std::time::Duration,
    /// Run each declared restore drill whenever it is due (its `every` has
    /// passed since the last), recording the results in the store.
    #[arg(long)]
    pub run_drills: bool,
    /// How often reminders are sent, retries picked up and cluster nodes
    /// report; heartbeats are judged when pinged and at their deadlines.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration, hide = true)]
    pub tick: stagegate_spec::Duration,
    /// How long a client may take to send a request's headers; also how
    /// long an idle kept-alive connection stays open.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: stagegate_spec::Duration,
    /// How long a client may take to send a request's body.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub body_timeout: stagegate_spec::Duration,
    /// Client connections at once (capped below the open files limit).
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(2..))]
    pub max_connections: u32,
    /// Client connections at once from one address.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_client: u32,
    /// How long a shutdown (SIGTERM, Ctrl-C) waits for requests in flight
    /// before cutting them.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration_or_zero)]
    pub shutdown_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The environment to promote.
    #[arg(value_name = "ENV")]
    pub env: String,
    /// The mode it is promoted to.
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub to: Mode,
    /// The spec file.
    #[arg(value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    /// Who promotes (recorded); default: $USER.
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Record it on a running server instead of a local store.
    #[arg(long, value_name = "URL", requires = "token", env = "STAGEGATE_SERVER")]
    pub server: Option<String>,
    /// An operator token for `--server`.
    #[arg(long, value_name = "TOKEN", env = "STAGEGATE_TOKEN")]
    pub token: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The environment.
    #[arg(value_name = "ENV")]
    pub env: String,
    /// The mode it may be promoted to.
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub to: Mode,
    /// The spec file (for a local store).
    #[arg(value_name = "SPEC", default_value = "stagegate.toml")]
    pub spec: PathBuf,
    /// Record it on a running server (as the token's name) instead of a
    /// local store.
    #[arg(long, value_name = "URL", env = "STAGEGATE_SERVER")]
    pub server: Option<String>,
    /// An approver token for `--server`.
    #[arg(long, value_name = "TOKEN", env = "STAGEGATE_TOKEN")]
    pub token: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create {
        /// What the token may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A name to recognise it by (shown as who acknowledged an incident);
        /// for an agent token, the server it reports for, as the spec
        /// names it.
        #[arg(long, default_value = "api", value_parser = parse_token_name)]
        name: String,
        /// Stop working after this long ("90d"); default: never.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        expires: Option<stagegate_spec::Duration>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List every token: prefix, name, role, created, last used, expiry,
    /// revocation (never a secret).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by its prefix; its dashboard sessions end at once.
    Revoke {
        /// The token's prefix, as `token list` shows it (`sg_` and 8 hex digits).
        #[arg(value_name = "PREFIX")]
        prefix: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the chain of every record; name the first broken one.
    ///
    /// Exits 0 when the chain is intact, 1 when a record was edited,
    /// inserted, deleted or reordered, 2 when the log cannot be read.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// Read the log through this server's API instead of the store.
        #[arg(
            long,
            value_name = "URL",
            env = "STAGEGATE_SERVER",
            conflicts_with = "db"
        )]
        server: Option<String>,
        /// An admin token for `--server`.
        #[arg(long, value_name = "TOKEN", env = "STAGEGATE_TOKEN")]
        token: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Viewer,
    Operator,
    /// An operator who may also approve promotions.
    Approver,
    Admin,
    /// A host agent: may only send the reports of the server it is named
    /// after (`--name db-1`), and reads nothing.
    Agent,
}

impl From<RoleArg> for stagegate_store::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Viewer => Self::Viewer,
            RoleArg::Operator => Self::Operator,
            RoleArg::Approver => Self::Approver,
            RoleArg::Admin => Self::Admin,
            RoleArg::Agent => Self::Agent,
        }
    }
}

fn parse_duration_or_zero(s: &str) -> Result<std::time::Duration, String> {
    stagegate_spec::Duration::parse(s)
        .map(|d| d.get())
        .map_err(|e| format!("{e}: expected a duration such as \"1h\", or \"0s\" for none"))
}

fn parse_duration(s: &str) -> Result<stagegate_spec::Duration, String> {
    match stagegate_spec::Duration::parse(s) {
        Ok(d) if !d.get().is_zero() => Ok(d),
        Ok(_) => Err("must be longer than zero".to_owned()),
        Err(e) => Err(format!(
            "{e}: expected a duration such as \"10s\" or \"1m\""
        )),
    }
}

/// A token's name: shown in lists and the audit log, and an agent token's
/// server, so something a person can read on one line.
fn parse_token_name(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err(
            "is empty: expected a name such as \"ci\", or a server's name for an agent token"
                .to_owned(),
        )
    } else if s.chars().any(char::is_control) {
        Err("contains a control character".to_owned())
    } else if s.chars().count() > 100 {
        Err(format!(
            "is {} characters long; at most 100",
            s.chars().count()
        ))
    } else {
        Ok(s.to_owned())
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    s.parse::<Date>().map_err(|e| e.to_string())
}

fn parse_framework(s: &str) -> Result<stagegate_spec::Framework, String> {
    use stagegate_spec::Framework;
    Framework::parse(s).ok_or_else(|| {
        let hint = stagegate_spec::suggest::did_you_mean(s, Framework::NAMES.iter().copied())
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        format!(
            "unknown framework `{s}`{hint}: expected one of {}",
            Framework::NAMES.join(", ")
        )
    })
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    Mode::parse(s).ok_or_else(|| {
        let hint = stagegate_spec::suggest::did_you_mean(s, Mode::NAMES.iter().copied())
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        format!(
            "unknown mode `{s}`{hint}: expected one of {}",
            Mode::NAMES.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own checks of every command and argument (conflicts and
    /// requirements name arguments that exist, no two share a name).
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
