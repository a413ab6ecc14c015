//! Servers and where they run.

use super::{fail, list, pass};
use crate::rule::{Applies, Area, Rule};

pub(super) const INSTANCE: Rule = Rule {
    id: "SG-INFRA-INSTANCE",
    title: "At least one server instance",
    area: Area::Infrastructure,
    applies: Applies::STAGING_UP,
    condition: None,
    requirement: "at least one server",
    guideline: &["One instance of servers (depending on system architecture)"],
    rationale: "Every stage past development runs on its own infrastructure; an environment without a declared server cannot be checked for backup distance, monitoring coverage or exposure.",
    remediation: "Declare the servers of the environment with `[[environments.ENV.servers]]`.",
    example: "[[environments.staging.servers]]\nname = \"app-1\"\nroles = [\"core\", \"database\"]\nlocation = \"fra1\"",
    live: false,
    check: |cx| {
        let n = cx.env.servers.len();
        if n == 0 {
            fail("no server is declared", cx.env.span)
        } else {
            let names: Vec<&str> = cx
                .env
                .servers
                .iter()
                .map(|s| s.name.value.as_str())
                .collect();
            pass(
                format!(
                    "{n} server{} declared: {}",
                    if n == 1 { "" } else { "s" },
                    list(&names)
                ),
                cx.env.servers[0].span,
            )
        }
    },
};

pub(super) const REGIONS: Rule = Rule {
    id: "SG-INFRA-REGIONS",
    title: "Every market region is served by a server in it",
    area: Area::Infrastructure,
    applies: Applies::PROD_REC,
    condition: None,
    requirement: "every product region has a server with that `region`",
    guideline: &[
        "Larger systems might have clusters of servers on each continent for enhanced speed and reliability.",
        "Infrastructure (depends on business requirements for availability, continuity, and reliability; may include various server configurations or clusters in multiple locations)",
    ],
    rationale: "Users far from every server get slow responses, and a region with no server of its own shares every outage of the others.",
    remediation: "Add servers with `region = \"...\"` for each region in `product.regions`, or narrow `product.regions` to the markets really served.",
    example: "[[environments.production.servers]]\nname = \"app-us-1\"\nroles = [\"core\"]\nlocation = \"nyc1\"\nregion = \"us\"",
    live: false,
    check: |cx| {
        let regions = &cx.spec.product.regions;
        if regions.is_empty() {
            return pass("the product declares no regions", cx.spec.product.span);
        }
        let missing: Vec<&str> = regions
            .iter()
            .filter(|r| {
                !cx.env
                    .servers
                    .iter()
                    .any(|s| s.region.as_ref().is_some_and(|sr| sr.value == r.value))
            })
            .map(|r| r.value.as_str())
            .collect();
        if missing.is_empty() {
            let all: Vec<&str> = regions.iter().map(|r| r.value.as_str()).collect();
            pass(
                format!("every region ({}) has a server", list(&all)),
                cx.env.span,
            )
        } else {
            fail(
                format!(
                    "no server serves region{} {}",
                    if missing.len() == 1 { "" } else { "s" },
                    list(&missing)
                ),
                regions
                    .iter()
                    .find(|r| r.value == missing[0])
                    .map(|r| r.span),
            )
        }
    },
};
