//! Boundary tests for the framework rules and restore drills: each opt-in on
//! and off, each threshold at and just past its limit.

use stagegate_spec::{Mode, Spec};

use super::tests::{date, edit, present, run, run_with, unix};
use crate::{DrillRecord, FileFacts, FileState, Severity, Status};

const AS_OF: &str = "2026-06-01";

fn with_frameworks(spec: &str, frameworks: &str) -> String {
    spec.replace(
        "frameworks = [\"gdpr\"]",
        &format!("frameworks = [{frameworks}]"),
    )
}

fn facts(f: impl Fn(&mut FileFacts) + 'static) -> impl Fn(&Spec) -> FileFacts {
    move |s| {
        let mut facts = present(s);
        f(&mut facts);
        facts
    }
}

// --- SG-GDPR-BREACH -----------------------------------------------------------

#[test]
fn gdpr_breach_runbook_commits_to_72_hours_in_front_matter() {
    let ready = super::tests::READY;
    assert_eq!(run(ready).status("SG-GDPR-BREACH"), Status::Pass);
    let case = |text: &'static str| {
        run_with(
            ready,
            "production",
            None,
            AS_OF,
            facts(move |f| {
                f.insert_text("rb/security-breach.md", text.to_owned());
            }),
        )
        .get("SG-GDPR-BREACH")
    };
    let f = case("Call the lawyers.");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .contains("says nothing about notifying the supervisory authority within 72 hours")
    );
    assert!(
        case("Inform the Supervisory Authority promptly.")
            .message
            .contains("not the 72-hour deadline")
    );
    assert!(
        case("Notify within 72 hours.")
            .message
            .contains("not the supervisory authority")
    );
    // The wording alone reads the same when it refuses: a warning.
    for wording in [
        "The DPO tells the supervisory authority within 72h.",
        "We will never notify the supervisory authority within 72 hours.",
    ] {
        let f = case(wording);
        assert_eq!(f.status, Status::Warn, "{wording}");
        assert!(f.message.contains("only in its wording"), "{}", f.message);
    }
    // The commitment stated in front matter, and the text saying how.
    let front = |notifies: &str, within: &str, text: &str| -> &'static str {
        Box::leak(
            format!("---\nnotifies: {notifies}\nwithin: {within}\n---\n{text}\n").into_boxed_str(),
        )
    };
    let how = "The DPO tells the supervisory authority through its web form.";
    let f = case(front("[supervisory-authority]", "72h", how));
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    assert_eq!(
        case(front("supervisory-authority, data-subjects", "48h", how)).status,
        Status::Pass
    );
    for (runbook, why) in [
        (
            front("[supervisory-authority]", "73h", how),
            "later than the 72 hours of GDPR Art. 33",
        ),
        (
            front("[data-subjects]", "72h", how),
            "notifies data-subjects, not the supervisory authority",
        ),
        (front("[]", "72h", how), "notifies nobody"),
        (
            front("[supervisory-authority]", "soon", how),
            "`within: soon`",
        ),
        (
            front("[supervisory-authority]", "72h", "Call the lawyers."),
            "its text never says who does it or how",
        ),
        (
            "---\nnotifies: [supervisory-authority]\n---\nx",
            "needs both `notifies` and `within`",
        ),
    ] {
        let f = case(runbook);
        assert_eq!(f.status, Status::Fail, "{runbook}");
        assert!(f.message.contains(why), "{why}: {}", f.message);
    }
    // A line of dashes later in the text is not front matter.
    assert_eq!(
        case("Title\n---\nnotifies: [supervisory-authority]\nwithin: 72h\n---\n").status,
        Status::Fail
    );
    // A file too large (or not UTF-8) to read is not assumed to comply.
    let f = run_with(ready, "production", None, AS_OF, |s: &Spec| {
        let mut f = FileFacts::new();
        for p in FileFacts::referenced_paths(s) {
            f.insert(p, FileState::Present);
        }
        f
    })
    .get("SG-GDPR-BREACH");
    assert!(
        f.message.contains("could not be read as text"),
        "{}",
        f.message
    );
    // Opt-in: without gdpr the rule does not apply.
    let no_gdpr = with_frameworks(ready, "");
    let f = run(&no_gdpr).get("SG-GDPR-BREACH");
    assert_eq!(f.status, Status::Skip);
    assert!(f.message.contains("declares none of gdpr"));
}

