//! Cross-reference checks: every id a spec mentions must exist, and names
//! that identify things must be unique. These are spec errors, not findings:
//! a dangling reference means the spec does not say what its author meant.

use std::collections::HashMap;

use crate::model::*;
use crate::suggest::did_you_mean as hint;
use crate::{Diagnostic, Span, Spanned};

pub(crate) fn validate(spec: &Spec, opts: &crate::LoadOptions<'_>, diags: &mut Vec<Diagnostic>) {
    let known_rules = opts.known_rules;
    let contact_ids: Vec<&str> = spec.contacts.iter().map(|c| c.id.value.as_str()).collect();
    let notifier_ids: Vec<&str> = spec.notifiers.iter().map(|n| n.id.value.as_str()).collect();
    let env_names: Vec<&str> = spec
        .environments
        .iter()
        .map(|e| e.name.value.as_str())
        .collect();

    for contact in &spec.contacts {
        for id in &contact.notify {
            reference(diags, id, "notifier", &notifier_ids, "[notifiers.ID]");
        }
    }
    let rotation_ids: Vec<&str> = spec.rotations.iter().map(|r| r.id.value.as_str()).collect();
    let escalation_ids: Vec<&str> = spec
        .escalations
        .iter()
        .map(|e| e.id.value.as_str())
        .collect();
    for escalation in &spec.escalations {
        for id in escalation.levels.iter().flat_map(|l| &l.notify) {
            recipient(diags, id, &contact_ids, &rotation_ids);
        }
    }
    for rotation in &spec.rotations {
        for member in &rotation.members {
            reference(diags, member, "contact", &contact_ids, "[contacts.ID]");
        }
        for o in &rotation.overrides {
            reference(diags, &o.member, "contact", &contact_ids, "[contacts.ID]");
        }
    }

    for env in &spec.environments {
        let server_names: Vec<&str> = env.servers.iter().map(|s| s.name.value.as_str()).collect();
        unique(
            diags,
            env.servers.iter().map(|s| &s.name),
            "server",
            &env.name.value,
        );

        if let Some(cluster) = &env.cluster {
            for node in &cluster.nodes {
                reference(
                    diags,
                    node,
                    "server",
                    &server_names,
                    "[[environments.ENV.servers]]",
                );
            }
        }
        if let Some(backup) = &env.backup {
            for s in backup.covers.iter().flat_map(|c| c.value.iter()) {
                reference(
                    diags,
                    s,
                    "server",
                    &server_names,
                    "[[environments.ENV.servers]]",
                );
            }
            if let Some(source) = &backup.source {
                env_var_name(diags, &source.password_env);
            }
        }
        if let Some(page) = &env.status_page {
            status_page(diags, env, page);
        }
        if let Some(monitoring) = &env.monitoring {
            for id in &monitoring.notify {
                recipient(diags, id, &contact_ids, &rotation_ids);
            }
            if let Some(e) = &monitoring.escalation {
                reference(diags, e, "escalation", &escalation_ids, "[escalations.ID]");
            }
            unique(
                diags,
                monitoring.checks.iter().map(|c| &c.name),
                "check",
                &env.name.value,
            );
            dependencies(diags, &monitoring.checks);
            for check in &monitoring.checks {
                if let Some(covers) = &check.covers
                    && let Covers::Server(name) = &covers.value
                    && !server_names.contains(&name.as_str())
                {
                    let candidates = ["core", "database", "backup"]
                        .into_iter()
                        .chain(server_names.iter().copied());
                    diags.push(
                        Diagnostic::new(
                            format!(
                                "check `{}` covers unknown component `{name}`",
                                check.name.value
                            ),
                            covers.span,
                        )
                        .label("not a component or server of this environment")
                        .with_hint(hint(name, candidates))
                        .note(format!(
                            "expected `core`, `database`, `backup` or a server name ({})",
                            if server_names.is_empty() {
                                "this environment declares none".to_owned()
                            } else {
                                server_names.join(", ")
                            }
                        )),
                    );
                }
            }
        }
        if let Some(ops) = &env.operations {
            for owner in [
                &ops.log_monitoring,
                &ops.backup_monitoring,
                &ops.security_updates,
            ]
            .into_iter()
            .flatten()
            {
                reference(diags, owner, "contact", &contact_ids, "[contacts.ID]");
            }
        }
    }

    for waiver in &spec.waivers {
        // With custom policies, an id that is not built in may be one of
        // theirs; the caller checks it once the policies are loaded.
        let deferred = !spec.policies.is_empty() && !waiver.rule.value.starts_with("SG-");
        if !deferred && !known_rules.contains(&waiver.rule.value.as_str()) {
            diags.push(
                Diagnostic::new(
                    format!("waiver names unknown rule `{}`", waiver.rule.value),
                    waiver.rule.span,
                )
                .label("no rule has this id")
                .with_hint(hint(&waiver.rule.value, known_rules.iter().copied()))
                .note("expected a rule id from `stagegate rules list`"),
            );
        }
        reference(
            diags,
            &waiver.environment,
            "environment",
            &env_names,
            "[environments.NAME]",
        );
    }

    for freeze in &spec.freezes {
        for env in &freeze.environments {
            reference(diags, env, "environment", &env_names, "[environments.NAME]");
        }
    }

    for a in &spec.attestations {
        control_reference(
            diags,
            opts,
            spec,
            &env_names,
            (
                "attestation",
                &a.framework,
                &a.control,
                a.environment.as_ref(),
            ),
        );
    }
    for a in &spec.applicability {
        control_reference(
            diags,
            opts,
            spec,
            &env_names,
            (
                "applicability",
                &a.framework,
                &a.control,
                a.environment.as_ref(),
            ),
        );
    }
}

