//! `stagegate agent --once --dry-run` on this machine, for real: every
//! collector runs or says why not, and the firewall is read inside a
//! network namespace with and without a default-drop ruleset.

use std::process::Command;

use stagegate_agent::Report;
use stagegate_test_support::*;

fn agent(prefix: &[&str]) -> (Report, String) {
    let bin = assert_cmd::cargo::cargo_bin("stagegate");
    let (program, args) = match prefix.split_first() {
        Some((p, rest)) => (
            p.to_string(),
            rest.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ),
        None => (bin.display().to_string(), Vec::new()),
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    if !prefix.is_empty() {
        cmd.arg(&bin);
    }
    let out = cmd
        .args([
            "agent",
            "--once",
            "--dry-run",
            "--format",
            "json",
            "--name",
            "db-1",
        ])
        .output()
        .expect("run the agent");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let report: Report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (report, stderr)
}

#[test]
fn every_collector_runs_or_says_why() {
    let (report, _) = agent(&[]);
    assert_eq!(report.server, "db-1");
    assert!(report.collected_at.ends_with('Z'));
    let names: Vec<&str> = report.collectors.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "os",
            "updates",
            "firewall",
            "listening",
            "ssh",
            "time",
            "disks",
            "logs"
        ]
    );
    for c in &report.collectors {
        assert!(matches!(c.status.as_str(), "ok" | "unavailable"), "{c:?}");
        if c.status == "unavailable" {
            assert!(c.note.as_deref().is_some_and(|n| !n.is_empty()), "{c:?}");
        }
    }
    // This machine is Debian with apt: updates are read for real.
    let os = report.os.as_ref().expect("os-release");
    assert_eq!(os.id, "debian");
    let updates = report.updates.as_ref().expect("apt-get -s");
    assert_eq!(updates.manager, "apt");
    assert!(updates.security.is_some_and(|s| s <= updates.pending));
    // The disks and the sockets come from /proc.
    assert!(
        report
            .disks
            .as_ref()
            .is_some_and(|d| d.iter().any(|d| d.mount == "/"))
    );
    assert!(report.listening.is_some());

    // The text form says the same, collector by collector.
    let out = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .args(["agent", "--once", "--dry-run", "--name", "db-1"])
        .output()
        .expect("run the agent");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("db-1 ("), "{text}");
    assert!(text.contains("updates     "), "{text}");
}

/// `stagegate agent --once` sending to `url` with `token`, its spool in
/// `spool`: (exit code, stderr).
fn send(url: &str, token: &str, spool: &std::path::Path) -> (i32, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .args([
            "agent", "--once", "--name", "db-1", "--server", url, "--token", token,
        ])
        .arg("--spool")
        .arg(spool)
        .env_remove("STAGEGATE_SERVER")
        .env_remove("STAGEGATE_TOKEN")
        .output()
        .expect("run the agent");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The stored reports of db-1, oldest stored first.
async fn stored(url: &str) -> Vec<stagegate_store::AgentReportRecord> {
    let store = stagegate_store::open(url).await.expect("open the store");
    let mut all = store.agent_reports("db-1", 100).await.expect("reports");
    all.sort_by_key(|r| r.id);
    all
}

/// Now, as a report dates it.
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    stagegate_spec::rfc3339(i64::try_from(secs).unwrap_or(0))
}

/// The agent's reports waiting in the spool, oldest first.
fn spooled(spool: &std::path::Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(spool)
        .expect("spool")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n != "package.json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("read"))
        .collect()
}

