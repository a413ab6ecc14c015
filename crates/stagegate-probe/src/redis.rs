//! Redis probes over RESP: AUTH (when the URL carries credentials), PING,
//! and the server version from INFO.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::time::Instant;

use crate::Context;
use crate::connect::connect;
use crate::deadline::Deadline;
use crate::result::{ProbeResult, Timings, format_ms};
use crate::tls::{TlsTrust, handshake};

#[derive(Clone)]
pub struct RedisTarget {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: Option<u32>,
    pub shown: String,
    pub latency_under: Option<Duration>,
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTarget")
            .field("url", &self.shown)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedisUrlError {
    #[error("expected redis://[user:password@]host[:port][/db] or rediss://...")]
    Shape,
}

impl RedisTarget {
    pub fn parse(url: &str, latency_under: Option<Duration>) -> Result<Self, RedisUrlError> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("rediss://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("redis://") {
            (false, r)
        } else {
            return Err(RedisUrlError::Shape);
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        // Userinfo is percent-encoded in a URL (a variable's value always is).
        let decode = |s: &str| stagegate_spec::percent_decode(s).ok_or(RedisUrlError::Shape);
        let (username, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (
                    (!user.is_empty()).then(|| decode(user)).transpose()?,
                    Some(decode(pass)?),
                ),
                None => (None, Some(decode(u)?)),
            },
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h, p.parse().map_err(|_| RedisUrlError::Shape)?)
            }
            _ => (hostport, 6379),
        };
        if host.is_empty() {
            return Err(RedisUrlError::Shape);
        }
        let db = if path.is_empty() {
            None
        } else {
            Some(path.parse().map_err(|_| RedisUrlError::Shape)?)
        };
        Ok(RedisTarget {
            host: host.to_owned(),
            port,
            tls,
            username,
            password,
            db,
            shown: crate::database::mask_password(url),
            latency_under,
        })
    }
}

#[derive(Debug, thiserror::Error)]
enum RespError {
    #[error("connection closed by the server")]
    Closed,
    #[error("unexpected reply {0:?}")]
    Unexpected(String),
    #[error("{0}")]
    Server(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Writes one command as a RESP array of bulk strings.
async fn send<S: AsyncWrite + Unpin>(s: &mut S, args: &[&str]) -> std::io::Result<()> {
    let mut buf = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a.as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
    s.write_all(&buf).await
}

/// Reads one reply: simple string, error, integer or bulk string.
async fn reply<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> Result<String, RespError> {
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        return Err(RespError::Closed);
    }
    let line = line.trim_end_matches(['\r', '\n']);
    match line.split_at_checked(1) {
        Some(("+", s)) | Some((":", s)) => Ok(s.to_owned()),
        Some(("-", s)) => Err(RespError::Server(s.to_owned())),
        Some(("$", n)) => {
            let n: i64 = n
                .parse()
                .map_err(|_| RespError::Unexpected(line.to_owned()))?;
            if n < 0 {
                return Ok(String::new());
            }
            let mut buf = vec![0; usize::try_from(n).unwrap_or(0) + 2];
            r.read_exact(&mut buf).await?;
            buf.truncate(buf.len() - 2);
            Ok(String::from_utf8_lossy(&buf).into_owned())
        }
        _ => Err(RespError::Unexpected(line.to_owned())),
    }
}

async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    t: &RedisTarget,
) -> Result<String, (&'static str, RespError)> {
    let mut r = BufReader::new(stream);
    if let Some(password) = &t.password {
        let mut args = vec!["AUTH"];
        if let Some(user) = &t.username {
            args.push(user);
        }
        args.push(password);
        send(r.get_mut(), &args)
            .await
            .map_err(|e| ("AUTH", e.into()))?;
        reply(&mut r).await.map_err(|e| ("AUTH", e))?;
    }
    if let Some(db) = t.db {
        send(r.get_mut(), &["SELECT", &db.to_string()])
            .await
            .map_err(|e| ("SELECT", e.into()))?;
        reply(&mut r).await.map_err(|e| ("SELECT", e))?;
    }
    send(r.get_mut(), &["PING"])
        .await
        .map_err(|e| ("PING", e.into()))?;
    let pong = reply(&mut r).await.map_err(|e| ("PING", e))?;
    if pong != "PONG" {
        return Err(("PING", RespError::Unexpected(pong)));
    }
    send(r.get_mut(), &["INFO", "server"])
        .await
        .map_err(|e| ("INFO", e.into()))?;
    let info = reply(&mut r).await.map_err(|e| ("INFO", e))?;
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_owned();
    let _ = send(r.get_mut(), &["QUIT"]).await;
    Ok(version)
}

