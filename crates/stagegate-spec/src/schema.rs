//! The JSON Schema of `stagegate.toml`, for editors (Taplo / Even Better
//! TOML) to complete and validate specs. It is generated from the shapes the
//! loader decodes with (`shape.rs`) and the per-kind check keys it enforces,
//! so the two cannot drift.

use serde_json::{Map, Value, json};

use crate::decode::{CHECK_COMMON, check_keys};
use crate::model::CheckKind;
use crate::shape::{self, Field, Fields, Shape, Ty};

const DURATION_UNITS: &str = "nsec|ns|usec|us|msec|ms|seconds|second|sec|s|minutes|minute|min|m|hours|hour|hr|h|days|day|d|weeks|week|w|months|month|M|years|year|y";

/// The schema of one value of type `ty`, described by `doc`.
fn value(ty: Ty, doc: &str) -> Value {
    match ty {
        Ty::Str => json!({ "type": "string", "description": doc }),
        Ty::Bool => json!({ "type": "boolean", "description": doc }),
        Ty::Duration => json!({
            "type": "string",
            "description": doc,
            "pattern": format!("^\\s*[0-9]+\\s*({DURATION_UNITS})(\\s*[0-9]+\\s*({DURATION_UNITS}))*\\s*$"),
            "examples": ["30s", "15m", "4h", "365d"],
        }),
        Ty::Date => json!({ "type": "string", "format": "date", "description": doc }),
        Ty::Percent => {
            json!({ "type": "number", "exclusiveMinimum": 0, "maximum": 100, "description": doc })
        }
        Ty::Int { min, max } => {
            let mut v = json!({ "type": "integer", "minimum": min, "description": doc });
            if let Some(max) = max {
                v["maximum"] = json!(max);
            }
            v
        }
        Ty::Strings => {
            json!({ "type": "array", "items": { "type": "string" }, "description": doc })
        }
        Ty::Enum(names) => json!({ "type": "string", "enum": names, "description": doc }),
        Ty::Enums(names) => json!({
            "type": "array",
            "items": { "type": "string", "enum": names },
            "description": doc,
        }),
        Ty::Ints { min, max } => json!({
            "type": "array",
            "items": { "type": "integer", "minimum": min, "maximum": max },
            "description": doc,
        }),
        Ty::Table(s) => object(s, doc),
        Ty::Tables(s) => json!({ "type": "array", "description": doc, "items": object(s, s.doc) }),
        Ty::Map(s, min) => {
            let mut v = json!({
                "type": "object",
                "description": doc,
                "additionalProperties": object(s, s.doc),
            });
            if min > 0 {
                v["minProperties"] = json!(min);
            }
            v
        }
        Ty::Schema(f, _) => f(),
    }
}

/// A table of `shape`, closed to other keys.
fn object(shape: &'static Shape, doc: &str) -> Value {
    let (properties, required): (Map<String, Value>, Vec<&str>) = match &shape.fields {
        Fields::Listed(fields) => (
            fields
                .iter()
                .map(|f: &Field| (f.key.to_owned(), value(f.ty, f.doc)))
                .collect(),
            fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.key)
                .collect(),
        ),
        Fields::Each(names, ty, each) => (
            names
                .iter()
                .map(|n| ((*n).to_owned(), value(*ty, &each.replace("{}", n))))
                .collect(),
            Vec::new(),
        ),
    };
    let mut v = json!({
        "type": "object",
        "description": doc,
        "required": required,
        "additionalProperties": false,
        "properties": properties,
    });
    if std::ptr::eq(shape, &shape::CHECK) {
        v["allOf"] = Value::Array(per_kind());
    }
    v
}

/// A check's kind decides which of its keys apply and which are required.
fn per_kind() -> Vec<Value> {
    CheckKind::ALL
        .iter()
        .map(|kind| {
            let (allowed, required) = check_keys(*kind);
            let not: Vec<Value> = shape::CHECK
                .keys()
                .filter(|k| !CHECK_COMMON.contains(k) && !allowed.contains(k))
                .map(|k| json!({ "required": [k] }))
                .collect();
            json!({
                "if": { "properties": { "kind": { "const": kind.as_str() } }, "required": ["kind"] },
                "then": { "required": required, "not": { "anyOf": not } },
            })
        })
        .collect()
}

/// The JSON Schema (draft-07) of a version 1 spec.
pub fn json_schema() -> Value {
    let mut schema = object(&shape::SPEC, shape::SPEC.doc);
    schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    schema["title"] = json!("stagegate.toml");
    schema
}
