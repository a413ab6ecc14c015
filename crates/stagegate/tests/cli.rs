//! The command-line contract: every command, format and exit code.

mod common;

use std::fs;

use common::*;

// --- exit codes and verdicts of the examples -------------------------------

/// An example spec, its environments' expected verdicts, and the exit code.
type Expected = (&'static str, &'static [(&'static str, &'static str)], i32);

#[test]
fn example_verdicts() {
    let cases: &[Expected] = &[
        (SHOP, &[("staging", "ready"), ("production", "ready")], 0),
        (
            BETA,
            &[("dev", "ready"), ("staging", "ready"), ("beta", "ready")],
            0,
        ),
        (HEALTH, &[("staging", "ready"), ("pilot", "ready")], 0),
    ];
    for (spec, expected, code) in cases {
        let (got, doc) = json(&["check", spec, "--format", "json", "--as-of", AS_OF]);
        assert_eq!(got, *code, "{spec}");
        let verdicts: Vec<(String, String)> = doc["environments"]
            .as_array()
            .expect("environments")
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().expect("name").to_owned(),
                    e["verdict"].as_str().expect("verdict").to_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        assert_eq!(verdicts, expected, "{spec}");
    }
}

#[test]
fn health_app_is_not_ready_for_production() {
    let (code, doc) = json(&[
        "plan",
        "pilot",
        "--to",
        "production",
        HEALTH,
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        doc["plan"],
        serde_json::json!({ "environment": "pilot", "from": "soft-launch", "to": "production" })
    );
    let env = &doc["environments"][0];
    assert_eq!(env["mode"], "production");
    assert_eq!(env["verdict"], "blocked");
    let failing: Vec<&str> = env["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| f["rule"].as_str().expect("rule"))
        .collect();
    assert_eq!(
        failing,
        [
            "SG-CLUSTER-HA",
            "SG-OPS-DUTIES",
            "SG-OPS-RUNBOOKS",
            "SG-OPS-AGREEMENT"
        ]
    );
}

#[test]
fn shop_pentest_waiver_lapses_after_its_expiry() {
    let (code, doc) = json(&[
        "check",
        SHOP,
        "--env",
        "production",
        "--format",
        "json",
        "--as-of",
        "2026-12-15",
    ]);
    assert_eq!(code, 0);
    let f = finding(&doc, "SG-SEC-PENTEST");
    assert_eq!(f["status"], "waived");
    assert_eq!(f["waiver"]["approved_by"], "cto@acme.example");
    let (code, doc) = json(&[
        "check",
        SHOP,
        "--env",
        "production",
        "--format",
        "json",
        "--as-of",
        "2026-12-16",
    ]);
    assert_eq!(code, 1);
    let f = finding(&doc, "SG-SEC-PENTEST");
    assert_eq!(f["status"], "fail");
    assert_eq!(
        f["message"],
        "1 high finding is still open; the waiver expired on 2026-12-15"
    );
}

fn finding<'a>(doc: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    doc["environments"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule}"))
}

// --- JSON shape -------------------------------------------------------------

#[test]
fn json_has_the_contract_shape() {
    let (code, doc) = json(&["check", SHOP, "--format", "json", "--as-of", AS_OF]);
    assert_eq!(code, 0);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["product"], "Acme Shop");
    assert_eq!(doc["as_of"], AS_OF);
    let rules = run(&["rules", "list", "--format", "json"]);
    let n_rules = serde_json::from_str::<serde_json::Value>(&rules.stdout).expect("json")["rules"]
        .as_array()
        .map_or_else(
            || {
                serde_json::from_str::<serde_json::Value>(&rules.stdout)
                    .expect("json")
                    .as_array()
                    .expect("array")
                    .len()
            },
            Vec::len,
        );
    for env in doc["environments"].as_array().expect("environments") {
        for key in ["name", "mode", "verdict", "findings"] {
            assert!(env.get(key).is_some(), "environment lacks {key}");
        }
        let findings = env["findings"].as_array().expect("findings");
        let built_in = findings
            .iter()
            .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("SG-")))
            .count();
        assert_eq!(
            built_in, n_rules,
            "every built-in rule appears once per environment"
        );
        assert!(
            findings
                .iter()
                .any(|f| f["rule"] == "ACME-CHECKOUT-WATCHED"),
            "the example's custom rule follows them"
        );
        for f in findings {
            for key in ["rule", "status", "severity", "message"] {
                assert!(f[key].is_string(), "finding lacks {key}: {f}");
            }
            assert!(
                ["pass", "fail", "warn", "skip", "waived"]
                    .contains(&f["status"].as_str().expect("status"))
            );
            assert!(
                ["required", "recommended"].contains(&f["severity"].as_str().expect("severity"))
            );
            if let Some(loc) = f.get("location") {
                assert_eq!(loc["file"], SHOP);
                assert!(loc["line"].as_u64().expect("line") >= 1);
                assert!(loc["column"].as_u64().expect("column") >= 1);
            }
        }
    }
}

