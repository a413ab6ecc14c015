//! Flap control, incidents, notifications and what the rules read of them,
//! against a real SQLite store.

use stagegate_rules::{FileFacts, rule_ids};
use stagegate_server::{Observations, Snapshot, observe};
use stagegate_spec::{LoadOptions, SourceFile, load};
use stagegate_store::prelude::*;
use stagegate_store::{CheckStatus, IncidentState, NewResult, Outcome, SqliteStore};

fn snapshot(extra: &str) -> Snapshot {
    snapshot_notifying("[\"ops\"]", extra)
}

fn snapshot_notifying(notify: &str, extra: &str) -> Snapshot {
    let text = format!(
        r#"[product]
name = "x"

[contacts.ops]
notify = ["hook"]

[notifiers.hook]
type = "webhook"
url = "http://127.0.0.1:9/hook"

[environments.prod]
mode = "staging"

[environments.prod.monitoring]
notify = {notify}

[[environments.prod.monitoring.checks]]
name = "web"
kind = "tcp"
host = "127.0.0.1"
port = 9
{extra}"#
    );
    let source = SourceFile::new("s.toml", text);
    let ids = rule_ids();
    let spec = load(
        &source,
        &LoadOptions {
            env: &|_| None,
            known_rules: &ids,
            known_controls: stagegate_rules::frameworks::control_ids,
        },
    )
    .expect("spec");
    Snapshot::build(
        spec,
        source,
        std::path::Path::new("."),
        &|_| None,
        FileFacts::new(),
    )
    .expect("snapshot")
}

async fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let s = SqliteStore::open(&url).await.expect("store");
    (dir, s)
}

#[tokio::test]
async fn thresholds_open_and_resolve_once() {
    let (_dir, store) = fresh_store().await;
    let snap = snapshot("");
    let obs = |outcome, at| {
        let (store, snap) = (&store, &snap);
        async move {
            observe(
                store,
                snap,
                "prod",
                "web",
                outcome,
                "probe said so",
                (3, 2),
                at,
            )
            .await
            .expect("observe")
        }
    };
    assert_eq!(obs(Outcome::Fail, 1).await.opened, None);
    assert_eq!(obs(Outcome::Fail, 2).await.opened, None);
    let third = obs(Outcome::Fail, 3).await;
    let incident = third.opened.expect("third failure opens");
    assert_eq!(incident.state, IncidentState::Open);
    assert_eq!(
        obs(Outcome::Fail, 4).await.opened,
        None,
        "one incident per outage"
    );
    assert_eq!(store.outbox_depth().await.expect("depth"), 1);
    // A single pass does not resolve (success threshold 2); a failure in
    // between restarts the count.
    assert_eq!(obs(Outcome::Pass, 5).await.resolved, None);
    let again = obs(Outcome::Fail, 6).await;
    assert_eq!((again.opened, again.resolved), (None, None));
    assert_eq!(again.state.expect("state").consecutive_failures, 1);
    assert_eq!(obs(Outcome::Pass, 7).await.resolved, None);
    let resolved = obs(Outcome::Pass, 8)
        .await
        .resolved
        .expect("second pass resolves");
    assert_eq!(resolved.id, incident.id);
    assert_eq!(store.outbox_depth().await.expect("depth"), 2);
    let state = store
        .check_state("prod/web")
        .await
        .expect("state")
        .expect("exists");
    assert_eq!(state.status, CheckStatus::Up);
    // Skips change nothing.
    assert_eq!(obs(Outcome::Skip, 9).await, Default::default());
    // Counts stop at their threshold, so the steady state is a fixed point.
    let steady = stagegate_server::next_state(state.clone(), Outcome::Pass, (3, 2));
    assert_eq!(steady, state);
}

