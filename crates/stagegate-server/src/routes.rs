//! HTTP: health, metrics, Healthchecks.io-compatible pings, and the API
//! under `/api/v1` (bearer tokens, roles enforced).

// Handlers bail out with a ready response; boxing it would gain nothing.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use stagegate_report::{Format, Kind, Options, Report};
use stagegate_spec::Date;
use stagegate_store::{CheckStatus, Ping, PingKind, Role, TokenRecord, now_ms};

use crate::AppState;
use crate::auth::{Denied, authorize};
use crate::snapshot::check_key;

/// Healthchecks.io keeps the first 10 kB of a ping body; so do we.
const PING_BODY_KEEP: usize = 10_000;
use crate::conn::BODY_LIMIT;
const DAY_MS: i64 = 86_400_000;

pub fn router(state: Arc<AppState>, body_timeout: std::time::Duration) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/ping/{token}", get(ping_success).post(ping_success))
        .route("/ping/{token}/{action}", get(ping_action).post(ping_action))
        .route("/api/v1/environments", get(environments))
        .route("/api/v1/checks", get(checks))
        .route("/api/v1/incidents", get(incidents))
        .route("/api/v1/incidents/{id}/acknowledge", post(acknowledge))
        .route("/api/v1/incidents/{id}/resolve", post(resolve))
        .route("/api/v1/deliveries", get(deliveries))
        .route(
            "/api/v1/openapi.json",
            get(|| async { axum::Json(crate::openapi::document()) }),
        )
        .route("/api/v1/promotions", get(all_promotions))
        .route("/api/v1/compliance/{framework}", get(compliance))
        .route("/api/v1/cluster", get(cluster))
        .route(
            "/api/v1/environments/{env}/drills",
            get(env_drills).post(start_drill),
        )
        .route(
            "/api/v1/environments/{env}/promotions",
            get(env_promotions).post(create_promotion),
        )
        .merge(crate::dashboard::router())
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(axum::middleware::from_fn(traced))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                crate::conn::read_body(body_timeout, request, next)
            },
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// A DEBUG span per request, named by its route (never by the raw path:
/// ping tokens are secrets, and ids would split one route into many).
async fn traced(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use tracing::Instrument;
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let span = tracing::debug_span!(
        "request",
        otel.name = %format_args!("{} {route}", request.method()),
        http.request.method = %request.method(),
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

/// A stored result with its evidence as JSON, not as a string of JSON.
fn result_json(r: &stagegate_store::StoredResult) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    let evidence: Value = serde_json::from_str(&r.evidence).unwrap_or_else(|_| json!({}));
    // Rows written before evidence became a flat object held the whole
    // observation, its measurements under `details` as pairs.
    v["evidence"] = match evidence.get("details").and_then(Value::as_array) {
        Some(pairs) => pairs
            .iter()
            .filter_map(|p| Some((p.get(0)?.as_str()?.to_owned(), p.get(1)?.clone())))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        None => evidence,
    };
    v
}

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

fn store_failed(state: &AppState, e: &stagegate_store::StoreError) -> Response {
    state.metrics.store_error();
    tracing::error!(error = %e, "store operation failed");
    error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
}

async fn require(
    state: &AppState,
    headers: &HeaderMap,
    role: Role,
) -> Result<TokenRecord, Response> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    authorize(state.store.as_ref(), auth, role)
        .await
        .map_err(|d| match d {
            Denied::Unauthenticated => {
                state.metrics.auth_refused("invalid");
                let mut r = error(StatusCode::UNAUTHORIZED, "missing or invalid bearer token");
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    http::HeaderValue::from_static("Bearer"),
                );
                r
            }
            Denied::Forbidden => {
                error(StatusCode::FORBIDDEN, format!("this needs the {role} role"))
            }
        })
}

/// How long `/healthz` waits for the store: a health check that hangs is
/// as good as a failing one, and orchestrators give up after a second or
/// two.
const HEALTH_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let problem = match tokio::time::timeout(HEALTH_WAIT, state.store.health()).await {
        Ok(Ok(())) => return (StatusCode::OK, "ok\n").into_response(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {}s", HEALTH_WAIT.as_secs()),
    };
    state.metrics.store_error();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("store unavailable: {problem}\n"),
    )
        .into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct PingQuery {
    rid: Option<String>,
}

