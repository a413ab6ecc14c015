//! The hash-chained audit log. Appending reads the last record and writes
//! the next in one transaction that no other writer can interleave with:
//! PostgreSQL holds an advisory lock for the transaction (several nodes
//! share the store); SQLite takes its write lock first (`BEGIN IMMEDIATE`
//! semantics, by writing before reading).

use async_trait::async_trait;
use sqlx::Row;

use super::*;
use crate::StoreError;
use crate::audit::{
    AuditRecord, ChainBreak, ChainVerifier, GENESIS, NewAudit, StoredParts, audit_time,
    canonical_details, record_hash,
};
use crate::model::Millis;
use crate::{Audit, Result};

/// The advisory lock key of the audit chain ("audit" in ASCII).
const AUDIT_KEY: i64 = 0x61_7564_6974;

fn record<R: Row>(row: &R) -> std::result::Result<AuditRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let at: i64 = row.try_get("at")?;
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        at: audit_time(at),
        who: row.try_get("who")?,
        action: row.try_get("action")?,
        subject: row.try_get("subject")?,
        details: row.try_get("details")?,
        prev: row.try_get("prev")?,
        hash: row.try_get("hash")?,
    })
}

/// One record of a page read for verification: strings borrowed from the
/// page where they need no unescaping.
#[derive(serde::Deserialize)]
struct PageRow<'a>(
    i64,
    i64,
    #[serde(borrow)] std::borrow::Cow<'a, str>,
    #[serde(borrow)] std::borrow::Cow<'a, str>,
    #[serde(borrow)] std::borrow::Cow<'a, str>,
    #[serde(borrow)] std::borrow::Cow<'a, str>,
    #[serde(borrow)] std::borrow::Cow<'a, str>,
    #[serde(borrow)] std::borrow::Cow<'a, str>,
);

