//! Judging a framework's controls for one environment from its findings and
//! the spec's attestations.
//!
//! A control is only ever `met` on positive proof: a passing rule that fully
//! evidences it on observed or document evidence (and nothing mapped to it
//! failing), or a valid attestation with its evidence file. A full-strength
//! pass that rests only on what the spec declares is `declared`; everything
//! else is `not-met`, `waived` or `manual`, so an auditor never reads "met"
//! where nobody looked.

use serde::Serialize;
use stagegate_spec::{Attestation, Date, Framework, Mode, Spec};

use super::{Control, Group, Pack, Strength};
use crate::{
    Basis, CriterionFinding, CriterionResult, EnvironmentResult, FileFacts, Finding, Status,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    NotMet,
    Waived,
    Manual,
    /// Every full-strength rule passes, but only on what the spec says:
    /// nothing stagegate saw or read shows it.
    Declared,
    Met,
    /// Out of scope by the spec's `[[applicability]]` (or, for a PCI DSS
    /// merchant, a requirement for service providers only), with why.
    NotApplicable,
}

impl ControlStatus {
    pub const ALL: [ControlStatus; 6] = [
        ControlStatus::Met,
        ControlStatus::Declared,
        ControlStatus::NotMet,
        ControlStatus::Waived,
        ControlStatus::Manual,
        ControlStatus::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ControlStatus::Met => "met",
            ControlStatus::Declared => "declared",
            ControlStatus::NotMet => "not-met",
            ControlStatus::Waived => "waived",
            ControlStatus::Manual => "manual",
            ControlStatus::NotApplicable => "not-applicable",
        }
    }
}

/// A finding that bears on a control, and how strongly.
#[derive(Clone, Copy, Debug)]
pub struct Evidence<'r> {
    pub finding: &'r Finding<'r>,
    pub strength: Strength,
}

/// Whether an attestation counts on the as-of date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttestationState {
    Valid,
    /// Its `valid_until` has passed.
    Expired,
    /// Its `date` lies after the as-of date.
    NotYet,
    /// The evidence file is missing or empty; the message says which.
    EvidenceUnusable(String),
    /// In soft launch or production, it runs longer than
    /// `policy.attestation_max_days`: (days it runs, the maximum).
    TooLong(i64, u32),
}

impl AttestationState {
    pub fn counts(&self) -> bool {
        *self == AttestationState::Valid
    }
}

#[derive(Debug)]
pub struct ControlAssessment<'r> {
    pub control: &'static Control,
    pub status: ControlStatus,
    /// What the status rests on: the deciding finding's basis, `attested`
    /// for an attestation, `none` for a manual control.
    pub basis: Basis,
    /// Why the control has this status, in one sentence.
    pub reason: String,
    pub evidence: Vec<Evidence<'r>>,
    pub attestation: Option<(&'r Attestation, AttestationState)>,
}

impl<'r> ControlAssessment<'r> {
    /// Ids of the rules mapped to the control (the pack's, then custom ones).
    pub fn rules(&self) -> Vec<&'r str> {
        self.evidence.iter().map(|e| e.finding.rule.id()).collect()
    }
}

/// Every control of one framework, judged for one environment.
#[derive(Debug)]
pub struct FrameworkAssessment<'r> {
    pub pack: &'static Pack,
    pub environment: &'r EnvironmentResult<'r>,
    pub controls: Vec<ControlAssessment<'r>>,
}

impl<'r> FrameworkAssessment<'r> {
    pub fn count(&self, status: ControlStatus) -> usize {
        self.controls.iter().filter(|c| c.status == status).count()
    }

    /// The controls of each of the framework's groups, in published order.
    pub fn groups(&self) -> Vec<GroupAssessment<'_, 'r>> {
        self.controls
            .chunk_by(|a, b| a.control.group == b.control.group)
            .map(|controls| GroupAssessment {
                group: &self.pack.groups[controls[0].control.group],
                controls,
            })
            .collect()
    }
}

/// One group's controls (a PCI DSS requirement, an 800-53 family, ...).
#[derive(Debug)]
pub struct GroupAssessment<'a, 'r> {
    pub group: &'static Group,
    pub controls: &'a [ControlAssessment<'r>],
}

