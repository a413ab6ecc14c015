//! OSCAL 1.1 documents of the compliance report: assessment results (one
//! result per environment, a finding per control, an observation per rule
//! result or attestation it rests on) and a plan of action and milestones
//! (a risk and an item per control that is not met, only declared, or
//! waived, with the rule's remediation and a waiver's expiry as milestone).
//!
//! UUIDs are name-based (version 5), so the same report made twice is the
//! same document, and a finding keeps its UUID across reports as OSCAL asks
//! ("assigned per-subject"); the document's own UUID changes with the spec,
//! the as-of date and whether probes ran.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use stagegate_rules::frameworks::{ControlAssessment, ControlStatus, FrameworkAssessment};
use stagegate_rules::{Basis, Finding, Status};
use stagegate_spec::{Date, Framework, rfc3339};

use super::ComplianceReport;

/// The OSCAL version the documents follow.
pub const OSCAL_VERSION: &str = "1.1.3";

/// Namespace of stagegate's own properties (`ns` of a `prop`).
const NS: &str = "https://github.com/stagegate/stagegate/ns/oscal";

/// UUID namespace of stagegate's name-based UUIDs.
const UUID_NAMESPACE: [u8; 16] = [
    0x5d, 0x1b, 0x3f, 0x0e, 0x8c, 0x3a, 0x4e, 0x57, 0x9a, 0x61, 0x2f, 0x4b, 0x7c, 0x0d, 0x9e, 0x12,
];

/// A version 5 UUID (RFC 9562 section 5.5) of `name` in `namespace`.
fn uuid5_in(namespace: [u8; 16], name: &[u8]) -> String {
    let mut hash = Sha1::new();
    hash.update(namespace);
    hash.update(name);
    let digest = hash.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A name-based UUID in stagegate's namespace.
fn uuid5(name: &str) -> String {
    uuid5_in(UUID_NAMESPACE, name.as_bytes())
}

/// The control's id in OSCAL form. For NIST SP 800-53 it is the id of
/// NIST's own OSCAL catalogue (`ac-2.1` for `AC-2(1)`); the other
/// frameworks publish no OSCAL catalogue, and their ids often start with a
/// digit, which an OSCAL token may not, so the published id is prefixed
/// with the framework (`pci-dss-11.4.3`), parentheses become dots and
/// spaces go (`gdpr-Art.32.1.a`, `hipaa-164.308.a.1.ii.A`). The published
/// id stays on every finding as the `published-id` property.
pub fn control_id(framework: Framework, id: &str) -> String {
    let dotted: String = id
        .replace(")(", ".")
        .replace('(', ".")
        .chars()
        .filter(|c| *c != ')' && !c.is_whitespace())
        .collect();
    match framework {
        Framework::Fisma => dotted.to_ascii_lowercase(),
        other => format!("{}-{dotted}", other.as_str()),
    }
}

fn prop(name: &str, value: impl std::fmt::Display) -> Value {
    json!({ "name": name, "ns": NS, "value": value.to_string() })
}

fn midnight(date: Date) -> String {
    format!("{date}T00:00:00Z")
}

/// What everything in one document is named from.
struct Names<'a> {
    product: &'a str,
    framework: &'a str,
    /// Changes with the spec, the as-of date and `--live`.
    document: String,
}

impl Names<'_> {
    fn of<'a>(r: &'a ComplianceReport<'a>) -> Names<'a> {
        Names {
            product: r.product,
            framework: r.pack.framework.as_str(),
            document: format!(
                "{}|{}|{}|{}|{}",
                r.product,
                r.pack.framework.as_str(),
                r.as_of,
                r.provenance.spec.sha256,
                r.live
            ),
        }
    }

    fn subject(&self, parts: &[&str]) -> String {
        uuid5(&format!(
            "{}|{}|{}",
            self.product,
            self.framework,
            parts.join("|")
        ))
    }

    fn instance(&self, parts: &[&str]) -> String {
        uuid5(&format!("{}|{}", self.document, parts.join("|")))
    }
}

