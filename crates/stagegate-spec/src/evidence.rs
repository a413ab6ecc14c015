//! Where evidence files may live. A runbook, agreement, pentest report,
//! audit, attestation's evidence or policy must resolve — symlinks
//! followed — inside the spec's folder or a folder in
//! `policy.evidence_roots`: a spec must not make stagegate read (and the
//! dashboard serve) `/etc/shadow` because someone wrote `../../etc/shadow`
//! or committed a symlink.

use std::path::{Component, Path, PathBuf};

use crate::{Diagnostic, Spanned, Spec};

/// The folders evidence may come from, resolved.
#[derive(Debug, Clone)]
pub struct EvidenceRoots {
    /// The spec's folder: relative paths start here.
    base: PathBuf,
    roots: Vec<PathBuf>,
}

/// A path that resolves outside every root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escape {
    /// Where it really leads.
    pub resolved: PathBuf,
}

/// Why an evidence file could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// It leads outside the evidence roots.
    Outside(Escape),
    Io(std::io::Error),
}

/// `path` with `.` and `..` taken away without asking the file system (for
/// a file that does not exist yet).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The real location of `path`: its symlinks followed as far as it exists.
fn real(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    // Missing: resolve the deepest folder that exists, then the rest.
    let full = lexical(path);
    let mut existing = full.as_path();
    let mut rest = Vec::new();
    while let Some(parent) = existing.parent() {
        if let Some(name) = existing.file_name() {
            rest.push(name.to_owned());
        }
        existing = parent;
        if let Ok(p) = existing.canonicalize() {
            let mut out = p;
            out.extend(rest.iter().rev());
            return out;
        }
    }
    full
}

impl EvidenceRoots {
    /// The spec's folder `base` and the spec's `policy.evidence_roots`
    /// (relative to `base`).
    pub fn new(base: &Path, spec: &Spec) -> EvidenceRoots {
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        let mut roots = vec![real(
            &std::path::absolute(base).unwrap_or_else(|_| base.to_owned()),
        )];
        for root in &spec.policy.evidence_roots {
            roots.push(real(
                &std::path::absolute(base.join(&root.value)).unwrap_or_default(),
            ));
        }
        EvidenceRoots {
            base: roots[0].clone(),
            roots,
        }
    }

    /// Where `path` (as the spec writes it) really is, if that is inside a
    /// root.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, Escape> {
        let resolved = real(&self.base.join(path));
        if self.roots.iter().any(|r| resolved.starts_with(r)) {
            Ok(resolved)
        } else {
            Err(Escape { resolved })
        }
    }

    /// Opens an evidence file for reading, then checks where the opened
    /// file really is: a path swapped for a symlink between a check and a
    /// read cannot lead outside the roots. (On Linux the open file's own
    /// path is checked; elsewhere the path is resolved just before it is
    /// opened.)
    pub fn open(&self, path: &str) -> Result<std::fs::File, OpenError> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let file = std::fs::File::open(self.base.join(path)).map_err(OpenError::Io)?;
            let opened = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
                .map_err(OpenError::Io)?;
            if self.roots.iter().any(|r| opened.starts_with(r)) {
                Ok(file)
            } else {
                Err(OpenError::Outside(Escape { resolved: opened }))
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let resolved = self.resolve(path).map_err(OpenError::Outside)?;
            std::fs::File::open(resolved).map_err(OpenError::Io)
        }
    }

    /// A spec error for every evidence file of `spec` outside the roots.
    pub fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        for (what, path) in evidence_files(spec) {
            if let Err(e) = self.resolve(&path.value) {
                diags.push(
                    Diagnostic::new(
                        format!(
                            "{what} `{}` resolves to {}, outside the spec's folder",
                            path.value,
                            e.resolved.display()
                        ),
                        path.span,
                    )
                    .label("evidence must stay inside")
                    .note(format!(
                        "expected a file inside {}{}; add its folder to `policy.evidence_roots` if it lives elsewhere on purpose",
                        self.roots[0].display(),
                        if self.roots.len() > 1 {
                            " or a folder of `policy.evidence_roots`"
                        } else {
                            ""
                        }
                    )),
                );
            }
        }
        diags
    }
}

