//! Reading a spec from disk: the file, the diagnostics, and the facts about
//! the files it references (gathered here so rules never touch the disk).

use std::fs;
use std::path::{Path, PathBuf};

use stagegate_rules::{CustomRules, Evaluator, FileFacts, FileState, TEMPLATE_MARKER, rule_ids};
use stagegate_spec::Date;
use stagegate_spec::{LoadOptions, SourceFile, Spec, process_env};

use crate::{Failure, diagnostics};

/// A loaded, valid spec with its source and base directory.
#[derive(Debug)]
pub struct Loaded {
    pub spec: Spec,
    /// The spec file as given.
    pub path: PathBuf,
    /// The custom rules the spec names, compiled.
    pub custom: CustomRules,
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
            known_controls: stagegate_rules::frameworks::control_ids,
        };
        match stagegate_spec::load(&source, &opts) {
            Ok(spec) => {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                // Evidence never comes from outside the spec's folders.
                let escapes = stagegate_spec::EvidenceRoots::new(&dir, &spec).check(&spec);
                if !escapes.is_empty() {
                    let mut buf = Vec::new();
                    let _ = diagnostics::emit(&source, &escapes, &mut buf);
                    return Err((
                        Failure::Reported,
                        String::from_utf8_lossy(&buf).into_owned(),
                    ));
                }
                #[cfg(feature = "rego")]
                let custom = match crate::policies::load(&spec, &dir) {
                    Ok(p) => p.map(CustomRules::new).unwrap_or_default(),
                    Err(crate::policies::Problem::Spec(diags)) => {
                        let mut buf = Vec::new();
                        let _ = diagnostics::emit(&source, &diags, &mut buf);
                        return Err((
                            Failure::Reported,
                            String::from_utf8_lossy(&buf).into_owned(),
                        ));
                    }
                    Err(crate::policies::Problem::Policies(errors)) => {
                        let rendered: String =
                            errors.iter().map(|e| format!("error: {e}\n")).collect();
                        return Err((Failure::Reported, rendered));
                    }
                };
                #[cfg(not(feature = "rego"))]
                let custom = CustomRules::default();
                #[cfg(not(feature = "rego"))]
                if let Some(first) = spec.policies.first() {
                    let diag = stagegate_spec::Diagnostic::new(
                        "custom rules need Rego support",
                        first.span,
                    )
                    .label("this stagegate was built without the `rego` feature")
                    .note("expected a build with `--features rego` (the default)");
                    let mut buf = Vec::new();
                    let _ = diagnostics::emit(&source, &[diag], &mut buf);
                    return Err((
                        Failure::Reported,
                        String::from_utf8_lossy(&buf).into_owned(),
                    ));
                }
                Ok(Loaded {
                    spec,
                    source,
                    dir,
                    path: path.to_path_buf(),
                    custom,
                })
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

    /// Stats every file the spec references, relative to the spec's folder,
    /// and reads the latest restore drill of each environment from the drill
    /// log beside the spec.
    pub fn file_facts(&self) -> Result<FileFacts, Failure> {
        let mut facts = FileFacts::new();
        let log = crate::drill_log::read(&crate::drill_log::path_for(&self.path))
            .map_err(Failure::Message)?;
        for entry in log {
            let newer = facts
                .last_drill(&entry.environment)
                .is_none_or(|d| d.finished_at <= entry.record.finished_at);
            if newer {
                facts.insert_drill(entry.environment, entry.record);
            }
        }
        let roots = stagegate_spec::EvidenceRoots::new(&self.dir, &self.spec);
        for path in FileFacts::referenced_paths(&self.spec) {
            // Checked at load; read through where it really is.
            let Ok(real) = roots.resolve(path) else {
                facts.insert(path, FileState::Missing);
                continue;
            };
            let (state, text) = file_state(&real);
            facts.insert(path, state);
            if let Some(text) = text {
                facts.insert_text(path, text);
            }
        }
        Ok(facts)
    }

    /// Judges this spec as of `as_of` from `files`, custom rules included.
    pub fn evaluator<'a>(&'a self, as_of: Date, files: &'a FileFacts) -> Evaluator<'a, 'a> {
        Evaluator::new(&self.spec, as_of, files).custom(&self.custom)
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

/// What a referenced file is, and its text when it is small enough to keep
/// (rules read runbooks for what they commit to).
fn file_state(path: &Path) -> (FileState, Option<String>) {
    let Ok(meta) = fs::metadata(path) else {
        return (FileState::Missing, None);
    };
    if !meta.is_file() {
        return (FileState::NotAFile, None);
    }
    if meta.len() == 0 {
        return (FileState::Empty, None);
    }
    let text = if meta.len() <= CONTENT_PROBE_LIMIT {
        fs::read(path).ok().and_then(|b| String::from_utf8(b).ok())
    } else {
        None
    };
    let state = match &text {
        Some(t) if t.trim().is_empty() => FileState::Empty,
        Some(t) if t.lines().any(|l| l.contains(TEMPLATE_MARKER)) => FileState::Template,
        _ => FileState::Present,
    };
    (state, text)
}
