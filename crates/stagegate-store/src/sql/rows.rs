//! Rows to model types, for both backends: one `FromRow` per type.

use sqlx::Row;

use super::count;
use crate::model::*;
use crate::{Result, StoreError};

/// A row as `T`, its errors as the store's.
pub(crate) fn from_row<'r, T, R>(row: &'r R) -> Result<T>
where
    R: sqlx::Row,
    T: sqlx::FromRow<'r, R>,
{
    T::from_row(row).map_err(StoreError::Query)
}

/// A stored word this version cannot read, as a decoding error.
fn column<T>(
    what: &'static str,
    value: String,
    f: fn(&str) -> Option<T>,
) -> std::result::Result<T, sqlx::Error> {
    f(&value).ok_or_else(|| sqlx::Error::Decode(Box::new(StoreError::Corrupt { what, value })))
}

macro_rules! rows {
    ($row:ty) => {
        impl<'r> sqlx::FromRow<'r, $row> for Incident {
            fn from_row(row: &'r $row) -> std::result::Result<Self, sqlx::Error> {
                Ok(Incident {
                    id: row.try_get("id")?,
                    check: row.try_get("check_key")?,
                    environment: row.try_get("environment")?,
                    state: column(
                        "incident state",
                        row.try_get("state")?,
                        IncidentState::parse,
                    )?,
                    opened_at: row.try_get("opened_at")?,
                    acknowledged_at: row.try_get("acknowledged_at")?,
                    acknowledged_by: row.try_get("acknowledged_by")?,
                    resolved_at: row.try_get("resolved_at")?,
                    message: row.try_get("message")?,
                    last_reminder_at: row.try_get("last_reminder_at")?,
                    suppressed_by: row.try_get("suppressed_by")?,
                })
            }
        }

        impl<'r> sqlx::FromRow<'r, $row> for Notification {
            fn from_row(row: &'r $row) -> std::result::Result<Self, sqlx::Error> {
                Ok(Notification {
                    id: row.try_get("id")?,
                    dedup_key: row.try_get("dedup_key")?,
                    event: row.try_get("event")?,
                    notifier: row.try_get("notifier")?,
                    contact: row.try_get("contact")?,
                    payload: row.try_get("payload")?,
                    created_at: row.try_get("created_at")?,
                    attempts: count(row.try_get("attempts")?),
                    next_attempt_at: row.try_get("next_attempt_at")?,
                    delivered_at: row.try_get("delivered_at")?,
                    last_error: row.try_get("last_error")?,
                })
            }
        }

        impl<'r> sqlx::FromRow<'r, $row> for TokenRecord {
            fn from_row(row: &'r $row) -> std::result::Result<Self, sqlx::Error> {
                Ok(TokenRecord {
                    id: row.try_get("id")?,
                    prefix: row.try_get("prefix")?,
                    hash: row.try_get("hash")?,
                    role: column("token role", row.try_get("role")?, Role::parse)?,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                    expires_at: row.try_get("expires_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                })
            }
        }

        impl<'r> sqlx::FromRow<'r, $row> for Promotion {
            fn from_row(row: &'r $row) -> std::result::Result<Self, sqlx::Error> {
                Ok(Promotion {
                    id: row.try_get("id")?,
                    environment: row.try_get("environment")?,
                    from_mode: row.try_get("from_mode")?,
                    to_mode: row.try_get("to_mode")?,
                    promoted_by: row.try_get("promoted_by")?,
                    promoted_at: row.try_get("promoted_at")?,
                    digest: row.try_get("digest")?,
                    report: row.try_get("report")?,
                })
            }
        }

        impl<'r> sqlx::FromRow<'r, $row> for Vote {
            fn from_row(row: &'r $row) -> std::result::Result<Self, sqlx::Error> {
                Ok(Vote {
                    check: row.try_get("check_key")?,
                    node: row.try_get("node")?,
                    location: row.try_get("location")?,
                    status: column("check status", row.try_get("status")?, CheckStatus::parse)?,
                    summary: row.try_get("summary")?,
                    at: row.try_get("at")?,
                })
            }
        }

        impl<'r> sqlx::FromRow<'r, $row> for Drill {
            fn from_row(row: &'r $row) -> std::result::Result<Self, sqlx::Error> {
                Ok(Drill {
                    id: row.try_get("id")?,
                    environment: row.try_get("environment")?,
                    finished_at: row.try_get("finished_at")?,
                    seconds: row.try_get("seconds")?,
                    ok: row.try_get("ok")?,
                    message: row.try_get("message")?,
                    method: row.try_get("method")?,
                    node: row.try_get("node")?,
                })
            }
        }

        impl<'r> sqlx::FromRow<'r, $row> for CheckState {
            fn from_row(row: &'r $row) -> std::result::Result<Self, sqlx::Error> {
                Ok(CheckState {
                    check: row.try_get("check_key")?,
                    status: column("check status", row.try_get("status")?, CheckStatus::parse)?,
                    consecutive_failures: count(row.try_get("consecutive_failures")?),
                    consecutive_successes: count(row.try_get("consecutive_successes")?),
                    last_run_at: row.try_get("last_run_at")?,
                    next_run_at: row.try_get("next_run_at")?,
                })
            }
        }
    };
}

rows!(sqlx::sqlite::SqliteRow);
rows!(sqlx::postgres::PgRow);
