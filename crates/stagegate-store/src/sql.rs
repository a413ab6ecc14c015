//! The two implementations. Their SQL is the same but for a few dialect
//! words, so one macro writes both; each keeps its own pool and migrations.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::migrate;
use crate::model::*;
use crate::{Result, Store, StoreError};

/// SQLite in WAL mode. A committed transaction survives the process being
/// killed; `synchronous = NORMAL` trades only power-loss durability of the
/// last transactions for write throughput.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
}

/// PostgreSQL, shared by every node of a cluster.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: sqlx::PgPool,
    opts: PgConnectOptions,
    /// A session of its own, outside the pool: the leader's advisory lock
    /// lives and dies with it.
    session: std::sync::Arc<tokio::sync::Mutex<Option<(sqlx::PgConnection, bool)>>>,
}

/// The advisory lock key of the leadership ("stagegate" in ASCII, folded).
const LEADER_KEY: i64 = 0x7374_6167_6567_6174;

impl SqliteStore {
    pub async fn open(url: &str) -> Result<Self> {
        let open_err = |source| StoreError::Open {
            url: url.to_owned(),
            source,
        };
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(open_err)?;
        migrate::run_sqlite(&pool, migrate::SQLITE).await?;
        Ok(SqliteStore { pool })
    }

    /// A SQLite file has one server: it always leads.
    async fn lead(&self) -> Result<bool> {
        Ok(true)
    }
}

impl PostgresStore {
    pub async fn open(url: &str) -> Result<Self> {
        let open_err = |source| StoreError::Open {
            url: mask(url),
            source,
        };
        let opts = PgConnectOptions::from_str(url)
            .map_err(open_err)?
            .application_name("stagegate");
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await
            .map_err(open_err)?;
        migrate::run_postgres(&pool, migrate::POSTGRES).await?;
        Ok(PostgresStore {
            pool,
            opts,
            session: Default::default(),
        })
    }

    /// Leadership by a session-level advisory lock: PostgreSQL releases it
    /// the moment the holder's session ends (crash, kill -9, network loss),
    /// and the holder notices on its next check that the session is gone.
    async fn lead(&self) -> Result<bool> {
        use sqlx::Connection;
        let mut slot = self.session.lock().await;
        if let Some((conn, held)) = slot.as_mut() {
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_err() {
                *slot = None;
            } else if *held {
                return Ok(true);
            }
        }
        if slot.is_none() {
            let conn = sqlx::PgConnection::connect_with(&self.opts).await?;
            *slot = Some((conn, false));
        }
        let Some((conn, held)) = slot.as_mut() else {
            return Ok(false);
        };
        *held = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LEADER_KEY)
            .fetch_one(&mut *conn)
            .await?;
        Ok(*held)
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }
}