/// Checks one page (a JSON array of records); the first break, if any.
fn check_page(v: &mut ChainVerifier, page: &str) -> Result<Option<ChainBreak>> {
    if page.is_empty() {
        return Ok(None);
    }
    let rows: Vec<PageRow<'_>> = serde_json::from_str(page).map_err(|e| StoreError::Corrupt {
        what: "audit page",
        value: e.to_string(),
    })?;
    for r in &rows {
        let parts = StoredParts {
            seq: r.0,
            at: r.1,
            who: &r.2,
            action: &r.3,
            subject: &r.4,
            details: &r.5,
            prev: &r.6,
            hash: &r.7,
        };
        if let Err(b) = v.check_stored(parts) {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

/// A thread that checks pages in order as they are sent, and the sender.
/// The sender holds at most two pages ahead, so memory stays bounded.
#[allow(clippy::type_complexity)]
fn page_checker() -> (
    tokio::sync::mpsc::Sender<String>,
    tokio::task::JoinHandle<Result<(ChainVerifier, Option<ChainBreak>)>>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(2);
    let checker = tokio::task::spawn_blocking(move || {
        let mut v = ChainVerifier::new();
        while let Some(page) = rx.blocking_recv() {
            if let Some(b) = check_page(&mut v, &page)? {
                return Ok((v, Some(b)));
            }
        }
        Ok((v, None))
    });
    (tx, checker)
}

macro_rules! audit_impl {
    ($store:ident, $db:ty, lock = $lock:literal) => {
        #[async_trait]
        impl Audit for $store {
            async fn append_audit(&self, a: &NewAudit, at: Millis) -> Result<AuditRecord> {
                let details = canonical_details(&a.details);
                let mut tx = self.pool.begin().await?;
                sqlx::query($lock).bind(AUDIT_KEY).execute(&mut *tx).await?;
                let last = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await?;
                let (seq, prev) = match last {
                    Some(row) => (
                        row.try_get::<i64, _>("seq")? + 1,
                        row.try_get::<String, _>("hash")?,
                    ),
                    None => (1, GENESIS.to_owned()),
                };
                let at_text = audit_time(at);
                let hash = record_hash(
                    seq, &at_text, &a.who, &a.action, &a.subject, &details, &prev,
                );
                sqlx::query(
                    "INSERT INTO audit (seq, at, who, action, subject, details, prev, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(seq)
                .bind(at)
                .bind(&a.who)
                .bind(&a.action)
                .bind(&a.subject)
                .bind(&details)
                .bind(&prev)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(AuditRecord {
                    seq,
                    at: at_text,
                    who: a.who.clone(),
                    action: a.action.clone(),
                    subject: a.subject.clone(),
                    details,
                    prev,
                    hash,
                })
            }

            async fn audit(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>> {
                let rows = sqlx::query("SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| record(r).map_err(StoreError::Query))
                    .collect()
            }

            async fn verify_audit(&self) -> Result<(ChainVerifier, Option<ChainBreak>)> {
                self.verify_chain().await
            }

            async fn audited(&self, action: &str, subject: &str) -> Result<bool> {
                let found =
                    sqlx::query("SELECT 1 FROM audit WHERE action = $1 AND subject = $2 LIMIT 1")
                        .bind(action)
                        .bind(subject)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(found.is_some())
            }
        }
    };
}

// SQLite: a write first takes the database's write lock for the whole
// transaction, so no other connection reads the same last record.
audit_impl!(
    SqliteStore,
    sqlx::Sqlite,
    lock = "UPDATE audit_lock SET taken = $1"
);
audit_impl!(
    PostgresStore,
    sqlx::Postgres,
    lock = "SELECT pg_advisory_xact_lock($1)"
);

impl SqliteStore {
    /// SQLite hands each row from its worker thread to the reader, which
    /// costs more than checking the row; so a page comes back as one JSON
    /// array in one row, with its last `seq`, and while one thread checks
    /// a page SQLite already builds the next (measured in BENCHMARKS.md).
    async fn verify_chain(&self) -> Result<(ChainVerifier, Option<ChainBreak>)> {
        const PAGE: i64 = 1_000;
        let (pages, checker) = page_checker();
        let mut after = 0;
        loop {
            let row = sqlx::query(
                "SELECT json_group_array(json_array(seq, at, who, action, subject, details, prev, hash)), max(seq) \
                 FROM (SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2)",
            )
            .bind(after)
            .bind(PAGE)
            .fetch_one(&self.pool)
            .await?;
            let page: Option<String> = row.try_get(0)?;
            let last: Option<i64> = row.try_get(1)?;
            let Some(last) = last else { break };
            // The checker hung up: it found a break, or failed.
            if pages.send(page.unwrap_or_default()).await.is_err() {
                break;
            }
            after = last;
        }
        drop(pages);
        checker.await.map_err(|e| StoreError::Corrupt {
            what: "audit check",
            value: e.to_string(),
        })?
    }
}

impl PostgresStore {
    /// PostgreSQL streams rows over its socket as fast as they are checked,
    /// fields borrowed from the row; building JSON pages on the server costs
    /// ten times more (measured in BENCHMARKS.md).
    async fn verify_chain(&self) -> Result<(ChainVerifier, Option<ChainBreak>)> {
        let mut v = ChainVerifier::new();
        let mut rows = sqlx::query(
            "SELECT seq, at, who, action, subject, details, prev, hash FROM audit ORDER BY seq",
        )
        .fetch(&self.pool);
        while let Some(row) = std::future::poll_fn(|cx| rows.as_mut().poll_next(cx)).await {
            let row = row?;
            let parts = StoredParts {
                seq: row.try_get(0)?,
                at: row.try_get(1)?,
                who: row.try_get(2)?,
                action: row.try_get(3)?,
                subject: row.try_get(4)?,
                details: row.try_get(5)?,
                prev: row.try_get(6)?,
                hash: row.try_get(7)?,
            };
            if let Err(b) = v.check_stored(parts) {
                return Ok((v, Some(b)));
            }
        }
        Ok((v, None))
    }
}
