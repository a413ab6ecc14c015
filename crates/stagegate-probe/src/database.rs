//! PostgreSQL and MySQL/MariaDB probes: a real protocol login and a trivial
//! query, reporting the server version. A refused login, an unreachable
//! server and a timeout are told apart.

use std::str::FromStr;

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::time::Instant;

use crate::deadline::Deadline;
use crate::result::{ProbeResult, Timings, format_ms};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Mysql,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MySQL",
        }
    }
}

#[derive(Clone)]
pub struct DatabaseTarget {
    pub engine: Engine,
    /// The connection URL, secrets resolved.
    pub url: String,
    /// The URL with its password masked, for messages.
    pub shown: String,
    pub latency_under: Option<std::time::Duration>,
}

impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseTarget")
            .field("engine", &self.engine)
            .field("url", &self.shown)
            .finish()
    }
}

/// Why a login failed, in the words an operator needs.
fn classify(engine: Engine, e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            match (engine, code.as_ref()) {
                (Engine::Postgres, "28P01" | "28000") | (Engine::Mysql, "1045" | "28000") => {
                    "authentication failed (wrong user or password)"
                }
                (Engine::Postgres, "3D000") | (Engine::Mysql, "1049" | "42000") => {
                    "the database does not exist"
                }
                _ => "the server refused the login",
            }
        }
        sqlx::Error::Io(_) => "the server is unreachable",
        sqlx::Error::Tls(_) => "TLS with the server failed",
        sqlx::Error::Configuration(_) => "the connection URL is invalid",
        _ => "the login failed",
    }
}

async fn login_and_query(
    target: &DatabaseTarget,
) -> Result<(String, std::time::Duration), (sqlx::Error, bool)> {
    let start = Instant::now();
    match target.engine {
        Engine::Postgres => {
            let opts = PgConnectOptions::from_str(&target.url)
                .map_err(|e| (e, false))?
                .application_name(concat!("stagegate/", env!("CARGO_PKG_VERSION")))
                .disable_statement_logging();
            let mut conn = PgConnection::connect_with(&opts)
                .await
                .map_err(|e| (e, false))?;
            let login = start.elapsed();
            let version: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(&mut conn)
                .await
                .map_err(|e| (e, true))?;
            let one: i32 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&mut conn)
                .await
                .map_err(|e| (e, true))?;
            let _ = conn.close().await;
            debug_assert_eq!(one, 1);
            Ok((version, login))
        }
        Engine::Mysql => {
            let opts = MySqlConnectOptions::from_str(&target.url)
                .map_err(|e| (e, false))?
                .disable_statement_logging();
            let mut conn = MySqlConnection::connect_with(&opts)
                .await
                .map_err(|e| (e, false))?;
            let login = start.elapsed();
            let version: String = sqlx::query_scalar("SELECT VERSION()")
                .fetch_one(&mut conn)
                .await
                .map_err(|e| (e, true))?;
            let _: i64 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&mut conn)
                .await
                .map_err(|e| (e, true))?;
            let _ = conn.close().await;
            Ok((version, login))
        }
    }
}

pub async fn probe(target: &DatabaseTarget, deadline: &Deadline) -> ProbeResult {
    let name = target.engine.name();
    let start = Instant::now();
    let outcome = deadline
        .run(
            format!("logging in to {name} at {}", target.shown),
            login_and_query(target),
        )
        .await;
    let total = start.elapsed();
    match outcome {
        Err(timeout) => ProbeResult::from_error(format!("{name} {}", target.shown), &timeout),
        Ok(Err((e, after_login))) => {
            let why = if after_login {
                "the query failed"
            } else {
                classify(target.engine, &e)
            };
            let mut r = ProbeResult::from_error(format!("{name} {}: {why}", target.shown), &e);
            r.summary = format!("{name} {}: {why}: {e}", target.shown);
            r
        }
        Ok(Ok((version, login))) => {
            let name = if version.contains("MariaDB") {
                "MariaDB"
            } else {
                name
            };
            let timings = Timings {
                connect: Some(login),
                total: Some(total),
                ..Timings::default()
            };
            let head = format!(
                "{name} {version} at {} answered SELECT 1 in {}",
                target.shown,
                format_ms(total)
            );
            let r = match target.latency_under {
                Some(limit) if total >= limit => {
                    ProbeResult::fail(format!("{head}, expected under {}", format_ms(limit)))
                }
                _ => ProbeResult::pass(head),
            };
            r.fact("server_version", version).with_timings(timings)
        }
    }
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_password;

    #[test]
    fn masks_only_the_password() {
        assert_eq!(
            mask_password("postgres://u:s3cret@db:5432/x?ssl=1"),
            "postgres://u:***@db:5432/x?ssl=1"
        );
        assert_eq!(
            mask_password("redis://:pw@cache:6379"),
            "redis://:***@cache:6379"
        );
        assert_eq!(
            mask_password("mysql://root@db/test"),
            "mysql://root@db/test"
        );
        assert_eq!(mask_password("not a url"), "not a url");
    }
}