#[tokio::test]
async fn maintenance_windows_suppress_notifications_but_keep_incidents() {
    let (_dir, store) = fresh_store().await;
    let snap =
        snapshot("\n[[environments.prod.maintenance]]\nstart = \"00:00\"\nduration = \"24h\"\n");
    let now = stagegate_store::now_ms();
    let change = observe(
        &store,
        &snap,
        "prod",
        "web",
        Outcome::Fail,
        "down",
        (1, 1),
        now,
    )
    .await
    .expect("observe");
    assert!(change.opened.is_some(), "the incident is still recorded");
    assert_eq!(
        store.outbox_depth().await.expect("depth"),
        0,
        "nobody is paged during maintenance"
    );
    // A window on another weekday only does not suppress.
    let (_dir2, store2) = fresh_store().await;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .weekday();
    let other = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [((today.to_monday_zero_offset() + 3) % 7) as usize];
    let snap = snapshot(&format!(
        "\n[[environments.prod.maintenance]]\nstart = \"00:00\"\nduration = \"1h\"\nweekdays = [\"{other}\"]\n"
    ));
    observe(
        &store2,
        &snap,
        "prod",
        "web",
        Outcome::Fail,
        "down",
        (1, 1),
        now,
    )
    .await
    .expect("observe");
    assert_eq!(store2.outbox_depth().await.expect("depth"), 1);
}

#[test]
fn unknown_time_zones_are_spec_errors() {
    let text = "[product]\nname = \"x\"\n[environments.prod]\nmode = \"staging\"\n[[environments.prod.maintenance]]\nstart = \"02:00\"\nduration = \"1h\"\ntimezone = \"Mars/Olympus\"\n";
    let source = SourceFile::new("s.toml", text);
    let ids = rule_ids();
    let spec = load(
        &source,
        &LoadOptions {
            env: &|_| None,
            known_rules: &ids,
            known_controls: stagegate_rules::frameworks::control_ids,
        },
    )
    .expect("spec");
    let diags = Snapshot::build(
        spec,
        source,
        std::path::Path::new("."),
        &|_| None,
        FileFacts::new(),
    )
    .expect_err("invalid zone");
    assert_eq!(diags[0].message, "unknown time zone `Mars/Olympus`");
}

/// A heartbeat's result is stored when its state changes; a running server
/// vouches for the state as of now, so a duty done weekly is not "stale"
/// after `evidence_max_age`. Read without a running server, and for probed
/// checks, the result's own time stays what counts.
#[tokio::test]
async fn a_heartbeat_that_is_up_holds_as_of_now_while_a_server_judges_it() {
    let (_dir, store) = fresh_store().await;
    let snap = snapshot(
        "\n[[environments.prod.monitoring.checks]]\nname = \"logs-read\"\nkind = \"heartbeat\"\ntoken = \"logs-read-token\"\ninterval = \"30d\"\nduty = \"log-monitoring\"\n",
    );
    let t0: i64 = 1_790_000_000_000;
    for check in ["logs-read", "web"] {
        store
            .record_result(&NewResult {
                check: format!("prod/{check}"),
                node: "n1".into(),
                location: String::new(),
                started_at: t0,
                outcome: Outcome::Pass,
                latency_ms: None,
                summary: "fine".into(),
                evidence: "{}".into(),
            })
            .await
            .expect("result");
        observe(
            &store,
            &snap,
            "prod",
            check,
            Outcome::Pass,
            "fine",
            (1, 1),
            t0,
        )
        .await
        .expect("observe");
    }
    let later = t0 + 20 * 86_400_000;
    let at = |o: &Observations, check: &str| {
        let live = o.live_evidence(&snap.spec);
        let seen = live.check("prod", check).expect("observed").clone();
        (seen.at, seen.details)
    };

    let watched = Observations::gather(&store, &snap, Some(later))
        .await
        .expect("gather");
    let (heartbeat_at, details) = at(&watched, "logs-read");
    assert_eq!(heartbeat_at, later / 1000);
    assert!(
        details
            .iter()
            .any(|(k, v)| k == "state_since" && v == "2026-09-21T14:13:20Z"),
        "{details:?}"
    );
    assert_eq!(
        at(&watched, "web").0,
        t0 / 1000,
        "a probe's time is its own"
    );

    let unwatched = Observations::gather(&store, &snap, None)
        .await
        .expect("gather");
    assert_eq!(at(&unwatched, "logs-read").0, t0 / 1000);
}

