//! One suite, run against both backends: SQLite in a temporary file and this
//! machine's PostgreSQL (a fresh database per test, so tests run in
//! parallel). Under STAGEGATE_STRICT_TESTS=1 an unreachable PostgreSQL fails.

use sqlx::Connection;
use stagegate_store::*;

use stagegate_test_support::PgDb;

/// Runs `scenario` against SQLite and PostgreSQL.
/// Runs `scenario` against SQLite and PostgreSQL, as two tests named by
/// their backend: `SCENARIO::on_sqlite` and `SCENARIO::on_postgres`.
macro_rules! both {
    ($scenario:ident) => {
        mod $scenario {
            use super::*;

            #[tokio::test]
            async fn on_sqlite() {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("store.db").display());
                let store = open(&url).await.expect("open sqlite");
                assert_eq!(store.backend(), "sqlite");
                super::$scenario(store.as_ref()).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                let Some(db) = PgDb::create(stringify!($scenario)).await else {
                    return;
                };
                let store = open(&db.url).await.expect("open postgres");
                assert_eq!(store.backend(), "postgres");
                super::$scenario(store.as_ref()).await;
                drop(store);
                db.drop_now().await;
            }
        }
    };
}

const H: i64 = 3_600_000;
const T0: i64 = 1_795_000_000_000 - 1_795_000_000_000 % H;

fn result(check: &str, at: i64, outcome: Outcome, latency: f64) -> NewResult {
    NewResult {
        check: check.into(),
        node: "node-1".into(),
        location: "fra1".into(),
        started_at: at,
        outcome,
        latency_ms: Some(latency),
        summary: format!("{outcome} at {at}"),
        evidence: "{}".into(),
    }
}

async fn results_rollups_and_pruning(s: &dyn Store) {
    s.health().await.expect("healthy");
    s.record_result(&result("prod/api", T0 + 1, Outcome::Pass, 10.0))
        .await
        .expect("record");
    s.record_result(&result("prod/api", T0 + 2, Outcome::Fail, 30.0))
        .await
        .expect("record");
    s.record_result(&result("prod/api", T0 + 3, Outcome::Skip, 0.0))
        .await
        .expect("record");
    s.record_result(&result("prod/api", T0 + H + 5, Outcome::Pass, 20.0))
        .await
        .expect("record");
    s.record_result(&result("prod/db", T0 + 4, Outcome::Fail, 1.0))
        .await
        .expect("record");

    let recent = s.recent_results("prod/api", 10).await.expect("recent");
    let times: Vec<i64> = recent.iter().map(|r| r.started_at).collect();
    assert_eq!(times, [T0 + H + 5, T0 + 3, T0 + 2, T0 + 1], "newest first");
    assert_eq!(recent[1].outcome, Outcome::Skip);
    assert_eq!(recent[0].location, "fra1");
    assert_eq!(
        s.recent_results("prod/api", 2).await.expect("recent").len(),
        2
    );

    // The newest of each asked check, in one query; a check without
    // results is simply absent, and a same-time tie goes to the later row.
    s.record_result(&result("prod/db", T0 + 4, Outcome::Pass, 2.0))
        .await
        .expect("record");
    let keys: Vec<String> = ["prod/api", "prod/db", "prod/none", "prod/a'pi"]
        .map(String::from)
        .into();
    let mut latest = s.latest_results(&keys).await.expect("latest");
    latest.sort_by(|a, b| a.check.cmp(&b.check));
    let got: Vec<(&str, i64, Outcome)> = latest
        .iter()
        .map(|r| (r.check.as_str(), r.started_at, r.outcome))
        .collect();
    assert_eq!(
        got,
        [
            ("prod/api", T0 + H + 5, Outcome::Pass),
            ("prod/db", T0 + 4, Outcome::Pass)
        ]
    );
    assert_eq!(latest[0], recent[0], "the same row as recent_results");
    assert!(s.latest_results(&[]).await.expect("none").is_empty());

    let up = s.uptime("prod/api", T0).await.expect("uptime");
    assert_eq!((up.total, up.passed), (3, 2), "skips do not count");
    assert_eq!(up.latency_avg_ms, Some(20.0));
    assert_eq!(up.latency_max_ms, Some(30.0));
    assert!((up.percent().expect("percent") - 66.666).abs() < 0.01);
    let later = s.uptime("prod/api", T0 + H).await.expect("uptime");
    assert_eq!((later.total, later.passed), (1, 1));
    assert_eq!(
        s.uptime("prod/none", T0).await.expect("uptime"),
        Uptime::default()
    );
    let all = s.uptimes(T0).await.expect("uptimes");
    let api = all.iter().find(|(k, _)| k == "prod/api").expect("prod/api");
    assert_eq!(api.1, up, "the same figures as one check's");
    assert!(all.iter().all(|(k, _)| k != "prod/none"));

    // Raw results go; the rollups keep the long-range figures.
    assert_eq!(s.prune_results(T0 + H).await.expect("prune"), 5);
    assert_eq!(
        s.recent_results("prod/api", 10)
            .await
            .expect("recent")
            .len(),
        1
    );
    assert_eq!(s.uptime("prod/api", T0).await.expect("uptime").total, 3);
}
both!(results_rollups_and_pruning);