// --- SG-PCI-PENTEST-* ---------------------------------------------------------

const PCI_PENTEST: &str = "external = true\ninternal = true\ndate = 2026-01-01";

fn pci(pentest: &str, extra_env: &str) -> String {
    let spec = with_frameworks(super::tests::READY, "\"gdpr\", \"pci-dss\"");
    let spec = spec.replace("external = true\ndate = 2026-01-01", pentest);
    spec.replace(
        "controlled_by = \"client\"\n",
        &format!("controlled_by = \"client\"\n{extra_env}"),
    )
}

#[test]
fn pci_pentests_are_due_every_12_months_and_after_significant_change() {
    let at = |as_of: &str, spec: &str, rule: &str| {
        run_with(spec, "production", None, as_of, present).get(rule)
    };
    let spec = pci(PCI_PENTEST, "");
    for rule in ["SG-PCI-PENTEST-EXTERNAL", "SG-PCI-PENTEST-INTERNAL"] {
        assert_eq!(
            at("2027-01-01", &spec, rule).status,
            Status::Pass,
            "{rule}: 365 days"
        );
        let f = at("2027-01-02", &spec, rule);
        assert_eq!(f.status, Status::Fail, "{rule}: 366 days");
        assert!(f.message.contains("366 days old"));
    }
    // PCI's 12 months hold even when the local policy allows longer.
    let lax = spec.replace(
        "[contacts.ops]",
        "[policy]\npentest_max_age = \"730d\"\n\n[contacts.ops]",
    );
    assert_eq!(
        at("2027-01-02", &lax, "SG-SEC-PENTEST").status,
        Status::Pass
    );
    assert_eq!(
        at("2027-01-02", &lax, "SG-PCI-PENTEST-EXTERNAL").status,
        Status::Fail
    );

    let external_only = pci("external = true\ndate = 2026-01-01", "");
    assert_eq!(
        at(AS_OF, &external_only, "SG-PCI-PENTEST-EXTERNAL").status,
        Status::Pass
    );
    let f = at(AS_OF, &external_only, "SG-PCI-PENTEST-INTERNAL");
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("did not cover the internal network"));

    let changed = pci(PCI_PENTEST, "last_significant_change = 2026-01-02\n");
    let f = at(AS_OF, &changed, "SG-PCI-PENTEST-EXTERNAL");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.contains("changed significantly on 2026-01-02"),
        "{}",
        f.message
    );
    let same_day = pci(PCI_PENTEST, "last_significant_change = 2026-01-01\n");
    assert_eq!(
        at(AS_OF, &same_day, "SG-PCI-PENTEST-EXTERNAL").status,
        Status::Pass
    );

    assert_eq!(
        run(super::tests::READY).status("SG-PCI-PENTEST-INTERNAL"),
        Status::Skip
    );
}

// --- SG-COMP-LOGS and SG-COMP-TRANSIT -----------------------------------------

#[test]
fn logs_are_reviewed_daily_and_kept_a_year_under_pci() {
    let base = pci(PCI_PENTEST, "")
        .replace("metrics = \"http://prometheus:9090\"", "metrics = \"http://prometheus:9090\"\nlogs = \"https://logs\"\nlog_retention = \"365d\"")
        .replace("agreement = \"agreement.md\"", "agreement = \"agreement.md\"\nlog_review = \"1d\"");
    assert_eq!(run(&base).status("SG-COMP-LOGS"), Status::Pass);
    let f = run(&base.replace("log_review = \"1d\"", "log_review = \"25h\"")).get("SG-COMP-LOGS");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.contains("PCI DSS 10.4.1 requires at least daily"),
        "{}",
        f.message
    );
    let f = run(&base.replace("log_retention = \"365d\"", "log_retention = \"364d\""))
        .get("SG-COMP-LOGS");
    assert!(
        f.message
            .contains("PCI DSS 10.5.1 requires at least 365 days"),
        "{}",
        f.message
    );
    let f = run(&base.replace("logs = \"https://logs\"\n", "")).get("SG-COMP-LOGS");
    assert!(f.message.contains("no log platform"), "{}", f.message);
    // ISO 27001 asks for a retention, not a number of days.
    let iso = base
        .replace("\"gdpr\", \"pci-dss\"", "\"iso-27001\"")
        .replace("log_retention = \"365d\"", "log_retention = \"90d\"")
        .replace("log_review = \"1d\"", "log_review = \"7d\"");
    assert_eq!(run(&iso).status("SG-COMP-LOGS"), Status::Pass);
    // gdpr alone does not bring it in.
    assert_eq!(
        run(super::tests::READY).status("SG-COMP-LOGS"),
        Status::Skip
    );
}

