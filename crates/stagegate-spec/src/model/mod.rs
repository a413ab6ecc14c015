//! The rollout spec as the rest of stagegate sees it: fully decoded, with
//! defaults applied, cross-references checked, and spans kept for findings.

use crate::{Date, Deferred, Duration, Span, Spanned};

mod environment;
mod escalation;
mod kinds;
mod monitoring;
mod rotation;
mod status_page;

pub use environment::*;
pub use escalation::*;
pub use kinds::*;
pub use monitoring::*;
pub use rotation::*;
pub use status_page::*;

/// A whole `stagegate.toml`.
#[derive(Debug, Clone)]
pub struct Spec {
    pub version: u32,
    pub product: Product,
    pub policy: Policy,
    pub contacts: Vec<Contact>,
    pub notifiers: Vec<Notifier>,
    pub environments: Vec<Environment>,
    pub waivers: Vec<Waiver>,
    /// Manual controls attested by a person, with evidence and an expiry.
    pub attestations: Vec<Attestation>,
    /// Controls that do not apply, with why and who agreed.
    pub applicability: Vec<Applicability>,
    /// Files and folders of custom Rego rules, relative to the spec file.
    pub policies: Vec<Spanned<String>>,
    /// Windows in which no promotion is made.
    pub freezes: Vec<Freeze>,
    /// On-call rotations, by id: who `rotation:ID` pages at a moment.
    pub rotations: Vec<Rotation>,
    /// Escalation policies, by id (`monitoring.escalation`).
    pub escalations: Vec<Escalation>,
    /// The spec as written (TOML as JSON, variables unresolved), which is
    /// what custom rules read; kept only when the spec names policies.
    pub document: Option<std::sync::Arc<serde_json::Value>>,
}

