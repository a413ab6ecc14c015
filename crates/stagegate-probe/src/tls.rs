//! TLS client setup and certificate inspection.
//!
//! The handshake always completes so the presented chain can be reported
//! (expiry, issuer) even when it is not trusted; whether it verified is
//! recorded beside it, and the probe decides what that means.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use stagegate_spec::rfc3339;
use tokio_rustls::client::TlsStream;

use crate::deadline::{Deadline, TimedOut};
use crate::result::Certificate;

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

fn webpki_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read CA file {path}")]
    CaFile {
        path: String,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error("CA file {path} holds no usable certificate")]
    EmptyCaFile { path: String },
    #[error("`{0}` is not a valid TLS server name")]
    ServerName(String),
    #[error("cannot set up TLS")]
    Setup(#[source] rustls::Error),
    #[error("TLS handshake with {host} failed")]
    Handshake {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
}

/// Trust settings for one probe target, built once and shared by probes.
#[derive(Clone, Debug)]
pub struct TlsTrust {
    verifier: Arc<WebPkiServerVerifier>,
}

impl TlsTrust {
    /// The Mozilla roots (webpki-roots) plus, optionally, a PEM CA file.
    pub fn new(ca_file: Option<&Path>) -> Result<Self, TlsError> {
        let mut roots = webpki_roots();
        if let Some(path) = ca_file {
            let display = path.display().to_string();
            let mut added = 0;
            for cert in CertificateDer::pem_file_iter(path).map_err(|source| TlsError::CaFile {
                path: display.clone(),
                source,
            })? {
                let cert = cert.map_err(|source| TlsError::CaFile {
                    path: display.clone(),
                    source,
                })?;
                if roots.add(cert).is_ok() {
                    added += 1;
                }
            }
            if added == 0 {
                return Err(TlsError::EmptyCaFile { path: display });
            }
        }
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| TlsError::Setup(rustls::Error::General(e.to_string())))?;
        Ok(TlsTrust { verifier })
    }

    /// The default trust store, built once per process.
    pub fn default_roots() -> Result<Self, TlsError> {
        static DEFAULT: OnceLock<TlsTrust> = OnceLock::new();
        if let Some(t) = DEFAULT.get() {
            return Ok(t.clone());
        }
        let t = TlsTrust::new(None)?;
        Ok(DEFAULT.get_or_init(|| t).clone())
    }
}

/// Verifies like the standard verifier but records the outcome instead of
/// failing the handshake. Handshake signatures are still checked for real.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    outcome: Mutex<Option<Result<(), rustls::Error>>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map(|_| ());
        if let Ok(mut slot) = self.outcome.lock() {
            *slot = Some(result);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A completed handshake and what the server presented.
#[derive(Debug)]
pub struct Handshake {
    pub stream: TlsStream<TcpStream>,
    pub certificate: Option<Certificate>,
}

/// Runs a TLS handshake over `tcp` for `host`, offering `alpn` protocols.
pub async fn handshake(
    tcp: TcpStream,
    host: &str,
    trust: &TlsTrust,
    alpn: &[&[u8]],
    deadline: &Deadline,
) -> Result<Handshake, TlsError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name =
        ServerName::try_from(bare.to_owned()).map_err(|_| TlsError::ServerName(host.to_owned()))?;
    let recording = Arc::new(Recording {
        inner: trust.verifier.clone(),
        outcome: Mutex::new(None),
    });
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Setup)?
        .dangerous()
        .with_custom_certificate_verifier(recording.clone())
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // A fresh handshake per probe: no session resumption.
    config.resumption = rustls::client::Resumption::disabled();
    let connector = TlsConnector::from(Arc::new(config));
    let stream = deadline
        .run(
            format!("negotiating TLS with {host}"),
            connector.connect(name, tcp),
        )
        .await?
        .map_err(|source| TlsError::Handshake {
            host: host.to_owned(),
            source,
        })?;
    let verify_error = recording
        .outcome
        .lock()
        .ok()
        .and_then(|mut o| o.take())
        .and_then(Result::err)
        .map(|e| describe(&e, host));
    let (_, conn) = stream.get_ref();
    let chain = conn.peer_certificates().unwrap_or_default();
    let certificate = chain
        .first()
        .and_then(|leaf| inspect(leaf, chain.len(), verify_error));
    Ok(Handshake {
        stream,
        certificate,
    })
}