async fn record_ping(
    state: &AppState,
    token: &str,
    kind: PingKind,
    exit_code: Option<i32>,
    rid: Option<String>,
    remote: SocketAddr,
    body: &Bytes,
) -> Response {
    let snapshot = state.snapshot();
    if snapshot.heartbeat(token).is_none() {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let run_id = match rid.filter(|r| !r.is_empty()).map(run_id).transpose() {
        Ok(r) => r,
        Err(message) => {
            state.metrics.ping_refused("input");
            return error(StatusCode::BAD_REQUEST, message);
        }
    };
    // Log bodies are what fills a disk: a job may send a few at once and
    // one a minute after that. Its other pings are never refused.
    if kind == PingKind::Log
        && let Err(wait_ms) = state.log_bodies.take(token, state.clock.now())
    {
        state.metrics.ping_refused("rate");
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many log pings from this job; try again later",
        );
        let secs = (wait_ms + 999) / 1000;
        if let Ok(v) = http::HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let ping = Ping {
        token: token.to_owned(),
        kind,
        exit_code,
        run_id,
        received_at: state.clock.now(),
        remote: Some(remote.ip().to_string()),
        body: ping_body(body),
    };
    // The ping is acknowledged only once it is committed.
    match state.pings.record(ping).await {
        Ok(()) => {
            state.metrics.ping();
            // Judged now, not at some later tick.
            state.judge.pinged(token);
            (StatusCode::OK, "OK\n").into_response()
        }
        Err(e) => {
            state.metrics.store_error();
            tracing::error!(error = %e, "cannot record a ping");
            error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
        }
    }
}

/// What is kept of a ping's body: its first 10 kB as text, with bytes no
/// store can hold in text (NUL) shown as `␀`.
fn ping_body(body: &[u8]) -> Option<String> {
    let kept = &body[..body.len().min(PING_BODY_KEEP)];
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
fn run_id(rid: String) -> Result<String, String> {
    if rid.chars().count() > 64 {
        return Err(format!(
            "`rid` is {} characters long; expected at most 64 (a UUID)",
            rid.chars().count()
        ));
    }
    if let Some(c) = rid.chars().find(|c| c.is_control()) {
        return Err(format!(
            "`rid` contains the control character {c:?}; expected printable text such as a UUID"
        ));
    }
    Ok(rid)
}

async fn ping_success(
    State(state): State<Arc<AppState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    Query(q): Query<PingQuery>,
    body: Bytes,
) -> Response {
    record_ping(
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

async fn ping_action(
    State(state): State<Arc<AppState>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    Path((token, action)): Path<(String, String)>,
    Query(q): Query<PingQuery>,
    body: Bytes,
) -> Response {
    let (kind, code) = match action.as_str() {
        "start" => (PingKind::Start, None),
        "fail" => (PingKind::Fail, None),
        "log" => (PingKind::Log, None),
        n => match n.parse::<u8>() {
            Ok(code) => (PingKind::Exit, Some(i32::from(code))),
            Err(_) => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
        },
    };
    record_ping(&state, &token, kind, code, q.rid, remote, &body).await
}

/// The check report (the contract's JSON shape) plus each environment's live
/// state: every check's confirmed status and open incident.
async fn environments(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&state, &headers, Role::Viewer).await {
        return r;
    }
    let snapshot = state.snapshot();
    let as_of = Date::today_utc();
    let files = crate::drills::facts(state.store.as_ref(), &snapshot).await;
    let evaluation = stagegate_rules::evaluate(&snapshot.spec, &[], as_of, &files, None);
    let report = Report {
        kind: Kind::Check,
        product: &snapshot.spec.product.name.value,
        as_of,
        source: &snapshot.source,
        environments: &evaluation.environments,
    };
    let mut buf = Vec::new();
    if report
        .render(Format::Json, Options::default(), &mut buf)
        .is_err()
    {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot render the report",
        );
    }
    let Ok(mut doc) = serde_json::from_slice::<Value>(&buf) else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot render the report",
        );
    };
    let states = match state.store.check_states().await {
        Ok(s) => s,
        Err(e) => return store_failed(&state, &e),
    };
    let open = match state.store.incidents(now_ms(), 10_000).await {
        Ok(i) => i,
        Err(e) => return store_failed(&state, &e),
    };
    if let Some(envs) = doc["environments"].as_array_mut() {
        for env_doc in envs {
            let name = env_doc["name"].as_str().unwrap_or_default().to_owned();
            let checks: Vec<Value> = snapshot
                .spec
                .environment(&name)
                .and_then(|e| e.monitoring.as_ref())
                .map(|m| {
                    m.checks
                        .iter()
                        .map(|c| {
                            let key = check_key(&name, &c.name.value);
                            let st = states.iter().find(|s| s.check == key);
                            json!({
                                "name": c.name.value,
                                "kind": c.kind.value,
                                "status": st.map_or(CheckStatus::Unknown, |s| s.status),
                                "since": st.and_then(|s| s.last_run_at),
                                "incident": open.iter().find(|i| i.check == key && i.resolved_at.is_none()),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            env_doc["live"] = json!({ "checks": checks });
        }
    }
    axum::Json(doc).into_response()
}

async fn checks(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&state, &headers, Role::Viewer).await {
        return r;
    }
    let snapshot = state.snapshot();
    let now = now_ms();
    let mut out = Vec::new();
    for env in &snapshot.spec.environments {
        for c in env.monitoring.iter().flat_map(|m| &m.checks) {
            let key = check_key(&env.name.value, &c.name.value);
            let fetched = async {
                let st = state.store.check_state(&key).await?;
                let recent = state.store.recent_results(&key, 20).await?;
                let day = state.store.uptime(&key, now - DAY_MS).await?;
                let week = state.store.uptime(&key, now - 7 * DAY_MS).await?;
                let month = state.store.uptime(&key, now - 30 * DAY_MS).await?;
                Ok::<_, stagegate_store::StoreError>((st, recent, day, week, month))
            };
            let (st, recent, day, week, month) = match fetched.await {
                Ok(x) => x,
                Err(e) => return store_failed(&state, &e),
            };
            out.push(json!({
                "environment": env.name.value,
                "name": c.name.value,
                "kind": c.kind.value,
                "covers": c.covers.as_ref().map(|cv| cv.value.as_str().to_owned()),
                "status": st.as_ref().map_or(CheckStatus::Unknown, |s| s.status),
                "uptime": {
                    "24h": day.percent(),
                    "7d": week.percent(),
                    "30d": month.percent(),
                },
                "recent": recent.iter().map(result_json).collect::<Vec<_>>(),
            }));
        }
    }
    axum::Json(json!({ "checks": out })).into_response()
}

async fn incidents(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&state, &headers, Role::Viewer).await {
        return r;
    }
    match state.store.incidents(now_ms() - 7 * DAY_MS, 500).await {
        Ok(list) => axum::Json(json!({ "incidents": list })).into_response(),
        Err(e) => store_failed(&state, &e),
    }
}

fn incident_id(raw: &str) -> Result<i64, Response> {
    raw.parse::<i64>().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("`id` must be an incident number, found {raw:?}"),
        )
    })
}

async fn acknowledge(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let who = match require(&state, &headers, Role::Operator).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let id = match incident_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match state
        .store
        .acknowledge_incident(id, &who.name, now_ms())
        .await
    {
        Ok(Some(i)) => axum::Json(i).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Err(e) => store_failed(&state, &e),
    }
}

async fn resolve(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = require(&state, &headers, Role::Operator).await {
        return r;
    }
    let id = match incident_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match crate::lifecycle::resolve_by_hand(&state, id, now_ms()).await {
        Ok(Some(i)) => axum::Json(i).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Err(e) => store_failed(&state, &e),
    }
}

async fn deliveries(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&state, &headers, Role::Viewer).await {
        return r;
    }
    match state.store.deliveries(500).await {
        Ok(list) => axum::Json(json!({ "deliveries": list })).into_response(),
        Err(e) => store_failed(&state, &e),
    }
}

