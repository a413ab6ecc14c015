//! Restore drills run under the server.

use async_trait::async_trait;

use super::rows::from_row;
use super::*;
use crate::model::*;
use crate::{Drills, Result};

macro_rules! drills_impl {
    ($store:ident, $db:ty, greatest = $greatest:literal, json_list = $json_list:literal) => {
        #[async_trait]
        impl Drills for $store {
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
                from_row::<Drill, _>(&row)
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
                rows.iter().map(from_row::<Drill, _>).collect()
            }
            async fn last_drills(&self) -> Result<Vec<Drill>> {
                let rows = sqlx::query(
                    "SELECT * FROM drills d WHERE id = (SELECT id FROM drills e WHERE e.environment = d.environment \
                     ORDER BY finished_at DESC, id DESC LIMIT 1) ORDER BY environment",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(from_row::<Drill, _>).collect()
            }
        }
    };
}

drills_impl!(
    SqliteStore,
    sqlx::Sqlite,
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)"
);
drills_impl!(
    PostgresStore,
    sqlx::Postgres,
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))"
);