impl GroupAssessment<'_, '_> {
    pub fn count(&self, status: ControlStatus) -> usize {
        self.controls.iter().filter(|c| c.status == status).count()
    }
}

/// Judges every control of `pack` for the environment behind `result`.
pub fn assess<'r>(
    pack: &'static Pack,
    result: &'r EnvironmentResult<'r>,
    spec: &'r Spec,
    as_of: Date,
    files: &FileFacts,
) -> FrameworkAssessment<'r> {
    let controls = pack
        .controls
        .iter()
        .map(|control| assess_control(pack, control, result, spec, as_of, files))
        .collect();
    FrameworkAssessment {
        pack,
        environment: result,
        controls,
    }
}

fn assess_control<'r>(
    pack: &Pack,
    control: &'static Control,
    result: &'r EnvironmentResult<'r>,
    spec: &'r Spec,
    as_of: Date,
    files: &FileFacts,
) -> ControlAssessment<'r> {
    let mut evidence: Vec<Evidence<'r>> = control
        .evidence
        .iter()
        .filter_map(|(id, strength)| {
            result
                .findings
                .iter()
                .find(|f| f.rule.id() == id)
                .map(|finding| Evidence {
                    finding,
                    strength: *strength,
                })
        })
        .collect();
    // Custom rules name the controls they evidence in their own metadata;
    // only those `policy.custom_claims` allows may claim more than support,
    // so a policy anyone can add never makes a control met by itself.
    for finding in &result.findings {
        if let Some(c) = finding
            .controls
            .iter()
            .find(|c| c.framework == pack.framework && c.id == control.id)
            && !evidence
                .iter()
                .any(|e| e.finding.rule.id() == finding.rule.id())
        {
            let custom = matches!(finding.rule, crate::RuleRef::Custom(_));
            let strength = if custom && !spec.policy.may_claim(finding.rule.id()) {
                c.strength.max(Strength::Supports)
            } else {
                c.strength
            };
            evidence.push(Evidence { finding, strength });
        }
    }
    let attestation = attestation_for(pack, control, result, spec, as_of, files);
    if let Some(reason) = not_applicable(pack, control, result, spec) {
        return ControlAssessment {
            control,
            status: ControlStatus::NotApplicable,
            basis: Basis::Declared,
            reason,
            evidence,
            attestation,
        };
    }
    let criterion = criterion_result(pack, control, result, files);
    if let Some(c) = &criterion
        && c.finding.result == CriterionResult::NotApplicable
        && !c.automated
    {
        return ControlAssessment {
            control,
            status: ControlStatus::NotApplicable,
            basis: Basis::Document,
            reason: format!(
                "not applicable in the conformance report {}{}",
                c.path,
                note(&c.finding.detail)
            ),
            evidence,
            attestation,
        };
    }
    let applicable = || evidence.iter().filter(|e| e.finding.status != Status::Skip);
    let audit_holds = || {
        evidence
            .iter()
            .any(|e| e.finding.rule.id() == "SG-A11Y-AUDIT" && e.finding.status == Status::Pass)
    };

    let full_pass = || {
        applicable().filter(|e| e.strength == Strength::Full && e.finding.status == Status::Pass)
    };
    let (status, basis, reason) = if let Some(c) = criterion
        .as_ref()
        .filter(|c| c.finding.result == CriterionResult::Fail)
    {
        (
            ControlStatus::NotMet,
            Basis::Document,
            format!(
                "{} ({}) finds it failing: {}",
                c.path, c.tool, c.finding.detail
            ),
        )
    } else if let Some(e) =
        applicable().find(|e| matches!(e.finding.status, Status::Fail | Status::Warn))
    {
        (
            ControlStatus::NotMet,
            e.finding.basis,
            format!(
                "{} does not hold: {}",
                e.finding.rule.id(),
                e.finding.message
            ),
        )
    } else if let Some(e) = applicable().find(|e| e.finding.status == Status::Waived) {
        let w = e.finding.waiver.as_ref();
        (
            ControlStatus::Waived,
            e.finding.basis,
            format!(
                "{} is waived until {}{}",
                e.finding.rule.id(),
                w.map_or_else(String::new, |w| w.expires.to_string()),
                w.and_then(|w| w.approved_by.as_deref())
                    .map_or_else(String::new, |by| format!(", approved by {by}"))
            ),
        )
    } else if let Some(c) = criterion
        .as_ref()
        .filter(|c| c.finding.result == CriterionResult::Pass && !c.automated && audit_holds())
    {
        (
            ControlStatus::Met,
            Basis::Document,
            format!(
                "the conformance report {} finds it met{}; SG-A11Y-AUDIT holds",
                c.path,
                note(&c.finding.detail)
            ),
        )
    } else if let Some(e) = full_pass().max_by_key(|e| e.finding.basis)
        && e.finding.basis.is_evidence()
    {
        (
            ControlStatus::Met,
            e.finding.basis,
            format!(
                "{} holds on {} evidence: {}",
                e.finding.rule.id(),
                e.finding.basis.as_str(),
                e.finding.message
            ),
        )
    } else if let Some((a, AttestationState::Valid)) = &attestation {
        (
            ControlStatus::Met,
            Basis::Attested,
            format!(
                "attested by {} on {}, valid until {}",
                a.by.value, a.date.value, a.valid_until.value
            ),
        )
    } else if let Some(e) = full_pass().next() {
        (
            ControlStatus::Declared,
            Basis::Declared,
            format!(
                "{} holds only as declared in the spec ({}); nothing stagegate observed or read shows it: observe it (`check --live`, or `stagegate serve` running its checks) or attest it",
                e.finding.rule.id(),
                e.finding.message
            ),
        )
    } else {
        let mut reason = manual_reason(&evidence, attestation.as_ref());
        if let Some(c) = &criterion {
            reason.push_str(&format!("; {}", criterion_manual(c)));
        }
        (ControlStatus::Manual, Basis::None, reason)
    };
    ControlAssessment {
        control,
        status,
        basis,
        reason,
        evidence,
        attestation,
    }
}

