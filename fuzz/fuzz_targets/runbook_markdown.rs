//! A runbook's Markdown as the dashboard renders it: whatever the file
//! says, the page gets no script, no event handler, no dangerous link.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stagegate_server::fuzzing::runbook_html;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let html = runbook_html(text).to_ascii_lowercase();
    for bad in ["<script", "<iframe", "<object", "<embed", "javascript:", " onerror=", " onload="] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
});
