//! Promotion records.

use async_trait::async_trait;

use super::rows::from_row;
use super::*;
use crate::model::*;
use crate::{Promotions, Result};

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
