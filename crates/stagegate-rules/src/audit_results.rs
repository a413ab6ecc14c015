//! Per-criterion accessibility audit results (`accessibility_audit.results`):
//! axe-core's JSON, or a CSV of criterion → result as an auditor's
//! conformance report (ACR/VPAT) states it. They let each WCAG success
//! criterion rest on what was found for it, instead of one audit standing
//! for all 55.

use std::collections::BTreeMap;

use serde::Deserialize;

/// What the results say of one success criterion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CriterionResult {
    Pass,
    Fail,
    NotApplicable,
    /// axe-core's `incomplete`: a person must look.
    CannotTell,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CriterionFinding {
    pub result: CriterionResult,
    /// The failing checks, the auditor's note, or how many checks passed.
    pub detail: String,
}

/// The results file, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditResults {
    /// Whether a tool produced them: an automated pass covers only part of
    /// a criterion, while an auditor's `pass` is a conclusion about it.
    pub automated: bool,
    /// "axe-core 4.10.2" or "conformance report (CSV)".
    pub tool: String,
    /// By criterion id (`1.4.3`).
    pub criteria: BTreeMap<String, CriterionFinding>,
}

impl AuditResults {
    pub fn get(&self, criterion: &str) -> Option<&CriterionFinding> {
        self.criteria.get(criterion)
    }

    /// The criteria that fail, in order.
    pub fn failing(&self) -> Vec<&str> {
        self.criteria
            .iter()
            .filter(|(_, f)| f.result == CriterionResult::Fail)
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

/// Reads a results file of WCAG 2.2 criteria, by its extension.
pub fn read(path: &str, text: &str) -> Result<AuditResults, String> {
    parse(
        path,
        text,
        crate::frameworks::control_ids(stagegate_spec::Framework::Wcag),
    )
}

/// Parses a results file by its extension: `.json` (axe-core) or `.csv`.
/// `known` are the criterion ids a CSV may name.
pub fn parse(path: &str, text: &str, known: &[&str]) -> Result<AuditResults, String> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".json") {
        parse_axe(text)
    } else if lower.ends_with(".csv") {
        parse_csv(text, known)
    } else {
        Err(
            "expected a `.json` file (axe-core results) or a `.csv` file (criterion,result[,note])"
                .to_owned(),
        )
    }
}

#[derive(Deserialize)]
struct AxePage {
    #[serde(rename = "testEngine")]
    engine: Option<AxeEngine>,
    url: Option<String>,
    violations: Vec<AxeRule>,
    #[serde(default)]
    passes: Vec<AxeRule>,
    #[serde(default)]
    incomplete: Vec<AxeRule>,
}

#[derive(Deserialize)]
struct AxeEngine {
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct AxeRule {
    id: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    nodes: Vec<serde::de::IgnoredAny>,
}

/// The success criterion an axe-core tag names: `wcag143` is 1.4.3,
/// `wcag1410` is 1.4.10 (principle and guideline are one digit each).
fn criterion_of_tag(tag: &str) -> Option<String> {
    let digits = tag.strip_prefix("wcag")?;
    if digits.len() < 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!(
        "{}.{}.{}",
        &digits[..1],
        &digits[1..2],
        &digits[2..]
    ))
}

#[derive(Default)]
struct Tally {
    failing: Vec<String>,
    unsure: Vec<String>,
    passed: usize,
}

