//! Promotion records: an environment may be promoted only when the plan to
//! the target mode, promotion gates included (what the server observed:
//! soak, availability, incidents, backup runs, approvals, freezes), is not
//! blocked; the record keeps who, when, and the digest of the report the
//! decision was made on.

use stagegate_report::{Format, Kind, Options, Report};
use stagegate_rules::{Status, Verdict};
use stagegate_spec::Mode;
use stagegate_store::{NewPromotion, Promotion, Store, StoreError, now_ms};

use crate::auth::sha256_hex;
use crate::verdicts::Now;

#[derive(Debug)]
pub enum Refused {
    UnknownEnvironment(String),
    /// The plan is blocked: these findings fail.
    Blocked {
        to: Mode,
        failing: Vec<Failing>,
    },
    Store(StoreError),
}

/// A failing finding of a refused promotion, as the API answers it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Failing {
    pub rule: String,
    pub title: String,
    pub status: stagegate_rules::Status,
    pub severity: stagegate_rules::Severity,
    pub basis: stagegate_rules::Basis,
    pub message: String,
}

/// Evaluates `environment` in `to`, gates included, and records the
/// promotion by `by` if it is ready; `source` names this server
/// (`node@location`) in the evidence.
pub async fn promote(
    store: &dyn Store,
    now: &Now,
    environment: &str,
    to: Mode,
    by: &str,
    source: &str,
) -> Result<(Promotion, String), Refused> {
    let snapshot = &now.snapshot;
    let env = snapshot
        .spec
        .environment(environment)
        .ok_or_else(|| Refused::UnknownEnvironment(environment.to_owned()))?;
    let as_of = now.as_of;
    let facts = crate::gates::facts(store, now, env, Some(by), source)
        .await
        .map_err(Refused::Store)?;
    let result = now.promotion(env, to, &facts);
    if result.verdict() == Verdict::Blocked {
        let failing = result
            .findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .map(|f| Failing {
                rule: f.rule.id().to_owned(),
                title: f.rule.title().to_owned(),
                status: f.status,
                severity: f.severity,
                basis: f.basis,
                message: f.message.clone(),
            })
            .collect();
        return Err(Refused::Blocked { to, failing });
    }
    let from = env.mode.value;
    let provenance = snapshot.provenance(now_ms().div_euclid(1000));
    let report = Report {
        kind: Kind::Plan { from },
        product: &snapshot.spec.product.name.value,
        as_of,
        source: &snapshot.source,
        environments: std::slice::from_ref(&result),
        provenance: &provenance,
    };
    let mut json = Vec::new();
    // Rendering into memory cannot fail.
    let _ = report.render(Format::Json, Options::default(), &mut json);
    let digest = sha256_hex(&json);
    let report_text = String::from_utf8_lossy(&json).into_owned();
    let record = store
        .record_promotion(
            &NewPromotion {
                environment: environment.to_owned(),
                from_mode: from.as_str().to_owned(),
                to_mode: to.as_str().to_owned(),
                promoted_by: by.to_owned(),
                digest,
                report: report_text.clone(),
            },
            now_ms(),
        )
        .await
        .map_err(Refused::Store)?;
    crate::audit::record(
        store,
        record.promoted_at,
        by,
        "promotion",
        environment,
        serde_json::json!({
            "from": record.from_mode,
            "to": record.to_mode,
            "digest": record.digest,
            "spec_sha256": snapshot.identity.sha256,
        }),
    )
    .await;
    Ok((record, report_text))
}
