//! The `stagegate.toml` rollout spec: its model, loading with spans and
//! interpolation, cross-reference validation, and the JSON Schema editors use.
//!
//! This crate knows nothing of rules or reports: it turns text into a
//! validated [`Spec`], or into every [`Diagnostic`] that stops it.

#![recursion_limit = "256"]

mod cron;
mod date;
mod decode;
mod diagnostic;
mod digest;
mod duration;
mod evidence;
mod interpolate;
mod load;
pub mod model;
mod redact;
mod schema;
mod shape;
mod source;
mod span;
pub mod suggest;
mod time;
mod validate;

pub use cron::{Cron, CronError};
pub use date::{Date, DateError};
pub use diagnostic::Diagnostic;
pub use digest::{Sha256Hasher, sha256_hex};
pub use duration::Duration;
pub use evidence::{Escape, EvidenceRoots, OpenError, evidence_files};
pub use interpolate::{Deferred, EnvLookup, InterpolateError};
pub use load::{LoadOptions, load};
pub use model::*;
pub use redact::{Recorder, Redactor, mask_userinfo, percent_decode};
pub use schema::json_schema;
pub use source::{LineCol, SourceFile};
pub use span::{Span, Spanned};
pub use time::{age, now_unix, parse_rfc3339, rfc3339};

/// The variables of the process environment, for [`LoadOptions::env`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
