//! The server's connections under hostile and broken clients: half-sent
//! headers and bodies are cut off, one address cannot take every
//! connection, descriptors stay free for the store and deliveries, and a
//! shutdown ends within its deadline.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stagegate_test_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A staging environment with one daily heartbeat, `nightly`.
fn nightly(product: &str) -> TestSpec {
    TestSpec::new(product).heartbeat("nightly", "1d", "")
}

/// A connection from `from` (any 127.0.0.0/8 address) to `to`.
async fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{from}:0").parse().expect("addr"))?;
    socket.connect(to).await
}

/// Reads until the server closes the connection; what it sent, and when.
async fn until_closed(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, s.read_to_end(&mut out)).await;
    assert!(
        read.is_ok(),
        "the server kept a stalled connection open for {limit:?}"
    );
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_and_idle_connections_are_cut_off() {
    let dir = nightly("Conns").dir();
    let server = start_with(
        dir.path(),
        None,
        &["--header-timeout", "1s", "--body-timeout", "1s"],
    );

    // Half a header.
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let (_, took) = until_closed(&mut s, Duration::from_secs(30)).await;
    eprintln!("partial header closed after {took:?}");

    // Half a body: answered 408, then closed.
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    s.write_all(b"POST /ping/nightly-token/log HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nonly ten b")
        .await
        .expect("write");
    let (reply, took) = until_closed(&mut s, Duration::from_secs(30)).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    eprintln!("partial body answered 408 after {took:?}");

    // A kept-alive connection that goes quiet is closed too.
    let mut s = TcpStream::connect(server.addr).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    until_closed(&mut s, Duration::from_secs(30)).await;

    // Whole requests are served as ever.
    assert_eq!(http(server.addr, "GET", "/healthz", None, "").0, 200);
}

/// Every connection taken by clients that send half a header, from many
/// addresses: those that waited past the grace are cut for the next
/// client, long before their header timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_addresses_cannot_keep_everyone_out_until_their_timeout() {
    let dir = nightly("Conns").dir();
    let server = start_with(
        dir.path(),
        None,
        &["--header-timeout", "120s", "--max-connections", "16"],
    );
    let mut held = Vec::new();
    for i in 0..16 {
        let from = format!("127.0.1.{}", 2 + i % 4);
        let mut s = connect_from(&from, server.addr).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
            .await
            .expect("write");
        held.push(s);
    }
    let addr = server.addr;
    let answered = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        (http(addr, "GET", "/healthz", None, "").0, started.elapsed())
    });
    let (status, took) = tokio::time::timeout(Duration::from_secs(30), answered)
        .await
        .expect("answered before the header timeout of the stalled clients")
        .expect("join");
    assert_eq!(status, 200);
    eprintln!("a new client was served after {took:?} with every connection stalled");
    // The stalled ones were cut, not answered.
    let (reply, _) = until_closed(&mut held[0], Duration::from_secs(30)).await;
    assert!(reply.is_empty(), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_every_connection() {
    let dir = nightly("Conns").dir();
    let server = start_with(
        dir.path(),
        None,
        &[
            "--header-timeout",
            "60s",
            "--max-connections-per-client",
            "20",
        ],
    );
    let mut held = Vec::new();
    for _ in 0..60 {
        let mut s = connect_from("127.0.0.2", server.addr)
            .await
            .expect("connect");
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n").await;
        held.push(s);
    }
    // Those over the address's share are closed at once.
    let mut closed = 0;
    for s in &mut held {
        let mut buf = [0u8; 16];
        // Closed (or reset: what the client sent was never read).
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await
        {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 40,
        "all but 20 of 60 connections from 127.0.0.2 refused"
    );
    // Everyone else is served while they hang.
    assert_eq!(http(server.addr, "GET", "/healthz", None, "").0, 200);
    assert_eq!(
        http(server.addr, "POST", "/ping/nightly-token", None, "").0,
        200
    );
}

/// With few descriptors, a flood of stalled connections from many
/// addresses neither starves deliveries of descriptors nor stops the
/// server from serving once stalled clients time out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_near_the_descriptor_limit_leaves_room_for_deliveries() {
    let seen: Received = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(seen.clone()).await;
    let spec = nightly("Flood").webhook("hook", format!("http://{hook}/hook"));
    let dir = spec.dir();
    // The server under `ulimit -n 256`: 128 descriptors for connections.
    let bin = assert_cmd::cargo::cargo_bin("stagegate");
    let script = format!(
        "ulimit -n 256 && exec {} serve --listen 127.0.0.1:0 --data-dir data --tick 200ms --header-timeout 2s",
        bin.display()
    );
    let mut child = std::process::Command::new("sh")
        .current_dir(dir.path())
        .args(["-c", &script])
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        use std::io::BufRead;
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().expect("log").push(line);
            }
        });
    }
    let addr: SocketAddr = wait_for("serve to listen", 60, || {
        log.lock()
            .ok()?
            .iter()
            .find_map(|l| l.split("listening on http://").nth(1))
            .and_then(|a| a.split_whitespace().next())
            .and_then(|a| a.parse().ok())
    });
    // 300 stalled connections from ten addresses.
    let mut held = Vec::new();
    for i in 0..300 {
        let from = format!("127.0.0.{}", 2 + i % 10);
        if let Ok(mut s) = connect_from(&from, addr).await {
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n").await;
            held.push(s);
        }
    }
    // A failure reported meanwhile is recorded and delivered.
    let ping = tokio::task::spawn_blocking(move || {
        http(addr, "POST", "/ping/nightly-token/fail", None, "").0
    });
    assert_eq!(ping.await.expect("join"), 200);
    wait_for("the incident delivered", 60, || {
        seen.lock()
            .expect("seen")
            .iter()
            .any(|(_, b)| b.contains("\"event\":\"incident.opened\""))
            .then_some(())
    });
    let text = log.lock().expect("log").join("\n");
    assert!(
        !text.contains("Too many open files") && !text.contains("delivery failed"),
        "{text}"
    );
    drop(held);
    let _ = child.kill();
    let _ = child.wait();
}

