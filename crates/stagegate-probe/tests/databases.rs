//! PostgreSQL, MariaDB and Redis probes against this machine's real servers:
//! a right password, a wrong one, an unreachable server and a timeout must
//! give four different answers.
//!
//! PostgreSQL here trusts every local login, so a wrong password could never
//! fail; the test adds a password-checked rule for its own role only
//! (`stagegate_probe`) at the top of `pg_hba.conf` and reloads.

mod support;

use std::str::FromStr;
use std::time::Duration;

use sqlx::{Connection, Executor};
use stagegate_probe::{
    DatabaseEngine, DatabaseTarget, Job, ProbeStatus, RedisTarget, Subject, Target, mask_password,
    run_one,
};
use stagegate_spec::CheckKind;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::OnceCell;

const PASSWORD: &str = "right-password";

async fn run(target: Target, kind: CheckKind, timeout: Duration) -> stagegate_probe::ProbeResult {
    let job = Job {
        environment: "test".into(),
        source: "127.0.0.1".into(),
        subject: Subject::Check {
            name: "db".into(),
            kind,
        },
        target,
        timeout,
        retries: 0,
    };
    run_one(&job, &context(), Duration::from_millis(10)).await
}

fn db(engine: DatabaseEngine, url: &str) -> Target {
    Target::Database(DatabaseTarget {
        engine,
        url: url.to_owned(),
        shown: mask_password(url),
        latency_under: None,
    })
}

/// A closed port: bound, then released.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A port that accepts connections and never says a word.
async fn silent_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = l.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    port
}

