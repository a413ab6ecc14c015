//! Name resolution and TCP connection, timed separately: the first two
//! phases of every network probe.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::deadline::{Deadline, TimedOut};

/// A DNS resolver without a cache, so every probe measures a real lookup.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<TokioResolver>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot resolve {host}")]
    Resolve {
        host: String,
        #[source]
        source: hickory_resolver::net::NetError,
    },
    #[error("{host} has no address")]
    NoAddress { host: String },
    #[error("connection to {addr} failed")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
    #[error("cannot set up the DNS resolver")]
    Setup(#[source] hickory_resolver::net::NetError),
}

fn options() -> ResolverOpts {
    let mut opts = ResolverOpts::default();
    opts.cache_size = 0;
    opts.attempts = 1;
    opts
}

impl Resolver {
    /// The system's resolver configuration (`/etc/resolv.conf`, hosts file).
    pub fn system() -> Result<Self, ConnectError> {
        let mut builder = TokioResolver::builder_tokio().map_err(ConnectError::Setup)?;
        *builder.options_mut() = options();
        let inner = builder.build().map_err(ConnectError::Setup)?;
        Ok(Resolver {
            inner: Arc::new(inner),
        })
    }

    /// A resolver that asks one server (UDP, then TCP) at `addr`.
    pub fn at(addr: SocketAddr) -> Result<Self, ConnectError> {
        let mut udp = ConnectionConfig::udp();
        udp.port = addr.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = addr.port();
        let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
        let config = ResolverConfig::from_parts(None, vec![], vec![server]);
        let inner = TokioResolver::builder_with_config(config, Default::default())
            .with_options(options())
            .build()
            .map_err(ConnectError::Setup)?;
        Ok(Resolver {
            inner: Arc::new(inner),
        })
    }

    pub fn inner(&self) -> &TokioResolver {
        &self.inner
    }

    /// Addresses of `host`; an IP literal resolves to itself without a lookup.
    pub async fn resolve(
        &self,
        host: &str,
        deadline: &Deadline,
    ) -> Result<(Vec<IpAddr>, Option<Duration>), ConnectError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok((vec![ip], None));
        }
        let start = Instant::now();
        let lookup = deadline
            .run(format!("resolving {host}"), self.inner.lookup_ip(host))
            .await?
            .map_err(|source| ConnectError::Resolve {
                host: host.to_owned(),
                source,
            })?;
        let addrs: Vec<IpAddr> = lookup.iter().collect();
        if addrs.is_empty() {
            return Err(ConnectError::NoAddress {
                host: host.to_owned(),
            });
        }
        Ok((addrs, Some(start.elapsed())))
    }
}

/// A connected socket and how long each phase took.
#[derive(Debug)]
pub struct Connected {
    pub stream: TcpStream,
    pub addr: SocketAddr,
    pub dns: Option<Duration>,
    pub connect: Duration,
}

/// Resolves `host` and connects to the first address that answers.
pub async fn connect(
    resolver: &Resolver,
    host: &str,
    port: u16,
    deadline: &Deadline,
) -> Result<Connected, ConnectError> {
    let (addrs, dns) = resolver.resolve(host, deadline).await?;
    let start = Instant::now();
    let mut last = None;
    for ip in addrs {
        let addr = SocketAddr::new(ip, port);
        match deadline
            .run(format!("connecting to {addr}"), TcpStream::connect(addr))
            .await?
        {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(Connected {
                    stream,
                    addr,
                    dns,
                    connect: start.elapsed(),
                });
            }
            Err(source) => last = Some(ConnectError::Connect { addr, source }),
        }
    }
    Err(last.unwrap_or_else(|| ConnectError::NoAddress {
        host: host.to_owned(),
    }))
}