/// `web` depends on `db`: while `db` is down, `web`'s incident is recorded
/// under `db`'s, nobody is paged for it, and it resolves with `db`'s. A
/// `web` still failing once `db` is back is an outage of its own.
#[tokio::test]
async fn dependent_checks_open_suppressed_and_resolve_with_their_parent() {
    let (_dir, store) = fresh_store().await;
    let snap = snapshot(
        "depends_on = [\"db\"]\n\n[[environments.prod.monitoring.checks]]\nname = \"db\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = 9\n",
    );
    let obs = |check: &'static str, outcome, at| {
        let (store, snap) = (&store, &snap);
        async move {
            observe(store, snap, "prod", check, outcome, "refused", (1, 1), at)
                .await
                .expect("observe")
        }
    };
    let db = obs("db", Outcome::Fail, 1).await.opened.expect("db opens");
    assert_eq!(db.suppressed_by, None);
    assert_eq!(store.outbox_depth().await.expect("depth"), 1);
    let web = obs("web", Outcome::Fail, 2)
        .await
        .opened
        .expect("web opens");
    assert_eq!(web.suppressed_by, Some(db.id));
    assert_eq!(
        store.outbox_depth().await.expect("depth"),
        1,
        "the dependent's incident is not notified"
    );
    assert_eq!(
        store
            .suppressed_under(db.id)
            .await
            .expect("children")
            .iter()
            .map(|i| i.id)
            .collect::<Vec<_>>(),
        [web.id]
    );
    // The parent recovers: the child resolves with it, silently, and its
    // check starts over.
    let back = obs("db", Outcome::Pass, 3).await;
    assert_eq!(back.resolved.expect("db resolves").id, db.id);
    assert_eq!(back.restarted, ["prod/web"]);
    let child = store.incident(web.id).await.expect("read").expect("exists");
    assert_eq!(child.state, IncidentState::Resolved);
    assert_eq!(child.resolved_at, Some(3));
    assert_eq!(
        store
            .check_state("prod/web")
            .await
            .expect("state")
            .expect("kept")
            .status,
        CheckStatus::Unknown
    );
    assert_eq!(
        store.outbox_depth().await.expect("depth"),
        2,
        "only db's resolution is told"
    );
    // Still failing with db up: its own incident, and it pages.
    let own = obs("web", Outcome::Fail, 4)
        .await
        .opened
        .expect("web opens again");
    assert_ne!(own.id, web.id);
    assert_eq!(own.suppressed_by, None);
    assert_eq!(store.outbox_depth().await.expect("depth"), 3);

    // A dependent that recovers while its parent is still down resolves
    // unannounced, as it opened.
    obs("web", Outcome::Pass, 5).await;
    let db2 = obs("db", Outcome::Fail, 6).await.opened.expect("db again");
    let web2 = obs("web", Outcome::Fail, 7)
        .await
        .opened
        .expect("web again");
    assert_eq!(web2.suppressed_by, Some(db2.id));
    let depth = store.outbox_depth().await.expect("depth");
    assert!(obs("web", Outcome::Pass, 8).await.resolved.is_some());
    assert_eq!(store.outbox_depth().await.expect("depth"), depth);
}

