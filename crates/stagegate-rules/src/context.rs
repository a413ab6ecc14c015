//! What a rule may look at: the spec, the environment, the as-of date and
//! facts gathered beforehand (files), never I/O of its own.

use std::collections::HashMap;

use stagegate_spec::{Date, Environment, Mode, Spec};

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

/// Facts gathered before evaluation, so rules never do I/O: the files a spec
/// references (keyed by the path as written, with the text of small ones)
/// and the recorded restore drills.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    states: HashMap<String, FileState>,
    texts: HashMap<String, String>,
    drills: HashMap<String, DrillRecord>,
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

    /// Records the latest restore drill of an environment.
    pub fn insert_drill(&mut self, environment: impl Into<String>, record: DrillRecord) {
        self.drills.insert(environment.into(), record);
    }

    /// The latest restore drill of an environment.
    pub fn last_drill(&self, environment: &str) -> Option<&DrillRecord> {
        self.drills.get(environment)
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
            if let Some(r) = env
                .accessibility_audit
                .as_ref()
                .and_then(|a| a.report.as_ref())
            {
                paths.push(r.value.as_str());
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
}
