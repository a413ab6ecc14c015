//! `stagegate drill` end to end: a real PostgreSQL dump in a real restic
//! repository is restored and loaded into this machine's PostgreSQL, and the
//! recorded result decides SG-BACKUP-DRILL.

mod common;
#[path = "../../stagegate-probe/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command as StdCommand;

use common::*;
use support::unavailable;

const PG: [&str; 4] = ["-h", "127.0.0.1", "-U", "postgres"];
const PASSWORD_ENV: &str = "STAGEGATE_TEST_DRILL_PASSWORD";

fn tool(program: &str, args: &[&str]) -> std::process::Output {
    StdCommand::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn psql(db: &str, sql: &str) -> String {
    let out = tool(
        "psql",
        &[&PG[..], &["-v", "ON_ERROR_STOP=1", "-tAc", sql, db]].concat(),
    );
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn drop_db(name: &str) {
    let _ = tool(
        "psql",
        &[
            &PG[..],
            &[
                "-tAc",
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                "test",
            ],
        ]
        .concat(),
    );
}

fn finding(doc: &serde_json::Value, rule: &str) -> serde_json::Value {
    doc["environments"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule)
        .cloned()
        .unwrap_or_else(|| panic!("no {rule}"))
}

fn log_lines(spec: &Path) -> Vec<serde_json::Value> {
    let log = spec.with_file_name("stagegate.drills.jsonl");
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// CP-9(1) "Testing for Reliability and Integrity" in production, from
/// the FISMA (800-53 moderate) report.
fn backup_testing(spec: &str) -> serde_json::Value {
    let (_, doc) = json(&["report", "--framework", "fisma", spec, "-f", "json"]);
    doc["environments"][0]["controls"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "CP-9(1)").cloned())
        .unwrap_or_else(|| panic!("no CP-9(1) in {doc}"))
}

fn spec_text(repo: &Path, verify: &str) -> String {
    format!(
        r#"[product]
name = "Drill test"
retains_user_data = true
rto = "10m"

[environments.production]
mode = "production"

[[environments.production.servers]]
name = "db-1"
roles = ["database"]
location = "fra1"

[environments.production.backup]
location = "ams1"
interval = "1h"
encrypted = true
source = {{ kind = "restic", repository = "{repo}", password_env = "{PASSWORD_ENV}" }}

[environments.production.backup.drill]
every = "30d"
verify = '''{verify}'''
"#,
        repo = repo.display()
    )
}

#[test]
fn restic_drill_restores_a_real_postgres_dump() {
    if !tool("sh", &["-c", "restic version"]).status.success() {
        return unavailable("the restic binary is not installed (apt-get install restic)");
    }
    if !tool("psql", &[&PG[..], &["-tAc", "select 1", "test"]].concat())
        .status
        .success()
    {
        return unavailable("PostgreSQL on 127.0.0.1:5432 is not reachable with psql");
    }
    let pid = std::process::id();
    let (source, target) = (format!("sg_drill_src_{pid}"), format!("sg_drill_dst_{pid}"));
    drop_db(&source);
    drop_db(&target);
    psql("test", &format!("CREATE DATABASE {source}"));
    psql(
        &source,
        "CREATE TABLE orders (id int primary key, total numeric); INSERT INTO orders VALUES (1, 9.5), (2, 20), (3, 7.25)",
    );

    // The nightly job: dump the database, back the dump up with restic.
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    let dump = data.join("shop.dump");
    let out = tool(
        "pg_dump",
        &[
            &PG[..],
            &["-Fc", "-f", dump.to_str().expect("path"), &source],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo = dir.path().join("repo");
    for args in [vec!["init"], vec!["backup", data.to_str().expect("path")]] {
        let out = StdCommand::new("restic")
            .arg("--repo")
            .arg(&repo)
            .args(&args)
            .args(["--no-cache", "--quiet"])
            .env("RESTIC_PASSWORD", "drill-secret")
            .output()
            .expect("restic");
        assert!(
            out.status.success(),
            "restic {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Only the repository remains: the drill must get the data from it.
    std::fs::remove_dir_all(&data).expect("remove data");

    let restored = format!("\"$STAGEGATE_DRILL_DIR{}\"", dump.display());
    let load = |rows: u32| {
        format!(
            "createdb -h 127.0.0.1 -U postgres {target} && pg_restore -h 127.0.0.1 -U postgres -d {target} {restored} && test \"$(psql -h 127.0.0.1 -U postgres -tAc 'select count(*) from orders' {target})\" = {rows}"
        )
    };
    let spec = dir.path().join("stagegate.toml");
    std::fs::write(&spec, spec_text(&repo, &load(3))).expect("spec");
    let spec_arg = spec.to_str().expect("path");

    let out = stagegate()
        .args(["drill", "production", spec_arg])
        .env(PASSWORD_ENV, "drill-secret")
        .output()
        .expect("drill");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("drill production: passed in"), "{stdout}");
    assert_eq!(psql(&target, "select sum(total) from orders"), "36.75");
    let log = log_lines(&spec);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["environment"], "production");
    assert_eq!(log[0]["ok"], true);
    assert_eq!(log[0]["method"], "restic");
    assert!(log[0]["seconds"].as_f64().expect("seconds") > 0.0);

    let (code, doc) = json(&["check", spec_arg, "--format", "json"]);
    let drill = finding(&doc, "SG-BACKUP-DRILL");
    assert_eq!(drill["status"], "pass", "{drill}");
    // The citation names the record its hash is of.
    let cited = &drill["evidence"][0];
    assert!(
        cited["source"]
            .as_str()
            .expect("source")
            .ends_with("stagegate.drills.jsonl:1"),
        "{cited}"
    );
    let record =
        std::fs::read_to_string(spec.with_file_name("stagegate.drills.jsonl")).expect("log");
    assert_eq!(
        cited["sha256"],
        stagegate_spec::sha256_hex(record.lines().next().expect("a record").as_bytes())
    );
    // The restore stagegate ran and watched is what NIST SP 800-53's
    // CP-9(1) asks for: the control is met on observed evidence.
    let tested = backup_testing(spec_arg);
    assert_eq!(tested["status"], "met", "{tested}");
    assert_eq!(tested["basis"], "observed", "{tested}");
    assert_eq!(
        code, 1,
        "the rest of the spec is incomplete, the drill is not"
    );

    // The restore works but the data is not what it should be: the drill
    // fails, is recorded, and blocks.
    drop_db(&target);
    std::fs::write(&spec, spec_text(&repo, &load(4))).expect("spec");
    let out = stagegate()
        .args(["drill", "production", spec_arg])
        .env(PASSWORD_ENV, "drill-secret")
        .output()
        .expect("drill");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAILED") && stdout.contains("the verify failed (exit status 1)"),
        "{stdout}"
    );
    let log = log_lines(&spec);
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["ok"], false);
    let (_, doc) = json(&["check", spec_arg, "--format", "json"]);
    let drill = finding(&doc, "SG-BACKUP-DRILL");
    assert_eq!(drill["status"], "fail", "{drill}");
    assert_eq!(backup_testing(spec_arg)["status"], "not-met");
    assert!(
        drill["message"]
            .as_str()
            .expect("message")
            .contains("failed"),
        "{drill}"
    );

    // A wrong password never gets as far as a restore.
    let out = stagegate()
        .args(["drill", "production", spec_arg, "--no-record"])
        .env(PASSWORD_ENV, "wrong")
        .output()
        .expect("drill");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("the restic restore failed"));
    assert_eq!(
        log_lines(&spec).len(),
        2,
        "--no-record leaves the log alone"
    );

    drop_db(&target);
    drop_db(&source);
}

#[test]
fn a_drill_that_overruns_its_timeout_is_stopped_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("stagegate.toml");
    std::fs::write(
        &spec,
        r#"[product]
name = "Slow restore"

[environments.production]
mode = "production"

[[environments.production.servers]]
name = "db-1"
roles = ["database"]
location = "fra1"

[environments.production.backup]
location = "ams1"
interval = "1h"

[environments.production.backup.drill]
every = "30d"
command = "echo restoring; sleep 30; echo never"
timeout = "1s"

[environments.staging]
mode = "staging"
"#,
    )
    .expect("spec");
    let spec_arg = spec.to_str().expect("path");
    let out = stagegate()
        .args(["drill", "production", spec_arg])
        .output()
        .expect("drill");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("did not finish within the drill's timeout of 1.0s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("restoring") && !stdout.contains("never"),
        "{stdout}"
    );
    let log = log_lines(&spec);
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0]["ok"].clone(), log[0]["method"].clone()),
        (false.into(), "command".into())
    );

    // An environment without a drill is a usage error, and a typo is named.
    let out = run(&["drill", "staging", spec_arg]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("environment `staging` declares no restore drill"),
        "{}",
        out.stderr
    );
    let out = run(&["drill", "prodution", spec_arg]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("production"), "{}", out.stderr);
}
