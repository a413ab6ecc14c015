//! The spec text and its line index, shared by diagnostics and reports.

use crate::Span;

/// A loaded spec file: its display name (as the user gave it), its text, and
/// the byte offset of every line start, so spans become `line:column` cheaply.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }

    /// Where a byte offset lies. Offsets past the end map to the last line.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    pub fn span_start(&self, span: Span) -> LineCol {
        self.line_col(span.start as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_chars() {
        let f = SourceFile::new("s.toml", "a = 1\nnäme = 2\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(6), LineCol { line: 2, column: 1 });
        // 'ä' is two bytes: the '=' after "näme " is the 6th character.
        assert_eq!(f.line_col(6 + 6), LineCol { line: 2, column: 6 });
        assert_eq!(f.line_col(10_000).line, 3);
    }
}
