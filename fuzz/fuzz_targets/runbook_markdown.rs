//! A runbook's Markdown as the dashboard renders it: whatever the file
//! says, every tag in the page is one a runbook may have — no script, no
//! frame, no event handler, no link that runs code. (Text may say
//! "javascript:" all it likes: it is escaped text, not a link.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use stagegate_server::fuzzing::runbook_html;

const FORBIDDEN_TAGS: [&str; 7] = ["script", "iframe", "object", "embed", "style", "frame", "base"];
const CODE_SCHEMES: [&str; 3] = ["javascript:", "vbscript:", "data:"];

/// The attributes of a tag's inside (after its name), parsed as a browser
/// does: quoted values may hold anything but their quote.
fn attributes(mut rest: &str) -> Vec<(String, String)> {
    let space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\u{c}' | '\r' | '/');
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches(space);
        if rest.is_empty() {
            return out;
        }
        let end = rest.find(|c: char| space(c) || c == '=').unwrap_or(rest.len());
        let name = rest[..end].to_owned();
        rest = &rest[end..];
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
            if let Some(q) = quote {
                let body = &after[1..];
                let close = body.find(q).unwrap_or(body.len());
                value = body[..close].to_owned();
                rest = body.get(close + 1..).unwrap_or("");
            } else {
                let close = after.find(space).unwrap_or(after.len());
                value = after[..close].to_owned();
                rest = &after[close..];
            }
        }
        if name.is_empty() {
            rest = rest.get(1..).unwrap_or("");
            continue;
        }
        out.push((name, value));
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let html = runbook_html(text).to_ascii_lowercase();
    // Escaped text never contains `<`: every `<` opens a real tag.
    for tag in html.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let inner = tag.trim_start_matches('/');
        let name_end = inner
            .find(|c: char| matches!(c, ' ' | '\t' | '\n' | '\u{c}' | '\r' | '/'))
            .unwrap_or(inner.len());
        let name = &inner[..name_end];
        assert!(!FORBIDDEN_TAGS.contains(&name), "<{tag}> in {html}");
        for (key, value) in attributes(&inner[name_end..]) {
            assert!(!key.starts_with("on"), "an event handler in <{tag}>");
            let value = value.trim();
            if key == "href" || key == "src" {
                assert!(
                    !CODE_SCHEMES.iter().any(|s| value.starts_with(s)),
                    "a link that runs code in <{tag}>"
                );
            }
        }
    }
});
