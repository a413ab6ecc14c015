//! The web dashboard at `/`: server-rendered HTML (templates compiled into
//! the binary), a stylesheet and a little script, nothing fetched from
//! elsewhere. Every page is complete without JavaScript; the script only
//! refreshes it in place.

mod backups;
mod chart;
mod compliance;
mod environment;
mod incidents;
pub(crate) mod markdown;
mod monitors;
mod oncall;
mod overview;
mod runbooks;
mod servers;
mod session;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{random_hex, same_secret, sha256_hex};
use session::{COOKIE, LOGIN_COOKIE, LoginError, SignedForm, Viewer};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview::page))
        .route("/environments/{env}", get(environment::page))
        .route(
            "/environments/{env}/promote",
            axum::routing::post(environment::promote),
        )
        .route(
            "/environments/{env}/approve",
            axum::routing::post(environment::approve),
        )
        .route(
            "/environments/{env}/duties/{duty}",
            axum::routing::post(environment::duty_done),
        )
        .route("/monitors", get(monitors::list))
        .route("/monitors/{env}/{check}", get(monitors::detail))
        .route("/incidents", get(incidents::list))
        .route(
            "/incidents/{id}/{action}",
            axum::routing::post(incidents::act),
        )
        .route("/backups", get(backups::page))
        .route("/servers", get(servers::page))
        .route("/runbooks", get(runbooks::list))
        .route("/oncall", get(oncall::page))
        .route("/compliance", get(compliance::list))
        .route("/compliance/{framework}", get(compliance::framework))
        .route("/runbooks/{env}/{which}", get(runbooks::show))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/assets/style.css", get(style))
        .route("/assets/app.js", get(script))
}

const STYLE: &str = include_str!("../../assets/style.css");
const SCRIPT: &str = include_str!("../../assets/app.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// Renders a page with the headers every dashboard page carries: no
/// caching of private data, no framing, no scripts or styles but ours.
fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_FRAME_OPTIONS, "DENY"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "same-origin"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render a dashboard page");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot render this page").into_response()
        }
    }
}

#[derive(Template)]
#[template(
    source = "{% extends \"base.html\" %}{% block title %}{{ heading }}{% endblock %}{% block main %}<h1>{{ heading }}</h1><p role=\"alert\">{{ message }}</p><p><a href=\"/\">Back to the overview</a></p>{% endblock %}",
    ext = "html"
)]
struct Message<'a> {
    heading: &'a str,
    message: &'a str,
}

fn not_found(message: &str) -> Response {
    html(
        StatusCode::NOT_FOUND,
        &Message {
            heading: "Not found",
            message,
        },
    )
}

pub(crate) fn forbidden(message: &str) -> Response {
    html(
        StatusCode::FORBIDDEN,
        &Message {
            heading: "Not allowed",
            message,
        },
    )
}

fn bad_request(message: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        &Message {
            heading: "Not done",
            message,
        },
    )
}

fn unavailable() -> Response {
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        &Message {
            heading: "Unavailable",
            message: "The store is unavailable; this page will work again once it is back.",
        },
    )
}

/// A moment as pages show it: `2026-11-26 09:31:59` (UTC).
fn utc(ms: stagegate_store::Millis) -> String {
    crate::clock::rfc3339(ms)
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_owned()
}

/// How long something took or has lasted, to the unit that matters.
/// When a duty heartbeat last succeeded, and by whom where a person said
/// so: "2h ago (2026-12-04 10:00 UTC) by olga: read the logs".
fn last_done(
    pings: &[stagegate_store::StoredPing],
    now: stagegate_store::Millis,
) -> Option<String> {
    let p = pings
        .iter()
        .find(|p| p.ping.kind == stagegate_store::PingKind::Success)?;
    let by = p
        .ping
        .body
        .as_deref()
        .and_then(|b| b.strip_prefix(crate::api::duties::DONE_BY))
        .map(|b| format!(" by {b}"))
        .unwrap_or_default();
    Some(format!(
        "{} ago ({}){by}",
        lasted(now - p.ping.received_at),
        utc(p.ping.received_at)
    ))
}

fn lasted(ms: stagegate_store::Millis) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format!("{} days", s / 86_400),
    }
}

/// `s` percent-encoded for use as one path segment.
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What every signed-in page shows around its content: the product, the
/// page's place in the navigation, who is signed in, and the anti-forgery
/// token of their forms.
struct Chrome {
    product: String,
    page: &'static str,
    who: String,
    role: &'static str,
    csrf: String,
}

impl Chrome {
    fn new(viewer: &Viewer, product: String, page: &'static str) -> Chrome {
        Chrome {
            product,
            page,
            who: viewer.token.name.clone(),
            role: viewer.token.role.as_str(),
            csrf: viewer.csrf.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<&'static str>,
}

/// The form, with a fresh double-submit token in a cookie and the form.
fn login_page(headers: &HeaderMap, status: StatusCode, error: Option<LoginError>) -> Response {
    let Ok(csrf) = random_hex(16) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no random source").into_response();
    };
    let mut response = html(
        status,
        &LoginPage {
            csrf: csrf.clone(),
            error: error.map(LoginError::message),
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(headers, LOGIN_COOKIE, &csrf, 3600),
    );
    response
}

async fn login_form(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if session::viewer(&state, &headers).await.is_some() {
        return Redirect::to("/").into_response();
    }
    login_page(&headers, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
    csrf: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(remote): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = session::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_secret(expected, &form.csrf) {
        return login_page(&headers, StatusCode::FORBIDDEN, Some(LoginError::Expired));
    }
    // Guessing tokens from one address slows down: after five failures,
    // each one doubles the wait (up to a quarter of an hour).
    let client = remote.ip().to_string();
    if let Err(wait_ms) = state.logins.check(&client, state.clock.now()) {
        state.metrics.auth_refused("rate");
        return too_many(&headers, wait_ms);
    }
    match session::login(&state, &form.token).await {
        Ok(secret) => {
            state.logins.succeeded(&client);
            let mut response = Redirect::to("/").into_response();
            let h = response.headers_mut();
            h.append(
                header::SET_COOKIE,
                session::set_cookie(&headers, COOKIE, &secret, session::LIFETIME_S),
            );
            h.append(
                header::SET_COOKIE,
                session::set_cookie(&headers, LOGIN_COOKIE, "", 0),
            );
            response
        }
        Err(LoginError::BadToken) => {
            state.metrics.auth_refused("invalid");
            let wait_ms = state.logins.failed(&client, state.clock.now());
            if wait_ms > 0 {
                tracing::warn!(client = %client, wait_ms, "repeated failed sign-ins");
            }
            login_page(
                &headers,
                StatusCode::UNAUTHORIZED,
                Some(LoginError::BadToken),
            )
        }
        Err(e) => {
            let status = match e {
                LoginError::Store => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNAUTHORIZED,
            };
            login_page(&headers, status, Some(e))
        }
    }
}

/// 429 with the form and how long to wait.
fn too_many(headers: &HeaderMap, wait_ms: i64) -> Response {
    let secs = (wait_ms + 999) / 1000;
    let mut r = login_page(
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        Some(LoginError::TooMany(secs)),
    );
    if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// A form with nothing but its anti-forgery token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    csrf: Option<String>,
}

impl session::Posted for CsrfForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    _: SignedForm<CsrfForm>,
) -> Response {
    if let Some(value) = session::cookie(&headers, COOKIE)
        && let Err(e) = state
            .store
            .delete_session(&sha256_hex(value.as_bytes()))
            .await
    {
        tracing::error!(error = %e, "cannot end a session");
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(&headers, COOKIE, "", 0),
    );
    response
}
