//! The audit log: every change made through the server, one record each,
//! chained by hash so that an edited, inserted or deleted record is found.
//!
//! A record's `hash` is the SHA-256 of its canonical JSON — keys sorted, no
//! whitespace, `at` as RFC 3339 UTC with milliseconds, `details` as stored
//! (canonical JSON itself) — including `prev`, the previous record's hash
//! (64 zeros before the first). Anyone holding the records (the API pages
//! through them) can recompute the chain without stagegate.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Millis;

/// The `prev` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A change to record: who did what to which subject, with details.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAudit {
    /// The user or token name that made the change (`system` for the
    /// server itself).
    pub who: String,
    /// Dotted verb: `token.create`, `incident.acknowledge`, `promotion`, ...
    pub action: String,
    /// What it was done to: an environment, a token prefix, an incident id.
    pub subject: String,
    /// Further facts, a JSON object.
    pub details: serde_json::Value,
}

/// A record as stored and served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecord {
    pub seq: i64,
    /// RFC 3339 UTC with milliseconds.
    pub at: String,
    pub who: String,
    pub action: String,
    pub subject: String,
    /// Canonical JSON text of the details object.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[serde(serialize_with = "raw_json", deserialize_with = "from_json")]
    pub details: String,
    pub prev: String,
    pub hash: String,
}

fn raw_json<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v.serialize(s),
        // An unreadable stored value is shown as it is: verification will
        // name the record.
        Err(_) => s.serialize_str(text),
    }
}

/// Details read back from a served record: canonical again.
fn from_json<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(canonical_details(&value))
}

/// `at` as the chain writes it: `2026-09-21T14:13:20.123Z`.
pub fn audit_time(at: Millis) -> String {
    let mut out = String::with_capacity(24);
    write_audit_time(at, &mut out);
    out
}

/// Writes `at` as [`audit_time`] does, without allocating: verifying a
/// million records formats a million times.
fn write_audit_time(at: Millis, out: &mut String) {
    use std::fmt::Write;
    let (days, ms) = (at.div_euclid(86_400_000), at.rem_euclid(86_400_000));
    // Civil from days (Howard Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    );
}

/// JSON with object keys sorted at every level and no whitespace.
pub fn canonical_details(value: &serde_json::Value) -> String {
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_unstable();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(key, out);
                    out.push(':');
                    write(&map[key], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// `text` as a JSON string, escaped as serde_json escapes it, so every
/// verifier agrees on the bytes.
fn string(text: &str, out: &mut String) {
    let plain = text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else if let Ok(escaped) = serde_json::to_string(text) {
        out.push_str(&escaped);
    }
}

/// The hash a record must carry, computed from its other fields.
pub fn record_hash(
    seq: i64,
    at: &str,
    who: &str,
    action: &str,
    subject: &str,
    details: &str,
    prev: &str,
) -> String {
    let mut text = String::with_capacity(160 + details.len() + subject.len());
    canonical_record(&mut text, seq, at, who, action, subject, details, prev);
    hex(&Sha256::digest(text.as_bytes()))
}

/// The record's canonical JSON, written into `text` (cleared first).
#[allow(clippy::too_many_arguments)]
fn canonical_record(
    text: &mut String,
    seq: i64,
    at: &str,
    who: &str,
    action: &str,
    subject: &str,
    details: &str,
    prev: &str,
) {
    use std::fmt::Write;
    text.clear();
    text.push_str("{\"action\":");
    string(action, text);
    text.push_str(",\"at\":");
    string(at, text);
    text.push_str(",\"details\":");
    text.push_str(details);
    text.push_str(",\"prev\":");
    string(prev, text);
    let _ = write!(text, ",\"seq\":{seq}");
    text.push_str(",\"subject\":");
    string(subject, text);
    text.push_str(",\"who\":");
    string(who, text);
    text.push('}');
}

/// Whether `digest` is `hex` (lowercase), without formatting it.
fn hex_matches(digest: &[u8], hex: &str) -> bool {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let hex = hex.as_bytes();
    hex.len() == digest.len() * 2
        && digest.iter().enumerate().all(|(i, b)| {
            hex[2 * i] == DIGITS[usize::from(b >> 4)]
                && hex[2 * i + 1] == DIGITS[usize::from(b & 0xf)]
        })
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

impl AuditRecord {
    /// The hash this record's fields call for.
    pub fn expected_hash(&self) -> String {
        record_hash(
            self.seq,
            &self.at,
            &self.who,
            &self.action,
            &self.subject,
            &self.details,
            &self.prev,
        )
    }
}

/// Why a chain does not hold, at the first record that breaks it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error(
        "record {seq} does not match its hash: it was edited after it was written (stored {stored}, computed {computed})"
    )]
    Edited {
        seq: i64,
        stored: String,
        computed: String,
    },
    #[error(
        "record {seq} does not follow record {before}: its prev is {prev}, expected {expected} (a record was inserted, deleted or replaced)"
    )]
    Unlinked {
        seq: i64,
        before: i64,
        prev: String,
        expected: String,
    },
    #[error("record {seq} follows record {before}: records {from} to {to} are missing")]
    Gap {
        seq: i64,
        before: i64,
        from: i64,
        to: i64,
    },
}

/// Checks records in order, one page at a time, remembering only the last.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
    pub checked: u64,
    /// Reused for every record's canonical JSON and time.
    text: String,
    at: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            last_seq: 0,
            last_hash: GENESIS.to_owned(),
            checked: 0,
            text: String::with_capacity(512),
            at: String::with_capacity(24),
        }
    }
}

