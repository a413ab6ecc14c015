//! Embedded migrations, applied in order, each in its own transaction and
//! recorded in `schema_migrations`. A database migrated by a newer version
//! is refused rather than misread.

use crate::{Result, StoreError};

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "sessions",
        sql: include_str!("../migrations/sqlite/0002_sessions.sql"),
    },
    Migration {
        version: 3,
        name: "drills",
        sql: include_str!("../migrations/sqlite/0003_drills.sql"),
    },
    Migration {
        version: 4,
        name: "cluster",
        sql: include_str!("../migrations/sqlite/0004_cluster.sql"),
    },
    Migration {
        version: 5,
        name: "token lifecycle",
        sql: include_str!("../migrations/sqlite/0005_token_lifecycle.sql"),
    },
    Migration {
        version: 6,
        name: "audit",
        sql: include_str!("../migrations/sqlite/0006_audit.sql"),
    },
    Migration {
        version: 7,
        name: "promotion gates",
        sql: include_str!("../migrations/sqlite/0007_promotion_gates.sql"),
    },
    Migration {
        version: 8,
        name: "agents",
        sql: include_str!("../migrations/sqlite/0008_agents.sql"),
    },
    Migration {
        version: 9,
        name: "dependencies",
        sql: include_str!("../migrations/sqlite/0009_dependencies.sql"),
    },
    Migration {
        version: 10,
        name: "incident_updates",
        sql: include_str!("../migrations/sqlite/0010_incident_updates.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "sessions",
        sql: include_str!("../migrations/postgres/0002_sessions.sql"),
    },
    Migration {
        version: 3,
        name: "drills",
        sql: include_str!("../migrations/postgres/0003_drills.sql"),
    },
    Migration {
        version: 4,
        name: "cluster",
        sql: include_str!("../migrations/postgres/0004_cluster.sql"),
    },
    Migration {
        version: 5,
        name: "token lifecycle",
        sql: include_str!("../migrations/postgres/0005_token_lifecycle.sql"),
    },
    Migration {
        version: 6,
        name: "audit",
        sql: include_str!("../migrations/postgres/0006_audit.sql"),
    },
    Migration {
        version: 7,
        name: "promotion gates",
        sql: include_str!("../migrations/postgres/0007_promotion_gates.sql"),
    },
    Migration {
        version: 8,
        name: "agents",
        sql: include_str!("../migrations/postgres/0008_agents.sql"),
    },
    Migration {
        version: 9,
        name: "dependencies",
        sql: include_str!("../migrations/postgres/0009_dependencies.sql"),
    },
    Migration {
        version: 10,
        name: "incident_updates",
        sql: include_str!("../migrations/postgres/0010_incident_updates.sql"),
    },
];

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

pub(crate) fn check_not_newer(applied: &[i64], known: &[Migration]) -> Result<()> {
    let newest_known = known.last().map_or(0, |m| m.version);
    match applied.iter().max() {
        Some(&found) if found > newest_known => Err(StoreError::TooNew {
            found,
            known: newest_known,
        }),
        _ => Ok(()),
    }
}

macro_rules! runner {
    ($name:ident, $db:ty, $lock:expr) => {
        pub(crate) async fn $name(pool: &sqlx::Pool<$db>, migrations: &[Migration]) -> Result<()> {
            let mut tx = pool.begin().await?;
            if let Some(lock) = $lock {
                // Several nodes may start at once: one migrates, the others
                // wait. The lock comes first: even `CREATE TABLE IF NOT
                // EXISTS` races on PostgreSQL's catalogue when two sessions
                // run it at once.
                sqlx::raw_sql(lock).execute(&mut *tx).await?;
            }
            sqlx::raw_sql(LEDGER).execute(&mut *tx).await?;
            let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
                .fetch_all(&mut *tx)
                .await?;
            check_not_newer(&applied, migrations)?;
            for m in migrations.iter().filter(|m| !applied.contains(&m.version)) {
                let fail = |source| StoreError::Migration {
                    version: m.version,
                    name: m.name,
                    source,
                };
                sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(fail)?;
                sqlx::query(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                )
                .bind(m.version)
                .bind(m.name)
                .bind(crate::now_ms())
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            }
            tx.commit().await?;
            Ok(())
        }
    };
}

runner!(run_sqlite, sqlx::Sqlite, None::<&'static str>);
runner!(
    run_postgres,
    sqlx::Postgres,
    Some("SELECT pg_advisory_xact_lock(7283519604)")
);
