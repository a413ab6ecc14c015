//! Boundary tests of the cluster rules.

use super::*;

fn nodes(list: &str) -> String {
    edit(
        "nodes = [\"app-1\", \"app-2\", \"app-3\"]",
        &format!("nodes = [{list}]"),
    )
}

#[test]
fn quorum_needs_three_distinct_nodes() {
    let two = run(&nodes("\"app-1\", \"app-2\""));
    assert_eq!(two.status("SG-CLUSTER-QUORUM"), Status::Fail);
    assert_eq!(
        two.get("SG-CLUSTER-QUORUM").message,
        "cluster has 2 distinct nodes: a quorum needs at least 3 physical servers"
    );
    assert_eq!(two.status("SG-CLUSTER-ODD"), Status::Warn);
    let three = run(&nodes("\"app-1\", \"app-2\", \"app-3\""));
    assert_eq!(three.status("SG-CLUSTER-QUORUM"), Status::Pass);
    assert_eq!(three.status("SG-CLUSTER-ODD"), Status::Pass);
    let four = run(&nodes("\"app-1\", \"app-2\", \"app-3\", \"db-1\""));
    assert_eq!(four.status("SG-CLUSTER-QUORUM"), Status::Pass);
    assert_eq!(four.status("SG-CLUSTER-ODD"), Status::Warn);
    assert_eq!(four.verdict, Verdict::Ready);
    // A node listed twice is one physical server.
    let dup = run(&nodes("\"app-1\", \"app-2\", \"app-2\""));
    assert_eq!(dup.status("SG-CLUSTER-QUORUM"), Status::Fail);
    assert!(
        dup.get("SG-CLUSTER-QUORUM")
            .message
            .contains("1 listed twice")
    );
}

#[test]
fn quorum_applies_in_every_mode() {
    let two = nodes("\"app-1\", \"app-2\"");
    for mode in Mode::ALL {
        assert_eq!(
            run_as(&two, *mode).status("SG-CLUSTER-QUORUM"),
            Status::Fail,
            "{mode}"
        );
    }
}

#[test]
fn ha_cluster_required_at_or_above_the_threshold() {
    let no_cluster = edit(
        "[environments.production.cluster]\nnodes = [\"app-1\", \"app-2\", \"app-3\"]\n",
        "",
    );
    let f = run(&no_cluster).get("SG-CLUSTER-HA");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.message,
        "availability target 99.9% (at or above 99.9%) needs a cluster, and none is declared"
    );
    let below = no_cluster.replace("availability_target = 99.9", "availability_target = 99.5");
    assert_eq!(run(&below).status("SG-CLUSTER-HA"), Status::Skip);
    let lowered = format!("{}\n[policy]\ncluster_required_at = 99.5\n", below);
    assert_eq!(run(&lowered).status("SG-CLUSTER-HA"), Status::Fail);
    let untargeted = no_cluster.replace("availability_target = 99.9\n", "");
    assert_eq!(run(&untargeted).status("SG-CLUSTER-HA"), Status::Skip);
    assert_eq!(
        run_as(&no_cluster, Mode::SoftLaunch).status("SG-CLUSTER-HA"),
        Status::Skip
    );
    assert_eq!(run(&no_cluster).status("SG-CLUSTER-QUORUM"), Status::Skip);
}
