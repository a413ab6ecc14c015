//! Boundary tests of the live rules, judged from constructed evidence.

use super::*;
use crate::{
    CertificateObservation, ExposureObservation, LiveEvidence, Observation, Observed,
    PresentedCertificate,
};

fn obs(subject: &str, status: Observed, summary: &str) -> Observation {
    Observation {
        subject: subject.into(),
        status,
        summary: summary.into(),
        details: vec![],
        source: "https://shop.example.com/healthz".into(),
        at: OBSERVED_AT,
    }
}

/// When the test probes ran: 06:00 UTC on the as-of date, 2026-06-01.
const OBSERVED_AT: i64 = 1_780_293_600;

fn judge(toml: &str, live: &LiveEvidence, rule: &str) -> Finding<'static> {
    let spec = kept(parse(toml));
    let e = spec.environment("production").expect("env");
    let result = Evaluator::new(spec, date("2026-06-01"), &present(spec))
        .live(Some(live))
        .environment(e, e.mode.value);
    Run::of(rule, &result.findings)
}

#[test]
fn checks_fail_when_any_probe_fails_and_skip_heartbeats() {
    let mut live = LiveEvidence::new();
    live.add_check(
        "production",
        "web",
        obs("check web (http)", Observed::Pass, "HTTP 200"),
    );
    live.add_check(
        "production",
        "db",
        obs("check db (tcp)", Observed::Fail, "connection refused"),
    );
    live.add_check(
        "production",
        "backup",
        obs("check backup (heartbeat)", Observed::Skip, "server only"),
    );
    let f = judge(READY, &live, "SG-LIVE-CHECKS");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.message, "1 of 2 checks fail now: db (connection refused)");
    assert_eq!(f.evidence.len(), 3);
    live.add_check(
        "production",
        "db",
        obs("check db (tcp)", Observed::Pass, "open"),
    );
    let f = judge(READY, &live, "SG-LIVE-CHECKS");
    assert_eq!(
        (f.status, f.message.as_str()),
        (
            Status::Pass,
            "all 2 checks pass now (1 heartbeat observed only by the server)"
        )
    );
    let mut only_heartbeats = LiveEvidence::new();
    only_heartbeats.add_check(
        "production",
        "backup",
        obs("check backup (heartbeat)", Observed::Skip, "server only"),
    );
    assert_eq!(
        judge(READY, &only_heartbeats, "SG-LIVE-CHECKS").status,
        Status::Skip
    );
}

#[test]
fn a_failing_restic_check_fails_backup_freshness() {
    let mut live = LiveEvidence::new();
    assert_eq!(judge(READY, &live, "SG-BACKUP-FRESH").status, Status::Skip);
    live.add_backup(
        "production",
        obs(
            "check snapshots (restic)",
            Observed::Fail,
            "the newest snapshot is 3d 2h old",
        ),
    );
    let f = judge(READY, &live, "SG-BACKUP-FRESH");
    assert_eq!(
        (f.status, f.message.as_str()),
        (Status::Fail, "the newest snapshot is 3d 2h old")
    );
}

#[test]
fn exposure_needs_declared_ports_somewhere_and_nothing_else() {
    let scan = |status, open: Vec<u16>, summary: &str| ExposureObservation {
        server: "app-1".into(),
        observation: obs("server app-1 (10.0.0.1)", status, summary),
        open,
        tested: vec![22, 443, 5432],
    };
    let mut live = LiveEvidence::new();
    live.add_exposure("production", scan(Observed::Pass, vec![443], "only 443"));
    assert_eq!(judge(READY, &live, "SG-SEC-EXPOSURE").status, Status::Pass);
    let mut quiet = LiveEvidence::new();
    quiet.add_exposure("production", scan(Observed::Pass, vec![], "none open"));
    let f = judge(READY, &quiet, "SG-SEC-EXPOSURE");
    assert_eq!(
        (f.status, f.message.as_str()),
        (
            Status::Fail,
            "declared public port 443 answers on no server"
        )
    );
    let mut exposed = LiveEvidence::new();
    exposed.add_exposure(
        "production",
        scan(
            Observed::Fail,
            vec![443, 5432],
            "10.0.0.1: 5432 (PostgreSQL) answers but is not in public_ports",
        ),
    );
    assert_eq!(
        judge(READY, &exposed, "SG-SEC-EXPOSURE").message,
        "10.0.0.1: 5432 (PostgreSQL) answers but is not in public_ports"
    );
    // Staging is not scanned for exposure.
    let spec = kept(parse(READY));
    let e = spec.environment("production").expect("env");
    let r = Evaluator::new(spec, date("2026-06-01"), &present(spec))
        .live(Some(&exposed))
        .environment(e, Mode::Staging);
    assert_eq!(Run::of("SG-SEC-EXPOSURE", &r.findings).status, Status::Skip);
}

#[test]
fn tls_judges_every_presented_certificate() {
    let https = READY.replace(
        "url = \"https://shop.example.com/healthz\"",
        "url = \"https://shop.example.com/healthz\"\nexpect = { cert_valid_for = \"14d\" }",
    );
    let cert = |days_left, error: Option<&str>| CertificateObservation {
        check: "web".into(),
        host: "shop.example.com".into(),
        presented: Some(PresentedCertificate {
            subject: "CN=shop.example.com".into(),
            not_after: "2026-07-01T00:00:00Z".into(),
            days_left,
            verify_error: error.map(str::to_owned),
        }),
        unreachable: None,
        min_days: Some(14),
        source: "shop.example.com:443".into(),
        at: OBSERVED_AT,
    };
    let mut live = LiveEvidence::new();
    live.add_certificate("production", cert(30, None));
    assert_eq!(judge(&https, &live, "SG-SEC-TLS").status, Status::Pass);
    let mut soon = LiveEvidence::new();
    soon.add_certificate("production", cert(13, None));
    let f = judge(&https, &soon, "SG-SEC-TLS");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.contains(
            "it expires in 13 days, on 2026-07-01T00:00:00Z (cert_valid_for requires 14)"
        ),
        "{}",
        f.message
    );
    let mut bad = LiveEvidence::new();
    bad.add_certificate("production", cert(30, Some("the certificate has expired")));
    assert_eq!(
        judge(&https, &bad, "SG-SEC-TLS").message,
        "web (shop.example.com): the certificate has expired"
    );
    let mut unreachable = LiveEvidence::new();
    unreachable.add_certificate(
        "production",
        CertificateObservation {
            presented: None,
            unreachable: Some("connection refused".into()),
            ..cert(0, None)
        },
    );
    let f = judge(&https, &unreachable, "SG-SEC-TLS");
    assert_eq!(
        (f.status, f.message.as_str()),
        (
            Status::Fail,
            "no certificate could be inspected; not inspected (unreachable): web"
        )
    );
}
