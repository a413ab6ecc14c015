//! The Atom feed of a status page (RFC 4287): one entry per incident,
//! updated whenever a public update is posted or it resolves, its content
//! the public updates in order. Links are relative to the feed, so no
//! host name a client sent ends up in a cached body.

use std::fmt::Write;

use super::page::Page;
use crate::markup::escape as esc;

pub fn feed(page: &Page) -> String {
    let env = esc(&page.environment);
    let updated = page
        .incidents
        .iter()
        .map(|i| i.updated_ms)
        .max()
        .map_or_else(|| page.generated_at.clone(), crate::clock::rfc3339);
    let mut out = String::with_capacity(1024 + page.incidents.len() * 512);
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>urn:stagegate:status:{env}</id>
<title>{title} status</title>
<updated>{updated}</updated>
<link rel="alternate" type="text/html" href="/status/{env}"/>
<link rel="self" type="application/atom+xml" href="/status/{env}/feed.atom"/>
<author><name>{title}</name></author>
<generator>stagegate</generator>
"#,
        title = esc(&page.title),
    );
    for i in &page.incidents {
        let _ = write!(
            out,
            r#"<entry>
<id>urn:stagegate:status:{env}:incident:{id}</id>
<title>{status}: {title}</title>
<published>{started}</published>
<updated>{updated}</updated>
<link rel="alternate" type="text/html" href="/status/{env}#incident-{id}"/>
<content type="html">"#,
            id = i.id,
            status = esc(&capitalised(&i.status)),
            title = esc(&i.title),
            started = i.started_at,
            updated = crate::clock::rfc3339(i.updated_ms),
        );
        let mut html = format!(
            "<p>Affects {}. Started {}{}.</p>",
            esc(&i.components.join(", ")),
            i.started_at,
            i.resolved_at
                .as_ref()
                .map_or_else(String::new, |r| format!(", resolved {r}"))
        );
        for u in i.updates.iter().rev() {
            let _ = write!(
                html,
                "<p><strong>{}</strong> ({}): {}</p>",
                esc(&capitalised(&u.status)),
                u.at,
                esc(&u.message)
            );
        }
        // The HTML goes in escaped once more: it is text of the element.
        let _ = writeln!(out, "{}</content>\n</entry>", esc(&html));
    }
    out.push_str("</feed>\n");
    out
}

pub fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}
