//! Framework packs: the published controls of each framework and the rules
//! that evidence them.
//!
//! Each pack is a data file (`frameworks/*.toml` in this crate) naming its
//! source document and version, so auditors can check the control ids and
//! titles against the original, and mappings can change without code.

mod assess;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use stagegate_spec::Framework;

pub use assess::{
    AttestationState, ControlAssessment, ControlStatus, Evidence, FrameworkAssessment,
    GroupAssessment, assess,
};

/// How much of a control a passing rule proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// The rule checks what the control requires: passing it meets the control.
    Full,
    /// The rule checks part of it; the rest needs an attestation.
    Partial,
    /// Related evidence an auditor will want to see; proves nothing alone.
    Supports,
}

impl Strength {
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::Full => "full",
            Strength::Partial => "partial",
            Strength::Supports => "supports",
        }
    }
}

/// One published control (article, requirement, success criterion).
#[derive(Debug)]
pub struct Control {
    /// As published: `11.4.3`, `Art. 33`, `A.8.13`, `CP-9`.
    pub id: String,
    pub title: String,
    /// Index of its group in [`Pack::groups`].
    pub group: usize,
    /// Rules that evidence it, strongest first.
    pub evidence: Vec<(String, Strength)>,
}

/// A division the framework itself makes (PCI DSS principal requirement,
/// 800-53 family, ISO theme, HIPAA safeguard, WCAG principle), so a report
/// reads in the order an assessor's worksheet does.
#[derive(Debug)]
pub struct Group {
    /// As published: `10`, `AC`, `A.8`, `164.312`, `1`.
    pub id: String,
    pub title: String,
}

/// A framework's controls, with where they come from.
#[derive(Debug)]
pub struct Pack {
    pub framework: Framework,
    /// Display name, e.g. "PCI DSS".
    pub name: String,
    /// Version of the source document, e.g. "4.0.1".
    pub version: String,
    /// The source document, as an auditor would cite it.
    pub source: String,
    pub url: String,
    /// Revision of this pack's mappings, bumped when they change.
    pub pack: u32,
    /// What the framework calls its groups ("control family", "theme").
    pub group_kind: String,
    pub groups: Vec<Group>,
    pub controls: Vec<Control>,
}

impl Pack {
    pub fn group_of(&self, control: &Control) -> &Group {
        &self.groups[control.group]
    }
}

/// A control a finding evidences, for `check` output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlRef {
    pub framework: Framework,
    pub id: &'static str,
    pub strength: Strength,
}

fn bit(f: Framework) -> u16 {
    let i = Framework::ALL.iter().position(|x| *x == f).unwrap_or(0);
    1 << i
}

/// The controls a rule evidences among the product's frameworks: a view
/// of the rule's static list, so a finding carries it without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Controls<'r> {
    all: &'r [ControlRef],
    mask: u16,
}

