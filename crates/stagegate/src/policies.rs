//! Finding and compiling the custom Rego rules a spec names: every `.rego`
//! file under the listed folders (tests, `*_test.rego`, excluded), in path
//! order so rule order is stable.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use stagegate_rules::custom::{PolicySet, PolicySource};
use stagegate_rules::rule_ids;
use stagegate_spec::{Diagnostic, Spec};

/// Problems stop loading: spec diagnostics (a path that does not exist, a
/// waiver naming no rule) and policy errors located in their own files.
pub enum Problem {
    Spec(Vec<Diagnostic>),
    Policies(Vec<String>),
}

pub fn load(spec: &Spec, dir: &Path) -> Result<Option<Arc<PolicySet>>, Problem> {
    let Some(document) = &spec.document else {
        return Ok(None);
    };
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for entry in &spec.policies {
        let path = dir.join(&entry.value);
        if path.is_dir() {
            collect(&path, &mut files);
        } else if path.is_file() {
            files.push(path);
        } else {
            diags.push(
                Diagnostic::new(
                    format!("policy path `{}` does not exist", entry.value),
                    entry.span,
                )
                .label("no such file or folder")
                .note("expected a `.rego` file or a folder of them, relative to the spec file"),
            );
        }
    }
    if !diags.is_empty() {
        return Err(Problem::Spec(diags));
    }
    files.sort();
    files.dedup();
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        let shown = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        match fs::read_to_string(&file) {
            Ok(text) => sources.push(PolicySource { path: shown, text }),
            Err(e) => errors.push(format!("{shown}: cannot read policy: {e}")),
        }
    }
    if !errors.is_empty() {
        return Err(Problem::Policies(errors));
    }
    let set = PolicySet::load(
        &sources,
        document,
        &rule_ids(),
        spec.policy.policy_timeout.get(),
    )
    .map_err(|errs| Problem::Policies(errs.iter().map(ToString::to_string).collect()))?;
    let mut known: Vec<&str> = rule_ids();
    known.extend(set.ids());
    let unknown: Vec<Diagnostic> = spec
        .waivers
        .iter()
        .filter(|w| !known.contains(&w.rule.value.as_str()))
        .map(|w| {
            Diagnostic::new(
                format!("waiver names unknown rule `{}`", w.rule.value),
                w.rule.span,
            )
            .label("no built-in or custom rule has this id")
            .with_hint(stagegate_spec::suggest::did_you_mean(
                &w.rule.value,
                known.iter().copied(),
            ))
            .note("expected a rule id from `stagegate rules list` or a policy's METADATA `id`")
        })
        .collect();
    if !unknown.is_empty() {
        return Err(Problem::Spec(unknown));
    }
    Ok(Some(Arc::new(set)))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rego")
            && !path
                .file_stem()
                .is_some_and(|s| s.to_string_lossy().ends_with("_test"))
        {
            out.push(path);
        }
    }
}
