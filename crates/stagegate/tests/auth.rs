//! Who may do what: sign-in guessing slows down and is counted, the Bearer
//! scheme is case-insensitive.

use stagegate_test_support::*;

const SPEC: &str = "[product]\nname = \"Auth\"\n\n[environments.dev]\nmode = \"development\"\n";

#[test]
fn guessing_tokens_at_the_sign_in_form_backs_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("stagegate.toml"), SPEC).expect("spec");
    let viewer = token(dir.path(), None, "viewer", "vic");
    let server = start(dir.path(), None);
    let mut statuses = Vec::new();
    for i in 0..8 {
        let (status, head, body) = sign_in(server.addr, &format!("sg_0000000{i}_wrong"));
        if status == 429 {
            assert!(head.contains("retry-after: "), "{head}");
            assert!(body.contains("Too many failed sign-ins"), "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(
        &statuses[..5],
        [401; 5],
        "five tries are free: {statuses:?}"
    );
    assert_eq!(
        statuses[5], 401,
        "the sixth failure starts the wait: {statuses:?}"
    );
    assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
    // Even the right token waits while this address is backing off.
    assert_eq!(sign_in(server.addr, &viewer).0, 429);
    let (_, metrics) = http(server.addr, "GET", "/metrics", None, "");
    assert!(
        metrics.contains("stagegate_auth_refused_total{reason=\"invalid\"} 6"),
        "{metrics}"
    );
    assert!(
        metrics.contains("stagegate_auth_refused_total{reason=\"rate\"} 3"),
        "{metrics}"
    );
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("stagegate.toml"), SPEC).expect("spec");
    let viewer = token(dir.path(), None, "viewer", "vic");
    let server = start(dir.path(), None);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, _, body) = http_with(
            server.addr,
            "GET",
            "/api/v1/incidents",
            &format!("authorization: {scheme} {viewer}\r\n"),
            b"",
        );
        assert_eq!(status, 200, "{scheme}: {body}");
    }
}