/// What an environment's per-criterion accessibility results say of one
/// WCAG success criterion.
struct Criterion<'f> {
    path: &'f str,
    tool: &'f str,
    automated: bool,
    finding: &'f CriterionFinding,
}

fn criterion_result<'f>(
    pack: &Pack,
    control: &Control,
    result: &EnvironmentResult<'_>,
    files: &'f FileFacts,
) -> Option<Criterion<'f>> {
    if pack.framework != Framework::Wcag {
        return None;
    }
    let path = result
        .environment
        .accessibility_audit
        .as_ref()?
        .results
        .as_ref()?;
    let (path, results) = files.audit_results_entry(&path.value)?;
    let results = results.as_ref().ok()?;
    Some(Criterion {
        path,
        tool: &results.tool,
        automated: results.automated,
        finding: results.get(&control.id)?,
    })
}

/// Why results that neither fail nor settle a criterion leave it to a
/// person.
fn criterion_manual(c: &Criterion<'_>) -> String {
    match c.finding.result {
        CriterionResult::Pass if c.automated => format!(
            "{} in {} ({}): automated checks cover part of a criterion",
            c.finding.detail, c.path, c.tool
        ),
        CriterionResult::Pass => format!(
            "the conformance report {} finds it met, but counts only with a current audit (SG-A11Y-AUDIT)",
            c.path
        ),
        CriterionResult::CannotTell => format!(
            "{} ({}) could not tell: {}; a person must look",
            c.path, c.tool, c.finding.detail
        ),
        CriterionResult::NotApplicable => format!(
            "{} ({}) found nothing it applies to, which a tool cannot conclude for a criterion",
            c.path, c.tool
        ),
        CriterionResult::Fail => format!("{} finds it failing", c.path),
    }
}

