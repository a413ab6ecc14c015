//! Durable state of `stagegate serve`, behind one [`Store`] trait with two
//! implementations: SQLite (the default: one file, WAL, nothing to install)
//! and PostgreSQL (for shared, highly available deployments). Both embed
//! their migrations and run the same test suite.
//!
//! The store knows nothing of HTTP, probes or rules: it keeps results and
//! their hourly/daily rollups, flap-control state, incidents, heartbeat
//! pings, the notification outbox and its delivery log, API tokens and
//! promotion records.

pub mod audit;
mod migrate;
mod model;
mod sql;

use async_trait::async_trait;

pub use model::*;
pub use sql::{PostgresStore, SqliteStore};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no supported backend.
    #[error("unsupported store URL `{0}`: expected sqlite://PATH or postgres://USER@HOST/DB")]
    Url(String),
    /// The database could not be opened or reached.
    #[error("cannot open the store at {url}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    /// A migration did not apply; the store is left as it was.
    #[error("migration {version} ({name}) failed")]
    Migration {
        version: i64,
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The database holds migrations newer than this stagegate knows.
    #[error(
        "the store was migrated by a newer stagegate (schema version {found}, this one knows up to {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("store query failed")]
    Query(#[from] sqlx::Error),
    /// A stored value this version cannot read.
    #[error("unreadable {what} in the store: {value:?}")]
    Corrupt { what: &'static str, value: String },
}

impl StoreError {
    /// Whether trying again later may succeed: the database is unreachable,
    /// starting, out of connections, or another session holds what this one
    /// needs. A node starting beside others waits on these instead of
    /// exiting; a bad URL, a failed migration or a newer schema stay fatal.
    pub fn is_transient(&self) -> bool {
        let (sqlx, opening) = match self {
            StoreError::Open { source, .. } => (source, true),
            StoreError::Query(source) => (source, false),
            StoreError::Migration { source, .. } => (source, false),
            _ => return false,
        };
        match sqlx {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
            // A proxy with no server behind it (PgBouncer, HAProxy) accepts
            // and hangs up, which reads as a garbled handshake.
            sqlx::Error::Protocol(_) => opening,
            sqlx::Error::Tls(_) => false,
            sqlx::Error::Database(db) => {
                // PostgreSQL: too_many_connections, cannot_connect_now,
                // admin/crash shutdown, serialization and deadlock, lock not
                // available. SQLite: SQLITE_BUSY and SQLITE_LOCKED.
                matches!(
                    db.code().as_deref(),
                    Some("53300" | "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "55P03")
                        | Some("5" | "6" | "261" | "262" | "517")
                )
            }
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything the server keeps, one trait per concern. Every method is one
/// transaction: a returned `Ok` means the change is committed.
#[async_trait]
pub trait Store:
    Results
    + FlapStates
    + Incidents
    + Pings
    + Outbox
    + Access
    + Promotions
    + Cluster
    + Drills
    + Audit
    + Approvals
    + Agents
    + Send
    + Sync
    + std::fmt::Debug
{
    /// Which backend, for logs and metrics: "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    /// Proves the store can be written (for `/healthz`).
    async fn health(&self) -> Result<()>;
}

/// Probe results and their hourly and daily rollups.
#[async_trait]
pub trait Results: Send + Sync {
    /// Records a result and folds it into the hourly and daily rollups.
    async fn record_result(&self, r: &NewResult) -> Result<i64>;
    /// Records several results and their rollups in one transaction.
    async fn record_results(&self, results: &[NewResult]) -> Result<()>;
    /// Newest first.
    async fn recent_results(&self, check: &str, limit: u32) -> Result<Vec<StoredResult>>;
    /// The newest result of each of `checks` that has one, in one query:
    /// judging an environment reads every check's latest result, and a
    /// round trip per check is most of that time on a networked store.
    async fn latest_results(&self, checks: &[String]) -> Result<Vec<StoredResult>>;
    /// Pass counts since `since`, from the hourly rollups (raw results may
    /// already be pruned).
    async fn uptime(&self, check: &str, since: Millis) -> Result<Uptime>;
    /// Uptime of every check with results since `since`, by check key.
    async fn uptimes(&self, since: Millis) -> Result<Vec<(String, Uptime)>>;
    /// Daily pass counts of each of `checks` from `since` on, by check key
    /// (days without results are absent), in one query.
    async fn daily_counts(
        &self,
        checks: &[String],
        since: Millis,
    ) -> Result<Vec<(String, DailyCount)>>;
    /// Deletes raw results older than `before`; rollups stay. Returns how
    /// many were deleted.
    async fn prune_results(&self, before: Millis) -> Result<u64>;
}

/// Flap-control state per check.
#[async_trait]
pub trait FlapStates: Send + Sync {
    async fn check_state(&self, check: &str) -> Result<Option<CheckState>>;
    async fn check_states(&self) -> Result<Vec<CheckState>>;
    async fn save_check_state(&self, s: &CheckState) -> Result<()>;
}

/// Incidents: opened, acknowledged, resolved, reminded.
#[async_trait]
pub trait Incidents: Send + Sync {
    /// Opens an incident for `check` (suppressed by incident
    /// `suppressed_by`, when a check it depends on is down), or returns the
    /// one already open.
    async fn open_incident(
        &self,
        check: &str,
        environment: &str,
        message: &str,
        suppressed_by: Option<i64>,
        at: Millis,
    ) -> Result<Incident>;
    /// The incidents suppressed by `parent`, resolved or not, oldest first.
    async fn suppressed_under(&self, parent: i64) -> Result<Vec<Incident>>;
    async fn open_incident_for(&self, check: &str) -> Result<Option<Incident>>;
    async fn incident(&self, id: i64) -> Result<Option<Incident>>;
    /// Open → acknowledged. `None` if no such incident; unchanged if it is
    /// not open.
    async fn acknowledge_incident(&self, id: i64, by: &str, at: Millis)
    -> Result<Option<Incident>>;
    /// Open or acknowledged → resolved.
    async fn resolve_incident(&self, id: i64, at: Millis) -> Result<Option<Incident>>;
    async fn mark_reminded(&self, id: i64, at: Millis) -> Result<()>;
    /// Incidents not resolved, and those resolved since `since`; newest first.
    async fn incidents(&self, since: Millis, limit: u32) -> Result<Vec<Incident>>;
    /// The incidents of `checks` not resolved, and those resolved since
    /// `since`; newest first.
    async fn check_incidents(
        &self,
        checks: &[String],
        since: Millis,
        limit: u32,
    ) -> Result<Vec<Incident>>;
    /// Adds a public update to incident `incident`; `None` if there is no
    /// such incident.
    async fn add_incident_update(
        &self,
        incident: i64,
        status: &str,
        message: &str,
        by: &str,
        at: Millis,
    ) -> Result<Option<IncidentUpdate>>;
    /// The public updates of `incidents`, oldest first.
    async fn incident_updates(&self, incidents: &[i64]) -> Result<Vec<IncidentUpdate>>;
}

/// Heartbeat pings.
#[async_trait]
pub trait Pings: Send + Sync {
    async fn record_ping(&self, p: &Ping) -> Result<i64>;
    /// Records several pings in one transaction (group commit): all or none.
    async fn record_pings(&self, pings: &[Ping]) -> Result<()>;
    /// Newest first.
    async fn pings(&self, token: &str, limit: u32) -> Result<Vec<StoredPing>>;
    /// Newest first, without log pings: what judging a heartbeat needs.
    async fn run_pings(&self, token: &str, limit: u32) -> Result<Vec<StoredPing>>;
    /// Deletes pings received before `before`, except each token's newest
    /// `keep`; returns how many were deleted.
    async fn prune_pings(&self, before: Millis, keep: u32) -> Result<u64>;
    /// Tokens pinged since ping `after` (an id), each with its newest ping's
    /// id: how a cluster's leader learns of pings other nodes received.
    async fn pinged_since(&self, after: i64) -> Result<Vec<(String, i64)>>;
}

/// The notification outbox and its delivery log.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Queues a notification; `None` when one with the same dedup key exists.
    async fn enqueue(&self, n: &NewNotification, at: Millis) -> Result<Option<i64>>;
    /// Claims up to `limit` due notifications for `lease_ms`, at most
    /// `per_notifier` of any one notifier and none of the notifiers in
    /// `skip` (those still busy); a claim that lapses (the claimer died)
    /// makes them due again.
    async fn claim(
        &self,
        now: Millis,
        lease_ms: i64,
        limit: u32,
        per_notifier: u32,
        skip: &[String],
    ) -> Result<Vec<Notification>>;
    /// Records a successful delivery; the notification is never sent again.
    async fn delivered(&self, id: i64, at: Millis) -> Result<()>;
    /// Records a failed attempt and when to try again.
    async fn failed(&self, id: i64, at: Millis, error: &str, retry_at: Millis) -> Result<()>;
    async fn notification(&self, id: i64) -> Result<Option<Notification>>;
    /// The delivery log, newest first.
    async fn deliveries(&self, limit: u32) -> Result<Vec<Delivery>>;
    /// What was queued about incident `incident`, oldest first: who was
    /// paged, when, through what, and whether it arrived.
    async fn incident_notifications(&self, incident: i64) -> Result<Vec<Notification>>;
    /// Notifications not yet delivered.
    async fn outbox_depth(&self) -> Result<u64>;
}

/// API tokens and the dashboard sessions made from them.
#[async_trait]
pub trait Access: Send + Sync {
    async fn create_token(&self, t: &NewToken, at: Millis) -> Result<i64>;
    async fn token(&self, prefix: &str) -> Result<Option<TokenRecord>>;
    async fn tokens(&self) -> Result<Vec<TokenRecord>>;
    /// Revokes the token; its sessions end with it. False when there is
    /// no such token or it was revoked already.
    async fn revoke_token(&self, prefix: &str, at: Millis) -> Result<bool>;
    /// Records that the token authorised a request at `at`.
    async fn touch_token(&self, prefix: &str, at: Millis) -> Result<()>;
    async fn create_session(&self, s: &NewSession, at: Millis) -> Result<()>;
    /// The session with this hash, if it has not expired by `now` and its
    /// token is neither revoked nor expired.
    async fn session(&self, hash: &str, now: Millis) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, hash: &str) -> Result<bool>;
    /// Forgets sessions expired by `now`; returns how many.
    async fn prune_sessions(&self, now: Millis) -> Result<u64>;
}

/// Promotion records.
#[async_trait]
pub trait Promotions: Send + Sync {
    async fn record_promotion(&self, p: &NewPromotion, at: Millis) -> Result<Promotion>;
    /// Newest first; every environment when `None`.
    async fn promotions(&self, environment: Option<&str>) -> Result<Vec<Promotion>>;
}

/// Cluster nodes, their votes and the leadership.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Records that `node` is alive now.
    async fn node_alive(&self, node: &NodeRecord) -> Result<()>;
    async fn nodes(&self) -> Result<Vec<NodeRecord>>;
    async fn cast_vote(&self, vote: &Vote) -> Result<()>;
    /// Every vote, or those on one check.
    async fn votes(&self, check: Option<&str>) -> Result<Vec<Vote>>;
    /// Takes or keeps the leadership of the nodes sharing this store; true
    /// while this process holds it. A single-node store always leads.
    async fn try_lead(&self) -> Result<bool>;
}

/// Restore drills run under the server.
#[async_trait]
pub trait Drills: Send + Sync {
    async fn record_drill(&self, d: &NewDrill) -> Result<Drill>;
    /// Drills, newest first; of one environment when given.
    async fn drills(&self, environment: Option<&str>, limit: u32) -> Result<Vec<Drill>>;
    /// The newest drill of each environment.
    async fn last_drills(&self) -> Result<Vec<Drill>>;
}

/// Approvals of promotions, and when each environment was first seen in
/// each mode (what soak time counts from when no promotion was recorded).
#[async_trait]
pub trait Approvals: Send + Sync {
    async fn record_approval(&self, a: &NewApproval, at: Millis) -> Result<ApprovalRecord>;
    /// The environment's approvals, newest first.
    async fn approvals(&self, environment: &str) -> Result<Vec<ApprovalRecord>>;
    /// Notes that the server sees `environment` in `mode` at `at`; the
    /// first sighting is kept.
    async fn saw_mode(&self, environment: &str, mode: &str, at: Millis) -> Result<()>;
    /// When the server first saw `environment` in `mode`.
    async fn first_seen_in(&self, environment: &str, mode: &str) -> Result<Option<Millis>>;
}

/// Host agents' reports (SPEC.md §11).
#[async_trait]
pub trait Agents: Send + Sync {
    /// Stores a report. When it is its server's newest, the server's
    /// pending security updates become exactly its list, each keeping when
    /// it was first seen; an older one (sent late from an agent's spool)
    /// can only move a first sighting earlier.
    async fn record_agent_report(&self, r: &NewAgentReport) -> Result<i64>;
    /// The newest report of each server.
    async fn latest_agent_reports(&self) -> Result<Vec<AgentReportRecord>>;
    /// The reports of `server`, newest first.
    async fn agent_reports(&self, server: &str, limit: u32) -> Result<Vec<AgentReportRecord>>;
    /// Every pending security update, by server.
    async fn pending_updates(&self) -> Result<Vec<PendingUpdate>>;
    /// Deletes reports collected before `before`, each server's newest
    /// `keep` excepted. Returns how many were deleted.
    async fn prune_agent_reports(&self, before: Millis, keep: u32) -> Result<u64>;
}

/// The hash-chained audit log (see [`audit`]).
#[async_trait]
pub trait Audit: Send + Sync {
    /// Appends a record chained to the last one, at `at`; returns it.
    async fn append_audit(&self, a: &audit::NewAudit, at: Millis) -> Result<audit::AuditRecord>;
    /// Records after `after` (a `seq`), oldest first, at most `limit`.
    async fn audit(&self, after: i64, limit: u32) -> Result<Vec<audit::AuditRecord>>;
    /// Recomputes the whole chain in the store, oldest first: the verifier
    /// (records found intact, head) and the first break, if any.
    async fn verify_audit(&self) -> Result<(audit::ChainVerifier, Option<audit::ChainBreak>)>;
    /// Whether a record of `action` on `subject` exists (facts recorded
    /// the first time they are seen).
    async fn audited(&self, action: &str, subject: &str) -> Result<bool>;
}

/// Every trait of the store, for code that holds a concrete store rather
/// than a `dyn Store`.
pub mod prelude {
    pub use crate::{
        Access, Agents, Approvals, Audit, Cluster, Drills, FlapStates, Incidents, Outbox, Pings,
        Promotions, Results, Store,
    };
}

/// Opens (and migrates) the store a URL names: `sqlite://PATH` (created if
/// missing) or `postgres://...`.
pub async fn open(url: &str) -> Result<Box<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Box::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::Url(url.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn waiting_helps_with_an_unreachable_store_only() {
        let refused = StoreError::Open {
            url: "postgres://x".into(),
            source: sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into()),
        };
        assert!(refused.is_transient());
        assert!(StoreError::Query(sqlx::Error::PoolTimedOut).is_transient());
        assert!(!StoreError::Url("mysql://x".into()).is_transient());
        assert!(!StoreError::TooNew { found: 9, known: 4 }.is_transient());
        assert!(!StoreError::Query(sqlx::Error::RowNotFound).is_transient());
    }
}
