//! Host agents' reports (SPEC.md §11). An agent token is named after the
//! one server it speaks for: it may send that server's reports and
//! nothing else, and reads nothing.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use stagegate_agent::Report;
use stagegate_store::{NewAgentReport, Ping, PingKind};
use utoipa::ToSchema;

use super::{ApiError, ErrorBody, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};

pub const PATH: &str = "/api/v1/agents/report";

/// How a pending reboot is listed among the pending updates.
pub const REBOOT: &str = "(reboot required)";

/// How far ahead of the server's clock a report may be dated (clocks
/// drift; a report from tomorrow is a broken clock or a forgery).
const SKEW_MS: i64 = 5 * 60 * 1000;

/// The oldest report taken: a spool holds weeks at most, and a host whose
/// clock was reset must not date its pending updates back to 1970.
const MAX_AGE_MS: i64 = 31 * 86_400 * 1000;

#[derive(Serialize, ToSchema)]
pub struct Stored {
    /// Always `stored`.
    #[schema(pattern = "^stored$")]
    pub status: &'static str,
    pub id: i64,
}

/// Store a host agent's report (the JSON of `stagegate agent --once
/// --dry-run --format json`). At most 1 MiB.
///
/// Needs the `agent` role, in a token named after the report's `server`.
#[utoipa::path(
    operation_id = "agent_report",
    post,
    path = "/api/v1/agents/report",
    tag = "agents",
    security(("bearer" = [])),
    request_body(content = Object, content_type = "application/json", description = "The report (SPEC.md §11)"),
    responses(
        (status = 201, description = "Stored", body = Stored),
        (status = 400, description = "Not a report: the field path and what was expected, or a report dated in the future", body = ErrorBody),
        (status = 413, description = "Larger than 1 MiB", body = ErrorBody),
        (status = 422, description = "The report's server is not this token's, or not a server of the spec", body = ErrorBody),
        Refused,
    )
)]
pub async fn report(
    who: Bearer<role::Agent>,
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Stored>), ApiError> {
    let report = parse(&body)?;
    let bound = who.who();
    if report.server != bound {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "`server` is `{}`, but this token reports for `{bound}` only",
                report.server
            ),
        ));
    }
    let declared = state
        .snapshot()
        .spec
        .environments
        .iter()
        .flat_map(|e| &e.servers)
        .any(|s| s.name.value == report.server);
    if !declared {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "`server` is `{}`, which no environment of the spec declares",
                report.server
            ),
        ));
    }
    let collected_at = report
        .collected_at
        .parse::<jiff::Timestamp>()
        .map_err(|e| {
            ApiError::bad_request(format!(
                "`collected_at` is {:?}: {e}; expected an RFC 3339 time such as 2026-11-30T10:00:00Z",
                report.collected_at
            ))
        })?
        .as_millisecond();
    let now = state.clock.now();
    if collected_at > now + SKEW_MS {
        return Err(ApiError::bad_request(format!(
            "`collected_at` is {}, later than the server's clock ({}): is the host's clock right?",
            report.collected_at,
            crate::clock::rfc3339(now)
        )));
    }
    if collected_at < now - MAX_AGE_MS {
        return Err(ApiError::bad_request(format!(
            "`collected_at` is {}, more than 31 days before the server's clock ({}): is the host's clock right?",
            report.collected_at,
            crate::clock::rfc3339(now)
        )));
    }
    let security_packages = report.updates.as_ref().map(tracked).unwrap_or_default();
    let stored = NewAgentReport {
        server: report.server.clone(),
        collected_at,
        received_at: now,
        report: serde_json::to_string(&report)
            .map_err(|e| ApiError::bad_request(format!("the report cannot be kept: {e}")))?,
        security_packages,
    };
    let id = state
        .store
        .record_agent_report(&stored)
        .await
        .map_err(|e| ApiError::store(&state, &e))?;
    // Each environment watching this server's agent hears that it is alive.
    let watching: Vec<String> = state
        .snapshot()
        .spec
        .environments
        .iter()
        .filter(|e| e.agent.is_some() && e.server(&report.server).is_some())
        .map(|e| e.name.value.clone())
        .collect();
    for env in watching {
        let ping = Ping {
            token: crate::snapshot::Heartbeat::agent_token(&env, &report.server),
            kind: PingKind::Success,
            exit_code: None,
            run_id: None,
            received_at: now,
            remote: None,
            body: None,
        };
        if let Err(e) = state.pings.record(ping.clone()).await {
            state.metrics.store_error();
            tracing::error!(error = %e, server = %report.server, "cannot record an agent's heartbeat");
            return Err(ApiError::unavailable());
        }
        state.judge.pinged(ping);
    }
    Ok((
        StatusCode::CREATED,
        Json(Stored {
            status: "stored",
            id,
        }),
    ))
}

/// What SG-OPS-PATCHES counts from when it was first reported: each named
/// security update; security updates a report counts but does not name;
/// every pending update where the package manager keeps no security
/// records (apk: not observed is not none pending); a pending reboot.
fn tracked(u: &stagegate_agent::Updates) -> Vec<String> {
    let mut p = u.security_packages.clone();
    match u.security {
        Some(n) if usize::try_from(n).unwrap_or(usize::MAX) > p.len() => {
            p.push(UNNAMED.to_owned());
        }
        None if u.pending > 0 => p.push(UNKNOWN.to_owned()),
        _ => {}
    }
    if u.reboot_required == Some(true) {
        p.push(REBOOT.to_owned());
    }
    p
}

/// How security updates a report counts without naming them are tracked.
const UNNAMED: &str = "(security updates not named in the report)";
/// How pending updates of a package manager without security records are
/// tracked.
const UNKNOWN: &str = "(pending updates; the package manager keeps no security records)";

/// The report, or a 400 naming the field that is wrong.
fn parse(body: &[u8]) -> Result<Report, ApiError> {
    // Text that reaches terminals and logs carries no control characters.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(path) = control_character(&value, String::new())
    {
        return Err(ApiError::bad_request(format!(
            "not an agent report: `{path}` holds a control character"
        )));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    let report: Report = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!(" at `{path}`")
        };
        ApiError::bad_request(format!("not an agent report{at}: {}", e.inner()))
    })?;
    stagegate_agent::report::check(&report).map_err(|(path, why)| {
        ApiError::bad_request(format!("not an agent report: `{path}` {why}"))
    })?;
    Ok(report)
}

/// The path of the first string (or key) holding a control character.
fn control_character(v: &serde_json::Value, path: String) -> Option<String> {
    let bad = |s: &str| s.chars().any(char::is_control);
    match v {
        serde_json::Value::String(s) if bad(s) => {
            Some(if path.is_empty() { ".".into() } else { path })
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| control_character(item, format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, item)| {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if bad(k) {
                Some(at)
            } else {
                control_character(item, at)
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_malformed_report_names_the_field() {
        let e = parse(br#"{"server":"db-1","host":"h","collected_at":"x","updates":{"manager":"apt","pending":"many","security":1,"reboot_required":false}}"#)
            .expect_err("refused");
        let text = format!("{e:?}");
        assert!(text.contains("updates.pending"), "{text}");
        let e = parse(br#"{"server":"db-1","host":"h","collected_at":"x","surprise":1}"#)
            .expect_err("refused");
        assert!(format!("{e:?}").contains("surprise"), "{e:?}");
        assert!(parse(b"[]").is_err());
    }
}
