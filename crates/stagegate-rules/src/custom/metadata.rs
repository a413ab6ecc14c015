//! The `# METADATA` comment block of a policy, in the shape OPA's annotations
//! use (a small YAML subset: `key: value`, nested maps by indentation, and
//! `- item` lists), read by hand because the Rego engine does not expose it.

/// A parsed value with the line (1-based, in the policy file) it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Scalar(String, usize),
    List(Vec<Node>, usize),
    Map(Vec<(String, Node)>, usize),
}

impl Node {
    pub(super) fn line(&self) -> usize {
        match self {
            Node::Scalar(_, l) | Node::List(_, l) | Node::Map(_, l) => *l,
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// The metadata block: the comment lines after `# METADATA`, with the line
/// number of each; `None` when the policy has none.
pub(super) fn block(text: &str) -> Option<Vec<(usize, String)>> {
    let mut lines = text.lines().enumerate();
    lines.find(|(_, l)| l.trim() == "# METADATA")?;
    let mut out = Vec::new();
    for (i, line) in lines {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            break;
        };
        // One space after `#` belongs to the comment, the rest is indentation.
        out.push((i + 1, rest.strip_prefix(' ').unwrap_or(rest).to_owned()));
    }
    Some(out)
}

/// Parses the block into a map. Errors name the line.
pub(super) fn parse(lines: &[(usize, String)], first_line: usize) -> Result<Node, (usize, String)> {
    let lines: Vec<(usize, usize, &str)> = lines
        .iter()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| (*n, l.len() - l.trim_start().len(), l.trim_end()))
        .collect();
    let mut pos = 0;
    let node = map_or_list(&lines, &mut pos, 0, first_line)?;
    if let Some((n, _, _)) = lines.get(pos) {
        return Err((
            *n,
            "unexpected indentation: expected `key: value` lines aligned with the ones above"
                .to_owned(),
        ));
    }
    Ok(node)
}

fn map_or_list(
    lines: &[(usize, usize, &str)],
    pos: &mut usize,
    indent: usize,
    at: usize,
) -> Result<Node, (usize, String)> {
    let Some(&(first, _, text)) = lines.get(*pos) else {
        return Ok(Node::Map(Vec::new(), at));
    };
    if text.trim_start().starts_with("- ") || text.trim_start() == "-" {
        let mut items = Vec::new();
        while let Some(&(n, ind, t)) = lines.get(*pos) {
            if ind != indent || !t.trim_start().starts_with('-') {
                break;
            }
            let item = t.trim_start().trim_start_matches('-').trim();
            items.push(Node::Scalar(unquote(item), n));
            *pos += 1;
        }
        return Ok(Node::List(items, first));
    }
    let mut entries = Vec::new();
    while let Some(&(n, ind, t)) = lines.get(*pos) {
        if ind < indent {
            break;
        }
        if ind > indent {
            return Err((
                n,
                "unexpected indentation: expected `key: value` aligned with the keys above"
                    .to_owned(),
            ));
        }
        let Some((key, value)) = t.trim_start().split_once(':') else {
            return Err((n, format!("expected `key: value`, found `{}`", t.trim())));
        };
        *pos += 1;
        let key = key.trim().to_owned();
        let value = value.trim();
        let node = if value.is_empty() {
            match lines.get(*pos) {
                Some(&(_, next, _)) if next > indent => map_or_list(lines, pos, next, n)?,
                _ => Node::Scalar(String::new(), n),
            }
        } else if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            Node::List(
                inner
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Node::Scalar(unquote(s), n))
                    .collect(),
                n,
            )
        } else {
            Node::Scalar(unquote(value), n)
        };
        entries.push((key, node));
    }
    Ok(Node::Map(entries, first))
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_maps_lists_and_flow_lists() {
        let text = "# METADATA\n# title: Orders are replicated\n# custom:\n#   id: ACME-DB-REPLICA\n#   severity:\n#     production: required\n#     soft-launch: recommended\n#   controls:\n#     - \"iso-27001:A.8.14\"\n#     - pci-dss:12.10.1:partial\n#   tags: [a, 'b']\npackage x\n";
        let lines = block(text).expect("block");
        let node = parse(&lines, 1).expect("parse");
        assert_eq!(
            node.get("title"),
            Some(&Node::Scalar("Orders are replicated".into(), 2))
        );
        let custom = node.get("custom").expect("custom");
        assert_eq!(
            custom.get("id"),
            Some(&Node::Scalar("ACME-DB-REPLICA".into(), 4))
        );
        assert_eq!(
            custom.get("severity").and_then(|s| s.get("soft-launch")),
            Some(&Node::Scalar("recommended".into(), 7))
        );
        let Some(Node::List(items, 9)) = custom.get("controls") else {
            panic!("controls: {custom:?}")
        };
        assert_eq!(items[0], Node::Scalar("iso-27001:A.8.14".into(), 9));
        let Some(Node::List(tags, _)) = custom.get("tags") else {
            panic!("tags")
        };
        assert_eq!(tags.len(), 2);
    }

    #[test]
    fn errors_name_the_line() {
        let lines = block("# METADATA\n# title: x\n#   id: y\n").expect("block");
        assert_eq!(parse(&lines, 1).map_err(|e| e.0), Err(3));
        let lines = block("# METADATA\n# just words\n").expect("block");
        assert!(parse(&lines, 1).is_err_and(|e| e.0 == 2 && e.1.contains("expected `key: value`")));
        assert!(block("package x\n").is_none());
    }
}