fn parse_axe(text: &str) -> Result<AuditResults, String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON (line {}, column {}): {e}", e.line(), e.column()))?;
    // Read by shape rather than as an untagged enum, so the error says
    // which field is wrong instead of "no variant matched".
    let pages = if value.is_array() {
        serde_json::from_value::<Vec<AxePage>>(value)
    } else {
        serde_json::from_value::<AxePage>(value).map(|p| vec![p])
    }
    .map_err(|e| format!("not axe-core results: {e}"))?;
    if pages.is_empty() {
        return Err("the axe-core results hold no page".to_owned());
    }
    let engine = pages.iter().find_map(|p| p.engine.as_ref()).map_or_else(
        || "axe-core".to_owned(),
        |e| format!("{} {}", e.name, e.version),
    );
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    for page in &pages {
        let at = page
            .url
            .as_deref()
            .map_or_else(String::new, |u| format!(" on {u}"));
        for (rules, kind) in [
            (&page.violations, CriterionResult::Fail),
            (&page.incomplete, CriterionResult::CannotTell),
            (&page.passes, CriterionResult::Pass),
        ] {
            for rule in rules {
                for criterion in rule.tags.iter().filter_map(|t| criterion_of_tag(t)) {
                    let t = tally.entry(criterion).or_default();
                    let what = format!(
                        "{} ({} element{}){at}",
                        rule.id,
                        rule.nodes.len(),
                        if rule.nodes.len() == 1 { "" } else { "s" }
                    );
                    match kind {
                        CriterionResult::Fail => t.failing.push(what),
                        CriterionResult::CannotTell => t.unsure.push(what),
                        _ => t.passed += 1,
                    }
                }
            }
        }
    }
    let criteria = tally
        .into_iter()
        .map(|(id, t)| {
            let finding = if !t.failing.is_empty() {
                CriterionFinding {
                    result: CriterionResult::Fail,
                    detail: format!("axe-core reports {}", t.failing.join(", ")),
                }
            } else if !t.unsure.is_empty() {
                CriterionFinding {
                    result: CriterionResult::CannotTell,
                    detail: format!("axe-core needs review of {}", t.unsure.join(", ")),
                }
            } else {
                CriterionFinding {
                    result: CriterionResult::Pass,
                    detail: format!(
                        "axe-core passed {} automated check{}",
                        t.passed,
                        if t.passed == 1 { "" } else { "s" }
                    ),
                }
            };
            (id, finding)
        })
        .collect();
    Ok(AuditResults {
        automated: true,
        tool: engine,
        criteria,
    })
}

/// The cells of one CSV line (RFC 4180 quoting), or the column where a
/// quoted cell is left open.
fn cells(line: &str) -> Result<Vec<String>, usize> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = line.char_indices().peekable();
    let mut quoted = false;
    let mut opened_at = 0;
    while let Some((i, c)) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek().is_some_and(|(_, n)| *n == '"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.trim().is_empty() => {
                quoted = true;
                opened_at = i + 1;
                cell.clear();
            }
            (false, ',') => out.push(std::mem::take(&mut cell).trim().to_owned()),
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err(opened_at);
    }
    out.push(cell.trim().to_owned());
    Ok(out)
}

/// A conformance report's word for a result, as WCAG-EM and the VPAT use them.
fn result_of(word: &str) -> Option<CriterionResult> {
    match word.to_ascii_lowercase().replace(['_', '-'], " ").as_str() {
        "pass" | "passed" | "supports" => Some(CriterionResult::Pass),
        "fail" | "failed" | "does not support" | "partially supports" => {
            Some(CriterionResult::Fail)
        }
        "not applicable" | "n/a" | "na" => Some(CriterionResult::NotApplicable),
        "cannot tell" | "not tested" => Some(CriterionResult::CannotTell),
        _ => None,
    }
}

