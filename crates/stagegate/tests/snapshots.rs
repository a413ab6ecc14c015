//! Snapshots of the reports people read: text and Markdown, for check and plan.

mod common;

use common::*;

fn report(args: &[&str]) -> String {
    let mut argv = args.to_vec();
    argv.extend(["--as-of", AS_OF]);
    stable(&run(&argv).stdout)
}

/// The report with what changes from run to run and commit to commit (the
/// time it was made, the spec's and catalogue's hashes) replaced by
/// placeholders, and the git commit (absent outside a work tree) left out;
/// everything else is compared as it is.
fn stable(text: &str) -> String {
    let mut out = text.replace(", with uncommitted changes", "");
    for (marker, len, placeholder) in [
        ("generated ", 20, "generated [generated]"),
        (" at commit ", 12, ""),
        ("catalogue ", 12, "catalogue [revision]"),
        (
            "stagegate.toml (sha256 ",
            12,
            "stagegate.toml (sha256 [spec sha256]",
        ),
    ] {
        let mut rest = out.as_str();
        let mut next = String::with_capacity(out.len());
        while let Some(i) = rest.find(marker) {
            let start = i + marker.len();
            next.push_str(&rest[..i]);
            next.push_str(placeholder);
            rest = &rest[(start + len).min(rest.len())..];
        }
        next.push_str(rest);
        out = next;
    }
    out
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
