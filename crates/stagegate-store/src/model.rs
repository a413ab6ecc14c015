//! What the store keeps. Times are milliseconds since the Unix epoch (UTC):
//! one integer type both backends store and compare exactly.

use serde::Serialize;

pub type Millis = i64;

/// Milliseconds since the epoch, now.
pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// One probe's verdict.
    Outcome { Pass = "pass", Fail = "fail", Skip = "skip" }
);

text_enum!(
    /// A check's confirmed state, after flap control.
    CheckStatus { Unknown = "unknown", Up = "up", Down = "down" }
);

text_enum!(
    IncidentState { Open = "open", Acknowledged = "acknowledged", Resolved = "resolved" }
);

text_enum!(
    /// Healthchecks.io-compatible ping signals.
    PingKind { Success = "success", Start = "start", Fail = "fail", Log = "log", Exit = "exit" }
);

text_enum!(
    /// What a token may do. `agent` stands apart: it may only send the
    /// reports of the server it is named after, and reads nothing.
    Role { Viewer = "viewer", Operator = "operator", Approver = "approver", Admin = "admin", Agent = "agent" }
);

/// A probe result to record.
#[derive(Clone, Debug, PartialEq)]
pub struct NewResult {
    /// `environment/check`.
    pub check: String,
    /// The node that ran the probe, and where it stands (cluster mode).
    pub node: String,
    pub location: String,
    pub started_at: Millis,
    pub outcome: Outcome,
    pub latency_ms: Option<f64>,
    pub summary: String,
    /// The evidence as JSON.
    pub evidence: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredResult {
    pub id: i64,
    pub check: String,
    pub node: String,
    pub location: String,
    pub started_at: Millis,
    pub outcome: Outcome,
    pub latency_ms: Option<f64>,
    pub summary: String,
    pub evidence: String,
}

/// Pass counts over a period, from the hourly rollups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Uptime {
    pub total: u64,
    pub passed: u64,
    pub latency_avg_ms: Option<f64>,
    pub latency_max_ms: Option<f64>,
}

impl Uptime {
    /// Percentage of passing results; `None` without any.
    pub fn percent(&self) -> Option<f64> {
        (self.total > 0).then(|| self.passed as f64 * 100.0 / self.total as f64)
    }
}

/// Flap-control state of a check, kept so a restart resumes where it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckState {
    pub check: String,
    pub status: CheckStatus,
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
    pub last_run_at: Option<Millis>,
    pub next_run_at: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    pub id: i64,
    pub check: String,
    pub environment: String,
    pub state: IncidentState,
    pub opened_at: Millis,
    pub acknowledged_at: Option<Millis>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<Millis>,
    pub message: String,
    pub last_reminder_at: Option<Millis>,
    /// The incident of a check this one depends on, open when this one
    /// opened (or opened while this one was): this one is not notified,
    /// and resolves with it.
    pub suppressed_by: Option<i64>,
}

/// A public update to an incident: what the status page says about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentUpdate {
    pub id: i64,
    pub incident: i64,
    /// `investigating`, `identified`, `monitoring` or `resolved`.
    pub status: String,
    pub message: String,
    /// The token or user that posted it; never shown publicly.
    pub posted_by: String,
    pub posted_at: Millis,
}

/// Pass counts of one check over one UTC day, from the daily rollups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DailyCount {
    /// Start of the day (UTC), in milliseconds.
    pub day: Millis,
    pub total: u64,
    pub passed: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ping {
    pub token: String,
    pub kind: PingKind,
    pub exit_code: Option<i32>,
    pub run_id: Option<String>,
    pub received_at: Millis,
    pub remote: Option<String>,
    pub body: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredPing {
    pub id: i64,
    #[serde(flatten)]
    pub ping: Ping,
}

/// A notification to deliver at least once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotification {
    /// Unique per event, notifier and contact: enqueueing twice is a no-op.
    pub dedup_key: String,
    pub event: String,
    pub notifier: String,
    pub contact: String,
    /// The event as JSON.
    pub payload: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    pub dedup_key: String,
    pub event: String,
    pub notifier: String,
    pub contact: String,
    pub payload: String,
    pub created_at: Millis,
    pub attempts: u32,
    pub next_attempt_at: Millis,
    pub delivered_at: Option<Millis>,
    pub last_error: Option<String>,
}

