//! HTTP, HTTPS, TLS and TCP probes against servers these tests start on
//! loopback, with certificates they generate.

mod support;

use std::time::Duration;

use http::{Method, Uri};
use stagegate_probe::{
    HttpExpect, HttpTarget, Job, JsonPath, ProbeStatus, Subject, Target, TcpTarget, TlsTarget,
    TlsTrust, run_one,
};
use stagegate_spec::CheckKind;
use support::*;

fn target(url: &str, trust: TlsTrust) -> HttpTarget {
    HttpTarget {
        url: url.parse::<Uri>().expect("url"),
        method: Method::GET,
        headers: Vec::new(),
        body: None,
        follow_redirects: false,
        insecure: false,
        trust,
        expect: HttpExpect::default(),
    }
}

async fn probe(t: HttpTarget) -> stagegate_probe::ProbeResult {
    let job = Job {
        environment: "test".into(),
        source: "127.0.0.1".into(),
        subject: Subject::Check {
            name: "t".into(),
            kind: CheckKind::Http,
        },
        target: Target::Http(Box::new(t)),
        timeout: Duration::from_secs(5),
        retries: 0,
    };
    run_one(&job, &context(), Duration::from_millis(10)).await
}

fn default_trust() -> TlsTrust {
    TlsTrust::default_roots().expect("roots")
}

#[tokio::test]
async fn http_passes_with_phase_timings_and_facts() {
    let addr = serve(None).await;
    let mut t = target(&format!("http://{addr}/ok"), default_trust());
    t.expect = HttpExpect {
        status: vec![200],
        body_contains: Some("ok".into()),
        json: vec![
            (
                JsonPath::parse("$.status").expect("path"),
                serde_json::json!("ok"),
            ),
            (
                JsonPath::parse("$.items[0].id").expect("path"),
                serde_json::json!(7),
            ),
        ],
        latency_under: Some(Duration::from_secs(2)),
        ..HttpExpect::default()
    };
    let r = probe(t).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:#?}");
    assert!(
        r.summary
            .starts_with(&format!("HTTP 200 from http://{addr}/ok in ")),
        "{}",
        r.summary
    );
    assert!(r.timings.dns.is_none(), "an IP literal needs no lookup");
    assert!(
        r.timings.connect.is_some() && r.timings.first_byte.is_some() && r.timings.total.is_some()
    );
    assert!(r.timings.tls.is_none());
    assert!(r.facts.contains(&("status".into(), "200".into())));
}

#[tokio::test]
async fn http_reports_each_unmet_expectation() {
    let addr = serve(None).await;
    let r = probe(target(&format!("http://{addr}/fail"), default_trust())).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary.contains("status 503 (expected 2xx)"),
        "{}",
        r.summary
    );

    let mut t = target(&format!("http://{addr}/ok"), default_trust());
    t.expect.body_contains = Some("healthy".into());
    t.expect.json = vec![(
        JsonPath::parse("$.status").expect("path"),
        serde_json::json!("up"),
    )];
    t.expect.status = vec![201, 204];
    let r = probe(t).await;
    assert_eq!(
        r.errors,
        vec![
            "status 200 (expected 201 or 204)".to_owned(),
            "body does not contain \"healthy\"".to_owned(),
            "$.status is \"ok\" (expected \"up\")".to_owned(),
        ]
    );
}

#[tokio::test]
async fn http_latency_expectation() {
    let addr = serve(None).await;
    let mut t = target(&format!("http://{addr}/slow"), default_trust());
    t.expect.latency_under = Some(Duration::from_millis(100));
    let r = probe(t).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary.contains("(expected under 100 ms)"),
        "{}",
        r.summary
    );
}

#[tokio::test]
async fn redirects_are_followed_only_when_asked() {
    let addr = serve(None).await;
    let r = probe(target(&format!("http://{addr}/redirect"), default_trust())).await;
    assert!(r.summary.contains("status 302"), "{}", r.summary);
    let mut t = target(&format!("http://{addr}/redirect"), default_trust());
    t.follow_redirects = true;
    let r = probe(t).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    assert!(
        r.summary.contains(&format!("from http://{addr}/ok")),
        "{}",
        r.summary
    );
    let mut t = target(&format!("http://{addr}/loop"), default_trust());
    t.follow_redirects = true;
    let r = probe(t).await;
    assert!(r.summary.contains("more than 5 redirects"), "{}", r.summary);
}

