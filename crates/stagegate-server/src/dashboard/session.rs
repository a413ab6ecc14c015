//! Who is looking at the dashboard: a session cookie made from an API token
//! at the login form, or the token itself as `Authorization: Bearer`.
//!
//! The cookie is 256 random bits; the store keeps only its SHA-256, the
//! token it came from (revoking or expiring the token ends the session) and
//! the session's anti-forgery token, which every form posts back.
//!
//! Handlers take [`SignedIn`] (a page) or [`SignedForm`] (a form post, its
//! anti-forgery token checked) and never look at cookies themselves.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use stagegate_store::{NewSession, Role, TokenRecord};

use crate::AppState;
use crate::auth::extract::{Need, role};
use crate::auth::{Denied, authorize, check_token, random_hex, same_secret, sha256_hex};

pub const COOKIE: &str = "sg_session";
/// The double-submit cookie guarding the login form itself.
pub const LOGIN_COOKIE: &str = "sg_login";
const LIFETIME_MS: i64 = 12 * 3_600_000;

/// A signed-in viewer of the dashboard.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub token: TokenRecord,
    /// Posted back by every form; `None` for bearer-token requests, which
    /// a browser cannot forge cross-site.
    pub csrf: Option<String>,
}

impl Viewer {
    pub fn can(&self, role: Role) -> bool {
        crate::auth::allows(self.token.role, role)
    }

    /// Whether a posted anti-forgery token is this session's.
    pub fn csrf_ok(&self, posted: Option<&str>) -> bool {
        match (&self.csrf, posted) {
            (None, _) => true,
            (Some(expected), Some(posted)) => same_secret(expected, posted),
            (Some(_), None) => false,
        }
    }
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The viewer of a request: its session cookie, else its bearer token.
pub async fn viewer(state: &AppState, headers: &HeaderMap) -> Option<Viewer> {
    if let Some(value) = cookie(headers, COOKIE)
        && let Ok(Some(s)) = state
            .store
            .session(&sha256_hex(value.as_bytes()), state.clock.now())
            .await
    {
        return Some(Viewer {
            token: s.token,
            csrf: Some(s.csrf),
        });
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    authorize(state, auth, Role::Viewer)
        .await
        .ok()
        .map(|token| Viewer { token, csrf: None })
}

/// A signed-in person with at least role `R` looking at a page. Not signed
/// in: a redirect to the sign-in form; signed in with too little: 403.
#[derive(Debug)]
pub struct SignedIn<R = role::Viewer>(pub Viewer, pub PhantomData<fn() -> R>);

impl<R: Need> FromRequestParts<Arc<AppState>> for SignedIn<R> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let viewer = viewer(state, &parts.headers)
            .await
            .ok_or_else(|| Redirect::to("/login").into_response())?;
        if !viewer.can(R::ROLE) {
            state.metrics.auth_refused("role");
            return Err(super::forbidden(&format!(
                "This needs the {} role; you are signed in as {} ({}).",
                R::ROLE,
                viewer.token.name,
                viewer.token.role
            )));
        }
        Ok(SignedIn(viewer, PhantomData))
    }
}

/// A form that carries the session's anti-forgery token.
pub trait Posted: DeserializeOwned + Send {
    fn csrf(&self) -> Option<&str>;
}

/// A form posted from the dashboard by a signed-in person with at least
/// role `R`, its anti-forgery token checked: a forged or stale post is
/// refused with 403 before the handler runs.
#[derive(Debug)]
pub struct SignedForm<T, R = role::Viewer> {
    pub viewer: Viewer,
    pub form: T,
    role: PhantomData<fn() -> R>,
}

impl<T: Posted, R: Need> FromRequest<Arc<AppState>> for SignedForm<T, R> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let SignedIn(viewer, _) = SignedIn::<R>::from_request_parts(&mut parts, state).await?;
        let Form(form) = Form::<T>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !viewer.csrf_ok(form.csrf()) {
            state.metrics.auth_refused("csrf");
            return Err(super::forbidden(
                "The form's anti-forgery token is missing or stale. Reload the page and try again.",
            ));
        }
        Ok(SignedForm {
            viewer,
            form,
            role: PhantomData,
        })
    }
}

/// `Secure` when the browser reached us over TLS (a proxy in front says so).
fn secure(headers: &HeaderMap) -> &'static str {
    let tls = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    if tls { "; Secure" } else { "" }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, whole site.
pub fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age_s: i64) -> HeaderValue {
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        secure(headers)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Why a login failed, as the form shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    BadToken,
    Expired,
    Store,
    /// Too many failures from this address: wait this many seconds.
    TooMany(i64),
}

impl LoginError {
    pub fn message(self) -> &'static str {
        match self {
            LoginError::BadToken => "That token is not valid (or was revoked).",
            LoginError::Expired => "The form expired; it has been renewed. Paste the token again.",
            LoginError::Store => "The server cannot reach its store right now; try again.",
            LoginError::TooMany(_) => {
                "Too many failed sign-ins from your address. Wait a little, then try again."
            }
        }
    }
}

/// Exchanges an API token for a new session; returns the cookie value.
pub async fn login(state: &AppState, token: &str) -> Result<String, LoginError> {
    let record = check_token(state, token, Role::Viewer)
        .await
        .map_err(|d| match d {
            Denied::Unavailable => LoginError::Store,
            Denied::Unauthenticated(_) | Denied::Forbidden(_) => LoginError::BadToken,
        })?;
    let secret = random_hex(32).map_err(|_| LoginError::Store)?;
    let csrf = random_hex(16).map_err(|_| LoginError::Store)?;
    let now = state.clock.now();
    state
        .store
        .create_session(
            &NewSession {
                hash: sha256_hex(secret.as_bytes()),
                token_prefix: record.prefix,
                csrf,
                expires_at: now + LIFETIME_MS,
            },
            now,
        )
        .await
        .map_err(|_| LoginError::Store)?;
    Ok(secret)
}

pub const LIFETIME_S: i64 = LIFETIME_MS / 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; sg_session=abc"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("sg_login=xyz"));
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "sg"), None);
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_behind_tls() {
        let mut h = HeaderMap::new();
        let plain = set_cookie(&h, COOKIE, "v", 60);
        assert_eq!(
            plain,
            "sg_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"
        );
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(
            set_cookie(&h, COOKIE, "v", 60)
                .to_str()
                .expect("ascii")
                .ends_with("; Secure")
        );
    }
}
