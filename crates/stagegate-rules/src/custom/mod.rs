//! Custom rules: a team's own requirements, written as Rego policies in the
//! folders the spec names, judged like built-in rules and reported with them.
//!
//! A policy is a package with a `deny` set of messages and a `# METADATA`
//! block (title, id, severity per mode, remediation, controls). Its input is
//! the spec as written (TOML turned into JSON), the environment being judged
//! and the mode it is judged in, so policies read the file their authors
//! know. Every evaluation runs under a time limit.

mod metadata;

use std::num::NonZeroU32;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use serde_json::{Value as Json, json};
use stagegate_spec::{Date, Framework, Mode};

use crate::frameworks::{ControlRef, Strength, control_ids};
use crate::rule::{Applies, Area, CustomRule, Outcome, RuleRef, Severity};
use metadata::Node;

/// One policy file as read from disk.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// The path shown in messages, e.g. `policies/replica.rego`.
    pub path: String,
    pub text: String,
}

/// A problem with a policy, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

struct Custom {
    rule: CustomRule,
    /// `data.<package>.deny`.
    query: String,
}

/// The loaded policies, ready to judge environments.
pub struct PolicySet {
    rules: Vec<Custom>,
    engine: regorus::Engine,
    spec: Json,
    limit: Duration,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field(
                "rules",
                &self.rules.iter().map(|c| &c.rule.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl PolicySet {
    /// Compiles the policies; `spec` is the spec as written (its
    /// `document`), given to them as `input.spec`. Returns every problem
    /// found, each with its location.
    pub fn load(
        sources: &[PolicySource],
        spec: &Json,
        builtin_ids: &[&str],
        limit: Duration,
    ) -> Result<PolicySet, Vec<PolicyError>> {
        let mut engine = regorus::Engine::new();
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit,
            check_interval: NonZeroU32::MIN.saturating_add(63),
        });
        let mut rules: Vec<Custom> = Vec::new();
        let mut errors = Vec::new();
        for source in sources {
            let meta = match Meta::read(source) {
                Ok(m) => m,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            if builtin_ids.contains(&meta.id.as_str()) || rules.iter().any(|r| r.rule.id == meta.id)
            {
                errors.push(meta.error(
                    meta.id_line,
                    format!(
                        "rule id `{}` is already taken; expected an id of this team's own",
                        meta.id
                    ),
                ));
                continue;
            }
            let package = match engine.add_policy(source.path.clone(), source.text.clone()) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(compile_error(&source.path, &e.to_string()));
                    continue;
                }
            };
            rules.push(Custom {
                rule: meta.into_rule(),
                query: format!("{package}.deny"),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PolicySet {
            rules,
            engine,
            spec: spec.clone(),
            limit,
        })
    }

    /// The custom rules, in the order of their files.
    pub fn rules(&self) -> impl Iterator<Item = &CustomRule> + '_ {
        self.rules.iter().map(|c| &c.rule)
    }

    /// Rule ids, for validating waivers.
    pub fn ids(&self) -> Vec<&str> {
        self.rules().map(|r| r.id.as_str()).collect()
    }

    /// Judges one environment in `mode`: each rule with its outcome and the
    /// controls it evidences.
    pub(crate) fn evaluate(
        &self,
        environment: &str,
        mode: Mode,
        as_of: Date,
    ) -> Vec<(RuleRef<'_>, Outcome)> {
        let env_json = self
            .spec
            .get("environments")
            .and_then(|e| e.get(environment))
            .cloned()
            .unwrap_or(Json::Null);
        let mut env_json = match env_json {
            Json::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        env_json.insert("name".to_owned(), Json::String(environment.to_owned()));
        let input = json!({
            "environment": env_json,
            "mode": mode.as_str(),
            "as_of": as_of.to_string(),
            "product": self.spec.get("product").cloned().unwrap_or(Json::Null),
            "spec": self.spec,
        });
        let input =
            regorus::Value::from_json_str(&input.to_string()).unwrap_or(regorus::Value::Null);
        self.rules
            .iter()
            .map(|c| {
                let mut engine = self.engine.clone();
                engine.set_input(input.clone());
                (RuleRef::Custom(&c.rule), self.judge(&mut engine, c))
            })
            .collect()
    }

    fn judge(&self, engine: &mut regorus::Engine, c: &Custom) -> Outcome {
        let value = match engine.eval_rule(c.query.clone()) {
            Ok(v) => v,
            Err(e) => {
                let e = e.to_string();
                let message = if e.contains("time limit") {
                    format!(
                        "the policy did not finish within the time limit of {:?}",
                        self.limit
                    )
                } else {
                    format!("the policy failed to evaluate: {}", first_line(&e))
                };
                return Outcome::Fail(message, None);
            }
        };
        if value == regorus::Value::Undefined {
            return Outcome::Pass("no violations".to_owned(), None);
        }
        let json: Json = value
            .to_json_str()
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Json::Null);
        let messages: Vec<String> = match json {
            Json::Array(items) => items.iter().map(message).collect(),
            Json::Null => Vec::new(),
            other => vec![message(&other)],
        };
        if messages.is_empty() {
            Outcome::Pass("no violations".to_owned(), None)
        } else {
            Outcome::Fail(messages.join("; "), None)
        }
    }
}

/// A deny entry: a string, or an object with `msg`.
fn message(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Object(m) => m
            .get("msg")
            .and_then(Json::as_str)
            .map_or_else(|| v.to_string(), str::to_owned),
        other => other.to_string(),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or(s).trim()
}

/// regorus reports `--> file:line:col` followed by the message.
fn compile_error(path: &str, text: &str) -> PolicyError {
    let mut line = 1;
    let mut column = 1;
    if let Some(loc) = text.lines().find_map(|l| l.trim().strip_prefix("--> ")) {
        let mut parts = loc.rsplitn(3, ':');
        column = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1);
        line = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1);
    }
    let message = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or_else(|| first_line(text))
        .to_owned();
    PolicyError {
        file: path.to_owned(),
        line,
        column,
        message: format!("invalid Rego: {message}"),
    }
}

