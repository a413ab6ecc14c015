//! Prometheus: an instant query with an expected result, or proof that every
//! monitored component has a scrape target with `up == 1`.

use http::{Method, Uri};
use serde::Deserialize;

use crate::Context;
use crate::deadline::Deadline;
use crate::http::{HttpExpect, HttpTarget, fetch};
use crate::result::{ProbeResult, format_ms};
use crate::tls::TlsTrust;

/// A component the monitoring system must be watching.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Component {
    /// A server, matched by name or host against target labels.
    Server { name: String, host: Option<String> },
    /// The backup system, matched by a `job` label containing "backup".
    Backup,
}

impl Component {
    fn describe(&self) -> String {
        match self {
            Component::Server {
                name,
                host: Some(h),
            } => format!("server {name} ({h})"),
            Component::Server { name, host: None } => format!("server {name}"),
            Component::Backup => "the backup system".to_owned(),
        }
    }

    fn matches(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        match self {
            Component::Server { name, host } => labels.iter().any(|(k, v)| {
                let hostname = v.rsplit_once(':').map_or(v.as_str(), |(h, _)| h);
                (k == "instance" && (hostname == name || host.as_deref() == Some(hostname)))
                    || ((k == "server" || k == "host" || k == "hostname" || k == "nodename")
                        && (v == name || host.as_deref() == Some(v.as_str())))
            }),
            Component::Backup => labels
                .get("job")
                .is_some_and(|j| j.to_ascii_lowercase().contains("backup")),
        }
    }
}

#[derive(Clone, Debug)]
pub enum PrometheusCheck {
    /// `query` must return at least one sample, equal to `expect` if given.
    Query { query: String, expect: Vec<String> },
    /// Every component has a target with `up == 1`.
    TargetsUp(Vec<Component>),
}

#[derive(Clone, Debug)]
pub struct PrometheusTarget {
    /// Base URL of the Prometheus server, e.g. `http://prometheus:9090`.
    pub base: String,
    pub check: PrometheusCheck,
    pub trust: TlsTrust,
}

#[derive(Deserialize)]
struct ApiResponse {
    status: String,
    #[serde(default)]
    data: Option<ApiData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct ApiData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct Sample {
    metric: std::collections::BTreeMap<String, String>,
    value: (f64, String),
}

fn encode(q: &str) -> String {
    let mut out = String::new();
    for b in q.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Numbers compare by value ("1" equals "1.0"), everything else as text.
fn same_value(got: &str, want: &str) -> bool {
    match (got.parse::<f64>(), want.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => got == want,
    }
}

async fn instant(
    t: &PrometheusTarget,
    query: &str,
    cx: &Context,
    deadline: &Deadline,
) -> Result<(Vec<Sample>, std::time::Duration), ProbeResult> {
    let url = format!(
        "{}/api/v1/query?query={}",
        t.base.trim_end_matches('/'),
        encode(query)
    );
    let uri: Uri = url
        .parse()
        .map_err(|e| ProbeResult::from_error(format!("Prometheus URL {url}"), &e))?;
    let target = HttpTarget {
        url: uri,
        method: Method::GET,
        headers: Vec::new(),
        body: None,
        follow_redirects: false,
        insecure: false,
        trust: t.trust.clone(),
        expect: HttpExpect::default(),
    };
    let fetched = fetch(&target, cx, deadline).await?;
    let what = format!("Prometheus {}", t.base);
    let parsed: ApiResponse = serde_json::from_slice(&fetched.response.body).map_err(|e| {
        ProbeResult::from_error(
            format!(
                "{what}: HTTP {} with a body that is not the query API's JSON",
                fetched.response.status
            ),
            &e,
        )
    })?;
    if parsed.status != "success" {
        return Err(ProbeResult::fail(format!(
            "{what}: query `{query}` failed: {}",
            parsed.error.unwrap_or_else(|| parsed.status.clone())
        )));
    }
    let data = parsed
        .data
        .ok_or_else(|| ProbeResult::fail(format!("{what}: no data in the answer")))?;
    let samples = match data.result_type.as_str() {
        "vector" => serde_json::from_value::<Vec<Sample>>(data.result)
            .map_err(|e| ProbeResult::from_error(format!("{what}: unexpected vector"), &e))?,
        "scalar" | "string" => {
            let (ts, v): (f64, String) = serde_json::from_value(data.result).map_err(|e| {
                ProbeResult::from_error(format!("{what}: unexpected {}", data.result_type), &e)
            })?;
            vec![Sample {
                metric: Default::default(),
                value: (ts, v),
            }]
        }
        other => {
            return Err(ProbeResult::fail(format!(
                "{what}: query `{query}` returned a {other}, expected an instant vector or scalar"
            )));
        }
    };
    Ok((samples, fetched.total))
}

pub async fn probe(t: &PrometheusTarget, cx: &Context, deadline: &Deadline) -> ProbeResult {
    let what = format!("Prometheus {}", t.base);
    match &t.check {
        PrometheusCheck::Query { query, expect } => {
            let (samples, took) = match instant(t, query, cx, deadline).await {
                Ok(x) => x,
                Err(r) => return r,
            };
            let values: Vec<&str> = samples.iter().map(|s| s.value.1.as_str()).collect();
            let shown = if values.is_empty() {
                "no samples".to_owned()
            } else {
                values.join(", ")
            };
            let ok = if expect.is_empty() {
                !values.is_empty()
            } else {
                expect
                    .iter()
                    .all(|w| values.iter().any(|g| same_value(g, w)))
            };
            let head = format!("{what}: `{query}` = {shown} in {}", format_ms(took));
            let r = if ok {
                ProbeResult::pass(head)
            } else if expect.is_empty() {
                ProbeResult::fail(format!("{head} (expected at least one sample)"))
            } else {
                ProbeResult::fail(format!("{head} (expected {})", expect.join(", ")))
            };
            r.fact("query", query).fact("values", shown)
        }
        PrometheusCheck::TargetsUp(components) => {
            let (samples, took) = match instant(t, "up", cx, deadline).await {
                Ok(x) => x,
                Err(r) => return r,
            };
            let mut missing = Vec::new();
            let mut down = Vec::new();
            for c in components {
                let matching: Vec<&Sample> =
                    samples.iter().filter(|s| c.matches(&s.metric)).collect();
                if matching.is_empty() {
                    missing.push(c.describe());
                } else if !matching.iter().any(|s| same_value(&s.value.1, "1")) {
                    down.push(c.describe());
                }
            }
            let mut problems = Vec::new();
            if !missing.is_empty() {
                problems.push(format!("no scrape target for {}", missing.join(", ")));
            }
            if !down.is_empty() {
                problems.push(format!("up == 0 for {}", down.join(", ")));
            }
            let r = if problems.is_empty() {
                ProbeResult::pass(format!(
                    "{what}: all {} monitored components have a target with up == 1 ({} targets, {})",
                    components.len(),
                    samples.len(),
                    format_ms(took)
                ))
            } else {
                let mut r = ProbeResult::fail(format!("{what}: {}", problems.join("; ")));
                r.errors = problems;
                r
            };
            r.fact("targets", samples.len())
                .fact("components", components.len())
        }
    }
}
