//! What a rule is: its identity, where it applies, the guideline it enforces,
//! and how to fix what it finds.

use serde::Serialize;
use stagegate_spec::Mode;

use crate::context::Ctx;

/// How strongly a requirement binds in a mode.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A failure is a `warn`; the environment stays `ready`.
    Recommended,
    /// A failure is a `fail`; the environment is `blocked`.
    Required,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Recommended => "recommended",
            Severity::Required => "required",
        }
    }
}

/// The guideline's areas of resources a rollout needs; `plan` groups what
/// must change by them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Infrastructure,
    Backup,
    Monitoring,
    ProcessesAndStaff,
    Security,
    Compliance,
}

impl Area {
    pub const ALL: [Area; 6] = [
        Area::Infrastructure,
        Area::Backup,
        Area::Monitoring,
        Area::ProcessesAndStaff,
        Area::Security,
        Area::Compliance,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Area::Infrastructure => "Infrastructure",
            Area::Backup => "Backup",
            Area::Monitoring => "Monitoring",
            Area::ProcessesAndStaff => "Processes and staff",
            Area::Security => "Security",
            Area::Compliance => "Compliance",
        }
    }
}

/// The severity of a rule in each mode; `None` where it does not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applies {
    pub development: Option<Severity>,
    pub staging: Option<Severity>,
    pub soft_launch: Option<Severity>,
    pub production: Option<Severity>,
}

const R: Option<Severity> = Some(Severity::Required);
const W: Option<Severity> = Some(Severity::Recommended);
const N: Option<Severity> = None;

impl Applies {
    pub(crate) const fn new(
        d: Option<Severity>,
        s: Option<Severity>,
        sl: Option<Severity>,
        p: Option<Severity>,
    ) -> Self {
        Applies {
            development: d,
            staging: s,
            soft_launch: sl,
            production: p,
        }
    }
    pub(crate) const ANY: Applies = Applies::new(R, R, R, R);
    pub(crate) const DEV: Applies = Applies::new(R, N, N, N);
    pub(crate) const STAGING: Applies = Applies::new(N, R, N, N);
    pub(crate) const STAGING_REC: Applies = Applies::new(N, W, N, N);
    pub(crate) const SOFT: Applies = Applies::new(N, N, R, N);
    pub(crate) const PROD: Applies = Applies::new(N, N, N, R);
    pub(crate) const PROD_REC: Applies = Applies::new(N, N, N, W);
    pub(crate) const SOFT_PROD: Applies = Applies::new(N, N, R, R);
    pub(crate) const SOFT_REC_PROD: Applies = Applies::new(N, N, W, R);
    pub(crate) const STAGING_UP: Applies = Applies::new(N, R, R, R);
    pub(crate) const STAGING_UP_REC: Applies = Applies::new(N, W, W, W);

    /// The same modes, each at `recommended`.
    pub(crate) const fn recommended(self) -> Applies {
        const fn down(s: Option<Severity>) -> Option<Severity> {
            match s {
                Some(_) => W,
                None => N,
            }
        }
        Applies::new(
            down(self.development),
            down(self.staging),
            down(self.soft_launch),
            down(self.production),
        )
    }

    pub fn in_mode(&self, mode: Mode) -> Option<Severity> {
        match mode {
            Mode::Development => self.development,
            Mode::Staging => self.staging,
            Mode::SoftLaunch => self.soft_launch,
            Mode::Production => self.production,
        }
    }

    /// The strongest severity in any mode: what a `skip` finding reports.
    pub fn nominal(&self) -> Severity {
        Mode::ALL
            .iter()
            .filter_map(|m| self.in_mode(*m))
            .max()
            .unwrap_or(Severity::Recommended)
    }

    /// Modes where the rule applies, with their severity.
    pub fn modes(&self) -> Vec<(Mode, Severity)> {
        Mode::ALL
            .iter()
            .filter_map(|m| self.in_mode(*m).map(|s| (*m, s)))
            .collect()
    }
}

/// A built-in rule.
pub struct Rule {
    /// Stable public id, e.g. `SG-BACKUP-OFFSITE`.
    pub id: &'static str,
    pub title: &'static str,
    pub area: Area,
    pub applies: Applies,
    /// A condition beyond the mode ("when a backup exists"), if any.
    pub condition: Option<&'static str>,
    /// The requirement, stated as the contract states it.
    pub requirement: &'static str,
    /// Sentences of the rollout guideline this rule enforces, verbatim.
    pub guideline: &'static [&'static str],
    pub rationale: &'static str,
    pub remediation: &'static str,
    /// A spec fragment that satisfies the rule.
    pub example: &'static str,
    /// Judged from live evidence rather than from the spec.
    pub live: bool,
    pub(crate) check: fn(&Ctx<'_>) -> Outcome,
}

