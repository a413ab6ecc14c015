//! Heartbeat pings.

use async_trait::async_trait;
use sqlx::Row;

use super::*;
use crate::model::*;
use crate::{Pings, Result};

macro_rules! pings_impl {
    ($store:ident, $db:ty, greatest = $greatest:literal, json_list = $json_list:literal) => {
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
        }

        #[async_trait]
        impl Pings for $store {
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
        }
    };
}

pings_impl!(
    SqliteStore,
    sqlx::Sqlite,
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)"
);
pings_impl!(
    PostgresStore,
    sqlx::Postgres,
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))"
);
