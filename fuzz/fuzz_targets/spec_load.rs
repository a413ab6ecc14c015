//! Any text as a spec: the loader answers with a spec or diagnostics whose
//! spans lie inside the text, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stagegate_spec::{LoadOptions, SourceFile, load};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = SourceFile::new("stagegate.toml", text.to_owned());
    let ids = stagegate_rules::rule_ids();
    let opts = LoadOptions {
        env: &|name| (name == "SET").then(|| "value".to_owned()),
        known_rules: &ids,
        known_controls: stagegate_rules::frameworks::control_ids,
    };
    if let Err(diags) = load(&source, &opts) {
        assert!(!diags.is_empty(), "an error with nothing to say");
        for d in &diags {
            if let Some(span) = d.span {
                assert!(span.range().end <= text.len(), "a span past the end");
                let _ = source.span_start(span);
            }
        }
    }
});
