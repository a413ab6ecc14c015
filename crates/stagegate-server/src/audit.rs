//! Writing the audit log: one record per change made through the server
//! (tokens, incidents handled by hand, promotions, approvals, drills, and
//! waivers and attestations the first time the server sees them).
//!
//! The record is written after the change it describes has been committed.
//! A store that refuses the record does not undo the change: the failure is
//! logged at error level and counted, so a gap is seen, not silent.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use stagegate_spec::Spec;
use stagegate_store::audit::NewAudit;
use stagegate_store::{Millis, Store};

/// Audit records the store refused since start, for `/metrics`.
pub static FAILURES: AtomicU64 = AtomicU64::new(0);

/// Records `action` on `subject` by `who`.
pub async fn record(
    store: &dyn Store,
    at: Millis,
    who: &str,
    action: &str,
    subject: &str,
    details: Value,
) {
    let entry = NewAudit {
        who: who.to_owned(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        details,
    };
    if let Err(e) = store.append_audit(&entry, at).await {
        FAILURES.fetch_add(1, Ordering::Relaxed);
        tracing::error!(action, subject, who, error = %e, "cannot write the audit record");
    }
}

/// Records an incident handled by hand.
pub async fn incident(
    state: &crate::AppState,
    who: &str,
    action: &str,
    i: &stagegate_store::Incident,
) {
    record(
        state.store.as_ref(),
        state.clock.now(),
        who,
        action,
        &format!("incident {}", i.id),
        serde_json::json!({ "check": i.check, "environment": i.environment }),
    )
    .await;
}

/// Records each waiver and attestation of `spec` the first time the server
/// sees it (a changed one is a new one): who wrote it down is not known,
/// so `who` is `spec`, and the record keeps what it says.
pub async fn spec_facts(store: &dyn Store, spec: &Spec, at: Millis) {
    for w in &spec.waivers {
        let subject = format!(
            "{}@{} until {}",
            w.rule.value, w.environment.value, w.expires.value
        );
        let details = serde_json::json!({
            "rule": w.rule.value,
            "environment": w.environment.value,
            "reason": w.reason,
            "expires": w.expires.value.to_string(),
            "approved_by": w.approved_by,
            "granted": w.granted.as_ref().map(|g| g.value.to_string()),
        });
        first_seen(store, at, "waiver.seen", &subject, details).await;
    }
    for a in &spec.attestations {
        let subject = format!(
            "{} {}{} by {} until {}",
            a.framework.value,
            a.control.value,
            a.environment
                .as_ref()
                .map(|e| format!("@{}", e.value))
                .unwrap_or_default(),
            a.by.value,
            a.valid_until.value
        );
        let details = serde_json::json!({
            "framework": a.framework.value.as_str(),
            "control": a.control.value,
            "environment": a.environment.as_ref().map(|e| e.value.clone()),
            "by": a.by.value,
            "date": a.date.value.to_string(),
            "valid_until": a.valid_until.value.to_string(),
            "evidence": a.evidence.value,
        });
        first_seen(store, at, "attestation.seen", &subject, details).await;
    }
}

async fn first_seen(store: &dyn Store, at: Millis, action: &str, subject: &str, details: Value) {
    match store.audited(action, subject).await {
        Ok(true) => {}
        Ok(false) => record(store, at, "spec", action, subject, details).await,
        Err(e) => {
            FAILURES.fetch_add(1, Ordering::Relaxed);
            tracing::error!(action, subject, error = %e, "cannot read the audit log");
        }
    }
}