fn metadata(r: &ComplianceReport<'_>, title: &str) -> Value {
    json!({
        "title": title,
        "last-modified": rfc3339(r.provenance.generated_at),
        "version": r.as_of.to_string(),
        "oscal-version": OSCAL_VERSION,
        "props": [
            prop("framework", r.pack.framework.as_str()),
            prop("framework-version", &r.pack.version),
            prop("mapping-pack", r.pack.pack),
            prop("as-of", r.as_of),
            prop("live-probes", r.live),
            prop("stagegate-version", &r.provenance.stagegate_version),
            prop("catalogue-revision", &r.provenance.catalogue_revision),
            prop("spec", &r.provenance.spec.path),
            prop("spec-sha256", &r.provenance.spec.sha256),
        ],
        "links": [{ "href": r.pack.url, "rel": "reference", "text": r.pack.source }],
    })
}

/// How an observation was made, in OSCAL's words.
fn method(basis: Basis) -> &'static str {
    match basis {
        Basis::Observed => "TEST",
        Basis::Document | Basis::Declared | Basis::Attested => "EXAMINE",
        Basis::None => "UNKNOWN",
    }
}

/// The observations of one environment: one per rule result that bears
/// on a control, and one per attestation, keyed for findings to cite.
struct Observations<'n> {
    names: &'n Names<'n>,
    env: String,
    by_key: BTreeMap<String, Value>,
}

impl Observations<'_> {
    fn of_finding(&mut self, r: &ComplianceReport<'_>, f: &Finding<'_>) -> String {
        let key = format!("rule:{}", f.rule.id());
        let uuid = self.names.instance(&[&self.env, &key]);
        self.by_key
            .entry(key)
            .or_insert_with(|| finding_observation(r, f, &uuid));
        uuid
    }

    fn of_attestation(
        &mut self,
        r: &ComplianceReport<'_>,
        c: &ControlAssessment<'_>,
    ) -> Option<String> {
        let (a, state) = c.attestation.as_ref()?;
        let key = format!("attestation:{}:{}", c.control.id, a.evidence.value);
        let uuid = self.names.instance(&[&self.env, &key]);
        let mut props = vec![
            prop("attested-by", &a.by.value),
            prop("valid-until", a.valid_until.value),
            prop("state", super::attestation_state(state)),
        ];
        let mut evidence_props = Vec::new();
        if let Some(d) = r.files.document(&a.evidence.value) {
            evidence_props.push(prop("sha256", &d.sha256));
        }
        let l = r.location(a.span);
        props.push(prop(
            "location",
            format!("{}:{}:{}", l.file, l.line, l.column),
        ));
        let mut evidence = json!({
            "href": a.evidence.value,
            "description": format!("evidence cited by the attestation of {}", a.by.value),
        });
        if !evidence_props.is_empty() {
            evidence["props"] = json!(evidence_props);
        }
        let mut obs = json!({
            "uuid": uuid,
            "title": format!("Attestation of {} by {}", c.control.id, one_line(&a.by.value)),
            "description": format!(
                "{} attested the control on {}, valid until {} ({})",
                a.by.value,
                a.date.value,
                a.valid_until.value,
                super::attestation_state(state)
            ),
            "props": props,
            "methods": ["EXAMINE"],
            "relevant-evidence": [evidence],
            "collected": midnight(a.date.value),
        });
        if let Some(note) = &a.note {
            obs["remarks"] = json!(note);
        }
        self.by_key.insert(key, obs);
        Some(uuid)
    }

    /// The observations a control's status rests on: every applicable rule
    /// result mapped to it, and its attestation.
    fn for_control(&mut self, r: &ComplianceReport<'_>, c: &ControlAssessment<'_>) -> Vec<String> {
        let mut uuids: Vec<String> = c
            .evidence
            .iter()
            .filter(|e| e.finding.status != Status::Skip)
            .map(|e| self.of_finding(r, e.finding))
            .collect();
        uuids.extend(self.of_attestation(r, c));
        uuids
    }

    fn into_values(self) -> Vec<Value> {
        self.by_key.into_values().collect()
    }
}

