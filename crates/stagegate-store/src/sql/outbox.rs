//! The notification outbox and its delivery log.

use async_trait::async_trait;
use sqlx::Row;

use super::rows::from_row;
use super::*;
use crate::model::*;
use crate::{Outbox, Result};

// Columns as a macro: sqlx takes only static SQL, so queries are built
// with `concat!`.
macro_rules! outbox_columns {
    () => {
        "id, dedup_key, event, notifier, contact, payload, created_at, attempts, next_attempt_at, delivered_at, last_error"
    };
}

macro_rules! outbox_impl {
    ($store:ident, $db:ty, greatest = $greatest:literal, json_list = $json_list:literal) => {
        #[async_trait]
        impl Outbox for $store {
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
                let mut claimed: Vec<Notification> = rows.iter().map(from_row::<Notification, _>).collect::<Result<_>>()?;
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
                row.as_ref().map(from_row::<Notification, _>).transpose()
            }
            async fn incident_notifications(&self, incident: i64) -> Result<Vec<Notification>> {
                // Dedup keys start `incident-ID/`; the prefix holds no
                // LIKE wildcard.
                let rows = sqlx::query(concat!("SELECT ", outbox_columns!(), " FROM outbox WHERE dedup_key LIKE $1 ORDER BY created_at, id"))
                    .bind(format!("incident-{incident}/%"))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(from_row::<Notification, _>).collect()
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
        }
    };
}

outbox_impl!(
    SqliteStore,
    sqlx::Sqlite,
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)"
);
outbox_impl!(
    PostgresStore,
    sqlx::Postgres,
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))"
);
