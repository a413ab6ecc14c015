//! API tokens and the dashboard sessions made from them.

use async_trait::async_trait;
use sqlx::Row;

use super::rows::from_row;
use super::*;
use crate::model::*;
use crate::{Access, Result};

macro_rules! access_impl {
    ($store:ident, $db:ty, greatest = $greatest:literal, json_list = $json_list:literal) => {
        #[async_trait]
        impl Access for $store {
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
                row.as_ref().map(from_row::<TokenRecord, _>).transpose()
            }
            async fn tokens(&self) -> Result<Vec<TokenRecord>> {
                let rows = sqlx::query("SELECT * FROM tokens ORDER BY id").fetch_all(&self.pool).await?;
                rows.iter().map(from_row::<TokenRecord, _>).collect()
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
                            token: from_row::<TokenRecord, _>(row)?,
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
        }
    };
}

access_impl!(
    SqliteStore,
    sqlx::Sqlite,
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)"
);
access_impl!(
    PostgresStore,
    sqlx::Postgres,
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))"
);
