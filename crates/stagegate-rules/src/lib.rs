//! The rule catalogue and the engine that turns a [`Spec`] into findings.
//!
//! Rules judge evidence but never fetch it: file facts (and, later, live
//! results) are gathered by the caller, so evaluation stays pure and fast.

mod audit_results;
mod basis;
mod catalogue;
mod context;
#[cfg(feature = "rego")]
pub mod custom;
mod custom_rules;
mod engine;
mod evidence;
mod finding;
pub mod frameworks;
mod front_matter;
mod promotion;
mod rule;

pub use audit_results::{
    AuditResults, CriterionFinding, CriterionResult, read as read_audit_results,
};
pub use basis::{Basis, Evidence};
pub use catalogue::{catalogue, catalogue_revision, find_rule, rule_ids};
pub use context::{
    DocumentFacts, DrillRecord, FileFacts, FileState, RecordSource, TEMPLATE_MARKER,
};
pub use custom_rules::CustomRules;
pub use engine::{Evaluation, Evaluator};
pub use evidence::{
    AgentFirewall, AgentListener, AgentLogs, AgentObservation, AgentSsh, AgentUpdates,
    CertificateObservation, ExposureObservation, LiveEvidence, Observation, Observed,
    PresentedCertificate, Reading,
};
pub use finding::{EnvironmentResult, Finding, Status, Summary, Verdict, WaiverState};
pub use front_matter::FrontMatter;
pub use promotion::{Approval, Availability, BackupRuns, PromotionFacts};
pub use rule::{Applies, Area, CustomRule, Rule, RuleRef, Severity};