/// What the METADATA block says.
struct Meta {
    path: String,
    id: String,
    id_line: usize,
    title: String,
    description: String,
    remediation: String,
    area: Area,
    applies: Applies,
    controls: Vec<ControlRef>,
}

impl Meta {
    fn into_rule(self) -> CustomRule {
        CustomRule {
            condition: format!("custom rule from {}", self.path),
            id: self.id,
            title: self.title,
            area: self.area,
            applies: self.applies,
            rationale: self.description,
            remediation: self.remediation,
            controls: self.controls,
        }
    }

    fn error(&self, line: usize, message: String) -> PolicyError {
        PolicyError {
            file: self.path.clone(),
            line,
            column: 1,
            message,
        }
    }

    fn read(source: &PolicySource) -> Result<Meta, PolicyError> {
        let err = |line: usize, message: String| PolicyError {
            file: source.path.clone(),
            line,
            column: 1,
            message,
        };
        let lines = metadata::block(&source.text).ok_or_else(|| {
            err(1, "no `# METADATA` block: expected one before `package`, with title, id, severity and remediation".to_owned())
        })?;
        let first = lines.first().map_or(1, |(n, _)| *n);
        let root = metadata::parse(&lines, first)
            .map_err(|(line, m)| err(line, format!("invalid METADATA: {m}")))?;
        // OPA keeps its own fields at the top and the rest under `custom:`;
        // both places are accepted.
        let field = |key: &str| {
            root.get(key)
                .or_else(|| root.get("custom").and_then(|c| c.get(key)))
        };
        let scalar = |key: &str| -> Result<Option<(String, usize)>, PolicyError> {
            match field(key) {
                None => Ok(None),
                Some(Node::Scalar(s, l)) => Ok(Some((s.clone(), *l))),
                Some(n) => Err(err(n.line(), format!("`{key}` must be a single value"))),
            }
        };
        let (title, _) =
            scalar("title")?.ok_or_else(|| err(first, "METADATA has no `title`".to_owned()))?;
        let (id, id_line) = scalar("id")?.ok_or_else(|| {
            err(
                first,
                "METADATA has no `id`: expected e.g. `id: ACME-DB-REPLICA`".to_owned(),
            )
        })?;
        let valid_id = id.len() >= 3
            && id.starts_with(|c: char| c.is_ascii_uppercase())
            && id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if !valid_id || id.starts_with("SG-") {
            return Err(err(
                id_line,
                format!(
                    "invalid rule id `{id}`: expected upper-case letters, digits and `-`, not starting with `SG-` (kept for built-in rules)"
                ),
            ));
        }
        let description = scalar("description")?.map(|(s, _)| s).unwrap_or_default();
        let remediation = scalar("remediation")?
            .map(|(s, _)| s)
            .unwrap_or_else(|| "See the policy's description.".to_owned());
        let area = match scalar("area")? {
            None => Area::Compliance,
            Some((a, l)) => Area::ALL
                .into_iter()
                .find(|x| x.title().eq_ignore_ascii_case(&a) || format!("{x:?}").eq_ignore_ascii_case(&a.replace('-', "")))
                .ok_or_else(|| err(l, format!("unknown area `{a}`: expected infrastructure, backup, monitoring, processes-and-staff, security or compliance")))?,
        };
        let applies = severity(field("severity"), &err, first)?;
        let mut controls = Vec::new();
        if let Some(node) = field("controls") {
            let Node::List(items, _) = node else {
                return Err(err(
                    node.line(),
                    "`controls` must be a list, e.g. `- pci-dss:12.10.1`".to_owned(),
                ));
            };
            for item in items {
                let Node::Scalar(text, line) = item else {
                    continue;
                };
                controls.push(control(text, *line, &err)?);
            }
        }
        Ok(Meta {
            path: source.path.clone(),
            id,
            id_line,
            title,
            description,
            remediation,
            area,
            applies,
            controls,
        })
    }
}