async fn check_state_round_trip(s: &dyn Store) {
    assert_eq!(s.check_state("prod/api").await.expect("get"), None);
    let mut state = CheckState {
        check: "prod/api".into(),
        status: CheckStatus::Down,
        consecutive_failures: 3,
        consecutive_successes: 0,
        last_run_at: Some(T0),
        next_run_at: Some(T0 + 30_000),
    };
    s.save_check_state(&state).await.expect("save");
    assert_eq!(
        s.check_state("prod/api").await.expect("get"),
        Some(state.clone())
    );
    state.status = CheckStatus::Up;
    state.consecutive_failures = 0;
    state.consecutive_successes = 2;
    s.save_check_state(&state).await.expect("update");
    assert_eq!(s.check_states().await.expect("all"), vec![state]);
}
both!(check_state_round_trip);

/// A batch gives the same results and rollups as the same results one by one.
async fn batches_match_single_writes(s: &dyn Store) {
    let batch: Vec<NewResult> = (0..40)
        .map(|i| {
            let outcome = match i % 4 {
                0 => Outcome::Fail,
                1 => Outcome::Skip,
                _ => Outcome::Pass,
            };
            result(
                if i % 2 == 0 { "b/even" } else { "b/odd" },
                T0 + i * 200_000,
                outcome,
                i as f64,
            )
        })
        .collect();
    s.record_results(&batch[..25]).await.expect("batch");
    s.record_results(&batch[25..])
        .await
        .expect("second batch, overlapping buckets");
    for r in &batch {
        s.record_result(&NewResult {
            check: format!("single/{}", &r.check[2..]),
            ..r.clone()
        })
        .await
        .expect("single");
    }
    for (batched, single) in [("b/even", "single/even"), ("b/odd", "single/odd")] {
        assert_eq!(
            s.uptime(batched, T0).await.expect("uptime"),
            s.uptime(single, T0).await.expect("uptime"),
            "{batched}"
        );
        assert_eq!(
            s.recent_results(batched, 100).await.expect("recent").len(),
            s.recent_results(single, 100).await.expect("recent").len()
        );
    }
    let even = s.uptime("b/even", T0).await.expect("uptime");
    assert_eq!((even.total, even.passed), (20, 10));
    s.record_results(&[]).await.expect("empty batch");
}
both!(batches_match_single_writes);

async fn incident_lifecycle(s: &dyn Store) {
    let a = s
        .open_incident("prod/api", "prod", "api down", None, T0)
        .await
        .expect("open");
    assert_eq!(a.state, IncidentState::Open);
    let again = s
        .open_incident("prod/api", "prod", "still down", None, T0 + 5)
        .await
        .expect("open again");
    assert_eq!(again.id, a.id, "one open incident per check");
    assert_eq!(again.message, "api down");
    let acked = s
        .acknowledge_incident(a.id, "alice", T0 + 10)
        .await
        .expect("ack")
        .expect("exists");
    assert_eq!(
        (acked.state, acked.acknowledged_by.as_deref()),
        (IncidentState::Acknowledged, Some("alice"))
    );
    let acked_twice = s
        .acknowledge_incident(a.id, "bob", T0 + 11)
        .await
        .expect("ack")
        .expect("exists");
    assert_eq!(
        acked_twice.acknowledged_by.as_deref(),
        Some("alice"),
        "acknowledging twice changes nothing"
    );
    s.mark_reminded(a.id, T0 + 20).await.expect("remind");
    let resolved = s
        .resolve_incident(a.id, T0 + 30)
        .await
        .expect("resolve")
        .expect("exists");
    assert_eq!(
        (
            resolved.state,
            resolved.resolved_at,
            resolved.last_reminder_at
        ),
        (IncidentState::Resolved, Some(T0 + 30), Some(T0 + 20))
    );
    assert_eq!(
        s.open_incident_for("prod/api").await.expect("open for"),
        None
    );
    let b = s
        .open_incident("prod/api", "prod", "down again", None, T0 + 40)
        .await
        .expect("reopen");
    assert_ne!(b.id, a.id);
    assert_eq!(
        s.acknowledge_incident(9_999_999, "x", T0)
            .await
            .expect("ack"),
        None
    );
    let listed = s.incidents(T0 + 25, 10).await.expect("list");
    assert_eq!(
        listed.iter().map(|i| i.id).collect::<Vec<_>>(),
        [b.id, a.id]
    );
    let listed = s.incidents(T0 + 35, 10).await.expect("list");
    assert_eq!(
        listed.iter().map(|i| i.id).collect::<Vec<_>>(),
        [b.id],
        "resolved before `since` drops out"
    );
}
both!(incident_lifecycle);

