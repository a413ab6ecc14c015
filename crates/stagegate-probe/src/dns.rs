//! DNS probes: a record type for a name, compared with expected values.

use std::time::Duration;

use hickory_resolver::proto::rr::{RData, RecordType};
use tokio::time::Instant;

use crate::Context;
use crate::connect::Resolver;
use crate::deadline::Deadline;
use crate::result::{ProbeResult, Timings, format_ms};
use stagegate_spec::RecordType as SpecRecord;

#[derive(Clone, Debug)]
pub struct DnsTarget {
    pub name: String,
    pub record: SpecRecord,
    /// A specific server; the system resolver when `None`.
    pub resolver: Option<Resolver>,
    /// Each must be among the answers; any answer passes when empty.
    pub expect: Vec<String>,
    pub latency_under: Option<Duration>,
}

fn record_type(r: SpecRecord) -> RecordType {
    match r {
        SpecRecord::A => RecordType::A,
        SpecRecord::Aaaa => RecordType::AAAA,
        SpecRecord::Cname => RecordType::CNAME,
        SpecRecord::Mx => RecordType::MX,
        SpecRecord::Txt => RecordType::TXT,
    }
}

/// Answers as people write them: addresses, names without the final dot,
/// `10 mx.example.com` for MX, the joined text for TXT.
fn render(data: &RData) -> String {
    let name = |n: &hickory_resolver::proto::rr::Name| n.to_utf8().trim_end_matches('.').to_owned();
    match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::CNAME(c) => name(&c.0),
        RData::MX(mx) => format!("{} {}", mx.preference, name(&mx.exchange)),
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|part| String::from_utf8_lossy(part).into_owned())
            .collect::<Vec<_>>()
            .concat(),
        other => other.to_string(),
    }
}

fn normalise(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

pub async fn probe(t: &DnsTarget, cx: &Context, deadline: &Deadline) -> ProbeResult {
    let resolver = t.resolver.as_ref().unwrap_or(&cx.resolver);
    let rtype = record_type(t.record);
    let what = format!("{} {}", t.record, t.name);
    let start = Instant::now();
    let lookup = match deadline
        .run(
            format!("looking up {what}"),
            resolver.inner().lookup(t.name.as_str(), rtype),
        )
        .await
    {
        Ok(Ok(l)) => l,
        Ok(Err(e)) => return ProbeResult::from_error(format!("lookup {what}"), &e),
        Err(e) => return ProbeResult::from_error(format!("lookup {what}"), &e),
    };
    let elapsed = start.elapsed();
    let answers: Vec<String> = lookup
        .answers()
        .iter()
        .filter(|r| r.record_type() == rtype)
        .map(|r| render(&r.data))
        .collect();
    let timings = Timings {
        dns: Some(elapsed),
        total: Some(elapsed),
        ..Timings::default()
    };
    let got: Vec<String> = answers.iter().map(|a| normalise(a)).collect();
    let missing: Vec<&String> = t
        .expect
        .iter()
        .filter(|e| !got.contains(&normalise(e)))
        .collect();
    let shown = if answers.is_empty() {
        "no answer".to_owned()
    } else {
        answers.join(", ")
    };
    let mut problems = Vec::new();
    if answers.is_empty() {
        problems.push("no answer".to_owned());
    }
    if !missing.is_empty() {
        problems.push(format!(
            "missing {} (answers: {shown})",
            missing
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(limit) = t.latency_under
        && elapsed >= limit
    {
        problems.push(format!(
            "took {} (expected under {})",
            format_ms(elapsed),
            format_ms(limit)
        ));
    }
    let r = if problems.is_empty() {
        ProbeResult::pass(format!("{what}: {shown} in {}", format_ms(elapsed)))
    } else {
        let mut r = ProbeResult::fail(format!("{what}: {}", problems.join("; ")));
        r.errors = problems;
        r
    };
    r.fact("answers", shown).with_timings(timings)
}