#[test]
fn json_location_points_at_the_offending_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("stagegate.toml");
    fs::write(
        &spec,
        "[product]\nname = \"x\"\n\n[environments.prod]\nmode = \"staging\"\n\n[[environments.prod.servers]]\nname = \"db-1\"\nroles = [\"database\"]\nlocation = \"fra1\"\n\n[environments.prod.backup]\ninterval = \"1h\"\nlocation = \"fra1\"\n",
    )
    .expect("write");
    let (code, doc) = json(&["check", spec.to_str().expect("path"), "--format", "json"]);
    assert_eq!(code, 1);
    let f = finding(&doc, "SG-BACKUP-OFFSITE");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["message"], "backup location fra1 is also where db-1 runs");
    assert_eq!(f["location"]["line"], 14);
    assert_eq!(f["location"]["column"], 12);
}

// --- other formats ----------------------------------------------------------

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json")).expect("schema");
    // The OASIS schema's `language` patterns have a stray `]` that JavaScript
    // accepts and Rust's regex engines reject while compiling the schema;
    // substitute what they mean ("en" or "en-US"). Nothing we emit sets
    // `language`.
    fn fix_patterns(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if key == "pattern" && value == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *value = serde_json::json!("^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$");
                    } else {
                        fix_patterns(value);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(fix_patterns),
            _ => {}
        }
    }
    let mut schema = schema;
    fix_patterns(&mut schema);
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    for (spec, args) in [
        (HEALTH, vec!["check"]),
        (SHOP, vec!["check"]),
        (HEALTH, vec!["plan", "pilot", "--to", "production"]),
    ] {
        let mut argv = args.clone();
        argv.extend([spec, "--format", "sarif", "--as-of", AS_OF]);
        let out = run(&argv);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("sarif is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(doc["version"], "2.1.0");
        let run0 = &doc["runs"][0];
        let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
        for result in run0["results"].as_array().expect("results") {
            let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            let loc = &result["locations"][0]["physicalLocation"];
            assert_eq!(loc["artifactLocation"]["uri"], spec);
            assert!(loc["region"]["startLine"].as_u64().expect("line") >= 1);
        }
    }
}

#[test]
fn sarif_results_cover_failures_warnings_and_waivers() {
    let out = run(&["check", SHOP, "--format", "sarif", "--as-of", AS_OF]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "SG-SEC-PENTEST");
    assert_eq!(results[0]["suppressions"][0]["status"], "accepted");
    let out = run(&[
        "plan",
        "pilot",
        "--to",
        "production",
        HEALTH,
        "--format",
        "sarif",
        "--as-of",
        AS_OF,
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let levels: Vec<&str> = doc["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["level"].as_str().expect("level"))
        .collect();
    assert_eq!(levels, ["error"; 4]);
}

#[test]
fn junit_has_one_suite_per_environment_and_one_case_per_rule() {
    let out = run(&["check", BETA, "--format", "junit", "--as-of", AS_OF]);
    assert_eq!(out.code, 0);
    let xml = roxmltree::Document::parse(&out.stdout).expect("well-formed XML");
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s.attribute("name").expect("name"))
        .collect();
    assert_eq!(names, ["dev", "staging", "beta"]);
    let n_rules = stagegate_rules::catalogue().len();
    for suite in &suites {
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), n_rules);
        let skipped = cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("skipped")))
            .count();
        assert_eq!(
            suite
                .attribute("skipped")
                .expect("skipped")
                .parse::<usize>()
                .expect("n"),
            skipped
        );
        assert!(skipped > 0);
    }
    let out = run(&[
        "plan",
        "pilot",
        "--to",
        "production",
        HEALTH,
        "--format",
        "junit",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.code, 1);
    let xml = roxmltree::Document::parse(&out.stdout).expect("well-formed XML");
    let failures: Vec<_> = xml
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 4);
    assert!(
        failures[0]
            .attribute("message")
            .expect("message")
            .contains("needs a cluster")
    );
}

