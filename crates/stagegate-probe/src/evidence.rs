//! Probe results as the evidence live rules judge.

use stagegate_rules::{
    CertificateObservation, ExposureObservation, LiveEvidence, Observation, Observed,
    PresentedCertificate,
};
use stagegate_spec::CheckKind;

use crate::job::{Job, Subject, Target};
use crate::result::{ProbeResult, ProbeStatus, format_ms};

/// One result as an observation: the summary, then measured facts, phase
/// timings and the error chain as details; made from `source` at `at` (Unix
/// seconds).
pub fn observation(subject: String, source: String, at: i64, r: &ProbeResult) -> Observation {
    Observation {
        source,
        at,
        subject,
        status: match r.status {
            ProbeStatus::Pass => Observed::Pass,
            ProbeStatus::Fail => Observed::Fail,
            ProbeStatus::Skip => Observed::Skip,
        },
        summary: r.summary.clone(),
        details: details(r),
    }
}

/// What a result measured, in order: facts (status code, certificate
/// expiry, ...), phase timings (`time_connect`, ...), the error chain
/// (`error`, `caused_by_1`, ...) and retries (`attempts`).
pub fn details(r: &ProbeResult) -> Vec<(String, String)> {
    let mut details: Vec<(String, String)> = r.facts.clone();
    let t = &r.timings;
    for (name, d) in [
        ("dns", t.dns),
        ("connect", t.connect),
        ("tls", t.tls),
        ("first_byte", t.first_byte),
        ("total", t.total),
    ] {
        if let Some(d) = d {
            details.push((format!("time_{name}"), format_ms(d)));
        }
    }
    for (i, e) in r.errors.iter().enumerate() {
        details.push((
            if i == 0 {
                "error".to_owned()
            } else {
                format!("caused_by_{i}")
            },
            e.clone(),
        ));
    }
    if r.attempts > 1 {
        details.push(("attempts".to_owned(), r.attempts.to_string()));
    }
    details
}

/// Gathers results (in job order), observed at `at` (Unix seconds), into the
/// evidence the live rules read.
pub fn evidence(jobs: &[Job], results: &[ProbeResult], at: i64) -> LiveEvidence {
    let mut live = LiveEvidence::new();
    for (job, r) in jobs.iter().zip(results) {
        let env = &job.environment;
        let o = observation(job.subject.describe(), job.source.clone(), at, r);
        match &job.subject {
            Subject::Check { name, kind } => {
                let tls = match (&job.target, kind) {
                    (Target::Http(t), CheckKind::Http) if t.url.scheme_str() == Some("https") => {
                        Some((
                            t.url.host().unwrap_or_default().to_owned(),
                            t.expect.cert_valid_for,
                        ))
                    }
                    (Target::Tls(t), CheckKind::Tls) => Some((t.host.clone(), t.cert_valid_for)),
                    _ => None,
                };
                if let Some((host, valid_for)) = tls {
                    live.add_certificate(
                        env,
                        CertificateObservation {
                            check: name.clone(),
                            host,
                            presented: r.certificate.as_ref().map(|c| PresentedCertificate {
                                subject: c.subject.clone(),
                                not_after: c.not_after.clone(),
                                days_left: c.days_left,
                                verify_error: c.verify_error.clone(),
                            }),
                            unreachable: r.certificate.is_none().then(|| r.summary.clone()),
                            min_days: valid_for
                                .map(|d| i64::try_from(d.as_secs() / 86_400).unwrap_or(i64::MAX)),
                            source: job.source.clone(),
                            at,
                        },
                    );
                }
                // A check is evidence for the rule it proves, too.
                match &job.target {
                    Target::Restic(_) => live.add_backup(env, o.clone()),
                    Target::Ports(p) => live.add_exposure(
                        env,
                        ExposureObservation {
                            server: p.host.clone(),
                            observation: o.clone(),
                            open: r.open_ports.clone(),
                            tested: p.tested(),
                        },
                    ),
                    _ => {}
                }
                live.add_check(env, name, o);
            }
            Subject::BackupSource => live.add_backup(env, o),
            Subject::Exposure { server, .. } => live.add_exposure(
                env,
                ExposureObservation {
                    server: server.clone(),
                    observation: o,
                    open: r.open_ports.clone(),
                    tested: match &job.target {
                        Target::Ports(p) => p.tested(),
                        _ => Vec::new(),
                    },
                },
            ),
        }
    }
    live
}