fn parse_severity(s: &str) -> Option<Severity> {
    match s {
        "required" => Some(Severity::Required),
        "recommended" => Some(Severity::Recommended),
        _ => None,
    }
}

fn severity(
    node: Option<&Node>,
    err: &dyn Fn(usize, String) -> PolicyError,
    first: usize,
) -> Result<Applies, PolicyError> {
    let expected = "expected `required` or `recommended`, or per mode, e.g. `production: required`";
    match node {
        None => Err(err(
            first,
            format!("METADATA has no `severity`: {expected}"),
        )),
        Some(Node::Scalar(s, l)) => {
            let sev = parse_severity(s)
                .ok_or_else(|| err(*l, format!("unknown severity `{s}`: {expected}")))?;
            Ok(Applies::new(Some(sev), Some(sev), Some(sev), Some(sev)))
        }
        Some(Node::Map(entries, _)) => {
            let mut a = Applies::new(None, None, None, None);
            for (mode, value) in entries {
                let Node::Scalar(s, l) = value else {
                    return Err(err(
                        value.line(),
                        format!("`severity.{mode}` must be a single value"),
                    ));
                };
                let m = Mode::parse(mode).ok_or_else(|| err(*l, format!("unknown mode `{mode}`: expected development, staging, soft-launch or production")))?;
                let sev = parse_severity(s)
                    .ok_or_else(|| err(*l, format!("unknown severity `{s}`: {expected}")))?;
                match m {
                    Mode::Development => a.development = Some(sev),
                    Mode::Staging => a.staging = Some(sev),
                    Mode::SoftLaunch => a.soft_launch = Some(sev),
                    Mode::Production => a.production = Some(sev),
                }
            }
            Ok(a)
        }
        Some(n) => Err(err(n.line(), format!("invalid `severity`: {expected}"))),
    }
}

/// `framework:control` or `framework:control:strength`.
fn control(
    text: &str,
    line: usize,
    err: &dyn Fn(usize, String) -> PolicyError,
) -> Result<ControlRef, PolicyError> {
    let (framework, rest) = text.split_once(':').ok_or_else(|| {
        err(
            line,
            format!(
                "invalid control `{text}`: expected `framework:control`, e.g. `pci-dss:12.10.1`"
            ),
        )
    })?;
    let framework = Framework::parse(framework.trim()).ok_or_else(|| {
        err(
            line,
            format!(
                "unknown framework `{framework}`: expected one of {}",
                Framework::NAMES.join(", ")
            ),
        )
    })?;
    let (id, strength) = match rest.rsplit_once(':') {
        Some((id, s @ ("full" | "partial" | "supports"))) => (
            id.trim(),
            match s {
                "full" => Strength::Full,
                "supports" => Strength::Supports,
                _ => Strength::Partial,
            },
        ),
        _ => (rest.trim(), Strength::Partial),
    };
    let id = control_ids(framework)
        .iter()
        .find(|c| **c == id)
        .ok_or_else(|| err(line, format!("`{id}` is not a {framework} control (see `stagegate report --framework {framework}`)")))?;
    Ok(ControlRef {
        framework,
        id,
        strength,
    })
}