/// The observation of one rule result: what it found, how, when, and the
/// evidence it cites (documents with their hash).
fn finding_observation(r: &ComplianceReport<'_>, f: &Finding<'_>, uuid: &str) -> Value {
    let evidence: Vec<Value> = f
        .evidence
        .iter()
        .map(|e| {
            let mut description = format!("{} ({})", e.what, e.basis.as_str());
            if let Some(o) = &e.observation {
                description.push_str(&format!(": {}", o.summary));
            }
            if e.stale {
                description.push_str(" (stale: older than evidence_max_age)");
            }
            let mut props = vec![prop("basis", e.basis.as_str()), prop("source", &e.source)];
            if let Some(h) = &e.sha256 {
                props.push(prop("sha256", h));
            }
            if let Some(at) = e.at {
                props.push(prop("collected", rfc3339(at)));
            }
            let mut v = json!({ "description": description, "props": props });
            if e.basis == Basis::Document {
                v["href"] = json!(e.source);
            }
            v
        })
        .collect();
    let collected = f
        .evidence
        .iter()
        .filter_map(|e| e.at)
        .max()
        .unwrap_or(r.provenance.generated_at);
    let mut props = vec![
        prop("rule", f.rule.id()),
        prop("result", f.status.as_str()),
        prop("basis", f.basis.as_str()),
        prop("severity", f.severity.as_str()),
    ];
    if let Some(span) = f.span {
        let l = r.location(span);
        props.push(prop(
            "location",
            format!("{}:{}:{}", l.file, l.line, l.column),
        ));
    }
    let mut obs = json!({
        "uuid": uuid,
        "title": format!("{}: {}", f.rule.id(), one_line(f.rule.title())),
        "description": format!("{}: {}", f.status.as_str(), f.message),
        "props": props,
        "methods": [method(f.basis)],
        "collected": rfc3339(collected),
    });
    if !evidence.is_empty() {
        obs["relevant-evidence"] = json!(evidence);
    }
    if let Some(w) = &f.waiver {
        obs["remarks"] = json!(format!(
            "waived until {}{}: {}",
            w.expires,
            w.approved_by
                .as_deref()
                .map_or_else(String::new, |by| format!(", approved by {by}")),
            w.reason
        ));
    }
    obs
}

/// OSCAL text fields that are one line (`title`) may not hold a newline.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn related(uuids: &[String]) -> Value {
    json!(
        uuids
            .iter()
            .map(|u| json!({ "observation-uuid": u }))
            .collect::<Vec<_>>()
    )
}

/// The finding's target: satisfied only when met; not-applicable as an
/// implementation status; a manual control carries no determination.
fn target(r: &ComplianceReport<'_>, c: &ControlAssessment<'_>) -> Value {
    let mut t = json!({
        "type": "objective-id",
        "target-id": format!("{}_obj", control_id(r.pack.framework, &c.control.id)),
    });
    match c.status {
        ControlStatus::Met => {
            t["status"] = json!({ "state": "satisfied", "reason": "pass" });
        }
        ControlStatus::NotMet | ControlStatus::Waived => {
            t["status"] = json!({ "state": "not-satisfied", "reason": "fail" });
        }
        ControlStatus::Declared => {
            t["status"] = json!({ "state": "not-satisfied", "reason": "other" });
        }
        ControlStatus::NotApplicable => {
            t["implementation-status"] = json!({ "state": "not-applicable" });
        }
        ControlStatus::Manual => {}
    }
    t
}

fn finding(
    r: &ComplianceReport<'_>,
    names: &Names<'_>,
    e: &FrameworkAssessment<'_>,
    c: &ControlAssessment<'_>,
    observations: &[String],
) -> Value {
    let env = e.environment.name();
    let mut f = json!({
        "uuid": names.subject(&[env, "finding", &c.control.id]),
        "title": format!("{} {}", c.control.id, one_line(&c.control.title)),
        "description": c.reason,
        "props": [
            prop("published-id", &c.control.id),
            prop("group", &r.pack.group_of(c.control).title),
            prop("status", c.status.as_str()),
            prop("basis", c.basis.as_str()),
        ],
        "target": target(r, c),
    });
    if !observations.is_empty() {
        f["related-observations"] = related(observations);
    }
    f
}