#[test]
fn transit_encryption_is_stated_and_no_check_uses_plain_http() {
    assert_eq!(
        run(super::tests::READY).status("SG-COMP-TRANSIT"),
        Status::Pass
    );
    let plain = edit(
        "url = \"https://shop.example.com/healthz\"",
        "url = \"http://shop.example.com/healthz\"",
    );
    let f = run(&plain).get("SG-COMP-TRANSIT");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.contains("check web uses plain http://"),
        "{}",
        f.message
    );
    let unstated = edit("encryption_in_transit = true\n", "");
    assert!(
        run(&unstated)
            .get("SG-COMP-TRANSIT")
            .message
            .contains("is not stated")
    );
    let off = edit(
        "encryption_in_transit = true\n",
        "encryption_in_transit = false\n",
    );
    assert!(
        run(&off)
            .get("SG-COMP-TRANSIT")
            .message
            .contains("is false")
    );
    // Staging is not checked.
    assert_eq!(
        run_with(&plain, "production", Some(Mode::Staging), AS_OF, present)
            .status("SG-COMP-TRANSIT"),
        Status::Skip
    );
}

// --- SG-A11Y-AUDIT ------------------------------------------------------------

fn a11y(frameworks: &str, audit: &str) -> String {
    with_frameworks(super::tests::READY, frameworks).replace(
        "[environments.production.operations]",
        &format!("{audit}\n[environments.production.operations]"),
    )
}

const AUDIT: &str = "[environments.production.accessibility_audit]\nstandard = \"wcag-2.2-aa\"\ndate = 2025-06-01\nreport = \"a11y/acr.pdf\"\nopen_issues = 0\n";

#[test]
fn accessibility_audit_matches_the_standard_and_is_recent() {
    let spec = a11y("\"gdpr\", \"wcag\"", AUDIT);
    assert_eq!(
        run(&spec).status("SG-A11Y-AUDIT"),
        Status::Pass,
        "{}",
        run(&spec).get("SG-A11Y-AUDIT").message
    );
    let at = |as_of: &str, spec: &str| {
        run_with(spec, "production", None, as_of, present).get("SG-A11Y-AUDIT")
    };
    assert_eq!(at("2026-06-01", &spec).status, Status::Pass, "365 days");
    assert!(at("2026-06-02", &spec).message.contains("366 days old"));
    let old_standard = spec.replace("wcag-2.2-aa", "wcag-2.1-aa");
    assert!(
        run(&old_standard)
            .get("SG-A11Y-AUDIT")
            .message
            .contains("wcag in force means WCAG 2.2 AA")
    );
    // Section 508 incorporates WCAG 2.0 AA: an older audit is enough.
    let s508 = a11y(
        "\"gdpr\", \"section-508\"",
        &AUDIT.replace("wcag-2.2-aa", "wcag-2.0-aa"),
    );
    assert_eq!(run(&s508).status("SG-A11Y-AUDIT"), Status::Pass);
    let open = spec.replace("open_issues = 0", "open_issues = 1");
    assert!(
        run(&open)
            .get("SG-A11Y-AUDIT")
            .message
            .contains("1 issue is still open")
    );
    let missing = a11y("\"gdpr\", \"wcag\"", "");
    assert!(
        run(&missing)
            .get("SG-A11Y-AUDIT")
            .message
            .contains("no accessibility audit is recorded")
    );
    // Not user-facing: nothing to audit.
    let internal = missing.replace("audience = \"public\"", "audience = \"internal\"");
    assert_eq!(run(&internal).status("SG-A11Y-AUDIT"), Status::Skip);
    let report_gone = run_with(
        &spec,
        "production",
        None,
        AS_OF,
        facts(|f| f.insert("a11y/acr.pdf", FileState::Missing)),
    );
    assert!(
        report_gone
            .get("SG-A11Y-AUDIT")
            .message
            .contains("a11y/acr.pdf does not exist")
    );
}

