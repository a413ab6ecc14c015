//! Duties done (SPEC.md §11): a person says that a day-to-day operations
//! duty was done. It lands as a success of the environment's duty heartbeat
//! (with who and what in its body) and in the audit log.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stagegate_spec::Duty;
use stagegate_store::{Ping, PingKind};
use utoipa::ToSchema;

use super::{ApiError, ErrorBody, Refused};
use crate::AppState;
use crate::auth::extract::{Bearer, role};

/// How a duty done's ping body starts; the dashboard reads who from it.
pub(crate) const DONE_BY: &str = "done by ";

/// The longest note kept with a duty done.
const NOTE_MAX: usize = 1_000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoneRequest {
    /// What was done, for the record (at most 1,000 characters).
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Done {
    pub environment: String,
    pub duty: String,
    /// The duty heartbeat that records it.
    pub check: String,
    pub done_by: String,
    /// RFC 3339.
    pub at: String,
}

/// Record that a duty was done now: a success of the environment's duty
/// heartbeat, with who did it.
///
/// Needs the `operator` role.
#[utoipa::path(
    operation_id = "duty_done",
    post,
    path = "/api/v1/environments/{env}/duties/{duty}",
    tag = "environments",
    security(("bearer" = [])),
    params(
        ("env" = String, Path, description = "An environment of the spec"),
        ("duty" = String, Path, description = "`log-monitoring`, `backup-monitoring` or `security-updates`"),
    ),
    request_body(content = Option<DoneRequest>, content_type = "application/json", description = "Optional: a note"),
    responses(
        (status = 201, description = "Recorded", body = Done),
        (status = 400, description = "Not a duty, or a malformed note", body = ErrorBody),
        (status = 404, description = "No such environment, or no heartbeat of it has this duty", body = ErrorBody),
        Refused,
    )
)]
pub async fn done(
    who: Bearer<role::Operator>,
    State(state): State<Arc<AppState>>,
    Path((env, duty)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Done>), ApiError> {
    let note = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let invalid = |e: &dyn std::fmt::Display| {
            ApiError::bad_request(format!(
                "invalid request body: {e}; expected {{\"note\": \"TEXT\"}} or nothing"
            ))
        };
        match serde_json::from_slice::<serde_json::Value>(&body).map_err(|e| invalid(&e))? {
            serde_json::Value::Null => None,
            object @ serde_json::Value::Object(_) => {
                serde_json::from_value::<DoneRequest>(object)
                    .map_err(|e| invalid(&e))?
                    .note
            }
            other => return Err(invalid(&format!("found {other}"))),
        }
    };
    let record = record(&state, &env, &duty, who.who(), note.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// Records `duty` of `env` as done by `who` now; shared with the
/// dashboard's button.
pub(crate) async fn record(
    state: &AppState,
    env: &str,
    duty: &str,
    who: &str,
    note: Option<&str>,
) -> Result<Done, ApiError> {
    let Some(which) = Duty::parse(duty) else {
        return Err(ApiError::bad_request(format!(
            "`{duty}` is not a duty: expected one of {}",
            Duty::NAMES.join(", ")
        )));
    };
    if note.is_some_and(|n| n.chars().any(char::is_control)) {
        return Err(ApiError::bad_request(
            "`note` holds a control character: expected one line of text",
        ));
    }
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX) {
        return Err(ApiError::bad_request(format!(
            "`note` is longer than {NOTE_MAX} characters"
        )));
    }
    let snapshot = state.snapshot();
    let Some(environment) = snapshot.spec.environment(env) else {
        return Err(ApiError::no_environment(env));
    };
    let Some(check) = environment
        .monitoring
        .iter()
        .flat_map(|m| &m.checks)
        .find(|c| c.duty.as_ref().is_some_and(|d| d.value == which))
    else {
        return Err(ApiError::not_found(format!(
            "no heartbeat of `{env}` has `duty = \"{duty}\"`: declare one to record {} as done",
            which.label()
        )));
    };
    let Some(heartbeat) = snapshot
        .heartbeats
        .iter()
        .find(|h| h.environment == env && h.check == check.name.value)
    else {
        return Err(ApiError::not_found(format!(
            "the heartbeat `{}` of `{env}` has no usable token",
            check.name.value
        )));
    };
    let now = state.clock.now();
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    let body = match note {
        Some(n) => format!("{DONE_BY}{who}: {n}"),
        None => format!("{DONE_BY}{who}"),
    };
    let ping = Ping {
        token: heartbeat.token.clone(),
        kind: PingKind::Success,
        exit_code: None,
        run_id: None,
        received_at: now,
        remote: None,
        body: Some(body),
    };
    if let Err(e) = state.pings.record(ping.clone()).await {
        state.metrics.store_error();
        tracing::error!(error = %e, "cannot record a duty done");
        return Err(ApiError::unavailable());
    }
    state.judge.pinged(Ping { body: None, ..ping });
    crate::audit::record(
        state.store.as_ref(),
        now,
        who,
        "duty.done",
        &format!("{env}/{duty}"),
        serde_json::json!({ "check": check.name.value, "note": note }),
    )
    .await;
    Ok(Done {
        environment: env.to_owned(),
        duty: which.as_str().to_owned(),
        check: check.name.value.clone(),
        done_by: who.to_owned(),
        at: crate::clock::rfc3339(now),
    })
}
