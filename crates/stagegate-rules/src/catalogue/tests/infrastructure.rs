//! Boundary tests of the infrastructure and compliance rules.

use super::*;

#[test]
fn instance_required_from_staging() {
    let spec = r#"
[product]
name = "x"
[environments.e]
mode = "staging"
"#;
    let r = run_with(spec, "e", None, "2026-06-01", present);
    assert_eq!(r.get("SG-INFRA-INSTANCE").message, "no server is declared");
    assert_eq!(r.status("SG-INFRA-INSTANCE"), Status::Fail);
    assert_eq!(
        run_with(spec, "e", Some(Mode::Development), "2026-06-01", present)
            .status("SG-INFRA-INSTANCE"),
        Status::Skip
    );
}

#[test]
fn regions_need_servers() {
    let spec = edit("regions = [\"eu\"]", "regions = [\"eu\", \"us\"]");
    let f = run(&spec).get("SG-INFRA-REGIONS");
    assert_eq!(
        (f.status, f.message.as_str()),
        (Status::Warn, "no server serves region us")
    );
}

#[test]
fn frameworks_follow_data_classes() {
    let health = edit(
        "data_classes = [\"personal\"]",
        "data_classes = [\"personal\", \"health\", \"payment-card\"]",
    );
    let f = run(&health).get("SG-COMP-FRAMEWORKS");
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.message,
        "health data needs hipaa and payment-card data needs pci-dss, which `product.frameworks` does not list"
    );
    let no_gdpr = edit("frameworks = [\"gdpr\"]", "frameworks = []");
    assert!(
        run(&no_gdpr)
            .get("SG-COMP-FRAMEWORKS")
            .message
            .starts_with("personal data in region eu needs gdpr")
    );
    let us_only = no_gdpr.replace("regions = [\"eu\"]", "regions = [\"us\"]");
    assert_eq!(run(&us_only).status("SG-COMP-FRAMEWORKS"), Status::Pass);
    let gov = edit(
        "data_classes = [\"personal\"]",
        "data_classes = [\"government\", \"cui\"]",
    );
    assert!(
        run(&gov)
            .get("SG-COMP-FRAMEWORKS")
            .message
            .contains("government data needs fisma and cui data needs nist-800-171")
    );
}