// --- SG-A11Y-CRITERIA ---------------------------------------------------------

#[test]
fn accessibility_criteria_fail_while_any_criterion_fails() {
    let with_results = AUDIT.replace("open_issues = 0\n", "results = \"a11y/results.csv\"\n");
    let spec = a11y("\"gdpr\", \"wcag\"", &with_results);
    let case = |results: Result<&'static str, &'static str>| {
        run_with(
            &spec,
            "production",
            None,
            AS_OF,
            facts(move |f| {
                f.insert_audit_results(
                    "a11y/results.csv",
                    results
                        .map_err(str::to_owned)
                        .and_then(|text| crate::read_audit_results("a11y/results.csv", text)),
                );
            }),
        )
    };
    let run = case(Ok("1.1.1,pass\n1.2.1,not-applicable\n2.4.7,cannot-tell\n"));
    let f = run.get("SG-A11Y-CRITERIA");
    assert_eq!(f.status, Status::Pass, "{}", f.message);
    assert_eq!(
        f.message,
        "1 of 3 criteria in the results pass, 1 not applicable, 1 await review; none fails (conformance report (CSV))"
    );
    // The results stand in for the count of open issues.
    assert_eq!(run.status("SG-A11Y-AUDIT"), Status::Pass);
    let f = case(Ok("1.1.1,fail\n1.4.3,does not support\n")).get("SG-A11Y-CRITERIA");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "2 criteria fail in the results (conformance report (CSV)): 1.1.1 and 1.4.3"
    );
    let f = case(Ok("1.1.1,perhaps\n")).get("SG-A11Y-CRITERIA");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .starts_with("a11y/results.csv: line 1: `perhaps` is not a result")
    );
    let f = case(Err("cannot be opened: denied")).get("SG-A11Y-CRITERIA");
    assert_eq!(f.message, "a11y/results.csv: cannot be opened: denied");
    // Without results, or without an accessibility framework, nothing to judge.
    assert_eq!(
        run_spec_status(&a11y("\"gdpr\", \"wcag\"", AUDIT)),
        Status::Skip
    );
    assert_eq!(
        run_spec_status(&a11y("\"gdpr\"", &with_results)),
        Status::Skip
    );
    let gone = run_with(
        &spec,
        "production",
        None,
        AS_OF,
        facts(|f| f.insert("a11y/results.csv", FileState::Missing)),
    );
    assert!(
        gone.get("SG-A11Y-CRITERIA")
            .message
            .contains("a11y/results.csv does not exist"),
        "{}",
        gone.get("SG-A11Y-CRITERIA").message
    );
}

fn run_spec_status(spec: &str) -> Status {
    run(spec).status("SG-A11Y-CRITERIA")
}

// --- SG-BACKUP-DRILL and SG-HIPAA-* -------------------------------------------

fn drill_record(finished: &str, seconds: f64, ok: bool) -> DrillRecord {
    DrillRecord {
        finished_at: unix(date(finished)),
        seconds,
        ok,
        message: if ok {
            "restored"
        } else {
            "restic restore failed: wrong password"
        }
        .to_owned(),
    }
}

/// Facts like `present`, with the given drill record (or none).
fn with_record(record: Option<DrillRecord>) -> impl Fn(&Spec) -> FileFacts {
    move |s| {
        let mut f = FileFacts::new();
        for p in FileFacts::referenced_paths(s) {
            f.insert(p, FileState::Present);
        }
        f.insert_text(
            "rb/security-breach.md",
            super::tests::BREACH_RUNBOOK.to_owned(),
        );
        if let Some(r) = record.clone() {
            f.insert_drill(
                "production",
                r,
                crate::RecordSource {
                    source: "stagegate.drills.jsonl".to_owned(),
                    sha256: None,
                },
            );
        }
        f
    }
}

