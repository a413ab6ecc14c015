//! What git knows about the spec and its evidence files: the commit checked
//! out, whether any of them has uncommitted changes, and when each was last
//! committed (a document's date in evidence is its last commit, which a
//! checkout does not change, unlike its modification time).
//!
//! git runs with `core.fsmonitor` off and no terminal prompt: a spec may sit
//! in a repository nobody here configured, and reading its facts must never
//! run that repository's commands.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Facts about a git work tree, for the paths asked about.
#[derive(Clone, Debug, Default)]
pub struct GitFacts {
    pub commit: String,
    /// `origin` without credentials, else the work tree as a `file://` URI.
    pub repository: String,
    /// Paths (canonical) with uncommitted changes, or untracked.
    dirty: HashSet<PathBuf>,
    /// Paths (canonical) and the Unix time of the last commit touching them.
    committed: HashMap<PathBuf, i64>,
}

impl GitFacts {
    /// Facts for `paths` (canonical, absolute) from the work tree holding
    /// `dir`; `None` outside a work tree, without commits or without git.
    pub fn gather(dir: &Path, paths: &[PathBuf]) -> Option<GitFacts> {
        let out = git(dir)
            .args(["rev-parse", "--show-toplevel", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())?;
        let text = String::from_utf8(out.stdout).ok()?;
        let mut lines = text.lines();
        let top = PathBuf::from(lines.next()?);
        let commit = lines.next()?.trim().to_owned();
        let top = top.canonicalize().unwrap_or(top);
        let inside: Vec<&Path> = paths
            .iter()
            .filter(|p| p.starts_with(&top))
            .map(PathBuf::as_path)
            .collect();
        let repository = origin(&top).unwrap_or_else(|| format!("file://{}", top.display()));
        let mut facts = GitFacts {
            commit,
            repository,
            ..GitFacts::default()
        };
        if inside.is_empty() {
            return Some(facts);
        }
        facts.dirty = changed(&top, &inside);
        facts.committed = last_commits(&top, &inside);
        Some(facts)
    }

    /// Whether any path asked about differs from the commit.
    pub fn any_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The last commit time of a clean, committed path.
    pub fn committed_at(&self, path: &Path) -> Option<i64> {
        if self.dirty.contains(path) {
            return None;
        }
        self.committed.get(path).copied()
    }
}

/// When lines `first..=last` (1-based) of `file` were last committed: the
/// newest commit among them, Unix seconds; `None` when any of them is
/// uncommitted, or outside a work tree.
pub fn lines_committed_at(file: &Path, first: usize, last: usize) -> Option<i64> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    let out = git(dir.unwrap_or(Path::new(".")))
        .args(["blame", "--line-porcelain", "-L"])
        .arg(format!("{first},{last}"))
        .arg("--")
        .arg(file.file_name()?)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut newest: Option<i64> = None;
    let mut header = true;
    for line in text.lines() {
        if header {
            // "<40-hex commit> <orig line> <line> [<count>]"
            let commit = line.split_whitespace().next()?;
            if commit.bytes().all(|b| b == b'0') {
                return None;
            }
            header = false;
        } else if let Some(t) = line.strip_prefix("committer-time ") {
            let t: i64 = t.trim().parse().ok()?;
            newest = Some(newest.map_or(t, |n| n.max(t)));
        } else if line.starts_with('\t') {
            // The line's content ends each entry.
            header = true;
        }
    }
    newest
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(["-c", "core.fsmonitor=false", "-c", "core.quotePath=false"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// The `origin` remote with any userinfo (user, password, token) removed.
fn origin(top: &Path) -> Option<String> {
    let out = git(top)
        .args(["remote", "get-url", "origin"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let url = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!url.is_empty()).then(|| as_uri(&url, top))
}

/// A remote as a URI without credentials: `https://token@host/x` →
/// `https://host/x`, scp-like `git@host:x` → `ssh://host/x`, a local path →
/// `file:///abs/path`.
fn as_uri(url: &str, top: &Path) -> String {
    if url.contains("://") {
        return without_userinfo(url);
    }
    if let Some((authority, path)) = url.split_once(':')
        && !authority.contains('/')
        && !authority.is_empty()
    {
        let host = authority.rsplit('@').next().unwrap_or(authority);
        return format!("ssh://{host}/{}", path.trim_start_matches('/'));
    }
    let path = top.join(url);
    format!("file://{}", path.canonicalize().unwrap_or(path).display())
}

/// `https://token@host/x` → `https://host/x`.
fn without_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    // A query or fragment may carry a token too (`?token=...`): dropped.
    let url = &url[..url.find(['?', '#']).unwrap_or(url.len())];
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Paths among `paths` that are modified, staged or untracked.
fn changed(top: &Path, paths: &[&Path]) -> HashSet<PathBuf> {
    let Ok(out) = git(top)
        .args([
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--",
        ])
        .args(paths)
        .output()
    else {
        return HashSet::new();
    };
    out.stdout
        .split(|b| *b == 0)
        .filter(|entry| entry.len() > 3)
        .map(|entry| top.join(String::from_utf8_lossy(&entry[3..]).as_ref()))
        .collect()
}

/// The last commit time of each path, reading `git log` newest first and
/// stopping as soon as every path has been seen (history can be long).
fn last_commits(top: &Path, paths: &[&Path]) -> HashMap<PathBuf, i64> {
    let mut found = HashMap::new();
    let Ok(mut child) = git(top)
        .args(["log", "--format=%x01%ct", "--name-only", "--"])
        .args(paths)
        .stdout(Stdio::piped())
        .spawn()
    else {
        return found;
    };
    let wanted: HashSet<&Path> = paths.iter().copied().collect();
    if let Some(stdout) = child.stdout.take() {
        let mut time = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(t) = line.strip_prefix('\u{1}') {
                time = t.trim().parse::<i64>().ok();
                continue;
            }
            if line.is_empty() {
                continue;
            }
            let path = top.join(&line);
            if let Some(t) = time
                && wanted.contains(path.as_path())
            {
                found.entry(path).or_insert(t);
                if found.len() == wanted.len() {
                    break;
                }
            }
        }
    }
    // Done reading: the rest of history is not needed.
    let _ = child.kill();
    let _ = child.wait();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_leave_in_the_repository_uri() {
        assert_eq!(
            without_userinfo("https://ghp_secret@github.com/acme/shop.git"),
            "https://github.com/acme/shop.git"
        );
        assert_eq!(
            without_userinfo("https://user:pw@gitlab.example/x"),
            "https://gitlab.example/x"
        );
        let top = Path::new("/");
        assert_eq!(
            as_uri("git@github.com:acme/shop.git", top),
            "ssh://github.com/acme/shop.git"
        );
        assert_eq!(as_uri("/srv/git/shop", top), "file:///srv/git/shop");
        assert_eq!(
            without_userinfo("https://github.com/a/b@c"),
            "https://github.com/a/b@c"
        );
        assert_eq!(
            without_userinfo("https://git.example/x.git?token=SECRET#frag"),
            "https://git.example/x.git"
        );
    }
}
