//! Servers on 127.0.0.1 that the server under test talks to: a target that
//! answers up or down as the test decides, a webhook receiver that keeps
//! what it was sent, and a black hole that accepts connections and never
//! answers (a notifier that hangs).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// `(lower-cased head, body)` of every request a receiver accepted.
pub type Received = Arc<Mutex<Vec<(String, String)>>>;

/// Whether a [`switchable_target`] answers 200 (true) or 503.
pub type Switch = Arc<AtomicBool>;

/// An HTTP target answering 200 while `up` holds, 503 otherwise.
pub async fn switchable_target(up: Switch) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let up = up.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let status = if up {
                    "200 OK"
                } else {
                    "503 Service Unavailable"
                };
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    addr
}

/// A webhook receiver answering 204 and keeping every request in `seen`.
pub async fn receiver(seen: Received) -> SocketAddr {
    answering(seen, Arc::new(|_: &str, _: &str| (204, String::new()))).await
}

/// How an [`answering`] receiver replies to a request: given its head
/// (request line and headers, lower-cased) and body, the status and body.
pub type Responder = Arc<dyn Fn(&str, &str) -> (u16, String) + Send + Sync>;

/// A receiver keeping every request in `seen` and answering as `respond`
/// says: an imitation of a service's API that checks what it is sent.
pub async fn answering(seen: Received, respond: Responder) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let seen = seen.clone();
            let respond = respond.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = s.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&data[..end]);
                    let body = &data[end + 4..];
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        let head = head.to_ascii_lowercase();
                        let body = String::from_utf8_lossy(body).into_owned();
                        let (status, answer) = respond(&head, &body);
                        if let Ok(mut v) = seen.lock() {
                            v.push((head, body));
                        }
                        let reply = format!(
                            "HTTP/1.1 {status} X\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                        let _ = s.write_all(reply.as_bytes()).await;
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Accepts connections, reads what comes and never answers; counts the
/// connections it holds.
pub async fn blackhole() -> (SocketAddr, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    let held = Arc::new(AtomicUsize::new(0));
    let count = held.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    (addr, held)
}

/// A TCP proxy to `upstream` (PostgreSQL, say) that the test can pause:
/// while paused, bytes stop flowing both ways and the connections hang,
/// like a store behind a dead network. Listens on `listen` (port 0 picks
/// one); returns its address.
pub async fn pausable_proxy(
    listen: SocketAddr,
    upstream: SocketAddr,
    paused: Switch,
) -> SocketAddr {
    let l = TcpListener::bind(listen).await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((inbound, _)) = l.accept().await {
            let paused = paused.clone();
            tokio::spawn(async move {
                let Ok(outbound) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                tokio::spawn(pump(ri, wo, paused.clone()));
                tokio::spawn(pump(ro, wi, paused));
            });
        }
    });
    addr
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    paused: Switch,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let Ok(n) = from.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        while paused.load(Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