/// `notify = ["rotation:primary"]` pages whoever is on call when the
/// incident opens, through that contact's notifiers.
#[tokio::test]
async fn a_rotation_pages_whoever_is_on_call() {
    let (_dir, store) = fresh_store().await;
    let snap = snapshot_notifying(
        "[\"rotation:primary\"]",
        "\n[contacts.bob]\nnotify = [\"hook\"]\n\n[rotations.primary]\nmembers = [\"ops\", \"bob\"]\nshift = \"1d\"\nstart = 2026-12-01T09:00:00\ntimezone = \"UTC\"\n",
    );
    // 2 December 10:00 UTC: bob's day.
    let now = 1_796_205_600_000;
    observe(
        &store,
        &snap,
        "prod",
        "web",
        Outcome::Fail,
        "down",
        (1, 1),
        now,
    )
    .await
    .expect("observe")
    .opened
    .expect("opens");
    let queued = store.claim(now, 60_000, 10, 10, &[]).await.expect("claim");
    assert_eq!(
        queued
            .iter()
            .map(|n| n.contact.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
}

/// Level 1 pages at once, level 2 fifteen minutes later unless someone
/// acknowledged; the resolution reaches everyone who was paged.
#[tokio::test]
async fn escalation_pages_level_by_level_until_acknowledged() {
    let (_dir, store) = fresh_store().await;
    let snap = snapshot_notifying(
        "[\"ops\"]\nescalation = \"urgent\"",
        "\n[contacts.bob]\nnotify = [\"hook\"]\n\n[escalations.urgent]\nrepeat = true\n\n[[escalations.urgent.levels]]\nafter = \"0m\"\nnotify = [\"ops\"]\n\n[[escalations.urgent.levels]]\nafter = \"15m\"\nnotify = [\"bob\"]\n",
    );
    const MIN: i64 = 60_000;
    let t0 = 1_796_205_600_000;
    let incident = observe(
        &store,
        &snap,
        "prod",
        "web",
        Outcome::Fail,
        "down",
        (1, 1),
        t0,
    )
    .await
    .expect("observe")
    .opened
    .expect("opens");
    let level1 = ("incident.opened".to_owned(), "ops".to_owned(), Some(1));
    assert_eq!(
        paged(&store, incident.id).await,
        std::slice::from_ref(&level1)
    );
    stagegate_server::escalate(&store, &snap, &incident, t0 + 15 * MIN - 1)
        .await
        .expect("escalate");
    assert_eq!(paged(&store, incident.id).await.len(), 1, "not yet");
    stagegate_server::escalate(&store, &snap, &incident, t0 + 15 * MIN)
        .await
        .expect("escalate");
    let level2 = ("incident.escalated".to_owned(), "bob".to_owned(), Some(2));
    assert_eq!(paged(&store, incident.id).await, [level1, level2]);
    // Again: each level once.
    stagegate_server::escalate(&store, &snap, &incident, t0 + 16 * MIN)
        .await
        .expect("escalate");
    assert_eq!(paged(&store, incident.id).await.len(), 2);

    // Acknowledged before level 2: it never pages bob.
    let second = {
        let (_d, other) = fresh_store().await;
        let opened = observe(
            &other,
            &snap,
            "prod",
            "web",
            Outcome::Fail,
            "down",
            (1, 1),
            t0,
        )
        .await
        .expect("observe")
        .opened
        .expect("opens");
        let acked = other
            .acknowledge_incident(opened.id, "ops", t0 + 5 * MIN)
            .await
            .expect("ack")
            .expect("exists");
        stagegate_server::escalate(&other, &snap, &acked, t0 + 30 * MIN)
            .await
            .expect("escalate");
        let resolved = other
            .resolve_incident(opened.id, t0 + 40 * MIN)
            .await
            .expect("resolve")
            .expect("exists");
        stagegate_server::notify(
            &other,
            &snap,
            &resolved,
            "incident.resolved",
            "incident.resolved",
            t0 + 40 * MIN,
        )
        .await
        .expect("notify");
        let list: Vec<(String, String)> = other
            .incident_notifications(opened.id)
            .await
            .expect("list")
            .into_iter()
            .map(|n| (n.event, n.contact))
            .collect();
        (list, _d)
    };
    assert_eq!(
        second.0,
        [
            ("incident.opened".to_owned(), "ops".to_owned()),
            ("incident.resolved".to_owned(), "ops".to_owned()),
        ],
        "bob was never paged, so he is not told either"
    );

    // Resolved after both levels: both are told.
    let resolved = store
        .resolve_incident(incident.id, t0 + 20 * MIN)
        .await
        .expect("resolve")
        .expect("exists");
    stagegate_server::notify(
        &store,
        &snap,
        &resolved,
        "incident.resolved",
        "incident.resolved",
        t0 + 20 * MIN,
    )
    .await
    .expect("notify");
    let told: Vec<String> = paged(&store, incident.id)
        .await
        .into_iter()
        .filter(|(e, _, _)| e == "incident.resolved")
        .map(|(_, c, _)| c)
        .collect();
    assert_eq!(told, ["ops", "bob"]);
}

/// (event, contact, level) of what was queued about an incident.
async fn paged(store: &SqliteStore, incident: i64) -> Vec<(String, String, Option<u64>)> {
    store
        .incident_notifications(incident)
        .await
        .expect("notifications")
        .into_iter()
        .map(|n| {
            let level =
                serde_json::from_str::<serde_json::Value>(&n.payload).expect("payload")["level"]
                    .as_u64();
            (n.event, n.contact, level)
        })
        .collect()
}
