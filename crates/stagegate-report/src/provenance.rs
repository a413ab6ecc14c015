//! Where a report comes from: when it was made, by which stagegate and
//! catalogue, from which spec (its hash and, in a git work tree, the commit
//! and whether it had uncommitted changes). A report without this cannot be
//! tied to what it judged.

use serde::Serialize;
use stagegate_spec::Date;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provenance {
    /// Wall-clock time the report was made, Unix seconds (RFC 3339 in JSON).
    #[serde(serialize_with = "as_rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub generated_at: i64,
    pub stagegate_version: String,
    pub catalogue_revision: String,
    pub spec: SpecIdentity,
}

/// The spec a report judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpecIdentity {
    /// As given on the command line (or to the server).
    pub path: String,
    /// SHA-256 of the spec's bytes, lowercase hex.
    pub sha256: String,
    /// The commit checked out, when the spec lives in a git work tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// Whether the spec or a file it cites differs from that commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_dirty: Option<bool>,
    /// The repository's `origin` (credentials removed), else its folder as a
    /// `file://` URI: what SARIF's `versionControlProvenance` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_repository: Option<String>,
}

fn as_rfc3339<S: serde::Serializer>(secs: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&stagegate_spec::rfc3339(*secs))
}

impl SpecIdentity {
    /// The spec's name and hash, without git facts (the caller adds them
    /// where it can ask git).
    pub fn of(source: &stagegate_spec::SourceFile) -> SpecIdentity {
        SpecIdentity {
            path: source.name().to_owned(),
            sha256: stagegate_spec::sha256_hex(source.text().as_bytes()),
            git_commit: None,
            git_dirty: None,
            git_repository: None,
        }
    }
}

impl Provenance {
    /// A report made at `generated_at` (Unix seconds) by this stagegate and
    /// catalogue from `spec`.
    pub fn new(spec: SpecIdentity, generated_at: i64) -> Provenance {
        Provenance {
            generated_at,
            stagegate_version: env!("CARGO_PKG_VERSION").to_owned(),
            catalogue_revision: stagegate_rules::catalogue_revision().to_owned(),
            spec,
        }
    }

    /// "as of 2026-11-01, generated 2026-11-30T10:00:00Z" when the as-of date
    /// is not the day the report was made, so a back-dated report is never
    /// read as today's; else "generated 2026-11-30T10:00:00Z".
    pub fn dating(&self, as_of: Date) -> String {
        let generated = stagegate_spec::rfc3339(self.generated_at);
        if Date::from_unix_secs(self.generated_at) == as_of {
            format!("generated {generated}")
        } else {
            format!("as of {as_of}, generated {generated}")
        }
    }

    /// One line for text, Markdown and HTML footers.
    pub fn footer(&self, as_of: Date) -> String {
        let mut spec = format!(
            "{} (sha256 {})",
            self.spec.path,
            &self.spec.sha256[..self.spec.sha256.len().min(12)]
        );
        if let Some(commit) = &self.spec.git_commit {
            let short = &commit[..commit.len().min(12)];
            let dirty = if self.spec.git_dirty == Some(true) {
                ", with uncommitted changes"
            } else {
                ""
            };
            spec.push_str(&format!(" at commit {short}{dirty}"));
        }
        format!(
            "stagegate {} · catalogue {} · {spec} · {}",
            self.stagegate_version,
            self.catalogue_revision,
            self.dating(as_of)
        )
    }
}