async fn suppressed_incidents_are_kept_under_their_parent(s: &dyn Store) {
    let db = s
        .open_incident("prod/db", "prod", "refused", None, T0)
        .await
        .expect("open");
    assert_eq!(db.suppressed_by, None);
    let web = s
        .open_incident("prod/web", "prod", "502", Some(db.id), T0 + 1)
        .await
        .expect("open");
    let api = s
        .open_incident("prod/api", "prod", "502", Some(db.id), T0 + 2)
        .await
        .expect("open");
    assert_eq!(web.suppressed_by, Some(db.id));
    s.resolve_incident(api.id, T0 + 3).await.expect("resolve");
    let under = s.suppressed_under(db.id).await.expect("children");
    assert_eq!(
        under
            .iter()
            .map(|i| (i.id, i.resolved_at))
            .collect::<Vec<_>>(),
        [(web.id, None), (api.id, Some(T0 + 3))],
        "oldest first, resolved or not"
    );
    assert!(s.suppressed_under(web.id).await.expect("none").is_empty());
}
both!(suppressed_incidents_are_kept_under_their_parent);

async fn pings_are_kept(s: &dyn Store) {
    let ping = |kind, at, body: Option<&str>| Ping {
        token: "nightly".into(),
        kind,
        exit_code: (kind == PingKind::Exit).then_some(3),
        run_id: Some("run-1".into()),
        received_at: at,
        remote: Some("127.0.0.1".into()),
        body: body.map(str::to_owned),
    };
    s.record_ping(&ping(PingKind::Start, T0, None))
        .await
        .expect("ping");
    s.record_ping(&ping(PingKind::Exit, T0 + 1000, Some("restic: 3 errors")))
        .await
        .expect("ping");
    let pings = s.pings("nightly", 10).await.expect("pings");
    assert_eq!(pings.len(), 2);
    assert_eq!(pings[0].ping.kind, PingKind::Exit);
    assert_eq!(pings[0].ping.exit_code, Some(3));
    assert_eq!(pings[0].ping.body.as_deref(), Some("restic: 3 errors"));
    assert!(s.pings("other", 10).await.expect("pings").is_empty());
    // A batch commits together.
    let batch: Vec<Ping> = (0..50)
        .map(|i| Ping {
            token: "batch".into(),
            ..ping(PingKind::Success, T0 + i, None)
        })
        .collect();
    s.record_pings(&batch).await.expect("batch");
    assert_eq!(s.pings("batch", 100).await.expect("pings").len(), 50);
    // Log pings never push a run out of the window judging looks at.
    let before = s.pinged_since(0).await.expect("pinged");
    let newest = before.iter().map(|(_, id)| *id).max().expect("some");
    let logs: Vec<Ping> = (0..20)
        .map(|i| ping(PingKind::Log, T0 + 2000 + i, Some("line")))
        .collect();
    s.record_pings(&logs).await.expect("logs");
    let runs = s.run_pings("nightly", 2).await.expect("runs");
    assert_eq!(
        runs.iter().map(|p| p.ping.kind).collect::<Vec<_>>(),
        [PingKind::Exit, PingKind::Start]
    );
    assert_eq!(
        s.pings("nightly", 2).await.expect("pings")[0].ping.kind,
        PingKind::Log
    );
    // Which tokens were pinged since a ping id: only `nightly`.
    let since = s.pinged_since(newest).await.expect("pinged");
    assert_eq!(since.len(), 1, "{since:?}");
    assert_eq!(since[0].0, "nightly");
    assert!(since[0].1 > newest);
    assert!(s.pinged_since(since[0].1).await.expect("pinged").is_empty());
    // Retention: older than the cut-off goes, except each token's newest 3.
    let deleted = s.prune_pings(T0 + 2010, 3).await.expect("prune");
    let left = |token: &'static str| async move { s.pings(token, 1000).await.expect("pings") };
    let nightly = left("nightly").await;
    assert_eq!(nightly.len(), 10, "the 10 logs from T0+2010 on stay");
    assert!(nightly.iter().all(|p| p.ping.received_at >= T0 + 2010));
    let batch = left("batch").await;
    assert_eq!(
        batch.iter().map(|p| p.ping.received_at).collect::<Vec<_>>(),
        [T0 + 49, T0 + 48, T0 + 47],
        "old, but the newest three of their token"
    );
    assert_eq!(deleted, 12 + 47);
}
both!(pings_are_kept);

async fn claims_are_bounded_per_notifier(s: &dyn Store) {
    for (i, notifier) in ["slow", "slow", "slow", "slow", "fast", "fast", "mail"]
        .iter()
        .enumerate()
    {
        s.enqueue(
            &NewNotification {
                notifier: (*notifier).into(),
                ..note(&format!("n{i}"))
            },
            T0,
        )
        .await
        .expect("enqueue");
    }
    let first = s.claim(T0, 60_000, 100, 2, &[]).await.expect("claim");
    let by = |list: &[Notification], who: &str| list.iter().filter(|n| n.notifier == who).count();
    assert_eq!(
        (by(&first, "slow"), by(&first, "fast"), by(&first, "mail")),
        (2, 2, 1),
        "at most two of each notifier"
    );
    // `slow` is still busy: skipped although two of it are due.
    let second = s
        .claim(T0, 60_000, 100, 2, &["slow".to_owned()])
        .await
        .expect("claim");
    assert!(second.is_empty(), "{second:?}");
    let third = s.claim(T0, 60_000, 1, 2, &[]).await.expect("claim");
    assert_eq!(
        third
            .iter()
            .map(|n| n.notifier.as_str())
            .collect::<Vec<_>>(),
        ["slow"],
        "the overall limit holds too"
    );
}
both!(claims_are_bounded_per_notifier);

