//! The engine bounds concurrency and returns results in job order.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use stagegate_probe::{
    HttpExpect, HttpTarget, Job, ProbeStatus, RunOptions, Subject, Target, TlsTrust, run,
};
use stagegate_spec::CheckKind;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_concurrency_probes_are_in_flight() {
    // A server that answers each request after 100 ms and records how many
    // connections were open at once: an HTTP probe holds its connection
    // until the answer, so open connections are probes in flight.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (o, p) = (open.clone(), peak.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let n = o.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(n, Ordering::SeqCst);
            let o = o.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                o.fetch_sub(1, Ordering::SeqCst);
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    let jobs: Vec<Job> = (0..12)
        .map(|i| Job {
            environment: "test".into(),
            source: "127.0.0.1".into(),
            subject: Subject::Check {
                name: format!("c{i}"),
                kind: CheckKind::Http,
            },
            target: if i == 5 {
                Target::Skip("not here".into())
            } else {
                Target::Http(Box::new(HttpTarget {
                    url: format!("http://127.0.0.1:{port}/").parse().expect("url"),
                    method: http::Method::GET,
                    headers: Vec::new(),
                    body: None,
                    follow_redirects: false,
                    insecure: false,
                    trust: TlsTrust::default_roots().expect("roots"),
                    expect: HttpExpect::default(),
                }))
            },
            timeout: Duration::from_secs(5),
            retries: 0,
        })
        .collect();
    let done = AtomicUsize::new(0);
    let opts = RunOptions {
        concurrency: 3,
        ..RunOptions::default()
    };
    let results = run(&jobs, &context(), opts, |_, _| {
        done.fetch_add(1, Ordering::SeqCst);
    })
    .await;
    assert_eq!(results.len(), 12);
    assert_eq!(
        done.load(Ordering::SeqCst),
        12,
        "every job reports progress once"
    );
    assert_eq!(
        results[5].status,
        ProbeStatus::Skip,
        "results stay in job order"
    );
    assert!(
        results
            .iter()
            .enumerate()
            .all(|(i, r)| i == 5 || r.status == ProbeStatus::Pass)
    );
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (2..=3).contains(&peak),
        "peak {peak}: the limit is 3, and it should be reached"
    );
}
