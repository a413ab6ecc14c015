//! API tokens: 256 random bits, shown once, stored as a SHA-256 hash with a
//! short public prefix to find it. Hashing per request is cheap, unlike a
//! password KDF, and the secret's entropy makes brute force pointless.

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

/// Creates and stores a token; the returned secret is never stored.
pub async fn create_token(
    store: &dyn Store,
    role: Role,
    name: &str,
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
            },
            stagegate_store::now_ms(),
        )
        .await?;
    Ok(IssuedToken { token, prefix })
}

/// Why a request is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No credentials, or wrong ones: 401.
    Unauthenticated,
    /// Valid token, insufficient role: 403.
    Forbidden,
}

pub fn rank(role: Role) -> u8 {
    match role {
        Role::Viewer => 0,
        Role::Operator => 1,
        Role::Admin => 2,
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

/// Checks `Authorization: Bearer <token>` for at least `needed`.
pub async fn authorize(
    store: &dyn Store,
    header: Option<&str>,
    needed: Role,
) -> Result<TokenRecord, Denied> {
    let token = header
        .and_then(bearer_token)
        .ok_or(Denied::Unauthenticated)?;
    let prefix = token
        .rsplit_once('_')
        .map(|(p, _)| p)
        .ok_or(Denied::Unauthenticated)?;
    let record = store
        .token(prefix)
        .await
        .ok()
        .flatten()
        .ok_or(Denied::Unauthenticated)?;
    let same = same_secret(&sha256_hex(token.as_bytes()), &record.hash);
    if !same || record.revoked_at.is_some() {
        return Err(Denied::Unauthenticated);
    }
    if rank(record.role) < rank(needed) {
        return Err(Denied::Forbidden);
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
