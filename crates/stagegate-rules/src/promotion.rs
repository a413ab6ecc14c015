//! What a promotion is judged on besides the plan: facts only a server that
//! has watched the environment knows (how long it has run in its mode, its
//! measured availability, open incidents, backup runs, approvals). The
//! server gathers them; `plan --server` fetches them; the SG-PROMO rules
//! read them.

use serde::{Deserialize, Serialize};

/// The facts of one environment's promotion, as of `now`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PromotionFacts {
    pub environment: String,
    /// Unix seconds.
    pub now: i64,
    /// Who is promoting; absent when only planning.
    pub promoter: Option<String>,
    /// SHA-256 of the spec approvals must have seen.
    pub spec_sha256: String,
    /// `node@location` of the server whose records these are.
    pub source: String,
    /// Since when (Unix seconds) the environment runs in its current mode:
    /// its last recorded promotion, else when the server first saw it so.
    pub in_mode_since: Option<i64>,
    /// Where `in_mode_since` comes from, in words.
    pub in_mode_since_from: String,
    /// Measured availability of the checks covering `core`.
    pub availability: Option<Availability>,
    /// Incidents of the environment not yet resolved, in words.
    pub open_incidents: Vec<String>,
    /// The backup's heartbeat runs, newest first; absent without one.
    pub backup_runs: Option<BackupRuns>,
    /// Approvals recorded for the environment, newest first.
    pub approvals: Vec<Approval>,
}

/// Time-weighted availability over a window: a check counts down from the
/// result that confirmed it down until the one that confirmed it up.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    /// Start of the window, Unix seconds (its end is `now`).
    pub from: i64,
    /// Seconds of the window in which a core check was confirmed down.
    pub down_secs: i64,
    /// The checks measured.
    pub checks: Vec<String>,
}

impl Availability {
    /// Percentage of the window with every core check up.
    pub fn percent(&self, now: i64) -> f64 {
        let window = (now - self.from).max(1);
        100.0 * (window - self.down_secs.clamp(0, window)) as f64 / window as f64
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupRuns {
    /// The heartbeat check that reports backup runs.
    pub check: String,
    /// (Unix seconds, succeeded), newest first.
    pub runs: Vec<(i64, bool)>,
}

/// A recorded approval of a promotion.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub id: i64,
    /// Who approved (a user or token name).
    pub by: String,
    /// The mode approved, e.g. `production`.
    pub to: String,
    /// Unix seconds.
    pub at: i64,
    pub expires_at: i64,
    /// The spec it approved.
    pub spec_sha256: String,
}

impl Approval {
    /// Why this approval does not count for a promotion to `to` of the spec
    /// `sha256` at `now`, if it does not.
    pub fn problem(&self, to: &str, sha256: &str, now: i64) -> Option<String> {
        if self.to != to {
            Some(format!(
                "approval #{} by {} is for {}",
                self.id, self.by, self.to
            ))
        } else if self.expires_at <= now {
            Some(format!(
                "approval #{} by {} expired {}",
                self.id,
                self.by,
                stagegate_spec::rfc3339(self.expires_at)
            ))
        } else if self.spec_sha256 != sha256 {
            Some(format!(
                "approval #{} by {} is for another version of the spec (sha256 {})",
                self.id,
                self.by,
                &self.spec_sha256[..self.spec_sha256.len().min(12)]
            ))
        } else {
            None
        }
    }
}
