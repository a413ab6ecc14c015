//! Who is looking at the dashboard: a session cookie made from an API token
//! at the login form, or the token itself as `Authorization: Bearer`.
//!
//! The cookie is 256 random bits; the store keeps only its SHA-256, the
//! token it came from (revoking the token ends the session) and the
//! session's anti-forgery token, which every form posts back.

use axum::http::{HeaderMap, HeaderValue, header};
use stagegate_store::{NewSession, Role, TokenRecord, now_ms};

use crate::AppState;
use crate::auth::{Denied, authorize, random_hex, same_secret, sha256_hex};

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
        crate::auth::rank(self.token.role) >= crate::auth::rank(role)
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
            .session(&sha256_hex(value.as_bytes()), now_ms())
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
    authorize(state.store.as_ref(), auth, Role::Viewer)
        .await
        .ok()
        .map(|token| Viewer { token, csrf: None })
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
    let record = authorize(
        state.store.as_ref(),
        Some(&format!("Bearer {}", token.trim())),
        Role::Viewer,
    )
    .await
    .map_err(|d| match d {
        Denied::Unauthenticated | Denied::Forbidden => LoginError::BadToken,
    })?;
    let secret = random_hex(32).map_err(|_| LoginError::Store)?;
    let csrf = random_hex(16).map_err(|_| LoginError::Store)?;
    let now = now_ms();
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