fn result(r: &ComplianceReport<'_>, names: &Names<'_>, e: &FrameworkAssessment<'_>) -> Value {
    let env = e.environment.name();
    let mut obs = Observations {
        names,
        env: env.to_owned(),
        by_key: BTreeMap::new(),
    };
    let findings: Vec<Value> = e
        .controls
        .iter()
        .map(|c| {
            let uuids = obs.for_control(r, c);
            finding(r, names, e, c, &uuids)
        })
        .collect();
    let controls: Vec<Value> = e
        .controls
        .iter()
        .map(|c| json!({ "control-id": control_id(r.pack.framework, &c.control.id) }))
        .collect();
    let counts = |s: ControlStatus| e.count(s);
    let mut result = json!({
        "uuid": names.subject(&[env, "result"]),
        "title": format!("{} in {} ({})", r.pack.name, env, e.environment.mode.as_str()),
        "description": format!(
            "Every control of {} {}, judged by stagegate for the environment `{env}` as of {}: {} met, {} declared only, {} not met, {} waived, {} manual, {} not applicable.",
            r.pack.name,
            r.pack.version,
            r.as_of,
            counts(ControlStatus::Met),
            counts(ControlStatus::Declared),
            counts(ControlStatus::NotMet),
            counts(ControlStatus::Waived),
            counts(ControlStatus::Manual),
            counts(ControlStatus::NotApplicable),
        ),
        "start": rfc3339(r.provenance.generated_at),
        "end": rfc3339(r.provenance.generated_at),
        "props": [prop("environment", env), prop("mode", e.environment.mode.as_str())],
        "reviewed-controls": {
            "control-selections": [{ "include-controls": controls }]
        },
        "findings": findings,
    });
    let observations = obs.into_values();
    if !observations.is_empty() {
        result["observations"] = json!(observations);
    }
    result
}

