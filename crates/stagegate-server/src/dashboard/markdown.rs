//! Runbooks rendered from Markdown, safe by construction: raw HTML in the
//! source is shown as text (escaped), links keep only http, https, mailto
//! and relative targets, and images become their alt text (the page loads
//! nothing from elsewhere).

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

fn safe_link(dest: &str) -> bool {
    let lower = dest.trim_start().to_ascii_lowercase();
    match lower.split_once(':') {
        // A colon before any slash, `?` or `#` is a scheme.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        // Only the image's alt text (the events between) remains.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = if safe_link(&dest_url) {
                dest_url
            } else {
                CowStr::Borrowed("#")
            };
            Some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        // Heading ids and classes from `{#id .class}` stay out: they could
        // collide with the page's own.
        Event::Start(Tag::Heading { level, .. }) => Some(Event::Start(Tag::Heading {
            level,
            id: None,
            classes: Vec::new(),
            attrs: Vec::new(),
        })),
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn renders_markdown() {
        let html = to_html(
            "# Restore\n\n1. Stop the app\n2. Run `restic restore`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(html.contains("<h1>Restore</h1>"), "{html}");
        assert!(html.contains("<code>restic restore</code>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn raw_html_scripts_and_bad_links_do_not_survive() {
        let html = to_html(
            "<script>alert(1)</script>\n\nHi <img src=x onerror=alert(1)> [x](javascript:alert(1)) [y](JaVaScRiPt:alert(1)) [z](data:text/html,hi) [ok](https://example.com/a) [rel](../b.md) [m](mailto:ops@example.com)\n\n![alt text](https://tracker.example/p.png)\n\n# T {#main .evil}\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:text"), "{html}");
        assert!(html.contains("href=\"https://example.com/a\""), "{html}");
        assert!(html.contains("href=\"../b.md\""), "{html}");
        assert!(html.contains("href=\"mailto:ops@example.com\""), "{html}");
        assert!(html.contains("alt text"), "{html}");
        assert!(!html.contains("tracker.example"), "{html}");
        assert!(html.contains("<h1>T</h1>"), "{html}");
    }
}
