//! What a rule may look at: the spec, the environment, the as-of date and
//! facts gathered beforehand (files), never I/O of its own.

use std::cell::RefCell;
use std::collections::HashMap;

use stagegate_spec::{Date, Environment, Mode, Spec};

use crate::{Basis, Evidence};

/// What a file the spec references turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileState {
    Missing,
    NotAFile,
    Empty,
    /// Present, but still the unedited template `stagegate init runbooks`
    /// wrote: it says nothing the team has agreed on.
    Template,
    Present,
}

/// The line `stagegate init runbooks` puts at the top of every runbook it
/// writes; a file that still carries it counts as missing.
pub const TEMPLATE_MARKER: &str = "stagegate: unedited template";

impl FileState {
    pub fn is_usable(self) -> bool {
        self == FileState::Present
    }

    /// Why a file does not count, for messages.
    pub fn problem(self, path: &str) -> Option<String> {
        match self {
            FileState::Missing => Some(format!("{path} does not exist")),
            FileState::NotAFile => Some(format!("{path} is not a regular file")),
            FileState::Empty => Some(format!("{path} is empty")),
            FileState::Template => Some(format!("{path} is still an unedited template")),
            FileState::Present => None,
        }
    }
}

/// The outcome of one restore drill.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DrillRecord {
    /// When the drill finished, Unix seconds.
    pub finished_at: i64,
    /// How long the restore took, in seconds.
    pub seconds: f64,
    pub ok: bool,
    /// What happened, e.g. the failing command's last output line.
    pub message: String,
}

/// What identifies a document as it was read: its hash and age.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentFacts {
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Unix seconds: the last commit that touched it, else its modification
    /// time.
    pub at: i64,
}

/// Where a drill record came from: the drill log (with the record's hash)
/// or the server's store (`node@location`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSource {
    pub source: String,
    pub sha256: Option<String>,
}

/// Facts gathered before evaluation, so rules never do I/O: the files a spec
/// references (keyed by the path as written, with the text of small ones and
/// the hash of usable ones) and the recorded restore drills.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    states: HashMap<String, FileState>,
    texts: HashMap<String, String>,
    documents: HashMap<String, DocumentFacts>,
    drills: HashMap<String, (DrillRecord, RecordSource)>,
    /// Per-criterion accessibility results by path, or why they could not
    /// be read.
    audit_results: HashMap<String, Result<crate::AuditResults, String>>,
}

impl FileFacts {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: impl Into<String>, state: FileState) {
        self.states.insert(path.into(), state);
    }

    /// Keeps the text of a small file, for rules that read what it says.
    pub fn insert_text(&mut self, path: impl Into<String>, text: String) {
        self.texts.insert(path.into(), text);
    }

    /// The text of a file, when it was small enough to keep.
    pub fn text(&self, path: &str) -> Option<&str> {
        self.texts.get(path).map(String::as_str)
    }

    /// Keeps the hash and age of a usable file, so findings can cite it.
    pub fn insert_document(&mut self, path: impl Into<String>, facts: DocumentFacts) {
        self.documents.insert(path.into(), facts);
    }

    /// Keeps what a per-criterion results file says, or why it says
    /// nothing.
    pub fn insert_audit_results(
        &mut self,
        path: impl Into<String>,
        results: Result<crate::AuditResults, String>,
    ) {
        self.audit_results.insert(path.into(), results);
    }

    /// What a per-criterion results file says; `None` when it was not read.
    pub fn audit_results(&self, path: &str) -> Option<&Result<crate::AuditResults, String>> {
        self.audit_results.get(path)
    }

    /// Like [`audit_results`](Self::audit_results), with the path as
    /// stored, so what is built from it may outlive the caller's string.
    pub fn audit_results_entry(
        &self,
        path: &str,
    ) -> Option<(&str, &Result<crate::AuditResults, String>)> {
        self.audit_results
            .get_key_value(path)
            .map(|(k, v)| (k.as_str(), v))
    }

    /// The hash and age of a usable file.
    pub fn document(&self, path: &str) -> Option<&DocumentFacts> {
        self.documents.get(path)
    }

    /// Records the latest restore drill of an environment and where it is
    /// recorded.
    pub fn insert_drill(
        &mut self,
        environment: impl Into<String>,
        record: DrillRecord,
        from: RecordSource,
    ) {
        self.drills.insert(environment.into(), (record, from));
    }

    /// The latest restore drill of an environment.
    pub fn last_drill(&self, environment: &str) -> Option<&DrillRecord> {
        self.drills.get(environment).map(|(r, _)| r)
    }

    /// Where the latest restore drill of an environment is recorded.
    pub fn drill_source(&self, environment: &str) -> Option<&RecordSource> {
        self.drills.get(environment).map(|(_, s)| s)
    }

    /// An unknown path counts as missing: nothing unchecked ever passes.
    pub fn state(&self, path: &str) -> FileState {
        self.states.get(path).copied().unwrap_or(FileState::Missing)
    }

    /// Every path the spec references, for the caller to stat.
    pub fn referenced_paths(spec: &Spec) -> Vec<&str> {
        let mut paths = Vec::new();
        for env in &spec.environments {
            if let Some(r) = &env.runbooks {
                paths.extend(r.entries.iter().map(|(_, p)| p.value.as_str()));
            }
            if let Some(a) = env.operations.as_ref().and_then(|o| o.agreement.as_ref()) {
                paths.push(a.value.as_str());
            }
            if let Some(r) = env.pentest.as_ref().and_then(|p| p.report.as_ref()) {
                paths.push(r.value.as_str());
            }
            if let Some(a) = &env.accessibility_audit {
                paths.extend(a.report.iter().map(|r| r.value.as_str()));
                paths.extend(a.results.iter().map(|r| r.value.as_str()));
            }
        }
        paths.extend(spec.attestations.iter().map(|a| a.evidence.value.as_str()));
        paths.sort_unstable();
        paths.dedup();
        paths
    }
}

