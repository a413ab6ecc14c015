//! The drill log: one JSON line per restore drill, in `NAME.drills.jsonl`
//! beside the spec `NAME.toml`. Teams commit it with the spec, so the history
//! of drills is reviewed and kept like any other evidence.
//!
//! Each line is chained to the one before: `prev` is the previous line's
//! `hash`, and `hash` the SHA-256 of the line's canonical JSON without
//! `hash` (keys sorted, no whitespace: as the audit log writes it). An edited, inserted or reordered line breaks the chain, and a line
//! dated in the future or before its predecessor is refused, so a
//! hand-written "success" cannot hide a later failure. Lines written before
//! the log was chained (no `hash`) are accepted until the first chained one;
//! their link is the SHA-256 of the line itself.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use stagegate_rules::DrillRecord;

/// The link before the first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How far in the future a record may lie (clock skew between the machine
/// that ran the drill and the one that reads the log).
const SKEW_SECS: i64 = 300;

/// One line of the log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub environment: String,
    #[serde(flatten)]
    pub record: DrillRecord,
    /// `command` or `restic`: how the restore was done.
    pub method: String,
    /// The previous line's link (see the module documentation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// SHA-256 of the line as read, which findings cite.
    #[serde(skip)]
    pub sha256: String,
    /// Its line in the log (1-based), so a citation names the record the
    /// hash is of.
    #[serde(skip)]
    pub line: usize,
}

impl Entry {
    pub fn new(environment: String, record: DrillRecord, method: String) -> Entry {
        Entry {
            environment,
            record,
            method,
            prev: None,
            hash: None,
            sha256: String::new(),
            line: 0,
        }
    }

    /// The SHA-256 of the entry's canonical JSON without `hash`.
    fn compute_hash(&self) -> Result<String, serde_json::Error> {
        let mut value = serde_json::to_value(self)?;
        if let Some(map) = value.as_object_mut() {
            map.remove("hash");
        }
        Ok(stagegate_spec::sha256_hex(
            stagegate_store::audit::canonical_details(&value).as_bytes(),
        ))
    }

    /// What the next line's `prev` must be.
    fn link(&self) -> &str {
        self.hash.as_deref().unwrap_or(&self.sha256)
    }
}

/// Where the drill log of the spec at `spec` lives.
pub fn path_for(spec: &Path) -> PathBuf {
    let stem = spec
        .file_stem()
        .map_or_else(|| "stagegate".into(), |s| s.to_string_lossy().into_owned());
    spec.with_file_name(format!("{stem}.drills.jsonl"))
}

