//! What stagegate's test suites share, written once: a fresh PostgreSQL
//! database per test, `stagegate serve` as a child process on loopback,
//! one-shot HTTP requests, targets that answer as the test decides,
//! receivers that keep what they were sent, and waiting for an event with
//! a deadline instead of sleeping.
//!
//! Under `STAGEGATE_STRICT_TESTS=1` (CI) nothing skips: a missing
//! component fails the test that needs it.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod http;
pub mod pg;
pub mod serve;
pub mod spec;
pub mod targets;

pub use http::{
    csrf_field, exchange, get_with, http, http_with, json_body, post_form, set_cookie, sign_in,
    unchunked,
};
pub use pg::PgDb;
pub use serve::{Server, run_in, spawn_serve, start, start_env, start_with, store_args, token};
pub use spec::{TestSpec, events};
pub use targets::{
    Received, Responder, Switch, answering, blackhole, pausable_proxy, receiver, switchable_target,
};

use std::time::{Duration, Instant};

/// Whether CI forbids skipping.
pub fn strict() -> bool {
    std::env::var("STAGEGATE_STRICT_TESTS").as_deref() == Ok("1")
}

/// Says loudly that `test` is skipped because `why`; fails instead under
/// `STAGEGATE_STRICT_TESTS=1`.
pub fn skip(test: &str, why: &str) {
    if strict() {
        panic!("{test}: {why}; STAGEGATE_STRICT_TESTS=1 forbids skipping");
    }
    eprintln!("\n!!! SKIPPED {test}: {why}\n");
}

/// Polls `f` until it returns `Some`, failing after `secs` seconds. The
/// deadline is a bound on a broken build, not a measurement: tests wait
/// for the event, however long it takes a loaded machine.
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