/// Assessment results: `stagegate report --format oscal-ar`.
pub(super) fn render_ar(r: &ComplianceReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let names = Names::of(r);
    let doc = json!({
        "assessment-results": {
            "uuid": names.instance(&["assessment-results"]),
            "metadata": metadata(r, &format!("{}: {} {} assessment results", one_line(r.product), r.pack.name, r.pack.version)),
            "import-ap": {
                "href": r.provenance.spec.path,
                "remarks": "stagegate assesses against the spec and the framework's mapping pack named in the metadata; there is no separate OSCAL assessment plan.",
            },
            "results": r.environments.iter().map(|e| result(r, &names, e)).collect::<Vec<_>>(),
        }
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Whether a control belongs in the plan of action: it is not met, only
/// declared, or waived (a deviation with an end date).
fn planned(status: ControlStatus) -> bool {
    matches!(
        status,
        ControlStatus::NotMet | ControlStatus::Declared | ControlStatus::Waived
    )
}

/// How many items the plan of action would hold; OSCAL requires at least one.
pub(super) fn poam_items(r: &ComplianceReport<'_>) -> usize {
    r.environments
        .iter()
        .flat_map(|e| &e.controls)
        .filter(|c| planned(c.status))
        .count()
}

/// The remediations of one control: per rule that fails, is waived or
/// holds only as declared, what to do, with a waiver's expiry as the
/// milestone by which it must be done.
fn remediations(names: &Names<'_>, env: &str, c: &ControlAssessment<'_>) -> Vec<Value> {
    c.evidence
        .iter()
        .filter(|ev| match c.status {
            ControlStatus::Declared => ev.finding.status == Status::Pass,
            _ => matches!(
                ev.finding.status,
                Status::Fail | Status::Warn | Status::Waived
            ),
        })
        .map(|ev| {
            let f = ev.finding;
            let rule = f.rule.id();
            let description = if c.status == ControlStatus::Declared {
                format!(
                    "{rule} holds only on what the spec declares. Show it: run `stagegate check --live`, let `stagegate serve` observe it, cite the document, or attest the control with its evidence file."
                )
            } else {
                f.rule.remediation().to_owned()
            };
            let mut response = json!({
                "uuid": names.subject(&[env, "remediation", &c.control.id, rule]),
                "lifecycle": "planned",
                "title": format!("{}: {}", rule, one_line(f.rule.title())),
                "description": description,
            });
            if let Some(w) = &f.waiver {
                response["tasks"] = json!([{
                    "uuid": names.subject(&[env, "milestone", &c.control.id, rule]),
                    "type": "milestone",
                    "title": format!("Waiver of {rule} expires"),
                    "description": format!(
                        "The waiver{} ends on {}: {}",
                        w.approved_by.as_deref().map_or_else(String::new, |by| format!(" approved by {by}")),
                        w.expires,
                        w.reason
                    ),
                    "timing": { "on-date": { "date": midnight(w.expires) } },
                }]);
            }
            response
        })
        .collect()
}

/// Plan of action and milestones: `stagegate report --format oscal-poam`.
pub(super) fn render_poam(r: &ComplianceReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let names = Names::of(r);
    let mut observations = Vec::new();
    let mut risks = Vec::new();
    let mut items = Vec::new();
    for e in r.environments {
        let env = e.environment.name();
        let mut obs = Observations {
            names: &names,
            env: env.to_owned(),
            by_key: BTreeMap::new(),
        };
        for c in e.controls.iter().filter(|c| planned(c.status)) {
            let uuids = obs.for_control(r, c);
            let risk_uuid = names.subject(&[env, "risk", &c.control.id]);
            let title = format!("{env}: {} {}", c.control.id, one_line(&c.control.title));
            let mut risk = json!({
                "uuid": risk_uuid,
                "title": title,
                "description": c.reason,
                "statement": match c.status {
                    ControlStatus::Declared => format!("Nothing stagegate observed or read shows that {} {} holds in `{env}`; an assessor would not accept it as met.", r.pack.name, c.control.id),
                    ControlStatus::Waived => format!("{} {} is not met in `{env}`; the gap is accepted under a waiver until it expires.", r.pack.name, c.control.id),
                    _ => format!("{} {} is not met in `{env}`.", r.pack.name, c.control.id),
                },
                "props": [
                    prop("environment", env),
                    prop("published-id", &c.control.id),
                    prop("status", c.status.as_str()),
                ],
                "status": if c.status == ControlStatus::Waived { "deviation-approved" } else { "open" },
            });
            let remediations = remediations(&names, env, c);
            if !remediations.is_empty() {
                risk["remediations"] = json!(remediations);
            }
            if let Some(deadline) = c
                .evidence
                .iter()
                .filter_map(|ev| ev.finding.waiver.as_ref())
                .map(|w| w.expires)
                .min()
            {
                risk["deadline"] = json!(midnight(deadline));
            }
            if !uuids.is_empty() {
                risk["related-observations"] = related(&uuids);
            }
            risks.push(risk);
            let mut item = json!({
                "uuid": names.subject(&[env, "poam-item", &c.control.id]),
                "title": title,
                "description": c.reason,
                "props": [
                    prop("environment", env),
                    prop("published-id", &c.control.id),
                    prop("control-id", control_id(r.pack.framework, &c.control.id)),
                ],
                "related-risks": [{ "risk-uuid": risk_uuid }],
            });
            if !uuids.is_empty() {
                item["related-observations"] = related(&uuids);
            }
            items.push(item);
        }
        observations.extend(obs.into_values());
    }
    let mut doc = json!({
        "plan-of-action-and-milestones": {
            "uuid": names.instance(&["poam"]),
            "metadata": metadata(r, &format!("{}: {} {} plan of action and milestones", one_line(r.product), r.pack.name, r.pack.version)),
            "system-id": {
                "identifier-type": "http://ietf.org/rfc/rfc4122",
                "id": uuid5(&format!("system|{}", r.product)),
            },
            "poam-items": items,
        }
    });
    let poam = &mut doc["plan-of-action-and-milestones"];
    if !observations.is_empty() {
        poam["observations"] = json!(observations);
    }
    if !risks.is_empty() {
        poam["risks"] = json!(risks);
    }
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid5_follows_rfc_9562() {
        // The RFC's own example: "www.example.com" in the DNS namespace.
        let dns = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
            0x30, 0xc8,
        ];
        assert_eq!(
            uuid5_in(dns, b"www.example.com"),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
        let u = uuid5("anything");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(u, uuid5("anything"));
        assert_ne!(u, uuid5("anything else"));
    }

    #[test]
    fn control_ids_take_the_oscal_form() {
        assert_eq!(control_id(Framework::Fisma, "AC-2(1)"), "ac-2.1");
        assert_eq!(control_id(Framework::Fisma, "CP-9"), "cp-9");
        assert_eq!(control_id(Framework::PciDss, "11.4.3"), "pci-dss-11.4.3");
        assert_eq!(
            control_id(Framework::Gdpr, "Art. 32(1)(a)"),
            "gdpr-Art.32.1.a"
        );
        assert_eq!(
            control_id(Framework::Hipaa, "164.308(a)(1)(ii)(A)"),
            "hipaa-164.308.a.1.ii.A"
        );
        assert_eq!(control_id(Framework::Iso27001, "A.5.1"), "iso-27001-A.5.1");
        assert_eq!(
            control_id(Framework::Section508, "E205.2"),
            "section-508-E205.2"
        );
    }
}
