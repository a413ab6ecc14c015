//! Reading a spec from disk: the file, the diagnostics, and the facts about
//! the files it references (gathered here so rules never touch the disk).

use std::fs;
use std::path::{Path, PathBuf};

use stagegate_rules::{FileFacts, FileState, rule_ids};
use stagegate_spec::{LoadOptions, SourceFile, Spec, process_env};

use crate::{Failure, diagnostics};

/// A loaded, valid spec with its source and base directory.
#[derive(Debug)]
pub struct Loaded {
    pub spec: Spec,
    pub source: SourceFile,
    pub dir: PathBuf,
}

/// Files above this size are not read to check for whitespace-only content.
const CONTENT_PROBE_LIMIT: u64 = 64 * 1024;

impl Loaded {
    /// Reads and loads a spec; on failure returns the failure and, for spec
    /// errors, the rendered diagnostics (the server logs them on a rejected
    /// reload instead of printing them).
    pub fn read_quiet(path: &Path) -> Result<Loaded, (Failure, String)> {
        let text = fs::read_to_string(path).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                " (run `stagegate init` to create a starter spec)"
            } else {
                ""
            };
            let message = format!("cannot read spec {}: {e}{hint}", path.display());
            (Failure::Message(message.clone()), message)
        })?;
        let source = SourceFile::new(display_name(path), text);
        let ids = rule_ids();
        let opts = LoadOptions {
            env: &process_env,
            known_rules: &ids,
        };
        match stagegate_spec::load(&source, &opts) {
            Ok(spec) => {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                Ok(Loaded { spec, source, dir })
            }
            Err(diags) => {
                let mut buf = Vec::new();
                let _ = diagnostics::emit(&source, &diags, &mut buf);
                Err((
                    Failure::Reported,
                    String::from_utf8_lossy(&buf).into_owned(),
                ))
            }
        }
    }

    /// Reads and loads a spec, printing its diagnostics on failure.
    pub fn read(path: &Path) -> Result<Loaded, Failure> {
        Self::read_quiet(path).map_err(|(failure, rendered)| {
            if matches!(failure, Failure::Reported) {
                let _ = std::io::Write::write_all(&mut anstream::stderr(), rendered.as_bytes());
            }
            failure
        })
    }

    /// Stats every file the spec references, relative to the spec's folder.
    pub fn file_facts(&self) -> FileFacts {
        let mut facts = FileFacts::new();
        for path in FileFacts::referenced_paths(&self.spec) {
            facts.insert(path, file_state(&self.dir.join(path)));
        }
        facts
    }

    /// Checks `--env` names, suggesting the closest one on a typo.
    pub fn check_env_names(&self, names: &[String]) -> Result<(), Failure> {
        for name in names {
            if self.spec.environment(name).is_none() {
                let known: Vec<&str> = self
                    .spec
                    .environments
                    .iter()
                    .map(|e| e.name.value.as_str())
                    .collect();
                let hint = stagegate_spec::suggest::did_you_mean(name, known.iter().copied())
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                return Err(Failure::Message(format!(
                    "{} has no environment `{name}`{hint}: expected one of {}",
                    self.source.name(),
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// The spec's name in messages and reports: as given, or relative to the
/// working directory when an absolute path lies below it (SARIF consumers
/// want repository-relative paths).
fn display_name(path: &Path) -> String {
    if path.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(relative) = path.strip_prefix(&cwd)
    {
        return relative.display().to_string();
    }
    path.display().to_string()
}

fn file_state(path: &Path) -> FileState {
    let Ok(meta) = fs::metadata(path) else {
        return FileState::Missing;
    };
    if !meta.is_file() {
        return FileState::NotAFile;
    }
    if meta.len() == 0 {
        return FileState::Empty;
    }
    if meta.len() <= CONTENT_PROBE_LIMIT
        && let Ok(bytes) = fs::read(path)
        && bytes.iter().all(u8::is_ascii_whitespace)
    {
        return FileState::Empty;
    }
    FileState::Present
}