fn explain(step: &str, e: &RespError) -> &'static str {
    match (step, e) {
        (_, RespError::Server(m))
            if m.starts_with("WRONGPASS") || m.contains("invalid password") =>
        {
            "authentication failed (wrong user or password)"
        }
        (_, RespError::Server(m)) if m.starts_with("NOAUTH") => {
            "the server requires a password and the URL has none"
        }
        ("AUTH", _) => "authentication failed",
        _ => "the server did not answer as Redis",
    }
}

pub async fn probe(t: &RedisTarget, cx: &Context, deadline: &Deadline) -> ProbeResult {
    let what = format!("Redis {}", t.shown);
    let start = Instant::now();
    let connected = match connect(&cx.resolver, &t.host, t.port, deadline).await {
        Ok(c) => c,
        Err(e) => {
            let mut r = ProbeResult::from_error(what.clone(), &e);
            r.summary = format!("{what}: the server is unreachable: {}", r.errors.join(": "));
            return r;
        }
    };
    let mut timings = Timings {
        dns: connected.dns,
        connect: Some(connected.connect),
        ..Timings::default()
    };
    let outcome = if t.tls {
        let tls_start = Instant::now();
        let trust = match TlsTrust::default_roots() {
            Ok(t) => t,
            Err(e) => return ProbeResult::from_error(what, &e),
        };
        match handshake(connected.stream, &t.host, &trust, &[], deadline).await {
            Ok(h) => {
                timings.tls = Some(tls_start.elapsed());
                if let Some(err) = h.certificate.as_ref().and_then(|c| c.verify_error.clone()) {
                    return ProbeResult::fail(format!("{what}: {err}")).with_timings(timings);
                }
                deadline
                    .run(format!("talking to {what}"), session(h.stream, t))
                    .await
            }
            Err(e) => return ProbeResult::from_error(what, &e).with_timings(timings),
        }
    } else {
        deadline
            .run(format!("talking to {what}"), session(connected.stream, t))
            .await
    };
    let total = start.elapsed();
    timings.total = Some(total);
    match outcome {
        Err(timeout) => ProbeResult::from_error(what, &timeout).with_timings(timings),
        Ok(Err((step, e))) => {
            let why = explain(step, &e);
            let mut r = ProbeResult::fail(format!("{what}: {why}: {e}")).with_timings(timings);
            r.errors = vec![format!("{step}: {e}")];
            r
        }
        Ok(Ok(version)) => {
            let head = format!(
                "Redis {version} at {} answered PING in {}",
                t.shown,
                format_ms(total)
            );
            let r = match t.latency_under {
                Some(limit) if total >= limit => {
                    ProbeResult::fail(format!("{head}, expected under {}", format_ms(limit)))
                }
                _ => ProbeResult::pass(head),
            };
            r.fact("server_version", version).with_timings(timings)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RedisTarget;

    #[test]
    fn parses_urls() {
        let t = RedisTarget::parse("redis://app:pw@cache.internal:6380/2", None).expect("url");
        assert_eq!(
            (t.host.as_str(), t.port, t.db),
            ("cache.internal", 6380, Some(2))
        );
        assert_eq!(
            (t.username.as_deref(), t.password.as_deref()),
            (Some("app"), Some("pw"))
        );
        assert_eq!(t.shown, "redis://app:***@cache.internal:6380/2");
        let t = RedisTarget::parse("redis://:pw@127.0.0.1", None).expect("url");
        assert_eq!(
            (t.port, t.username, t.password.as_deref()),
            (6379, None, Some("pw"))
        );
        assert!(RedisTarget::parse("rediss://h", None).expect("url").tls);
        assert!(RedisTarget::parse("http://h", None).is_err());
    }
}
