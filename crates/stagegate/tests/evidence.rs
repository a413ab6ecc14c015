//! Evidence files stay inside the spec's folder (or `policy.evidence_roots`):
//! a path or symlink leading elsewhere is a spec error at load, and the
//! dashboard refuses it even when it changed after the load.

use stagegate_test_support::*;

fn spec(failure: &str, extra_policy: &str) -> String {
    format!(
        r#"[product]
name = "Evidence"
{extra_policy}
[environments.prod]
mode = "staging"

[environments.prod.runbooks]
unavailability = "runbooks/unavailability.md"
failure = "{failure}"
"#
    )
}

fn stagegate(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("stagegate"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("spec/runbooks")).expect("mkdir");
    std::fs::write(
        dir.path().join("spec/runbooks/unavailability.md"),
        "# When the shop is down\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("outside.md"), "# not evidence\n").expect("write");
    dir
}

#[test]
fn paths_leaving_the_spec_folder_are_spec_errors() {
    let dir = folder();
    let spec_dir = dir.path().join("spec");
    std::os::unix::fs::symlink(
        dir.path().join("outside.md"),
        spec_dir.join("runbooks/link.md"),
    )
    .expect("symlink");
    for bad in [
        "/etc/passwd",
        "../../../../etc/hostname",
        "runbooks/link.md",
        "../outside.md",
    ] {
        std::fs::write(spec_dir.join("stagegate.toml"), spec(bad, "")).expect("spec");
        let (code, err) = stagegate(&spec_dir, &["check"]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(
            err.contains(&format!("the failure runbook of prod `{bad}` resolves to")),
            "{bad}: {err}"
        );
        assert!(err.contains("stagegate.toml:9:11"), "{bad}: {err}");
        assert!(err.contains("policy.evidence_roots"), "{bad}: {err}");
    }
    // A folder listed in `policy.evidence_roots` is allowed.
    std::fs::write(
        spec_dir.join("stagegate.toml"),
        spec("../outside.md", "\n[policy]\nevidence_roots = [\"..\"]\n"),
    )
    .expect("spec");
    let (code, err) = stagegate(&spec_dir, &["check"]);
    assert_ne!(code, 2, "not a spec error: {err}");
    assert!(!err.contains("outside the spec's folder"), "{err}");
}

#[test]
fn the_dashboard_refuses_a_runbook_that_became_a_symlink() {
    let dir = folder();
    let spec_dir = dir.path().join("spec");
    std::fs::write(spec_dir.join("runbooks/failure.md"), "# When it fails\n").expect("write");
    std::fs::write(
        spec_dir.join("stagegate.toml"),
        spec("runbooks/failure.md", ""),
    )
    .expect("spec");
    let viewer = token(&spec_dir, None, "viewer", "vic");
    let server = start(&spec_dir, None);
    let (status, body) = http(
        server.addr,
        "GET",
        "/runbooks/prod/failure",
        Some(&viewer),
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("When it fails"));
    // Swapped for a symlink to a file outside, behind the server's back.
    std::fs::remove_file(spec_dir.join("runbooks/failure.md")).expect("rm");
    std::os::unix::fs::symlink(
        dir.path().join("outside.md"),
        spec_dir.join("runbooks/failure.md"),
    )
    .expect("symlink");
    let (status, body) = http(
        server.addr,
        "GET",
        "/runbooks/prod/failure",
        Some(&viewer),
        "",
    );
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("not evidence"), "{body}");
}
