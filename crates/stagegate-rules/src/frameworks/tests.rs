use std::collections::HashSet;

use stagegate_spec::Framework;

use super::*;
use crate::find_rule;

#[test]
fn every_framework_has_one_pack_that_parses() {
    for f in Framework::ALL {
        let p = pack(*f).unwrap_or_else(|| panic!("no pack for {f}"));
        assert!(!p.controls.is_empty(), "{f} has no controls");
        assert!(!p.version.is_empty() && !p.source.is_empty() && p.url.starts_with("https://"));
    }
    assert_eq!(packs().len(), Framework::ALL.len());
}

#[test]
fn control_ids_are_unique_and_rules_exist() {
    for p in packs() {
        let mut seen = HashSet::new();
        for c in &p.controls {
            assert!(
                seen.insert(c.id.as_str()),
                "{}: duplicate control {}",
                p.name,
                c.id
            );
            assert!(
                !c.title.trim().is_empty(),
                "{}: {} has no title",
                p.name,
                c.id
            );
            let mut rules = HashSet::new();
            for (rule, _) in &c.evidence {
                assert!(
                    find_rule(rule).is_some(),
                    "{} {}: unknown rule {rule}",
                    p.name,
                    c.id
                );
                assert!(
                    rules.insert(rule),
                    "{} {}: {rule} mapped twice",
                    p.name,
                    c.id
                );
            }
        }
    }
}

/// The packs that are complete enumerations have the published count.
#[test]
fn complete_packs_have_the_published_number_of_controls() {
    let count = |f| pack(f).map_or(0, |p| p.controls.len());
    assert_eq!(
        count(Framework::Nist800171),
        110,
        "NIST SP 800-171 r2 has 110 requirements"
    );
    assert_eq!(
        count(Framework::Iso27001),
        93,
        "ISO/IEC 27001:2022 Annex A has 93 controls"
    );
    assert_eq!(
        count(Framework::Wcag),
        55,
        "WCAG 2.2 has 55 A/AA success criteria besides 4.1.1"
    );
}

/// Control ids follow each framework's published numbering scheme.
#[test]
fn control_ids_follow_the_published_scheme() {
    let scheme = |f: Framework, id: &str| -> bool {
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        let dotted = |s: &str, min: usize, max: usize| {
            let parts: Vec<&str> = s.split('.').collect();
            (min..=max).contains(&parts.len()) && parts.iter().all(|p| digits(p))
        };
        match f {
            Framework::PciDss => dotted(id, 3, 5),
            Framework::Nist800171 => id.starts_with("3.") && dotted(id, 3, 3),
            Framework::Wcag => dotted(id, 3, 3),
            Framework::Iso27001 => id.strip_prefix("A.").is_some_and(|r| dotted(r, 2, 2)),
            Framework::Fisma => id.split_once('-').is_some_and(|(fam, n)| {
                fam.len() == 2 && fam.chars().all(|c| c.is_ascii_uppercase()) && digits(n)
            }),
            Framework::Gdpr => id.starts_with("Art. "),
            Framework::Hipaa => id.starts_with("164."),
            Framework::Ccpa => id.starts_with("1798."),
            Framework::Section508 => id.starts_with('E') || dotted(id, 2, 2),
        }
    };
    for p in packs() {
        for c in &p.controls {
            assert!(
                scheme(p.framework, &c.id),
                "{}: `{}` does not look like a published id",
                p.name,
                c.id
            );
        }
    }
}

#[test]
fn rules_name_their_controls_only_for_declared_frameworks() {
    let pci = controls_of("SG-PCI-PENTEST-EXTERNAL", &[Framework::PciDss]);
    assert!(
        pci.iter()
            .any(|c| c.id == "11.4.3" && c.strength == Strength::Full)
    );
    assert!(controls_of("SG-PCI-PENTEST-EXTERNAL", &[Framework::Gdpr]).is_empty());
    assert!(control_ids(Framework::Hipaa).contains(&"164.308(a)(7)(ii)(A)"));
}
