//! Escalation policies: who is paged when an incident stays unacknowledged.

use crate::{Duration, Span, Spanned};

/// `[escalations.ID]`.
#[derive(Debug, Clone)]
pub struct Escalation {
    pub id: Spanned<String>,
    /// In order of `after`, strictly increasing.
    pub levels: Vec<Level>,
    /// Page the last level again every reminder interval until someone
    /// acknowledges.
    pub repeat: bool,
    pub span: Span,
}

/// `[[escalations.ID.levels]]`: `notify` is paged `after` the incident
/// opened, unless it was acknowledged by then.
#[derive(Debug, Clone)]
pub struct Level {
    pub after: Spanned<Duration>,
    /// Contact ids or `rotation:ID`.
    pub notify: Vec<Spanned<String>>,
    pub span: Span,
}

impl Escalation {
    /// The levels due `elapsed_ms` after the incident opened, by index.
    pub fn due(&self, elapsed_ms: i64) -> impl Iterator<Item = (usize, &Level)> {
        self.levels.iter().enumerate().filter(move |(_, l)| {
            i64::try_from(l.after.value.get().as_millis()).unwrap_or(i64::MAX) <= elapsed_ms
        })
    }
}
