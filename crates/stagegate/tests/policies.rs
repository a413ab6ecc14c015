//! Custom rules in Rego: judged like built-in rules in every format, broken
//! policies are spec errors with file and line, and evaluation is bounded.

mod common;

use std::path::Path;

use common::*;

const SPEC: &str = r#"policies = ["policies/"]

[product]
name = "Policy test"
frameworks = ["iso-27001"]

[environments.production]
mode = "production"

[[environments.production.servers]]
name = "db-1"
roles = ["database"]
location = "fra1"

[environments.beta]
mode = "soft-launch"
audience = "limited"

[[environments.beta.servers]]
name = "db-1"
roles = ["database"]
location = "fra1"

[[environments.beta.servers]]
name = "db-2"
roles = ["database"]
location = "fra2"
"#;

const REPLICA: &str = r#"# METADATA
# title: The database has a replica
# description: Losing the only database server stops sales until a restore.
# custom:
#   id: ACME-DB-REPLICA
#   severity:
#     production: required
#     soft-launch: recommended
#   remediation: Add a second server with role database.
#   controls:
#     - iso-27001:A.8.14:full
package stagegate.acme.replica

import rego.v1

deny contains msg if {
	dbs := [s | some s in input.environment.servers; "database" in s.roles]
	count(dbs) < 2
	msg := sprintf("only %d database server in %s", [count(dbs), input.environment.name])
}
"#;

fn project(policies: &[(&str, &str)], spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("stagegate.toml"), spec).expect("spec");
    for (name, text) in policies {
        let path = dir.path().join("policies").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("policy");
    }
    dir
}

fn spec_of(dir: &Path) -> String {
    dir.join("stagegate.toml")
        .to_str()
        .expect("path")
        .to_owned()
}

fn custom(doc: &serde_json::Value, env: usize) -> &serde_json::Value {
    doc["environments"][env]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "ACME-DB-REPLICA")
        .expect("the custom rule's finding")
}

