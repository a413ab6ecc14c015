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
    Present,
}

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
            FileState::Present => None,
        }
    }
}

/// Facts about the files a spec references, keyed by the path as written.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    states: HashMap<String, FileState>,
}

impl FileFacts {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, path: impl Into<String>, state: FileState) {
        self.states.insert(path.into(), state);
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
        }
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
