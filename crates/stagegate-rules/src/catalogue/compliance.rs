//! Formal requirements: frameworks must match the data handled.

use stagegate_spec::{DataClass, Framework};

use super::{fail, list, pass};
use crate::rule::{Applies, Area, Rule};

pub(super) const FRAMEWORKS: Rule = Rule {
    id: "SG-COMP-FRAMEWORKS",
    title: "Declared frameworks cover the data handled",
    area: Area::Compliance,
    applies: Applies::STAGING_UP_REC,
    condition: None,
    requirement: "frameworks cover the data classes: health→hipaa, payment-card→pci-dss, government→fisma, cui→nist-800-171, personal with a region `eu`→gdpr",
    guideline: &[
        "Some systems need to comply with specific formal and legal requirements, which must be considered when designing the production environment.",
        "Industry-specific standards: For example, healthcare systems might need to comply with HIPAA, financial institutions with PCI DSS, and government agencies with FISMA.",
        "Data privacy regulations: GDPR, CCPA, and HIPAA are examples of regulations that govern the collection, storage, and use of personal data.",
        "Security regulations: Regulations like NIST 800-171 and ISO 27001 provide frameworks for implementing security measures to protect sensitive data.",
    ],
    rationale: "Frameworks shape the production environment (encryption, logging, retention, access); discovering one after launch means rebuilding it.",
    remediation: "Add the frameworks that the product's data brings into force to `product.frameworks`.",
    example: "[product]\ndata_classes = [\"personal\", \"payment-card\"]\nregions = [\"eu\"]\nframeworks = [\"gdpr\", \"pci-dss\"]",
    live: false,
    check: |cx| {
        let product = &cx.spec.product;
        let has = |f: Framework| product.frameworks.iter().any(|x| x.value == f);
        let in_eu = product
            .regions
            .iter()
            .any(|r| r.value.eq_ignore_ascii_case("eu"));
        let mut missing = Vec::new();
        let mut first_span = None;
        for class in &product.data_classes {
            let needs = match class.value {
                DataClass::Health => Some(Framework::Hipaa),
                DataClass::PaymentCard => Some(Framework::PciDss),
                DataClass::Government => Some(Framework::Fisma),
                DataClass::Cui => Some(Framework::Nist800171),
                DataClass::Personal if in_eu => Some(Framework::Gdpr),
                DataClass::Personal => None,
            };
            if let Some(f) = needs.filter(|f| !has(*f)) {
                let why = if class.value == DataClass::Personal {
                    " in region eu"
                } else {
                    ""
                };
                missing.push(format!("{} data{why} needs {}", class.value, f));
                first_span.get_or_insert(class.span);
            }
        }
        if missing.is_empty() {
            if product.data_classes.is_empty() {
                pass(
                    "the product declares no regulated data classes",
                    product.span,
                )
            } else {
                let fw: Vec<&str> = product
                    .frameworks
                    .iter()
                    .map(|f| f.value.as_str())
                    .collect();
                pass(
                    format!("frameworks in force ({}) cover the data handled", list(&fw)),
                    product.span,
                )
            }
        } else {
            fail(
                format!(
                    "{}, which `product.frameworks` does not list",
                    list(&missing)
                ),
                first_span,
            )
        }
    },
};