/// One delivery attempt, for the delivery log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: i64,
    pub outbox_id: i64,
    pub notifier: String,
    pub contact: String,
    pub event: String,
    pub attempted_at: Millis,
    pub ok: bool,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    /// The public part of the token, used to find it.
    pub prefix: String,
    /// SHA-256 of the whole token, hex.
    pub hash: String,
    pub role: Role,
    pub name: String,
    /// When it stops working; `None` for never.
    pub expires_at: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRecord {
    pub id: i64,
    pub prefix: String,
    #[serde(skip)]
    pub hash: String,
    pub role: Role,
    pub name: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
    /// When it stops working; `None` for never.
    pub expires_at: Option<Millis>,
    /// When it last authorised a request (to the minute).
    pub last_used_at: Option<Millis>,
}

impl TokenRecord {
    /// Whether it may authorise a request at `now`.
    pub fn is_valid(&self, now: Millis) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// A dashboard session to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the session cookie, hex.
    pub hash: String,
    /// The token the session was opened with.
    pub token_prefix: String,
    /// The anti-forgery token forms must echo.
    pub csrf: String,
    pub expires_at: Millis,
}

/// A live session and the token behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub token: TokenRecord,
    pub csrf: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPromotion {
    pub environment: String,
    pub from_mode: String,
    pub to_mode: String,
    pub promoted_by: String,
    /// SHA-256 of the report the promotion was decided on.
    pub digest: String,
    /// The report (JSON).
    pub report: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Promotion {
    pub id: i64,
    pub environment: String,
    pub from_mode: String,
    pub to_mode: String,
    pub promoted_by: String,
    pub promoted_at: Millis,
    pub digest: String,
    #[serde(skip)]
    pub report: String,
}

/// A restore drill to record.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDrill {
    pub environment: String,
    pub finished_at: Millis,
    pub seconds: f64,
    pub ok: bool,
    pub message: String,
    /// `command` or `restic`.
    pub method: String,
    /// The server node that ran it.
    pub node: String,
}

/// A recorded restore drill.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drill {
    pub id: i64,
    pub environment: String,
    pub finished_at: Millis,
    pub seconds: f64,
    pub ok: bool,
    pub message: String,
    pub method: String,
    pub node: String,
}

/// A node of a cluster, as it last reported itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeRecord {
    pub name: String,
    pub location: String,
    pub last_seen: Millis,
    /// It cannot reach its reference targets, so its votes do not count.
    pub abstaining: bool,
    pub leader: bool,
}

/// A node's confirmed view of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Vote {
    pub check: String,
    pub node: String,
    pub location: String,
    pub status: CheckStatus,
    pub summary: String,
    pub at: Millis,
}

/// An approval to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApproval {
    pub environment: String,
    pub to_mode: String,
    pub approved_by: String,
    pub expires_at: Millis,
    pub spec_sha256: String,
}

/// An approval of a promotion, for the spec it saw, until it expires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalRecord {
    pub id: i64,
    pub environment: String,
    pub to_mode: String,
    pub approved_by: String,
    pub approved_at: Millis,
    pub expires_at: Millis,
    pub spec_sha256: String,
}

/// A host agent's report to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAgentReport {
    /// The spec's name of the server it reports on.
    pub server: String,
    pub collected_at: Millis,
    pub received_at: Millis,
    /// The report as JSON.
    pub report: String,
    /// The packages with a pending security update.
    pub security_packages: Vec<String>,
}

/// A stored agent report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentReportRecord {
    pub id: i64,
    pub server: String,
    pub collected_at: Millis,
    pub received_at: Millis,
    /// The report as JSON.
    pub report: String,
}

/// A security update pending on a server, and since when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingUpdate {
    pub server: String,
    pub package: String,
    pub first_seen_at: Millis,
}
