//! API tokens: 256 random bits, shown once, stored as a SHA-256 hash with a
//! short public prefix to find it. Hashing per request is cheap, unlike a
//! password KDF, and the secret's entropy makes brute force pointless.
//! Tokens expire when created with an expiry and end at once when revoked,
//! with every dashboard session made from them.
//!
//! Handlers never check credentials themselves: they take an extractor
//! from [`extract`] that does.

pub mod extract;

use ring::rand::{SecureRandom, SystemRandom};
use stagegate_store::{NewToken, Role, Store, TokenRecord};

/// `sg_<8 hex prefix>_<64 hex secret>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub prefix: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> Result<String, stagegate_store::StoreError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| stagegate_store::StoreError::Corrupt {
            what: "random source",
            value: "unavailable".into(),
        })?;
    Ok(hex(&bytes))
}

/// Equal without telling how much of it matched.
pub fn same_secret(a: &str, b: &str) -> bool {
    #[allow(deprecated)]
    ring::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// Creates and stores a token (valid until `expires_at`, if given) on
/// behalf of `who` (for the audit log); the returned secret is never stored.
pub async fn create_token(
    store: &dyn Store,
    role: Role,
    name: &str,
    expires_at: Option<stagegate_store::Millis>,
    who: &str,
) -> Result<IssuedToken, stagegate_store::StoreError> {
    let prefix = format!("sg_{}", random_hex(4)?);
    let token = format!("{prefix}_{}", random_hex(32)?);
    store
        .create_token(
            &NewToken {
                prefix: prefix.clone(),
                hash: sha256_hex(token.as_bytes()),
                role,
                name: name.to_owned(),
                expires_at,
            },
            stagegate_store::now_ms(),
        )
        .await?;
    crate::audit::record(
        store,
        stagegate_store::now_ms(),
        who,
        "token.create",
        &prefix,
        serde_json::json!({
            "name": name,
            "role": role.as_str(),
            "expires_at": expires_at.map(crate::clock::rfc3339),
        }),
    )
    .await;
    Ok(IssuedToken { token, prefix })
}

/// Why a request is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No credentials, or unusable ones (the reason: "invalid", "revoked",
    /// "expired"): 401.
    Unauthenticated(&'static str),
    /// Valid token, insufficient role: 403.
    Forbidden(Role),
    /// The store could not say: 503.
    Unavailable,
}

/// Whether a token of role `have` may do what needs `needed`. Viewer,
/// operator, approver and admin each may do what the ones before may; an
/// agent token does only an agent's work, and nothing else does it (it
/// speaks for one server).
pub fn allows(have: Role, needed: Role) -> bool {
    let rank = |role: Role| match role {
        Role::Viewer => Some(0),
        Role::Operator => Some(1),
        Role::Approver => Some(2),
        Role::Admin => Some(3),
        Role::Agent => None,
    };
    match (rank(have), rank(needed)) {
        (Some(have), Some(needed)) => have >= needed,
        (None, None) => true,
        _ => false,
    }
}

/// The credentials of an `Authorization` header using the Bearer scheme.
/// Scheme names are case-insensitive (RFC 9110, section 11.1), so `bearer`
/// and `BEARER` are the same scheme.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// How stale a token's `last_used_at` may get before it is written again:
/// every request writing the store would cost more than it tells.
const TOUCH_EVERY_MS: stagegate_store::Millis = 60_000;

/// Checks `Authorization: Bearer <token>` for at least `needed`.
pub async fn authorize(
    state: &crate::AppState,
    header: Option<&str>,
    needed: Role,
) -> Result<TokenRecord, Denied> {
    let token = header
        .and_then(bearer_token)
        .ok_or(Denied::Unauthenticated("invalid"))?;
    check_token(state, token, needed).await
}

/// Checks a token itself (from a header or the sign-in form).
pub async fn check_token(
    state: &crate::AppState,
    token: &str,
    needed: Role,
) -> Result<TokenRecord, Denied> {
    let token = token.trim();
    let prefix = token
        .rsplit_once('_')
        .map(|(p, _)| p)
        .ok_or(Denied::Unauthenticated("invalid"))?;
    let record = match state.store.token(prefix).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(Denied::Unauthenticated("invalid")),
        Err(e) => {
            state.metrics.store_error();
            tracing::error!(error = %e, "cannot read a token");
            return Err(Denied::Unavailable);
        }
    };
    if !same_secret(&sha256_hex(token.as_bytes()), &record.hash) {
        return Err(Denied::Unauthenticated("invalid"));
    }
    let now = state.clock.now();
    if record.revoked_at.is_some() {
        return Err(Denied::Unauthenticated("revoked"));
    }
    if !record.is_valid(now) {
        return Err(Denied::Unauthenticated("expired"));
    }
    if !allows(record.role, needed) {
        return Err(Denied::Forbidden(needed));
    }
    if record
        .last_used_at
        .is_none_or(|at| now - at >= TOUCH_EVERY_MS)
        && let Err(e) = state.store.touch_token(&record.prefix, now).await
    {
        tracing::warn!(error = %e, "cannot record when a token was used");
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for h in [
            "Bearer sg_1_x",
            "bearer sg_1_x",
            "BEARER  sg_1_x ",
            "bEaReR sg_1_x",
        ] {
            assert_eq!(bearer_token(h), Some("sg_1_x"), "{h:?}");
        }
        for h in ["Basic sg_1_x", "Bearer", "Bearer ", "Bearersg_1_x", ""] {
            assert_eq!(bearer_token(h), None, "{h:?}");
        }
    }
}
