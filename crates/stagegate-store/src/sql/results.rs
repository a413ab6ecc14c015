//! Probe results and their hourly and daily rollups.

use async_trait::async_trait;
use sqlx::Row;

use super::*;
use crate::model::*;
use crate::{Result, Results};

/// A result row as `recent_results` and `latest_results` select it.
fn stored_result<R: Row>(row: &R) -> Result<StoredResult>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    f64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredResult {
        id: row.try_get("id")?,
        check: row.try_get("check_key")?,
        node: row.try_get("node")?,
        location: row.try_get("location")?,
        started_at: row.try_get("started_at")?,
        outcome: parse("result status", row.try_get("status")?, Outcome::parse)?,
        latency_ms: row.try_get("latency_ms")?,
        summary: row.try_get("summary")?,
        evidence: row.try_get("evidence")?,
    })
}

macro_rules! results_impl {
    (
        $store:ident,
        $db:ty,
        greatest = $greatest:literal,
        json_list = $json_list:literal,
        latest = $latest:literal,
        days = $days:literal
    ) => {
        impl $store {
            /// Inserts a result and folds it into the rollups, inside `tx`.
            async fn insert_result(tx: &mut sqlx::Transaction<'_, $db>, r: &NewResult) -> Result<i64> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO results (check_key, node, location, started_at, status, latency_ms, summary, evidence) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(&r.check)
                .bind(&r.node)
                .bind(&r.location)
                .bind(r.started_at)
                .bind(r.outcome.as_str())
                .bind(r.latency_ms)
                .bind(&r.summary)
                .bind(&r.evidence)
                .fetch_one(&mut **tx)
                .await?;
                if r.outcome != Outcome::Skip {
                    let passed = i64::from(r.outcome == Outcome::Pass);
                    let latency = r.latency_ms.unwrap_or(0.0);
                    for (period, size) in [("hour", HOUR), ("day", DAY)] {
                        sqlx::query(concat!(
                            "INSERT INTO rollups (check_key, period, bucket, total, passed, latency_sum, latency_max) \
                             VALUES ($1, $2, $3, 1, $4, $5, $5) \
                             ON CONFLICT (check_key, period, bucket) DO UPDATE SET \
                             total = rollups.total + 1, passed = rollups.passed + excluded.passed, \
                             latency_sum = rollups.latency_sum + excluded.latency_sum, \
                             latency_max = ",
                            $greatest,
                            "(rollups.latency_max, excluded.latency_max)"
                        ))
                        .bind(&r.check)
                        .bind(period)
                        .bind(r.started_at.div_euclid(size) * size)
                        .bind(passed)
                        .bind(latency)
                        .execute(&mut **tx)
                        .await?;
                    }
                }
                Ok(id)
            }
        }

        #[async_trait]
        impl Results for $store {
            async fn record_result(&self, r: &NewResult) -> Result<i64> {
                let mut tx = self.pool.begin().await?;
                let id = Self::insert_result(&mut tx, r).await?;
                tx.commit().await?;
                Ok(id)
            }
            async fn record_results(&self, results: &[NewResult]) -> Result<()> {
                if results.is_empty() {
                    return Ok(());
                }
                // One multi-row insert for the results and one upsert per
                // (check, period, bucket) for the rollups, aggregated here:
                // a handful of statements per batch instead of three per
                // result.
                let mut tx = self.pool.begin().await?;
                for chunk in results.chunks(500) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO results (check_key, node, location, started_at, status, latency_ms, summary, evidence) ",
                    );
                    insert.push_values(chunk, |mut row, r| {
                        row.push_bind(r.check.clone())
                            .push_bind(r.node.clone())
                            .push_bind(r.location.clone())
                            .push_bind(r.started_at)
                            .push_bind(r.outcome.as_str())
                            .push_bind(r.latency_ms)
                            .push_bind(r.summary.clone())
                            .push_bind(r.evidence.clone());
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                let mut rollups: std::collections::BTreeMap<(&str, &'static str, i64), (i64, i64, f64, f64)> =
                    std::collections::BTreeMap::new();
                for r in results.iter().filter(|r| r.outcome != Outcome::Skip) {
                    let latency = r.latency_ms.unwrap_or(0.0);
                    for (period, size) in [("hour", HOUR), ("day", DAY)] {
                        let e = rollups
                            .entry((r.check.as_str(), period, r.started_at.div_euclid(size) * size))
                            .or_insert((0, 0, 0.0, 0.0));
                        e.0 += 1;
                        e.1 += i64::from(r.outcome == Outcome::Pass);
                        e.2 += latency;
                        e.3 = e.3.max(latency);
                    }
                }
                let rows: Vec<_> = rollups.into_iter().collect();
                for chunk in rows.chunks(500) {
                    let mut upsert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO rollups (check_key, period, bucket, total, passed, latency_sum, latency_max) ",
                    );
                    upsert.push_values(chunk, |mut row, ((check, period, bucket), (total, passed, sum, max))| {
                        row.push_bind((*check).to_owned())
                            .push_bind(*period)
                            .push_bind(*bucket)
                            .push_bind(*total)
                            .push_bind(*passed)
                            .push_bind(*sum)
                            .push_bind(*max);
                    });
                    upsert.push(concat!(
                        " ON CONFLICT (check_key, period, bucket) DO UPDATE SET \
                         total = rollups.total + excluded.total, passed = rollups.passed + excluded.passed, \
                         latency_sum = rollups.latency_sum + excluded.latency_sum, latency_max = ",
                        $greatest,
                        "(rollups.latency_max, excluded.latency_max)"
                    ));
                    upsert.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }
            async fn recent_results(&self, check: &str, limit: u32) -> Result<Vec<StoredResult>> {
                let rows = sqlx::query(
                    "SELECT id, check_key, node, location, started_at, status, latency_ms, summary, evidence \
                     FROM results WHERE check_key = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
                )
                .bind(check)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(stored_result).collect()
            }
            async fn latest_results(&self, checks: &[String]) -> Result<Vec<StoredResult>> {
                if checks.is_empty() {
                    return Ok(Vec::new());
                }
                let keys = json_list("check keys", checks)?;
                let rows = sqlx::query($latest)
                    .bind(keys)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(stored_result).collect()
            }
            async fn uptime(&self, check: &str, since: Millis) -> Result<Uptime> {
                let row = sqlx::query(
                    "SELECT CAST(SUM(total) AS BIGINT) AS total, CAST(SUM(passed) AS BIGINT) AS passed, \
                     SUM(latency_sum) AS latency_sum, MAX(latency_max) AS latency_max \
                     FROM rollups WHERE check_key = $1 AND period = 'hour' AND bucket >= $2",
                )
                .bind(check)
                .bind(since.div_euclid(HOUR) * HOUR)
                .fetch_one(&self.pool)
                .await?;
                let total: Option<i64> = row.try_get("total")?;
                let passed: Option<i64> = row.try_get("passed")?;
                let sum: Option<f64> = row.try_get("latency_sum")?;
                let max: Option<f64> = row.try_get("latency_max")?;
                let total = u64::try_from(total.unwrap_or(0)).unwrap_or(0);
                Ok(Uptime {
                    total,
                    passed: u64::try_from(passed.unwrap_or(0)).unwrap_or(0),
                    latency_avg_ms: sum.filter(|_| total > 0).map(|s| s / total as f64),
                    latency_max_ms: max,
                })
            }
            async fn uptimes(&self, since: Millis) -> Result<Vec<(String, Uptime)>> {
                let rows = sqlx::query(
                    "SELECT check_key, CAST(SUM(total) AS BIGINT) AS total, CAST(SUM(passed) AS BIGINT) AS passed, \
                     SUM(latency_sum) AS latency_sum, MAX(latency_max) AS latency_max \
                     FROM rollups WHERE period = 'hour' AND bucket >= $1 GROUP BY check_key ORDER BY check_key",
                )
                .bind(since.div_euclid(HOUR) * HOUR)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let total: i64 = row.try_get("total")?;
                        let passed: i64 = row.try_get("passed")?;
                        let sum: Option<f64> = row.try_get("latency_sum")?;
                        let total = u64::try_from(total).unwrap_or(0);
                        Ok((
                            row.try_get("check_key")?,
                            Uptime {
                                total,
                                passed: u64::try_from(passed).unwrap_or(0),
                                latency_avg_ms: sum.filter(|_| total > 0).map(|s| s / total as f64),
                                latency_max_ms: row.try_get("latency_max")?,
                            },
                        ))
                    })
                    .collect()
            }
            async fn daily_counts(&self, checks: &[String], since: Millis) -> Result<Vec<(String, DailyCount)>> {
                if checks.is_empty() {
                    return Ok(Vec::new());
                }
                let keys = json_list("check keys", checks)?;
                let rows = sqlx::query($days)
                    .bind(keys)
                    .bind(since.div_euclid(DAY) * DAY)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        let total: i64 = row.try_get("total")?;
                        let passed: i64 = row.try_get("passed")?;
                        Ok((
                            row.try_get("check_key")?,
                            DailyCount {
                                day: row.try_get("bucket")?,
                                total: u64::try_from(total).unwrap_or(0),
                                passed: u64::try_from(passed).unwrap_or(0),
                            },
                        ))
                    })
                    .collect()
            }
            async fn prune_results(&self, before: Millis) -> Result<u64> {
                let done = sqlx::query("DELETE FROM results WHERE started_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

results_impl!(
    SqliteStore,
    sqlx::Sqlite,
    greatest = "MAX",
    json_list = "SELECT value FROM json_each($5)",
    latest = "SELECT r.id, r.check_key, r.node, r.location, r.started_at, r.status, r.latency_ms, r.summary, r.evidence \
              FROM json_each($1) AS k JOIN results AS r ON r.id = \
              (SELECT id FROM results WHERE check_key = k.value ORDER BY started_at DESC, id DESC LIMIT 1)",
    days = "SELECT r.check_key, r.bucket, r.total, r.passed FROM json_each($1) AS k \
            JOIN rollups AS r ON r.check_key = k.value AND r.period = 'day' AND r.bucket >= $2"
);
results_impl!(
    PostgresStore,
    sqlx::Postgres,
    greatest = "GREATEST",
    json_list = "SELECT jsonb_array_elements_text(CAST($5 AS jsonb))",
    latest = "SELECT r.id, r.check_key, r.node, r.location, r.started_at, r.status, r.latency_ms, r.summary, r.evidence \
              FROM jsonb_array_elements_text(CAST($1 AS jsonb)) AS k(key) CROSS JOIN LATERAL \
              (SELECT * FROM results WHERE check_key = k.key ORDER BY started_at DESC, id DESC LIMIT 1) AS r",
    days = "SELECT r.check_key, r.bucket, r.total, r.passed FROM jsonb_array_elements_text(CAST($1 AS jsonb)) AS k(key) \
            JOIN rollups AS r ON r.check_key = k.key AND r.period = 'day' AND r.bucket >= $2"
);
