//! Flap-control state per check.

use async_trait::async_trait;

use super::rows::from_row;
use super::*;
use crate::model::*;
use crate::{FlapStates, Result};

macro_rules! checks_impl {
    ($store:ident, $db:ty, greatest = $greatest:literal, json_list = $json_list:literal) => {
        #[async_trait]
        impl FlapStates for $store {
            async fn check_state(&self, check: &str) -> Result<Option<CheckState>> {
                let row = sqlx::query("SELECT * FROM check_state WHERE check_key = $1")
                    .bind(check)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(from_row::<CheckState, _>).transpose()
            }
            async fn check_states(&self) -> Result<Vec<CheckState>> {
                let rows = sqlx::query("SELECT * FROM check_state ORDER BY check_key")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(from_row::<CheckState, _>).collect()
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
        }
    };
}

checks_impl!(
    SqliteStore,
    sqlx::Sqlite,
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)"
);
checks_impl!(
    PostgresStore,
    sqlx::Postgres,
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))"
);