#[test]
fn markdown_is_a_pull_request_comment() {
    let out = run(&["check", HEALTH, "--format", "markdown", "--as-of", AS_OF]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .starts_with("## stagegate: CareNote — every environment is ready\n")
    );
    assert!(out.stdout.contains("| Environment | Mode | Verdict |"));
    assert!(out.stdout.contains("<details><summary>"));
}

// --- text output ------------------------------------------------------------

#[test]
fn text_ends_with_a_summary_line_per_environment() {
    let out = run(&["check", BETA, "--as-of", AS_OF]);
    let mut lines = out.stdout.lines().rev();
    // The footer says what made the report, from which spec, and when.
    let footer = lines.next().expect("footer");
    assert!(
        footer.starts_with("stagegate ")
            && footer.contains(" · catalogue ")
            && footer.contains("examples/startup-beta/stagegate.toml (sha256 ")
            && footer.contains(" · as of 2026-11-26, generated "),
        "{footer}"
    );
    let tail: Vec<&str> = lines.take(3).collect();
    assert_eq!(
        tail,
        [
            "beta (soft-launch): ready — 0 failed, 3 warnings, 0 waived, 13 passed, 37 skipped",
            "staging (staging): ready — 0 failed, 1 warning, 0 waived, 4 passed, 48 skipped",
            "dev (development): ready — 0 failed, 0 warnings, 0 waived, 1 passed, 52 skipped",
        ]
    );
}

#[test]
fn text_is_plain_when_piped_and_coloured_when_forced() {
    let plain = stagegate()
        .args(["check", BETA, "--as-of", AS_OF])
        .env_remove("NO_COLOR")
        .output()
        .expect("run");
    assert!(
        !String::from_utf8_lossy(&plain.stdout).contains('\u{1b}'),
        "piped output has no escapes"
    );
    let forced = stagegate()
        .args(["check", BETA, "--as-of", AS_OF])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&forced.stdout).contains("\u{1b}["),
        "forced colour has escapes"
    );
    let no_color = stagegate()
        .args(["check", BETA, "--as-of", AS_OF])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    assert!(
        !String::from_utf8_lossy(&no_color.stdout).contains('\u{1b}'),
        "NO_COLOR wins"
    );
}

#[test]
fn verbose_lists_passing_and_skipped_rules() {
    let out = run(&[
        "check",
        SHOP,
        "--env",
        "staging",
        "--verbose",
        "--as-of",
        AS_OF,
    ]);
    assert!(out.stdout.contains("pass   SG-INFRA-INSTANCE"));
    assert!(out.stdout.contains("skip   SG-BACKUP-REQUIRED"));
}

#[test]
fn env_filter_limits_the_report() {
    let (code, doc) = json(&[
        "check", SHOP, "--env", "staging", "--format", "json", "--as-of", AS_OF,
    ]);
    assert_eq!(code, 0);
    assert_eq!(doc["environments"].as_array().expect("envs").len(), 1);
    assert_eq!(doc["environments"][0]["name"], "staging");
}

#[test]
fn check_reads_stagegate_toml_by_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::copy(root().join(BETA), dir.path().join("stagegate.toml")).expect("copy");
    fs::create_dir(dir.path().join("runbooks")).expect("mkdir");
    for rb in ["security-breach.md", "unavailability.md"] {
        fs::copy(
            root().join("examples/startup-beta/runbooks").join(rb),
            dir.path().join("runbooks").join(rb),
        )
        .expect("copy");
    }
    let out = stagegate()
        .current_dir(dir.path())
        .args(["check", "--as-of", AS_OF])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// --- plan -------------------------------------------------------------------

