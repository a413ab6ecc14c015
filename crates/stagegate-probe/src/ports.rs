//! Exposure scans: declared public ports answer, well-known sensitive ports
//! do not unless declared.

use std::time::Duration;

use tokio::net::TcpStream;

use crate::Context;
use crate::deadline::Deadline;
use crate::result::{ProbeResult, Timings};

/// Services that must not face the internet unless a spec says so.
pub const SENSITIVE: &[(u16, &str)] = &[
    (21, "FTP"),
    (22, "SSH"),
    (23, "Telnet"),
    (111, "rpcbind"),
    (135, "MS RPC"),
    (445, "SMB"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (2375, "Docker API"),
    (2376, "Docker API (TLS)"),
    (2379, "etcd"),
    (3000, "Grafana"),
    (3306, "MySQL/MariaDB"),
    (3389, "RDP"),
    (4222, "NATS"),
    (5432, "PostgreSQL"),
    (5601, "Kibana"),
    (5672, "AMQP (RabbitMQ)"),
    (5984, "CouchDB"),
    (6379, "Redis"),
    (6443, "Kubernetes API"),
    (8086, "InfluxDB"),
    (8500, "Consul"),
    (9000, "admin console (MinIO, Portainer)"),
    (9090, "Prometheus"),
    (9093, "Alertmanager"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch transport"),
    (10250, "kubelet"),
    (11211, "memcached"),
    (15672, "RabbitMQ management"),
    (27017, "MongoDB"),
];

pub fn service_name(port: u16) -> Option<&'static str> {
    SENSITIVE.iter().find(|(p, _)| *p == port).map(|(_, n)| *n)
}

#[derive(Clone, Debug)]
pub struct PortsTarget {
    pub host: String,
    /// Declared public ports: they should answer (somewhere).
    pub public: Vec<u16>,
    /// Ports to test for exposure; `SENSITIVE` by default.
    pub sensitive: Vec<u16>,
    /// Whether a declared public port that does not answer on this host is a
    /// failure (a `ports` check) or only reported (an exposure scan, where
    /// the public port may be served by another server).
    pub require_public: bool,
}

impl PortsTarget {
    /// Every port the scan tests, ascending: what did not answer among
    /// these is known closed or filtered from where the scan ran; any
    /// other port is simply unknown.
    pub fn tested(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.sensitive.iter().chain(&self.public).copied().collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// What one host answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub open: Vec<u16>,
    pub closed: Vec<u16>,
}

/// Per-port connect budget: long enough for a loaded loopback or LAN, short
/// enough that filtered ports do not stall the scan.
const PORT_TIMEOUT: Duration = Duration::from_secs(2);

async fn scan(
    cx: &Context,
    host: &str,
    ports: &[u16],
    deadline: &Deadline,
) -> Result<Scan, ProbeResult> {
    let (addrs, _) = cx
        .resolver
        .resolve(host, deadline)
        .await
        .map_err(|e| ProbeResult::from_error(format!("ports of {host}"), &e))?;
    let ip = addrs[0];
    let budget = PORT_TIMEOUT.min(deadline.remaining());
    let tasks: Vec<_> = ports
        .iter()
        .map(|&port| {
            tokio::spawn(async move {
                let open = matches!(
                    tokio::time::timeout(budget, TcpStream::connect((ip, port))).await,
                    Ok(Ok(_))
                );
                (port, open)
            })
        })
        .collect();
    let mut result = Scan::default();
    for t in tasks {
        if let Ok((port, open)) = t.await {
            if open {
                result.open.push(port)
            } else {
                result.closed.push(port)
            }
        }
    }
    result.open.sort_unstable();
    result.closed.sort_unstable();
    Ok(result)
}

fn label(port: u16) -> String {
    match service_name(port) {
        Some(name) => format!("{port} ({name})"),
        None => port.to_string(),
    }
}

pub async fn probe(t: &PortsTarget, cx: &Context, deadline: &Deadline) -> ProbeResult {
    let start = tokio::time::Instant::now();
    let ports = t.tested();
    let scan = match scan(cx, &t.host, &ports, deadline).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let exposed: Vec<u16> = scan
        .open
        .iter()
        .copied()
        .filter(|p| !t.public.contains(p))
        .collect();
    let silent: Vec<u16> = t
        .public
        .iter()
        .copied()
        .filter(|p| !scan.open.contains(p))
        .collect();
    let mut problems = Vec::new();
    if !exposed.is_empty() {
        problems.push(format!(
            "{} answer{} but {} not in public_ports",
            exposed
                .iter()
                .map(|p| label(*p))
                .collect::<Vec<_>>()
                .join(", "),
            if exposed.len() == 1 { "s" } else { "" },
            if exposed.len() == 1 { "is" } else { "are" }
        ));
    }
    if t.require_public && !silent.is_empty() {
        problems.push(format!(
            "declared public port{} {} do{} not answer",
            if silent.len() == 1 { "" } else { "s" },
            silent
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            if silent.len() == 1 { "es" } else { "" }
        ));
    }
    let open_shown = if scan.open.is_empty() {
        "none".to_owned()
    } else {
        scan.open
            .iter()
            .map(|p| label(*p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut r = if problems.is_empty() {
        ProbeResult::pass(format!(
            "{}: of {} ports tested, open: {open_shown}",
            t.host,
            ports.len()
        ))
    } else {
        let mut r = ProbeResult::fail(format!("{}: {}", t.host, problems.join("; ")));
        r.errors = problems;
        r
    };
    r = r.fact("open", open_shown).fact("tested", ports.len()).fact(
        "public_not_answering",
        if silent.is_empty() {
            "none".to_owned()
        } else {
            silent
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    r.open_ports = scan.open;
    r.with_timings(Timings {
        total: Some(start.elapsed()),
        ..Timings::default()
    })
}