impl<'r> Controls<'r> {
    /// `all` restricted to `frameworks`.
    pub fn new(all: &'r [ControlRef], frameworks: &[Framework]) -> Controls<'r> {
        Controls {
            all,
            mask: frameworks.iter().fold(0, |m, f| m | bit(*f)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'r ControlRef> + use<'r> {
        let mask = self.mask;
        self.all
            .iter()
            .filter(move |c| mask & bit(c.framework) != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    framework: String,
    name: String,
    version: String,
    source: String,
    url: String,
    pack: u32,
    group_kind: String,
    groups: Vec<GroupFile>,
    controls: Vec<ControlFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    id: String,
    title: String,
    /// The group's first control; it runs to the next group's first.
    first: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlFile {
    id: String,
    title: String,
    #[serde(default)]
    full: Vec<String>,
    #[serde(default)]
    partial: Vec<String>,
    #[serde(default)]
    supports: Vec<String>,
}

const SOURCES: &[(&str, &str)] = &[
    ("gdpr.toml", include_str!("../../frameworks/gdpr.toml")),
    ("ccpa.toml", include_str!("../../frameworks/ccpa.toml")),
    ("hipaa.toml", include_str!("../../frameworks/hipaa.toml")),
    (
        "pci-dss.toml",
        include_str!("../../frameworks/pci-dss.toml"),
    ),
    ("fisma.toml", include_str!("../../frameworks/fisma.toml")),
    (
        "nist-800-171.toml",
        include_str!("../../frameworks/nist-800-171.toml"),
    ),
    (
        "iso-27001.toml",
        include_str!("../../frameworks/iso-27001.toml"),
    ),
    ("wcag.toml", include_str!("../../frameworks/wcag.toml")),
    (
        "section-508.toml",
        include_str!("../../frameworks/section-508.toml"),
    ),
];

fn parse(name: &str, text: &str) -> Result<Pack, String> {
    let file: PackFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let framework = Framework::parse(&file.framework)
        .ok_or_else(|| format!("{name}: unknown framework `{}`", file.framework))?;
    let mut next_group = 0;
    let mut controls = Vec::with_capacity(file.controls.len());
    for c in file.controls {
        if file.groups.get(next_group).is_some_and(|g| g.first == c.id) {
            next_group += 1;
        } else if next_group == 0 {
            return Err(format!(
                "{name}: control `{}` comes before the first group's first control",
                c.id
            ));
        }
        let evidence = (c.full.into_iter().map(|r| (r, Strength::Full)))
            .chain(c.partial.into_iter().map(|r| (r, Strength::Partial)))
            .chain(c.supports.into_iter().map(|r| (r, Strength::Supports)))
            .collect();
        controls.push(Control {
            id: c.id,
            title: c.title,
            group: next_group - 1,
            evidence,
        });
    }
    if let Some(g) = file.groups.get(next_group) {
        return Err(format!(
            "{name}: group `{}` starts at `{}`, which is not a control after the previous group's",
            g.id, g.first
        ));
    }
    let groups = file
        .groups
        .into_iter()
        .map(|g| Group {
            id: g.id,
            title: g.title,
        })
        .collect();
    Ok(Pack {
        framework,
        name: file.name,
        version: file.version,
        source: file.source,
        url: file.url,
        pack: file.pack,
        group_kind: file.group_kind,
        groups,
        controls,
    })
}

/// Every framework pack, in `Framework` order.
pub fn packs() -> &'static [Pack] {
    static PACKS: OnceLock<Vec<Pack>> = OnceLock::new();
    PACKS.get_or_init(|| {
        // The packs are compiled in and verified by this module's tests; one
        // that does not parse is a build defect, not a user error.
        let mut packs: Vec<Pack> = SOURCES
            .iter()
            .map(|(name, text)| parse(name, text).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        packs.sort_by_key(|p| p.framework);
        packs
    })
}

/// The pack of one framework.
pub fn pack(framework: Framework) -> Option<&'static Pack> {
    packs().iter().find(|p| p.framework == framework)
}

struct Index {
    ids: HashMap<Framework, Vec<&'static str>>,
    by_rule: HashMap<&'static str, Vec<ControlRef>>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut ids: HashMap<Framework, Vec<&'static str>> = HashMap::new();
        let mut by_rule: HashMap<&'static str, Vec<ControlRef>> = HashMap::new();
        for pack in packs() {
            for control in &pack.controls {
                ids.entry(pack.framework)
                    .or_default()
                    .push(control.id.as_str());
                for (rule, strength) in &control.evidence {
                    by_rule.entry(rule.as_str()).or_default().push(ControlRef {
                        framework: pack.framework,
                        id: control.id.as_str(),
                        strength: *strength,
                    });
                }
            }
        }
        Index { ids, by_rule }
    })
}

/// The control ids of a framework, for validating attestations.
pub fn control_ids(framework: Framework) -> &'static [&'static str] {
    index().ids.get(&framework).map_or(&[], Vec::as_slice)
}

/// The controls of the given frameworks that a rule evidences.
pub fn controls_of(rule: &str, frameworks: &[Framework]) -> Controls<'static> {
    let all = index().by_rule.get(rule).map_or(&[][..], Vec::as_slice);
    Controls::new(all, frameworks)
}

#[cfg(test)]
mod tests;
