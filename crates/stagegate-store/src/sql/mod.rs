//! The two implementations. Their SQL is the same but for a few dialect
//! words, so each concern's macro writes both (one file per concern); each
//! backend keeps its own pool and migrations.

mod access;
mod agents;
mod audit;
mod checks;
mod cluster;
mod drills;
mod incidents;
mod outbox;
mod pings;
mod promotions;
mod results;
mod rows;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::migrate;

use crate::{Result, Store, StoreError};

/// SQLite in WAL mode. A committed transaction survives the process being
/// killed; `synchronous = NORMAL` trades only power-loss durability of the
/// last transactions for write throughput.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
}

/// PostgreSQL, shared by every node of a cluster.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: sqlx::PgPool,
    opts: PgConnectOptions,
    /// A session of its own, outside the pool: the leader's advisory lock
    /// lives and dies with it.
    session: std::sync::Arc<tokio::sync::Mutex<Option<(sqlx::PgConnection, bool)>>>,
}

/// The advisory lock key of the leadership ("stagegate" in ASCII, folded).
const LEADER_KEY: i64 = 0x7374_6167_6567_6174;

impl SqliteStore {
    pub async fn open(url: &str) -> Result<Self> {
        let open_err = |source| StoreError::Open {
            url: url.to_owned(),
            source,
        };
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(open_err)?;
        migrate::run_sqlite(&pool, migrate::SQLITE).await?;
        Ok(SqliteStore { pool })
    }

    /// A SQLite file has one server: it always leads.
    async fn lead(&self) -> Result<bool> {
        Ok(true)
    }
}

impl PostgresStore {
    pub async fn open(url: &str) -> Result<Self> {
        let open_err = |source| StoreError::Open {
            url: mask(url),
            source,
        };
        let opts = PgConnectOptions::from_str(url)
            .map_err(open_err)?
            .application_name("stagegate");
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await
            .map_err(open_err)?;
        migrate::run_postgres(&pool, migrate::POSTGRES).await?;
        Ok(PostgresStore {
            pool,
            opts,
            session: Default::default(),
        })
    }

    /// Leadership by a session-level advisory lock: PostgreSQL releases it
    /// the moment the holder's session ends (crash, kill -9, network loss),
    /// and the holder notices on its next check that the session is gone.
    async fn lead(&self) -> Result<bool> {
        use sqlx::Connection;
        let mut slot = self.session.lock().await;
        if let Some((conn, held)) = slot.as_mut() {
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_err() {
                *slot = None;
            } else if *held {
                return Ok(true);
            }
        }
        if slot.is_none() {
            let conn = sqlx::PgConnection::connect_with(&self.opts).await?;
            *slot = Some((conn, false));
        }
        let Some((conn, held)) = slot.as_mut() else {
            return Ok(false);
        };
        *held = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LEADER_KEY)
            .fetch_one(&mut *conn)
            .await?;
        Ok(*held)
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }
}

/// The URL with any password masked, for messages.
fn mask(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn parse<T>(what: &'static str, value: String, f: fn(&str) -> Option<T>) -> Result<T> {
    f(&value).ok_or(StoreError::Corrupt { what, value })
}

/// A list bound as one JSON array parameter (`json_each` on SQLite,
/// `jsonb_array_elements_text` on PostgreSQL): one query for a set of
/// keys, whatever its size.
fn json_list<T: serde::Serialize>(what: &'static str, items: &[T]) -> Result<String> {
    serde_json::to_string(items).map_err(|e| StoreError::Corrupt {
        what,
        value: e.to_string(),
    })
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

macro_rules! store_impl {
    ($store:ident, backend = $backend:literal) => {
        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }
            async fn health(&self) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE schema_migrations SET applied_at = applied_at WHERE version = 1",
                )
                .execute(&mut *tx)
                .await?;
                tx.rollback().await?;
                Ok(())
            }
        }
    };
}

store_impl!(SqliteStore, backend = "sqlite");
store_impl!(PostgresStore, backend = "postgres");
