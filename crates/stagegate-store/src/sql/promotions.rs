//! Promotion records.

use async_trait::async_trait;

use super::rows::from_row;
use super::*;
use crate::model::*;
use crate::{Approvals, Promotions, Result};

macro_rules! promotions_impl {
    ($store:ident, $db:ty, greatest = $greatest:literal, json_list = $json_list:literal) => {
        #[async_trait]
        impl Promotions for $store {
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
                from_row::<Promotion, _>(&row)
            }
            async fn promotions(&self, environment: Option<&str>) -> Result<Vec<Promotion>> {
                let rows = sqlx::query(
                    "SELECT * FROM promotions WHERE $1 IS NULL OR environment = $1 ORDER BY promoted_at DESC, id DESC",
                )
                .bind(environment)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(from_row::<Promotion, _>).collect()
            }
        }

        #[async_trait]
        impl Approvals for $store {
            async fn record_approval(&self, a: &NewApproval, at: Millis) -> Result<ApprovalRecord> {
                let row = sqlx::query(
                    "INSERT INTO approvals (environment, to_mode, approved_by, approved_at, expires_at, spec_sha256) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&a.environment)
                .bind(&a.to_mode)
                .bind(&a.approved_by)
                .bind(at)
                .bind(a.expires_at)
                .bind(&a.spec_sha256)
                .fetch_one(&self.pool)
                .await?;
                Ok(ApprovalRecord {
                    id: sqlx::Row::try_get(&row, "id")?,
                    environment: a.environment.clone(),
                    to_mode: a.to_mode.clone(),
                    approved_by: a.approved_by.clone(),
                    approved_at: at,
                    expires_at: a.expires_at,
                    spec_sha256: a.spec_sha256.clone(),
                })
            }
            async fn approvals(&self, environment: &str) -> Result<Vec<ApprovalRecord>> {
                let rows = sqlx::query(
                    "SELECT id, environment, to_mode, approved_by, approved_at, expires_at, spec_sha256 \
                     FROM approvals WHERE environment = $1 ORDER BY approved_at DESC, id DESC LIMIT 1000",
                )
                .bind(environment)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        use sqlx::Row;
                        Ok(ApprovalRecord {
                            id: r.try_get("id")?,
                            environment: r.try_get("environment")?,
                            to_mode: r.try_get("to_mode")?,
                            approved_by: r.try_get("approved_by")?,
                            approved_at: r.try_get("approved_at")?,
                            expires_at: r.try_get("expires_at")?,
                            spec_sha256: r.try_get("spec_sha256")?,
                        })
                    })
                    .collect()
            }
            async fn saw_mode(&self, environment: &str, mode: &str, at: Millis) -> Result<()> {
                sqlx::query(
                    "INSERT INTO environment_modes (environment, mode, first_seen) VALUES ($1, $2, $3) \
                     ON CONFLICT (environment, mode) DO NOTHING",
                )
                .bind(environment)
                .bind(mode)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
            async fn first_seen_in(&self, environment: &str, mode: &str) -> Result<Option<Millis>> {
                Ok(sqlx::query_scalar(
                    "SELECT first_seen FROM environment_modes WHERE environment = $1 AND mode = $2",
                )
                .bind(environment)
                .bind(mode)
                .fetch_optional(&self.pool)
                .await?)
            }
        }
    };
}

promotions_impl!(
    SqliteStore,
    sqlx::Sqlite,
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)"
);
promotions_impl!(
    PostgresStore,
    sqlx::Postgres,
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))"
);