#[test]
fn plan_groups_changes_by_area() {
    let out = run(&[
        "plan",
        "pilot",
        "--to",
        "production",
        HEALTH,
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.code, 1);
    let headings: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .collect();
    assert!(
        headings[0].starts_with(
            "Plan: promote pilot from soft launch to production · CareNote · as of 2026-11-26, generated "
        ),
        "{}",
        headings[0]
    );
    assert_eq!(
        &headings[2..8],
        [
            "Infrastructure",
            "Backup",
            "Monitoring",
            "Processes and staff",
            "Security",
            "Compliance"
        ]
    );
    assert!(
        out.stdout
            .contains("(recommended in soft launch, required now)")
    );
}

#[test]
fn plan_defaults_to_the_next_mode() {
    let (code, doc) = json(&[
        "plan", "staging", BETA, "--format", "json", "--as-of", AS_OF,
    ]);
    assert_eq!(code, 1);
    assert_eq!(doc["plan"]["to"], "soft-launch");
    assert_eq!(doc["environments"][0]["mode"], "soft-launch");
}

#[test]
fn plan_of_production_needs_a_target() {
    let out = run(&["plan", "production", SHOP]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("already in production"),
        "{}",
        out.stderr
    );
    // Evaluating production as staging is allowed; its public audience is
    // exactly what staging forbids.
    let out = run(&[
        "plan",
        "production",
        "--to",
        "staging",
        SHOP,
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("SG-ENV-STAGING-INTERNAL"));
}

#[test]
fn plan_ready_exits_zero() {
    let out = run(&["plan", "staging", "--to", "staging", SHOP, "--as-of", AS_OF]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Nothing must change"));
}

// --- invalid input: exit 2 --------------------------------------------------

#[test]
fn invalid_spec_exits_2_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("stagegate.toml");
    fs::write(&spec, "[product]\nname = \"x\"\n\n[environments.prod]\nmode = \"production\"\naudiance = \"public\"\n").expect("write");
    let out = stagegate()
        .current_dir(dir.path())
        .args(["check"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        stderr.contains("error: unknown key `audiance` in environment"),
        "{stderr}"
    );
    assert!(stderr.contains("┌─ stagegate.toml:6:1"), "{stderr}");
    assert!(stderr.contains("6 │ audiance = \"public\""), "{stderr}");
    assert!(stderr.contains("^^^^^^^^ not a known key here"), "{stderr}");
    assert!(stderr.contains("= did you mean `audience`?"), "{stderr}");
    assert!(
        stderr.contains("stagegate.toml has 1 problem; nothing was checked"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_spec_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = stagegate()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read spec stagegate.toml"),
        "{stderr}"
    );
    assert!(stderr.contains("stagegate init"), "{stderr}");
}

#[test]
fn bad_command_lines_exit_2() {
    for args in [
        vec!["check", SHOP, "--as-of", "2026-13-01"],
        vec!["check", SHOP, "--format", "yaml"],
        vec!["plan", "pilot", "--to", "prod", HEALTH],
        vec!["frobnicate"],
        vec!["check", SHOP, "--env", "prodution"],
        vec!["plan", "nowhere", SHOP],
        vec!["rules", "explain", "SG-NOPE"],
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    let out = run(&["check", SHOP, "--env", "prodution"]);
    assert!(
        out.stderr.contains("did you mean `production`?"),
        "{}",
        out.stderr
    );
    let out = run(&["plan", "pilot", "--to", "prod", HEALTH]);
    assert!(
        out.stderr
            .contains("expected one of development, staging, soft-launch, production"),
        "{}",
        out.stderr
    );
}

#[test]
fn unset_variable_exits_2_but_secrets_are_not_needed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("s.toml");
    fs::write(
        &spec,
        "[product]\nname = \"${STAGEGATE_TEST_UNSET}\"\n[environments.e]\nmode = \"development\"\n",
    )
    .expect("write");
    let out = run(&["check", spec.to_str().expect("path")]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("environment variable `STAGEGATE_TEST_UNSET` is not set"),
        "{}",
        out.stderr
    );
    // The shop's notifier and probe secrets are not set here, and need not be.
    assert_eq!(run(&["check", SHOP, "--as-of", AS_OF]).code, 0);
}

// --- rules, schema, init, completions --------------------------------------

#[test]
fn rules_list_and_explain() {
    let out = run(&["rules", "list"]);
    assert_eq!(out.code, 0);
    for rule in stagegate_rules::catalogue() {
        assert!(out.stdout.contains(rule.id), "{}", rule.id);
    }
    assert_eq!(run(&["rules"]).stdout, out.stdout);
    let out = run(&["rules", "explain", "SG-BACKUP-OFFSITE"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("A dedicated solution or server located in a different physical location than the production environment for safety concerns."));
    assert!(out.stdout.contains("How to fix"));
    let out = run(&["rules", "explain", "sg-backup-offsite", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(doc["id"], "SG-BACKUP-OFFSITE");
    assert_eq!(doc["applies"]["production"], "required");
    let out = run(&["rules", "explain", "SG-BACKUP-OFSITE"]);
    assert!(
        out.stderr.contains("did you mean `SG-BACKUP-OFFSITE`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn rules_markdown_matches_docs() {
    let out = run(&["rules", "list", "--format", "markdown"]);
    let docs = fs::read_to_string(root().join("docs/rules.md")).expect("docs/rules.md");
    assert_eq!(
        out.stdout, docs,
        "docs/rules.md is stale: regenerate with `stagegate rules list --format markdown > docs/rules.md`"
    );
}

#[test]
fn schema_is_valid_and_accepts_every_example() {
    let out = run(&["schema"]);
    assert_eq!(out.code, 0);
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("`stagegate schema` is not a valid JSON Schema: {e}");
    }
    let validator = jsonschema::validator_for(&schema).expect("compile");
    let init = run(&["init", "--output", "-"]).stdout;
    for (name, text) in [
        ("shop", fs::read_to_string(root().join(SHOP)).expect("read")),
        ("beta", fs::read_to_string(root().join(BETA)).expect("read")),
        (
            "health",
            fs::read_to_string(root().join(HEALTH)).expect("read"),
        ),
        ("init", init),
    ] {
        let doc = toml_to_json(&text);
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
    // And it rejects what the loader rejects.
    let bad =
        toml_to_json("[product]\nname = \"x\"\n[environments.e]\nmode = \"live\"\nservrs = []\n");
    assert!(!validator.is_valid(&bad));
    let http_without_url = toml_to_json(
        "[product]\nname = \"x\"\n[environments.e]\nmode = \"staging\"\n[[environments.e.monitoring.checks]]\nname = \"c\"\nkind = \"http\"\ntoken = \"t\"\n",
    );
    assert!(!validator.is_valid(&http_without_url));
}

#[test]
fn init_writes_a_starter_spec_that_checks_without_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = stagegate()
        .current_dir(dir.path())
        .args(["init", "--name", "Widget \"Pro\""])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = fs::read_to_string(dir.path().join("stagegate.toml")).expect("written");
    assert!(text.contains("name = \"Widget \\\"Pro\\\"\""));
    assert!(text.contains("[environments.staging]") && text.contains("[environments.production]"));
    // Valid: no spec error. Staging is ready; production lists its to-do.
    let out = stagegate()
        .current_dir(dir.path())
        .args(["check", "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["environments"][0]["verdict"], "ready");
    assert_eq!(doc["environments"][1]["verdict"], "blocked");
    let out = stagegate()
        .current_dir(dir.path())
        .args(["check", "--env", "staging"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    // Never overwrites without --force.
    let again = stagegate()
        .current_dir(dir.path())
        .arg("init")
        .output()
        .expect("run");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists; pass --force"));
    let forced = stagegate()
        .current_dir(dir.path())
        .args(["init", "--force"])
        .output()
        .expect("run");
    assert_eq!(forced.status.code(), Some(0));
}

#[test]
fn completions_for_common_shells() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}");
        assert!(out.stdout.contains("stagegate"), "{shell}");
        assert!(out.stdout.contains("as-of"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"]).code, 2);
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // Enough environments that the report outgrows the pipe's buffer, so the
    // writer really meets a closed pipe.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec = String::from("[product]\nname = \"big\"\n");
    for i in 0..2000 {
        spec.push_str(&format!(
            "[environments.env-{i}]\nmode = \"staging\"\naudience = \"public\"\n"
        ));
    }
    fs::write(dir.path().join("stagegate.toml"), spec).expect("write");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .current_dir(dir.path())
        .args(["check"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).expect("read");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sarif_uris_are_relative_to_the_working_directory() {
    let absolute = root().join(SHOP);
    let out = run(&[
        "check",
        absolute.to_str().expect("path"),
        "--format",
        "sarif",
        "--as-of",
        "2026-12-20",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(doc["runs"][0]["artifacts"][0]["location"]["uri"], SHOP);
    // Outside the working directory only an absolute file URI is valid.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = stagegate()
        .current_dir(dir.path())
        .args([
            "check",
            absolute.to_str().expect("path"),
            "--format",
            "sarif",
            "--as-of",
            "2026-12-20",
        ])
        .output()
        .expect("run");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let uri = doc["runs"][0]["artifacts"][0]["location"]["uri"]
        .as_str()
        .expect("uri");
    assert_eq!(uri, format!("file://{}", absolute.display()));
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "SG-SEC-PENTEST");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["snippet"]["text"],
        "open_findings = { critical = 0, high = 1, medium = 3, low = 5 }"
    );
}
