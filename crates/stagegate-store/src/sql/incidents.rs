//! Incidents: opened, acknowledged, resolved, reminded.

use async_trait::async_trait;
use sqlx::Row;

use super::rows::from_row;
use super::*;
use crate::model::*;
use crate::{Incidents, Result};

// Columns as a macro: sqlx takes only static SQL, so queries are built
// with `concat!`.
macro_rules! incident_columns {
    () => {
        "id, check_key, environment, state, opened_at, acknowledged_at, acknowledged_by, resolved_at, message, last_reminder_at, suppressed_by"
    };
}

macro_rules! incidents_impl {
    (
        $store:ident,
        $db:ty,
        greatest = $greatest:literal,
        json_list = $json_list:literal,
        updates = $updates:literal,
        of_checks = $of_checks:literal
    ) => {
        #[async_trait]
        impl Incidents for $store {
            async fn open_incident(&self, check: &str, environment: &str, message: &str, suppressed_by: Option<i64>, at: Millis) -> Result<Incident> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO incidents (check_key, environment, state, opened_at, message, suppressed_by) VALUES ($1, $2, 'open', $3, $4, $5) \
                     ON CONFLICT (check_key) WHERE state <> 'resolved' DO NOTHING",
                )
                .bind(check)
                .bind(environment)
                .bind(at)
                .bind(message)
                .bind(suppressed_by)
                .execute(&mut *tx)
                .await?;
                let row = sqlx::query(concat!("SELECT ", incident_columns!(), " FROM incidents WHERE check_key = $1 AND state <> 'resolved'"))
                .bind(check)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                from_row::<Incident, _>(&row)
            }
            async fn suppressed_under(&self, parent: i64) -> Result<Vec<Incident>> {
                let rows = sqlx::query(concat!("SELECT ", incident_columns!(), " FROM incidents WHERE suppressed_by = $1 ORDER BY opened_at, id"))
                    .bind(parent)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(from_row::<Incident, _>).collect()
            }
            async fn open_incident_for(&self, check: &str) -> Result<Option<Incident>> {
                let row = sqlx::query(concat!("SELECT ", incident_columns!(), " FROM incidents WHERE check_key = $1 AND state <> 'resolved'"))
                .bind(check)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(from_row::<Incident, _>).transpose()
            }
            async fn incident(&self, id: i64) -> Result<Option<Incident>> {
                let row = sqlx::query(concat!("SELECT ", incident_columns!(), " FROM incidents WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(from_row::<Incident, _>).transpose()
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
                rows.iter().map(from_row::<Incident, _>).collect()
            }
            async fn check_incidents(&self, checks: &[String], since: Millis, limit: u32) -> Result<Vec<Incident>> {
                if checks.is_empty() {
                    return Ok(Vec::new());
                }
                let keys = json_list("check keys", checks)?;
                let rows = sqlx::query($of_checks)
                    .bind(keys)
                    .bind(since)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(from_row::<Incident, _>).collect()
            }
            async fn add_incident_update(&self, incident: i64, status: &str, message: &str, by: &str, at: Millis) -> Result<Option<IncidentUpdate>> {
                let mut tx = self.pool.begin().await?;
                let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM incidents WHERE id = $1")
                    .bind(incident)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    return Ok(None);
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO incident_updates (incident_id, status, message, posted_by, posted_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(incident)
                .bind(status)
                .bind(message)
                .bind(by)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Some(IncidentUpdate {
                    id,
                    incident,
                    status: status.to_owned(),
                    message: message.to_owned(),
                    posted_by: by.to_owned(),
                    posted_at: at,
                }))
            }
            async fn incident_updates(&self, incidents: &[i64]) -> Result<Vec<IncidentUpdate>> {
                if incidents.is_empty() {
                    return Ok(Vec::new());
                }
                let ids = json_list("incident ids", incidents)?;
                let rows = sqlx::query($updates)
                    .bind(ids)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(IncidentUpdate {
                            id: row.try_get("id")?,
                            incident: row.try_get("incident_id")?,
                            status: row.try_get("status")?,
                            message: row.try_get("message")?,
                            posted_by: row.try_get("posted_by")?,
                            posted_at: row.try_get("posted_at")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

incidents_impl!(
    SqliteStore,
    sqlx::Sqlite,
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)",
    updates = "SELECT id, incident_id, status, message, posted_by, posted_at FROM incident_updates \
               WHERE incident_id IN (SELECT value FROM json_each($1)) ORDER BY posted_at, id",
    of_checks = "SELECT id, check_key, environment, state, opened_at, acknowledged_at, acknowledged_by, resolved_at, message, last_reminder_at, suppressed_by \
                 FROM incidents WHERE check_key IN (SELECT value FROM json_each($1)) \
                 AND (state <> 'resolved' OR resolved_at >= $2) ORDER BY opened_at DESC, id DESC LIMIT $3"
);
incidents_impl!(
    PostgresStore,
    sqlx::Postgres,
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))",
    updates = "SELECT id, incident_id, status, message, posted_by, posted_at FROM incident_updates \
               WHERE incident_id IN (SELECT CAST(jsonb_array_elements_text(CAST($1 AS jsonb)) AS BIGINT)) ORDER BY posted_at, id",
    of_checks = "SELECT id, check_key, environment, state, opened_at, acknowledged_at, acknowledged_by, resolved_at, message, last_reminder_at, suppressed_by \
                 FROM incidents WHERE check_key IN (SELECT jsonb_array_elements_text(CAST($1 AS jsonb))) \
                 AND (state <> 'resolved' OR resolved_at >= $2) ORDER BY opened_at DESC, id DESC LIMIT $3"
);