/// Whether the server's end of the connection from `client` has been
/// accepted and everything sent on it read (its receive queue is empty),
/// from the kernel's table of TCP sockets.
fn read_by_server(server: SocketAddr, client: SocketAddr) -> bool {
    fn hex(a: SocketAddr) -> String {
        match a {
            SocketAddr::V4(v4) => {
                let o = v4.ip().octets();
                format!(
                    "{:02X}{:02X}{:02X}{:02X}:{:04X}",
                    o[3],
                    o[2],
                    o[1],
                    o[0],
                    v4.port()
                )
            }
            SocketAddr::V6(_) => String::new(),
        }
    }
    let (local, remote) = (hex(server), hex(client));
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 4 && f[1] == local && f[2] == remote).then(|| f[4].to_owned())
        })
        .any(|queues| queues.ends_with(":00000000"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_ends_within_its_deadline_whatever_clients_do() {
    let dir = nightly("Conns").dir();
    let mut server = start_with(
        dir.path(),
        None,
        &[
            "--header-timeout",
            "120s",
            "--body-timeout",
            "120s",
            "--shutdown-timeout",
            "2s",
        ],
    );
    let mut half_header = TcpStream::connect(server.addr).await.expect("connect");
    half_header
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let mut half_body = TcpStream::connect(server.addr).await.expect("connect");
    half_body
        .write_all(b"POST /ping/nightly-token/log HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nten bytes.")
        .await
        .expect("write");
    // Both requests are in the server's hands before it is told to stop.
    for s in [&half_header, &half_body] {
        let client = s.local_addr().expect("addr");
        wait_for("the server to read what was sent", 30, || {
            read_by_server(server.addr, client).then_some(())
        });
    }
    let pid = server.child.id().to_string();
    let asked = Instant::now();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let status = wait_for("the server to exit", 30, || {
        server.child.try_wait().expect("wait")
    });
    eprintln!("stopped {:?} after SIGTERM", asked.elapsed());
    assert!(status.success(), "{status:?}\n{}", server.log_text());
    assert!(
        server.logged("shutdown deadline passed"),
        "{}",
        server.log_text()
    );
}
