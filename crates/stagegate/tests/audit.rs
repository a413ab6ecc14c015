//! The audit log end to end: changes made through the server and the CLI
//! are recorded with who made them, only an admin reads the log, and
//! `stagegate audit verify` finds a record edited in the store, reading
//! either the store itself or the server's API; on SQLite and PostgreSQL.

use stagegate_test_support::*;

const SPEC: &str = r#"[product]
name = "Audited"

[contacts.ops]
email = "ops@example.com"

[environments.staging]
mode = "staging"
audience = "internal"
controlled_by = "client"

[[environments.staging.servers]]
name = "app-1"
roles = ["core"]
location = "here"

[[waivers]]
rule = "SG-OBS-PLATFORM"
environment = "staging"
reason = "Metrics arrive with the next release"
expires = 2099-01-01
"#;

fn records(addr: std::net::SocketAddr, admin: &str) -> Vec<serde_json::Value> {
    let (status, body) = http(addr, "GET", "/api/v1/audit", Some(admin), "");
    assert_eq!(status, 200, "{body}");
    json_body(&body)["records"]
        .as_array()
        .expect("records")
        .clone()
}

async fn scenario(db: Option<&str>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(root.join("stagegate.toml"), SPEC).expect("spec");
    let server = start(root, db);
    let addr = server.addr;
    let admin = token(root, db, "admin", "root");
    let viewer = token(root, db, "viewer", "vic");

    // Only an admin reads the log.
    assert_eq!(http(addr, "GET", "/api/v1/audit", Some(&viewer), "").0, 403);
    assert_eq!(http(addr, "GET", "/api/v1/audit", None, "").0, 401);
    let (status, body) = http(addr, "GET", "/api/v1/audit?after=x", Some(&admin), "");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("`after`"), "{body}");

    // A revoked token, through the API.
    let prefix = viewer.split('_').take(2).collect::<Vec<_>>().join("_");
    let (status, _) = http(
        addr,
        "DELETE",
        &format!("/api/v1/tokens/{prefix}"),
        Some(&admin),
        "",
    );
    assert_eq!(status, 204);

    let log = wait_for("the audit records", 10, || {
        let log = records(addr, &admin);
        (log.len() >= 4).then_some(log)
    });
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap_or(""),
                r["who"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(actions.contains(&("waiver.seen", "spec")), "{actions:?}");
    assert!(
        actions
            .iter()
            .any(|(a, who)| *a == "token.create" && who.starts_with("cli:")),
        "{actions:?}"
    );
    assert!(actions.contains(&("token.revoke", "root")), "{actions:?}");
    let waiver = log
        .iter()
        .find(|r| r["action"] == "waiver.seen")
        .expect("waiver");
    assert_eq!(
        waiver["details"]["reason"],
        "Metrics arrive with the next release"
    );
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r["seq"], i as i64 + 1);
        assert_eq!(r["hash"].as_str().map(str::len), Some(64));
    }

    // The chain holds, read from the store and through the API.
    let store: Vec<String> = store_args(db);
    let store: Vec<&str> = store.iter().map(String::as_str).collect();
    let mut verify = vec!["audit", "verify"];
    verify.extend(&store);
    let (code, out, err) = run_in(root, &verify);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("audit log intact: "), "{out}");
    let server_url = format!("http://{addr}");
    let (code, out, err) = run_in(
        root,
        &[
            "audit",
            "verify",
            "--server",
            &server_url,
            "--token",
            &admin,
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run_in(
        root,
        &[
            "audit",
            "verify",
            "--server",
            &server_url,
            "--token",
            "sg_00000000_nope",
        ],
    );
    assert_eq!(code, 2, "a bad token is not a verdict: {err}");

    // Someone with access to the database rewrites who revoked the token.
    let revoked = log
        .iter()
        .find(|r| r["action"] == "token.revoke")
        .and_then(|r| r["seq"].as_i64())
        .expect("seq");
    const EDIT: &str = "UPDATE audit SET who = 'nobody' WHERE seq = $1";
    match db {
        Some(url) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query(EDIT)
                .bind(revoked)
                .execute(&mut conn)
                .await
                .expect("edit");
        }
        None => {
            use sqlx::Connection;
            let url = format!("sqlite://{}", root.join("data/stagegate.db").display());
            let mut conn = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("connect");
            sqlx::query(EDIT)
                .bind(revoked)
                .execute(&mut conn)
                .await
                .expect("edit");
        }
    }
    let (code, out, err) = run_in(root, &verify);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("record {revoked} does not match its hash")),
        "{out}"
    );
    let (code, out, _) = run_in(
        root,
        &[
            "audit",
            "verify",
            "--server",
            &server_url,
            "--token",
            &admin,
        ],
    );
    assert_eq!(code, 1);
    assert!(out.contains(&format!("record {revoked}")), "{out}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_on_sqlite() {
    scenario(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_on_postgres() {
    let Some(db) = PgDb::create("audit_log").await else {
        return;
    };
    scenario(Some(&db.url)).await;
    db.drop_now().await;
}
