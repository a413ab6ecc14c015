//! Renders spec diagnostics codespan-style: the source line, a caret under
//! the column, what was found and what was expected.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, LabelStyle, Severity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config, GeneralWriteResult, WriteStyle};
use stagegate_spec::{Diagnostic, SourceFile};

/// Writes ANSI styles; `anstream` strips them when stderr is not a terminal.
struct Ansi<W> {
    inner: W,
}

impl<W: Write> Ansi<W> {
    fn set(&mut self, style: Style) -> GeneralWriteResult {
        write!(self.inner, "{}", style.render_reset())?;
        write!(self.inner, "{}", style.render())
    }
}

impl<W: Write> Write for Ansi<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

impl<W: Write> WriteStyle for Ansi<W> {
    fn set_header(&mut self, severity: Severity) -> GeneralWriteResult {
        let c = match severity {
            Severity::Bug | Severity::Error => AnsiColor::Red,
            Severity::Warning => AnsiColor::Yellow,
            Severity::Note => AnsiColor::Green,
            Severity::Help => AnsiColor::Cyan,
        };
        self.set(fg(c).bold())
    }
    fn set_header_message(&mut self) -> GeneralWriteResult {
        self.set(Style::new().bold())
    }
    fn set_line_number(&mut self) -> GeneralWriteResult {
        self.set(fg(AnsiColor::Blue))
    }
    fn set_note_bullet(&mut self) -> GeneralWriteResult {
        self.set(fg(AnsiColor::Blue))
    }
    fn set_source_border(&mut self) -> GeneralWriteResult {
        self.set(fg(AnsiColor::Blue))
    }
    fn set_label(&mut self, severity: Severity, style: LabelStyle) -> GeneralWriteResult {
        match style {
            LabelStyle::Primary => self.set_header(severity),
            LabelStyle::Secondary => self.set(fg(AnsiColor::Blue)),
        }
    }
    fn reset(&mut self) -> GeneralWriteResult {
        write!(self.inner, "{}", anstyle::Reset.render())
    }
}

fn to_codespan(d: &Diagnostic) -> CsDiagnostic<()> {
    let mut labels = Vec::new();
    if let Some(span) = d.span {
        labels.push(Label::primary((), span.range()).with_message(&d.label));
    }
    for (span, message) in &d.related {
        labels.push(Label::secondary((), span.range()).with_message(message));
    }
    CsDiagnostic::error()
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(d.notes.clone())
}

/// Writes every diagnostic, then a one-line count.
pub fn emit(source: &SourceFile, diags: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    let file = SimpleFile::new(source.name(), source.text());
    let config = Config::default();
    let mut w = Ansi { inner: out };
    for d in diags {
        term::emit_to_write_style(&mut w, &config, &file, &to_codespan(d))
            .map_err(io::Error::other)?;
    }
    let n = diags.len();
    let red = fg(AnsiColor::Red).bold();
    writeln!(
        w.inner,
        "{red}error{red:#}: {} has {n} problem{}; nothing was checked",
        source.name(),
        if n == 1 { "" } else { "s" }
    )
}

/// Rendered diagnostics as a log line may carry them: no terminal styles,
/// every line cut at [`LOG_LINE`] characters, at most [`LOG_LINES`] lines (a
/// spec of one 50 MB line must not become a 50 MB log record).
pub fn for_log(rendered: &str) -> String {
    let plain = anstream::adapter::strip_str(rendered).to_string();
    let mut out = String::new();
    let lines: Vec<&str> = plain.lines().collect();
    for line in lines.iter().take(LOG_LINES) {
        let n = line.chars().count();
        if n > LOG_LINE {
            out.extend(line.chars().take(LOG_LINE));
            out.push_str(&format!("… ({} more characters)", n - LOG_LINE));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if lines.len() > LOG_LINES {
        out.push_str(&format!("… ({} more lines)\n", lines.len() - LOG_LINES));
    }
    out
}

/// The longest line [`for_log`] keeps, in characters.
pub const LOG_LINE: usize = 240;
/// The most lines [`for_log`] keeps.
pub const LOG_LINES: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_is_plain_and_short() {
        let long = format!("\u{1b}[31merror\u{1b}[0m: {}\n  | ok\n", "x".repeat(1000));
        let out = for_log(&long);
        assert!(!out.contains('\u{1b}'), "{out:?}");
        assert!(out.starts_with("error: xxx"), "{out}");
        assert!(out.contains("… (767 more characters)"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() < LOG_LINE + 40));
        let many = "line\n".repeat(500);
        let out = for_log(&many);
        assert_eq!(out.lines().count(), LOG_LINES + 1);
        assert!(out.ends_with("… (300 more lines)\n"), "{out}");
    }
}