async fn all_promotions(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&state, &headers, Role::Viewer).await {
        return r;
    }
    match state.store.promotions(None).await {
        Ok(list) => axum::Json(json!({ "promotions": list })).into_response(),
        Err(e) => store_failed(&state, &e),
    }
}

async fn env_promotions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(env): Path<String>,
) -> Response {
    if let Err(r) = require(&state, &headers, Role::Viewer).await {
        return r;
    }
    if state.snapshot().spec.environment(&env).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no environment `{env}`"));
    }
    match state.store.promotions(Some(&env)).await {
        Ok(list) => axum::Json(json!({ "promotions": list })).into_response(),
        Err(e) => store_failed(&state, &e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromotionRequest {
    to: String,
}

async fn create_promotion(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(env): Path<String>,
    body: Bytes,
) -> Response {
    let who = match require(&state, &headers, Role::Operator).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let request: PromotionRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("invalid request body: {e}; expected {{\"to\": \"MODE\"}}"),
            );
        }
    };
    let Some(to) = stagegate_spec::Mode::parse(&request.to) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "`to` is not a mode: found {:?}, expected one of {}",
                request.to,
                stagegate_spec::Mode::NAMES.join(", ")
            ),
        );
    };
    let snapshot = state.snapshot();
    let files = crate::drills::facts(state.store.as_ref(), &snapshot).await;
    match crate::promote::promote(state.store.as_ref(), &snapshot, &files, &env, to, &who.name).await {
        Ok((record, report)) => {
            (StatusCode::CREATED, axum::Json(json!({ "promotion": record, "report": report }))).into_response()
        }
        Err(crate::promote::Refused::UnknownEnvironment(e)) => error(StatusCode::NOT_FOUND, format!("no environment `{e}`")),
        Err(crate::promote::Refused::Blocked { to, failing }) => (
            StatusCode::CONFLICT,
            axum::Json(json!({
                "error": format!("{env} cannot be promoted to {to}: the plan is blocked"),
                "failing": failing.iter().map(|(rule, message)| json!({ "rule": rule, "message": message })).collect::<Vec<_>>(),
            })),
        )
            .into_response(),
        Err(crate::promote::Refused::Store(e)) => store_failed(&state, &e),
    }
}