#[tokio::test]
async fn probes_announce_themselves() {
    let addr = serve(None).await;
    let mut t = target(&format!("http://{addr}/ua"), default_trust());
    t.expect.body_contains = Some(format!("stagegate/{}", env!("CARGO_PKG_VERSION")));
    let r = probe(t).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_naming_the_phase() {
    let addr = serve(None).await;
    let job = Job {
        environment: "test".into(),
        source: "127.0.0.1".into(),
        subject: Subject::Check {
            name: "t".into(),
            kind: CheckKind::Http,
        },
        target: Target::Http(Box::new(target(
            &format!("http://{addr}/hang"),
            default_trust(),
        ))),
        timeout: Duration::from_millis(400),
        retries: 1,
    };
    let r = run_one(&job, &context(), Duration::from_millis(10)).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert_eq!(r.attempts, 2, "one retry");
    assert!(
        r.summary.contains(&format!(
            "timed out after 400ms while waiting for the response from {addr}"
        )),
        "{}",
        r.summary
    );
}

#[tokio::test]
async fn unreachable_host_fails_with_the_error_chain() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let r = probe(target(&format!("http://{addr}/ok"), default_trust())).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert_eq!(r.errors[0], format!("connection to {addr} failed"));
    assert!(r.errors[1].contains("Connection refused"), "{:?}", r.errors);
}

// --- HTTPS ------------------------------------------------------------------

#[tokio::test]
async fn https_with_a_trusted_certificate() {
    let pki = Pki::new();
    let addr = serve(Some(pki.server_config(Cert::Valid))).await;
    let trust = TlsTrust::new(Some(&pki.ca_file)).expect("trust");
    let mut t = target(&format!("https://localhost:{}/ok", addr.port()), trust);
    t.expect.cert_valid_for = Some(Duration::from_secs(14 * 86_400));
    let r = probe(t.clone()).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{r:#?}");
    assert!(r.timings.dns.is_some(), "localhost is looked up");
    assert!(r.timings.tls.is_some());
    let cert = r.certificate.expect("certificate");
    assert!(cert.is_trusted());
    assert!((88..=90).contains(&cert.days_left), "{}", cert.days_left);
    assert_eq!(cert.chain_length, 2);
    // Demanding more validity than it has fails.
    t.expect.cert_valid_for = Some(Duration::from_secs(200 * 86_400));
    let r = probe(t).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary.contains("(expected at least 200)"),
        "{}",
        r.summary
    );
}

#[tokio::test]
async fn https_certificate_problems_are_named() {
    let pki = Pki::new();
    let trust = TlsTrust::new(Some(&pki.ca_file)).expect("trust");
    for (kind, expected) in [
        (Cert::Expired, "the certificate has expired"),
        (
            Cert::WrongHost,
            "the certificate is not valid for the host name localhost",
        ),
        (
            Cert::UntrustedCa,
            "the certificate is signed by an unknown authority (not in the trust store)",
        ),
    ] {
        let addr = serve(Some(pki.server_config(kind))).await;
        let url = format!("https://localhost:{}/ok", addr.port());
        let r = probe(target(&url, trust.clone())).await;
        assert_eq!(r.status, ProbeStatus::Fail, "{kind:?}");
        assert_eq!(r.errors, vec![expected.to_owned()], "{kind:?}");
        let cert = r
            .certificate
            .clone()
            .expect("the certificate is still reported");
        assert_eq!(cert.verify_error.as_deref(), Some(expected));
        // `insecure` accepts it, but the certificate's state is still reported.
        let mut t = target(&url, trust.clone());
        t.insecure = true;
        let r = probe(t).await;
        assert_eq!(r.status, ProbeStatus::Pass, "{kind:?}: {}", r.summary);
        assert_eq!(
            r.certificate.expect("cert").verify_error.as_deref(),
            Some(expected)
        );
    }
    // Without the test CA, even the valid certificate is untrusted.
    let addr = serve(Some(pki.server_config(Cert::Valid))).await;
    let r = probe(target(
        &format!("https://localhost:{}/ok", addr.port()),
        default_trust(),
    ))
    .await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(r.summary.contains("unknown authority"), "{}", r.summary);
}