/// Every entry of the log, oldest first, with the chain and dates checked
/// against `now` (Unix seconds); a missing log has none.
pub fn read(path: &Path, now: i64) -> Result<Vec<Entry>, String> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read drill log {}: {e}", path.display())),
    };
    let mut entries: Vec<Entry> = Vec::new();
    let mut chained = false;
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = std::str::from_utf8(raw).map_err(|e| {
            format!(
                "{}:{}:{}: the drill record is not UTF-8; expected JSON as `stagegate drill` writes it",
                path.display(),
                i + 1,
                e.valid_up_to() + 1
            )
        })?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let at = |column: usize| format!("{}:{}:{column}", path.display(), i + 1);
        let mut entry: Entry = serde_json::from_str(line).map_err(|e| {
            format!(
                "{}: invalid drill record: {e}; expected one JSON object per line with environment, finished_at, seconds, ok, message and method, as `stagegate drill` writes them",
                at(e.column())
            )
        })?;
        entry.sha256 = stagegate_spec::sha256_hex(line.as_bytes());
        entry.line = i + 1;
        let prev_link = entries.last().map_or(GENESIS, Entry::link);
        match (&entry.hash, &entry.prev) {
            (None, _) if chained => {
                return Err(format!(
                    "{}: drill record without `hash` after chained records: the log was edited by hand; expected every record after the first chained one to carry `prev` and `hash` as `stagegate drill` writes them",
                    at(1)
                ));
            }
            (None, _) => {}
            (Some(hash), prev) => {
                chained = true;
                if prev.as_deref() != Some(prev_link) {
                    return Err(format!(
                        "{}: the drill log's chain is broken: `prev` is {}, expected {prev_link} (the previous record's hash); a record was inserted, removed or reordered",
                        at(1),
                        prev.as_deref().unwrap_or("missing")
                    ));
                }
                let expected = entry
                    .compute_hash()
                    .map_err(|e| format!("{}: cannot hash the drill record: {e}", at(1)))?;
                if *hash != expected {
                    return Err(format!(
                        "{}: the drill record does not match its `hash` ({hash}, computed {expected}): it was edited after it was written",
                        at(1)
                    ));
                }
            }
        }
        if entry.record.finished_at > now + SKEW_SECS {
            return Err(format!(
                "{}: the drill record is dated {}, in the future; expected a drill that has happened",
                at(1),
                stagegate_spec::rfc3339(entry.record.finished_at)
            ));
        }
        if let Some(before) = entries.last()
            && entry.record.finished_at < before.record.finished_at
        {
            return Err(format!(
                "{}: the drill record is dated {}, before the record above it ({}); expected records in the order the drills finished",
                at(1),
                stagegate_spec::rfc3339(entry.record.finished_at),
                stagegate_spec::rfc3339(before.record.finished_at)
            ));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Appends one entry, chained to the last line (creating the log), flushed
/// to disk before returning. A log whose chain is already broken is not
/// appended to: the break must be seen and mended first.
pub fn append(path: &Path, entry: &Entry) -> Result<(), String> {
    let existing = read(
        path,
        stagegate_spec::now_unix().max(entry.record.finished_at),
    )?;
    let mut entry = entry.clone();
    entry.prev = Some(existing.last().map_or(GENESIS, Entry::link).to_owned());
    entry.hash = None;
    entry.hash = Some(entry.compute_hash().map_err(|e| e.to_string())?);
    let mut line = serde_json::to_string(&entry).map_err(|e| e.to_string())?;
    line.push('\n');
    // A log whose last line lacks its newline (edited by hand) would take
    // this record onto that line.
    if fs::read(path).is_ok_and(|b| b.last().is_some_and(|l| *l != b'\n')) {
        line.insert(0, '\n');
    }
    let write = || -> io::Result<()> {
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.write_all(line.as_bytes())?;
        file.sync_all()
    };
    write().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: i64, ok: bool) -> Entry {
        Entry::new(
            "production".into(),
            DrillRecord {
                finished_at: at,
                seconds: 12.0,
                ok,
                message: "restored".into(),
            },
            "command".into(),
        )
    }

    fn log() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("ok");
        let path = dir.path().join("stagegate.drills.jsonl");
        (dir, path)
    }

    #[test]
    fn appended_records_chain_and_read_back() {
        let (_d, path) = log();
        append(&path, &entry(1_000, true)).expect("ok");
        append(&path, &entry(2_000, false)).expect("ok");
        let read = read(&path, 3_000).expect("ok");
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].prev.as_deref(), Some(GENESIS));
        assert_eq!(read[1].prev, read[0].hash);
    }

    #[test]
    fn an_edited_record_names_its_line() {
        let (_d, path) = log();
        append(&path, &entry(1_000, false)).expect("ok");
        append(&path, &entry(2_000, false)).expect("ok");
        let text = fs::read_to_string(&path).expect("ok");
        let edited = text.replacen("\"ok\":false", "\"ok\":true", 1);
        fs::write(&path, edited).expect("ok");
        let err = read(&path, 3_000).expect_err("refused");
        assert!(err.contains("drills.jsonl:1:1"), "{err}");
        assert!(err.contains("edited after it was written"), "{err}");
    }

    #[test]
    fn a_removed_or_reordered_record_breaks_the_chain() {
        let (_d, path) = log();
        for at in [1_000, 2_000, 3_000] {
            append(&path, &entry(at, true)).expect("ok");
        }
        let text = fs::read_to_string(&path).expect("ok");
        let lines: Vec<&str> = text.lines().collect();
        fs::write(&path, format!("{}\n{}\n", lines[0], lines[2])).expect("ok");
        let err = read(&path, 4_000).expect_err("refused");
        assert!(
            err.contains(":2:1") && err.contains("chain is broken"),
            "{err}"
        );
    }

    #[test]
    fn future_and_out_of_order_records_are_refused() {
        let (_d, path) = log();
        append(&path, &entry(4_102_444_800, true)).expect("ok");
        let err = read(&path, 1_800_000_000).expect_err("refused");
        assert!(err.contains(":1:1"), "{err}");
        assert!(err.contains("in the future"), "{err}");

        let (_d, path) = log();
        let older = entry(500, true);
        let mut lines = String::new();
        for e in [entry(1_000, true), older] {
            lines.push_str(&serde_json::to_string(&e).expect("ok"));
            lines.push('\n');
        }
        fs::write(&path, lines).expect("ok");
        let err = read(&path, 2_000).expect_err("refused");
        assert!(
            err.contains(":2:1") && err.contains("before the record above"),
            "{err}"
        );
    }

    #[test]
    fn a_log_without_its_last_newline_is_appended_to_on_a_line_of_its_own() {
        let (_d, path) = log();
        append(&path, &entry(1_000, true)).expect("ok");
        let text = fs::read_to_string(&path).expect("ok");
        fs::write(&path, text.trim_end()).expect("ok");
        append(&path, &entry(2_000, true)).expect("ok");
        assert_eq!(read(&path, 3_000).expect("ok").len(), 2);
    }

    #[test]
    fn bytes_that_are_not_utf8_name_their_line() {
        let (_d, path) = log();
        append(&path, &entry(1_000, true)).expect("ok");
        let mut bytes = fs::read(&path).expect("ok");
        bytes.extend_from_slice(b"{\"environment\":\"p\xff\"}\n");
        fs::write(&path, bytes).expect("ok");
        let err = read(&path, 3_000).expect_err("refused");
        assert!(
            err.contains("drills.jsonl:2:") && err.contains("not UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn unchained_lines_count_until_the_chain_starts() {
        let (_d, path) = log();
        let legacy = serde_json::to_string(&entry(1_000, true)).expect("ok");
        fs::write(&path, format!("{legacy}\n")).expect("ok");
        append(&path, &entry(2_000, true)).expect("ok");
        let read_back = read(&path, 3_000).expect("ok");
        assert_eq!(read_back.len(), 2);
        assert_eq!(
            read_back[1].prev.as_deref(),
            Some(stagegate_spec::sha256_hex(legacy.as_bytes()).as_str())
        );
        // A hand-written line after the chain started is refused.
        let mut text = fs::read_to_string(&path).expect("ok");
        text.push_str(&serde_json::to_string(&entry(2_500, true)).expect("ok"));
        text.push('\n');
        fs::write(&path, text).expect("ok");
        assert!(read(&path, 3_000).expect_err("refused").contains(":3:1"));
    }
}
