//! Exposure scans against listeners these tests open and close on their own
//! loopback addresses (127.0.0.4x: nothing else listens there).

mod support;

use std::time::Duration;

use stagegate_probe::{Job, PortsTarget, ProbeStatus, Subject, Target, run_one};
use support::*;
use tokio::net::TcpListener;

async fn scan(host: &str, public: Vec<u16>, sensitive: Vec<u16>) -> stagegate_probe::ProbeResult {
    let job = Job {
        environment: "test".into(),
        source: "127.0.0.1".into(),
        subject: Subject::Exposure {
            server: "db-1".into(),
            host: host.into(),
        },
        target: Target::Ports(PortsTarget {
            host: host.into(),
            public,
            sensitive,
            require_public: true,
        }),
        timeout: Duration::from_secs(5),
        retries: 0,
    };
    run_one(&job, &context(), Duration::from_millis(10)).await
}

async fn listen(addr: &str) -> Option<TcpListener> {
    match TcpListener::bind(addr).await {
        Ok(l) => Some(l),
        Err(e) => {
            unavailable(&format!("cannot listen on {addr}: {e}"));
            None
        }
    }
}

#[tokio::test]
async fn declared_ports_answer_and_sensitive_ones_do_not() {
    let host = "127.0.0.42";
    let Some(public) = listen(&format!("{host}:0")).await else {
        return;
    };
    let public_port = public.local_addr().expect("addr").port();
    let sensitive = vec![27017, 11211, 6379];

    let r = scan(host, vec![public_port], sensitive.clone()).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    assert_eq!(r.open_ports, vec![public_port]);

    // A MongoDB port opens: exposure.
    let Some(mongo) = listen(&format!("{host}:27017")).await else {
        return;
    };
    let r = scan(host, vec![public_port], sensitive.clone()).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert_eq!(
        r.errors,
        vec!["27017 (MongoDB) answers but is not in public_ports".to_owned()]
    );

    // Declared, it is fine.
    let r = scan(host, vec![public_port, 27017], sensitive.clone()).await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    drop(mongo);

    // The public port closes: a declared port no longer answers.
    drop(public);
    let r = scan(host, vec![public_port], sensitive).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert_eq!(
        r.errors,
        vec![format!(
            "declared public port {public_port} does not answer"
        )]
    );
}