#[tokio::test]
async fn https_certificate_expiring_within_the_threshold() {
    let pki = Pki::new();
    let addr = serve(Some(pki.server_config(Cert::Expiring(5)))).await;
    let mut t = target(
        &format!("https://localhost:{}/ok", addr.port()),
        TlsTrust::new(Some(&pki.ca_file)).expect("trust"),
    );
    t.expect.cert_valid_for = Some(Duration::from_secs(14 * 86_400));
    let r = probe(t).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    let cert = r.certificate.expect("cert");
    assert!(cert.is_trusted());
    assert!((4..=5).contains(&cert.days_left), "{}", cert.days_left);
    assert!(
        r.summary
            .contains(&format!("certificate expires in {} days", cert.days_left)),
        "{}",
        r.summary
    );
}

#[tokio::test]
async fn tls_probe_checks_chain_and_expiry() {
    let pki = Pki::new();
    let trust = TlsTrust::new(Some(&pki.ca_file)).expect("trust");
    let tls = |port, kind_days: Option<u64>| TlsTarget {
        host: "localhost".into(),
        port,
        insecure: false,
        trust: trust.clone(),
        cert_valid_for: kind_days.map(|d| Duration::from_secs(d * 86_400)),
        latency_under: None,
    };
    let run = |t: TlsTarget| async move {
        let job = Job {
            environment: "test".into(),
            source: "127.0.0.1".into(),
            subject: Subject::Check {
                name: "cert".into(),
                kind: CheckKind::Tls,
            },
            target: Target::Tls(Box::new(t)),
            timeout: Duration::from_secs(5),
            retries: 0,
        };
        run_one(&job, &context(), Duration::from_millis(10)).await
    };
    let good = serve(Some(pki.server_config(Cert::Valid))).await;
    let r = run(tls(good.port(), Some(14))).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    assert!(r.summary.contains("valid until"), "{}", r.summary);
    assert!(r.facts.iter().any(|(k, _)| k == "cert_days_left"));
    let expired = serve(Some(pki.server_config(Cert::Expired))).await;
    let r = run(tls(expired.port(), None)).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary.contains("the certificate has expired"),
        "{}",
        r.summary
    );
    assert!(r.certificate.expect("cert").days_left < 0);
}

#[tokio::test]
async fn tcp_open_and_closed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let tcp = |port| TcpTarget {
        host: "127.0.0.1".into(),
        port,
        latency_under: None,
    };
    let run = |t: TcpTarget| async move {
        let job = Job {
            environment: "test".into(),
            source: "127.0.0.1".into(),
            subject: Subject::Check {
                name: "tcp".into(),
                kind: CheckKind::Tcp,
            },
            target: Target::Tcp(t),
            timeout: Duration::from_secs(2),
            retries: 0,
        };
        run_one(&job, &context(), Duration::from_millis(10)).await
    };
    let r = run(tcp(port)).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    drop(listener);
    let r = run(tcp(port)).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(r.summary.contains("Connection refused"), "{}", r.summary);
}

/// `http://user:pass@host/` sends Basic credentials, and the Host header
/// names the host alone: credentials never end up in a target's logs as
/// part of a host name.
#[tokio::test]
async fn credentials_in_the_url_go_in_an_authorization_header() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
        String::from_utf8_lossy(&head).to_ascii_lowercase()
    });
    let result = probe(target(
        &format!("http://user:p%40ss@{addr}/x"),
        default_trust(),
    ))
    .await;
    assert_eq!(result.status, ProbeStatus::Pass, "{}", result.summary);
    let head = seen.await.expect("join");
    assert!(
        head.contains("authorization: basic dxnlcjpwqhnz\r\n"),
        "{head}"
    );
    assert!(head.contains(&format!("host: {addr}\r\n")), "{head}");
    assert!(!head.contains("user:p"), "{head}");
}
