//! "Did you mean" hints for misspelt keys, ids and enum values.

/// The candidate closest to `found`, if it is close enough to be a plausible
/// typo (edit distance at most a third of the longer word, and at least 1).
pub fn closest<'a>(found: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let found_lower = found.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&found_lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (found.chars().count().max(c.chars().count()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `Some("did you mean `x`?")` when a close candidate exists.
pub fn did_you_mean<'a>(
    found: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(found, candidates).map(|c| format!("did you mean `{c}`?"))
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("intreval", ["interval", "name"]), Some("interval"));
        assert_eq!(closest("locaton", ["location", "region"]), Some("location"));
        assert_eq!(closest("zzz", ["interval", "name"]), None);
        assert_eq!(closest("Production", ["production"]), Some("production"));
    }
}
