//! Runs the catalogue over environments and applies waivers.

use stagegate_spec::{Date, Environment, Mode, Spec, Waiver};

use crate::PromotionFacts;
use crate::context::Ctx;
use crate::custom_rules::CustomRules;
use crate::frameworks::Controls;
use crate::rule::{Outcome, RuleRef};
use crate::{
    Basis, EnvironmentResult, Evidence, FileFacts, Finding, LiveEvidence, Severity, Status,
    WaiverState, catalogue,
};

/// Findings for the evaluated environments, as of one date.
#[derive(Clone, Debug)]
pub struct Evaluation<'s> {
    pub as_of: Date,
    pub environments: Vec<EnvironmentResult<'s>>,
}

/// Judges a spec as of one date from facts gathered beforehand: every
/// built-in rule, then the spec's custom rules, each weighed by its
/// severity in the mode and waived where a waiver covers it.
#[derive(Clone, Copy, Debug)]
pub struct Evaluator<'s, 'f> {
    spec: &'s Spec,
    as_of: Date,
    files: &'f FileFacts,
    live: Option<&'f LiveEvidence>,
    custom: Option<&'s CustomRules>,
    now: i64,
    promotion: Option<&'f PromotionFacts>,
}

impl<'s, 'f> Evaluator<'s, 'f> {
    pub fn new(spec: &'s Spec, as_of: Date, files: &'f FileFacts) -> Self {
        Evaluator {
            spec,
            as_of,
            files,
            live: None,
            custom: None,
            now: as_of.end_unix_secs(),
            promotion: None,
        }
    }

    /// A server's facts about a promotion, for the SG-PROMO rules (which
    /// skip without them).
    pub fn promotion(self, promotion: Option<&'f PromotionFacts>) -> Self {
        Evaluator { promotion, ..self }
    }

    /// The instant of evaluation, in Unix seconds, against which the age of
    /// observations is judged (default: the end of the as-of day).
    pub fn now(self, now: i64) -> Self {
        Evaluator { now, ..self }
    }

    /// Probe observations, for the live rules.
    pub fn live(self, live: Option<&'f LiveEvidence>) -> Self {
        Evaluator { live, ..self }
    }

    /// The spec's custom rules, judged after the catalogue.
    pub fn custom(self, custom: &'s CustomRules) -> Self {
        Evaluator {
            custom: Some(custom),
            ..self
        }
    }

    /// `envs` (every environment when empty), each in its own mode.
    pub fn all(&self, envs: &[&str]) -> Evaluation<'s> {
        let environments = self
            .spec
            .environments
            .iter()
            .filter(|e| envs.is_empty() || envs.contains(&e.name.value.as_str()))
            .map(|e| self.environment(e, e.mode.value))
            .collect();
        Evaluation {
            as_of: self.as_of,
            environments,
        }
    }

    /// One environment as if its mode were `mode` (what `plan` does).
    pub fn environment(&self, env: &'s Environment, mode: Mode) -> EnvironmentResult<'s> {
        let spec = self.spec;
        let cx = Ctx {
            spec,
            env,
            mode,
            as_of: self.as_of,
            files: self.files,
            live: self.live,
            now: self.now,
            promotion: self.promotion,
            cited: Default::default(),
        };
        let frameworks: Vec<_> = spec.product.frameworks.iter().map(|f| f.value).collect();
        let mut findings: Vec<Finding<'s>> = catalogue()
            .iter()
            .map(|rule| {
                let controls = crate::frameworks::controls_of(rule.id, &frameworks);
                let mut finding =
                    judge(&cx, RuleRef::Builtin(rule), || (rule.check)(&cx), controls);
                finding.evidence.append(&mut cx.cited.take());
                settle_basis(&mut finding);
                finding
            })
            .collect();
        for (rule, outcome) in self
            .custom
            .map(|c| c.evaluate(&env.name.value, mode, self.as_of))
            .unwrap_or_default()
        {
            let controls = match rule {
                RuleRef::Custom(c) => Controls::new(&c.controls, &frameworks),
                RuleRef::Builtin(b) => crate::frameworks::controls_of(b.id, &frameworks),
            };
            let mut finding = judge(&cx, rule, || outcome, controls);
            settle_basis(&mut finding);
            findings.push(finding);
        }
        EnvironmentResult {
            environment: env,
            mode,
            findings,
        }
    }
}

/// One finding: the rule's outcome weighed by its severity in the mode,
/// then waived if a waiver covers it.
fn judge<'r>(
    cx: &Ctx<'_>,
    rule: RuleRef<'r>,
    outcome: impl FnOnce() -> Outcome,
    controls: Controls<'r>,
) -> Finding<'r> {
    let (mode, env, spec) = (cx.mode, cx.env, cx.spec);
    let applies = rule.applies();
    let Some(severity) = applies.in_mode(mode) else {
        return Finding {
            rule,
            status: Status::Skip,
            severity: applies.nominal(),
            message: not_in_mode(applies.modes().iter().map(|(m, _)| *m), mode),
            span: None,
            waiver: None,
            evidence: Vec::new(),
            basis: Basis::None,
            controls,
        };
    };
    let failed = match severity {
        Severity::Required => Status::Fail,
        Severity::Recommended => Status::Warn,
    };
    let mut severity = severity;
    let (status, message, span, evidence) = match outcome() {
        Outcome::Recommend(msg, span) => {
            severity = Severity::Recommended;
            (Status::Warn, msg, span.or(Some(env.span)), Vec::new())
        }
        Outcome::Skip(msg) => (Status::Skip, msg, None, Vec::new()),
        Outcome::Pass(msg, span) => (Status::Pass, msg, span, Vec::new()),
        Outcome::Fail(msg, span) => (failed, msg, span.or(Some(env.span)), Vec::new()),
        Outcome::Observed {
            passed,
            message,
            span,
            evidence,
        } => {
            let mut evidence: Vec<Evidence> =
                evidence.into_iter().map(Evidence::observed).collect();
            let newest = age_observations(&mut evidence, cx.now, &spec.policy.evidence_max_age);
            match newest {
                // What was seen is too old to say anything about now.
                Some(age) if passed && evidence.iter().all(|e| e.stale) => (
                    failed,
                    format!(
                        "{message}, but the newest observation is {} old, older than evidence_max_age {}",
                        stagegate_spec::age(age),
                        spec.policy.evidence_max_age
                    ),
                    span.or(Some(env.span)),
                    evidence,
                ),
                _ => {
                    let status = if passed { Status::Pass } else { failed };
                    (status, message, span.or(Some(env.span)), evidence)
                }
            }
        }
    };
    let mut finding = Finding {
        rule,
        status,
        severity,
        message,
        span,
        waiver: None,
        evidence,
        basis: Basis::None,
        controls,
    };
    apply_waiver(&mut finding, cx);
    finding
}