/// A stored record's fields, borrowed from the row that holds them.
#[derive(Clone, Copy, Debug)]
pub struct StoredParts<'a> {
    pub seq: i64,
    pub at: Millis,
    pub who: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub details: &'a str,
    pub prev: &'a str,
    pub hash: &'a str,
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next record in `seq` order.
    pub fn check(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        self.check_fields(
            r.seq, &r.at, &r.who, &r.action, &r.subject, &r.details, &r.prev, &r.hash,
        )
    }

    /// The next record in `seq` order, as stored (the store's fast path:
    /// nothing is copied out of the row).
    pub fn check_stored(&mut self, r: StoredParts<'_>) -> Result<(), ChainBreak> {
        self.at.clear();
        write_audit_time(r.at, &mut self.at);
        let at = std::mem::take(&mut self.at);
        let result = self.check_fields(
            r.seq, &at, r.who, r.action, r.subject, r.details, r.prev, r.hash,
        );
        self.at = at;
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn check_fields(
        &mut self,
        seq: i64,
        at: &str,
        who: &str,
        action: &str,
        subject: &str,
        details: &str,
        prev: &str,
        hash: &str,
    ) -> Result<(), ChainBreak> {
        if seq != self.last_seq + 1 {
            return Err(ChainBreak::Gap {
                seq,
                before: self.last_seq,
                from: self.last_seq + 1,
                to: seq - 1,
            });
        }
        if prev != self.last_hash {
            return Err(ChainBreak::Unlinked {
                seq,
                before: self.last_seq,
                prev: prev.to_owned(),
                expected: self.last_hash.clone(),
            });
        }
        canonical_record(&mut self.text, seq, at, who, action, subject, details, prev);
        let digest = Sha256::digest(self.text.as_bytes());
        if !hex_matches(&digest, hash) {
            return Err(ChainBreak::Edited {
                seq,
                stored: hash.to_owned(),
                computed: hex(&digest),
            });
        }
        self.last_seq = seq;
        self.last_hash.clear();
        self.last_hash.push_str(hash);
        self.checked += 1;
        Ok(())
    }

    /// The `seq` of the last record checked.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// The hash of the last record checked (the chain's head).
    pub fn head(&self) -> &str {
        &self.last_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: i64, prev: &str) -> AuditRecord {
        let at = audit_time(1_790_000_000_123);
        let details = canonical_details(&serde_json::json!({"b": 1, "a": "x"}));
        let hash = record_hash(seq, &at, "ops", "promotion", "production", &details, prev);
        AuditRecord {
            seq,
            at,
            who: "ops".into(),
            action: "promotion".into(),
            subject: "production".into(),
            details,
            prev: prev.into(),
            hash,
        }
    }

    #[test]
    fn times_keep_their_milliseconds_and_details_their_order() {
        // The fast formatting agrees with jiff over centuries, leap days and
        // times before the epoch.
        for ms in [
            0,
            -1,
            951_782_400_000,
            4_107_542_399_999,
            1_790_000_000_123,
            -2_208_988_800_001,
        ] {
            let jiff = jiff::Timestamp::from_millisecond(ms)
                .expect("in range")
                .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
            assert_eq!(audit_time(ms), jiff, "{ms}");
        }
        assert_eq!(audit_time(1_790_000_000_123), "2026-09-21T14:13:20.123Z");
        assert_eq!(audit_time(1_790_000_000_000), "2026-09-21T14:13:20.000Z");
        assert_eq!(
            canonical_details(&serde_json::json!({"b": [{"d": 1, "c": 2}], "a": null})),
            r#"{"a":null,"b":[{"c":2,"d":1}]}"#
        );
        // Plain and escaped strings are written as serde_json writes them.
        for text in [
            "plain",
            "quote \" and \\ slash",
            "tab\tnew\nline\u{1}",
            "ünïcode €",
        ] {
            let mut out = String::new();
            string(text, &mut out);
            assert_eq!(out, serde_json::to_string(text).expect("json"));
        }
    }

    #[test]
    fn a_chain_verifies_and_each_kind_of_tampering_is_named() {
        let one = record(1, GENESIS);
        let two = record(2, &one.hash);
        let three = record(3, &two.hash);
        let mut v = ChainVerifier::new();
        for r in [&one, &two, &three] {
            v.check(r).expect("intact");
        }
        assert_eq!((v.checked, v.head()), (3, three.hash.as_str()));

        let mut edited = two.clone();
        edited.who = "mallory".into();
        let mut v = ChainVerifier::new();
        v.check(&one).expect("intact");
        assert!(matches!(
            v.check(&edited),
            Err(ChainBreak::Edited { seq: 2, .. })
        ));

        let mut v = ChainVerifier::new();
        v.check(&one).expect("intact");
        assert!(matches!(
            v.check(&three),
            Err(ChainBreak::Gap {
                seq: 3,
                from: 2,
                to: 2,
                ..
            })
        ));

        // A record rewritten with a fresh hash no longer links to the next.
        let mut forged = record(2, &one.hash);
        forged.subject = "staging".into();
        forged.hash = forged.expected_hash();
        let mut v = ChainVerifier::new();
        v.check(&one).expect("intact");
        v.check(&forged).expect("self-consistent");
        assert!(matches!(
            v.check(&three),
            Err(ChainBreak::Unlinked { seq: 3, .. })
        ));
    }
}