fn note(key: &str) -> NewNotification {
    NewNotification {
        dedup_key: key.into(),
        event: "incident.opened".into(),
        notifier: "ops-hook".into(),
        contact: "ops".into(),
        payload: "{}".into(),
    }
}

async fn outbox_delivers_at_least_once_and_never_twice(s: &dyn Store) {
    let a = s
        .enqueue(&note("incident-1/opened/ops-hook/ops"), T0)
        .await
        .expect("enqueue")
        .expect("new");
    assert_eq!(
        s.enqueue(&note("incident-1/opened/ops-hook/ops"), T0)
            .await
            .expect("enqueue"),
        None,
        "dedup"
    );
    let mail = NewNotification {
        notifier: "ops-mail".into(),
        ..note("incident-1/opened/ops-mail/ops")
    };
    let b = s.enqueue(&mail, T0).await.expect("enqueue").expect("new");
    assert_eq!(s.outbox_depth().await.expect("depth"), 2);

    let claimed = s.claim(T0, 60_000, 10, 100, &[]).await.expect("claim");
    assert_eq!(claimed.iter().map(|n| n.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(claimed[0].attempts, 1);
    assert!(
        s.claim(T0 + 1000, 60_000, 10, 100, &[])
            .await
            .expect("claim")
            .is_empty(),
        "leased"
    );

    s.delivered(a, T0 + 2000).await.expect("delivered");
    s.failed(b, T0 + 2000, "HTTP 502", T0 + 30_000)
        .await
        .expect("failed");
    assert!(
        s.claim(T0 + 10_000, 60_000, 10, 100, &[])
            .await
            .expect("claim")
            .is_empty(),
        "b waits for its retry time"
    );
    let retried = s
        .claim(T0 + 30_000, 60_000, 10, 100, &[])
        .await
        .expect("claim");
    assert_eq!(
        retried
            .iter()
            .map(|n| (n.id, n.attempts))
            .collect::<Vec<_>>(),
        [(b, 2)]
    );
    assert_eq!(retried[0].last_error.as_deref(), Some("HTTP 502"));
    // The claimer dies: after the lease lapses, b is due again.
    let again = s
        .claim(T0 + 30_000 + 60_001, 60_000, 10, 100, &[])
        .await
        .expect("claim");
    assert_eq!(
        again.iter().map(|n| (n.id, n.attempts)).collect::<Vec<_>>(),
        [(b, 3)]
    );
    s.delivered(b, T0 + 100_000).await.expect("delivered");
    assert!(
        s.claim(T0 + 10_000_000, 60_000, 10, 100, &[])
            .await
            .expect("claim")
            .is_empty(),
        "delivered is never claimed again"
    );
    assert_eq!(s.outbox_depth().await.expect("depth"), 0);

    let log = s.deliveries(10).await.expect("log");
    assert_eq!(
        log.iter().map(|d| (d.outbox_id, d.ok)).collect::<Vec<_>>(),
        [(b, true), (b, false), (a, true)]
    );
    assert_eq!(log[1].error.as_deref(), Some("HTTP 502"));
    assert_eq!(log[0].notifier, "ops-mail");
    assert_eq!(
        s.notification(a)
            .await
            .expect("get")
            .expect("exists")
            .delivered_at,
        Some(T0 + 2000)
    );
}
both!(outbox_delivers_at_least_once_and_never_twice);

async fn tokens_and_promotions(s: &dyn Store) {
    let token = NewToken {
        prefix: "sg_abc123".into(),
        hash: "f".repeat(64),
        role: Role::Operator,
        name: "ci".into(),
        expires_at: Some(T0 + 1000),
    };
    s.create_token(&token, T0).await.expect("create");
    let got = s.token("sg_abc123").await.expect("get").expect("exists");
    assert_eq!((got.expires_at, got.last_used_at), (Some(T0 + 1000), None));
    assert!(got.is_valid(T0 + 999) && !got.is_valid(T0 + 1000));
    s.touch_token("sg_abc123", T0 + 5).await.expect("touch");
    assert_eq!(
        s.token("sg_abc123")
            .await
            .expect("get")
            .expect("exists")
            .last_used_at,
        Some(T0 + 5)
    );
    let got = s.token("sg_abc123").await.expect("get").expect("exists");
    assert_eq!(
        (got.role, got.hash.as_str(), got.revoked_at),
        (Role::Operator, "f".repeat(64).as_str(), None)
    );
    assert!(
        s.create_token(&token, T0).await.is_err(),
        "prefixes are unique"
    );
    assert!(s.revoke_token("sg_abc123", T0 + 1).await.expect("revoke"));
    assert!(
        !s.revoke_token("sg_abc123", T0 + 2).await.expect("revoke"),
        "already revoked"
    );
    assert_eq!(s.tokens().await.expect("list")[0].revoked_at, Some(T0 + 1));

    let promo = |env: &str| NewPromotion {
        environment: env.into(),
        from_mode: "soft-launch".into(),
        to_mode: "production".into(),
        promoted_by: "alice".into(),
        digest: "ab".repeat(32),
        report: "{}".into(),
    };
    let p1 = s
        .record_promotion(&promo("shop"), T0)
        .await
        .expect("promote");
    s.record_promotion(&promo("blog"), T0 + 1)
        .await
        .expect("promote");
    assert_eq!(p1.promoted_at, T0);
    assert_eq!(s.promotions(None).await.expect("all").len(), 2);
    let shop = s.promotions(Some("shop")).await.expect("shop");
    assert_eq!(
        (
            shop.len(),
            shop[0].to_mode.as_str(),
            shop[0].promoted_by.as_str()
        ),
        (1, "production", "alice")
    );
}
both!(tokens_and_promotions);

async fn sessions_follow_their_token(s: &dyn Store) {
    for (prefix, name) in [("sg_s1", "alice"), ("sg_s2", "bob")] {
        s.create_token(
            &NewToken {
                prefix: prefix.into(),
                hash: "e".repeat(64),
                role: Role::Viewer,
                name: name.into(),
                expires_at: (name == "bob").then_some(T0 + 50),
            },
            T0,
        )
        .await
        .expect("token");
    }
    let session = |hash: &str, prefix: &str, expires_at| NewSession {
        hash: hash.into(),
        token_prefix: prefix.into(),
        csrf: format!("csrf-{hash}"),
        expires_at,
    };
    s.create_session(&session("h1", "sg_s1", T0 + 100), T0)
        .await
        .expect("session");
    s.create_session(&session("h2", "sg_s2", T0 + 100), T0)
        .await
        .expect("session");
    s.create_session(&session("h3", "sg_s1", T0 + 10), T0)
        .await
        .expect("session");
    let got = s.session("h1", T0 + 1).await.expect("read").expect("live");
    assert_eq!(
        (got.token.name.as_str(), got.token.role, got.csrf.as_str()),
        ("alice", Role::Viewer, "csrf-h1")
    );
    assert_eq!((got.created_at, got.expires_at), (T0, T0 + 100));
    assert!(
        s.session("h1", T0 + 100).await.expect("read").is_none(),
        "expired"
    );
    assert!(s.session("h2", T0 + 49).await.expect("read").is_some());
    assert!(
        s.session("h2", T0 + 50).await.expect("read").is_none(),
        "its token expired: the session ends with it"
    );
    assert!(s.session("nope", T0).await.expect("read").is_none());
    // Revoking the token ends its sessions.
    s.revoke_token("sg_s2", T0 + 2).await.expect("revoke");
    assert!(s.session("h2", T0 + 3).await.expect("read").is_none());
    assert!(s.delete_session("h1").await.expect("logout"));
    assert!(!s.delete_session("h1").await.expect("logout twice"));
    assert!(s.session("h1", T0 + 3).await.expect("read").is_none());
    assert_eq!(
        s.prune_sessions(T0 + 50).await.expect("prune"),
        1,
        "h3 only"
    );
}
both!(sessions_follow_their_token);

async fn drills_are_kept_newest_first(s: &dyn Store) {
    let drill = |env: &str, at: i64, ok: bool| NewDrill {
        environment: env.to_owned(),
        finished_at: at,
        seconds: 61.5,
        ok,
        message: if ok { "passed" } else { "the verify failed" }.to_owned(),
        method: "restic".to_owned(),
        node: "fra".to_owned(),
    };
    assert!(s.last_drills().await.expect("last").is_empty());
    let first = s
        .record_drill(&drill("production", 1_000, true))
        .await
        .expect("record");
    assert_eq!(
        (first.environment.as_str(), first.ok, first.seconds),
        ("production", true, 61.5)
    );
    s.record_drill(&drill("production", 3_000, false))
        .await
        .expect("record");
    s.record_drill(&drill("beta", 2_000, true))
        .await
        .expect("record");
    let prod = s.drills(Some("production"), 10).await.expect("drills");
    assert_eq!(
        prod.iter().map(|d| d.finished_at).collect::<Vec<_>>(),
        [3_000, 1_000]
    );
    assert!(!prod[0].ok);
    assert_eq!(s.drills(None, 2).await.expect("all").len(), 2);
    let last = s.last_drills().await.expect("last");
    assert_eq!(
        last.iter()
            .map(|d| (d.environment.as_str(), d.finished_at))
            .collect::<Vec<_>>(),
        [("beta", 2_000), ("production", 3_000)]
    );
}
both!(drills_are_kept_newest_first);

#[tokio::test]
async fn migrations_run_once_and_refuse_a_newer_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    {
        let s = open(&url).await.expect("first open");
        s.record_ping(&Ping {
            token: "t".into(),
            kind: PingKind::Success,
            exit_code: None,
            run_id: None,
            received_at: T0,
            remote: None,
            body: None,
        })
        .await
        .expect("ping");
    }
    let s = open(&url).await.expect("second open keeps the data");
    assert_eq!(s.pings("t", 1).await.expect("pings").len(), 1);
    drop(s);
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert");
    conn.close().await.expect("close");
    match open(&url).await {
        // `known` is the newest migration this build has.
        Err(StoreError::TooNew { found: 99, known }) if (2..99).contains(&known) => {}
        other => panic!("expected TooNew, got {other:?}"),
    }
    assert!(matches!(open("mysql://x").await, Err(StoreError::Url(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claimers_on_postgres_never_share_a_notification() {
    let Some(db) = PgDb::create("concurrent_claim").await else {
        return;
    };
    let store = std::sync::Arc::new(PostgresStore::open(&db.url).await.expect("open"));
    for i in 0..200 {
        store
            .enqueue(&note(&format!("n{i}")), T0)
            .await
            .expect("enqueue");
    }
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim(T0, 60_000, 7, 100, &[]).await.expect("claim");
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|n| n.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.await.expect("join"));
    }
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        (n, all.len()),
        (200, 200),
        "every notification claimed exactly once"
    );
    drop(store);
    db.drop_now().await;
}

async fn nodes_and_votes(s: &dyn Store) {
    let node = |name: &str, at: i64| NodeRecord {
        name: name.to_owned(),
        location: format!("loc-{name}"),
        last_seen: at,
        abstaining: false,
        leader: false,
    };
    s.node_alive(&node("a", 1_000)).await.expect("alive");
    s.node_alive(&node("b", 1_000)).await.expect("alive");
    s.node_alive(&NodeRecord {
        abstaining: true,
        ..node("a", 2_000)
    })
    .await
    .expect("alive again");
    let nodes = s.nodes().await.expect("nodes");
    assert_eq!(nodes.len(), 2);
    assert_eq!((nodes[0].last_seen, nodes[0].abstaining), (2_000, true));
    let vote = |n: &str, status: CheckStatus| Vote {
        check: "prod/web".to_owned(),
        node: n.to_owned(),
        location: format!("loc-{n}"),
        status,
        summary: "HTTP 503".to_owned(),
        at: 3_000,
    };
    s.cast_vote(&vote("a", CheckStatus::Down))
        .await
        .expect("vote");
    s.cast_vote(&vote("b", CheckStatus::Up))
        .await
        .expect("vote");
    s.cast_vote(&vote("a", CheckStatus::Up))
        .await
        .expect("changed vote");
    let votes = s.votes(Some("prod/web")).await.expect("votes");
    assert_eq!(
        votes
            .iter()
            .map(|v| (v.node.as_str(), v.status))
            .collect::<Vec<_>>(),
        [("a", CheckStatus::Up), ("b", CheckStatus::Up)]
    );
    assert!(s.votes(Some("prod/other")).await.expect("none").is_empty());
    assert!(s.try_lead().await.expect("lead"), "a lone store leads");
}
both!(nodes_and_votes);

/// Exactly one of several stores on one database leads; when the leader's
/// session ends, another takes over.
#[tokio::test]
async fn one_leader_on_postgres_and_a_successor_when_it_goes() {
    let Some(db) = PgDb::create("leader").await else {
        return;
    };
    let url = db.url.clone();
    let a = PostgresStore::open(&url).await.expect("open a");
    let b = PostgresStore::open(&url).await.expect("open b");
    let c = PostgresStore::open(&url).await.expect("open c");
    assert!(a.try_lead().await.expect("a"));
    assert!(!b.try_lead().await.expect("b"));
    assert!(!c.try_lead().await.expect("c"));
    assert!(a.try_lead().await.expect("a keeps it"));
    drop(a);
    let mut successor = None;
    for _ in 0..50 {
        let (lb, lc) = (
            b.try_lead().await.expect("b"),
            c.try_lead().await.expect("c"),
        );
        assert!(!(lb && lc), "never two leaders");
        if lb || lc {
            successor = Some(if lb { "b" } else { "c" });
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(successor.is_some(), "someone takes over");
    drop((b, c));
    db.drop_now().await;
}

/// Several nodes started together on an empty database: every one of them
/// opens it (one migrates, the others wait for it), none fails on the
/// catalogue race of concurrent `CREATE TABLE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_nodes_migrate_a_fresh_postgres_database_at_once() {
    for round in 0..4 {
        let Some(db) = PgDb::create(&format!("concurrent_migrate_{round}")).await else {
            return;
        };
        let url = db.url.clone();
        let opens: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { PostgresStore::open(&url).await.map(|_| ()) })
            })
            .collect();
        for o in opens {
            if let Err(e) = o.await.expect("join") {
                let mut chain = vec![e.to_string()];
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    chain.push(s.to_string());
                    src = s.source();
                }
                panic!(
                    "round {round}: a node could not open the store: {}",
                    chain.join(": ")
                );
            }
        }
        db.drop_now().await;
    }
}

