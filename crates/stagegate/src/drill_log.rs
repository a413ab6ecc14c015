//! The drill log: one JSON line per restore drill, in `NAME.drills.jsonl`
//! beside the spec `NAME.toml`. Teams commit it with the spec, so the history
//! of drills is reviewed and kept like any other evidence.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use stagegate_rules::DrillRecord;

/// One line of the log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub environment: String,
    #[serde(flatten)]
    pub record: DrillRecord,
    /// `command` or `restic`: how the restore was done.
    pub method: String,
}

/// Where the drill log of the spec at `spec` lives.
pub fn path_for(spec: &Path) -> PathBuf {
    let stem = spec
        .file_stem()
        .map_or_else(|| "stagegate".into(), |s| s.to_string_lossy().into_owned());
    spec.with_file_name(format!("{stem}.drills.jsonl"))
}

/// Every entry of the log, oldest first; a missing log has none.
pub fn read(path: &Path) -> Result<Vec<Entry>, String> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read drill log {}: {e}", path.display())),
    };
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: Entry = serde_json::from_str(line).map_err(|e| {
            format!(
                "{}:{}:{}: invalid drill record: {e}; expected one JSON object per line with environment, finished_at, seconds, ok, message and method, as `stagegate drill` writes them",
                path.display(),
                i + 1,
                e.column()
            )
        })?;
        entries.push(entry);
    }
    Ok(entries)
}

/// Appends one entry (creating the log), flushed to disk before returning.
pub fn append(path: &Path, entry: &Entry) -> io::Result<()> {
    let mut line = serde_json::to_string(entry).map_err(io::Error::other)?;
    line.push('\n');
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_all()
}
