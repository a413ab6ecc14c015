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

/// Every pack has the published number of controls, or, where a pack
/// lists a stated part of a text, the number of that part.
#[test]
fn packs_have_the_published_number_of_controls() {
    let ids = |f| -> Vec<String> {
        pack(f).map_or_else(Vec::new, |p| {
            p.controls.iter().map(|c| c.id.clone()).collect()
        })
    };
    let count = |f| ids(f).len();
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
    let fisma = ids(Framework::Fisma);
    let enhancements = fisma.iter().filter(|id| id.contains('(')).count();
    assert_eq!(
        (fisma.len() - enhancements, enhancements),
        (177, 110),
        "the SP 800-53B moderate baseline selects 177 controls and 110 enhancements"
    );
    assert!(
        fisma.iter().any(|id| id == "CM-12"),
        "CM-12 is in the baseline"
    );
    assert_eq!(
        count(Framework::PciDss),
        250,
        "PCI DSS v4.0.1 Requirements 1-12 define 250 requirements"
    );
    let service_providers = pack(Framework::PciDss)
        .map(|p| {
            p.controls
                .iter()
                .filter(|c| {
                    c.title
                        .starts_with("Additional requirement for service providers")
                        || c.title.starts_with(
                            "Additional requirement for multi-tenant service providers",
                        )
                })
                .count()
        })
        .unwrap_or(0);
    assert_eq!(
        service_providers, 16,
        "16 requirements of PCI DSS v4.0.1 are for service providers only"
    );
    let hipaa = ids(Framework::Hipaa);
    let security_rule = hipaa.iter().filter(|id| id.starts_with("164.3")).count();
    assert_eq!(
        (security_rule, hipaa.len() - security_rule),
        (68, 6),
        "the Security Rule's 22 standards, its 42 headed implementation specifications and the four of 164.314(b)(2); the Breach Notification Rule's 6 sections"
    );
    let gdpr = ids(Framework::Gdpr);
    let articles: HashSet<&str> = gdpr
        .iter()
        .filter_map(|id| id.strip_prefix("Art. "))
        .map(|a| a.split('(').next().unwrap_or(a))
        .collect();
    assert_eq!(
        articles.len(),
        40,
        "the 40 articles that oblige a controller or processor"
    );
    assert!(
        !gdpr.iter().any(|id| id == "Art. 32"),
        "Art. 32 is listed by its measures, not again as a whole"
    );
    assert_eq!(
        count(Framework::Ccpa),
        14,
        "12 sections of Title 1.81.5 and 1798.81.5 and 1798.82"
    );
    let s508 = ids(Framework::Section508);
    let chapters_5_and_6 = s508
        .iter()
        .filter(|id| id.starts_with('5') || id.starts_with('6'))
        .count();
    assert_eq!(
        (s508.len(), chapters_5_and_6),
        (47, 34),
        "Chapters 5 and 6 have 41 provisions, 34 besides their scope and general ones"
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
                let (base, enhancement) = match n.split_once('(') {
                    Some((base, rest)) => (base, rest.strip_suffix(')')),
                    None => (n, Some("1")),
                };
                fam.len() == 2
                    && fam.chars().all(|c| c.is_ascii_uppercase())
                    && digits(base)
                    && enhancement.is_some_and(digits)
            }),
            Framework::Gdpr => id.starts_with("Art. "),
            Framework::Hipaa => id.starts_with("164."),
            Framework::Ccpa => id.starts_with("1798."),
            Framework::Section508 => id.starts_with('E') || dotted(id, 2, 3),
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

/// Each control sits in the group its published id puts it in, so a group
/// boundary out of order in a pack file cannot mis-file controls silently.
#[test]
fn controls_sit_in_the_group_their_id_names() {
    let article = |id: &str| -> u32 {
        let n: String = id
            .trim_start_matches("Art. ")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        n.parse().expect("an article number")
    };
    for p in packs() {
        assert!(!p.groups.is_empty(), "{} has no groups", p.name);
        for c in &p.controls {
            let g = p.group_of(c).id.as_str();
            let fits = match p.framework {
                Framework::PciDss
                | Framework::Wcag
                | Framework::Nist800171
                | Framework::Iso27001 => c.id.starts_with(&format!("{g}.")),
                Framework::Fisma => c.id.starts_with(&format!("{g}-")),
                Framework::Hipaa if g == "Subpart D" => [
                    "164.404", "164.406", "164.408", "164.410", "164.412", "164.414",
                ]
                .contains(&c.id.as_str()),
                Framework::Hipaa => c.id.starts_with(&format!("{g}(")),
                Framework::Gdpr => {
                    let range = match g {
                        "Chapter II" => 5..=11,
                        "Chapter III" => 12..=23,
                        "Chapter IV" => 24..=43,
                        "Chapter V" => 44..=50,
                        other => panic!("unknown GDPR chapter {other}"),
                    };
                    range.contains(&article(&c.id))
                }
                Framework::Ccpa => (c.id.starts_with("1798.8")) == (g == "Title 1.81"),
                Framework::Section508 => match g {
                    "Chapter 2" => c.id.starts_with('E'),
                    other => c.id.starts_with(other.trim_start_matches("Chapter ")),
                },
            };
            assert!(fits, "{}: `{}` is filed under `{g}`", p.name, c.id);
        }
        for (i, g) in p.groups.iter().enumerate() {
            assert!(
                p.controls.iter().any(|c| c.group == i),
                "{}: group `{}` is empty",
                p.name,
                g.id
            );
        }
    }
}

/// docs/compliance.md counts, per pack, the controls by their strongest
/// mapping; the table must say what the packs say.
#[test]
fn the_documented_counts_match_the_packs() {
    let doc = include_str!("../../../../docs/compliance.md");
    for p in packs() {
        let strongest = |c: &super::Control| c.evidence.iter().map(|(_, s)| *s).min();
        let count = |s: Option<Strength>| p.controls.iter().filter(|c| strongest(c) == s).count();
        let row = doc
            .lines()
            .find(|l| {
                l.starts_with(&format!("| `{}` |", p.framework.as_str()))
                    && l.matches('|').count() == 7
            })
            .unwrap_or_else(|| panic!("no row for {} in docs/compliance.md", p.framework));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let numbers: Vec<usize> = [cells[2], cells[4], cells[5], cells[6]]
            .iter()
            .map(|n| n.parse().unwrap_or_else(|_| panic!("{row}")))
            .collect();
        assert_eq!(
            numbers,
            [
                p.controls.len(),
                count(Some(Strength::Partial)),
                count(Some(Strength::Supports)),
                count(None)
            ],
            "{}: controls, partial, supports, none; full are {:?}",
            p.framework,
            p.controls
                .iter()
                .filter(|c| strongest(c) == Some(Strength::Full))
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
        );
    }
}
