//! Reading a spec from disk: the file, the diagnostics, and the facts about
//! the files it references (gathered here so rules never touch the disk).

use std::fs;
use std::path::{Path, PathBuf};

use stagegate_rules::{
    CustomRules, DocumentFacts, Evaluator, FileFacts, FileState, RecordSource, TEMPLATE_MARKER,
    rule_ids,
};
use stagegate_spec::Date;
use stagegate_spec::{LoadOptions, SourceFile, Spec, process_env};

use crate::git::GitFacts;
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
    git: std::sync::OnceLock<Option<GitFacts>>,
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
            Ok(mut spec) => {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                let dated = dates(&mut spec, &source, path);
                if !dated.is_empty() {
                    let mut buf = Vec::new();
                    let _ = diagnostics::emit(&source, &dated, &mut buf);
                    return Err((
                        Failure::Reported,
                        String::from_utf8_lossy(&buf).into_owned(),
                    ));
                }
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
                    git: std::sync::OnceLock::new(),
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

    /// Reads every file the spec references (relative to the spec's
    /// folder, inside the evidence roots): its state, its text when small,
    /// and for a usable one its SHA-256 and date (last commit, else
    /// modification time) so findings can cite it; and the latest restore
    /// drill of each environment from the drill log beside the spec.
    pub fn file_facts(&self) -> Result<FileFacts, Failure> {
        let mut facts = FileFacts::new();
        let log_path = crate::drill_log::path_for(&self.path);
        let log = crate::drill_log::read(&log_path, stagegate_spec::now_unix())
            .map_err(Failure::Message)?;
        let source = log_path.display().to_string();
        for entry in log {
            let newer = facts
                .last_drill(&entry.environment)
                .is_none_or(|d| d.finished_at <= entry.record.finished_at);
            if newer {
                let from = RecordSource {
                    source: format!("{source}:{}", entry.line),
                    sha256: Some(entry.sha256.clone()),
                };
                facts.insert_drill(entry.environment, entry.record, from);
            }
        }
        let roots = stagegate_spec::EvidenceRoots::new(&self.dir, &self.spec);
        let git = self.git();
        for path in FileFacts::referenced_paths(&self.spec) {
            // Read through the opened file, which is checked to lie inside
            // the roots: a path swapped meanwhile cannot lead elsewhere.
            let (Ok(real), Ok(file)) = (roots.resolve(path), roots.open(path)) else {
                facts.insert(path, FileState::Missing);
                continue;
            };
            let read = read_evidence(file);
            facts.insert(path, read.state);
            if let Some(text) = read.text {
                facts.insert_text(path, text);
            }
            if let (FileState::Present, Some(sha256)) = (read.state, read.sha256) {
                let at = git
                    .and_then(|g| g.committed_at(&real))
                    .or(read.modified)
                    .unwrap_or(0);
                facts.insert_document(path, DocumentFacts { sha256, at });
            }
        }
        for path in self
            .spec
            .environments
            .iter()
            .filter_map(|e| e.accessibility_audit.as_ref()?.results.as_ref())
        {
            let path = path.value.as_str();
            let results = roots
                .open(path)
                .map_err(|e| match e {
                    stagegate_spec::OpenError::Outside(_) => {
                        "lies outside the evidence roots".to_owned()
                    }
                    stagegate_spec::OpenError::Io(e) => format!("cannot be opened: {e}"),
                })
                .and_then(|file| read_text(file, RESULTS_LIMIT))
                .and_then(|text| stagegate_rules::read_audit_results(path, &text));
            facts.insert_audit_results(path, results);
        }
        Ok(facts)
    }

    /// What git knows of the spec and the files it cites, asked once.
    pub fn git(&self) -> Option<&GitFacts> {
        self.git
            .get_or_init(|| {
                let roots = stagegate_spec::EvidenceRoots::new(&self.dir, &self.spec);
                let mut paths: Vec<PathBuf> = FileFacts::referenced_paths(&self.spec)
                    .into_iter()
                    .filter_map(|p| roots.resolve(p).ok())
                    .collect();
                paths.push(
                    self.path
                        .canonicalize()
                        .unwrap_or_else(|_| self.path.clone()),
                );
                paths.push(
                    crate::drill_log::path_for(&self.path)
                        .canonicalize()
                        .unwrap_or_default(),
                );
                paths.retain(|p| p.is_absolute());
                GitFacts::gather(&self.dir_or_cwd(), &paths)
            })
            .as_ref()
    }

    fn dir_or_cwd(&self) -> PathBuf {
        if self.dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            self.dir.clone()
        }
    }

    /// Where this report comes from: made now, by this stagegate, from this
    /// spec (its hash, and its commit in a git work tree).
    pub fn provenance(&self) -> stagegate_report::Provenance {
        let git = self.git();
        let spec = stagegate_report::SpecIdentity {
            git_commit: git.map(|g| g.commit.clone()),
            git_dirty: git.map(GitFacts::any_dirty),
            git_repository: git.map(|g| g.repository.clone()),
            ..stagegate_report::SpecIdentity::of(&self.source)
        };
        stagegate_report::Provenance::new(spec, stagegate_spec::now_unix())
    }

    /// Judges this spec as of `as_of` from `files`, custom rules included.
    /// Observations are aged against now when judging as of today, else
    /// against the end of the as-of day.
    pub fn evaluator<'a>(&'a self, as_of: Date, files: &'a FileFacts) -> Evaluator<'a, 'a> {
        let now = if as_of == Date::today_utc() {
            stagegate_spec::now_unix()
        } else {
            as_of.end_unix_secs()
        };
        Evaluator::new(&self.spec, as_of, files)
            .custom(&self.custom)
            .now(now)
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

