//! `${NAME}` interpolation from the process environment.
//!
//! Values that only live checks, notifiers or the server need (URLs, tokens,
//! secrets) are kept as [`Deferred`] and resolved where they are used, so a
//! static `check` in CI never needs production secrets. Everything else is
//! resolved while loading, and an unset variable is a spec error there.

use crate::{Diagnostic, Span};

/// Looks up an environment variable; injected so tests need not mutate the
/// process environment.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A string whose `${NAME}` references are resolved only when used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deferred {
    raw: String,
    span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolateError {
    #[error("environment variable `{0}` is not set")]
    Unset(String),
    #[error("unclosed `${{` : expected `${{NAME}}`")]
    Unclosed,
    #[error("`${{{0}}}` is not a valid variable name: expected letters, digits and `_`")]
    BadName(String),
}

impl Deferred {
    pub(crate) fn new(raw: String, span: Span) -> Self {
        Deferred { raw, span }
    }

    /// The text as written, with `${NAME}` references unresolved.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn span(&self) -> Span {
        self.span
    }

    /// Names of the variables this value needs.
    pub fn variables(&self) -> Vec<String> {
        let mut names = Vec::new();
        let _ = expand(&self.raw, &mut |name| {
            names.push(name.to_owned());
            Some(String::new())
        });
        names
    }

    pub fn resolve(&self, env: EnvLookup<'_>) -> Result<String, Diagnostic> {
        expand(&self.raw, &mut |name| env(name))
            .map_err(|e| Diagnostic::new(e.to_string(), self.span).label("needed here"))
    }

    /// Resolves a URL: see [`expand_url`].
    pub fn resolve_url(&self, env: EnvLookup<'_>) -> Result<String, Diagnostic> {
        expand_url(&self.raw, &mut |name| env(name))
            .map_err(|e| Diagnostic::new(e.to_string(), self.span).label("needed here"))
    }
}

/// Replaces `${NAME}` in a URL. A variable in the userinfo, path, query or
/// fragment is one value: it is percent-encoded, so a secret holding `/`,
/// `?`, `#` or `@` neither sends the request elsewhere nor comes back cut
/// in two (and unrecognised) in a message. A variable in the scheme or the
/// host is taken as written: it may hold a whole URL, or `host:port`.
pub fn expand_url(
    raw: &str,
    lookup: &mut dyn FnMut(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    expand_each(raw, lookup, &|before, after| {
        let Some((_, authority)) = before.split_once("://") else {
            return false;
        };
        if authority.contains(['/', '?', '#']) {
            return true;
        }
        // In the authority: the userinfo if an `@` is still to come.
        !authority.contains('@')
            && after
                .split(['/', '?', '#'])
                .next()
                .is_some_and(|a| a.contains('@'))
    })
}

/// Replaces `${NAME}` with `lookup(NAME)`; `$${` stands for a literal `${`.
pub fn expand(
    raw: &str,
    lookup: &mut dyn FnMut(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    expand_each(raw, lookup, &|_, _| false)
}

/// Expands `raw`; `encode(before, after)` says whether the value of a
/// variable goes in percent-encoded, given the text expanded before it and
/// the text (unexpanded) after it.
fn expand_each(
    raw: &str,
    lookup: &mut dyn FnMut(&str) -> Option<String>,
    encode: &dyn Fn(&str, &str) -> bool,
) -> Result<String, InterpolateError> {
    if !raw.contains('$') {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(stripped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = stripped;
        } else if let Some(inner) = after.strip_prefix("${") {
            let end = inner.find('}').ok_or(InterpolateError::Unclosed)?;
            let name = &inner[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(InterpolateError::BadName(name.to_owned()));
            }
            let value = lookup(name).ok_or_else(|| InterpolateError::Unset(name.to_owned()))?;
            rest = &inner[end + 1..];
            if encode(&out, rest) {
                out.push_str(&crate::redact::percent_encoded(&value));
            } else {
                out.push_str(&value);
            }
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "HOST").then(|| "db.example".to_owned())
    }

    #[test]
    fn expands_escapes_and_reports() {
        let mut l = |n: &str| env(n);
        assert_eq!(
            expand("pg://${HOST}/x", &mut l),
            Ok("pg://db.example/x".into())
        );
        assert_eq!(
            expand("cost $5 $${HOST}", &mut l),
            Ok("cost $5 ${HOST}".into())
        );
        assert_eq!(
            expand("${NOPE}", &mut l),
            Err(InterpolateError::Unset("NOPE".into()))
        );
        assert_eq!(expand("${HOST", &mut l), Err(InterpolateError::Unclosed));
        assert_eq!(
            expand("${A-B}", &mut l),
            Err(InterpolateError::BadName("A-B".into()))
        );
    }

    #[test]
    fn a_variable_in_a_urls_userinfo_path_or_query_is_one_value() {
        let vars = |n: &str| match n {
            "S" => Some("a/b?c#d@e".to_owned()),
            "HOST" => Some("db.example:5432".to_owned()),
            "BASE" => Some("https://x.example/api".to_owned()),
            _ => None,
        };
        let mut l = |n: &str| vars(n);
        let enc = "a%2Fb%3Fc%23d%40e";
        for (raw, want) in [
            ("http://u:${S}@h/x", format!("http://u:{enc}@h/x")),
            ("http://${S}@h/x", format!("http://{enc}@h/x")),
            ("http://h/hook/${S}", format!("http://h/hook/{enc}")),
            (
                "http://h/x?token=${S}&y=1",
                format!("http://h/x?token={enc}&y=1"),
            ),
            ("http://h/#${S}", format!("http://h/#{enc}")),
            (
                "postgres://app:${S}@${HOST}/shop",
                format!("postgres://app:{enc}@db.example:5432/shop"),
            ),
            (
                "${BASE}/v1?k=${S}",
                format!("https://x.example/api/v1?k={enc}"),
            ),
            ("${BASE}", "https://x.example/api".to_owned()),
        ] {
            assert_eq!(expand_url(raw, &mut l), Ok(want), "{raw}");
        }
    }
}