/// Marks observations older than `max_age` at `now` stale; returns the age
/// of the newest one, if any has a time. Records of events judged by their
/// own period (restore drills, by `every`) are not observations here.
fn age_observations(
    evidence: &mut [Evidence],
    now: i64,
    max_age: &stagegate_spec::Duration,
) -> Option<i64> {
    let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    let mut newest = None;
    for e in evidence.iter_mut().filter(|e| e.observation.is_some()) {
        if let Some(at) = e.at {
            let age = now.saturating_sub(at);
            e.stale = age > max_age;
            newest = Some(newest.map_or(age, |n: i64| n.min(age)));
        }
    }
    newest
}

/// Sets the finding's basis: the strongest evidence that still counts, else
/// what the spec declares (nothing, for a skip).
fn settle_basis(finding: &mut Finding<'_>) {
    let fallback = if finding.status == Status::Skip {
        Basis::None
    } else {
        Basis::Declared
    };
    finding.basis = crate::basis::strongest(&finding.evidence, fallback);
}

fn not_in_mode(applies: impl Iterator<Item = Mode>, mode: Mode) -> String {
    let modes: Vec<&str> = applies.map(Mode::label).collect();
    format!(
        "applies in {} only, not in {}",
        join_or(&modes),
        mode.label()
    )
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The waiver for this rule and environment that decides the finding: an
/// active one if any (the latest-expiring), else the latest expired one so
/// the finding can say when it lapsed.
fn matching_waiver<'a>(
    spec: &'a Spec,
    env: &Environment,
    rule: &str,
    as_of: Date,
) -> Option<&'a Waiver> {
    let candidates = spec
        .waivers
        .iter()
        .filter(|w| w.rule.value == rule && w.environment.value == env.name.value);
    let active = candidates
        .clone()
        .filter(|w| w.expires.value >= as_of)
        .max_by_key(|w| w.expires.value);
    active.or_else(|| candidates.max_by_key(|w| w.expires.value))
}

/// Why a waiver does not count in `mode`, if it does not: in soft launch and
/// production a waiver needs someone who approved it, and may run at most
/// `policy.waiver_max_days` from the day it was granted (by default today:
/// the loader fills in the day its line was committed).
fn waiver_problem(w: &Waiver, mode: Mode, as_of: Date, spec: &Spec) -> Option<String> {
    if !matches!(mode, Mode::SoftLaunch | Mode::Production) {
        return None;
    }
    if w.approved_by.as_deref().is_none_or(|a| a.trim().is_empty()) {
        return Some(format!(
            "the waiver names no `approved_by`, which {} requires",
            mode.label()
        ));
    }
    let granted = w.granted.as_ref().map_or(as_of, |g| g.value);
    if granted > as_of {
        return Some(format!(
            "the waiver is granted on {granted}, after the as-of date {as_of}"
        ));
    }
    let days = w.expires.value.days_since(granted);
    let max = spec.policy.waiver_max_days;
    (days > i64::from(max)).then(|| {
        format!(
            "the waiver runs {days} days, from {granted} to {}, longer than policy.waiver_max_days ({max}) allows in {}",
            w.expires.value,
            mode.label()
        )
    })
}

fn apply_waiver(finding: &mut Finding<'_>, cx: &Ctx<'_>) {
    let (spec, env, as_of) = (cx.spec, cx.env, cx.as_of);
    let Some(w) = matching_waiver(spec, env, finding.rule.id(), as_of) else {
        return;
    };
    // A waiver covers its expiry date: `expires = 2026-12-15` still waives on
    // the 15th and lapses on the 16th.
    let expired = w.expires.value < as_of;
    let problem = waiver_problem(w, cx.mode, as_of, spec);
    let state = WaiverState {
        reason: w.reason.clone(),
        approved_by: w.approved_by.clone(),
        expires: w.expires.value,
        expired,
        problem: problem.clone(),
        span: w.span,
    };
    match finding.status {
        Status::Fail | Status::Warn if expired => {
            finding.message = format!(
                "{}; the waiver expired on {}",
                finding.message, w.expires.value
            );
            finding.waiver = Some(state);
        }
        Status::Fail | Status::Warn if problem.is_some() => {
            finding.message = format!(
                "{}; {}, so it does not waive",
                finding.message,
                problem.unwrap_or_default()
            );
            finding.waiver = Some(state);
        }
        Status::Fail | Status::Warn => {
            finding.status = Status::Waived;
            finding.waiver = Some(state);
        }
        Status::Pass if !expired => {
            finding.message = format!(
                "{}; the waiver until {} is no longer needed and can be removed",
                finding.message, w.expires.value
            );
        }
        _ => {}
    }
}