async fn env_drills(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(env): Path<String>,
) -> Response {
    if let Err(r) = require(&state, &headers, Role::Viewer).await {
        return r;
    }
    if state.snapshot().spec.environment(&env).is_none() {
        return error(StatusCode::NOT_FOUND, format!("no environment `{env}`"));
    }
    match state.store.drills(Some(&env), 100).await {
        Ok(list) => axum::Json(json!({
            "running": crate::drills::running(&state, &env),
            "drills": list,
        }))
        .into_response(),
        Err(e) => store_failed(&state, &e),
    }
}

async fn start_drill(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(env): Path<String>,
) -> Response {
    if let Err(r) = require(&state, &headers, Role::Operator).await {
        return r;
    }
    match crate::drills::start(&state, &env) {
        Ok(()) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({
                "status": "started",
                "results": format!("/api/v1/environments/{env}/drills"),
            })),
        )
            .into_response(),
        Err(crate::drills::NotStarted::UnknownEnvironment) => {
            error(StatusCode::NOT_FOUND, format!("no environment `{env}`"))
        }
        Err(crate::drills::NotStarted::NotDeclared) => error(
            StatusCode::CONFLICT,
            format!(
                "`{env}` declares no restore drill: expected `[environments.{env}.backup.drill]`"
            ),
        ),
        Err(crate::drills::NotStarted::AlreadyRunning) => error(
            StatusCode::CONFLICT,
            format!("a restore drill of `{env}` is already running"),
        ),
    }
}

/// The compliance report of one framework (`stagegate report --framework
/// ID --format json`), for every environment, as of today.
async fn compliance(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(framework): Path<String>,
) -> Response {
    if let Err(r) = require(&state, &headers, Role::Viewer).await {
        return r;
    }
    let Some(pack) =
        stagegate_spec::Framework::parse(&framework).and_then(stagegate_rules::frameworks::pack)
    else {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no framework `{framework}`: expected one of {}",
                stagegate_spec::Framework::NAMES.join(", ")
            ),
        );
    };
    let snapshot = state.snapshot();
    let files = crate::drills::facts(state.store.as_ref(), &snapshot).await;
    let as_of = stagegate_spec::Date::today_utc();
    let evaluation = stagegate_rules::evaluate(&snapshot.spec, &[], as_of, &files, None);
    let assessments: Vec<_> = evaluation
        .environments
        .iter()
        .map(|r| stagegate_rules::frameworks::assess(pack, r, &snapshot.spec, as_of, &files))
        .collect();
    let report = stagegate_report::ComplianceReport {
        product: &snapshot.spec.product.name.value,
        as_of,
        source: &snapshot.source,
        pack,
        declared: snapshot
            .spec
            .product
            .frameworks
            .iter()
            .any(|f| f.value == pack.framework),
        live: false,
        environments: &assessments,
    };
    let mut body = Vec::new();
    if let Err(e) = report.render(
        stagegate_report::ComplianceFormat::Json,
        stagegate_report::Options::default(),
        &mut body,
    ) {
        tracing::error!(error = %e, "cannot render the compliance report");
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot render the report",
        );
    }
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The nodes sharing the store, who leads, and every node's vote on each
/// check, with the quorum verdict the leader counts from them.
async fn cluster(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = require(&state, &headers, Role::Viewer).await {
        return r;
    }
    let (nodes, votes) = match (state.store.nodes().await, state.store.votes(None).await) {
        (Ok(n), Ok(v)) => (n, v),
        (Err(e), _) | (_, Err(e)) => return store_failed(&state, &e),
    };
    let window = crate::cluster::live_window(state.tick);
    let now = stagegate_store::now_ms();
    let nodes: Vec<Value> = nodes
        .iter()
        .map(|n| {
            let live = now - n.last_seen <= window;
            json!({
                "name": n.name,
                "location": n.location,
                "last_seen": n.last_seen,
                "live": live,
                "abstaining": n.abstaining,
                // A dead node's last word does not make it the leader.
                "leader": n.leader && live,
            })
        })
        .collect();
    axum::Json(json!({
        "cluster": state.cluster,
        "node": state.node,
        "location": state.location,
        "leader": state.leads(),
        "nodes": nodes,
        "votes": votes,
    }))
    .into_response()
}
