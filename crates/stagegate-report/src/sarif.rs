//! SARIF 2.1.0, as GitHub code scanning ingests it: every rule described in
//! the driver, one result per failing, warning or waived finding, located at
//! the spec line, with a stable fingerprint per rule and environment.

use std::io::{self, Write};

use serde_json::{Value, json};
use stagegate_rules::{Area, RuleRef, Severity, Status, catalogue};

use crate::Report;

const INFO_URI: &str = env!("CARGO_PKG_REPOSITORY");

fn level(status: Status) -> &'static str {
    match status {
        Status::Fail | Status::Waived => "error",
        Status::Warn => "warning",
        Status::Pass | Status::Skip => "none",
    }
}

/// GitHub wants repository-relative, forward-slash URIs; the caller names
/// the spec relative to the working directory where it can.
fn artifact_uri(name: &str) -> String {
    let s = name.replace('\\', "/");
    if s.starts_with('/') {
        // Outside the working directory: only an absolute `file` URI is valid.
        format!("file://{s}")
    } else {
        s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
    }
}

/// FNV-1a: stable across versions and platforms, unlike `DefaultHasher`.
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A Pascal-case friendly name from the rule id: `SG-BACKUP-OFFSITE` →
/// `BackupOffsite`.
fn pascal(id: &str) -> String {
    id.split('-')
        .skip(1)
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase())
                .unwrap_or_default()
        })
        .collect()
}

/// The built-in rules, then the custom rules the report's findings name.
fn rule_list<'r>(r: &Report<'r>) -> Vec<RuleRef<'r>> {
    let mut list: Vec<RuleRef<'r>> = catalogue().iter().map(RuleRef::Builtin).collect();
    for f in r.environments.iter().flat_map(|e| &e.findings) {
        if !list.iter().any(|x| x.id() == f.rule.id()) {
            list.push(f.rule);
        }
    }
    list
}

fn rules(list: &[RuleRef<'_>]) -> Vec<Value> {
    list.iter()
        .map(|rule| {
            let quotes: String = rule
                .guideline()
                .iter()
                .map(|q| format!("> {q}\n>\n"))
                .collect();
            let example = if rule.example().is_empty() {
                String::new()
            } else {
                format!("\n\n```toml\n{}\n```", rule.example())
            };
            let markdown = format!(
                "**{}**\n\nRequirement: {}\n\n{}\n{}\n\n**Fix:** {}{example}",
                rule.title(),
                rule.requirement(),
                quotes.trim_end_matches(">\n"),
                rule.rationale(),
                rule.remediation(),
            );
            // `security` (the Security area) makes GitHub file results as security alerts.
            let tags = vec!["rollout".to_owned(), rule.area().title().to_lowercase()];
            let default_level = match rule.applies().nominal() {
                Severity::Required => "error",
                Severity::Recommended => "warning",
            };
            let mut properties = json!({ "tags": tags, "precision": "very-high" });
            if rule.area() == Area::Security {
                properties["security-severity"] = json!(if default_level == "error" {
                    "8.0"
                } else {
                    "5.0"
                });
            }
            json!({
                "id": rule.id(),
                "name": pascal(rule.id()),
                "shortDescription": { "text": rule.title() },
                "fullDescription": { "text": rule.requirement() },
                "help": {
                    "text": format!("{}\n\nFix: {}", rule.rationale(), rule.remediation()),
                    "markdown": markdown,
                },
                "defaultConfiguration": { "level": default_level },
                "properties": properties,
            })
        })
        .collect()
}

/// The result message: environment, the facts, the basis and the evidence.
fn message(env: &str, mode: &str, f: &stagegate_rules::Finding) -> String {
    let mut text = format!("{env} ({mode}): {} [{}]", f.message, f.basis.as_str());
    for e in &f.evidence {
        match &e.observation {
            Some(o) => text.push_str(&format!("\n- {}: {}", o.subject, o.summary)),
            None => text.push_str(&format!(
                "\n- {} {}: {}",
                e.basis.as_str(),
                e.what,
                e.source
            )),
        }
    }
    text
}

pub(crate) fn render(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let uri = artifact_uri(r.source.name());
    let list = rule_list(r);
    let mut results = Vec::new();
    for env in r.environments {
        for f in env
            .findings
            .iter()
            .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Waived))
        {
            let index = list.iter().position(|x| x.id() == f.rule.id()).unwrap_or(0);
            let (line, column) = f
                .span
                .map(|s| r.source.span_start(s))
                .map_or((1, 1), |lc| (lc.line, lc.column));
            let mut result = json!({
                "ruleId": f.rule.id(),
                "ruleIndex": index,
                "level": level(f.status),
                "message": { "text": message(env.name(), env.mode.label(), f) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": {
                            "startLine": line,
                            "startColumn": column,
                            "snippet": { "text": r.source.text().lines().nth(line - 1).unwrap_or_default() },
                        },
                    },
                    "logicalLocations": [{ "name": env.name(), "kind": "module" }],
                }],
                "partialFingerprints": { "stagegate/v1": fingerprint(&[f.rule.id(), env.name()]) },
                "properties": {
                    "environment": env.name(),
                    "mode": env.mode.as_str(),
                    "status": f.status.as_str(),
                    "severity": f.severity.as_str(),
                    "basis": f.basis,
                    "evidence": f.evidence.iter().map(crate::json::evidence).collect::<Vec<_>>(),
                    "controls": f
                        .controls
                        .iter()
                        .map(|c| format!("{}:{}", c.framework, c.id))
                        .collect::<Vec<_>>(),
                },
            });
            if let (Status::Waived, Some(w)) = (f.status, &f.waiver) {
                let by = w
                    .approved_by
                    .as_deref()
                    .map(|a| format!(" (approved by {a})"))
                    .unwrap_or_default();
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!("{}{by}; expires {}", w.reason, w.expires),
                }]);
            }
            results.push(result);
        }
    }
    let p = r.provenance;
    let mut run_properties = json!({
        "product": r.product,
        "asOf": r.as_of.to_string(),
        "generatedAt": stagegate_spec::rfc3339(p.generated_at),
        "stagegateVersion": p.stagegate_version,
        "catalogueRevision": p.catalogue_revision,
        "spec": p.spec,
    });
    if r.as_of != stagegate_spec::Date::from_unix_secs(p.generated_at) {
        run_properties["dating"] = json!(p.dating(r.as_of));
    }
    let mut run = json!({
        "tool": { "driver": {
            "name": "stagegate",
            "version": p.stagegate_version,
            "semanticVersion": p.stagegate_version,
            "informationUri": INFO_URI,
            "rules": rules(&list),
        }},
        "automationDetails": { "id": format!("stagegate/{}/", r.as_of) },
        "artifacts": [{
            "location": { "uri": uri },
            "mimeType": "application/toml",
            "hashes": { "sha-256": p.spec.sha256 },
        }],
        "results": results,
        "invocations": [{
            "executionSuccessful": true,
            "endTimeUtc": stagegate_spec::rfc3339(p.generated_at),
        }],
        "properties": run_properties,
    });
    if let (Some(repository), Some(commit)) = (&p.spec.git_repository, &p.spec.git_commit) {
        run["versionControlProvenance"] = json!([{
            "repositoryUri": repository,
            "revisionId": commit,
        }]);
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