fn parse_csv(text: &str, known: &[&str]) -> Result<AuditResults, String> {
    let mut criteria = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let row = cells(line.trim_start_matches('\u{feff}'))
            .map_err(|col| format!("line {n}, column {col}: a quoted cell is not closed"))?;
        let criterion = row[0].as_str();
        if criteria.is_empty() && criterion.eq_ignore_ascii_case("criterion") {
            continue;
        }
        let Some(word) = row.get(1).filter(|w| !w.is_empty()) else {
            return Err(format!(
                "line {n}: `{criterion}` has no result; expected `criterion,result[,note]`"
            ));
        };
        let criterion = criterion
            .trim_start_matches("SC ")
            .trim_start_matches("sc ");
        if !known.contains(&criterion) {
            return Err(format!(
                "line {n}: `{criterion}` is not a WCAG 2.2 level A or AA success criterion"
            ));
        }
        let result = result_of(word).ok_or_else(|| {
            format!(
                "line {n}: `{word}` is not a result; expected pass, fail, not-applicable or cannot-tell (or supports, partially supports, does not support)"
            )
        })?;
        let note = row.get(2).map(String::as_str).unwrap_or_default();
        let detail = if note.is_empty() {
            format!("{word} in the conformance report")
        } else {
            format!("{word} in the conformance report: {note}")
        };
        if criteria
            .insert(criterion.to_owned(), CriterionFinding { result, detail })
            .is_some()
        {
            return Err(format!("line {n}: `{criterion}` is listed twice"));
        }
    }
    if criteria.is_empty() {
        return Err(
            "no criterion is listed; expected lines of `criterion,result[,note]`".to_owned(),
        );
    }
    Ok(AuditResults {
        automated: false,
        tool: "conformance report (CSV)".to_owned(),
        criteria,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["1.1.1", "1.4.3", "1.4.10", "2.4.7"];

    #[test]
    fn axe_tags_name_criteria() {
        assert_eq!(criterion_of_tag("wcag143").as_deref(), Some("1.4.3"));
        assert_eq!(criterion_of_tag("wcag1410").as_deref(), Some("1.4.10"));
        assert_eq!(criterion_of_tag("wcag2411").as_deref(), Some("2.4.11"));
        assert_eq!(criterion_of_tag("wcag2aa"), None);
        assert_eq!(criterion_of_tag("wcag21aa"), None);
        assert_eq!(criterion_of_tag("cat.color"), None);
    }

    #[test]
    fn axe_results_fail_a_criterion_with_any_violation_on_any_page() {
        let page = |violations: &str, passes: &str| {
            format!(
                r#"{{"testEngine":{{"name":"axe-core","version":"4.10.2"}},"url":"http://127.0.0.1/","violations":[{violations}],"passes":[{passes}],"incomplete":[],"inapplicable":[]}}"#
            )
        };
        let contrast =
            r#"{"id":"color-contrast","tags":["cat.color","wcag2aa","wcag143"],"nodes":[{},{}]}"#;
        let alt = r#"{"id":"image-alt","tags":["wcag2a","wcag111"],"nodes":[{}]}"#;
        let text = format!(
            "[{},{}]",
            page("", &format!("{contrast},{alt}")),
            page(contrast, "")
        );
        let r = parse("axe.json", &text, KNOWN).expect("parses");
        assert!(r.automated);
        assert_eq!(r.tool, "axe-core 4.10.2");
        let c = r.get("1.4.3").expect("1.4.3");
        assert_eq!(c.result, CriterionResult::Fail);
        assert_eq!(
            c.detail,
            "axe-core reports color-contrast (2 elements) on http://127.0.0.1/"
        );
        assert_eq!(r.get("1.1.1").expect("1.1.1").result, CriterionResult::Pass);
        assert_eq!(r.failing(), ["1.4.3"]);
        // A single page object is read too.
        assert!(parse("a.JSON", &page("", alt), KNOWN).is_ok());
        let err = parse("a.json", "{\"passes\": []}", KNOWN).expect_err("no violations key");
        assert_eq!(err, "not axe-core results: missing field `violations`");
        let err = parse("a.json", "[{", KNOWN).expect_err("not JSON");
        assert!(err.starts_with("not JSON (line 1, column 2)"), "{err}");
    }

    #[test]
    fn csv_reads_an_auditors_conclusions() {
        let text = "criterion,result,note\n1.1.1,pass\n1.4.3,Partially Supports,\"footer links, 3.9:1\"\n2.4.7,not-applicable\n";
        let r = parse("acr.csv", text, KNOWN).expect("parses");
        assert!(!r.automated);
        assert_eq!(r.get("1.1.1").expect("1.1.1").result, CriterionResult::Pass);
        let c = r.get("1.4.3").expect("1.4.3");
        assert_eq!(c.result, CriterionResult::Fail);
        assert_eq!(
            c.detail,
            "Partially Supports in the conformance report: footer links, 3.9:1"
        );
        assert_eq!(
            r.get("2.4.7").expect("2.4.7").result,
            CriterionResult::NotApplicable
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = |text: &str| parse("acr.csv", text, KNOWN).expect_err(text);
        assert_eq!(
            err("1.1.1,pass\n9.9.9,pass\n"),
            "line 2: `9.9.9` is not a WCAG 2.2 level A or AA success criterion"
        );
        assert!(err("1.1.1,maybe\n").starts_with("line 1: `maybe` is not a result"));
        assert_eq!(
            err("1.1.1,pass\n1.1.1,fail\n"),
            "line 2: `1.1.1` is listed twice"
        );
        assert_eq!(
            err("1.1.1\n"),
            "line 1: `1.1.1` has no result; expected `criterion,result[,note]`"
        );
        assert_eq!(
            err("1.1.1,pass,\"open\n"),
            "line 1, column 12: a quoted cell is not closed"
        );
        assert!(err("criterion,result\n").starts_with("no criterion is listed"));
        assert!(parse("acr.txt", "1.1.1,pass", KNOWN).is_err());
    }
}
