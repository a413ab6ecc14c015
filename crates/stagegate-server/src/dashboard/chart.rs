//! Latency charts as inline SVG, drawn on the server: no script, no
//! library, readable by screen readers through their summary.

use std::fmt::Write;

/// One result on the chart, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub latency_ms: Option<f64>,
    pub failed: bool,
}

const W: f64 = 600.0;
const H: f64 = 140.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 20.0;
const TOP: f64 = 10.0;

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

/// The chart, or a sentence when there is nothing to draw.
pub fn latency(points: &[Point]) -> String {
    let measured: Vec<f64> = points.iter().filter_map(|p| p.latency_ms).collect();
    if measured.is_empty() {
        return "<p class=\"empty\">No latency measured yet.</p>".to_owned();
    }
    let mut sorted = measured.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    let top = if max > 0.0 { max * 1.1 } else { 1.0 };
    let failures = points.iter().filter(|p| p.failed).count();
    let summary = format!(
        "Latency of the last {} results: median {}, highest {}; {} failed.",
        points.len(),
        ms(median),
        ms(max),
        failures
    );
    let step = if points.len() > 1 {
        (W - LEFT - 4.0) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| LEFT + step * i as f64;
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / top);
    let mut svg = String::with_capacity(4096);
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"chart-title\">\
         <title id=\"chart-title\">{summary}</title>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{b}\" x2=\"{W}\" y2=\"{b}\"/>\
         <text x=\"0\" y=\"{ty}\">{tmax}</text><text x=\"0\" y=\"{b}\">0 ms</text>",
        b = H - BOTTOM,
        ty = TOP + 10.0,
        tmax = ms(top),
    );
    svg.push_str("<polyline class=\"line\" points=\"");
    for (i, p) in points.iter().enumerate() {
        if let Some(v) = p.latency_ms {
            let _ = write!(svg, "{:.1},{:.1} ", x(i), y(v));
        }
    }
    svg.push_str("\"/>");
    for (i, p) in points.iter().enumerate().filter(|(_, p)| p.failed) {
        let _ = write!(
            svg,
            "<circle class=\"fail\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\"/>",
            x(i),
            y(p.latency_ms.unwrap_or(0.0))
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_and_marks_failures() {
        let points = [
            Point {
                latency_ms: Some(10.0),
                failed: false,
            },
            Point {
                latency_ms: Some(30.0),
                failed: true,
            },
            Point {
                latency_ms: None,
                failed: true,
            },
        ];
        let svg = latency(&points);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(
            svg.contains(
                "Latency of the last 3 results: median 30.0 ms, highest 30.0 ms; 2 failed."
            ),
            "{svg}"
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(latency(&[]).contains("No latency measured yet"));
    }
}