/// Readable reasons for the verification failures people meet.
fn describe(e: &rustls::Error, host: &str) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the certificate has expired".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the certificate is not valid yet".to_owned()
            }
            CertificateError::UnknownIssuer => {
                "the certificate is signed by an unknown authority (not in the trust store)"
                    .to_owned()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("the certificate is not valid for the host name {host}")
            }
            CertificateError::Revoked => "the certificate has been revoked".to_owned(),
            CertificateError::BadSignature => "the certificate's signature is invalid".to_owned(),
            other => format!("invalid certificate: {other:?}"),
        },
        other => other.to_string(),
    }
}

fn inspect(
    leaf: &CertificateDer<'_>,
    chain_length: usize,
    verify_error: Option<String>,
) -> Option<Certificate> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
    let not_after = cert.validity().not_after.timestamp();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let days_left = (not_after - now).div_euclid(86_400);
    Some(Certificate {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_after: rfc3339(not_after),
        days_left,
        verify_error,
        chain_length,
    })
}

/// A `tls` check: the chain verifies for the host name and stays valid long
/// enough.
#[derive(Clone, Debug)]
pub struct TlsTarget {
    pub host: String,
    pub port: u16,
    pub insecure: bool,
    pub trust: TlsTrust,
    pub cert_valid_for: Option<std::time::Duration>,
    pub latency_under: Option<std::time::Duration>,
}

pub async fn probe(t: &TlsTarget, cx: &crate::Context, deadline: &Deadline) -> crate::ProbeResult {
    use crate::result::{ProbeResult, Timings, format_ms};
    let start = tokio::time::Instant::now();
    let what = format!("TLS {}:{}", t.host, t.port);
    let connected = match crate::connect::connect(&cx.resolver, &t.host, t.port, deadline).await {
        Ok(c) => c,
        Err(e) => return ProbeResult::from_error(what, &e),
    };
    let tls_start = tokio::time::Instant::now();
    let shake = match handshake(connected.stream, &t.host, &t.trust, &[], deadline).await {
        Ok(h) => h,
        Err(e) => return ProbeResult::from_error(what, &e),
    };
    let total = start.elapsed();
    let timings = Timings {
        dns: connected.dns,
        connect: Some(connected.connect),
        tls: Some(tls_start.elapsed()),
        total: Some(total),
        ..Timings::default()
    };
    let Some(cert) = shake.certificate else {
        return ProbeResult::fail(format!("{what}: the server presented no certificate"))
            .with_timings(timings);
    };
    let mut problems = Vec::new();
    if let (Some(err), false) = (&cert.verify_error, t.insecure) {
        problems.push(err.clone());
    }
    if let Some(min) = t.cert_valid_for {
        let min_days = i64::try_from(min.as_secs() / 86_400).unwrap_or(i64::MAX);
        if cert.days_left < min_days {
            problems.push(format!(
                "the certificate expires in {} days, on {} (expected at least {min_days})",
                cert.days_left, cert.not_after
            ));
        }
    }
    if let Some(limit) = t.latency_under
        && total >= limit
    {
        problems.push(format!(
            "took {} (expected under {})",
            format_ms(total),
            format_ms(limit)
        ));
    }
    let head = format!(
        "{what}: certificate for {} valid until {} ({} days)",
        cert.subject, cert.not_after, cert.days_left
    );
    let mut r = if problems.is_empty() {
        ProbeResult::pass(head)
    } else {
        let mut r = ProbeResult::fail(format!("{what}: {}", problems.join("; ")));
        r.errors = problems;
        r
    };
    r = r.with_timings(timings);
    r.certificate = Some(cert);
    crate::certificate_facts(r)
}
