//! `stagegate init runbooks`: drafts filled from the spec, which count as
//! missing until a person completes them and deletes the template line.

mod common;

use std::path::Path;

use common::*;

fn finding(spec: &Path, env: &str, rule: &str) -> serde_json::Value {
    let (_, doc) = json(&[
        "check",
        spec.to_str().expect("path"),
        "--env",
        env,
        "-f",
        "json",
        "--as-of",
        AS_OF,
    ]);
    doc["environments"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule)
        .cloned()
        .unwrap_or_else(|| panic!("no {rule}"))
}

fn strip_marker(path: &Path) {
    let text = std::fs::read_to_string(path).expect("runbook");
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("stagegate: unedited template"))
        .collect();
    std::fs::write(path, kept.join("\n")).expect("write");
}

#[test]
fn drafts_are_filled_from_the_spec_and_count_once_completed() {
    let dir = copy_example("ecommerce-shop");
    let spec = dir.path().join("stagegate.toml");
    // Start from no runbooks at all.
    let text = std::fs::read_to_string(&spec).expect("spec");
    let start = text
        .find("[environments.production.runbooks]")
        .expect("runbooks table");
    let end = text[start..]
        .find("\n\n")
        .map_or(text.len(), |i| start + i + 1);
    std::fs::write(&spec, format!("{}{}", &text[..start], &text[end..])).expect("spec");
    std::fs::remove_dir_all(dir.path().join("runbooks")).expect("rm runbooks");

    let out = run(&[
        "init",
        "runbooks",
        "production",
        "--spec",
        spec.to_str().expect("path"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("[environments.production.runbooks]\nunavailability = \"runbooks/production/unavailability.md\""), "{}", out.stderr);
    let rb = dir.path().join("runbooks/production");
    for name in [
        "unavailability",
        "failure",
        "backup-restore",
        "hardware-swap",
        "data-corruption",
        "attack-mitigation",
        "security-breach",
    ] {
        let text = std::fs::read_to_string(rb.join(format!("{name}.md")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Under GDPR the breach runbook states its commitment first.
        let body = text
            .strip_prefix(
                "---\nnotifies: [supervisory-authority, data-subjects]\nwithin: 72h\n---\n",
            )
            .filter(|_| name == "security-breach")
            .unwrap_or(&text);
        assert!(
            body.starts_with("<!-- stagegate: unedited template"),
            "{name}"
        );
        assert!(
            text.contains(
                "**Northwind on-call** (`ops`) · oncall@northwind.example: responds first"
            ),
            "{name} names the on-call contact:\n{text}"
        );
        assert!(text.contains("**Objectives.** service back within **4h** (RTO); lose at most **1h** of data (RPO)"), "{name}");
    }
    assert!(
        !rb.join("emergency-mode.md").exists(),
        "only HIPAA asks for an emergency mode plan"
    );
    let restore = std::fs::read_to_string(rb.join("backup-restore.md")).expect("restore");
    assert!(restore.contains("restic -r sftp:backup@ams1.northwind.example:/srv/restic/acme restore SNAPSHOT_ID --target /restore"), "{restore}");
    assert!(
        restore.contains("rehearsed every 45d with `stagegate drill production`"),
        "{restore}"
    );
    let breach = std::fs::read_to_string(rb.join("security-breach.md")).expect("breach");
    assert!(breach.contains("notify the supervisory authority within 72 hours"));
    assert!(breach.contains("PCI DSS 12.10.1"));
    assert!(
        !breach.contains("HIPAA"),
        "only the declared frameworks' deadlines"
    );

    // Declared as the command said, the drafts are still missing.
    let snippet = out
        .stderr
        .split("so the checks find them:\n\n")
        .nth(1)
        .expect("snippet");
    let snippet: String = snippet.split("\n\n").next().expect("table").to_owned();
    let text = std::fs::read_to_string(&spec).expect("spec");
    std::fs::write(&spec, format!("{text}\n{snippet}\n")).expect("spec");
    let f = finding(&spec, "production", "SG-OPS-RUNBOOKS");
    assert_eq!(f["status"], "fail");
    assert!(
        f["message"]
            .as_str()
            .expect("message")
            .contains("runbooks/production/failure.md is still an unedited template"),
        "{f}"
    );
    assert_eq!(
        finding(&spec, "production", "SG-OPS-BREACH")["status"],
        "fail"
    );
    assert_eq!(
        finding(&spec, "production", "SG-GDPR-BREACH")["status"],
        "fail"
    );

    // Completed (the marker line deleted), they count.
    for entry in std::fs::read_dir(&rb).expect("dir") {
        strip_marker(&entry.expect("entry").path());
    }
    assert_eq!(
        finding(&spec, "production", "SG-OPS-RUNBOOKS")["status"],
        "pass"
    );
    assert_eq!(
        finding(&spec, "production", "SG-GDPR-BREACH")["status"],
        "pass"
    );

    // Running it again keeps the team's work unless forced.
    let out = run(&[
        "init",
        "runbooks",
        "production",
        "--spec",
        spec.to_str().expect("path"),
    ]);
    assert!(out.stderr.contains("kept "), "{}", out.stderr);
    assert_eq!(
        finding(&spec, "production", "SG-OPS-RUNBOOKS")["status"],
        "pass"
    );
}

#[test]
fn hipaa_products_also_get_an_emergency_mode_plan() {
    let dir = copy_example("health-app");
    let spec = dir.path().join("stagegate.toml");
    std::fs::remove_file(dir.path().join("runbooks/emergency-mode.md")).expect("rm");
    let out = run(&["init", "runbooks", "--spec", spec.to_str().expect("path")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan = std::fs::read_to_string(dir.path().join("runbooks/emergency-mode.md"))
        .expect("declared path is used");
    assert!(
        plan.contains("# CareNote: Emergency mode operation (pilot)"),
        "{plan}"
    );
    assert!(
        out.stderr.contains("kept  ") && out.stderr.contains("runbooks/security-breach.md"),
        "existing runbooks are kept: {}",
        out.stderr
    );
    let breach_rule = finding(&spec, "pilot", "SG-HIPAA-EMERGENCY");
    assert_eq!(breach_rule["status"], "fail");
    assert!(
        breach_rule["message"]
            .as_str()
            .expect("message")
            .contains("still an unedited template")
    );

    let out = run(&[
        "init",
        "runbooks",
        "staging",
        "--spec",
        spec.to_str().expect("path"),
    ]);
    assert_eq!(out.code, 0, "an environment can be named whatever its mode");
    let out = run(&[
        "init",
        "runbooks",
        "pilto",
        "--spec",
        spec.to_str().expect("path"),
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("pilot"), "{}", out.stderr);
}