fn change(n: usize) -> audit::NewAudit {
    audit::NewAudit {
        who: format!("user-{}", n % 3),
        action: "incident.acknowledge".to_owned(),
        subject: format!("incident {n}"),
        details: serde_json::json!({ "note": "on it", "n": n }),
    }
}

/// Reads the whole log through the API the CLI uses, page by page.
async fn verify(s: &dyn Store) -> Result<u64, audit::ChainBreak> {
    let mut v = audit::ChainVerifier::new();
    let mut after = 0;
    loop {
        let page = s.audit(after, 7).await.expect("page");
        let Some(last) = page.last() else {
            return Ok(v.checked);
        };
        after = last.seq;
        for r in &page {
            v.check(r)?;
        }
    }
}

async fn audit_records_chain_even_when_written_at_once(s: &dyn Store) {
    assert_eq!(verify(s).await, Ok(0));
    let first = s.append_audit(&change(0), T0).await.expect("append");
    assert_eq!((first.seq, first.prev.as_str()), (1, audit::GENESIS));
    assert_eq!(first.details, r#"{"n":0,"note":"on it"}"#);
    // Four writers at once: each record still follows exactly one other.
    let writer = |base: usize| async move {
        for n in base..base + 10 {
            s.append_audit(&change(n), T0 + n as i64)
                .await
                .expect("append");
        }
    };
    tokio::join!(writer(100), writer(200), writer(300), writer(400));
    assert_eq!(verify(s).await, Ok(41));
    let (intact, broken) = s.verify_audit().await.expect("verify");
    assert_eq!((intact.checked, broken), (41, None));
    assert!(
        s.audited("incident.acknowledge", "incident 305")
            .await
            .expect("audited")
    );
    assert!(
        !s.audited("incident.acknowledge", "incident 999")
            .await
            .expect("audited")
    );
}
both!(audit_records_chain_even_when_written_at_once);

/// An edit made behind the server's back, straight in the database, is
/// found and named; so is a deleted record.
#[tokio::test]
async fn audit_tampering_in_the_database_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = open(&url).await.expect("open");
    for n in 0..5 {
        store
            .append_audit(&change(n), T0 + n as i64)
            .await
            .expect("append");
    }
    assert_eq!(verify(store.as_ref()).await, Ok(5));
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    sqlx::query("UPDATE audit SET who = 'mallory' WHERE seq = 3")
        .execute(&mut conn)
        .await
        .expect("edit");
    match verify(store.as_ref()).await {
        Err(audit::ChainBreak::Edited { seq: 3, .. }) => {}
        other => panic!("expected record 3 edited, got {other:?}"),
    }
    // The store's own fast path finds the same.
    let (intact, broken) = store.verify_audit().await.expect("verify");
    assert_eq!(intact.checked, 2);
    assert!(
        matches!(broken, Some(audit::ChainBreak::Edited { seq: 3, .. })),
        "{broken:?}"
    );
    sqlx::query("UPDATE audit SET who = 'user-0' WHERE seq = 3")
        .execute(&mut conn)
        .await
        .expect("undo");
    sqlx::query("DELETE FROM audit WHERE seq = 2")
        .execute(&mut conn)
        .await
        .expect("delete");
    match verify(store.as_ref()).await {
        Err(audit::ChainBreak::Gap {
            seq: 3,
            from: 2,
            to: 2,
            ..
        }) => {}
        other => panic!("expected a gap before record 3, got {other:?}"),
    }
}

