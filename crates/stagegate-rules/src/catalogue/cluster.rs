//! Clusters: enough nodes for a quorum, and present where availability needs them.

use stagegate_spec::Cluster;

use super::{fail, list, pass, skip};
use crate::context::Ctx;
use crate::rule::{Applies, Area, Outcome, Rule};

const QUORUM_SENTENCE: &str = "A minimum of three physical servers is required to create a quorum for system decisions and monitoring.";

fn with_cluster(cx: &Ctx<'_>, f: impl FnOnce(&Cluster, Vec<&str>) -> Outcome) -> Outcome {
    match &cx.env.cluster {
        Some(c) => {
            let mut nodes: Vec<&str> = c.nodes.iter().map(|n| n.value.as_str()).collect();
            nodes.sort_unstable();
            nodes.dedup();
            f(c, nodes)
        }
        None => skip("no cluster is declared"),
    }
}

pub(super) const QUORUM: Rule = Rule {
    id: "SG-CLUSTER-QUORUM",
    title: "A cluster has at least three servers for a quorum",
    area: Area::Infrastructure,
    applies: Applies::ANY,
    condition: Some("when a cluster exists"),
    requirement: "at least 3 distinct servers as nodes",
    guideline: &[QUORUM_SENTENCE],
    rationale: "With two nodes, neither can tell a dead peer from a cut link: both stop (no availability) or both continue (split brain).",
    remediation: "Add nodes until the cluster has at least three distinct servers.",
    example: "[environments.production.cluster]\nnodes = [\"app-1\", \"app-2\", \"app-3\"]",
    live: false,
    check: |cx| {
        with_cluster(cx, |c, nodes| {
            let n = nodes.len();
            let dupes = c.nodes.len() - n;
            let note = if dupes > 0 {
                format!(" ({dupes} listed twice)")
            } else {
                String::new()
            };
            if n >= 3 {
                pass(
                    format!("{n} distinct nodes{note}: {}", list(&nodes)),
                    c.span,
                )
            } else {
                fail(
                    format!(
                        "cluster has {n} distinct node{}{note}: a quorum needs at least 3 physical servers",
                        if n == 1 { "" } else { "s" }
                    ),
                    c.span,
                )
            }
        })
    },
};

pub(super) const ODD: Rule = Rule {
    id: "SG-CLUSTER-ODD",
    title: "A cluster has an odd number of nodes",
    area: Area::Infrastructure,
    applies: Applies::ANY.recommended(),
    condition: Some("when a cluster exists"),
    requirement: "odd node count",
    guideline: &[QUORUM_SENTENCE],
    rationale: "A majority of 2k nodes is k+1, the same failure tolerance as 2k-1 nodes: the extra node adds cost and a chance of a tied vote, not resilience.",
    remediation: "Use 3, 5 or 7 nodes.",
    example: "[environments.production.cluster]\nnodes = [\"app-1\", \"app-2\", \"app-3\"]",
    live: false,
    check: |cx| {
        with_cluster(cx, |c, nodes| {
            let n = nodes.len();
            if n % 2 == 1 {
                pass(
                    format!(
                        "{n} nodes: a majority of {} tolerates {} failure{}",
                        n / 2 + 1,
                        n / 2,
                        if n / 2 == 1 { "" } else { "s" }
                    ),
                    c.span,
                )
            } else {
                fail(
                    format!(
                        "{n} nodes: an even count tolerates no more failures than {} nodes and can split its vote",
                        n.saturating_sub(1)
                    ),
                    c.span,
                )
            }
        })
    },
};

pub(super) const HA: Rule = Rule {
    id: "SG-CLUSTER-HA",
    title: "High availability targets need a cluster",
    area: Area::Infrastructure,
    applies: Applies::PROD,
    condition: Some("when `product.availability_target` >= `policy.cluster_required_at`"),
    requirement: "a cluster exists",
    guideline: &[
        "Infrastructure (depends on business requirements for availability, continuity, and reliability; may include various server configurations or clusters in multiple locations)",
        "A set of servers and technological components forming a fault-tolerant and reliable system.",
    ],
    rationale: "A single server's maintenance and failures alone exceed the downtime a 99.9% target allows (under 9 hours a year).",
    remediation: "Run the core system as a cluster of at least three nodes, or agree a lower availability target.",
    example: "[environments.production.cluster]\nnodes = [\"app-1\", \"app-2\", \"app-3\"]",
    live: false,
    check: |cx| {
        let threshold = cx.spec.policy.cluster_required_at;
        let Some(target) = &cx.spec.product.availability_target else {
            return skip("the product sets no availability target");
        };
        if target.value < threshold {
            return skip(format!(
                "availability target {}% is below {threshold}%, where a cluster becomes required",
                target.value
            ));
        }
        match &cx.env.cluster {
            Some(c) => pass(
                format!(
                    "availability target {}% is served by a cluster",
                    target.value
                ),
                c.span,
            ),
            None => fail(
                format!(
                    "availability target {}% (at or above {threshold}%) needs a cluster, and none is declared",
                    target.value
                ),
                target.span,
            ),
        }
    },
};
