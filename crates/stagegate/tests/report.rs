//! `stagegate report --framework`: the contract's JSON shape, statuses that
//! never claim more than the evidence shows, attestations, and every format
//! of every framework.

mod common;

use common::*;

fn control<'a>(doc: &'a serde_json::Value, env: usize, id: &str) -> &'a serde_json::Value {
    doc["environments"][env]["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {id}"))
}

#[test]
fn pci_report_has_the_contract_shape_and_follows_the_waiver() {
    let (code, doc) = json(&[
        "report",
        "--framework",
        "pci-dss",
        SHOP,
        "--env",
        "production",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(code, 0, "nothing is not-met while the pentest waiver runs");
    assert_eq!(doc["framework"], "pci-dss");
    assert_eq!(doc["version"], "4.0.1");
    assert_eq!(doc["declared"], true);
    let envs = doc["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["name"], "production");
    let c = control(&doc, 0, "11.4.3");
    assert_eq!(c["status"], "waived");
    assert_eq!(
        c["rules"],
        serde_json::json!(["SG-PCI-PENTEST-EXTERNAL", "SG-SEC-PENTEST"])
    );
    assert!(
        c["title"]
            .as_str()
            .expect("title")
            .starts_with("External penetration testing")
    );
    let waiver = &c["evidence"][1]["waiver"];
    assert_eq!(waiver["approved_by"], "cto@acme.example");
    assert_eq!(waiver["expires"], "2026-12-15");
    // The internal pentest rests on its report, read and hashed; its open
    // high finding is the one the waiver accepts.
    let internal = control(&doc, 0, "11.4.2");
    assert_eq!(internal["status"], "waived", "{internal}");
    let tested = internal["evidence"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["rule"] == "SG-PCI-PENTEST-INTERNAL"))
        .expect("SG-PCI-PENTEST-INTERNAL");
    assert_eq!(tested["basis"], "document", "{tested}");
    // Log retention is only written in the spec: part of 10.5.1, which
    // needs the logs themselves to be shown.
    let retention = control(&doc, 0, "10.5.1");
    assert_eq!(retention["status"], "manual", "{retention}");
    assert_eq!(retention["basis"], "none");
    // Nothing evidences a security awareness programme: never shown as met.
    let awareness = control(&doc, 0, "12.6.1");
    assert_eq!(awareness["status"], "manual");
    assert_eq!(awareness["rules"], serde_json::json!([]));
    // The example attests its written security policy.
    let policy = control(&doc, 0, "12.1.1");
    assert_eq!(policy["status"], "met");
    assert_eq!(
        policy["attestation"]["evidence"],
        "compliance/information-security-policy.md"
    );
    let s = &envs[0]["summary"];
    let total = ["met", "declared", "not_met", "waived", "manual"]
        .iter()
        .map(|k| s[k].as_u64().expect("count"))
        .sum::<u64>();
    assert_eq!(
        total as usize,
        envs[0]["controls"].as_array().expect("controls").len()
    );

    // The day after the waiver expires, the control is not met and the
    // report fails the pipeline.
    let (code, doc) = json(&[
        "report",
        "--framework",
        "pci-dss",
        SHOP,
        "--env",
        "production",
        "--format",
        "json",
        "--as-of",
        "2026-12-16",
    ]);
    assert_eq!(code, 1);
    // An open high finding keeps both tests from being shown met.
    for id in ["11.4.2", "11.4.3"] {
        let c = control(&doc, 0, id);
        assert_eq!(c["status"], "not-met", "{c}");
    }
    let c = control(&doc, 0, "11.4.3");
    assert_eq!(c["status"], "not-met");
    assert!(
        c["reason"]
            .as_str()
            .expect("reason")
            .contains("SG-SEC-PENTEST"),
        "{c}"
    );
}

#[test]
fn check_findings_name_the_controls_they_evidence() {
    let (_, doc) = json(&[
        "check",
        SHOP,
        "--env",
        "production",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    let f = doc["environments"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "SG-PCI-PENTEST-EXTERNAL")
        .expect("finding");
    assert!(
        f["controls"].as_array().expect("controls").contains(
            &serde_json::json!({ "framework": "pci-dss", "id": "11.4.3", "strength": "full" })
        ),
        "{f}"
    );
    // HIPAA is not declared by the shop: its controls are not named.
    let backup = doc["environments"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "SG-BACKUP-REQUIRED")
        .expect("finding");
    assert!(backup.get("controls").is_none_or(|c| {
        c.as_array()
            .expect("array")
            .iter()
            .all(|c| c["framework"] != "hipaa")
    }));
    let out = run(&[
        "check",
        SHOP,
        "--env",
        "production",
        "--as-of",
        "2026-12-20",
    ]);
    assert!(
        out.stdout
            .contains("controls: GDPR Art. 32(1)(d); PCI DSS 11.4.1, 11.4.2, 11.4.3, 11.4.4"),
        "{}",
        out.stdout
    );
}

/// A copy of the shop example in a temporary folder, with `extra` appended.
fn shop_with(extra: &str) -> tempfile::TempDir {
    let dir = copy_example("ecommerce-shop");
    let spec = dir.path().join("stagegate.toml");
    let text = std::fs::read_to_string(&spec).expect("spec");
    std::fs::write(&spec, format!("{text}\n{extra}")).expect("write");
    dir
}

const ATTESTATION: &str = r#"
[[attestations]]
framework = "pci-dss"
control = "12.6.1"
environment = "production"
by = "ciso@acme.example"
date = 2026-10-01
evidence = "compliance/awareness-programme.pdf"
valid_until = 2027-09-30
note = "Policy v3, approved by the board"
"#;

#[test]
fn attestations_count_only_while_valid_and_evidenced() {
    let dir = shop_with(ATTESTATION);
    let spec = dir.path().join("stagegate.toml");
    let spec = spec.to_str().expect("path");
    let report = |as_of: &str| {
        let (_, doc) = json(&[
            "report",
            "--framework",
            "pci-dss",
            spec,
            "--env",
            "production",
            "-f",
            "json",
            "--as-of",
            as_of,
        ]);
        control(&doc, 0, "12.6.1").clone()
    };

    // Declared but the evidence file does not exist: it does not count.
    let c = report(AS_OF);
    assert_eq!(c["status"], "manual");
    assert_eq!(c["attestation"]["counts"], false);
    assert!(
        c["reason"]
            .as_str()
            .expect("reason")
            .contains("does not exist"),
        "{c}"
    );

    std::fs::create_dir_all(dir.path().join("compliance")).expect("mkdir");
    std::fs::write(
        dir.path().join("compliance/awareness-programme.pdf"),
        "%PDF-1.7 policy",
    )
    .expect("evidence");
    let c = report(AS_OF);
    assert_eq!(c["status"], "met");
    assert_eq!(c["attestation"]["by"], "ciso@acme.example");
    assert_eq!(c["attestation"]["state"], "valid");
    assert!(
        c["reason"]
            .as_str()
            .expect("reason")
            .contains("attested by ciso@acme.example")
    );

    // Its last day still counts; the day after, like an expired waiver, not.
    assert_eq!(report("2027-09-30")["status"], "met");
    let c = report("2027-10-01");
    assert_eq!(c["status"], "manual");
    assert!(
        c["reason"]
            .as_str()
            .expect("reason")
            .contains("expired on 2027-09-30"),
        "{c}"
    );
    // Before it was made it does not count either.
    assert_eq!(report("2026-09-30")["status"], "manual");

    // The text report shows who attested.
    let out = run(&[
        "report",
        "--framework",
        "pci-dss",
        spec,
        "--env",
        "production",
        "--as-of",
        AS_OF,
    ]);
    assert!(
        out.stdout
            .contains("attestation: ciso@acme.example on 2026-10-01, valid until 2027-09-30"),
        "{}",
        out.stdout
    );
}

#[test]
fn attestations_must_name_a_declared_framework_and_a_real_control() {
    let dir = shop_with(&ATTESTATION.replace("\"12.6.1\"", "\"12.6.9\""));
    let out = run(&[
        "check",
        dir.path().join("stagegate.toml").to_str().expect("path"),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("`12.6.9` is not a pci-dss control"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `12.6.1`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("stagegate.toml:"), "{}", out.stderr);

    let dir = shop_with(&ATTESTATION.replace("\"pci-dss\"", "\"hipaa\""));
    let out = run(&[
        "check",
        dir.path().join("stagegate.toml").to_str().expect("path"),
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("attestation for `hipaa`, which the product does not declare"),
        "{}",
        out.stderr
    );

    let dir =
        shop_with(&ATTESTATION.replace("valid_until = 2027-09-30", "valid_until = 2026-01-01"));
    let out = run(&[
        "check",
        dir.path().join("stagegate.toml").to_str().expect("path"),
    ]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("attestation expires before it was made"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_framework_renders_in_every_format() {
    let frameworks = [
        "gdpr",
        "ccpa",
        "hipaa",
        "pci-dss",
        "fisma",
        "nist-800-171",
        "iso-27001",
        "wcag",
        "section-508",
    ];
    for fw in frameworks {
        for format in ["text", "json", "markdown", "csv", "html"] {
            let out = run(&[
                "report",
                "--framework",
                fw,
                SHOP,
                "--format",
                format,
                "--as-of",
                AS_OF,
            ]);
            assert!(
                out.code == 0 || out.code == 1,
                "{fw} {format}: {}",
                out.stderr
            );
            assert!(!out.stdout.is_empty(), "{fw} {format}");
            match format {
                "json" => {
                    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
                    assert_eq!(doc["framework"], fw);
                    assert_eq!(doc["environments"].as_array().expect("envs").len(), 2);
                }
                "csv" => {
                    let lines = out.stdout.split("\r\n").filter(|l| !l.is_empty()).count();
                    let (_, doc) = json(&[
                        "report",
                        "--framework",
                        fw,
                        SHOP,
                        "-f",
                        "json",
                        "--as-of",
                        AS_OF,
                    ]);
                    let controls: usize = doc["environments"]
                        .as_array()
                        .expect("envs")
                        .iter()
                        .map(|e| e["controls"].as_array().expect("controls").len())
                        .sum();
                    assert_eq!(
                        lines,
                        controls + 1,
                        "{fw}: one row per environment and control, plus the header"
                    );
                }
                "html" => {
                    assert!(out.stdout.starts_with("<!doctype html>"));
                    assert!(out.stdout.trim_end().ends_with("</html>"));
                    assert!(
                        !out.stdout.contains("<script"),
                        "self-contained, no scripts"
                    );
                    assert!(!out.stdout.contains("src="), "no external resources");
                }
                "markdown" => assert!(out.stdout.contains(
                    "| Environment | Mode | Met | Declared only | Not met | Waived | Manual |"
                )),
                _ => assert!(out.stdout.contains("controls")),
            }
        }
    }
    // A framework the product does not declare is reported with a warning.
    let (_, doc) = json(&[
        "report",
        "--framework",
        "hipaa",
        SHOP,
        "-f",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(doc["declared"], false);
    let out = run(&["report", "--framework", "hipaa", SHOP, "--as-of", AS_OF]);
    assert!(
        out.stdout
            .contains("note: `hipaa` is not in product.frameworks"),
        "{}",
        out.stdout
    );
    // A typo in the framework is a usage error with a suggestion.
    let out = run(&["report", "--framework", "pci", SHOP]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown framework `pci`"),
        "{}",
        out.stderr
    );
}

#[test]
fn html_report_is_written_to_a_file_and_escapes_the_spec() {
    let dir = shop_with(&ATTESTATION.replace(
        "Policy v3, approved by the board",
        "<script>alert(1)</script> & more",
    ));
    std::fs::create_dir_all(dir.path().join("compliance")).expect("mkdir");
    std::fs::write(
        dir.path().join("compliance/awareness-programme.pdf"),
        "%PDF",
    )
    .expect("evidence");
    let html = dir.path().join("report.html");
    let out = run(&[
        "report",
        "--framework",
        "pci-dss",
        dir.path().join("stagegate.toml").to_str().expect("path"),
        "-f",
        "html",
        "-o",
        html.to_str().expect("path"),
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&html).expect("html");
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
    assert!(!text.contains("<script>"));
    assert!(text.contains("<span class=\"badge met\">met</span>"));
    // The attestation with its place in the spec, scope and the evidence's hash.
    let attestation = text
        .split("<div class=\"muted\">Attestation (")
        .find(|a| a.contains("awareness-programme"))
        .expect("the attestation");
    assert!(
        attestation.contains("stagegate.toml:")
            && attestation.contains(
                "covers environment production): ciso@acme.example on 2026-10-01, valid until 2027-09-30, evidence <code>compliance/awareness-programme.pdf</code>, sha256 of the file <code>"
            )
            && attestation.contains("it counts: valid on the as-of date"),
        "{attestation}"
    );
    let sha = stagegate_spec::sha256_hex(b"%PDF");
    assert!(attestation.contains(&sha), "{sha}");
    // What was assessed, in full, and how to read it.
    let spec_sha = stagegate_spec::sha256_hex(
        &std::fs::read(dir.path().join("stagegate.toml")).expect("spec"),
    );
    assert!(text.contains(&format!("sha256 <code>{spec_sha}</code>")));
    assert!(text.contains("no live probes ran"));
    assert!(text.contains("<summary>How to read this report</summary>"));
    // Each control row is headed by its id, with status and basis apart.
    assert!(text.contains("<th scope=\"row\" class=\"id\">12.6.1</th>"));
    assert!(text.contains("<th scope=\"col\">Basis</th>"));
}

/// The CSV works as a Statement of Applicability: each row says how
/// strongly a rule evidences the control, when the newest evidence was
/// seen and where in the spec the status comes from; and no cell can run
/// as a formula in the auditor's spreadsheet.
#[test]
fn csv_rows_carry_strength_time_and_place_and_run_no_formulas() {
    let dir = shop_with(
        "[[attestations]]\nframework = \"pci-dss\"\ncontrol = \"12.6.1\"\nby = \"=HYPERLINK(\\\"http://evil.example\\\",\\\"ok\\\")\"\ndate = 2026-09-24\nevidence = \"compliance/information-security-policy.md\"\nvalid_until = 2027-09-23\n",
    );
    let spec = dir.path().join("stagegate.toml");
    let out = run(&[
        "report",
        "--framework",
        "pci-dss",
        spec.to_str().expect("path"),
        "--env",
        "production",
        "-f",
        "csv",
        "--as-of",
        AS_OF,
    ]);
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    let mut lines = out.stdout.split("\r\n");
    let header = lines.next().expect("header");
    assert!(
        header.ends_with(",basis,strength,evidence_at,location,applicability,justification"),
        "{header}"
    );
    let row = |id: &str| -> String {
        out.stdout
            .split("\r\n")
            .find(|l| l.split(',').nth(4) == Some(id))
            .unwrap_or_else(|| panic!("no row {id}"))
            .to_owned()
    };
    // Waived: the pentest rules map fully, and the waived finding has a place.
    let pentest = row("11.4.2");
    assert!(pentest.contains(",waived,"), "{pentest}");
    assert!(pentest.contains(",full,"), "{pentest}");
    assert!(pentest.contains("stagegate.toml:"), "{pentest}");
    // Attested: located at the attestation; its `by` neutralised.
    let attested = row("12.6.1");
    assert!(attested.contains(",met,"), "{attested}");
    assert!(
        attested.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"ok\"\")\""),
        "{attested}"
    );
    assert!(!attested.contains(",=HYPERLINK"), "{attested}");
}

/// A Statement of Applicability: controls out of scope are
/// `not-applicable`, each with its justification and approver, counted on
/// their own; a merchant is not assessed on PCI DSS's requirements for
/// service providers only; an exclusion without a reason is refused.
#[test]
fn controls_out_of_scope_are_not_applicable_with_their_justification() {
    let report = |dir: &tempfile::TempDir| {
        json(&[
            "report",
            "--framework",
            "pci-dss",
            dir.path().join("stagegate.toml").to_str().expect("path"),
            "--env",
            "production",
            "-f",
            "json",
            "--as-of",
            AS_OF,
        ])
        .1
    };
    let before = report(&shop_with(""));
    assert_eq!(before["environments"][0]["summary"]["not_applicable"], 0);

    let dir = shop_with(
        "[[applicability]]\nframework = \"pci-dss\"\ncontrol = \"9.4.1\"\nreason = \"No cardholder data on media: card data never leaves the PSP\"\napproved_by = \"qsa@auditor.example\"\n",
    );
    // `pci_role` belongs in [product], which the example opens first.
    let spec = dir.path().join("stagegate.toml");
    let text = std::fs::read_to_string(&spec).expect("spec");
    std::fs::write(
        &spec,
        text.replacen("[product]\n", "[product]\npci_role = \"merchant\"\n", 1),
    )
    .expect("write");
    let doc = report(&dir);
    let summary = &doc["environments"][0]["summary"];
    assert_eq!(
        summary["not_applicable"], 17,
        "16 for providers only, and 9.4.1"
    );
    let media = control(&doc, 0, "9.4.1");
    assert_eq!(media["status"], "not-applicable");
    assert_eq!(
        media["reason"],
        "not applicable: No cardholder data on media: card data never leaves the PSP (approved by qsa@auditor.example)"
    );
    let providers = control(&doc, 0, "12.9.1");
    assert_eq!(providers["status"], "not-applicable");
    assert!(
        providers["reason"]
            .as_str()
            .is_some_and(|r| r.contains("the product is a merchant")),
        "{providers}"
    );
    let text = run(&[
        "report",
        "--framework",
        "pci-dss",
        spec.to_str().expect("path"),
        "--env",
        "production",
        "--as-of",
        AS_OF,
    ]);
    assert!(
        text.stdout.contains(", 17 not applicable of 250 controls"),
        "{}",
        text.stdout
    );

    // What an exclusion must say, and about what.
    for (entry, error) in [
        (
            "[[applicability]]\nframework = \"pci-dss\"\ncontrol = \"9.4.1\"\nreason = \" \"\napproved_by = \"qsa@auditor.example\"\n",
            "`reason` is empty",
        ),
        (
            "[[applicability]]\nframework = \"pci-dss\"\ncontrol = \"9.4.1\"\nreason = \"x\"\n",
            "approved_by",
        ),
        (
            "[[applicability]]\nframework = \"pci-dss\"\ncontrol = \"99.9\"\nreason = \"x\"\napproved_by = \"y\"\n",
            "`99.9` is not a pci-dss control",
        ),
        (
            "[[applicability]]\nframework = \"hipaa\"\ncontrol = \"164.308(b)(3)\"\nreason = \"x\"\napproved_by = \"y\"\n",
            "applicability for `hipaa`, which the product does not declare",
        ),
    ] {
        let dir = shop_with(entry);
        let out = run(&[
            "check",
            dir.path().join("stagegate.toml").to_str().expect("path"),
        ]);
        assert_eq!(out.code, 2, "{entry}: {}", out.stderr);
        assert!(out.stderr.contains(error), "{error} not in {}", out.stderr);
    }
}

fn is_uuid5(u: &serde_json::Value) -> bool {
    let u = u.as_str().unwrap_or_default();
    let groups: Vec<&str> = u.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && u.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && groups[2].starts_with('5')
        && groups[3].starts_with(['8', '9', 'a', 'b'])
}

fn prop<'a>(item: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    item["props"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)?["value"]
        .as_str()
}

/// OSCAL assessment results name every control of every environment once,
/// in OSCAL's id form with the published id kept, say "satisfied" only for
/// `met`, and every observation a finding cites is in the document; the
/// plan of action holds exactly the controls not met, declared only or
/// waived, with the waiver's expiry as milestone. UUIDs are name-based, so
/// the same report made twice names the same things the same way.
#[test]
fn oscal_documents_name_every_control_and_resolve_their_references() {
    let dir = shop_with("");
    let spec = dir.path().join("stagegate.toml");
    let spec = spec.to_str().expect("path");
    let report = |format: &str| {
        json(&[
            "report",
            "--framework",
            "pci-dss",
            spec,
            "-f",
            format,
            "--as-of",
            AS_OF,
        ])
        .1
    };
    let plain = report("json");
    let ar = report("oscal-ar");
    let ar = &ar["assessment-results"];
    assert!(is_uuid5(&ar["uuid"]));
    assert_eq!(ar["metadata"]["oscal-version"], "1.1.3");
    let results = ar["results"].as_array().expect("results");
    assert_eq!(
        results.len(),
        plain["environments"].as_array().expect("envs").len()
    );
    for (i, result) in results.iter().enumerate() {
        let env = &plain["environments"][i];
        assert_eq!(prop(result, "environment"), env["name"].as_str());
        let controls = env["controls"].as_array().expect("controls");
        let findings = result["findings"].as_array().expect("findings");
        assert_eq!(findings.len(), controls.len());
        let reviewed = result["reviewed-controls"]["control-selections"][0]["include-controls"]
            .as_array()
            .expect("include-controls");
        assert_eq!(reviewed.len(), controls.len());
        let observations: std::collections::HashSet<&str> = result["observations"]
            .as_array()
            .map(|o| o.iter().filter_map(|o| o["uuid"].as_str()).collect())
            .unwrap_or_default();
        let mut targets = std::collections::HashSet::new();
        for (f, c) in findings.iter().zip(controls) {
            assert!(is_uuid5(&f["uuid"]));
            let id = c["id"].as_str().expect("id");
            assert_eq!(prop(f, "published-id"), Some(id));
            assert_eq!(prop(f, "status"), c["status"].as_str());
            let target = &f["target"];
            assert_eq!(target["target-id"], format!("pci-dss-{id}_obj"));
            assert!(targets.insert(target["target-id"].clone()), "{id} twice");
            let state = target["status"]["state"].as_str();
            match c["status"].as_str().expect("status") {
                "met" => assert_eq!(state, Some("satisfied")),
                "manual" => assert_eq!(state, None, "{id}: a manual control is not determined"),
                "not-applicable" => {
                    assert_eq!(target["implementation-status"]["state"], "not-applicable")
                }
                _ => assert_eq!(state, Some("not-satisfied"), "{id}"),
            }
            for o in f["related-observations"].as_array().into_iter().flatten() {
                let uuid = o["observation-uuid"].as_str().expect("uuid");
                assert!(
                    observations.contains(uuid),
                    "{id} cites a missing observation"
                );
            }
        }
    }
    // The met control (12.1.1, attested) rests on an observation of the
    // attestation that carries the evidence file's hash.
    let prod = &results[1];
    let met = prod["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["target"]["status"]["state"] == "satisfied")
        .expect("a satisfied finding");
    let cited = met["related-observations"][0]["observation-uuid"].clone();
    let observation = prod["observations"]
        .as_array()
        .expect("observations")
        .iter()
        .find(|o| o["uuid"] == cited)
        .expect("cited observation");
    assert!(prop(&observation["relevant-evidence"][0], "sha256").is_some_and(|h| h.len() == 64));

    let again = report("oscal-ar");
    assert_eq!(again["assessment-results"]["uuid"], ar["uuid"]);
    assert_eq!(
        again["assessment-results"]["results"][1]["findings"][10]["uuid"],
        results[1]["findings"][10]["uuid"]
    );

    let poam = report("oscal-poam");
    let poam = &poam["plan-of-action-and-milestones"];
    let items = poam["poam-items"].as_array().expect("items");
    let planned: usize = plain["environments"]
        .as_array()
        .expect("envs")
        .iter()
        .map(|e| {
            let s = &e["summary"];
            s["not_met"].as_u64().unwrap_or(0)
                + s["declared"].as_u64().unwrap_or(0)
                + s["waived"].as_u64().unwrap_or(0)
        })
        .sum::<u64>() as usize;
    assert!(planned > 0);
    assert_eq!(items.len(), planned);
    let risks = poam["risks"].as_array().expect("risks");
    for item in items {
        let risk = item["related-risks"][0]["risk-uuid"].clone();
        assert!(risks.iter().any(|r| r["uuid"] == risk), "dangling risk");
    }
    // The shop's pentest is waived until 2026-12-15: its risk is an
    // approved deviation whose milestone is the waiver's expiry.
    let waived = risks
        .iter()
        .find(|r| {
            prop(r, "published-id") == Some("11.4.3")
                && prop(r, "environment") == Some("production")
        })
        .expect("11.4.3 in production");
    assert_eq!(waived["status"], "deviation-approved");
    assert_eq!(waived["deadline"], "2026-12-15T00:00:00Z");
    assert_eq!(
        waived["remediations"][0]["tasks"][0]["timing"]["on-date"]["date"],
        "2026-12-15T00:00:00Z"
    );
}

/// An OSCAL plan of action must hold at least one item: with nothing to
/// plan, none is written, and stderr says why.
#[test]
fn an_empty_plan_of_action_is_not_written() {
    let dir = copy_example("startup-beta");
    let poam = dir.path().join("poam.json");
    let out = run(&[
        "report",
        "--framework",
        "wcag",
        dir.path().join("stagegate.toml").to_str().expect("path"),
        "-f",
        "oscal-poam",
        "-o",
        poam.to_str().expect("path"),
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("no POA&M item"), "{}", out.stderr);
    assert!(!poam.exists());
}

const FRAMEWORKS: [&str; 9] = [
    "gdpr",
    "ccpa",
    "hipaa",
    "pci-dss",
    "fisma",
    "nist-800-171",
    "iso-27001",
    "wcag",
    "section-508",
];

/// The statuses of every control of every environment, for each pack.
fn statuses(spec: &std::path::Path) -> Vec<(&'static str, String, String, String)> {
    let mut all = Vec::new();
    for framework in FRAMEWORKS {
        let (code, doc) = json(&[
            "report",
            "--framework",
            framework,
            spec.to_str().expect("path"),
            "-f",
            "json",
            "--as-of",
            AS_OF,
        ]);
        assert!(code <= 1, "{framework}: exit {code}");
        for env in doc["environments"].as_array().expect("environments") {
            for c in env["controls"].as_array().expect("controls") {
                all.push((
                    framework,
                    c["id"].as_str().unwrap_or_default().to_owned(),
                    c["status"].as_str().unwrap_or_default().to_owned(),
                    c["basis"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
    }
    all
}

/// A spec that says nothing proves nothing: no control of any pack is met.
#[test]
fn an_empty_spec_meets_no_control_in_any_pack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("stagegate.toml");
    std::fs::write(
        &spec,
        format!(
            "[product]\nname = \"Empty\"\nframeworks = {FRAMEWORKS:?}\n\n[environments.production]\nmode = \"production\"\n"
        ),
    )
    .expect("write");
    let all = statuses(&spec);
    assert!(all.len() > 900, "{} controls", all.len());
    let met: Vec<_> = all.iter().filter(|c| c.2 == "met").collect();
    assert!(met.is_empty(), "met from an empty spec: {met:?}");
}

/// The shop's spec without the documents it cites and without attestations:
/// everything it says is a declaration, so controls are at most
/// `declared`, never `met`, in every pack.
#[test]
fn a_spec_that_only_declares_meets_nothing() {
    let text = std::fs::read_to_string(root().join("examples/ecommerce-shop/stagegate.toml"))
        .expect("spec");
    // Drop the [[attestations]] tables and declare every framework.
    let mut kept = Vec::new();
    let mut in_attestation = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_attestation = line.trim() == "[[attestations]]";
        }
        if in_attestation {
            continue;
        }
        if line.starts_with("frameworks = ") {
            kept.push(format!("frameworks = {FRAMEWORKS:?}"));
        } else {
            kept.push(line.to_owned());
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // Its Rego policies come along: custom rules claim no control unless
    // the spec allows them to.
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).expect("mkdir");
    copy_dir(&root().join("examples/ecommerce-shop/policies"), &policies);
    let spec = dir.path().join("stagegate.toml");
    std::fs::write(&spec, kept.join("\n")).expect("write");
    assert!(!kept.join("\n").contains("attestations"));
    let all = statuses(&spec);
    let met: Vec<_> = all.iter().filter(|c| c.2 == "met").collect();
    assert!(met.is_empty(), "met on declarations alone: {met:?}");
    let declared = all.iter().filter(|c| c.2 == "declared").count();
    assert!(declared > 0, "the declarations show as `declared`");
    assert!(
        all.iter()
            .filter(|c| c.2 == "declared")
            .all(|c| c.3 == "declared")
    );
}

/// The shop, with WCAG in force and a production accessibility audit whose
/// per-criterion results are `name` holding `results`.
fn shop_with_results(name: &str, results: &str) -> tempfile::TempDir {
    let dir = shop_with(&format!(
        "[environments.production.accessibility_audit]\nstandard = \"wcag-2.2-aa\"\ndate = 2026-10-01\nreport = \"compliance/acr-2026-10.pdf\"\nresults = \"compliance/{name}\"\n"
    ));
    let spec = dir.path().join("stagegate.toml");
    let text = std::fs::read_to_string(&spec).expect("spec");
    std::fs::write(
        &spec,
        text.replacen(
            "frameworks = [\"gdpr\", \"pci-dss\"]",
            "frameworks = [\"gdpr\", \"pci-dss\", \"wcag\"]",
            1,
        ),
    )
    .expect("write");
    let compliance = dir.path().join("compliance");
    std::fs::create_dir_all(&compliance).expect("mkdir");
    std::fs::write(
        compliance.join("acr-2026-10.pdf"),
        "%PDF-1.7 conformance report",
    )
    .expect("pdf");
    std::fs::write(compliance.join(name), results).expect("results");
    dir
}

fn wcag_report(dir: &tempfile::TempDir) -> serde_json::Value {
    let spec = dir.path().join("stagegate.toml");
    let (code, doc) = json(&[
        "report",
        "--framework",
        "wcag",
        spec.to_str().expect("path"),
        "--env",
        "production",
        "-f",
        "json",
        "--as-of",
        AS_OF,
    ]);
    assert!(code <= 1, "exit {code}");
    doc
}

fn finding<'a>(doc: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    doc["environments"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no finding {rule}"))
}

fn check_production(dir: &tempfile::TempDir) -> serde_json::Value {
    let spec = dir.path().join("stagegate.toml");
    json(&[
        "check",
        spec.to_str().expect("path"),
        "--env",
        "production",
        "-f",
        "json",
        "--as-of",
        AS_OF,
    ])
    .1
}

/// An auditor's conformance report decides each criterion it names; the
/// ones it leaves out stay manual.
#[test]
fn wcag_criteria_follow_a_conformance_report() {
    let dir = shop_with_results(
        "wcag.csv",
        "criterion,result,note\n1.1.1,Supports,\n1.4.3,Partially Supports,\"footer links at 3.9:1\"\n1.2.1,not-applicable,no audio or video content\n2.4.7,cannot-tell,\n",
    );
    let doc = wcag_report(&dir);
    let c = control(&doc, 0, "1.1.1");
    assert_eq!(
        (&c["status"], &c["basis"]),
        (&"met".into(), &"document".into()),
        "{c}"
    );
    let c = control(&doc, 0, "1.4.3");
    assert_eq!(
        (&c["status"], &c["basis"]),
        (&"not-met".into(), &"document".into())
    );
    assert!(
        c["reason"]
            .as_str()
            .expect("reason")
            .contains("Partially Supports in the conformance report: footer links at 3.9:1"),
        "{c}"
    );
    let c = control(&doc, 0, "1.2.1");
    assert_eq!(c["status"], "not-applicable");
    assert!(
        c["reason"]
            .as_str()
            .expect("reason")
            .contains("no audio or video content")
    );
    let c = control(&doc, 0, "2.4.7");
    assert_eq!(c["status"], "manual");
    assert!(
        c["reason"]
            .as_str()
            .expect("reason")
            .contains("could not tell"),
        "{c}"
    );
    assert_eq!(
        control(&doc, 0, "1.3.1")["status"],
        "manual",
        "not in the report"
    );

    let check = check_production(&dir);
    let f = finding(&check, "SG-A11Y-CRITERIA");
    assert_eq!(f["status"], "fail");
    assert!(
        f["message"]
            .as_str()
            .expect("message")
            .contains("1 criterion fails"),
        "{f}"
    );
    assert!(
        f["message"].as_str().expect("message").ends_with("1.4.3"),
        "{f}"
    );
    // The results stand in for the open-issue count.
    assert_eq!(finding(&check, "SG-A11Y-AUDIT")["status"], "pass");
}

/// axe-core's results fail a criterion, but a passing automated check is
/// never the whole of one.
#[test]
fn wcag_criteria_follow_axe_core_results() {
    let axe = r#"{"testEngine":{"name":"axe-core","version":"4.14.1"},"url":"http://127.0.0.1:8080/","violations":[{"id":"color-contrast","tags":["cat.color","wcag2aa","wcag143"],"nodes":[{},{}]}],"passes":[{"id":"image-alt","tags":["wcag2a","wcag111"],"nodes":[{}]}],"incomplete":[],"inapplicable":[]}"#;
    let dir = shop_with_results("axe.json", axe);
    let doc = wcag_report(&dir);
    let c = control(&doc, 0, "1.4.3");
    assert_eq!(c["status"], "not-met");
    assert!(
        c["reason"]
            .as_str()
            .expect("reason")
            .contains("color-contrast (2 elements) on http://127.0.0.1:8080/"),
        "{c}"
    );
    let c = control(&doc, 0, "1.1.1");
    assert_eq!(c["status"], "manual");
    assert!(
        c["reason"]
            .as_str()
            .expect("reason")
            .contains("automated checks cover part of a criterion"),
        "{c}"
    );
    assert_eq!(
        doc["environments"][0]["summary"]["met"], 0,
        "a tool's pass meets nothing"
    );

    // A results file that does not parse says where.
    let bad = shop_with_results("wcag.csv", "1.1.1,pass\n9.9.9,pass\n");
    let f = finding(&check_production(&bad), "SG-A11Y-CRITERIA").clone();
    assert_eq!(f["status"], "fail");
    assert_eq!(
        f["message"],
        "compliance/wcag.csv: line 2: `9.9.9` is not a WCAG 2.2 level A or AA success criterion"
    );
}