#[test]
fn restore_drills_must_pass_within_every_and_the_rto() {
    let at = |as_of: &str, record: Option<DrillRecord>| {
        run_with(
            super::tests::READY,
            "production",
            None,
            as_of,
            with_record(record),
        )
        .get("SG-BACKUP-DRILL")
    };
    // every = "90d" from 2026-05-01.
    assert_eq!(
        at("2026-07-30", Some(drill_record("2026-05-01", 600.0, true))).status,
        Status::Pass
    );
    let f = at("2026-07-31", Some(drill_record("2026-05-01", 600.0, true)));
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.contains("91 days old, longer ago than every 90d"),
        "{}",
        f.message
    );
    let f = at(AS_OF, Some(drill_record("2026-05-01", 600.0, false)));
    assert!(
        f.message.contains("failed: restic restore failed"),
        "{}",
        f.message
    );
    let f = at(AS_OF, None);
    assert!(
        f.message
            .contains("it has never run: run `stagegate drill production`"),
        "{}",
        f.message
    );

    // Slower than the RTO is a failed drill.
    let rto = edit("rpo = \"4h\"", "rpo = \"4h\"\nrto = \"10m\"");
    let run_rto = |seconds: f64| {
        run_with(
            &rto,
            "production",
            None,
            AS_OF,
            with_record(Some(drill_record("2026-05-01", seconds, true))),
        )
        .get("SG-BACKUP-DRILL")
    };
    assert_eq!(run_rto(600.0).status, Status::Pass);
    let f = run_rto(601.0);
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .contains("took 10m 1s, longer than the rto of 10m"),
        "{}",
        f.message
    );

    // Without a drill: a recommendation, never a block.
    let none = edit(
        "\n[environments.production.backup.drill]\nevery = \"90d\"\ncommand = \"scripts/restore-drill.sh\"\n",
        "",
    );
    let r = run(&none);
    let f = r.get("SG-BACKUP-DRILL");
    assert_eq!(
        (f.status, f.severity),
        (Status::Warn, Severity::Recommended)
    );
    assert_eq!(r.verdict, crate::Verdict::Ready);
}

#[test]
fn hipaa_contingency_needs_every_part() {
    let hipaa = with_frameworks(super::tests::READY, "\"gdpr\", \"hipaa\"").replace(
        "security-breach = \"rb/security-breach.md\"",
        "security-breach = \"rb/security-breach.md\"\nemergency-mode = \"rb/emergency-mode.md\"",
    );
    let r = run(&hipaa);
    assert_eq!(
        r.status("SG-HIPAA-CONTINGENCY"),
        Status::Pass,
        "{}",
        r.get("SG-HIPAA-CONTINGENCY").message
    );
    assert_eq!(r.status("SG-HIPAA-EMERGENCY"), Status::Pass);
    let no_emergency = hipaa.replace("\nemergency-mode = \"rb/emergency-mode.md\"", "");
    let r = run(&no_emergency);
    assert!(
        r.get("SG-HIPAA-CONTINGENCY")
            .message
            .contains("runbook emergency-mode (not declared)")
    );
    assert_eq!(r.status("SG-HIPAA-EMERGENCY"), Status::Fail);
    let template = run_with(
        &hipaa,
        "production",
        None,
        AS_OF,
        facts(|f| f.insert("rb/emergency-mode.md", FileState::Template)),
    );
    assert!(
        template
            .get("SG-HIPAA-EMERGENCY")
            .message
            .contains("still an unedited template")
    );
    let no_drill = hipaa.replace("\n[environments.production.backup.drill]\nevery = \"90d\"\ncommand = \"scripts/restore-drill.sh\"\n", "");
    assert!(
        run(&no_drill)
            .get("SG-HIPAA-CONTINGENCY")
            .message
            .contains("a restore drill (testing")
    );
}

#[test]
fn an_unedited_runbook_template_counts_as_missing() {
    let r = run_with(
        super::tests::READY,
        "production",
        None,
        AS_OF,
        facts(|f| f.insert("rb/failure.md", FileState::Template)),
    );
    let f = r.get("SG-OPS-RUNBOOKS");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .contains("rb/failure.md is still an unedited template"),
        "{}",
        f.message
    );
    let r = run_with(
        super::tests::READY,
        "production",
        None,
        AS_OF,
        facts(|f| f.insert("rb/security-breach.md", FileState::Template)),
    );
    assert_eq!(r.status("SG-OPS-BREACH"), Status::Fail);
}
