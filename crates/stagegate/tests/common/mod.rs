//! Helpers shared by the CLI tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The workspace root, so spec paths in output are stable (`examples/...`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// `stagegate` run from the workspace root, with colour and secrets unset.
pub fn stagegate() -> Command {
    let mut cmd = Command::cargo_bin("stagegate").expect("binary");
    cmd.current_dir(root())
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .env("NO_COLOR", "1");
    cmd
}

pub const SHOP: &str = "examples/ecommerce-shop/stagegate.toml";
pub const BETA: &str = "examples/startup-beta/stagegate.toml";
pub const HEALTH: &str = "examples/health-app/stagegate.toml";
pub const AS_OF: &str = "2026-11-26";

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Output {
    let out = stagegate().args(args).output().expect("run stagegate");
    Output {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

pub fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let out = run(args);
    let value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.stdout));
    (out.code, value)
}

/// TOML → JSON the way editors see it for schema validation (dates as strings).
pub fn toml_to_json(text: &str) -> serde_json::Value {
    fn conv(v: &toml::Value) -> serde_json::Value {
        use serde_json::Value as J;
        match v {
            toml::Value::String(s) => J::String(s.clone()),
            toml::Value::Integer(i) => J::from(*i),
            toml::Value::Float(f) => J::from(*f),
            toml::Value::Boolean(b) => J::Bool(*b),
            toml::Value::Datetime(d) => J::String(d.to_string()),
            toml::Value::Array(a) => J::Array(a.iter().map(conv).collect()),
            toml::Value::Table(t) => {
                J::Object(t.iter().map(|(k, v)| (k.clone(), conv(v))).collect())
            }
        }
    }
    let table: toml::Table = toml::from_str(text).expect("valid TOML");
    conv(&toml::Value::Table(table))
}

/// A copy of `examples/NAME` in a temporary folder, to edit freely.
pub fn copy_example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("examples").join(name), dir.path());
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