#[test]
fn custom_rules_are_judged_like_built_in_ones() {
    let dir = project(
        &[
            ("replica.rego", REPLICA),
            ("replica_test.rego", "not even rego"),
        ],
        SPEC,
    );
    let spec = spec_of(dir.path());
    let (code, doc) = json(&["check", &spec, "-f", "json", "--as-of", AS_OF]);
    let prod = custom(&doc, 0);
    assert_eq!(prod["status"], "fail");
    assert_eq!(prod["severity"], "required");
    assert_eq!(prod["message"], "only 1 database server in production");
    assert_eq!(prod["title"], "The database has a replica");
    assert_eq!(
        prod["controls"][0],
        serde_json::json!({ "framework": "iso-27001", "id": "A.8.14", "strength": "full" })
    );
    assert_eq!(
        custom(&doc, 1)["status"],
        "pass",
        "two database servers in beta"
    );
    assert_eq!(code, 1);
    // Judged in the mode asked for: a plan to soft launch makes it a warning.
    let (_, doc) = json(&[
        "plan",
        "production",
        "--to",
        "soft-launch",
        &spec,
        "-f",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(custom(&doc, 0)["status"], "warn");
    let (_, doc) = json(&[
        "plan",
        "production",
        "--to",
        "staging",
        &spec,
        "-f",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(custom(&doc, 0)["status"], "skip");

    // Every format carries it.
    let text = run(&["check", &spec, "--as-of", AS_OF]).stdout;
    assert!(
        text.contains("FAIL   ACME-DB-REPLICA The database has a replica"),
        "{text}"
    );
    assert!(
        text.contains("fix: Add a second server with role database."),
        "{text}"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&run(&["check", &spec, "-f", "sarif", "--as-of", AS_OF]).stdout)
            .expect("sarif");
    let run0 = &sarif["runs"][0];
    let result = run0["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "ACME-DB-REPLICA")
        .expect("sarif result");
    let index = result["ruleIndex"].as_u64().expect("index") as usize;
    assert_eq!(
        run0["tool"]["driver"]["rules"][index]["id"],
        "ACME-DB-REPLICA"
    );
    let junit = run(&["check", &spec, "-f", "junit", "--as-of", AS_OF]).stdout;
    assert!(junit.contains("ACME-DB-REPLICA"), "{junit}");
    let markdown = run(&["check", &spec, "-f", "markdown", "--as-of", AS_OF]).stdout;
    assert!(
        markdown.contains("`ACME-DB-REPLICA` The database has a replica"),
        "{markdown}"
    );
    // ...and the compliance report counts it as evidence for its control.
    let (_, doc) = json(&[
        "report",
        "--framework",
        "iso-27001",
        &spec,
        "--env",
        "production",
        "-f",
        "json",
        "--as-of",
        AS_OF,
    ]);
    let control = doc["environments"][0]["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .find(|c| c["id"] == "A.8.14")
        .expect("A.8.14");
    assert_eq!(control["status"], "not-met");
    assert!(
        control["rules"]
            .as_array()
            .expect("rules")
            .contains(&"ACME-DB-REPLICA".into())
    );

    // A waiver may name a custom rule.
    let waived = format!(
        "{SPEC}\n[[waivers]]\nrule = \"ACME-DB-REPLICA\"\nenvironment = \"production\"\nreason = \"Replica ordered\"\nexpires = 2026-12-31\napproved_by = \"cto@example.com\"\n"
    );
    std::fs::write(dir.path().join("stagegate.toml"), waived).expect("spec");
    let (_, doc) = json(&["check", &spec, "-f", "json", "--as-of", AS_OF]);
    assert_eq!(custom(&doc, 0)["status"], "waived");
    let typo = format!(
        "{SPEC}\n[[waivers]]\nrule = \"ACME-DB-REPLICAS\"\nenvironment = \"production\"\nreason = \"x\"\nexpires = 2026-12-31\n"
    );
    std::fs::write(dir.path().join("stagegate.toml"), typo).expect("spec");
    let out = run(&["check", &spec]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("waiver names unknown rule `ACME-DB-REPLICAS`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("ACME-DB-REPLICA"),
        "suggests the custom id: {}",
        out.stderr
    );
}

#[test]
fn broken_policies_are_spec_errors_with_file_and_line() {
    let cases: &[(&str, &str)] = &[
        (
            &REPLICA.replace("\tcount(dbs) < 2\n", "\tcount(dbs) <\n"),
            "policies/replica.rego:19:",
        ),
        (
            &REPLICA.replace("#   id: ACME-DB-REPLICA\n", ""),
            "policies/replica.rego:2:1: METADATA has no `id`",
        ),
        (
            &REPLICA.replace("production: required", "production: mandatory"),
            "policies/replica.rego:7:1: unknown severity `mandatory`",
        ),
        (
            &REPLICA.replace("iso-27001:A.8.14:full", "iso-27001:A.8.99"),
            "policies/replica.rego:11:1: `A.8.99` is not a iso-27001 control",
        ),
        (
            &REPLICA.replace("ACME-DB-REPLICA", "SG-BACKUP-OFFSITE"),
            "policies/replica.rego:5:1: invalid rule id `SG-BACKUP-OFFSITE`",
        ),
        (
            &REPLICA.replace("# METADATA\n", ""),
            "policies/replica.rego:1:1: no `# METADATA` block",
        ),
    ];
    for (policy, expected) in cases {
        let dir = project(&[("replica.rego", policy)], SPEC);
        let out = run(&["check", &spec_of(dir.path())]);
        assert_eq!(out.code, 2, "{expected}: {}", out.stderr);
        assert!(
            out.stderr.contains(expected),
            "expected `{expected}` in:\n{}",
            out.stderr
        );
    }
    // Two policies with one id.
    let dir = project(
        &[
            ("a.rego", REPLICA),
            (
                "b.rego",
                &REPLICA.replace("stagegate.acme.replica", "stagegate.acme.other"),
            ),
        ],
        SPEC,
    );
    let out = run(&["check", &spec_of(dir.path())]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("policies/b.rego:5:1: rule id `ACME-DB-REPLICA` is already taken"),
        "{}",
        out.stderr
    );
    // A path that does not exist is located in the spec.
    let dir = project(&[], SPEC);
    let out = run(&["check", &spec_of(dir.path())]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("policy path `policies/` does not exist"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("stagegate.toml:1:13"), "{}", out.stderr);
}

#[test]
fn a_policy_that_runs_too_long_fails_its_finding() {
    let slow = REPLICA.replace(
        "\tdbs := [s | some s in input.environment.servers; \"database\" in s.roles]\n\tcount(dbs) < 2\n",
        "\tn := count([x | some i in numbers.range(1, 2000); some j in numbers.range(1, 2000); x := i * j])\n\tn < 0\n\tdbs := []\n",
    );
    let spec = SPEC.replace(
        "[product]",
        "[policy]\npolicy_timeout = \"20ms\"\n\n[product]",
    );
    let dir = project(&[("slow.rego", &slow)], &spec);
    let (code, doc) = json(&[
        "check",
        &spec_of(dir.path()),
        "-f",
        "json",
        "--as-of",
        AS_OF,
    ]);
    let f = custom(&doc, 0);
    assert_eq!(f["status"], "fail", "{f}");
    assert!(
        f["message"]
            .as_str()
            .expect("message")
            .contains("did not finish within the time limit of 20ms"),
        "{f}"
    );
    assert_eq!(code, 1);
}

/// A custom rule claims a control only where `policy.custom_claims` lets
/// it: otherwise a policy anyone drops into the folder would count as full
/// evidence, and its mapping counts as support.
#[test]
fn custom_rules_claim_controls_only_when_the_spec_allows() {
    let claims_policy = REPLICA.replace("iso-27001:A.8.14:full", "iso-27001:A.5.1:full");
    let status_of = |spec_text: &str| {
        let dir = project(&[("replica.rego", claims_policy.as_str())], spec_text);
        let (_, doc) = json(&[
            "report",
            "--framework",
            "iso-27001",
            &spec_of(dir.path()),
            "--env",
            "beta",
            "-f",
            "json",
            "--as-of",
            AS_OF,
        ]);
        let control = doc["environments"][0]["controls"]
            .as_array()
            .expect("controls")
            .iter()
            .find(|c| c["id"] == "A.5.1")
            .cloned()
            .expect("A.5.1");
        let strength = control["evidence"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["rule"] == "ACME-DB-REPLICA"))
            .map(|e| e["strength"].clone())
            .expect("the custom rule's evidence");
        (control["status"].clone(), strength)
    };
    // Not allowed: the passing custom rule only supports A.5.1.
    let (status, strength) = status_of(SPEC);
    assert_eq!(
        (status.as_str(), strength.as_str()),
        (Some("manual"), Some("supports"))
    );
    // Allowed by pattern: it evidences A.5.1 as it says (on what the spec
    // declares, so `declared`, never `met` by itself).
    let allowed = format!("{SPEC}\n[policy]\ncustom_claims = [\"ACME-*\"]\n");
    let (status, strength) = status_of(&allowed);
    assert_eq!(
        (status.as_str(), strength.as_str()),
        (Some("declared"), Some("full"))
    );
    let other = format!("{SPEC}\n[policy]\ncustom_claims = [\"OTHER-*\", \"ACME-DB\"]\n");
    let (_, strength) = status_of(&other);
    assert_eq!(
        strength.as_str(),
        Some("supports"),
        "a pattern matches the whole id"
    );
}
