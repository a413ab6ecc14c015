//! A public status page: what an environment's audience is told, in the
//! words of components rather than checks.

use crate::{Span, Spanned};

#[derive(Debug, Clone)]
pub struct StatusPage {
    /// The page's heading; the product's name when absent.
    pub title: Option<Spanned<String>>,
    /// A line under the heading.
    pub description: Option<String>,
    pub components: Vec<PageComponent>,
    pub span: Span,
}

/// A named group of checks, shown as one row: down while any of its
/// checks is down.
#[derive(Debug, Clone)]
pub struct PageComponent {
    pub name: Spanned<String>,
    pub description: Option<String>,
    pub checks: Vec<Spanned<String>>,
    pub span: Span,
}

impl PageComponent {
    /// The component's name as it appears in badge URLs: lower case,
    /// runs of anything but ASCII letters and digits one `-`.
    pub fn slug(&self) -> String {
        slug(&self.name.value)
    }
}

/// `name` as a URL path segment: `"Web & API"` → `web-api`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_path_segments() {
        assert_eq!(super::slug("Web & API"), "web-api");
        assert_eq!(super::slug("  Payments (EU) "), "payments-eu");
        assert_eq!(super::slug("Zażółć"), "za");
        assert_eq!(super::slug("---"), "");
    }
}