async fn end_to_end(db: Option<&str>) {
    let dir = TestSpec::new("Agents")
        .raw("[[environments.prod.servers]]\nname = \"db-1\"\nroles = [\"database\"]\nlocation = \"here\"\n\n[environments.prod.agent]\ninterval = \"1h\"\n")
        .dir();
    let root = dir.path().to_owned();
    let store_url = match db {
        Some(url) => url.to_owned(),
        None => format!("sqlite://{}", root.join("data/stagegate.db").display()),
    };
    let db = db.map(str::to_owned);
    let waiting = tokio::task::spawn_blocking({
        let root = root.clone();
        move || {
            let db = db.as_deref();
            let agent_token = token(&root, db, "agent", "db-1");
            let other = token(&root, db, "agent", "web-9");
            let viewer = token(&root, db, "viewer", "ci");
            let spool = root.join("spool");
            let server = start(&root, db);
            let url = format!("http://{}", server.addr);

            // Sent: stored, nothing left waiting.
            let (code, stderr) = send(&url, &agent_token, &spool);
            assert_eq!(code, 0, "{stderr}");
            assert!(spooled(&spool).is_empty());

            // The server judges from it, and so does CI through the server.
            let agent_rule = |doc: &serde_json::Value| {
                doc["environments"][0]["findings"]
                    .as_array()
                    .and_then(|f| f.iter().find(|f| f["rule"] == "SG-OPS-AGENT").cloned())
                    .unwrap_or_else(|| panic!("no SG-OPS-AGENT in {doc}"))
            };
            let (status, body) = http(server.addr, "GET", "/api/v1/environments", Some(&viewer), "");
            assert_eq!(status, 200, "{body}");
            let served = agent_rule(&json_body(&body));
            assert_eq!(served["status"], "pass", "{served}");
            assert_eq!(served["basis"], "observed", "{served}");
            assert_eq!(served["evidence"][0]["source"], "agent@db-1", "{served}");
            let (_, stdout, stderr) = run_in(
                &root,
                &["check", "--server", &url, "--token", &viewer, "--format", "json"],
            );
            let gated: serde_json::Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
            assert_eq!(agent_rule(&gated)["status"], "pass");
            let (status, _, page) = get_with(
                server.addr,
                "/servers",
                &format!("authorization: Bearer {viewer}\r\n"),
            );
            assert_eq!(status, 200, "{page}");
            for needle in ["<h3 id=\"server-db-1\">db-1</h3>", "Last report", "Updates", "agents report every 1h"] {
                assert!(page.contains(needle), "{needle} not in {page}");
            }

            // What the endpoint refuses, naming why; nothing is stored.
            let report = |server: &str, at: &str| {
                format!(r#"{{"server":"{server}","host":"h","collected_at":"{at}"}}"#)
            };
            let post = |token: &str, body: &str| {
                http(server.addr, "POST", "/api/v1/agents/report", Some(token), body)
            };
            let (status, body) = post(&agent_token, r#"{"server":"db-1","host":"h","collected_at":"2026-01-01T00:00:00Z","updates":{"manager":"apt","pending":-1}}"#);
            assert_eq!(status, 400, "{body}");
            assert!(body.contains("updates.pending"), "{body}");
            let (status, body) = post(&agent_token, &report("web-9", "2026-01-01T00:00:00Z"));
            assert_eq!(status, 422, "{body}");
            assert!(body.contains("reports for `db-1` only"), "{body}");
            let (status, body) = post(&other, &report("web-9", "2026-01-01T00:00:00Z"));
            assert_eq!(status, 422, "{body}");
            assert!(body.contains("no environment of the spec declares"), "{body}");
            let (status, body) = post(&agent_token, &report("db-1", "2999-01-01T00:00:00Z"));
            assert_eq!(status, 400, "{body}");
            assert!(body.contains("later than the server's clock"), "{body}");
            let (status, body) = post(&viewer, &report("db-1", "2026-01-01T00:00:00Z"));
            assert_eq!(status, 403, "a viewer is no agent: {body}");
            let (status, body) = http(server.addr, "GET", "/api/v1/environments", Some(&agent_token), "");
            assert_eq!(status, 403, "an agent reads nothing: {body}");
            let big = format!(
                r#"{{"server":"db-1","host":"{}","collected_at":"2026-01-01T00:00:00Z"}}"#,
                "x".repeat(1_100_000)
            );
            let (status, body) = post(&agent_token, &big);
            assert_eq!(status, 413, "{body}");

            // Values out of bounds and control characters are refused too.
            for (body, field) in [
                (r#"{"server":"db-1","host":"h","collected_at":"1970-01-01T00:00:00Z"}"#, "more than 31 days"),
                (r#"{"server":"db-1","host":"h\u001b[31m","collected_at":"2026-01-01T00:00:00Z"}"#, "`host` holds a control character"),
                (r#"{"server":"db-1","host":"h","collected_at":"2026-01-01T00:00:00Z","ssh":{"password_authentication":false,"permit_root_login":"sure"}}"#, "`ssh.permit_root_login`"),
                (r#"{"server":"db-1","host":"h","collected_at":"2026-01-01T00:00:00Z","logs":{"source":"journald","window":"100000000d","errors":1}}"#, "`logs.window`"),
            ] {
                let body = body.replace("2026-01-01T00:00:00Z", &now_rfc3339());
                let (status, reply) = post(&agent_token, &body);
                assert_eq!(status, 400, "{body}: {reply}");
                assert!(reply.contains(field), "{field} not in {reply}");
            }

            // An agent sending as another server: its report is dropped,
            // and --once says so in its exit status.
            let out = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
                .args(["agent", "--once", "--name", "web-9", "--server", &url, "--token", &agent_token])
                .arg("--spool")
                .arg(&spool)
                .output()
                .expect("run the agent");
            assert_eq!(out.status.code(), Some(1));
            assert!(String::from_utf8_lossy(&out.stderr).contains("dropped it"));
            // Files in the spool that are not the agent's are left alone.
            std::fs::write(spool.join("package.json"), "{}").expect("write");

            // No spool and no server: the report is lost, and said to be.
            let no_spool = root.join("not-a-directory");
            std::fs::write(&no_spool, "").expect("write");
            drop(server);
            let (code, stderr) = send(&url, &agent_token, &no_spool.join("spool"));
            assert_eq!(code, 1, "{stderr}");
            assert!(stderr.contains("cannot create the spool"), "{stderr}");
            assert!(stderr.contains("this report is lost"), "{stderr}");

            // The server away: reports wait in the spool, in order.
            for _ in 0..2 {
                let (code, stderr) = send(&url, &agent_token, &spool);
                assert_eq!(code, 1, "{stderr}");
                assert!(stderr.contains("waits in"), "{stderr}");
            }
            let waiting = spooled(&spool);
            assert_eq!(waiting.len(), 2);

            // Back: the waiting ones arrive first, oldest first, then the new one.
            let server = start(&root, db);
            let url = format!("http://{}", server.addr);
            let (code, stderr) = send(&url, &agent_token, &spool);
            assert_eq!(code, 0, "{stderr}");
            assert!(spooled(&spool).is_empty());
            assert!(spool.join("package.json").exists(), "not the agent's to delete");
            // A spool that cannot be made never stops a report.
            let (code, stderr) = send(&url, &agent_token, &no_spool.join("spool"));
            assert_eq!(code, 0, "{stderr}");
            assert!(stderr.contains("reports go without a spool"), "{stderr}");

            // A revoked token: the report waits for a valid one.
            let revoked = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
                .current_dir(&root)
                .args(["token", "revoke", agent_token.rsplit_once('_').map_or("", |(p, _)| p)])
                .args(stagegate_test_support::store_args(db))
                .output()
                .expect("revoke");
            assert!(revoked.status.success(), "{revoked:?}");
            let (code, stderr) = send(&url, &agent_token, &spool);
            assert_eq!(code, 1, "{stderr}");
            assert!(stderr.contains("401"), "{stderr}");
            assert_eq!(spooled(&spool).len(), 1);
            waiting
        }
    })
    .await
    .expect("join");
    // Stored in the order they were made: the first, the two that
    // waited, then the one made when the server was back, then the one
    // sent without a spool.
    let reports = stored(&store_url).await;
    assert_eq!(reports.len(), 5, "nothing refused was stored");
    let texts: Vec<&str> = reports.iter().map(|r| r.report.as_str()).collect();
    assert_eq!(
        texts[1..3],
        waiting.iter().map(|w| w.trim()).collect::<Vec<_>>()[..]
    );
    assert!(
        reports
            .windows(2)
            .all(|w| w[0].collected_at <= w[1].collected_at)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_reach_the_server_or_wait_for_it_on_sqlite() {
    end_to_end(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_reach_the_server_or_wait_for_it_on_postgres() {
    let Some(db) = PgDb::create("agent_reports").await else {
        return;
    };
    end_to_end(Some(&db.url)).await;
    db.drop_now().await;
}

/// A network namespace, removed when dropped.
struct Netns(String);

impl Netns {
    fn create(name: &str) -> Option<Netns> {
        let _ = Command::new("ip").args(["netns", "del", name]).output();
        let out = Command::new("ip")
            .args(["netns", "add", name])
            .output()
            .ok()?;
        out.status.success().then(|| Netns(name.to_owned()))
    }

    fn exec(&self, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(args)
            .output()
            .expect("ip netns exec")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

#[test]
fn the_firewall_is_read_from_the_kernel() {
    let Some(ns) = Netns::create("sg-agent-fw") else {
        skip(
            "the_firewall_is_read_from_the_kernel",
            "`ip netns add` failed: it needs root (CAP_SYS_ADMIN) and iproute2",
        );
        return;
    };
    // No ruleset: nothing filters inbound traffic.
    let (open, _) = agent(&["ip", "netns", "exec", "sg-agent-fw"]);
    let fw = open.firewall.expect("the firewall is readable as root");
    assert!(!fw.active, "{fw:?}");
    assert_eq!(fw.inbound_default, "accept");

    let ruleset = "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  iif lo accept\n  tcp dport 22 accept\n }\n}\n";
    let path = std::env::temp_dir().join("sg-agent-fw.nft");
    std::fs::write(&path, ruleset).expect("write the ruleset");
    let loaded = ns.exec(&["nft", "-f", &path.display().to_string()]);
    assert!(loaded.status.success(), "{loaded:?}");
    let (closed, _) = agent(&["ip", "netns", "exec", "sg-agent-fw"]);
    let fw = closed.firewall.expect("firewall");
    assert_eq!(
        (fw.backend.as_str(), fw.active, fw.inbound_default.as_str()),
        ("nftables", true, "drop")
    );
}

/// Runs `args`, failing the test with what it said when it fails.
fn must(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(out.status.success(), "{args:?}: {out:?}");
}

/// Programs listening on ports of every address, until dropped.
struct Listeners(std::process::Child);

impl Listeners {
    fn start(ns: &Netns, ports: &[u16]) -> Listeners {
        let script = format!(
            "import socket, sys\nsocks = []\nfor p in {ports:?}:\n    s = socket.socket()\n    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n    s.bind(('0.0.0.0', p))\n    s.listen(8)\n    socks.append(s)\nprint('ready', flush=True)\nsys.stdin.read()\n"
        );
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns.0, "python3", "-c", &script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
            &mut line,
        )
        .expect("read");
        assert_eq!(line, "ready\n");
        Listeners(child)
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server scans a host from outside while its agent says what listens
/// inside: a port listening everywhere that the firewall keeps in passes
/// as protected; one that answers from outside without being declared
/// fails, and so does a private port that answers. The host is a network
/// namespace behind a virtual link: the scan crosses the host's firewall
/// as another machine's would, and never leaves this one.
#[test]
fn what_answers_from_outside_is_compared_with_what_listens_inside() {
    let test = "what_answers_from_outside_is_compared_with_what_listens_inside";
    let Some(ns) = Netns::create("sg-agent-exp") else {
        skip(
            test,
            "`ip netns add` failed: it needs root (CAP_SYS_ADMIN) and iproute2",
        );
        return;
    };
    let _ = Command::new("ip")
        .args(["link", "del", "sg-exp-out"])
        .output();
    must(&[
        "ip",
        "link",
        "add",
        "sg-exp-out",
        "type",
        "veth",
        "peer",
        "name",
        "sg-exp-in",
        "netns",
        "sg-agent-exp",
    ]);
    must(&["ip", "addr", "add", "10.231.77.1/30", "dev", "sg-exp-out"]);
    must(&["ip", "link", "set", "sg-exp-out", "up"]);
    for args in [
        &["ip", "addr", "add", "10.231.77.2/30", "dev", "sg-exp-in"][..],
        &["ip", "link", "set", "sg-exp-in", "up"],
        &["ip", "link", "set", "lo", "up"],
    ] {
        let out = ns.exec(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    let firewall = |open: &str| {
        let ruleset = format!(
            "flush ruleset\ntable inet filter {{\n chain input {{\n  type filter hook input priority 0; policy drop;\n  iif lo accept\n  ct state established,related accept\n  tcp dport {{ {open} }} accept\n }}\n}}\n"
        );
        let path = std::env::temp_dir().join("sg-agent-exp.nft");
        std::fs::write(&path, ruleset).expect("write the ruleset");
        let loaded = ns.exec(&["nft", "-f", &path.display().to_string()]);
        assert!(loaded.status.success(), "{loaded:?}");
    };
    // 8443 public, 15432 private, 6379 and 9090 declared neither.
    let _listeners = Listeners::start(&ns, &[8443, 15432, 6379, 9090]);
    firewall("8443, 9090, 15432");

    let dir = TestSpec::new("Exposed")
        .mode("production")
        .check("scan", "ports", "host = \"10.231.77.2\"\ninterval = \"1s\"")
        .raw("[[environments.prod.servers]]\nname = \"db-1\"\nroles = [\"database\"]\nlocation = \"here\"\nhost = \"10.231.77.2\"\n\n[environments.prod.agent]\ninterval = \"1h\"\n\n[environments.prod.security]\nfirewall = true\npublic_ports = [8443]\nprivate_ports = [15432]\n")
        .dir();
    let root = dir.path();
    let agent_token = token(root, None, "agent", "db-1");
    let viewer = token(root, None, "viewer", "ci");
    let server = start(root, None);
    let report = || {
        let (inside, _) = agent(&["ip", "netns", "exec", "sg-agent-exp"]);
        let (status, body) = http(
            server.addr,
            "POST",
            "/api/v1/agents/report",
            Some(&agent_token),
            &serde_json::to_string(&inside).expect("json"),
        );
        assert_eq!(status, 201, "{body}");
    };
    let exposure = || {
        let (status, body) = http(
            server.addr,
            "GET",
            "/api/v1/environments",
            Some(&viewer),
            "",
        );
        assert_eq!(status, 200, "{body}");
        json_body(&body)["environments"][0]["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["rule"] == "SG-SEC-EXPOSURE").cloned())
            .unwrap_or_else(|| panic!("no SG-SEC-EXPOSURE in {body}"))
    };
    report();

    // The firewall lets 9090 and the private 15432 through.
    let loose = wait_for("a scan that sees 9090 answer", 60, || {
        Some(exposure()).filter(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.contains("9090") && m.contains("15432"))
        })
    });
    let message = loose["message"].as_str().unwrap_or_default();
    assert_eq!(loose["status"], "fail", "{loose}");
    assert!(
        message.contains("private port 15432/tcp (python3) answers from outside"),
        "{message}"
    );
    assert!(
        message.contains("9090/tcp (python3)") && message.contains("declared neither"),
        "{message}"
    );

    // Only the public port through: the others listen, kept in.
    firewall("8443");
    report();
    let tight = wait_for("a scan that sees only 8443 answer", 60, || {
        Some(exposure()).filter(|f| f["status"] == "pass")
    });
    let message = tight["message"].as_str().unwrap_or_default();
    assert_eq!(tight["basis"], "observed", "{tight}");
    assert!(
        message.contains("6379/tcp (python3) and 9090/tcp (python3)")
            && message.contains("protected by the firewall"),
        "{message}"
    );
    assert!(
        !message.contains("15432"),
        "a private port kept in is as declared: {message}"
    );
    let firewall_rule = {
        let (_, body) = http(
            server.addr,
            "GET",
            "/api/v1/environments",
            Some(&viewer),
            "",
        );
        json_body(&body)["environments"][0]["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["rule"] == "SG-SEC-FIREWALL").cloned())
            .expect("SG-SEC-FIREWALL")
    };
    assert_eq!(firewall_rule["status"], "pass", "{firewall_rule}");
    assert_eq!(firewall_rule["basis"], "observed", "{firewall_rule}");

    // What the agent observed turns controls met: its automated reading
    // of pending security updates is SI-2(2) itself; the inbound default it
    // saw is only part of SC-7(5), which also asks about outbound traffic.
    let (status, body) = http(
        server.addr,
        "GET",
        "/api/v1/compliance/fisma",
        Some(&viewer),
        "",
    );
    assert_eq!(status, 200, "{body}");
    let doc = json_body(&body);
    let control = |id: &str| {
        doc["environments"][0]["controls"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == id).cloned())
            .unwrap_or_else(|| panic!("no {id}"))
    };
    let flaws = control("SI-2(2)");
    assert_eq!(flaws["status"], "met", "{flaws}");
    assert_eq!(flaws["basis"], "observed", "{flaws}");
    let deny = control("SC-7(5)");
    assert_eq!(deny["status"], "manual", "{deny}");
    assert!(
        deny["reason"]
            .as_str()
            .is_some_and(|r| r.contains("SG-SEC-FIREWALL evidences part of it")),
        "{deny}"
    );
}

#[test]
fn a_silent_agent_opens_an_incident_and_its_next_report_resolves_it() {
    let dir = TestSpec::new("Quiet")
        .raw("[[environments.prod.servers]]\nname = \"db-1\"\nroles = [\"database\"]\nlocation = \"here\"\n\n[environments.prod.agent]\ninterval = \"2s\"\n")
        .dir();
    let root = dir.path();
    let agent_token = token(root, None, "agent", "db-1");
    let viewer = token(root, None, "viewer", "ci");
    let server = start(root, None);
    let url = format!("http://{}", server.addr);
    let spool = root.join("spool");
    let incident = || {
        let (status, body) = http(server.addr, "GET", "/api/v1/incidents", Some(&viewer), "");
        assert_eq!(status, 200, "{body}");
        json_body(&body)["incidents"].as_array().and_then(|all| {
            all.iter()
                .find(|i| i["check"] == "prod/agent:db-1")
                .cloned()
        })
    };
    let (code, stderr) = send(&url, &agent_token, &spool);
    assert_eq!(code, 0, "{stderr}");
    // Twice the interval without a report.
    let opened = wait_for("the silent agent's incident", 30, || {
        incident().filter(|i| i["state"] == "open")
    });
    assert!(
        opened["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("agent silent: no report from db-1")),
        "{opened}"
    );
    // The incident links to what the agent last reported.
    let page = |path: &str| {
        let (status, _, page) = get_with(
            server.addr,
            path,
            &format!("authorization: Bearer {viewer}\r\n"),
        );
        assert_eq!(status, 200, "{path}: {page}");
        page
    };
    assert!(
        page("/incidents").contains("<a href=\"/servers#server-db-1\">agent:db-1</a>"),
        "{}",
        page("/incidents")
    );
    assert!(page("/servers").contains("<h3 id=\"server-db-1\">db-1</h3>"));
    // A reload keeps watching (the agent heartbeats are the spec's too).
    let pid = rustix::process::Pid::from_raw(i32::try_from(server.child.id()).expect("pid"))
        .expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::HUP).expect("SIGHUP");
    wait_for("the reload", 30, || {
        server.logged("spec reloaded").then_some(())
    });
    assert!(
        !server.logged("its check was removed"),
        "{}",
        server.log_text()
    );
    assert_eq!(incident().expect("the incident")["state"], "open");
    let (code, stderr) = send(&url, &agent_token, &spool);
    assert_eq!(code, 0, "{stderr}");
    wait_for("the next report to resolve it", 30, || {
        incident().filter(|i| i["state"] == "resolved")
    });
    // Its heartbeat takes no pings from outside.
    let (status, _) = http(
        server.addr,
        "POST",
        "/ping/%1Fagent%2Fprod%2Fdb-1",
        None,
        "",
    );
    assert_eq!(status, 404);
}

#[test]
fn a_tool_that_hangs_is_stopped_and_its_collector_says_so() {
    // An apt-get that waits forever, as one waiting on dpkg's lock does.
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join("apt-get");
    std::fs::write(&fake, "#!/bin/sh\nexec sleep 600\n").expect("write");
    let mut perms = std::fs::metadata(&fake).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&fake, perms).expect("chmod");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .args([
            "agent",
            "--dry-run",
            "--format",
            "json",
            "--tool-timeout",
            "500ms",
        ])
        .env("PATH", path)
        .output()
        .expect("run the agent");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Report = serde_json::from_slice(&out.stdout).expect("a report");
    assert!(report.updates.is_none());
    let updates = report
        .collectors
        .iter()
        .find(|c| c.name == "updates")
        .expect("the updates collector");
    assert_eq!(updates.status, "unavailable");
    assert_eq!(
        updates.note.as_deref(),
        Some("apt-get did not finish within 500 ms; it was stopped")
    );
    // The others still ran.
    assert!(report.disks.is_some() && report.listening.is_some());
    // And nothing was left waiting.
    let ps = Command::new("pgrep")
        .args(["-f", "sleep 600"])
        .output()
        .expect("pgrep");
    assert!(ps.stdout.is_empty(), "the hung tool is still running");
}

#[test]
fn the_systemd_units_verify_clean() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        skip(
            "the_systemd_units_verify_clean",
            "systemd-analyze is not installed",
        );
        return;
    };
    assert!(probe.status.success());
    let bin = assert_cmd::cargo::cargo_bin("stagegate");
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut units = Vec::new();
    for unit in [
        "stagegate.service",
        "stagegate-agent.service",
        "stagegate-agent.timer",
    ] {
        let text = std::fs::read_to_string(deploy.join(unit))
            .expect("read the unit")
            .replace("/usr/local/bin/stagegate", &bin.display().to_string());
        let path = dir.path().join(unit);
        std::fs::write(&path, text).expect("write");
        units.push(path);
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&units)
        .output()
        .expect("systemd-analyze verify");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}
