//! Accepting connections as a server facing the internet must: a client
//! that sends half a request is cut off, one address cannot take every
//! connection, the process keeps file descriptors for its store and
//! deliveries, and a shutdown ends within its deadline whatever clients
//! do.
//!
//! - Headers must arrive within `header_timeout`; the same timer runs
//!   while a kept-alive connection waits for its next request, so it is
//!   also the idle timeout.
//! - A body must arrive within `body_timeout` (enforced by
//!   [`read_body`], which also enforces the size limit).
//! - At most `max_connections` at once (never more than the descriptor
//!   limit allows with room to spare), at most `per_client` from one
//!   address. When full, new connections wait in the listen backlog
//!   rather than being refused; one address over its share is refused.
//! - On shutdown the listener closes, connections finish what they are
//!   doing, and whatever is left at `shutdown_timeout` is cut.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::api::ApiError;

/// How long connections may take and how many there may be.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// For a request's headers, and for an idle kept-alive connection.
    pub header_timeout: Duration,
    /// For a request's body, once its headers arrived.
    pub body_timeout: Duration,
    /// Connections at once, in all.
    pub max_connections: usize,
    /// Connections at once from one address.
    pub per_client: usize,
    /// How long a shutdown waits for requests in flight.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(15),
            max_connections: 1024,
            per_client: 64,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Descriptors kept free of client connections: the store's pool, outgoing
/// deliveries and probes, the spec and evidence files.
const HEADROOM: u64 = 128;

/// The soft limit on open files, where the system says (Linux).
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

impl Limits {
    /// The connection limits this process can honour: at most its open
    /// files limit less [`HEADROOM`], and one address at most half of it.
    pub fn effective(mut self) -> Limits {
        if let Some(files) = open_files_limit() {
            let room = usize::try_from(files.saturating_sub(HEADROOM).max(8)).unwrap_or(usize::MAX);
            if room < self.max_connections {
                tracing::warn!(
                    open_files = files,
                    connections = room,
                    "the open files limit allows fewer connections than asked for"
                );
                self.max_connections = room;
            }
        }
        self.max_connections = self.max_connections.max(2);
        self.per_client = self.per_client.clamp(1, (self.max_connections / 2).max(1));
        self
    }
}

/// Connections per client address, released when a connection ends.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

struct Slot {
    clients: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    fn take(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<Slot> {
        let mut map = self.0.lock().ok()?;
        let n = map.entry(ip).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            clients: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.clients.0.lock()
            && let Some(n) = map.get_mut(&self.ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let limits = limits.effective();
    let total = Arc::new(Semaphore::new(limits.max_connections));
    let clients = Arc::new(PerClient::default());
    let (stop, stopping) = watch::channel(false);
    let mut conns: JoinSet<()> = JoinSet::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    let builder = Arc::new(builder);
    let open = crate::idle::Connections::default();
    tokio::pin!(shutdown);
    loop {
        // Wait for room before accepting: when full, clients queue in the
        // backlog instead of costing a descriptor each, and connections
        // that have waited past the grace for a request are cut to make
        // room for them.
        let permit = loop {
            tokio::select! {
                p = total.clone().acquire_owned() => break p.ok(),
                _ = tokio::time::sleep(crate::idle::GRACE / 4), if total.available_permits() == 0 => {
                    let cut = open.cut_waiting(crate::idle::GRACE);
                    if cut > 0 {
                        tracing::debug!(connections = cut, "full: cut connections that sent no request");
                    }
                }
                _ = &mut shutdown => break None,
            }
        };
        let Some(permit) = permit else {
            break;
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, or the peer gave up already: wait
                    // a moment instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        while conns.try_join_next().is_some() {}
        let Some(slot) = clients.take(remote.ip(), limits.per_client) else {
            tracing::debug!(client = %remote.ip(), "refused: too many connections from one address");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let builder = builder.clone();
        let mut stopping = stopping.clone();
        let (tracked, forget) = open.open();
        let id = forget.id();
        let tracked = Arc::new(tracked);
        let task = conns.spawn(async move {
            let _held = (permit, slot, forget);
            let service =
                hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(remote));
                    let app = app.clone();
                    let tracked = tracked.clone();
                    tracked.busy();
                    async move {
                        let answer = match read_body(limits.body_timeout, req.map(Body::new)).await
                        {
                            Ok(req) => app.oneshot(req).await,
                            Err(refused) => Ok(refused),
                        };
                        tracked.waiting();
                        answer
                    }
                });
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let stop = async move {
                let _ = stopping.wait_for(|s| *s).await;
            };
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        // Full, and this one sent no request within the grace: cut.
        open.started(id, task);
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = conns.len(),
            "shutdown deadline passed: cutting the connections still open"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
    Ok(())
}

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Largest agent report accepted (SPEC.md §11): a host with thousands of
/// sockets or pending packages still fits.
pub const AGENT_REPORT_LIMIT: usize = 1024 * 1024;

/// The body limit of a request to `path`.
pub fn body_limit(path: &str) -> usize {
    if path == crate::api::agents::PATH {
        AGENT_REPORT_LIMIT
    } else {
        BODY_LIMIT
    }
}

/// Reads the whole body before the request is routed: within `timeout`
/// and at most [`body_limit`] bytes, so a client that trickles a body or
/// sends too much is answered (408, 413) instead of holding the request
/// open.
async fn read_body(timeout: Duration, request: Request<Body>) -> Result<Request<Body>, Response> {
    // Most requests (pings, pages, API reads) carry no body: nothing to
    // wait for.
    let headers = request.headers();
    let empty = match headers.get(axum::http::header::CONTENT_LENGTH) {
        Some(length) => length.as_bytes() == b"0",
        None => !headers.contains_key(axum::http::header::TRANSFER_ENCODING),
    };
    if empty {
        return Ok(request);
    }
    let limit = body_limit(request.uri().path());
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            let error = if too_large {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body is larger than {limit} bytes"),
                )
            } else {
                ApiError::bad_request("the request body could not be read")
            };
            Err(error.into_response())
        }
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {}s",
                timeout.as_secs_f64()
            ),
        )
        .with_header(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        )
        .into_response()),
    }
}
