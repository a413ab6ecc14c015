//! Text put into HTML or XML the server writes by hand: Telegram's and
//! Matrix's formatted messages, Pushover's HTML, the status page's Atom
//! feed and SVG badges. (Askama escapes the dashboard's templates itself.)

/// `text` safe as character data or a quoted attribute value in HTML and
/// XML. The apostrophe becomes a numeric reference, the one form every
/// reader here accepts (Telegram knows only four named entities), and
/// characters XML 1.0 forbids (controls, U+FFFE, U+FFFF) are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if !allowed_in_xml(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether XML 1.0 allows `c` at all (its `Char` production).
pub fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_forbidden_characters_go() {
        assert_eq!(
            super::escape("a<b> & \"c\" 'd'\u{1}\u{FFFE}\u{FFFF}\n"),
            "a&lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;\n"
        );
    }
}