/// Every file the spec names as evidence, with what it is.
pub fn evidence_files(spec: &Spec) -> Vec<(String, &Spanned<String>)> {
    let mut out = Vec::new();
    for env in &spec.environments {
        let name = &env.name.value;
        if let Some(r) = &env.runbooks {
            for (runbook, path) in &r.entries {
                out.push((format!("the {} runbook of {name}", runbook.as_str()), path));
            }
        }
        if let Some(a) = env.operations.as_ref().and_then(|o| o.agreement.as_ref()) {
            out.push((format!("the support agreement of {name}"), a));
        }
        if let Some(r) = env.pentest.as_ref().and_then(|p| p.report.as_ref()) {
            out.push((format!("the pentest report of {name}"), r));
        }
        if let Some(r) = env
            .accessibility_audit
            .as_ref()
            .and_then(|a| a.report.as_ref())
        {
            out.push((format!("the accessibility audit of {name}"), r));
        }
        if let Some(r) = env
            .accessibility_audit
            .as_ref()
            .and_then(|a| a.results.as_ref())
        {
            out.push((format!("the accessibility audit results of {name}"), r));
        }
    }
    for a in &spec.attestations {
        out.push(("attestation evidence".to_owned(), &a.evidence));
    }
    for p in &spec.policies {
        out.push(("the policy file".to_owned(), p));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_folder_are_caught_even_through_symlinks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("spec");
        std::fs::create_dir_all(base.join("runbooks")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("shared")).expect("mkdir");
        std::fs::write(base.join("runbooks/ok.md"), "# ok").expect("write");
        std::fs::write(dir.path().join("outside.md"), "# secret").expect("write");
        std::os::unix::fs::symlink(dir.path().join("outside.md"), base.join("runbooks/link.md"))
            .expect("symlink");
        let roots = EvidenceRoots {
            base: real(&base),
            roots: vec![real(&base)],
        };
        assert!(roots.resolve("runbooks/ok.md").is_ok());
        assert!(roots.resolve("./runbooks/../runbooks/ok.md").is_ok());
        assert!(
            roots.resolve("runbooks/missing.md").is_ok(),
            "missing inside is the rules' business"
        );
        for bad in [
            "/etc/passwd",
            "../outside.md",
            "runbooks/link.md",
            "../../../../etc/hostname",
            "runbooks/../../outside.md",
        ] {
            assert!(roots.resolve(bad).is_err(), "{bad} escapes");
        }
        let with_shared = EvidenceRoots {
            base: real(&base),
            roots: vec![real(&base), real(&dir.path().join("shared"))],
        };
        assert!(with_shared.resolve("../shared/policy.md").is_ok());
    }

    /// A file swapped back and forth for a symlink to a file outside, as
    /// fast as it can be: whatever `open` hands out is never the outside
    /// file (a check of the path before opening it lets some through).
    #[test]
    fn a_file_swapped_for_a_symlink_while_it_is_opened_never_leads_outside() {
        use std::io::Read;
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("spec");
        std::fs::create_dir_all(base.join("runbooks")).expect("mkdir");
        std::fs::write(dir.path().join("outside.md"), "outside").expect("write");
        std::fs::write(base.join("runbooks/failure.md"), "inside").expect("write");
        let roots = EvidenceRoots {
            base: real(&base),
            roots: vec![real(&base)],
        };
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let swapper = {
            let stop = stop.clone();
            let (rb, outside) = (base.join("runbooks"), dir.path().join("outside.md"));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = std::fs::remove_file(rb.join("link"));
                    let _ = std::os::unix::fs::symlink(&outside, rb.join("link"));
                    let _ = std::fs::rename(rb.join("link"), rb.join("failure.md"));
                    let _ = std::fs::write(rb.join("tmp"), "inside");
                    let _ = std::fs::rename(rb.join("tmp"), rb.join("failure.md"));
                }
            })
        };
        let mut read = 0;
        for _ in 0..20_000 {
            if let Ok(mut f) = roots.open("runbooks/failure.md") {
                let mut text = String::new();
                let _ = f.read_to_string(&mut text);
                assert_ne!(text, "outside", "read the file outside after {read} reads");
                read += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        swapper.join().expect("join");
        assert!(read > 0, "the file inside was never read");
    }
}
