//! Heartbeat pings, compatible with Healthchecks.io ping URLs so existing
//! backup and cron scripts work unchanged. The token in the path is the
//! only credential. Input is checked here, at the edge: what no store can
//! hold never reaches one.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use stagegate_store::{Ping, PingKind};
use utoipa::IntoParams;

use super::ApiError;
use crate::AppState;

/// Healthchecks.io keeps the first 10 kB of a ping body; so do we.
const BODY_KEEP: usize = 10_000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunId {
    /// Pairs a start with its finish when runs overlap (a UUID, at most 64
    /// printable characters).
    #[param(max_length = 64, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    rid: Option<String>,
}

/// A heartbeat's success (the job finished).
#[utoipa::path(
    operation_id = "ping_success",
    method(get, post),
    path = "/ping/{token}",
    tag = "pings",
    params(("token" = String, Path, description = "The heartbeat's ping token"), RunId),
    request_body(content = Option<String>, content_type = "text/plain", description = "Optional: the job's output; the first 10 kB are kept"),
    responses(
        (status = 200, description = "Recorded", body = String, content_type = "text/plain"),
        (status = 400, description = "`rid` is not printable or longer than 64 characters", body = super::ErrorBody),
        (status = 404, description = "Unknown token", body = String, content_type = "text/plain"),
        (status = 413, description = "Body larger than 64 KiB", body = super::ErrorBody),
        (status = 503, description = "The store is unavailable", body = super::ErrorBody),
    )
)]
pub async fn success(
    State(state): State<Arc<AppState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    Query(q): Query<RunId>,
    body: Bytes,
) -> Response {
    record(
        &state,
        &token,
        PingKind::Success,
        None,
        q.rid,
        remote,
        &body,
    )
    .await
}

/// A heartbeat's start, failure, log line or exit status (0 is success).
#[utoipa::path(
    operation_id = "ping_signal",
    method(get, post),
    path = "/ping/{token}/{action}",
    tag = "pings",
    params(
        ("token" = String, Path, description = "The heartbeat's ping token"),
        ("action" = String, Path, description = "`start`, `fail`, `log` (changes no state; rate-limited), or an exit status 0-255", pattern = "^(start|fail|log|[0-9]{1,3})$"),
        RunId,
    ),
    request_body(content = Option<String>, content_type = "text/plain", description = "Optional: the job's output; the first 10 kB are kept"),
    responses(
        (status = 200, description = "Recorded", body = String, content_type = "text/plain"),
        (status = 400, description = "`rid` is not printable or longer than 64 characters", body = super::ErrorBody),
        (status = 404, description = "Unknown token, or an action other than start, fail, log or 0-255", body = String, content_type = "text/plain"),
        (status = 413, description = "Body larger than 64 KiB", body = super::ErrorBody),
        (status = 429, description = "Too many log pings from this job; `Retry-After` says when to try again", body = super::ErrorBody),
        (status = 503, description = "The store is unavailable", body = super::ErrorBody),
    )
)]
pub async fn signal(
    State(state): State<Arc<AppState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path((token, action)): Path<(String, String)>,
    Query(q): Query<RunId>,
    body: Bytes,
) -> Response {
    let Some((kind, code)) = action_of(&action) else {
        return not_found();
    };
    record(&state, &token, kind, code, q.rid, remote, &body).await
}

/// What `/ping/{token}/{action}` signals: `start`, `fail`, `log` or an exit
/// status 0-255.
pub fn action_of(action: &str) -> Option<(PingKind, Option<i32>)> {
    Some(match action {
        "start" => (PingKind::Start, None),
        "fail" => (PingKind::Fail, None),
        "log" => (PingKind::Log, None),
        n => (PingKind::Exit, Some(i32::from(n.parse::<u8>().ok()?))),
    })
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn record(
    state: &AppState,
    token: &str,
    kind: PingKind,
    exit_code: Option<i32>,
    rid: Option<String>,
    remote: SocketAddr,
    body: &Bytes,
) -> Response {
    // An agent's heartbeat takes reports through its own endpoint only.
    if state.snapshot().heartbeat(token).is_none_or(|h| h.internal) {
        return not_found();
    }
    let run_id = match rid.filter(|r| !r.is_empty()).map(run_id).transpose() {
        Ok(r) => r,
        Err(message) => {
            state.metrics.ping_refused("input");
            return ApiError::bad_request(message).into_response();
        }
    };
    // Log bodies are what fills a disk: a job may send a few at once and
    // one a minute after that. Its other pings are never refused.
    if kind == PingKind::Log
        && let Err(wait_ms) = state.log_bodies.take(token, state.clock.now())
    {
        state.metrics.ping_refused("rate");
        let secs = (wait_ms + 999) / 1000;
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many log pings from this job; try again later",
        );
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            e = e.with_header(header::RETRY_AFTER, v);
        }
        return e.into_response();
    }
    let ping = Ping {
        token: token.to_owned(),
        kind,
        exit_code,
        run_id,
        received_at: state.clock.now(),
        remote: Some(remote.ip().to_string()),
        body: kept_body(body),
    };
    // What the judge needs of it (logs change no verdict; bodies and
    // addresses are not judged), copied before the ping goes to the writer.
    let judged = (ping.kind != PingKind::Log).then(|| Ping {
        token: ping.token.clone(),
        run_id: ping.run_id.clone(),
        remote: None,
        body: None,
        ..ping
    });
    // The ping is acknowledged only once it is committed.
    match state.pings.record(ping).await {
        Ok(()) => {
            state.metrics.ping();
            // Judged now, not at some later tick.
            if let Some(judged) = judged {
                state.judge.pinged(judged);
            }
            (StatusCode::OK, "OK\n").into_response()
        }
        Err(e) => {
            state.metrics.store_error();
            tracing::error!(error = %e, "cannot record a ping");
            ApiError::unavailable().into_response()
        }
    }
}

/// What is kept of a ping's body: its first 10 kB as text, with bytes no
/// store can hold in text (NUL) shown as `␀`.
pub fn kept_body(body: &[u8]) -> Option<String> {
    let kept = &body[..body.len().min(BODY_KEEP)];
    if kept.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(kept);
    Some(if text.contains('\0') {
        text.replace('\0', "\u{2400}")
    } else {
        text.into_owned()
    })
}

/// A run id (`?rid=`) as Healthchecks.io clients send it: printable, at most
/// 64 characters (a UUID is 36).
pub fn run_id(rid: String) -> Result<String, String> {
    let n = rid.chars().count();
    if n > 64 {
        return Err(format!(
            "`rid` is {n} characters long; expected at most 64 (a UUID)"
        ));
    }
    if let Some(c) = rid.chars().find(|c| c.is_control()) {
        return Err(format!(
            "`rid` contains the control character {c:?}; expected printable text such as a UUID"
        ));
    }
    Ok(rid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_keep_ten_kilobytes_and_no_nul() {
        assert_eq!(kept_body(b""), None);
        assert_eq!(kept_body(b"a\0b").as_deref(), Some("a\u{2400}b"));
        assert_eq!(kept_body(&[b'x'; 20_000]).map(|b| b.len()), Some(10_000));
    }

    #[test]
    fn run_ids_are_short_printable_text() {
        assert!(run_id("5b8a1e5e-9d3c-4c41-9a77-0f3d0c1b9d11".into()).is_ok());
        assert!(
            run_id("a\0b".into())
                .expect_err("refused")
                .contains("`rid`")
        );
        assert!(
            run_id("x".repeat(65))
                .expect_err("refused")
                .contains("at most 64")
        );
    }
}
