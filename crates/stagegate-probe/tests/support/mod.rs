//! Shared test fixtures: certificates generated per run, HTTP(S) servers on
//! loopback, and the rule that nothing skips under STAGEGATE_STRICT_TESTS=1.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd,
};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use stagegate_probe::{Context, Deadline, Resolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Under `STAGEGATE_STRICT_TESTS=1` (CI) a missing component fails the test;
/// elsewhere the test says loudly that it skipped.
pub fn unavailable(what: &str) {
    if std::env::var("STAGEGATE_STRICT_TESTS").as_deref() == Ok("1") {
        panic!("{what}; STAGEGATE_STRICT_TESTS=1 forbids skipping");
    }
    eprintln!("\n!!! SKIPPED: {what} (set STAGEGATE_STRICT_TESTS=1 to make this a failure)\n");
}

pub fn context() -> Context {
    Context::system().expect("system resolver")
}

pub fn deadline(ms: u64) -> Deadline {
    Deadline::after(Duration::from_millis(ms))
}

pub fn resolver() -> Resolver {
    Resolver::system().expect("resolver")
}

fn ymd(days_from_today: i64) -> (i32, u32, u32) {
    stagegate_spec::Date::today_utc()
        .add_days(days_from_today)
        .ymd()
}

/// A certificate and its key, as a server presents them.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// A test PKI: a trusted CA (written to `ca_file`) and a second CA nobody
/// trusts.
pub struct Pki {
    _dir: tempfile::TempDir,
    pub ca_file: PathBuf,
    trusted: CertifiedIssuer<'static, KeyPair>,
    untrusted: CertifiedIssuer<'static, KeyPair>,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let (y, m, d) = ymd(-30);
    params.not_before = date_time_ymd(y, m as u8, d as u8);
    let (y, m, d) = ymd(3650);
    params.not_after = date_time_ymd(y, m as u8, d as u8);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca")
}

/// How a leaf certificate is wrong, if it is.
#[derive(Clone, Copy, Debug)]
pub enum Cert {
    Valid,
    Expired,
    /// Valid, but expiring this many days from now.
    Expiring(i64),
    /// Valid for another host name.
    WrongHost,
    /// Signed by a CA the probe does not trust.
    UntrustedCa,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let trusted = ca("stagegate test CA");
        let untrusted = ca("somebody else's CA");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, trusted.pem()).expect("write ca");
        Pki {
            _dir: dir,
            ca_file,
            trusted,
            untrusted,
        }
    }

    pub fn leaf(&self, kind: Cert) -> Leaf {
        let names = match kind {
            Cert::WrongHost => vec!["other.example".to_owned()],
            _ => vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
        };
        let mut params = CertificateParams::new(names).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let (from, until) = match kind {
            Cert::Expired => (-60, -1),
            Cert::Expiring(days) => (-30, days),
            _ => (-1, 90),
        };
        let (y, m, d) = ymd(from);
        params.not_before = date_time_ymd(y, m as u8, d as u8);
        let (y, m, d) = ymd(until);
        params.not_after = date_time_ymd(y, m as u8, d as u8);
        let key = KeyPair::generate().expect("key");
        let issuer = match kind {
            Cert::UntrustedCa => &self.untrusted,
            _ => &self.trusted,
        };
        let cert = params.signed_by(&key, &**issuer).expect("sign");
        Leaf {
            chain: vec![cert.der().clone(), issuer.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    pub fn server_config(&self, kind: Cert) -> Arc<ServerConfig> {
        let leaf = self.leaf(kind);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(leaf.chain, leaf.key)
            .expect("server config");
        Arc::new(config)
    }
}

/// Canned responses by path:
/// `/ok` 200 JSON, `/fail` 503, `/slow` 200 after 300 ms, `/redirect` 302
/// to `/ok`, `/loop` redirects to itself, `/ua` echoes the User-Agent,
/// `/hang` never answers.
/// Status, body and extra headers of a canned response.
type Canned = (u16, String, Vec<(&'static str, String)>);

fn respond(path: &str, head: &str) -> Option<Canned> {
    let ua = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("user-agent: ")
                .or_else(|| l.strip_prefix("User-Agent: "))
        })
        .unwrap_or_default()
        .to_owned();
    Some(match path {
        "/ok" => (
            200,
            r#"{"status":"ok","items":[{"id":7}]}"#.to_owned(),
            vec![("content-type", "application/json".to_owned())],
        ),
        "/fail" => (503, "down for maintenance".to_owned(), vec![]),
        "/slow" => (200, "slow but ok".to_owned(), vec![]),
        "/redirect" => (302, String::new(), vec![("location", "/ok".to_owned())]),
        "/loop" => (302, String::new(), vec![("location", "/loop".to_owned())]),
        "/ua" => (200, ua, vec![]),
        "/hang" => return None,
        _ => (404, "not found".to_owned(), vec![]),
    })
}

async fn handle<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut s: S) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let Some((status, body, headers)) = respond(&path, &head) else {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return;
    };
    if path == "/slow" {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut out = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let _ = s.write_all(out.as_bytes()).await;
    let _ = s.shutdown().await;
}

/// Serves the canned routes on 127.0.0.1, over TLS when a config is given.
pub async fn serve(tls: Option<Arc<ServerConfig>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(config) => {
                        if let Ok(stream) =
                            tokio_rustls::TlsAcceptor::from(config).accept(sock).await
                        {
                            handle(stream).await;
                        }
                    }
                    None => handle(sock).await,
                }
            });
        }
    });
    addr
}
