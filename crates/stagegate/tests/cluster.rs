//! Cluster mode end to end: several `stagegate serve` nodes on loopback in
//! different "locations", sharing this machine's PostgreSQL. The target
//! tells the locations apart by the probes' User-Agent and fails for the
//! ones the test chooses.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use stagegate_test_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers 503 to probes from the locations in `failing`, 200 to others;
/// remembers every location it heard from.
async fn target(
    failing: Arc<Mutex<HashSet<String>>>,
    heard: Arc<Mutex<HashSet<String>>>,
) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let (failing, heard) = (failing.clone(), heard.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let Ok(n) = s.read(&mut buf).await else {
                    return;
                };
                let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                let location = head
                    .lines()
                    .find_map(|l| l.strip_prefix("user-agent: "))
                    .and_then(|ua| ua.split("(location=").nth(1))
                    .map(|l| l.trim_end_matches(')').trim().to_owned())
                    .unwrap_or_default();
                heard.lock().expect("heard").insert(location.clone());
                let down = failing.lock().expect("failing").contains(&location);
                let reply: &[u8] = if down {
                    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndown"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                };
                let _ = s.write_all(reply).await;
            });
        }
    });
    addr
}

fn spec(target: SocketAddr, hook: SocketAddr) -> TestSpec {
    TestSpec::new("Cluster test")
        .webhook("hook", format!("http://{hook}/hook"))
        .check(
            "web",
            "http",
            &format!(
                "url = \"http://{target}/health\"\ninterval = \"300ms\"\nfailure_threshold = 1\nsuccess_threshold = 1"
            ),
        )
        .check(
            "nightly",
            "heartbeat",
            "token = \"cluster-ping-token\"\ninterval = \"1h\"\nsuccess_threshold = 1",
        )
}

/// Three nodes in fra, ams and nyc on one fresh database, probing a target
/// whose answer each location decides, and notifying a receiver.
struct Fixture {
    db: PgDb,
    failing: Arc<Mutex<HashSet<String>>>,
    heard: Arc<Mutex<HashSet<String>>>,
    seen: Received,
    dir: tempfile::TempDir,
    viewer: String,
    nodes: Vec<Node>,
}

async fn three_nodes(database: &str) -> Option<Fixture> {
    let db = PgDb::create(database).await?;
    let failing = Arc::new(Mutex::new(HashSet::new()));
    let heard = Arc::new(Mutex::new(HashSet::new()));
    let target = target(failing.clone(), heard.clone()).await;
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let dir = spec(target, hook).dir();
    let viewer = token(dir.path(), Some(&db.url), "viewer", "vic");
    let nodes = [("n1", "fra"), ("n2", "ams"), ("n3", "nyc")]
        .iter()
        .map(|(n, l)| start_node(dir.path(), &db.url, n, l, &[]))
        .collect();
    Some(Fixture {
        db,
        failing,
        heard,
        seen,
        dir,
        viewer,
        nodes,
    })
}

struct Node {
    server: Server,
    name: String,
}

fn start_node(dir: &std::path::Path, db: &str, name: &str, location: &str, extra: &[&str]) -> Node {
    let mut args = vec!["--node", name, "--location", location];
    args.extend_from_slice(extra);
    Node {
        server: start_with(dir, Some(db), &args),
        name: name.to_owned(),
    }
}

fn get(addr: SocketAddr, path: &str, token: &str) -> serde_json::Value {
    let (status, body) = http(addr, "GET", path, Some(token), "");
    assert_eq!(status, 200, "{path}: {body}");
    json_body(&body)
}

fn events(seen: &Mutex<Vec<(String, String)>>, event: &str) -> usize {
    seen.lock()
        .expect("seen")
        .iter()
        .filter(|(_, body)| body.contains(&format!("\"event\":\"{event}\"")))
        .count()
}

