//! What a report rests on and where it comes from, end to end in a real git
//! work tree: documents cited with their hash and commit time, the spec's
//! commit and dirtiness, SARIF provenance, back-dated reports labelled,
//! waivers dated by their commit, and the drill log's chain.

use std::path::Path;
use std::process::Command;

fn stagegate(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let (_, out, err) = stagegate(dir, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"))
}

/// Runs git in `dir` with a fixed identity and commit date.
fn git(dir: &Path, args: &[&str], date: &str) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

const SPEC: &str = r#"[product]
name = "Provenance"

[environments.staging]
mode = "staging"
audience = "internal"
controlled_by = "client"

[[environments.staging.servers]]
name = "app-1"
roles = ["core"]
location = "here"

[environments.staging.runbooks]
unavailability = "runbooks/unavailability.md"
failure = "runbooks/failure.md"
hardware-swap = "runbooks/hardware-swap.md"
data-corruption = "runbooks/data-corruption.md"
attack-mitigation = "runbooks/attack-mitigation.md"
"#;

const RUNBOOKS: [&str; 5] = [
    "unavailability",
    "failure",
    "hardware-swap",
    "data-corruption",
    "attack-mitigation",
];

/// A work tree with the spec and its runbooks committed on 2026-10-01.
fn repo(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("runbooks")).expect("mkdir");
    std::fs::write(root.join("stagegate.toml"), spec).expect("spec");
    for name in RUNBOOKS {
        std::fs::write(
            root.join(format!("runbooks/{name}.md")),
            format!("# {name}\n\nWho decides, who is told, the steps.\n"),
        )
        .expect("runbook");
    }
    git(root, &["init", "-q", "-b", "main"], "2026-10-01T10:00:00Z");
    git(root, &["add", "-A"], "2026-10-01T10:00:00Z");
    git(
        root,
        &["commit", "-q", "-m", "spec"],
        "2026-10-01T10:00:00Z",
    );
    dir
}

fn finding<'a>(doc: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    doc["environments"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule}"))
}