async fn postgres_role() -> Result<(), String> {
    static READY: OnceCell<Result<(), String>> = OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let opts = sqlx::postgres::PgConnectOptions::from_str(
                "postgres://postgres@127.0.0.1:5432/test",
            )
            .map_err(|e| e.to_string())?;
            let mut conn = sqlx::PgConnection::connect_with(&opts).await.map_err(|e| {
                format!("PostgreSQL on 127.0.0.1:5432 is not reachable as postgres: {e}")
            })?;
            conn.execute(
                "DO $$ BEGIN
                   IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stagegate_probe') THEN
                     CREATE ROLE stagegate_probe LOGIN PASSWORD 'right-password';
                   ELSE ALTER ROLE stagegate_probe LOGIN PASSWORD 'right-password'; END IF;
                 END $$",
            )
            .await
            .map_err(|e| e.to_string())?;
            let hba: String = sqlx::query_scalar("SHOW hba_file")
                .fetch_one(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            let text =
                std::fs::read_to_string(&hba).map_err(|e| format!("cannot read {hba}: {e}"))?;
            let rule = "host all stagegate_probe 127.0.0.1/32 scram-sha-256";
            if !text.contains(rule) {
                std::fs::write(
                    &hba,
                    format!(
                        "# stagegate probe tests: this role's password is checked\n{rule}\n{text}"
                    ),
                )
                .map_err(|e| format!("cannot update {hba}: {e}"))?;
                let _: bool = sqlx::query_scalar("SELECT pg_reload_conf()")
                    .fetch_one(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Ok(())
        })
        .await
        .clone()
}

#[tokio::test]
async fn postgres_login_wrong_password_unreachable_and_timeout() {
    if let Err(e) = postgres_role().await {
        return unavailable(&e);
    }
    let ok = run(
        db(
            DatabaseEngine::Postgres,
            &format!("postgres://stagegate_probe:{PASSWORD}@127.0.0.1:5432/test"),
        ),
        CheckKind::Postgres,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ok.status, ProbeStatus::Pass, "{}", ok.summary);
    assert!(
        ok.summary.starts_with("PostgreSQL 15") || ok.summary.starts_with("PostgreSQL 1"),
        "{}",
        ok.summary
    );
    assert!(
        ok.summary
            .contains("postgres://stagegate_probe:***@127.0.0.1:5432/test answered SELECT 1"),
        "the password is masked: {}",
        ok.summary
    );
    assert!(
        ok.facts
            .iter()
            .any(|(k, v)| k == "server_version" && !v.is_empty())
    );

    let wrong = run(
        db(
            DatabaseEngine::Postgres,
            "postgres://stagegate_probe:wrong@127.0.0.1:5432/test",
        ),
        CheckKind::Postgres,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(wrong.status, ProbeStatus::Fail);
    assert!(
        wrong
            .summary
            .contains("authentication failed (wrong user or password)"),
        "{}",
        wrong.summary
    );
    assert!(
        !wrong.summary.contains("wrong@"),
        "the password never appears"
    );

    let port = closed_port();
    let down = run(
        db(
            DatabaseEngine::Postgres,
            &format!("postgres://stagegate_probe:{PASSWORD}@127.0.0.1:{port}/test"),
        ),
        CheckKind::Postgres,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(down.status, ProbeStatus::Fail);
    assert!(
        down.summary.contains("the server is unreachable"),
        "{}",
        down.summary
    );

    let port = silent_port().await;
    let slow = run(
        db(
            DatabaseEngine::Postgres,
            &format!("postgres://stagegate_probe:{PASSWORD}@127.0.0.1:{port}/test"),
        ),
        CheckKind::Postgres,
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(slow.status, ProbeStatus::Fail);
    assert!(
        slow.summary
            .contains("timed out after 500ms while logging in to PostgreSQL"),
        "{}",
        slow.summary
    );
}

async fn mariadb_user() -> Result<(), String> {
    let opts = sqlx::mysql::MySqlConnectOptions::from_str("mysql://root@127.0.0.1:3306/test")
        .map_err(|e| e.to_string())?;
    let mut conn = sqlx::MySqlConnection::connect_with(&opts)
        .await
        .map_err(|e| format!("MariaDB on 127.0.0.1:3306 is not reachable as root: {e}"))?;
    for host in ["127.0.0.1", "localhost"] {
        for sql in [
            format!(
                "CREATE USER IF NOT EXISTS 'stagegate_probe'@'{host}' IDENTIFIED BY '{PASSWORD}'"
            ),
            format!("ALTER USER 'stagegate_probe'@'{host}' IDENTIFIED BY '{PASSWORD}'"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn mariadb_login_wrong_password_unreachable_and_timeout() {
    if let Err(e) = mariadb_user().await {
        return unavailable(&e);
    }
    let ok = run(
        db(
            DatabaseEngine::Mysql,
            &format!("mysql://stagegate_probe:{PASSWORD}@127.0.0.1:3306"),
        ),
        CheckKind::Mysql,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(ok.status, ProbeStatus::Pass, "{}", ok.summary);
    assert!(ok.summary.starts_with("MariaDB 1"), "{}", ok.summary);

    let wrong = run(
        db(
            DatabaseEngine::Mysql,
            "mysql://stagegate_probe:wrong@127.0.0.1:3306",
        ),
        CheckKind::Mysql,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(wrong.status, ProbeStatus::Fail);
    assert!(
        wrong
            .summary
            .contains("authentication failed (wrong user or password)"),
        "{}",
        wrong.summary
    );

    let port = closed_port();
    let down = run(
        db(
            DatabaseEngine::Mysql,
            &format!("mysql://stagegate_probe:{PASSWORD}@127.0.0.1:{port}"),
        ),
        CheckKind::Mysql,
        Duration::from_secs(10),
    )
    .await;
    assert!(
        down.summary.contains("the server is unreachable"),
        "{}",
        down.summary
    );

    let port = silent_port().await;
    let slow = run(
        db(
            DatabaseEngine::Mysql,
            &format!("mysql://stagegate_probe:{PASSWORD}@127.0.0.1:{port}"),
        ),
        CheckKind::Mysql,
        Duration::from_millis(500),
    )
    .await;
    assert!(
        slow.summary
            .contains("timed out after 500ms while logging in to MySQL"),
        "{}",
        slow.summary
    );
}

async fn redis_user() -> Result<(), String> {
    let mut s = tokio::net::TcpStream::connect("127.0.0.1:6379")
        .await
        .map_err(|e| format!("Redis on 127.0.0.1:6379 is not reachable: {e}"))?;
    let cmd = format!("ACL SETUSER stagegate_probe on >{PASSWORD} ~* +@all\r\n");
    s.write_all(cmd.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
    let reply = String::from_utf8_lossy(&buf[..n]).into_owned();
    if reply.starts_with("+OK") {
        Ok(())
    } else {
        Err(format!("cannot create the Redis test user: {reply}"))
    }
}

fn redis(url: &str) -> Target {
    Target::Redis(RedisTarget::parse(url, None).expect("url"))
}

#[tokio::test]
async fn redis_ping_wrong_password_unreachable_and_timeout() {
    if let Err(e) = redis_user().await {
        return unavailable(&e);
    }
    let ok = run(
        redis(&format!(
            "redis://stagegate_probe:{PASSWORD}@127.0.0.1:6379/0"
        )),
        CheckKind::Redis,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(ok.status, ProbeStatus::Pass, "{}", ok.summary);
    assert!(
        ok.summary.starts_with("Redis 7") || ok.summary.starts_with("Redis "),
        "{}",
        ok.summary
    );
    assert!(
        ok.summary
            .contains("redis://stagegate_probe:***@127.0.0.1:6379/0"),
        "{}",
        ok.summary
    );

    let wrong = run(
        redis("redis://stagegate_probe:wrong@127.0.0.1:6379"),
        CheckKind::Redis,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(wrong.status, ProbeStatus::Fail);
    assert!(
        wrong
            .summary
            .contains("authentication failed (wrong user or password)"),
        "{}",
        wrong.summary
    );

    let port = closed_port();
    let down = run(
        redis(&format!("redis://127.0.0.1:{port}")),
        CheckKind::Redis,
        Duration::from_secs(5),
    )
    .await;
    assert!(
        down.summary.contains("the server is unreachable"),
        "{}",
        down.summary
    );

    let port = silent_port().await;
    let slow = run(
        redis(&format!("redis://127.0.0.1:{port}")),
        CheckKind::Redis,
        Duration::from_millis(500),
    )
    .await;
    assert!(
        slow.summary
            .contains("timed out after 500ms while talking to Redis"),
        "{}",
        slow.summary
    );
}