fn agent_report(server: &str, at: i64, packages: &[&str]) -> NewAgentReport {
    NewAgentReport {
        server: server.into(),
        collected_at: at,
        received_at: at + 5,
        report: format!("{{\"server\":\"{server}\",\"at\":{at}}}"),
        security_packages: packages.iter().map(|p| (*p).to_owned()).collect(),
    }
}

async fn agent_reports_and_pending_updates(s: &dyn Store) {
    let pending = |all: Vec<PendingUpdate>| -> Vec<(String, String, i64)> {
        all.into_iter()
            .map(|p| (p.server, p.package, p.first_seen_at))
            .collect()
    };
    s.record_agent_report(&agent_report("db-1", T0, &["openssl", "it's"]))
        .await
        .expect("record");
    s.record_agent_report(&agent_report("web-1", T0, &[]))
        .await
        .expect("record");
    // Still pending an hour later: first seen stays; a new one starts now.
    s.record_agent_report(&agent_report("db-1", T0 + H, &["openssl", "curl"]))
        .await
        .expect("record");
    assert_eq!(
        pending(s.pending_updates().await.expect("pending")),
        [
            ("db-1".to_owned(), "openssl".to_owned(), T0),
            ("db-1".to_owned(), "curl".to_owned(), T0 + H),
        ],
        "`it's` was applied, so it is no longer pending"
    );
    // A report spooled earlier arrives late: it only moves sightings back.
    s.record_agent_report(&agent_report("db-1", T0 + H / 2, &["curl", "zlib"]))
        .await
        .expect("record");
    assert_eq!(
        pending(s.pending_updates().await.expect("pending")),
        [
            ("db-1".to_owned(), "openssl".to_owned(), T0),
            ("db-1".to_owned(), "curl".to_owned(), T0 + H / 2),
        ]
    );
    let latest = s.latest_agent_reports().await.expect("latest");
    let latest: Vec<(&str, i64)> = latest
        .iter()
        .map(|r| (r.server.as_str(), r.collected_at))
        .collect();
    assert_eq!(latest, [("db-1", T0 + H), ("web-1", T0)]);
    assert_eq!(s.agent_reports("db-1", 10).await.expect("reports").len(), 3);
    // Pruning keeps each server's newest.
    assert_eq!(
        s.prune_agent_reports(T0 + 2 * H, 1).await.expect("prune"),
        2
    );
    let kept: Vec<i64> = s
        .agent_reports("db-1", 10)
        .await
        .expect("reports")
        .iter()
        .map(|r| r.collected_at)
        .collect();
    assert_eq!(kept, [T0 + H]);
    // Everything applied: nothing pending.
    s.record_agent_report(&agent_report("db-1", T0 + 2 * H, &[]))
        .await
        .expect("record");
    assert!(s.pending_updates().await.expect("pending").is_empty());
}
both!(agent_reports_and_pending_updates);