#[test]
fn documents_are_cited_with_their_hash_and_commit_time() {
    let dir = repo(SPEC);
    let root = dir.path();
    let head = git(root, &["rev-parse", "HEAD"], "2026-10-01T10:00:00Z");
    let doc = json(root, &["check", "-f", "json", "--env", "staging"]);
    assert_eq!(doc["spec"]["path"], "stagegate.toml");
    assert_eq!(doc["spec"]["git_commit"], head.as_str());
    assert_eq!(doc["spec"]["git_dirty"], false);
    let spec_sha = stagegate_spec::sha256_hex(SPEC.as_bytes());
    assert_eq!(doc["spec"]["sha256"], spec_sha.as_str());
    assert!(doc["stagegate_version"].as_str().is_some());

    let runbooks = finding(&doc, "SG-OPS-RUNBOOKS");
    // Staging does not require runbooks; the rule is skipped there. Plan
    // the promotion, where they are required and read.
    assert_eq!(runbooks["basis"], "none");
    let plan = json(
        root,
        &["plan", "staging", "--to", "production", "-f", "json"],
    );
    let runbooks = finding(&plan, "SG-OPS-RUNBOOKS");
    assert_eq!(runbooks["basis"], "document", "{runbooks}");
    let failure = runbooks["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .find(|e| e["source"] == "runbooks/failure.md")
        .expect("failure runbook cited");
    assert_eq!(failure["basis"], "document");
    assert_eq!(failure["what"], "runbook failure");
    assert_eq!(
        failure["at"], "2026-10-01T10:00:00Z",
        "the commit, not the mtime"
    );
    let text = std::fs::read(root.join("runbooks/failure.md")).expect("read");
    assert_eq!(
        failure["sha256"],
        stagegate_spec::sha256_hex(&text).as_str()
    );
    assert_eq!(finding(&plan, "SG-SEC-FIREWALL")["basis"], "declared");

    // An uncommitted edit: the tree is dirty and the document dated by
    // its modification time.
    std::fs::write(root.join("runbooks/failure.md"), "# failure\n\nEdited.\n").expect("edit");
    let plan = json(
        root,
        &["plan", "staging", "--to", "production", "-f", "json"],
    );
    assert_eq!(plan["spec"]["git_dirty"], true);
    let failure = finding(&plan, "SG-OPS-RUNBOOKS")["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .find(|e| e["source"] == "runbooks/failure.md")
        .cloned()
        .expect("cited");
    assert_ne!(failure["at"], "2026-10-01T10:00:00Z");

    // Text shows the basis beside the status, and a footer.
    let (_, text, _) = stagegate(
        root,
        &["plan", "staging", "--to", "production", "--verbose"],
    );
    assert!(
        text.lines()
            .any(|l| l.contains("SG-OPS-RUNBOOKS") && l.contains("· document 5 sources")),
        "{text}"
    );
    let footer = text.lines().last().expect("footer");
    assert!(
        footer.contains(&format!(
            "at commit {}, with uncommitted changes",
            &head[..12]
        )),
        "{footer}"
    );
}

#[test]
fn sarif_names_the_commit_and_a_back_dated_report_says_so() {
    let dir = repo(SPEC);
    let root = dir.path();
    let head = git(root, &["rev-parse", "HEAD"], "2026-10-01T10:00:00Z");
    git(
        root,
        &[
            "remote",
            "add",
            "origin",
            "https://user:s3cret@git.example/acme/shop.git",
        ],
        "2026-10-01T10:00:00Z",
    );
    let doc = json(root, &["check", "-f", "sarif", "--as-of", "2026-10-02"]);
    let run = &doc["runs"][0];
    assert_eq!(
        run["versionControlProvenance"][0]["revisionId"],
        head.as_str()
    );
    assert_eq!(
        run["versionControlProvenance"][0]["repositoryUri"], "https://git.example/acme/shop.git",
        "credentials never leave"
    );
    assert!(!doc.to_string().contains("s3cret"));
    assert_eq!(run["properties"]["spec"]["git_commit"], head.as_str());
    assert!(
        run["properties"]["dating"]
            .as_str()
            .is_some_and(|d| d.starts_with("as of 2026-10-02, generated ")),
        "{}",
        run["properties"]
    );
    let (_, md, _) = stagegate(root, &["check", "-f", "markdown", "--as-of", "2026-10-02"]);
    assert!(md.contains("as of 2026-10-02, generated "), "{md}");

    // Outside a work tree there are no git facts, and nothing fails.
    let plain = tempfile::tempdir().expect("tempdir");
    std::fs::write(plain.path().join("stagegate.toml"), SPEC).expect("spec");
    let doc = json(plain.path(), &["check", "-f", "json"]);
    assert!(doc["spec"].get("git_commit").is_none(), "{}", doc["spec"]);
}

const PRODUCTION: &str = r#"[product]
name = "Waivers"

[environments.production]
mode = "production"
audience = "public"

[[environments.production.servers]]
name = "app-1"
roles = ["core"]
location = "here"

[[waivers]]
rule = "SG-SEC-FIREWALL"
environment = "production"
reason = "Firewall rules ship with the next release"
expires = 2026-12-20
approved_by = "cto@example.com"
"#;

#[test]
fn a_waiver_without_granted_runs_from_its_commit() {
    // Committed on 2026-10-01 and expiring 2026-12-20: 80 days, inside the
    // default 90.
    let dir = repo(PRODUCTION);
    let root = dir.path();
    let doc = json(root, &["check", "-f", "json", "--as-of", "2026-12-01"]);
    assert_eq!(finding(&doc, "SG-SEC-FIREWALL")["status"], "waived");

    // Re-committed with a later expiry: 2026-10-01 → 2027-01-05 is 96 days.
    std::fs::write(
        root.join("stagegate.toml"),
        PRODUCTION.replace("2026-12-20", "2027-01-05"),
    )
    .expect("edit");
    git(root, &["commit", "-qam", "extend"], "2026-10-01T12:00:00Z");
    let doc = json(root, &["check", "-f", "json", "--as-of", "2026-12-01"]);
    let f = finding(&doc, "SG-SEC-FIREWALL");
    assert_eq!(f["status"], "fail");
    assert!(
        f["message"]
            .as_str()
            .expect("message")
            .contains("the waiver runs 96 days, from 2026-10-01 to 2027-01-05"),
        "{f}"
    );
    assert!(f["waiver"]["problem"].as_str().is_some());
}

#[test]
fn records_dated_in_the_future_are_spec_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let spec = format!(
        "{PRODUCTION}granted = 2999-01-01\n\n[[attestations]]\nframework = \"gdpr\"\ncontrol = \"Art. 30\"\nby = \"dpo@example.com\"\ndate = 2999-01-01\nevidence = \"ropa.md\"\nvalid_until = 2999-12-31\n"
    )
    .replace("name = \"Waivers\"", "name = \"Waivers\"\nframeworks = [\"gdpr\"]")
    .replace("expires = 2026-12-20", "expires = 2999-02-01");
    std::fs::write(root.join("stagegate.toml"), spec).expect("spec");
    std::fs::write(root.join("ropa.md"), "# Records of processing\n").expect("evidence");
    let (code, _, err) = stagegate(root, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("waiver granted in the future"), "{err}");
    assert!(err.contains("attestation dated in the future"), "{err}");
    assert!(err.contains("stagegate.toml:"), "{err}");
}

#[test]
fn an_edited_drill_log_is_refused_naming_its_line() {
    let dir = repo(SPEC);
    let root = dir.path();
    let log = root.join("stagegate.drills.jsonl");
    let line = |at: i64, ok: bool| {
        format!(
            "{{\"environment\":\"staging\",\"finished_at\":{at},\"seconds\":12.0,\"ok\":{ok},\"message\":\"m\",\"method\":\"command\"}}\n"
        )
    };
    // A hand-written success dated 2100 after a real failure.
    std::fs::write(
        &log,
        format!(
            "{}{}",
            line(1_790_000_000, false),
            line(4_102_444_800, true)
        ),
    )
    .expect("log");
    let (code, _, err) = stagegate(root, &["check"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("stagegate.drills.jsonl:2:1"), "{err}");
    assert!(err.contains("in the future"), "{err}");
}
