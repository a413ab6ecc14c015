//! Snapshots of the reports people read: text and Markdown, for check and plan.

mod common;

use common::*;

fn report(args: &[&str]) -> String {
    let mut argv = args.to_vec();
    argv.extend(["--as-of", AS_OF]);
    run(&argv).stdout
}

#[test]
fn text_check_shop() {
    insta::assert_snapshot!(report(&["check", SHOP]));
}

#[test]
fn text_check_beta_verbose() {
    insta::assert_snapshot!(report(&["check", BETA, "--env", "beta", "--verbose"]));
}

#[test]
fn text_plan_health() {
    insta::assert_snapshot!(report(&["plan", "pilot", "--to", "production", HEALTH]));
}

#[test]
fn markdown_check_beta() {
    insta::assert_snapshot!(report(&["check", BETA, "--format", "markdown"]));
}

#[test]
fn markdown_plan_health() {
    insta::assert_snapshot!(report(&[
        "plan",
        "pilot",
        "--to",
        "production",
        HEALTH,
        "--format",
        "markdown"
    ]));
}

#[test]
fn text_spec_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stagegate.toml"),
        "[product]\nnmae = \"Shop\"\n\n[contacts.ops]\nnotify = [\"pager\"]\n\n[environments.prod]\nmode = \"live\"\n\n[environments.prod.backup]\nlocation = \"a\"\ninterval = \"soon\"\nencrypted = 1\n",
    )
    .expect("write");
    let out = stagegate()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(String::from_utf8(out.stderr).expect("utf-8"));
}
