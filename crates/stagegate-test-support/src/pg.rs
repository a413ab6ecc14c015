//! A fresh PostgreSQL database on this machine's server for each test, so
//! tests run in parallel and leave nothing behind.

/// The server every test database is created on.
pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug)]
pub struct PgDb {
    pub name: String,
    pub url: String,
}

impl PgDb {
    /// A new empty database named after `test` (and this process); `None`
    /// (said loudly) when PostgreSQL is not reachable and CI is not strict.
    pub async fn create(test: &str) -> Option<PgDb> {
        use sqlx::Connection;
        let mut admin = match sqlx::PgConnection::connect(ADMIN_URL).await {
            Ok(c) => c,
            Err(e) => {
                crate::skip(
                    test,
                    &format!("PostgreSQL at {ADMIN_URL} is not reachable: {e}"),
                );
                return None;
            }
        };
        let name = format!("stagegate_{test}_{}", std::process::id());
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut admin)
                .await
                .expect("create database");
        }
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        Some(PgDb { name, url })
    }

    pub async fn drop_now(self) {
        use sqlx::Connection;
        if let Ok(mut admin) = sqlx::PgConnection::connect(ADMIN_URL).await {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut admin)
            .await;
        }
    }
}