/// What names a control of a framework: an attestation or an
/// applicability, its framework, control id and environment.
type ControlNaming<'s> = (
    &'static str,
    &'s Spanned<Framework>,
    &'s Spanned<String>,
    Option<&'s Spanned<String>>,
);

/// The environment must exist, the framework be in force, and the control
/// be one of its published ids.
fn control_reference(
    diags: &mut Vec<Diagnostic>,
    opts: &crate::LoadOptions<'_>,
    spec: &Spec,
    env_names: &[&str],
    (what, framework, control, environment): ControlNaming<'_>,
) {
    if let Some(env) = environment {
        reference(diags, env, "environment", env_names, "[environments.NAME]");
    }
    let framework_span = framework.span;
    let framework = framework.value;
    if !spec.product.frameworks.iter().any(|f| f.value == framework) {
        diags.push(
            Diagnostic::new(
                format!("{what} for `{framework}`, which the product does not declare"),
                framework_span,
            )
            .label("not in `product.frameworks`")
            .note(format!(
                "expected a framework in force; add \"{framework}\" to `product.frameworks` or remove the {what}"
            )),
        );
        return;
    }
    let controls = (opts.known_controls)(framework);
    if !controls.contains(&control.value.as_str()) {
        diags.push(
            Diagnostic::new(
                format!("`{}` is not a {framework} control", control.value),
                control.span,
            )
            .label("no control of this framework has this id")
            .with_hint(hint(&control.value, controls.iter().copied()))
            .note(format!(
                "expected a published control id, as `stagegate report --framework {framework}` lists them"
            )),
        );
    }
}

/// A status page's components name checks of the environment, at least
/// one each, and their names make distinct badge paths (`uptime.svg` is
/// the page's own).
fn status_page(diags: &mut Vec<Diagnostic>, env: &Environment, page: &StatusPage) {
    let name = &env.name.value;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        diags.push(
            Diagnostic::new(
                format!("environment `{name}` cannot have a public status page under its name"),
                page.span,
            )
            .label("its page would be at /status/NAME")
            .note("expected an environment name of ASCII letters, digits, `-` and `_`, e.g. \"production\""),
        );
    }
    let names: Vec<&str> = env
        .monitoring
        .iter()
        .flat_map(|m| &m.checks)
        .map(|c| c.name.value.as_str())
        .collect();
    let mut slugs: HashMap<String, &Spanned<String>> = HashMap::new();
    for component in &page.components {
        let slug = component.slug();
        if slug.is_empty() || slug == "uptime" {
            diags.push(
                Diagnostic::new(
                    format!(
                        "status page component `{}` has no usable badge name",
                        component.name.value
                    ),
                    component.name.span,
                )
                .label(if slug.is_empty() {
                    "no ASCII letter or digit to name its badge by".to_owned()
                } else {
                    "its badge would be /badge/ENV/uptime.svg, the page's uptime badge".to_owned()
                })
                .note(
                    "expected a name with letters or digits other than `uptime`, e.g. \"Website\"",
                ),
            );
        } else if let Some(first) = slugs.get(&slug) {
            diags.push(
                Diagnostic::new(
                    format!(
                        "status page components `{}` and `{}` share the badge name `{slug}`",
                        first.value, component.name.value
                    ),
                    component.name.span,
                )
                .label("same badge path as an earlier component")
                .note("expected component names that differ in their letters or digits"),
            );
        } else {
            slugs.insert(slug, &component.name);
        }
        if component.checks.is_empty() {
            diags.push(
                Diagnostic::new(
                    format!(
                        "status page component `{}` has no checks",
                        component.name.value
                    ),
                    component.span,
                )
                .label("`checks = []`")
                .note(format!(
                    "expected the names of the monitoring checks it consists of: {}",
                    if names.is_empty() {
                        "this environment has none".to_owned()
                    } else {
                        names.join(", ")
                    }
                )),
            );
        }
        for check in &component.checks {
            if !names.contains(&check.value.as_str()) {
                diags.push(
                    Diagnostic::new(
                        format!(
                            "status page component `{}` names unknown check `{}`",
                            component.name.value, check.value
                        ),
                        check.span,
                    )
                    .label(format!("no check of environment `{}` has this name", env.name.value))
                    .with_hint(hint(&check.value, names.iter().copied()))
                    .note(if names.is_empty() {
                        format!("environment `{}` has no monitoring checks; add [[environments.{}.monitoring.checks]]", env.name.value, env.name.value)
                    } else {
                        format!("expected one of: {}", names.join(", "))
                    }),
                );
            }
        }
    }
}

