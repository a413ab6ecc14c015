//! Findings: one per rule and environment, with the facts that decided it.

use serde::Serialize;
use stagegate_spec::{Date, Environment, Mode, Span};

use crate::{RuleRef, Severity};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Fail,
    Warn,
    Waived,
    Pass,
    Skip,
}

impl Status {
    /// Fail, warn or waived: something that does not hold.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Fail | Status::Warn | Status::Waived)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Waived => "waived",
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ready,
    Blocked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::Blocked => "blocked",
        }
    }
}

/// A waiver that matched a finding, and whether it still counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaiverState {
    pub reason: String,
    pub approved_by: Option<String>,
    pub expires: Date,
    pub expired: bool,
    /// Why it does not count in this mode, though unexpired (no approver,
    /// or longer than `policy.waiver_max_days`).
    pub problem: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Finding<'r> {
    pub rule: RuleRef<'r>,
    pub status: Status,
    pub severity: Severity,
    /// The concrete facts, e.g. "backup location fra1 is also where db-1 runs".
    pub message: String,
    /// The table or key concerned; absent only when nothing in the spec fits.
    pub span: Option<Span>,
    pub waiver: Option<WaiverState>,
    /// What the verdict rests on: observations, documents and records the
    /// rule read, strongest kind in `basis`.
    pub evidence: Vec<crate::Evidence>,
    /// The strongest kind of evidence among `evidence` that still counts,
    /// `declared` when the verdict comes from the spec's values alone, and
    /// `none` for a skip.
    pub basis: crate::Basis,
    /// Controls of the product's frameworks that this rule evidences.
    pub controls: crate::frameworks::Controls<'r>,
}

/// Counts of findings by status.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub fail: usize,
    pub warn: usize,
    pub waived: usize,
    pub pass: usize,
    pub skip: usize,
}

/// All findings for one environment, evaluated in one mode.
#[derive(Clone, Debug)]
pub struct EnvironmentResult<'s> {
    pub environment: &'s Environment,
    /// The mode evaluated (a `plan` target, or the environment's own).
    pub mode: Mode,
    pub findings: Vec<Finding<'s>>,
}

impl EnvironmentResult<'_> {
    pub fn name(&self) -> &str {
        &self.environment.name.value
    }

    pub fn verdict(&self) -> Verdict {
        if self.findings.iter().any(|f| f.status == Status::Fail) {
            Verdict::Blocked
        } else {
            Verdict::Ready
        }
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for f in &self.findings {
            match f.status {
                Status::Fail => s.fail += 1,
                Status::Warn => s.warn += 1,
                Status::Waived => s.waived += 1,
                Status::Pass => s.pass += 1,
                Status::Skip => s.skip += 1,
            }
        }
        s
    }
}
