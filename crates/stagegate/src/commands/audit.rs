//! `audit verify`: recompute the audit log's hash chain, from the store
//! itself (`--db`, the data directory) or through a server's API
//! (`--server`), and name the first record that breaks it.

use std::io::Write;

use stagegate_store::audit::{AuditRecord, ChainVerifier};

use crate::cli::AuditCommand;
use crate::{Failure, Outcome};

/// Records read per page.
const PAGE: u32 = 10_000;

pub fn run(command: &AuditCommand) -> Result<Outcome, Failure> {
    let AuditCommand::Verify {
        store,
        server,
        token,
    } = command;
    let rt = super::serve::runtime()?;
    rt.block_on(async {
        let (v, broken) = match (server, token) {
            (Some(server), Some(token)) => {
                let mut v = ChainVerifier::new();
                let remote = crate::remote::Remote::new(server, token)?;
                let mut after = 0;
                loop {
                    let page = remote
                        .get(&format!("/api/v1/audit?after={after}&limit={PAGE}"))
                        .await?;
                    let records: Vec<AuditRecord> = serde_json::from_value(page["records"].clone())
                        .map_err(|e| {
                            Failure::Message(format!(
                                "{server} sent an audit page this stagegate cannot read: {e}"
                            ))
                        })?;
                    if let Some(b) = check(&mut v, &records) {
                        break (v, Some(b));
                    }
                    match page["next"].as_i64() {
                        Some(next) => after = next,
                        None => break (v, None),
                    }
                }
            }
            (Some(_), None) => {
                return Err(Failure::Message(
                    "--server needs --token (or STAGEGATE_TOKEN): an admin token".to_owned(),
                ));
            }
            (None, _) => {
                // Verifying must not create an empty store and call it intact.
                let default = store.data_dir.join("stagegate.db");
                if store.db.is_none() && !default.exists() {
                    return Err(Failure::Message(format!(
                        "no store at {}: pass the --data-dir (or --db) of the server whose log to verify",
                        default.display()
                    )));
                }
                let store = super::serve::open_store(store).await?;
                store
                    .verify_audit()
                    .await
                    .map_err(|e| Failure::Message(format!("cannot read the audit log: {e}")))?
            }
        };
        let mut out = std::io::stdout().lock();
        match broken {
            None => {
                writeln!(
                    out,
                    "audit log intact: {} record{}, head {}",
                    v.checked,
                    if v.checked == 1 { "" } else { "s" },
                    v.head()
                )?;
                Ok(Outcome::Ready)
            }
            Some(b) => {
                writeln!(
                    out,
                    "audit log BROKEN after {} intact record{}: {b}",
                    v.checked,
                    if v.checked == 1 { "" } else { "s" }
                )?;
                Ok(Outcome::Blocked)
            }
        }
    })
}

/// Checks a page; the first break, if any.
fn check(
    v: &mut ChainVerifier,
    records: &[AuditRecord],
) -> Option<stagegate_store::audit::ChainBreak> {
    records.iter().find_map(|r| v.check(r).err())
}
