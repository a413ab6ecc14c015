//! The JSON path subset checks use: `$`, `.name`, `["name"]`, `[index]`.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A parsed path such as `$.items[0].id` or `$["weird key"].ok`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid JSON path `{path}` at character {at}: expected `.name`, `[\"name\"]` or `[index]`"
)]
pub struct JsonPathError {
    pub path: String,
    pub at: usize,
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<Self, JsonPathError> {
        let err = |at| JsonPathError {
            path: text.to_owned(),
            at,
        };
        let rest = text.strip_prefix('$').ok_or_else(|| err(0))?;
        let chars: Vec<char> = rest.chars().collect();
        let mut i = 0;
        let mut segments = Vec::new();
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    let start = i + 1;
                    let mut end = start;
                    while end < chars.len() && chars[end] != '.' && chars[end] != '[' {
                        end += 1;
                    }
                    if end == start {
                        return Err(err(i + 2));
                    }
                    segments.push(Segment::Key(chars[start..end].iter().collect()));
                    i = end;
                }
                '[' => {
                    let close = chars[i..]
                        .iter()
                        .position(|c| *c == ']')
                        .map(|p| p + i)
                        .ok_or_else(|| err(i + 1))?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    let inner = inner.trim();
                    if let Some(quoted) = inner
                        .strip_prefix('"')
                        .and_then(|s| s.strip_suffix('"'))
                        .or_else(|| inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                    {
                        segments.push(Segment::Key(quoted.to_owned()));
                    } else {
                        segments.push(Segment::Index(inner.parse().map_err(|_| err(i + 2))?));
                    }
                    i = close + 1;
                }
                _ => return Err(err(i + 1)),
            }
        }
        Ok(JsonPath {
            text: text.to_owned(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn find<'v>(&self, mut value: &'v Value) -> Option<&'v Value> {
        for seg in &self.segments {
            value = match seg {
                Segment::Key(k) => value.get(k)?,
                Segment::Index(i) => value.get(i)?,
            };
        }
        Some(value)
    }
}

/// Equality where numbers compare by value (1 == 1.0).
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_nested_values() {
        let doc = json!({ "status": "ok", "items": [{ "id": 7 }], "a b": { "c": true } });
        let find = |p: &str| JsonPath::parse(p).expect("path").find(&doc).cloned();
        assert_eq!(find("$.status"), Some(json!("ok")));
        assert_eq!(find("$.items[0].id"), Some(json!(7)));
        assert_eq!(find("$[\"a b\"].c"), Some(json!(true)));
        assert_eq!(find("$.missing"), None);
        assert_eq!(find("$"), Some(doc.clone()));
        assert!(JsonPath::parse("status").is_err());
        assert!(JsonPath::parse("$..x").is_err());
        assert!(JsonPath::parse("$.items[x]").is_err());
        assert!(json_equal(&json!(1), &json!(1.0)));
    }
}
