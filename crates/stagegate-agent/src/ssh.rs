//! The SSH daemon's effective settings, as `sshd -T` resolves them
//! (includes, Match defaults and compiled-in defaults), not as a config
//! file reads.

use std::time::Duration;

use crate::command::{self, Unavailable, needs_privileges};
use crate::report::Ssh;
use crate::updates::which;

pub async fn collect(limit: Duration) -> Result<Ssh, Unavailable> {
    let sshd = ["sshd", "/usr/sbin/sshd"]
        .into_iter()
        .find(|p| which(p).is_some() || std::path::Path::new(p).is_file())
        .ok_or_else(|| Unavailable("sshd is not installed".to_owned()))?;
    let out = command::run(sshd, &["-T"], limit).await?;
    if !out.success() {
        let why = out.complaint();
        if needs_privileges(&out.stderr) || why.contains("hostkeys") || why.contains("host key") {
            return Err(Unavailable(format!(
                "sshd -T needs root (it reads the host keys): {why}"
            )));
        }
        return Err(Unavailable(format!("sshd -T failed: {why}")));
    }
    parse(&out.stdout).ok_or_else(|| {
        Unavailable("sshd -T printed no passwordauthentication or permitrootlogin".to_owned())
    })
}

/// `sshd -T`: lower-case `keyword value` lines.
pub fn parse(text: &str) -> Option<Ssh> {
    let value = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim().to_owned())
        })
    };
    let password = value("passwordauthentication")?;
    let root = value("permitrootlogin")?;
    Some(Ssh {
        password_authentication: password == "yes",
        // `without-password` is what older releases print for it.
        permit_root_login: if root == "without-password" {
            "prohibit-password".to_owned()
        } else {
            root
        },
        kbd_interactive_authentication: value("kbdinteractiveauthentication")
            .or_else(|| value("challengeresponseauthentication"))
            .map(|v| v == "yes"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_settings_from_sshd_t() {
        let default =
            parse(include_str!("../tests/fixtures/sshd-debian12-default.txt")).expect("settings");
        assert!(default.password_authentication);
        assert_eq!(default.permit_root_login, "prohibit-password");
        assert_eq!(default.kbd_interactive_authentication, Some(false));
        let hard = parse(include_str!("../tests/fixtures/sshd-hardened.txt")).expect("settings");
        assert!(!hard.password_authentication);
        assert_eq!(hard.permit_root_login, "no");
        assert_eq!(parse("port 22\n"), None);
    }
}