/// Waits until `node` (the leader) has been through its loop twice more:
/// it has counted every vote cast before the call at least once.
fn decided_since_now(addr: SocketAddr, token: &str, node: &str) {
    let last_seen = || {
        get(addr, "/api/v1/cluster", token)["nodes"]
            .as_array()
            .and_then(|l| l.iter().find(|n| n["name"] == node))
            .and_then(|n| n["last_seen"].as_i64())
    };
    let mut seen = last_seen();
    for _ in 0..2 {
        seen = Some(wait_for("another pass of the leader", 30, || {
            last_seen().filter(|now| Some(*now) != seen)
        }));
    }
}

/// The leader has counted every vote cast before the call and delivered
/// everything that followed: nothing more will arrive from what happened
/// so far.
fn settled(addr: SocketAddr, token: &str, nodes: usize) {
    let name = leader(addr, token, nodes);
    decided_since_now(addr, token, &name);
    wait_for("an empty outbox", 30, || {
        let (_, m) = http(addr, "GET", "/metrics", None, "");
        m.lines()
            .any(|l| l == "stagegate_outbox_depth 0")
            .then_some(())
    });
    decided_since_now(addr, token, &name);
}

/// The leader's name, once every node is alive and one leads.
fn leader(addr: SocketAddr, token: &str, nodes: usize) -> String {
    wait_for("a leader among live nodes", 20, || {
        let doc = get(addr, "/api/v1/cluster", token);
        let list = doc["nodes"].as_array()?;
        let live = list.iter().filter(|n| n["live"] == true).count();
        let leaders: Vec<&str> = list
            .iter()
            .filter(|n| n["leader"] == true)
            .filter_map(|n| n["name"].as_str())
            .collect();
        (live == nodes && leaders.len() == 1).then(|| leaders[0].to_owned())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_locations_agree_before_anyone_is_paged() {
    let Some(Fixture {
        db,
        failing,
        heard,
        seen,
        dir: _dir,
        viewer,
        mut nodes,
    }) = three_nodes("cluster3").await
    else {
        return;
    };
    let any = nodes[0].server.addr;
    leader(any, &viewer, 3);
    wait_for("probes from every location", 20, || {
        (heard.lock().expect("heard").len() >= 3).then_some(())
    });
    assert!(
        heard.lock().expect("heard").is_superset(
            &["fra", "ams", "nyc"]
                .map(String::from)
                .into_iter()
                .collect()
        )
    );

    // A heartbeat ping reaches any node; the leader judges it for all.
    let first_leader = leader(any, &viewer, 3);
    let follower = nodes
        .iter()
        .find(|n| n.name != first_leader)
        .expect("a follower");
    assert_eq!(
        http(
            follower.server.addr,
            "POST",
            "/ping/cluster-ping-token",
            None,
            ""
        )
        .0,
        200
    );
    let elsewhere = nodes
        .iter()
        .find(|n| n.name != follower.name)
        .expect("another node")
        .server
        .addr;
    wait_for("the heartbeat judged up", 20, || {
        let doc = get(elsewhere, "/api/v1/checks", &viewer);
        doc["checks"]
            .as_array()?
            .iter()
            .any(|c| c["name"] == "nightly" && c["status"] == "up")
            .then_some(())
    });

    // One location sees it down: its node votes down, nobody is paged.
    failing.lock().expect("failing").insert("fra".to_owned());
    wait_for("fra's down vote", 20, || {
        let doc = get(any, "/api/v1/cluster", &viewer);
        doc["votes"]
            .as_array()?
            .iter()
            .any(|v| v["location"] == "fra" && v["status"] == "down")
            .then_some(())
    });
    // The dashboard shows each location's vote.
    let (status, page) = http(any, "GET", "/monitors/prod/web", Some(&viewer), "");
    assert_eq!(status, 200);
    assert!(page.contains("Votes by location"), "{page}");
    assert!(
        page.contains(
            "<td>n1</td><td>fra</td><td><span class=\"down\">down</span></td><td>yes</td>"
        ),
        "{page}"
    );
    settled(any, &viewer, 3);
    let incidents = get(any, "/api/v1/incidents", &viewer);
    assert_eq!(
        incidents["incidents"].as_array().map(Vec::len),
        Some(0),
        "{incidents}"
    );
    assert_eq!(events(&seen, "incident.opened"), 0);

    // Every location sees it down: one incident, one notification.
    failing
        .lock()
        .expect("failing")
        .extend(["ams".to_owned(), "nyc".to_owned()]);
    wait_for("the incident", 20, || {
        let doc = get(any, "/api/v1/incidents", &viewer);
        (doc["incidents"].as_array()?.len() == 1).then_some(())
    });
    wait_for("the notification", 20, || {
        (events(&seen, "incident.opened") >= 1).then_some(())
    });
    let incident = &get(any, "/api/v1/incidents", &viewer)["incidents"][0];
    assert!(
        incident["message"]
            .as_str()
            .unwrap_or_default()
            .contains("down from"),
        "{incident}"
    );

    // The leader dies mid-incident; another takes over and sends the one
    // resolve notification when the target recovers.
    let dead = leader(any, &viewer, 3);
    let i = nodes
        .iter()
        .position(|n| n.name == dead)
        .expect("leader node");
    let mut gone = nodes.remove(i);
    gone.server.child.kill().expect("kill -9");
    let _ = gone.server.child.wait();
    let alive = nodes[0].server.addr;
    failing.lock().expect("failing").clear();
    wait_for("the resolve notification", 30, || {
        (events(&seen, "incident.resolved") >= 1).then_some(())
    });
    settled(alive, &viewer, 2);
    assert_eq!(events(&seen, "incident.opened"), 1, "no duplicate open");
    assert_eq!(events(&seen, "incident.resolved"), 1, "exactly one resolve");
    let new_leader = leader(alive, &viewer, 2);
    assert_ne!(new_leader, dead);
    let doc = get(alive, "/api/v1/cluster", &viewer);
    let dead_row = doc["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["name"] == dead.as_str())
        .expect("dead node row");
    assert_eq!(
        (dead_row["live"].clone(), dead_row["leader"].clone()),
        (false.into(), false.into()),
        "{doc}"
    );
    drop(nodes);
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_with_two_cut_off_still_decide_correctly() {
    let Some(db) = PgDb::create("cluster5").await else {
        return;
    };
    let failing = Arc::new(Mutex::new(HashSet::new()));
    let heard = Arc::new(Mutex::new(HashSet::new()));
    let target = target(failing.clone(), heard.clone()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    // Reference targets: one that answers, one that does not.
    let reachable = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let reachable_addr = reachable.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = reachable.accept().await {
            let _ = s
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    let unreachable = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let dir = spec(target, hook).dir();
    let viewer = token(dir.path(), Some(&db.url), "viewer", "vic");
    let ok_ref = format!("http://{reachable_addr}/");
    let cut_ref = format!("http://{unreachable}/");
    let nodes: Vec<Node> = [
        ("n1", "fra", &ok_ref),
        ("n2", "ams", &ok_ref),
        ("n3", "nyc", &ok_ref),
        ("n4", "sfo", &cut_ref),
        ("n5", "sin", &cut_ref),
    ]
    .iter()
    .map(|(n, l, r)| start_node(dir.path(), &db.url, n, l, &["--reference", r]))
    .collect();
    let any = nodes[0].server.addr;
    leader(any, &viewer, 5);
    wait_for("two nodes abstaining", 20, || {
        let doc = get(any, "/api/v1/cluster", &viewer);
        let abstaining: Vec<&str> = doc["nodes"]
            .as_array()?
            .iter()
            .filter(|n| n["abstaining"] == true)
            .filter_map(|n| n["name"].as_str())
            .collect();
        (abstaining == ["n4", "n5"]).then_some(())
    });

    // The cut-off nodes see everything down: they abstain, nobody is paged.
    failing
        .lock()
        .expect("failing")
        .extend(["sfo".to_owned(), "sin".to_owned()]);
    wait_for("the cut-off nodes' down votes", 20, || {
        let doc = get(any, "/api/v1/cluster", &viewer);
        (doc["votes"]
            .as_array()?
            .iter()
            .filter(|v| v["status"] == "down")
            .count()
            == 2)
            .then_some(())
    });
    let leader_name = leader(any, &viewer, 5);
    decided_since_now(any, &viewer, &leader_name);
    let incidents = get(any, "/api/v1/incidents", &viewer);
    assert_eq!(
        incidents["incidents"].as_array().map(Vec::len),
        Some(0),
        "{incidents:#}"
    );

    // Two of the three voting locations see it down: a quorum.
    failing
        .lock()
        .expect("failing")
        .extend(["fra".to_owned(), "ams".to_owned()]);
    wait_for("the incident", 20, || {
        (get(any, "/api/v1/incidents", &viewer)["incidents"]
            .as_array()?
            .len()
            == 1)
            .then_some(())
    });
    wait_for("one notification", 20, || {
        (events(&seen, "incident.opened") == 1).then_some(())
    });
    settled(any, &viewer, 5);
    assert_eq!(
        events(&seen, "incident.opened"),
        1,
        "{:#?}",
        seen.lock().expect("seen")
    );
    drop(nodes);
    db.drop_now().await;
}

/// A node started before its PostgreSQL is reachable waits for it instead
/// of exiting, and serves once it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_waits_for_a_store_that_is_not_up_yet() {
    let Some(db) = PgDb::create("late_store").await else {
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let late = db
        .url
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{port}"));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nname = \"Late\"\n\n[environments.dev]\nmode = \"development\"\n",
    )
    .expect("spec");
    let (mut child, log) = spawn_serve(dir.path(), Some(&late), &["--node", "n1"], &[]);
    let says = |what: &str| {
        log.lock()
            .expect("log")
            .iter()
            .any(|l| l.contains(what))
            .then_some(())
    };
    wait_for("the node to wait for its store", 30, || {
        says("the store is not ready; trying again")
    });
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the node exited instead of waiting: {:?}",
        log.lock().expect("log")
    );
    // PostgreSQL "comes up" on that port: a proxy to the real one.
    let l = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = l.accept().await {
            tokio::spawn(async move {
                if let Ok(mut pg) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut pg).await;
                }
            });
        }
    });
    wait_for("the node to serve once its store answers", 60, || {
        says("listening on http://")
    });
    let _ = child.kill();
    let _ = child.wait();
    db.drop_now().await;
}

/// Two of three locations go dark: the survivor alone never pages on its
/// own view, and everyone learns that monitoring is degraded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_live_location_of_three_pages_nobody_and_says_monitoring_is_degraded() {
    let Some(Fixture {
        db,
        failing,
        heard: _,
        seen,
        dir: _dir,
        viewer,
        mut nodes,
    }) = three_nodes("cluster_dark").await
    else {
        return;
    };
    leader(nodes[0].server.addr, &viewer, 3);
    // fra and ams go dark; nyc alone sees the target down.
    let survivor = nodes.remove(2);
    drop(nodes);
    failing.lock().expect("failing").insert("nyc".to_owned());
    let degraded = wait_for("the degraded-monitoring incident", 60, || {
        get(survivor.server.addr, "/api/v1/incidents", &viewer)["incidents"]
            .as_array()?
            .iter()
            .find(|i| i["check"] == "prod/@monitoring")
            .cloned()
    });
    assert!(
        degraded["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("monitoring degraded: 1 of 3 locations live")),
        "{degraded}"
    );
    wait_for("the degraded notice delivered", 20, || {
        seen.lock()
            .expect("seen")
            .iter()
            .any(|(_, b)| b.contains("\"check\":\"@monitoring\""))
            .then_some(())
    });
    // nyc's own down vote is in, and decides nothing.
    wait_for("nyc's down vote", 20, || {
        get(survivor.server.addr, "/api/v1/cluster", &viewer)["votes"]
            .as_array()?
            .iter()
            .any(|v| v["node"] == "n3" && v["status"] == "down")
            .then_some(())
    });
    decided_since_now(survivor.server.addr, &viewer, "n3");
    let incidents = get(survivor.server.addr, "/api/v1/incidents", &viewer);
    assert!(
        !incidents["incidents"]
            .as_array()
            .is_some_and(|l| l.iter().any(|i| i["check"] == "prod/web")),
        "{incidents}"
    );
    assert_eq!(
        events(&seen, "incident.opened"),
        1,
        "only the degraded notice"
    );
    drop(survivor);
    db.drop_now().await;
}
