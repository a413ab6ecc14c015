//! Store growth: the SQLite file after a million results (with their
//! rollups), and after pruning the raw results. Run with
//! `cargo bench -p stagegate-store --bench growth`; see BENCHMARKS.md.

use std::time::Instant;

use stagegate_store::prelude::*;
use stagegate_store::{NewResult, Outcome, SqliteStore};

const RESULTS: usize = 1_000_000;
const CHECKS: usize = 1_000;
const BATCH: usize = 500;

fn size_mb(dir: &std::path::Path) -> f64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum::<u64>()
        })
        .unwrap_or(0) as f64
        / 1e6
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let store = SqliteStore::open(&url).await.expect("open");
        // A check every 30 s: a million results span about 8 hours of 1,000 checks.
        let start_ms: i64 = 1_795_000_000_000;
        let evidence = r#"{"subject":"check api (http)","status":"pass","summary":"HTTP 200 from https://shop.example.com/healthz in 41 ms","details":[["status","200"],["time_total","41 ms"]]}"#;
        let started = Instant::now();
        let mut batch = Vec::with_capacity(BATCH);
        for i in 0..RESULTS {
            let check = i % CHECKS;
            batch.push(NewResult {
                check: format!("prod-{}/check-{check}", check / 100),
                node: "node-1".into(),
                location: "fra1".into(),
                started_at: start_ms + (i / CHECKS) as i64 * 30_000,
                outcome: if i % 97 == 0 { Outcome::Fail } else { Outcome::Pass },
                latency_ms: Some(20.0 + (i % 50) as f64),
                summary: "HTTP 200 from https://shop.example.com/healthz in 41 ms".into(),
                evidence: evidence.into(),
            });
            if batch.len() == BATCH {
                store.record_results(&batch).await.expect("record");
                batch.clear();
            }
        }
        let took = started.elapsed();
        let full = size_mb(dir.path());
        let pruned = store.prune_results(i64::MAX).await.expect("prune");
        let up = store.uptime("prod-0/check-0", start_ms).await.expect("uptime");
        println!("{RESULTS} results for {CHECKS} checks written in {:.1} s ({:.0} results/s)", took.as_secs_f64(), RESULTS as f64 / took.as_secs_f64());
        println!("store with raw results and rollups: {full:.0} MB ({:.0} bytes per result)", full * 1e6 / RESULTS as f64);
        println!("pruned {pruned} raw results; rollups still say check-0 ran {} times", up.total);
        println!("(the file keeps its pages until VACUUM; SQLite reuses them for new results)");
    });
}
