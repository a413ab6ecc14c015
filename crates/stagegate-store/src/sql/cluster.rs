//! Cluster nodes, their votes and the leadership.

use async_trait::async_trait;
use sqlx::Row;

use super::rows::from_row;
use super::*;
use crate::model::*;
use crate::{Cluster, Result};

macro_rules! cluster_impl {
    ($store:ident, $db:ty, greatest = $greatest:literal, json_list = $json_list:literal) => {
        #[async_trait]
        impl Cluster for $store {
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
                rows.iter().map(from_row::<Vote, _>).collect()
            }
            async fn try_lead(&self) -> Result<bool> {
                self.lead().await
            }
        }
    };
}

cluster_impl!(
    SqliteStore,
    sqlx::Sqlite,
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)"
);
cluster_impl!(
    PostgresStore,
    sqlx::Postgres,
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))"
);
