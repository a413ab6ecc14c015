//! Which system this is, from os-release.

use std::path::Path;

use crate::command::Unavailable;
use crate::report::Os;

pub fn collect() -> Result<Os, Unavailable> {
    let text = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| std::fs::read_to_string(Path::new(p)).ok())
        .ok_or_else(|| Unavailable("no /etc/os-release".to_owned()))?;
    Ok(parse(&text))
}

/// `KEY=value` lines, values optionally quoted.
pub fn parse(text: &str) -> Os {
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().trim_matches(['"', '\'']).to_owned())
            .unwrap_or_default()
    };
    Os {
        id: value("ID"),
        version: value("VERSION_ID"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn os_release() {
        let os = super::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n",
        );
        assert_eq!((os.id.as_str(), os.version.as_str()), ("debian", "12"));
    }
}
