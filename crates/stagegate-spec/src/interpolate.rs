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
}

/// Replaces `${NAME}` with `lookup(NAME)`; `$${` stands for a literal `${`.
pub fn expand(
    raw: &str,
    lookup: &mut dyn FnMut(&str) -> Option<String>,
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
            out.push_str(&value);
            rest = &inner[end + 1..];
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
}