/// The URL with any password masked, for messages.
fn mask(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn parse<T>(what: &'static str, value: String, f: fn(&str) -> Option<T>) -> Result<T> {
    f(&value).ok_or(StoreError::Corrupt { what, value })
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

// Column lists as macros: sqlx takes only static SQL, so queries are built
// with `concat!`.
macro_rules! incident_columns {
    () => {
        "id, check_key, environment, state, opened_at, acknowledged_at, acknowledged_by, resolved_at, message, last_reminder_at"
    };
}
macro_rules! outbox_columns {
    () => {
        "id, dedup_key, event, notifier, contact, payload, created_at, attempts, next_attempt_at, delivered_at, last_error"
    };
}

macro_rules! store_impl {
    ($store:ident, $db:ty, backend = $backend:literal, greatest = $greatest:literal, json_list = $json_list:literal) => {
        impl $store {
            /// Newest first; without log pings when `runs_only` (a flood of
            /// logs must not push a run's success out of the window).
            async fn read_pings(&self, token: &str, limit: u32, runs_only: bool) -> Result<Vec<StoredPing>> {
                let sql = if runs_only {
                    "SELECT id, token, kind, exit_code, run_id, received_at, remote, body FROM pings \
                     WHERE token = $1 AND kind <> 'log' ORDER BY received_at DESC, id DESC LIMIT $2"
                } else {
                    "SELECT id, token, kind, exit_code, run_id, received_at, remote, body FROM pings \
                     WHERE token = $1 ORDER BY received_at DESC, id DESC LIMIT $2"
                };
                let rows = sqlx::query(sql)
                .bind(token)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let exit_code: Option<i64> = row.try_get("exit_code")?;
                        Ok(StoredPing {
                            id: row.try_get("id")?,
                            ping: Ping {
                                token: row.try_get("token")?,
                                kind: parse("ping kind", row.try_get("kind")?, PingKind::parse)?,
                                exit_code: exit_code.map(|c| i32::try_from(c).unwrap_or(i32::MAX)),
                                run_id: row.try_get("run_id")?,
                                received_at: row.try_get("received_at")?,
                                remote: row.try_get("remote")?,
                                body: row.try_get("body")?,
                            },
                        })
                    })
                    .collect()
            }


            fn incident_row(row: &<$db as sqlx::Database>::Row) -> Result<Incident> {
                Ok(Incident {
                    id: row.try_get("id")?,
                    check: row.try_get("check_key")?,
                    environment: row.try_get("environment")?,
                    state: parse("incident state", row.try_get("state")?, IncidentState::parse)?,
                    opened_at: row.try_get("opened_at")?,
                    acknowledged_at: row.try_get("acknowledged_at")?,
                    acknowledged_by: row.try_get("acknowledged_by")?,
                    resolved_at: row.try_get("resolved_at")?,
                    message: row.try_get("message")?,
                    last_reminder_at: row.try_get("last_reminder_at")?,
                })
            }

            fn notification_row(row: &<$db as sqlx::Database>::Row) -> Result<Notification> {
                Ok(Notification {
                    id: row.try_get("id")?,
                    dedup_key: row.try_get("dedup_key")?,
                    event: row.try_get("event")?,
                    notifier: row.try_get("notifier")?,
                    contact: row.try_get("contact")?,
                    payload: row.try_get("payload")?,
                    created_at: row.try_get("created_at")?,
                    attempts: count(row.try_get("attempts")?),
                    next_attempt_at: row.try_get("next_attempt_at")?,
                    delivered_at: row.try_get("delivered_at")?,
                    last_error: row.try_get("last_error")?,
                })
            }

            fn token_row(row: &<$db as sqlx::Database>::Row) -> Result<TokenRecord> {
                Ok(TokenRecord {
                    id: row.try_get("id")?,
                    prefix: row.try_get("prefix")?,
                    hash: row.try_get("hash")?,
                    role: parse("token role", row.try_get("role")?, Role::parse)?,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                    expires_at: row.try_get("expires_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                })
            }

            fn promotion_row(row: &<$db as sqlx::Database>::Row) -> Result<Promotion> {
                Ok(Promotion {
                    id: row.try_get("id")?,
                    environment: row.try_get("environment")?,
                    from_mode: row.try_get("from_mode")?,
                    to_mode: row.try_get("to_mode")?,
                    promoted_by: row.try_get("promoted_by")?,
                    promoted_at: row.try_get("promoted_at")?,
                    digest: row.try_get("digest")?,
                    report: row.try_get("report")?,
                })
            }

            fn vote_row(row: &<$db as sqlx::Database>::Row) -> Result<Vote> {
                Ok(Vote {
                    check: row.try_get("check_key")?,
                    node: row.try_get("node")?,
                    location: row.try_get("location")?,
                    status: parse("check status", row.try_get("status")?, CheckStatus::parse)?,
                    summary: row.try_get("summary")?,
                    at: row.try_get("at")?,
                })
            }

            fn drill_row(row: &<$db as sqlx::Database>::Row) -> Result<Drill> {
                Ok(Drill {
                    id: row.try_get("id")?,
                    environment: row.try_get("environment")?,
                    finished_at: row.try_get("finished_at")?,
                    seconds: row.try_get("seconds")?,
                    ok: row.try_get("ok")?,
                    message: row.try_get("message")?,
                    method: row.try_get("method")?,
                    node: row.try_get("node")?,
                })
            }

            /// Inserts a result and folds it into the rollups, inside `tx`.
            async fn insert_result(tx: &mut sqlx::Transaction<'_, $db>, r: &NewResult) -> Result<i64> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO results (check_key, node, location, started_at, status, latency_ms, summary, evidence) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(&r.check)
                .bind(&r.node)
                .bind(&r.location)
                .bind(r.started_at)
                .bind(r.outcome.as_str())
                .bind(r.latency_ms)
                .bind(&r.summary)
                .bind(&r.evidence)
                .fetch_one(&mut **tx)
                .await?;
                if r.outcome != Outcome::Skip {
                    let passed = i64::from(r.outcome == Outcome::Pass);
                    let latency = r.latency_ms.unwrap_or(0.0);
                    for (period, size) in [("hour", HOUR), ("day", DAY)] {
                        sqlx::query(concat!(
                            "INSERT INTO rollups (check_key, period, bucket, total, passed, latency_sum, latency_max) \
                             VALUES ($1, $2, $3, 1, $4, $5, $5) \
                             ON CONFLICT (check_key, period, bucket) DO UPDATE SET \
                             total = rollups.total + 1, passed = rollups.passed + excluded.passed, \
                             latency_sum = rollups.latency_sum + excluded.latency_sum, \
                             latency_max = ",
                            $greatest,
                            "(rollups.latency_max, excluded.latency_max)"
                        ))
                        .bind(&r.check)
                        .bind(period)
                        .bind(r.started_at.div_euclid(size) * size)
                        .bind(passed)
                        .bind(latency)
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                Ok(id)
            }

            fn state_row(row: &<$db as sqlx::Database>::Row) -> Result<CheckState> {
                Ok(CheckState {
                    check: row.try_get("check_key")?,
                    status: parse("check status", row.try_get("status")?, CheckStatus::parse)?,
                    consecutive_failures: count(row.try_get("consecutive_failures")?),
                    consecutive_successes: count(row.try_get("consecutive_successes")?),
                    last_run_at: row.try_get("last_run_at")?,
                    next_run_at: row.try_get("next_run_at")?,
                })
            }
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn health(&self) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE schema_migrations SET applied_at = applied_at WHERE version = 1")
                    .execute(&mut *tx)
                    .await?;
                tx.rollback().await?;
                Ok(())
            }

            async fn record_result(&self, r: &NewResult) -> Result<i64> {
                let mut tx = self.pool.begin().await?;
                let id = Self::insert_result(&mut tx, r).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn record_results(&self, results: &[NewResult]) -> Result<()> {
                if results.is_empty() {
                    return Ok(());
                }
                // One multi-row insert for the results and one upsert per
                // (check, period, bucket) for the rollups, aggregated here:
                // a handful of statements per batch instead of three per
                // result.
                let mut tx = self.pool.begin().await?;
                for chunk in results.chunks(500) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO results (check_key, node, location, started_at, status, latency_ms, summary, evidence) ",
                    );
                    insert.push_values(chunk, |mut row, r| {
                        row.push_bind(r.check.clone())
                            .push_bind(r.node.clone())
                            .push_bind(r.location.clone())
                            .push_bind(r.started_at)
                            .push_bind(r.outcome.as_str())
                            .push_bind(r.latency_ms)
                            .push_bind(r.summary.clone())
                            .push_bind(r.evidence.clone());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                let mut rollups: std::collections::BTreeMap<(&str, &'static str, i64), (i64, i64, f64, f64)> =
                    std::collections::BTreeMap::new();
                for r in results.iter().filter(|r| r.outcome != Outcome::Skip) {
                    let latency = r.latency_ms.unwrap_or(0.0);
                    for (period, size) in [("hour", HOUR), ("day", DAY)] {
                        let e = rollups
                            .entry((r.check.as_str(), period, r.started_at.div_euclid(size) * size))
                            .or_insert((0, 0, 0.0, 0.0));
                        e.0 += 1;
                        e.1 += i64::from(r.outcome == Outcome::Pass);
                        e.2 += latency;
                        e.3 = e.3.max(latency);
                    }
                }
                let rows: Vec<_> = rollups.into_iter().collect();
                for chunk in rows.chunks(500) {
                    let mut upsert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO rollups (check_key, period, bucket, total, passed, latency_sum, latency_max) ",
                    );
                    upsert.push_values(chunk, |mut row, ((check, period, bucket), (total, passed, sum, max))| {
                        row.push_bind((*check).to_owned())
                            .push_bind(*period)
                            .push_bind(*bucket)
                            .push_bind(*total)
                            .push_bind(*passed)
                            .push_bind(*sum)
                            .push_bind(*max);
                    });
                    upsert.push(concat!(
                        " ON CONFLICT (check_key, period, bucket) DO UPDATE SET \
                         total = rollups.total + excluded.total, passed = rollups.passed + excluded.passed, \
                         latency_sum = rollups.latency_sum + excluded.latency_sum, latency_max = ",
                        $greatest,
                        "(rollups.latency_max, excluded.latency_max)"
                    ));
                    upsert.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn recent_results(&self, check: &str, limit: u32) -> Result<Vec<StoredResult>> {
                let rows = sqlx::query(
                    "SELECT id, check_key, node, location, started_at, status, latency_ms, summary, evidence \
                     FROM results WHERE check_key = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
                )
                .bind(check)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(StoredResult {
                            id: row.try_get("id")?,
                            check: row.try_get("check_key")?,
                            node: row.try_get("node")?,
                            location: row.try_get("location")?,
                            started_at: row.try_get("started_at")?,
                            outcome: parse("result status", row.try_get("status")?, Outcome::parse)?,
                            latency_ms: row.try_get("latency_ms")?,
                            summary: row.try_get("summary")?,
                            evidence: row.try_get("evidence")?,
                        })
                    })
                    .collect()
            }

            async fn uptime(&self, check: &str, since: Millis) -> Result<Uptime> {
                let row = sqlx::query(
                    "SELECT CAST(SUM(total) AS BIGINT) AS total, CAST(SUM(passed) AS BIGINT) AS passed, \
                     SUM(latency_sum) AS latency_sum, MAX(latency_max) AS latency_max \
                     FROM rollups WHERE check_key = $1 AND period = 'hour' AND bucket >= $2",
                )
                .bind(check)
                .bind(since.div_euclid(HOUR) * HOUR)
                .fetch_one(&self.pool)
                .await?;
                let total: Option<i64> = row.try_get("total")?;
                let passed: Option<i64> = row.try_get("passed")?;
                let sum: Option<f64> = row.try_get("latency_sum")?;
                let max: Option<f64> = row.try_get("latency_max")?;
                let total = u64::try_from(total.unwrap_or(0)).unwrap_or(0);
                Ok(Uptime {
                    total,
                    passed: u64::try_from(passed.unwrap_or(0)).unwrap_or(0),
                    latency_avg_ms: sum.filter(|_| total > 0).map(|s| s / total as f64),
                    latency_max_ms: max,
                })
            }

            async fn uptimes(&self, since: Millis) -> Result<Vec<(String, Uptime)>> {
                let rows = sqlx::query(
                    "SELECT check_key, CAST(SUM(total) AS BIGINT) AS total, CAST(SUM(passed) AS BIGINT) AS passed, \
                     SUM(latency_sum) AS latency_sum, MAX(latency_max) AS latency_max \
                     FROM rollups WHERE period = 'hour' AND bucket >= $1 GROUP BY check_key ORDER BY check_key",
                )
                .bind(since.div_euclid(HOUR) * HOUR)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let total: i64 = row.try_get("total")?;
                        let passed: i64 = row.try_get("passed")?;
                        let sum: Option<f64> = row.try_get("latency_sum")?;
                        let total = u64::try_from(total).unwrap_or(0);
                        Ok((
                            row.try_get("check_key")?,
                            Uptime {
                                total,
                                passed: u64::try_from(passed).unwrap_or(0),
                                latency_avg_ms: sum.filter(|_| total > 0).map(|s| s / total as f64),
                                latency_max_ms: row.try_get("latency_max")?,
                            },
                        ))
                    })
                    .collect()
            }

            async fn prune_results(&self, before: Millis) -> Result<u64> {
                let done = sqlx::query("DELETE FROM results WHERE started_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn check_state(&self, check: &str) -> Result<Option<CheckState>> {
                let row = sqlx::query("SELECT * FROM check_state WHERE check_key = $1")
                    .bind(check)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::state_row).transpose()
            }

            async fn check_states(&self) -> Result<Vec<CheckState>> {
                let rows = sqlx::query("SELECT * FROM check_state ORDER BY check_key")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::state_row).collect()
            }

            async fn save_check_state(&self, s: &CheckState) -> Result<()> {
                sqlx::query(
                    "INSERT INTO check_state (check_key, status, consecutive_failures, consecutive_successes, last_run_at, next_run_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (check_key) DO UPDATE SET status = excluded.status, \
                     consecutive_failures = excluded.consecutive_failures, consecutive_successes = excluded.consecutive_successes, \
                     last_run_at = excluded.last_run_at, next_run_at = excluded.next_run_at, updated_at = excluded.updated_at",
                )
                .bind(&s.check)
                .bind(s.status.as_str())
                .bind(i64::from(s.consecutive_failures))
                .bind(i64::from(s.consecutive_successes))
                .bind(s.last_run_at)
                .bind(s.next_run_at)
                .bind(now_ms())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn open_incident(&self, check: &str, environment: &str, message: &str, at: Millis) -> Result<Incident> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO incidents (check_key, environment, state, opened_at, message) VALUES ($1, $2, 'open', $3, $4) \
                     ON CONFLICT (check_key) WHERE state <> 'resolved' DO NOTHING",
                )
                .bind(check)
                .bind(environment)
                .bind(at)
                .bind(message)
                .execute(&mut *tx)
                .await?;
                let row = sqlx::query(concat!("SELECT ", incident_columns!(), " FROM incidents WHERE check_key = $1 AND state <> 'resolved'"))
                .bind(check)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Self::incident_row(&row)
            }

            async fn open_incident_for(&self, check: &str) -> Result<Option<Incident>> {
                let row = sqlx::query(concat!("SELECT ", incident_columns!(), " FROM incidents WHERE check_key = $1 AND state <> 'resolved'"))
                .bind(check)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::incident_row).transpose()
            }

            async fn incident(&self, id: i64) -> Result<Option<Incident>> {
                let row = sqlx::query(concat!("SELECT ", incident_columns!(), " FROM incidents WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::incident_row).transpose()
            }

            async fn acknowledge_incident(&self, id: i64, by: &str, at: Millis) -> Result<Option<Incident>> {
                sqlx::query(
                    "UPDATE incidents SET state = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3 \
                     WHERE id = $1 AND state = 'open'",
                )
                .bind(id)
                .bind(at)
                .bind(by)
                .execute(&self.pool)
                .await?;
                self.incident(id).await
            }

            async fn resolve_incident(&self, id: i64, at: Millis) -> Result<Option<Incident>> {
                sqlx::query("UPDATE incidents SET state = 'resolved', resolved_at = $2 WHERE id = $1 AND state <> 'resolved'")
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                self.incident(id).await
            }

            async fn mark_reminded(&self, id: i64, at: Millis) -> Result<()> {
                sqlx::query("UPDATE incidents SET last_reminder_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn incidents(&self, since: Millis, limit: u32) -> Result<Vec<Incident>> {
                let rows = sqlx::query(concat!("SELECT ", incident_columns!(), " FROM incidents WHERE state <> 'resolved' OR resolved_at >= $1 \
                     ORDER BY opened_at DESC, id DESC LIMIT $2"))
                .bind(since)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::incident_row).collect()
            }

            async fn record_ping(&self, p: &Ping) -> Result<i64> {
                let id = sqlx::query_scalar(
                    "INSERT INTO pings (token, kind, exit_code, run_id, received_at, remote, body) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&p.token)
                .bind(p.kind.as_str())
                .bind(p.exit_code.map(i64::from))
                .bind(&p.run_id)
                .bind(p.received_at)
                .bind(&p.remote)
                .bind(&p.body)
                .fetch_one(&self.pool)
                .await?;
                Ok(id)
            }

            async fn record_pings(&self, pings: &[Ping]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                for p in pings {
                    sqlx::query(
                        "INSERT INTO pings (token, kind, exit_code, run_id, received_at, remote, body) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&p.token)
                    .bind(p.kind.as_str())
                    .bind(p.exit_code.map(i64::from))
                    .bind(&p.run_id)
                    .bind(p.received_at)
                    .bind(&p.remote)
                    .bind(&p.body)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn pings(&self, token: &str, limit: u32) -> Result<Vec<StoredPing>> {
                self.read_pings(token, limit, false).await
            }

            async fn run_pings(&self, token: &str, limit: u32) -> Result<Vec<StoredPing>> {
                self.read_pings(token, limit, true).await
            }

            async fn prune_pings(&self, before: Millis, keep: u32) -> Result<u64> {
                let done = sqlx::query(
                    "DELETE FROM pings WHERE received_at < $1 AND id NOT IN (\
                     SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY token ORDER BY received_at DESC, id DESC) AS nth \
                     FROM pings) ranked WHERE nth <= $2)",
                )
                .bind(before)
                .bind(i64::from(keep))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn pinged_since(&self, after: i64) -> Result<Vec<(String, i64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT token, MAX(id) FROM pings WHERE id > $1 GROUP BY token",
                )
                .bind(after)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows)
            }

            async fn enqueue(&self, n: &NewNotification, at: Millis) -> Result<Option<i64>> {
                let id = sqlx::query_scalar(
                    "INSERT INTO outbox (dedup_key, event, notifier, contact, payload, created_at, next_attempt_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                )
                .bind(&n.dedup_key)
                .bind(&n.event)
                .bind(&n.notifier)
                .bind(&n.contact)
                .bind(&n.payload)
                .bind(at)
                .fetch_optional(&self.pool)
                .await?;
                Ok(id)
            }

            async fn claim(
                &self,
                now: Millis,
                lease_ms: i64,
                limit: u32,
                per_notifier: u32,
                skip: &[String],
            ) -> Result<Vec<Notification>> {
                let skip = serde_json::to_string(skip).unwrap_or_else(|_| "[]".to_owned());
                // The conditions are checked again on the row being updated:
                // of two claimers racing for a row, the second finds it
                // claimed and leaves it (PostgreSQL re-evaluates them on the
                // newest row version; SQLite has one writer at a time).
                let rows = sqlx::query(concat!(
                    "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id IN (\
                     SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY notifier ORDER BY id) AS nth \
                     FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $2 \
                     AND (claimed_until IS NULL OR claimed_until < $2) AND notifier NOT IN (", $json_list, ")) ranked \
                     WHERE nth <= $4 ORDER BY id LIMIT $3) \
                     AND delivered_at IS NULL AND (claimed_until IS NULL OR claimed_until < $2) \
                     RETURNING ", outbox_columns!()))
                .bind(now + lease_ms)
                .bind(now)
                .bind(i64::from(limit))
                .bind(i64::from(per_notifier.max(1)))
                .bind(skip)
                .fetch_all(&self.pool)
                .await?;
                let mut claimed: Vec<Notification> = rows.iter().map(Self::notification_row).collect::<Result<_>>()?;
                claimed.sort_by_key(|n| n.id);
                Ok(claimed)
            }

            async fn delivered(&self, id: i64, at: Millis) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE outbox SET delivered_at = $2, claimed_until = NULL, last_error = NULL WHERE id = $1")
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO deliveries (outbox_id, attempted_at, ok, error) VALUES ($1, $2, 1, NULL)")
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn failed(&self, id: i64, at: Millis, error: &str, retry_at: Millis) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE outbox SET next_attempt_at = $2, claimed_until = NULL, last_error = $3 WHERE id = $1")
                    .bind(id)
                    .bind(retry_at)
                    .bind(error)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO deliveries (outbox_id, attempted_at, ok, error) VALUES ($1, $2, 0, $3)")
                    .bind(id)
                    .bind(at)
                    .bind(error)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn notification(&self, id: i64) -> Result<Option<Notification>> {
                let row = sqlx::query(concat!("SELECT ", outbox_columns!(), " FROM outbox WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::notification_row).transpose()
            }

            async fn deliveries(&self, limit: u32) -> Result<Vec<Delivery>> {
                let rows = sqlx::query(
                    "SELECT d.id, d.outbox_id, o.notifier, o.contact, o.event, d.attempted_at, d.ok, d.error \
                     FROM deliveries d JOIN outbox o ON o.id = d.outbox_id ORDER BY d.id DESC LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let ok: i64 = row.try_get("ok")?;
                        Ok(Delivery {
                            id: row.try_get("id")?,
                            outbox_id: row.try_get("outbox_id")?,
                            notifier: row.try_get("notifier")?,
                            contact: row.try_get("contact")?,
                            event: row.try_get("event")?,
                            attempted_at: row.try_get("attempted_at")?,
                            ok: ok != 0,
                            error: row.try_get("error")?,
                        })
                    })
                    .collect()
            }

            async fn outbox_depth(&self) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn create_token(&self, t: &NewToken, at: Millis) -> Result<i64> {
                let id = sqlx::query_scalar(
                    "INSERT INTO tokens (prefix, hash, role, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&t.prefix)
                .bind(&t.hash)
                .bind(t.role.as_str())
                .bind(&t.name)
                .bind(at)
                .bind(t.expires_at)
                .fetch_one(&self.pool)
                .await?;
                Ok(id)
            }

            async fn token(&self, prefix: &str) -> Result<Option<TokenRecord>> {
                let row = sqlx::query("SELECT * FROM tokens WHERE prefix = $1")
                    .bind(prefix)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::token_row).transpose()
            }

            async fn tokens(&self) -> Result<Vec<TokenRecord>> {
                let rows = sqlx::query("SELECT * FROM tokens ORDER BY id").fetch_all(&self.pool).await?;
                rows.iter().map(Self::token_row).collect()
            }

            async fn revoke_token(&self, prefix: &str, at: Millis) -> Result<bool> {
                let done = sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE prefix = $1 AND revoked_at IS NULL")
                    .bind(prefix)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn touch_token(&self, prefix: &str, at: Millis) -> Result<()> {
                sqlx::query("UPDATE tokens SET last_used_at = $2 WHERE prefix = $1")
                    .bind(prefix)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn create_session(&self, s: &NewSession, at: Millis) -> Result<()> {
                sqlx::query(
                    "INSERT INTO sessions (hash, token_prefix, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&s.hash)
                .bind(&s.token_prefix)
                .bind(&s.csrf)
                .bind(at)
                .bind(s.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, hash: &str, now: Millis) -> Result<Option<SessionRecord>> {
                let row = sqlx::query(
                    "SELECT t.*, s.csrf, s.created_at AS session_created_at, s.expires_at AS session_expires_at \
                     FROM sessions s JOIN tokens t ON t.prefix = s.token_prefix \
                     WHERE s.hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL \
                     AND (t.expires_at IS NULL OR t.expires_at > $2)",
                )
                .bind(hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref()
                    .map(|row| {
                        Ok(SessionRecord {
                            token: Self::token_row(row)?,
                            csrf: row.try_get("csrf")?,
                            created_at: row.try_get("session_created_at")?,
                            expires_at: row.try_get("session_expires_at")?,
                        })
                    })
                    .transpose()
            }

            async fn delete_session(&self, hash: &str) -> Result<bool> {
                let done = sqlx::query("DELETE FROM sessions WHERE hash = $1")
                    .bind(hash)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn prune_sessions(&self, now: Millis) -> Result<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn record_promotion(&self, p: &NewPromotion, at: Millis) -> Result<Promotion> {
                let row = sqlx::query(
                    "INSERT INTO promotions (environment, from_mode, to_mode, promoted_by, promoted_at, digest, report) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
                )
                .bind(&p.environment)
                .bind(&p.from_mode)
                .bind(&p.to_mode)
                .bind(&p.promoted_by)
                .bind(at)
                .bind(&p.digest)
                .bind(&p.report)
                .fetch_one(&self.pool)
                .await?;
                Self::promotion_row(&row)
            }

            async fn promotions(&self, environment: Option<&str>) -> Result<Vec<Promotion>> {
                let rows = sqlx::query(
                    "SELECT * FROM promotions WHERE $1 IS NULL OR environment = $1 ORDER BY promoted_at DESC, id DESC",
                )
                .bind(environment)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::promotion_row).collect()
            }

            async fn node_alive(&self, n: &NodeRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO nodes (name, location, last_seen, abstaining, leader) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (name) DO UPDATE SET location = excluded.location, last_seen = excluded.last_seen, \
                     abstaining = excluded.abstaining, leader = excluded.leader",
                )
                .bind(&n.name)
                .bind(&n.location)
                .bind(n.last_seen)
                .bind(n.abstaining)
                .bind(n.leader)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn nodes(&self) -> Result<Vec<NodeRecord>> {
                let rows = sqlx::query("SELECT * FROM nodes ORDER BY name").fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|row| {
                        Ok(NodeRecord {
                            name: row.try_get("name")?,
                            location: row.try_get("location")?,
                            last_seen: row.try_get("last_seen")?,
                            abstaining: row.try_get("abstaining")?,
                            leader: row.try_get("leader")?,
                        })
                    })
                    .collect()
            }

            async fn cast_vote(&self, v: &Vote) -> Result<()> {
                sqlx::query(
                    "INSERT INTO votes (check_key, node, location, status, summary, at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (check_key, node) DO UPDATE SET location = excluded.location, status = excluded.status, \
                     summary = excluded.summary, at = excluded.at",
                )
                .bind(&v.check)
                .bind(&v.node)
                .bind(&v.location)
                .bind(v.status.as_str())
                .bind(&v.summary)
                .bind(v.at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn votes(&self, check: Option<&str>) -> Result<Vec<Vote>> {
                let rows = sqlx::query("SELECT * FROM votes WHERE $1 IS NULL OR check_key = $1 ORDER BY check_key, node")
                    .bind(check)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::vote_row).collect()
            }

            async fn try_lead(&self) -> Result<bool> {
                self.lead().await
            }

            async fn record_drill(&self, d: &NewDrill) -> Result<Drill> {
                let row = sqlx::query(
                    "INSERT INTO drills (environment, finished_at, seconds, ok, message, method, node) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
                )
                .bind(&d.environment)
                .bind(d.finished_at)
                .bind(d.seconds)
                .bind(d.ok)
                .bind(&d.message)
                .bind(&d.method)
                .bind(&d.node)
                .fetch_one(&self.pool)
                .await?;
                Self::drill_row(&row)
            }

            async fn drills(&self, environment: Option<&str>, limit: u32) -> Result<Vec<Drill>> {
                let rows = sqlx::query(
                    "SELECT * FROM drills WHERE $1 IS NULL OR environment = $1 \
                     ORDER BY finished_at DESC, id DESC LIMIT $2",
                )
                .bind(environment)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::drill_row).collect()
            }

            async fn last_drills(&self) -> Result<Vec<Drill>> {
                let rows = sqlx::query(
                    "SELECT * FROM drills d WHERE id = (SELECT id FROM drills e WHERE e.environment = d.environment \
                     ORDER BY finished_at DESC, id DESC LIMIT 1) ORDER BY environment",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::drill_row).collect()
            }
        }
    };
}

store_impl!(
    SqliteStore,
    sqlx::Sqlite,
    backend = "sqlite",
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)"
);
store_impl!(
    PostgresStore,
    sqlx::Postgres,
    backend = "postgres",
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))"
);