impl Spec {
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name.value == name)
    }

    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.id.value == id)
    }

    pub fn rotation(&self, id: &str) -> Option<&Rotation> {
        self.rotations.iter().find(|r| r.id.value == id)
    }

    pub fn escalation(&self, id: &str) -> Option<&Escalation> {
        self.escalations.iter().find(|e| e.id.value == id)
    }

    pub fn notifier(&self, id: &str) -> Option<&Notifier> {
        self.notifiers.iter().find(|n| n.id.value == id)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Product {
    pub name: Spanned<String>,
    pub owner: Option<String>,
    pub supporting_party: Option<String>,
    pub retains_user_data: bool,
    /// Percent, e.g. 99.9.
    pub availability_target: Option<Spanned<f64>>,
    pub rpo: Option<Spanned<Duration>>,
    pub rto: Option<Spanned<Duration>>,
    pub regions: Vec<Spanned<String>>,
    pub data_classes: Vec<Spanned<DataClass>>,
    pub frameworks: Vec<Spanned<Framework>>,
    /// Under PCI DSS: a merchant or a service provider (unknown when
    /// unset: every requirement is assessed).
    pub pci_role: Option<Spanned<PciRole>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub cluster_required_at: f64,
    pub pentest_max_age: Duration,
    pub accessibility_audit_max_age: Duration,
    /// How long one custom policy may take to judge one environment.
    pub policy_timeout: Duration,
    /// Folders besides the spec's own that evidence files may live in.
    pub evidence_roots: Vec<Spanned<String>>,
    /// Observations older than this do not count as observed.
    pub evidence_max_age: Duration,
    /// In soft launch and production, the longest a waiver may run from its
    /// `granted` date.
    pub waiver_max_days: u32,
    /// In soft launch and production, the longest an attestation may run
    /// from its `date`.
    pub attestation_max_days: u32,
    /// `[policy.promotion]`: when present, the promotion gates are required.
    pub promotion: Option<PromotionPolicy>,
    /// The longest a security update may stay pending on a server, counted
    /// from when an agent first reported it (SG-OPS-PATCHES).
    pub patch_max_age: Duration,
    /// Patterns (`ACME-*`) of the custom rules allowed to make a control
    /// `met`: any other custom rule's mappings count as `supports`, so a
    /// policy anyone can drop in cannot claim a control by itself.
    pub custom_claims: Vec<Spanned<String>>,
    pub span: Option<Span>,
}

impl Policy {
    /// Whether custom rule `id` may claim the strength it names.
    pub fn may_claim(&self, id: &str) -> bool {
        self.custom_claims.iter().any(|p| glob(&p.value, id))
    }
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

/// How promotions are gated on what was observed.
#[derive(Debug, Clone)]
pub struct PromotionPolicy {
    /// How long an environment runs in staging before soft launch.
    pub soak_staging: Duration,
    /// How long it runs in soft launch before production.
    pub soak_soft_launch: Duration,
    /// Backup runs that must have reported success, newest first.
    pub backup_runs: u32,
    /// Approvals by others than the one promoting, to production.
    pub approvals: u32,
    /// How long an approval stays valid.
    pub approval_valid_for: Duration,
    pub span: Span,
}

impl Default for PromotionPolicy {
    fn default() -> Self {
        PromotionPolicy {
            soak_staging: Duration::from_secs(3 * 86_400),
            soak_soft_launch: Duration::from_secs(14 * 86_400),
            backup_runs: 3,
            approvals: 1,
            approval_valid_for: Duration::from_secs(7 * 86_400),
            span: Span::default(),
        }
    }
}

impl PromotionPolicy {
    /// How long an environment must run in `mode` before it is promoted
    /// further; `None` for modes without a soak.
    pub fn soak(&self, mode: crate::Mode) -> Option<&Duration> {
        match mode {
            crate::Mode::Staging => Some(&self.soak_staging),
            crate::Mode::SoftLaunch => Some(&self.soak_soft_launch),
            _ => None,
        }
    }
}

/// A window in which no promotion is made (a holiday, a sales event).
#[derive(Debug, Clone)]
pub struct Freeze {
    /// As written: local date and time in `timezone`.
    pub start: Spanned<String>,
    pub end: Spanned<String>,
    pub timezone: Spanned<String>,
    /// The window in Unix seconds, `start` inclusive, `end` exclusive.
    pub from: i64,
    pub until: i64,
    pub reason: String,
    /// The environments it freezes; every one when empty.
    pub environments: Vec<Spanned<String>>,
    pub span: Span,
}

impl Freeze {
    pub fn covers(&self, environment: &str) -> bool {
        self.environments.is_empty() || self.environments.iter().any(|e| e.value == environment)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            cluster_required_at: 99.9,
            pentest_max_age: Duration::from_secs(365 * 86_400),
            accessibility_audit_max_age: Duration::from_secs(365 * 86_400),
            policy_timeout: Duration::from_secs(2),
            evidence_roots: Vec::new(),
            evidence_max_age: Duration::from_secs(7 * 86_400),
            waiver_max_days: 90,
            attestation_max_days: 365,
            promotion: None,
            patch_max_age: Duration::from_secs(14 * 86_400),
            custom_claims: Vec::new(),
            span: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub on_call: bool,
    /// Signs off promotions from staging to soft launch for the client.
    pub signs_off: bool,
    pub notify: Vec<Spanned<String>>,
    pub span: Span,
}

impl Contact {
    /// Whether `who` (a user or token name) is this contact: its id or its
    /// email address, compared without regard to case.
    pub fn is(&self, who: &str) -> bool {
        self.id.value.eq_ignore_ascii_case(who)
            || self
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(who))
    }

    /// A contact is reachable when stagegate has a way to tell them.
    pub fn reachable(&self) -> bool {
        self.email.is_some() || !self.notify.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Notifier {
    pub id: Spanned<String>,
    pub kind: Spanned<NotifierKind>,
    /// Webhook, Slack or PagerDuty events endpoint.
    pub url: Option<Deferred>,
    /// HMAC-SHA256 key for webhook signatures.
    pub secret: Option<Deferred>,
    /// PagerDuty Events v2 routing key.
    pub routing_key: Option<Deferred>,
    /// SMTP server URL for email (`smtp://user:pass@host:587`).
    pub smtp: Option<Deferred>,
    /// Sender address for email.
    pub from: Option<Spanned<String>>,
    /// PEM file of an extra CA the SMTP server's certificate is checked
    /// against (a private mail relay), relative to the spec file.
    pub ca_file: Option<Spanned<String>>,
    /// The channel's credential: Telegram bot token, Matrix access token,
    /// Opsgenie API key, Pushover application token, Gotify application
    /// token. Always through `${NAME}`.
    pub token: Option<Deferred>,
    /// Telegram chat the bot posts to.
    pub chat_id: Option<Spanned<String>>,
    /// Matrix room id (`!abc:example.org`) the messages go to.
    pub room: Option<Spanned<String>>,
    /// Pushover user or group key. Always through `${NAME}`.
    pub user_key: Option<Deferred>,
    /// Whether public status-page updates go through this notifier too.
    pub status_updates: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: Spanned<String>,
    pub environment: Spanned<String>,
    pub reason: String,
    pub expires: Spanned<Date>,
    pub approved_by: Option<String>,
    /// When it was granted: as written, or (filled in by the loader) when
    /// its line was last committed.
    pub granted: Option<Spanned<Date>>,
    pub span: Span,
}

/// A person's statement that a control no rule can judge holds.
#[derive(Debug, Clone)]
pub struct Attestation {
    pub framework: Spanned<Framework>,
    pub control: Spanned<String>,
    /// The environment it is about; every environment when absent.
    pub environment: Option<Spanned<String>>,
    pub by: Spanned<String>,
    pub date: Spanned<Date>,
    /// The document that proves it, relative to the spec file.
    pub evidence: Spanned<String>,
    /// The last day it counts.
    pub valid_until: Spanned<Date>,
    pub note: Option<String>,
    pub span: Span,
}

/// A control that does not apply to the product (a Statement of
/// Applicability's exclusion): why, and who approved leaving it out.
#[derive(Debug, Clone)]
pub struct Applicability {
    pub framework: Spanned<Framework>,
    pub control: Spanned<String>,
    /// The environment it is about; every environment when absent.
    pub environment: Option<Spanned<String>>,
    pub reason: Spanned<String>,
    pub approved_by: Spanned<String>,
    pub span: Span,
}

impl Applicability {
    pub fn covers(&self, environment: &str) -> bool {
        self.environment
            .as_ref()
            .is_none_or(|e| e.value == environment)
    }
}

impl Attestation {
    pub fn covers(&self, environment: &str) -> bool {
        self.environment
            .as_ref()
            .is_none_or(|e| e.value == environment)
    }
}

#[cfg(test)]
mod claims_tests {
    use super::glob;

    #[test]
    fn claim_patterns_match_whole_ids() {
        assert!(glob("ACME-*", "ACME-DB-REPLICA"));
        assert!(glob("ACME-DB-REPLICA", "ACME-DB-REPLICA"));
        assert!(glob("*-REPLICA", "ACME-DB-REPLICA"));
        assert!(glob("A*E-*-R*", "ACME-DB-REPLICA"));
        assert!(!glob("ACME-DB", "ACME-DB-REPLICA"));
        assert!(!glob("OTHER-*", "ACME-DB-REPLICA"));
        assert!(!glob("", "ACME"));
        assert!(glob("*", "ANY"));
    }
}
