//! DNS probes against a tiny authoritative server this test runs on
//! loopback UDP, answering for `stagegate.test.`.

mod support;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use hickory_resolver::proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, MX, TXT};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use stagegate_probe::{DnsTarget, Job, ProbeStatus, Resolver, Subject, Target, run_one};
use stagegate_spec::{CheckKind, RecordType as Rt};
use support::*;
use tokio::net::UdpSocket;

fn answers(name: &Name, rtype: RecordType) -> Vec<RData> {
    let n = |s: &str| Name::from_str(s).expect("name");
    match (name.to_utf8().as_str(), rtype) {
        ("app.stagegate.test.", RecordType::A) => vec![
            RData::A(A(Ipv4Addr::new(192, 0, 2, 10))),
            RData::A(A(Ipv4Addr::new(192, 0, 2, 11))),
        ],
        ("app.stagegate.test.", RecordType::AAAA) => vec![RData::AAAA(AAAA(
            Ipv6Addr::from_str("2001:db8::10").expect("v6"),
        ))],
        ("www.stagegate.test.", RecordType::CNAME) => {
            vec![RData::CNAME(CNAME(n("app.stagegate.test.")))]
        }
        ("stagegate.test.", RecordType::MX) => {
            vec![RData::MX(MX::new(10, n("mx.stagegate.test.")))]
        }
        ("stagegate.test.", RecordType::TXT) => {
            vec![RData::TXT(TXT::new(vec!["v=spf1 -all".to_owned()]))]
        }
        _ => vec![],
    }
}

async fn dns_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut reply = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
            reply.metadata.authoritative = true;
            reply.metadata.recursion_available = true;
            let mut found = false;
            for q in &query.queries {
                reply.add_query(q.clone());
                let known = [
                    "app.stagegate.test.",
                    "www.stagegate.test.",
                    "stagegate.test.",
                ]
                .contains(&q.name().to_utf8().as_str());
                found |= known;
                for data in answers(q.name(), q.query_type()) {
                    reply.add_answer(Record::from_rdata(q.name().clone(), 60, data));
                }
            }
            if !found {
                reply.metadata.response_code = ResponseCode::NXDomain;
            }
            if let Ok(bytes) = reply.to_vec() {
                let _ = socket.send_to(&bytes, peer).await;
            }
        }
    });
    addr
}

async fn lookup(
    server: SocketAddr,
    name: &str,
    record: Rt,
    expect: &[&str],
) -> stagegate_probe::ProbeResult {
    let job = Job {
        environment: "test".into(),
        source: "127.0.0.1".into(),
        subject: Subject::Check {
            name: "dns".into(),
            kind: CheckKind::Dns,
        },
        target: Target::Dns(Box::new(DnsTarget {
            name: name.into(),
            record,
            resolver: Some(Resolver::at(server).expect("resolver")),
            expect: expect.iter().map(|s| (*s).to_owned()).collect(),
            latency_under: None,
        })),
        timeout: Duration::from_secs(3),
        retries: 0,
    };
    run_one(&job, &context(), Duration::from_millis(10)).await
}

#[tokio::test]
async fn each_record_type_against_expected_values() {
    let server = dns_server().await;
    let r = lookup(
        server,
        "app.stagegate.test.",
        Rt::A,
        &["192.0.2.10", "192.0.2.11"],
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Pass, "{}", r.summary);
    assert!(
        r.summary
            .starts_with("A app.stagegate.test.: 192.0.2.10, 192.0.2.11 in "),
        "{}",
        r.summary
    );
    assert!(r.timings.dns.is_some());
    assert_eq!(
        lookup(server, "app.stagegate.test.", Rt::Aaaa, &["2001:db8::10"])
            .await
            .status,
        ProbeStatus::Pass
    );
    assert_eq!(
        lookup(
            server,
            "www.stagegate.test.",
            Rt::Cname,
            &["app.stagegate.test"]
        )
        .await
        .status,
        ProbeStatus::Pass
    );
    assert_eq!(
        lookup(
            server,
            "stagegate.test.",
            Rt::Mx,
            &["10 mx.stagegate.test."]
        )
        .await
        .status,
        ProbeStatus::Pass
    );
    assert_eq!(
        lookup(server, "stagegate.test.", Rt::Txt, &["v=spf1 -all"])
            .await
            .status,
        ProbeStatus::Pass
    );
    // No expectation: any answer passes.
    assert_eq!(
        lookup(server, "app.stagegate.test.", Rt::A, &[])
            .await
            .status,
        ProbeStatus::Pass
    );
}

#[tokio::test]
async fn wrong_or_missing_answers_fail() {
    let server = dns_server().await;
    let r = lookup(server, "app.stagegate.test.", Rt::A, &["192.0.2.99"]).await;
    assert_eq!(r.status, ProbeStatus::Fail);
    assert!(
        r.summary
            .contains("missing 192.0.2.99 (answers: 192.0.2.10, 192.0.2.11)"),
        "{}",
        r.summary
    );
    let r = lookup(server, "nowhere.stagegate.test.", Rt::A, &[]).await;
    assert_eq!(r.status, ProbeStatus::Fail, "{}", r.summary);
    // A resolver that does not answer times out.
    let quiet = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let r = lookup(
        quiet.local_addr().expect("addr"),
        "app.stagegate.test.",
        Rt::A,
        &[],
    )
    .await;
    assert_eq!(r.status, ProbeStatus::Fail, "{}", r.summary);
}
