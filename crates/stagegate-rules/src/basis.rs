//! What a verdict rests on. A rule that passes because the spec says so is
//! weaker than one that passes because stagegate saw it; every finding
//! carries the evidence it cites and the strongest kind among it, so a
//! reader (and a gate) can tell "the file says so" from "it was observed".

use serde::Serialize;

use crate::Observation;

/// The kind of evidence a verdict rests on, weakest first: comparisons
/// order by strength.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Nothing to rest on (a skipped rule).
    None,
    /// A value written in the spec.
    Declared,
    /// A named person vouches for it, with dates.
    Attested,
    /// A file the spec names, hashed when it was read.
    Document,
    /// Something stagegate saw: a probe, the server's results, a heartbeat,
    /// a restore drill.
    Observed,
}

impl Basis {
    pub const ALL: [Basis; 5] = [
        Basis::Observed,
        Basis::Document,
        Basis::Attested,
        Basis::Declared,
        Basis::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::None => "none",
            Basis::Declared => "declared",
            Basis::Attested => "attested",
            Basis::Document => "document",
            Basis::Observed => "observed",
        }
    }

    /// Strong enough for a strong verdict (a control `met`, a promotion to
    /// production): seen by stagegate or read from a hashed document.
    pub fn is_evidence(self) -> bool {
        self >= Basis::Document
    }
}

/// One piece of evidence a finding cites.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub basis: Basis,
    /// What it shows, e.g. "runbook unavailability", "check api (http)".
    pub what: String,
    /// A file path, a probe target (credentials masked) or `node@location`.
    pub source: String,
    /// Unix seconds: when it was observed, or a document's last commit (else
    /// modification) time.
    pub at: Option<i64>,
    /// SHA-256 of a document or a record, lowercase hex.
    pub sha256: Option<String>,
    /// Observed longer ago than `policy.evidence_max_age`: shown, but it
    /// does not count as observed.
    pub stale: bool,
    /// The probe's full observation, for observed evidence.
    pub observation: Option<Observation>,
}

impl Evidence {
    /// A probe's or the server's observation.
    pub fn observed(o: Observation) -> Evidence {
        Evidence {
            basis: Basis::Observed,
            what: o.subject.clone(),
            source: o.source.clone(),
            at: Some(o.at),
            sha256: None,
            stale: false,
            observation: Some(o),
        }
    }

    /// The basis this piece lends the finding: stale observations lend none.
    pub fn counts_as(&self) -> Basis {
        if self.stale { Basis::None } else { self.basis }
    }
}

/// The strongest basis among `evidence`, or `fallback` when none counts.
pub(crate) fn strongest(evidence: &[Evidence], fallback: Basis) -> Basis {
    evidence
        .iter()
        .map(Evidence::counts_as)
        .max()
        .filter(|b| *b > fallback)
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(basis: Basis, stale: bool) -> Evidence {
        Evidence {
            basis,
            what: "x".into(),
            source: "y".into(),
            at: None,
            sha256: None,
            stale,
            observation: None,
        }
    }

    #[test]
    fn the_strongest_piece_decides_and_stale_observations_do_not_count() {
        assert_eq!(strongest(&[], Basis::Declared), Basis::Declared);
        assert_eq!(
            strongest(
                &[piece(Basis::Document, false), piece(Basis::Observed, false)],
                Basis::Declared
            ),
            Basis::Observed
        );
        assert_eq!(
            strongest(
                &[piece(Basis::Observed, true), piece(Basis::Document, false)],
                Basis::Declared
            ),
            Basis::Document
        );
        assert_eq!(
            strongest(&[piece(Basis::Observed, true)], Basis::Declared),
            Basis::Declared
        );
    }

    #[test]
    fn only_observed_and_document_are_evidence() {
        assert!(Basis::Observed.is_evidence());
        assert!(Basis::Document.is_evidence());
        assert!(!Basis::Attested.is_evidence());
        assert!(!Basis::Declared.is_evidence());
        assert!(!Basis::None.is_evidence());
    }
}
