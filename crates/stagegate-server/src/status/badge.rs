//! Shields-style SVG badges: a grey label and a coloured value, text in
//! the SVG (so it stays sharp at any zoom) with a `<title>` and an
//! `aria-label` for screen readers.

use super::page::State;

/// Colours with at least 4.5:1 contrast against white text.
fn colour(state: State) -> &'static str {
    match state {
        State::Operational => "#1a7f37",
        State::Degraded | State::Maintenance => "#9a4f00",
        State::Outage => "#c0281b",
        State::Unknown => "#57606a",
    }
}

/// The colour of an uptime percentage.
pub fn uptime_colour(percent: Option<f64>) -> &'static str {
    match percent {
        Some(p) if p >= 99.9 => "#1a7f37",
        Some(p) if p >= 99.0 => "#4d7a00",
        Some(p) if p >= 95.0 => "#9a4f00",
        Some(_) => "#c0281b",
        None => "#57606a",
    }
}

pub fn state(label: &str, state: State) -> String {
    badge(label, &state.words().to_ascii_lowercase(), colour(state))
}

/// Width of `text` at 11 px Verdana, near enough: shields.io measures
/// each glyph; this averages narrow and wide ones.
fn width(text: &str) -> u32 {
    let units: u32 = text
        .chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' | ' ' => 4,
            'm' | 'w' | 'M' | 'W' | '%' => 10,
            c if c.is_ascii_uppercase() => 8,
            _ => 7,
        })
        .sum();
    units + 10
}

pub fn badge(label: &str, value: &str, colour: &str) -> String {
    let (lw, vw) = (width(label), width(value));
    let label = crate::markup::escape(label);
    let value = crate::markup::escape(value);
    let total = lw + vw;
    let (lx, vx) = (lw * 5, lw * 10 + vw * 5);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{label}: {value}"><title>{label}: {value}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{vw}" height="20" fill="{colour}"/><rect width="{total}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110"><text aria-hidden="true" x="{lx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)">{label}</text><text x="{lx}" y="140" transform="scale(.1)">{label}</text><text aria-hidden="true" x="{vx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)">{value}</text><text x="{vx}" y="140" transform="scale(.1)">{value}</text></g></svg>"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_says_what_it_shows_to_eyes_and_screen_readers() {
        let svg = state("Checkout & <API>", State::Outage);
        assert!(
            svg.contains(r#"aria-label="Checkout &amp; &lt;API&gt;: outage""#),
            "{svg}"
        );
        assert!(svg.contains("<title>Checkout &amp; &lt;API&gt;: outage</title>"));
        assert!(svg.contains("#c0281b"));
        assert!(!svg.contains("<API>"), "escaped");
        assert_eq!(uptime_colour(Some(99.95)), "#1a7f37");
        assert_eq!(uptime_colour(None), "#57606a");
    }
}
