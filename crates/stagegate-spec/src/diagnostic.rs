//! Spec problems as data: rendered by the binary (codespan-style), never
//! printed from here.

use crate::Span;

/// One problem found in a spec. `span` is absent only for problems about the
/// file as a whole (e.g. a missing `[product]` table in an empty file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The headline: what is wrong.
    pub message: String,
    pub span: Option<Span>,
    /// The label under the caret: what was found there.
    pub label: String,
    /// What was expected, and hints such as "did you mean".
    pub notes: Vec<String>,
    /// Other places that explain the problem ("first declared here").
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            message: message.into(),
            span: Some(span),
            label: String::new(),
            notes: Vec::new(),
            related: Vec::new(),
        }
    }

    /// A problem about the whole file, with no position to point at.
    pub fn global(message: impl Into<String>) -> Self {
        Diagnostic {
            span: None,
            ..Diagnostic::new(message, Span::default())
        }
    }

    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_hint(self, hint: Option<String>) -> Self {
        match hint {
            Some(h) => self.note(h),
            None => self,
        }
    }
}
