//! Runbook front matter: commitments a rule reads without guessing from
//! wording, and that the dashboard shows as facts rather than as text.

/// A runbook's front matter: `key: value` lines between a first line
/// `---` and the next `---`, where a runbook states commitments a rule can
/// read without guessing from its wording. Only flat keys are read.
#[derive(Debug)]
pub struct FrontMatter<'t> {
    pub fields: Vec<(&'t str, &'t str)>,
    /// The text after the front matter.
    pub body: &'t str,
}

impl<'t> FrontMatter<'t> {
    pub fn of(text: &'t str) -> FrontMatter<'t> {
        let none = FrontMatter {
            fields: Vec::new(),
            body: text,
        };
        let Some(rest) = text
            .strip_prefix("---\n")
            .or_else(|| text.strip_prefix("---\r\n"))
        else {
            return none;
        };
        let Some(end) = rest
            .match_indices("\n---")
            .map(|(i, _)| i)
            .find(|i| matches!(rest[i + 4..].chars().next(), None | Some('\n' | '\r')))
        else {
            return none;
        };
        let fields = rest[..end]
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim(), v.trim()))
            .filter(|(k, _)| !k.is_empty() && !k.starts_with('#'))
            .collect();
        FrontMatter {
            fields,
            body: &rest[end + 4..],
        }
    }

    pub fn get(&self, key: &str) -> Option<&'t str> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// `[a, "b"]` or `a, b` as its items.
    pub fn list(value: &str) -> Vec<&str> {
        value
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|item| item.trim().trim_matches(['"', '\'']))
            .filter(|item| !item.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::FrontMatter;

    #[test]
    fn front_matter_is_the_first_block_between_dashes() {
        let f = FrontMatter::of("---\nnotifies: [a, \"b\"]\nwithin: 72h\n---\n# Title\n");
        assert_eq!(f.get("within"), Some("72h"));
        assert_eq!(
            FrontMatter::list(f.get("notifies").unwrap_or_default()),
            ["a", "b"]
        );
        assert_eq!(f.body, "\n# Title\n");
        for plain in [
            "# Title\n---\nx: y\n---\n",
            "---\nx: y\n",
            "---\nx: y\n----\n",
        ] {
            let f = FrontMatter::of(plain);
            assert!(f.fields.is_empty(), "{plain:?}");
            assert_eq!(f.body, plain);
        }
        let crlf = FrontMatter::of("---\r\nwithin: 1h\r\n---\r\nbody");
        assert_eq!(crlf.get("within"), Some("1h"));
    }
}