/// Everything a rule's check sees.
pub(crate) struct Ctx<'a> {
    pub spec: &'a Spec,
    pub env: &'a Environment,
    /// The mode evaluated: the environment's own, or a `plan` target.
    pub mode: Mode,
    pub as_of: Date,
    pub files: &'a FileFacts,
    /// Probe observations, when the check runs live.
    pub live: Option<&'a crate::LiveEvidence>,
    /// The instant of evaluation (Unix seconds), for the age of observations.
    pub now: i64,
    /// A server's facts about the promotion being judged, if any.
    pub promotion: Option<&'a crate::PromotionFacts>,
    /// Evidence the running rule has read so far; the engine takes it after
    /// each rule, so a rule cites what it used simply by reading it here.
    pub cited: RefCell<Vec<Evidence>>,
}

impl<'a> Ctx<'a> {
    /// Cites a record or observation the running rule rests on.
    pub fn cite_record(&self, piece: Evidence) {
        self.cite(piece);
    }

    fn cite(&self, piece: Evidence) {
        let mut cited = self.cited.borrow_mut();
        if !cited
            .iter()
            .any(|c| c.basis == piece.basis && c.source == piece.source)
        {
            cited.push(piece);
        }
    }

    /// A file the spec names, cited as a document when it is usable.
    pub fn document(&self, what: &str, path: &str) -> FileState {
        let state = self.files.state(path);
        if state.is_usable()
            && let Some(d) = self.files.document(path)
        {
            self.cite(Evidence {
                basis: Basis::Document,
                what: what.to_owned(),
                source: path.to_owned(),
                at: Some(d.at),
                sha256: Some(d.sha256.clone()),
                stale: false,
                observation: None,
            });
        }
        state
    }

    /// The text of a small file the spec names, cited as a document.
    pub fn document_text(&self, what: &str, path: &str) -> Option<&'a str> {
        self.document(what, path);
        self.files.text(path)
    }

    /// The environment's latest restore drill, cited as observed.
    pub fn last_drill(&self) -> Option<&'a DrillRecord> {
        let env = &self.env.name.value;
        let record = self.files.last_drill(env)?;
        if let Some(from) = self.files.drill_source(env) {
            self.cite(Evidence {
                basis: Basis::Observed,
                what: format!("restore drill of {env}"),
                source: from.source.clone(),
                at: Some(record.finished_at),
                sha256: from.sha256.clone(),
                stale: false,
                observation: None,
            });
        }
        Some(record)
    }
}
