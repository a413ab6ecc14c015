//! What a probe found: a verdict, the measured facts, per-phase timings and,
//! on failure, the error chain — everything a person needs to see why.

use std::time::Duration;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeStatus {
    Pass,
    Fail,
    /// The probe cannot run here (e.g. heartbeats outside the server).
    Skip,
}

/// Time spent in each phase of one attempt; absent phases did not happen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    #[serde(skip_serializing_if = "Option::is_none", with = "millis")]
    pub dns: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none", with = "millis")]
    pub connect: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none", with = "millis")]
    pub tls: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none", with = "millis")]
    pub first_byte: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none", with = "millis")]
    pub total: Option<Duration>,
}

mod millis {
    use std::time::Duration;

    use serde::Serializer;

    #[allow(clippy::ref_option)]
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3),
            None => s.serialize_none(),
        }
    }
}

impl Timings {
    /// "dns 1.2 ms, connect 0.4 ms, tls 3.1 ms, first byte 9.0 ms, total 9.3 ms"
    pub fn describe(&self) -> String {
        [
            ("dns", self.dns),
            ("connect", self.connect),
            ("tls", self.tls),
            ("first byte", self.first_byte),
            ("total", self.total),
        ]
        .iter()
        .filter_map(|(name, d)| d.map(|d| format!("{name} {}", format_ms(d))))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Milliseconds with one decimal below 100 ms, whole above.
pub fn format_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The certificate a TLS handshake presented, and whether it is trusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Certificate {
    pub subject: String,
    pub issuer: String,
    /// RFC 3339 UTC.
    pub not_after: String,
    /// Whole days until expiry (negative once expired).
    pub days_left: i64,
    /// `None` when the chain verifies for the host name, else why not.
    pub verify_error: Option<String>,
    /// Certificates in the presented chain.
    pub chain_length: usize,
}

impl Certificate {
    pub fn is_trusted(&self) -> bool {
        self.verify_error.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeResult {
    pub status: ProbeStatus,
    /// One line: what was found ("HTTP 200 in 41.2 ms") or what failed.
    pub summary: String,
    /// Measured values, in order: status code, server version, snapshot age...
    pub facts: Vec<(String, String)>,
    /// The error and its causes, outermost first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    pub timings: Timings,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// Attempts made (1 + retries used).
    pub attempts: u32,
    /// Ports that answered (port scans only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub open_ports: Vec<u16>,
}

impl ProbeResult {
    pub fn pass(summary: impl Into<String>) -> Self {
        Self::new(ProbeStatus::Pass, summary)
    }

    pub fn fail(summary: impl Into<String>) -> Self {
        Self::new(ProbeStatus::Fail, summary)
    }

    pub fn skip(summary: impl Into<String>) -> Self {
        Self::new(ProbeStatus::Skip, summary)
    }

    fn new(status: ProbeStatus, summary: impl Into<String>) -> Self {
        ProbeResult {
            status,
            summary: summary.into(),
            facts: Vec::new(),
            errors: Vec::new(),
            timings: Timings::default(),
            certificate: None,
            attempts: 1,
            open_ports: Vec::new(),
        }
    }

    pub fn fact(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.facts.push((key.into(), value.to_string()));
        self
    }

    pub fn with_timings(mut self, timings: Timings) -> Self {
        self.timings = timings;
        self
    }

    /// A failure from an error: the summary names the phase, the chain
    /// lists every cause.
    pub fn from_error(what: impl Into<String>, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = vec![error.to_string()];
        let mut source = error.source();
        while let Some(e) = source {
            let text = e.to_string();
            if chain.last() != Some(&text) {
                chain.push(text);
            }
            source = e.source();
        }
        let what = what.into();
        let mut r = ProbeResult::fail(format!("{what}: {}", chain.join(": ")));
        r.errors = chain;
        r
    }

    pub fn passed(&self) -> bool {
        self.status == ProbeStatus::Pass
    }
}
