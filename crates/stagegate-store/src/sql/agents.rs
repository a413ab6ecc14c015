//! Host agents' reports, and since when each security update has been
//! pending on each server.

use async_trait::async_trait;
use sqlx::Row;

use super::*;
use crate::model::*;
use crate::{Agents, Result};

fn report<R: Row>(row: &R) -> std::result::Result<AgentReportRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(AgentReportRecord {
        id: row.try_get("id")?,
        server: row.try_get("server")?,
        collected_at: row.try_get("collected_at")?,
        received_at: row.try_get("received_at")?,
        report: row.try_get("report")?,
    })
}

macro_rules! agents_impl {
    ($store:ident, $db:ty, json_list = $json_list:literal) => {
        #[async_trait]
        impl Agents for $store {
            async fn record_agent_report(&self, r: &NewAgentReport) -> Result<i64> {
                let packages =
                    serde_json::to_string(&r.security_packages).map_err(|e| StoreError::Corrupt {
                        what: "package list",
                        value: e.to_string(),
                    })?;
                let mut tx = self.pool.begin().await?;
                // Writing first takes SQLite's write lock, so two reports of
                // one server cannot both believe they are the newest.
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO agent_reports (server, collected_at, received_at, report) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(&r.server)
                .bind(r.collected_at)
                .bind(r.received_at)
                .bind(&r.report)
                .fetch_one(&mut *tx)
                .await?;
                let newer: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(collected_at) FROM agent_reports WHERE server = $1 AND id <> $2",
                )
                .bind(&r.server)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                if newer.is_none_or(|n| n <= r.collected_at) {
                    sqlx::query(concat!(
                        "DELETE FROM agent_pending WHERE server = $1 AND package NOT IN (",
                        $json_list,
                        ")"
                    ))
                    .bind(&r.server)
                    .bind(&packages)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(concat!(
                        "INSERT INTO agent_pending (server, package, first_seen_at) SELECT $1, p.value, $3 FROM (",
                        $json_list,
                        ") AS p WHERE true ON CONFLICT (server, package) DO NOTHING"
                    ))
                    .bind(&r.server)
                    .bind(&packages)
                    .bind(r.collected_at)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(concat!(
                    "UPDATE agent_pending SET first_seen_at = $3 WHERE server = $1 AND first_seen_at > $3 AND package IN (",
                    $json_list,
                    ")"
                ))
                .bind(&r.server)
                .bind(&packages)
                .bind(r.collected_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn latest_agent_reports(&self) -> Result<Vec<AgentReportRecord>> {
                let rows = sqlx::query(
                    "SELECT * FROM agent_reports a WHERE id = (SELECT id FROM agent_reports b \
                     WHERE b.server = a.server ORDER BY collected_at DESC, id DESC LIMIT 1) ORDER BY server",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(|r| report(r).map_err(StoreError::Query)).collect()
            }

            async fn agent_reports(&self, server: &str, limit: u32) -> Result<Vec<AgentReportRecord>> {
                let rows = sqlx::query(
                    "SELECT * FROM agent_reports WHERE server = $1 ORDER BY collected_at DESC, id DESC LIMIT $2",
                )
                .bind(server)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(|r| report(r).map_err(StoreError::Query)).collect()
            }

            async fn pending_updates(&self) -> Result<Vec<PendingUpdate>> {
                let rows = sqlx::query(
                    "SELECT server, package, first_seen_at FROM agent_pending ORDER BY server, first_seen_at, package",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(PendingUpdate {
                            server: r.try_get("server")?,
                            package: r.try_get("package")?,
                            first_seen_at: r.try_get("first_seen_at")?,
                        })
                    })
                    .collect()
            }

            async fn prune_agent_reports(&self, before: Millis, keep: u32) -> Result<u64> {
                let done = sqlx::query(
                    "DELETE FROM agent_reports WHERE collected_at < $1 AND id NOT IN (\
                     SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY server \
                     ORDER BY collected_at DESC, id DESC) AS nth FROM agent_reports) AS ranked \
                     WHERE nth <= $2)",
                )
                .bind(before)
                .bind(i64::from(keep))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

agents_impl!(
    SqliteStore,
    sqlx::Sqlite,
    json_list = "SELECT value FROM json_each($2)"
);
agents_impl!(
    PostgresStore,
    sqlx::Postgres,
    json_list = "SELECT jsonb_array_elements_text(CAST($2 AS jsonb)) AS value"
);