impl Rule {
    /// Where a live rule's observations come from, for people reading
    /// about the rule; `None` for a rule judged from the spec.
    pub fn observed_by(&self) -> Option<&'static str> {
        if !self.live {
            None
        } else if crate::catalogue::reads_agents(self.id) {
            Some(
                "the host agents' reports (`stagegate agent`), kept by the server (`check --server`)",
            )
        } else {
            Some("live probes (`check --live`) or the server's monitors (`check --server`)")
        }
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What a rule's check concludes before severity and waivers are applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// A condition of the rule does not hold; the message says which.
    Skip(String),
    Pass(String, Option<stagegate_spec::Span>),
    Fail(String, Option<stagegate_spec::Span>),
    /// Does not hold, but only as a recommendation whatever the rule's
    /// severity in the mode (a feature the spec has not opted into).
    Recommend(String, Option<stagegate_spec::Span>),
    /// A live rule's verdict with the observations behind it.
    Observed {
        passed: bool,
        message: String,
        span: Option<stagegate_spec::Span>,
        evidence: Vec<crate::Observation>,
    },
}

/// A rule the catalogue does not hold: a team's own, loaded at run time
/// (a Rego policy) and owned by whatever loaded it, so a reload frees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomRule {
    pub id: String,
    pub title: String,
    pub area: Area,
    pub applies: Applies,
    /// Where the rule comes from, e.g. `custom rule from policies/x.rego`.
    pub condition: String,
    pub rationale: String,
    pub remediation: String,
    /// Controls of any framework this rule evidences.
    pub controls: Vec<crate::frameworks::ControlRef>,
}

/// The rule behind a finding: built in (lives as long as the program) or
/// custom (lives as long as the policies that define it).
#[derive(Clone, Copy, Debug)]
pub enum RuleRef<'r> {
    Builtin(&'static Rule),
    Custom(&'r CustomRule),
}

impl<'r> RuleRef<'r> {
    /// Stable public id, e.g. `SG-BACKUP-OFFSITE`.
    pub fn id(self) -> &'r str {
        match self {
            RuleRef::Builtin(r) => r.id,
            RuleRef::Custom(r) => &r.id,
        }
    }

    pub fn title(self) -> &'r str {
        match self {
            RuleRef::Builtin(r) => r.title,
            RuleRef::Custom(r) => &r.title,
        }
    }

    pub fn area(self) -> Area {
        match self {
            RuleRef::Builtin(r) => r.area,
            RuleRef::Custom(r) => r.area,
        }
    }

    pub fn applies(self) -> Applies {
        match self {
            RuleRef::Builtin(r) => r.applies,
            RuleRef::Custom(r) => r.applies,
        }
    }

    /// A condition beyond the mode, if any.
    pub fn condition(self) -> Option<&'r str> {
        match self {
            RuleRef::Builtin(r) => r.condition,
            RuleRef::Custom(r) => Some(&r.condition),
        }
    }

    /// The requirement; a custom rule's title states it.
    pub fn requirement(self) -> &'r str {
        match self {
            RuleRef::Builtin(r) => r.requirement,
            RuleRef::Custom(r) => &r.title,
        }
    }

    /// Guideline sentences the rule enforces; none for custom rules.
    pub fn guideline(self) -> &'static [&'static str] {
        match self {
            RuleRef::Builtin(r) => r.guideline,
            RuleRef::Custom(_) => &[],
        }
    }

    pub fn rationale(self) -> &'r str {
        match self {
            RuleRef::Builtin(r) => r.rationale,
            RuleRef::Custom(r) => &r.rationale,
        }
    }

    pub fn remediation(self) -> &'r str {
        match self {
            RuleRef::Builtin(r) => r.remediation,
            RuleRef::Custom(r) => &r.remediation,
        }
    }

    /// A spec fragment that satisfies the rule; empty for custom rules.
    pub fn example(self) -> &'static str {
        match self {
            RuleRef::Builtin(r) => r.example,
            RuleRef::Custom(_) => "",
        }
    }

    /// Judged from live evidence rather than from the spec.
    pub fn live(self) -> bool {
        matches!(self, RuleRef::Builtin(r) if r.live)
    }
}

impl PartialEq for RuleRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}
