//! HTTP and HTTPS probes over a fresh connection per attempt, timed by
//! phase: DNS, connect, TLS, first byte, total.

use std::time::Duration;

use http::header::{HOST, LOCATION, USER_AGENT};
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use crate::connect::connect;
use crate::deadline::Deadline;
use crate::jsonpath::{JsonPath, json_equal};
use crate::result::{ProbeResult, Timings, format_ms};
use crate::tls::{TlsTrust, handshake};
use crate::{Context, certificate_facts};

/// Bodies beyond this are not read: health endpoints are small.
const BODY_LIMIT: usize = 1 << 20;
const MAX_REDIRECTS: usize = 5;

#[derive(Clone, Debug)]
pub struct HttpTarget {
    pub url: Uri,
    pub method: Method,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Bytes>,
    pub follow_redirects: bool,
    pub insecure: bool,
    pub trust: TlsTrust,
    pub expect: HttpExpect,
}

#[derive(Clone, Debug, Default)]
pub struct HttpExpect {
    /// Accepted status codes; empty means any 2xx.
    pub status: Vec<u16>,
    pub latency_under: Option<Duration>,
    pub body_contains: Option<String>,
    pub json: Vec<(JsonPath, Value)>,
    pub cert_valid_for: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
enum ExchangeError {
    #[error("HTTP handshake failed")]
    Handshake(#[source] hyper::Error),
    #[error("request failed")]
    Request(#[source] hyper::Error),
    #[error("cannot build the request")]
    Build(#[source] http::Error),
    #[error("reading the body failed")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub(crate) struct Response {
    pub status: u16,
    pub location: Option<String>,
    pub body: Bytes,
    pub first_byte: Duration,
}

/// A completed exchange, after redirects.
pub(crate) struct Fetched {
    pub url: Uri,
    pub response: Response,
    pub timings: Timings,
    pub certificate: Option<crate::Certificate>,
    pub total: Duration,
}

async fn exchange<S>(
    io: S,
    request: Request<Full<Bytes>>,
    deadline: &Deadline,
    authority: &str,
) -> Result<Result<Response, ExchangeError>, crate::deadline::TimedOut>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let start = Instant::now();
    let (mut sender, conn) = match deadline
        .run(
            format!("starting HTTP with {authority}"),
            hyper::client::conn::http1::handshake(TokioIo::new(io)),
        )
        .await?
    {
        Ok(x) => x,
        Err(e) => return Ok(Err(ExchangeError::Handshake(e))),
    };
    // The connection is driven here, beside the request, rather than on a
    // spawned task: one probe, one task.
    let mut conn = std::pin::pin!(conn);
    let mut conn_done = false;
    let sent = deadline.run(
        format!("waiting for the response from {authority}"),
        async {
            let mut request = std::pin::pin!(sender.send_request(request));
            loop {
                tokio::select! {
                    biased;
                    r = &mut request => break r,
                    _ = &mut conn, if !conn_done => conn_done = true,
                }
            }
        },
    );
    let response = match sent.await? {
        Ok(r) => r,
        Err(e) => return Ok(Err(ExchangeError::Request(e))),
    };
    let first_byte = start.elapsed();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = deadline.run(
        format!("reading the response body from {authority}"),
        async {
            let mut collect =
                std::pin::pin!(Limited::new(response.into_body(), BODY_LIMIT).collect());
            loop {
                tokio::select! {
                    biased;
                    b = &mut collect => break b,
                    _ = &mut conn, if !conn_done => conn_done = true,
                }
            }
        },
    );
    let body = match body.await? {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(Err(ExchangeError::Body(e))),
    };
    Ok(Ok(Response {
        status,
        location,
        body,
        first_byte,
    }))
}

/// Resolves a `Location` header against the URL that sent it.
fn redirect_target(base: &Uri, location: &str) -> Option<Uri> {
    let parsed: Uri = location.parse().ok()?;
    if parsed.scheme().is_some() {
        return Some(parsed);
    }
    let mut parts = base.clone().into_parts();
    let path = if location.starts_with('/') {
        location.to_owned()
    } else {
        let base_path = base.path();
        let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        format!("{dir}{location}")
    };
    parts.path_and_query = Some(path.parse().ok()?);
    Uri::from_parts(parts).ok()
}

pub async fn probe(target: &HttpTarget, cx: &Context, deadline: &Deadline) -> ProbeResult {
    match fetch(target, cx, deadline).await {
        Ok(f) => judge(
            target,
            &f.url,
            f.response,
            f.certificate,
            f.timings,
            f.total,
        ),
        Err(failed) => failed,
    }
}

/// Sends the request (following redirects when asked) on fresh
/// connections; a failure comes back as the probe's result.
pub(crate) async fn fetch(
    target: &HttpTarget,
    cx: &Context,
    deadline: &Deadline,
) -> Result<Fetched, ProbeResult> {
    let started = Instant::now();
    let mut url = target.url.clone();
    let mut timings = Timings::default();
    let mut certificate = None;
    let mut hops = 0;
    let response = loop {
        let https = url.scheme_str() == Some("https");
        let Some(host) = url.host().map(str::to_owned) else {
            return Err(ProbeResult::fail(format!("{url} has no host")));
        };
        let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
        // The Host header names the host and port only: credentials in the
        // URL go in an Authorization header, never in front of the host.
        let authority = match url.port() {
            Some(p) => format!("{host}:{}", p.as_str()),
            None => host.clone(),
        };
        let credentials = url.authority().and_then(|a| basic_auth(a.as_str()));
        let connected = match connect(&cx.resolver, &host, port, deadline).await {
            Ok(c) => c,
            Err(e) => {
                return Err(
                    ProbeResult::from_error(format!("{} {url}", target.method), &e)
                        .with_timings(timings),
                );
            }
        };
        timings.dns = connected.dns;
        timings.connect = Some(connected.connect);
        let path = url.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let mut builder = Request::builder()
            .method(target.method.clone())
            .uri(path)
            .header(HOST, authority.as_str())
            .header(USER_AGENT, cx.user_agent.as_str());
        for (name, value) in &target.headers {
            builder = builder.header(name, value);
        }
        if let Some(credentials) = &credentials
            && !target
                .headers
                .iter()
                .any(|(n, _)| n == http::header::AUTHORIZATION)
        {
            builder = builder.header(http::header::AUTHORIZATION, credentials.as_str());
        }
        let body = Full::new(target.body.clone().unwrap_or_default());
        let request = match builder.body(body) {
            Ok(r) => r,
            Err(e) => {
                return Err(ProbeResult::from_error(
                    "cannot build the request",
                    &ExchangeError::Build(e),
                ));
            }
        };
        let what = format!("{} {url}", target.method);
        let exchanged = if https {
            let tls_start = Instant::now();
            let shake = match handshake(
                connected.stream,
                &host,
                &target.trust,
                &[b"http/1.1"],
                deadline,
            )
            .await
            {
                Ok(h) => h,
                Err(e) => return Err(ProbeResult::from_error(what, &e).with_timings(timings)),
            };
            timings.tls = Some(tls_start.elapsed());
            certificate = shake.certificate;
            if !target.insecure
                && let Some(err) = certificate.as_ref().and_then(|c| c.verify_error.clone())
            {
                let mut r = ProbeResult::fail(format!("{what}: {err}")).with_timings(timings);
                r.errors = vec![err];
                r.certificate = certificate;
                return Err(certificate_facts(r));
            }
            exchange(shake.stream, request, deadline, &authority).await
        } else {
            exchange(connected.stream, request, deadline, &authority).await
        };
        let response = match exchanged {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let mut r = ProbeResult::from_error(what, &e).with_timings(timings);
                r.certificate = certificate;
                return Err(r);
            }
            Err(timeout) => {
                let mut r = ProbeResult::from_error(what, &timeout).with_timings(timings);
                r.certificate = certificate;
                return Err(r);
            }
        };
        timings.first_byte = Some(response.first_byte);
        let redirect = (300..400).contains(&response.status) && target.follow_redirects;
        match (
            redirect,
            response
                .location
                .as_deref()
                .and_then(|l| redirect_target(&url, l)),
        ) {
            (true, Some(next)) if hops < MAX_REDIRECTS => {
                hops += 1;
                url = next;
            }
            (true, Some(_)) => {
                return Err(ProbeResult::fail(format!(
                    "more than {MAX_REDIRECTS} redirects from {}",
                    target.url
                )));
            }
            _ => break response,
        }
    };
    let total = started.elapsed();
    timings.total = Some(total);
    Ok(Fetched {
        url,
        response,
        timings,
        certificate,
        total,
    })
}

fn judge(
    target: &HttpTarget,
    url: &Uri,
    response: Response,
    certificate: Option<crate::Certificate>,
    timings: Timings,
    total: Duration,
) -> ProbeResult {
    let expect = &target.expect;
    let mut problems = Vec::new();
    let status_ok = if expect.status.is_empty() {
        (200..300).contains(&response.status)
    } else {
        expect.status.contains(&response.status)
    };
    if !status_ok {
        let wanted = if expect.status.is_empty() {
            "2xx".to_owned()
        } else {
            expect
                .status
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        };
        problems.push(format!("status {} (expected {wanted})", response.status));
    }
    if let Some(limit) = expect.latency_under
        && total >= limit
    {
        problems.push(format!(
            "took {} (expected under {})",
            format_ms(total),
            format_ms(limit)
        ));
    }
    if let Some(needle) = &expect.body_contains
        && !String::from_utf8_lossy(&response.body).contains(needle.as_str())
    {
        problems.push(format!("body does not contain {needle:?}"));
    }
    if !expect.json.is_empty() {
        match serde_json::from_slice::<Value>(&response.body) {
            Ok(doc) => {
                for (path, want) in &expect.json {
                    match path.find(&doc) {
                        Some(got) if json_equal(got, want) => {}
                        Some(got) => {
                            problems.push(format!("{} is {got} (expected {want})", path.as_str()))
                        }
                        None => {
                            problems.push(format!("{} is missing (expected {want})", path.as_str()))
                        }
                    }
                }
            }
            Err(e) => problems.push(format!("body is not JSON ({e})")),
        }
    }
    if let (Some(min), Some(cert)) = (expect.cert_valid_for, &certificate) {
        let min_days = i64::try_from(min.as_secs() / 86_400).unwrap_or(i64::MAX);
        if cert.days_left < min_days {
            problems.push(format!(
                "certificate expires in {} days, on {} (expected at least {min_days})",
                cert.days_left, cert.not_after
            ));
        }
    }
    let head = format!(
        "HTTP {} from {url} in {}",
        response.status,
        format_ms(total)
    );
    let mut result = if problems.is_empty() {
        ProbeResult::pass(head)
    } else {
        let mut r = ProbeResult::fail(format!("{head}: {}", problems.join("; ")));
        r.errors = problems;
        r
    };
    result = result
        .fact("status", response.status)
        .fact("body_bytes", response.body.len())
        .with_timings(timings);
    result.certificate = certificate;
    certificate_facts(result)
}

/// A one-off HTTP request on a fresh connection — used for notifications,
/// so they share the probes' TLS and timing behaviour. Returns the status
/// and body, or why no answer came.
pub async fn request(
    cx: &Context,
    method: Method,
    url: &str,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<Bytes>,
    timeout: Duration,
) -> Result<(u16, Bytes), String> {
    let uri: Uri = url.parse().map_err(|e| format!("invalid URL: {e}"))?;
    let target = HttpTarget {
        url: uri,
        method,
        headers,
        body,
        follow_redirects: false,
        insecure: false,
        trust: TlsTrust::default_roots().map_err(|e| e.to_string())?,
        expect: HttpExpect::default(),
    };
    let deadline = Deadline::after(timeout);
    match fetch(&target, cx, &deadline).await {
        Ok(f) => Ok((f.response.status, f.response.body)),
        Err(r) => Err(r.summary),
    }
}

/// `Basic ...` for the userinfo of `authority` (`user:password@host`),
/// percent-decoded as a URL writes it.
fn basic_auth(authority: &str) -> Option<String> {
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let pair = format!(
        "{}:{}",
        stagegate_spec::percent_decode(user)?,
        stagegate_spec::percent_decode(password)?
    );
    Some(format!("Basic {}", base64(pair.as_bytes())))
}

/// Standard base64 with padding (RFC 4648), for Basic credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod credentials {
    #[test]
    fn userinfo_becomes_basic_credentials() {
        assert_eq!(
            super::base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(super::base64(b"ab"), "YWI=");
        assert_eq!(
            super::basic_auth("user:p%40ss@h:8080").as_deref(),
            Some("Basic dXNlcjpwQHNz")
        );
        assert_eq!(super::basic_auth("h:8080"), None);
    }
}