/// `depends_on` names checks of the same environment, never the check
/// itself, and never closes a cycle: a cycle would leave every check in it
/// suppressed by another while all are down, and nobody paged.
fn dependencies(diags: &mut Vec<Diagnostic>, checks: &[Check]) {
    let names: Vec<&str> = checks.iter().map(|c| c.name.value.as_str()).collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    for check in checks {
        for dep in &check.depends_on {
            if dep.value == check.name.value {
                diags.push(
                    Diagnostic::new(
                        format!("check `{}` depends on itself", check.name.value),
                        dep.span,
                    )
                    .label("a check cannot be its own parent")
                    .note("expected the names of other checks of this environment, e.g. the database a web check needs"),
                );
            } else if !index.contains_key(dep.value.as_str()) {
                diags.push(
                    Diagnostic::new(
                        format!(
                            "check `{}` depends on unknown check `{}`",
                            check.name.value, dep.value
                        ),
                        dep.span,
                    )
                    .label("no check of this environment has this name")
                    .with_hint(hint(&dep.value, names.iter().copied()))
                    .note(format!(
                        "expected the name of a check in the same environment: {}",
                        names.join(", ")
                    )),
                );
            }
        }
    }
    // Depth-first search for cycles; each is reported once, at the
    // `depends_on` entry that closes it.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        at: usize,
        checks: &[Check],
        index: &HashMap<&str, usize>,
        marks: &mut [Mark],
        path: &mut Vec<usize>,
        diags: &mut Vec<Diagnostic>,
    ) {
        marks[at] = Mark::Open;
        path.push(at);
        for dep in &checks[at].depends_on {
            let Some(&next) = index.get(dep.value.as_str()) else {
                continue;
            };
            if next == at {
                continue;
            }
            match marks[next] {
                Mark::New => visit(next, checks, index, marks, path, diags),
                Mark::Open => {
                    let start = path.iter().position(|&p| p == next).unwrap_or(0);
                    let cycle: Vec<&str> = path[start..]
                        .iter()
                        .chain(std::iter::once(&next))
                        .map(|&i| checks[i].name.value.as_str())
                        .collect();
                    diags.push(
                        Diagnostic::new(
                            format!("checks depend on each other in a cycle: {}", cycle.join(" → ")),
                            dep.span,
                        )
                        .label("this dependency closes the cycle")
                        .note("while all of them are down each would be suppressed by another and nobody paged; remove one `depends_on` entry"),
                    );
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks[at] = Mark::Done;
    }
    let mut marks = vec![Mark::New; checks.len()];
    for i in 0..checks.len() {
        if marks[i] == Mark::New {
            visit(i, checks, &index, &mut marks, &mut Vec::new(), diags);
        }
    }
}

/// A contact id, or `rotation:ID` for whoever a rotation has on call.
fn recipient(
    diags: &mut Vec<Diagnostic>,
    id: &Spanned<String>,
    contacts: &[&str],
    rotations: &[&str],
) {
    match id.value.strip_prefix("rotation:") {
        Some(rotation) => reference(
            diags,
            &Spanned::new(rotation.to_owned(), id.span),
            "rotation",
            rotations,
            "[rotations.ID]",
        ),
        None => reference(diags, id, "contact", contacts, "[contacts.ID]"),
    }
}

fn reference(
    diags: &mut Vec<Diagnostic>,
    id: &Spanned<String>,
    what: &str,
    known: &[&str],
    declare: &str,
) {
    if known.contains(&id.value.as_str()) {
        return;
    }
    let expected = if known.is_empty() {
        format!("the spec declares no {what}s: declare one with `{declare}`")
    } else {
        format!("expected one of: {}", known.join(", "))
    };
    diags.push(
        Diagnostic::new(format!("unknown {what} `{}`", id.value), id.span)
            .label(format!("no {what} has this id"))
            .with_hint(hint(&id.value, known.iter().copied()))
            .note(expected),
    );
}

fn unique<'a>(
    diags: &mut Vec<Diagnostic>,
    names: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
    env: &str,
) {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    // Empty names are placeholders for names already reported missing.
    for name in names.filter(|n| !n.value.is_empty()) {
        if let Some(first) = seen.get(name.value.as_str()) {
            diags.push(
                Diagnostic::new(
                    format!("duplicate {what} `{}` in environment `{env}`", name.value),
                    name.span,
                )
                .label("declared again here")
                .related(*first, "first declared here")
                .note(format!(
                    "expected each {what} name to be unique within an environment"
                )),
            );
        } else {
            seen.insert(&name.value, name.span);
        }
    }
}

fn env_var_name(diags: &mut Vec<Diagnostic>, name: &Spanned<String>) {
    let valid = !name.value.is_empty()
        && !name.value.starts_with(|c: char| c.is_ascii_digit())
        && name
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        diags.push(
            Diagnostic::new("`password_env` is not an environment variable name", name.span)
                .label(format!("found \"{}\"", name.value))
                .note("expected the name of a variable, e.g. \"RESTIC_PASSWORD\" (not the password itself)"),
        );
    }
}
