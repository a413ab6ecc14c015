//! The shapes against the decoder, and against themselves.

use super::*;

/// A TOML value of type `ty` (inline), every table with every key.
fn sample(ty: Ty) -> String {
    fn first(names: &[&str]) -> String {
        format!("{:?}", names[0])
    }
    match ty {
        Ty::Str => "\"x\"".to_owned(),
        Ty::Bool => "true".to_owned(),
        Ty::Duration => "\"1d\"".to_owned(),
        Ty::Date => "2026-01-01".to_owned(),
        Ty::Percent => "99.9".to_owned(),
        Ty::Int { min, .. } => min.to_string(),
        Ty::Strings => "[\"x\"]".to_owned(),
        Ty::Enum(names) => first(names),
        Ty::Enums(names) => format!("[{}]", first(names)),
        Ty::Ints { min, .. } => format!("[{min}]"),
        Ty::Table(s) => table(s),
        Ty::Tables(s) => format!("[{}]", table(s)),
        Ty::Map(s, _) => format!("{{ id = {} }}", table(s)),
        Ty::Schema(_, sample) => sample.to_owned(),
    }
}

fn table(shape: &Shape) -> String {
    let entries: Vec<String> = match &shape.fields {
        Fields::Listed(fields) => fields
            .iter()
            .map(|f| format!("{} = {}", f.key, sample(f.ty)))
            .collect(),
        Fields::Each(names, ty, _) => names
            .iter()
            .map(|n| format!("{n} = {}", sample(*ty)))
            .collect(),
    };
    format!("{{ {} }}", entries.join(", "))
}

/// A spec with every key of every table: decoding it checks (in
/// `Table::finish`) that each decoder reads exactly its shape's keys.
#[test]
fn the_decoder_reads_every_shape_exactly() {
    let Fields::Listed(top) = &SPEC.fields else {
        unreachable!()
    };
    let text: String = top
        .iter()
        .map(|f| format!("{} = {}\n", f.key, sample(f.ty)))
        .collect();
    let source = crate::SourceFile::new("stagegate.toml", text);
    let opts = crate::LoadOptions {
        env: &|_| Some("x".to_owned()),
        known_rules: &[],
        known_controls: |_| &[],
    };
    let diags = crate::load(&source, &opts).err().unwrap_or_default();
    // Only problems between fields (a cron of one word, a cluster of
    // unknown servers): no key is unknown, missing or of the wrong type.
    for d in &diags {
        let m = &d.message;
        assert!(
            !m.starts_with("unknown key")
                && !m.starts_with("missing required key `")
                && !m.starts_with("wrong type"),
            "{m}"
        );
    }
}

#[test]
fn every_key_is_listed_once() {
    for shape in [
        &SPEC,
        &PRODUCT,
        &POLICY,
        &CONTACT,
        &NOTIFIER,
        &WAIVER,
        &ATTESTATION,
        &ENVIRONMENT,
        &SERVER,
        &CLUSTER,
        &BACKUP,
        &BACKUP_SOURCE,
        &DRILL,
        &OBSERVABILITY,
        &SECURITY,
        &PENTEST,
        &OPEN_FINDINGS,
        &OPERATIONS,
        &ACCESSIBILITY_AUDIT,
        &RUNBOOKS,
        &MAINTENANCE,
        &MONITORING,
        &CHECK,
        &EXPECT,
    ] {
        let keys: Vec<&str> = shape.keys().collect();
        assert!(
            keys.len() <= 64,
            "{}: too many keys for the decoder's mask",
            shape.what
        );
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[..i].contains(k), "{}: `{k}` twice", shape.what);
        }
    }
}
