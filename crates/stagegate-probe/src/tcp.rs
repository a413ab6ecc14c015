//! TCP connect probes.

use std::time::Duration;

use tokio::time::Instant;

use crate::Context;
use crate::connect::connect;
use crate::deadline::Deadline;
use crate::result::{ProbeResult, Timings, format_ms};

#[derive(Clone, Debug)]
pub struct TcpTarget {
    pub host: String,
    pub port: u16,
    pub latency_under: Option<Duration>,
}

pub async fn probe(t: &TcpTarget, cx: &Context, deadline: &Deadline) -> ProbeResult {
    let start = Instant::now();
    match connect(&cx.resolver, &t.host, t.port, deadline).await {
        Ok(c) => {
            let total = start.elapsed();
            let timings = Timings {
                dns: c.dns,
                connect: Some(c.connect),
                total: Some(total),
                ..Timings::default()
            };
            let head = format!(
                "{}:{} accepts connections ({}) in {}",
                t.host,
                t.port,
                c.addr,
                format_ms(total)
            );
            let r = match t.latency_under {
                Some(limit) if total >= limit => {
                    ProbeResult::fail(format!("{head}, expected under {}", format_ms(limit)))
                }
                _ => ProbeResult::pass(head),
            };
            r.fact("address", c.addr).with_timings(timings)
        }
        Err(e) => ProbeResult::from_error(format!("TCP {}:{}", t.host, t.port), &e),
    }
}