/// Fills in when each waiver without `granted` was granted (the day its
/// line was last committed; left empty, the evaluation takes the as-of
/// date), and reports records dated after today: a waiver granted or an
/// attestation made in the future has not happened.
fn dates(spec: &mut Spec, source: &SourceFile, path: &Path) -> Vec<stagegate_spec::Diagnostic> {
    let today = Date::today_utc();
    let mut problems = Vec::new();
    for w in &mut spec.waivers {
        match &w.granted {
            Some(g) if g.value > today => problems.push(
                stagegate_spec::Diagnostic::new("waiver granted in the future", g.span)
                    .label(format!("granted {} is after today, {today}", g.value))
                    .note("expected the day the waiver was granted, today or earlier"),
            ),
            Some(_) => {}
            None => {
                let first = source.span_start(w.span).line;
                let last = source
                    .line_col(
                        w.span
                            .range()
                            .end
                            .saturating_sub(1)
                            .max(w.span.range().start),
                    )
                    .line;
                w.granted = crate::git::lines_committed_at(path, first, last)
                    .map(|at| stagegate_spec::Spanned::new(Date::from_unix_secs(at), w.span));
            }
        }
    }
    for a in &spec.attestations {
        if a.date.value > today {
            problems.push(
                stagegate_spec::Diagnostic::new("attestation dated in the future", a.date.span)
                    .label(format!("date {} is after today, {today}", a.date.value))
                    .note("expected the day the person attested, today or earlier"),
            );
        }
    }
    problems
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

/// What reading an evidence file found.
struct Read {
    state: FileState,
    /// The text, when small enough to keep (rules read runbooks for what
    /// they commit to).
    text: Option<String>,
    sha256: Option<String>,
    modified: Option<i64>,
}

/// The largest per-criterion results file read: axe-core's JSON of a
/// large site runs to megabytes, since it lists every element checked.
const RESULTS_LIMIT: u64 = 64 * 1024 * 1024;

/// The whole text of an opened file, up to `limit` bytes.
fn read_text(file: fs::File, limit: u64) -> Result<String, String> {
    let mut text = String::new();
    let read = std::io::Read::read_to_string(&mut std::io::Read::take(file, limit + 1), &mut text)
        .map_err(|e| format!("cannot be read as UTF-8 text: {e}"))?;
    if read as u64 > limit {
        return Err(format!("is larger than {} MiB", limit / (1024 * 1024)));
    }
    Ok(text)
}

/// Reads an opened evidence file once: its state, its hash and, when small,
/// its text.
fn read_evidence(mut file: fs::File) -> Read {
    let mut read = Read {
        state: FileState::Missing,
        text: None,
        sha256: None,
        modified: None,
    };
    let Ok(meta) = file.metadata() else {
        return read;
    };
    if !meta.is_file() {
        read.state = FileState::NotAFile;
        return read;
    }
    read.modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    if meta.len() == 0 {
        read.state = FileState::Empty;
        return read;
    }
    let mut hasher = stagegate_spec::Sha256Hasher::new();
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        match std::io::Read::read(&mut file, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                total += n as u64;
                if total <= CONTENT_PROBE_LIMIT {
                    kept.extend_from_slice(&buf[..n]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                read.state = FileState::NotAFile;
                return read;
            }
        }
    }
    read.text = if total <= CONTENT_PROBE_LIMIT {
        String::from_utf8(kept).ok()
    } else {
        None
    };
    read.state = match &read.text {
        _ if total == 0 => FileState::Empty,
        Some(t) if t.trim().is_empty() => FileState::Empty,
        Some(t) if t.lines().any(|l| l.contains(TEMPLATE_MARKER)) => FileState::Template,
        _ => FileState::Present,
    };
    read.sha256 = Some(hasher.finish_hex());
    read
}
