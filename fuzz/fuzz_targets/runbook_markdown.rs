//! A runbook's Markdown as the dashboard renders it: whatever the file
//! says, every tag in the page is one a runbook may have — no script, no
//! frame, no event handler, no link that runs code. (Text may say
//! "javascript:" all it likes: it is escaped text, not a link.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use stagegate_server::fuzzing::runbook_html;

const FORBIDDEN_TAGS: [&str; 7] = ["script", "iframe", "object", "embed", "style", "frame", "base"];
const CODE_SCHEMES: [&str; 3] = ["javascript:", "vbscript:", "data:"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let html = runbook_html(text).to_ascii_lowercase();
    // Escaped text never contains `<`: every `<` opens a real tag.
    for tag in html.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default();
        assert!(!FORBIDDEN_TAGS.contains(&name), "<{tag}> in {html}");
        for attr in tag.split_whitespace().skip(1) {
            let (key, value) = attr.split_once('=').unwrap_or((attr, ""));
            assert!(!key.starts_with("on"), "an event handler in <{tag}>");
            let value = value.trim_matches(['"', '\'']).trim();
            if key == "href" || key == "src" {
                assert!(
                    !CODE_SCHEMES.iter().any(|s| value.starts_with(s)),
                    "a link that runs code in <{tag}>"
                );
            }
        }
    }
});