/// `: note` when there is one.
fn note(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// Why the control is out of scope for this environment, when the spec
/// says so: an `[[applicability]]` entry, or PCI DSS's requirements for
/// service providers only when the product is a merchant.
fn not_applicable(
    pack: &Pack,
    control: &Control,
    result: &EnvironmentResult<'_>,
    spec: &Spec,
) -> Option<String> {
    let env = result.environment.name.value.as_str();
    if let Some(a) = spec.applicability.iter().find(|a| {
        a.framework.value == pack.framework && a.control.value == control.id && a.covers(env)
    }) {
        return Some(format!(
            "not applicable: {} (approved by {})",
            a.reason.value, a.approved_by.value
        ));
    }
    let merchant = spec
        .product
        .pci_role
        .as_ref()
        .is_some_and(|r| r.value == stagegate_spec::PciRole::Merchant);
    let for_providers = control
        .title
        .starts_with("Additional requirement for service providers")
        || control
            .title
            .starts_with("Additional requirement for multi-tenant service providers");
    (pack.framework == stagegate_spec::Framework::PciDss && merchant && for_providers).then(|| {
        "not applicable: a requirement for service providers only, and the product is a merchant (`product.pci_role`)".to_owned()
    })
}

fn manual_reason(
    evidence: &[Evidence<'_>],
    attestation: Option<&(&Attestation, AttestationState)>,
) -> String {
    let ids = |strength: Strength, status: Status| -> Vec<&str> {
        evidence
            .iter()
            .filter(|e| e.strength == strength && e.finding.status == status)
            .map(|e| e.finding.rule.id())
            .collect()
    };
    let verb = |rules: &[&str], one: &str, many: &str| {
        format!(
            "{} {}",
            rules.join(", "),
            if rules.len() == 1 { one } else { many }
        )
    };
    let partial = ids(Strength::Partial, Status::Pass);
    let supports = ids(Strength::Supports, Status::Pass);
    let unjudged = ids(Strength::Full, Status::Skip);
    let mut parts = Vec::new();
    if !partial.is_empty() {
        parts.push(verb(
            &partial,
            "evidences part of it",
            "evidence part of it",
        ));
    }
    if !supports.is_empty() {
        parts.push(verb(
            &supports,
            "supports it without showing it",
            "support it without showing it",
        ));
    }
    if !unjudged.is_empty() {
        parts.push(verb(
            &unjudged,
            "would show it but was not judged here",
            "would show it but were not judged here",
        ));
    }
    let mut reason = if evidence.is_empty() {
        "no rule can judge this control; it needs an attestation".to_owned()
    } else if parts.is_empty() {
        "the rules mapped to it do not apply to this environment; it needs an attestation"
            .to_owned()
    } else {
        format!("{}; the rest needs an attestation", parts.join("; "))
    };
    if let Some((a, state)) = attestation {
        let why = match state {
            AttestationState::Valid => String::new(),
            AttestationState::Expired => format!("expired on {}", a.valid_until.value),
            AttestationState::NotYet => format!("is dated {}, after the as-of date", a.date.value),
            AttestationState::EvidenceUnusable(p) => format!("does not count: {p}"),
            AttestationState::TooLong(days, max) => {
                format!("runs {days} days, longer than policy.attestation_max_days ({max})")
            }
        };
        reason.push_str(&format!("; the attestation by {} {why}", a.by.value));
    }
    reason
}

/// The attestation that decides a control: a valid one if any (the
/// longest-lasting), else the latest one so the report can say why it
/// stopped counting.
fn attestation_for<'r>(
    pack: &Pack,
    control: &Control,
    result: &EnvironmentResult<'_>,
    spec: &'r Spec,
    as_of: Date,
    files: &FileFacts,
) -> Option<(&'r Attestation, AttestationState)> {
    let environment = result.name();
    let limited = matches!(result.mode, Mode::SoftLaunch | Mode::Production);
    let max = spec.policy.attestation_max_days;
    let judged = spec
        .attestations
        .iter()
        .filter(|a| {
            a.framework.value == pack.framework
                && a.control.value == control.id
                && a.covers(environment)
        })
        .map(|a| {
            let state = if a.date.value > as_of {
                AttestationState::NotYet
            } else if a.valid_until.value < as_of {
                AttestationState::Expired
            } else if limited && a.valid_until.value.days_since(a.date.value) > i64::from(max) {
                AttestationState::TooLong(a.valid_until.value.days_since(a.date.value), max)
            } else if let Some(p) = files.state(&a.evidence.value).problem(&a.evidence.value) {
                AttestationState::EvidenceUnusable(p)
            } else {
                AttestationState::Valid
            };
            (a, state)
        });
    let mut best: Option<(&Attestation, AttestationState)> = None;
    for (a, state) in judged {
        let better = match &best {
            None => true,
            Some((b, bs)) => match (state.counts(), bs.counts()) {
                (true, false) => true,
                (false, true) => false,
                _ => a.valid_until.value > b.valid_until.value,
            },
        };
        if better {
            best = Some((a, state));
        }
    }
    best
}