async fn an_incidents_notifications_are_its_own(s: &dyn Store) {
    for (key, at) in [
        ("incident-1/incident.opened/hook/ops", T0),
        ("incident-12/incident.opened/hook/ops", T0 + 1),
        ("incident-1/incident.level#1/hook/bob", T0 + 2),
        ("incident-10/incident.opened/hook/ops", T0 + 3),
        ("other-1/x", T0 + 4),
    ] {
        s.enqueue(&note(key), at).await.expect("enqueue");
    }
    let mine: Vec<String> = s
        .incident_notifications(1)
        .await
        .expect("list")
        .into_iter()
        .map(|n| n.dedup_key)
        .collect();
    assert_eq!(
        mine,
        [
            "incident-1/incident.opened/hook/ops",
            "incident-1/incident.level#1/hook/bob"
        ],
        "oldest first, never incident 10 or 12"
    );
}
both!(an_incidents_notifications_are_its_own);

async fn public_updates_and_daily_counts(s: &dyn Store) {
    const DAY: i64 = 24 * H;
    let day0 = T0 - T0 % DAY;
    let a = s
        .open_incident("prod/api", "prod", "HTTP 503 from 10.0.0.5", None, day0 + H)
        .await
        .expect("open");
    let b = s
        .open_incident("staging/api", "staging", "down", None, day0 + H)
        .await
        .expect("open");
    assert_eq!(
        s.add_incident_update(a.id + b.id + 100, "investigating", "x", "ops", day0)
            .await
            .expect("none"),
        None,
        "no such incident"
    );
    for (status, at) in [("investigating", 2), ("identified", 3)] {
        s.add_incident_update(
            a.id,
            status,
            &format!("{status} text"),
            "ops",
            day0 + H + at,
        )
        .await
        .expect("add")
        .expect("incident exists");
    }
    s.add_incident_update(b.id, "monitoring", "other", "ops", day0 + H)
        .await
        .expect("add");
    let updates = s.incident_updates(&[a.id]).await.expect("updates");
    assert_eq!(
        updates
            .iter()
            .map(|u| u.status.as_str())
            .collect::<Vec<_>>(),
        ["investigating", "identified"],
        "oldest first, only the incident asked for"
    );
    assert_eq!(updates[1].message, "identified text");
    let mine = s
        .check_incidents(&["prod/api".to_owned(), "prod/none".to_owned()], day0, 10)
        .await
        .expect("incidents");
    assert_eq!(mine.iter().map(|i| i.id).collect::<Vec<_>>(), [a.id]);
    assert!(
        s.check_incidents(&["prod/api".to_owned()], day0, 0)
            .await
            .expect("incidents")
            .is_empty(),
        "the limit holds"
    );

    for (day, outcomes) in [(0, [true, true, false, true]), (2, [true; 4])] {
        for (k, up) in outcomes.into_iter().enumerate() {
            let outcome = if up { Outcome::Pass } else { Outcome::Fail };
            s.record_result(&result(
                "prod/api",
                day0 + day * DAY + k as i64 * H,
                outcome,
                1.0,
            ))
            .await
            .expect("record");
        }
    }
    s.record_result(&result("prod/other", day0, Outcome::Fail, 1.0))
        .await
        .expect("record");
    let mut days = s
        .daily_counts(&["prod/api".to_owned(), "prod/none".to_owned()], day0)
        .await
        .expect("days");
    days.sort_by_key(|(_, d)| d.day);
    assert_eq!(
        days.iter()
            .map(|(c, d)| (c.as_str(), (d.day - day0) / DAY, d.total, d.passed))
            .collect::<Vec<_>>(),
        [("prod/api", 0, 4, 3), ("prod/api", 2, 4, 4)]
    );
    assert!(
        s.daily_counts(&["prod/api".to_owned()], day0 + 3 * DAY)
            .await
            .expect("days")
            .is_empty()
    );
}
both!(public_updates_and_daily_counts);
