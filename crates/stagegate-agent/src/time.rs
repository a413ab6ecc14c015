//! Whether the clock is synchronised: what timedatectl (systemd) or
//! chronyc says. Certificates, TOTP and log correlation all depend on it.

use std::time::Duration;

use crate::command::{self, Unavailable};
use crate::report::TimeSync;
use crate::updates::which;

pub async fn collect(limit: Duration) -> Result<TimeSync, Unavailable> {
    let mut why = Vec::new();
    if which("timedatectl").is_some() {
        match command::run(
            "timedatectl",
            &["show", "-p", "NTPSynchronized", "--value"],
            limit,
        )
        .await
        {
            Ok(out) if out.success() => {
                if let Some(synchronized) = yes_no(out.stdout.trim()) {
                    return Ok(TimeSync {
                        synchronized,
                        source: "timedatectl".to_owned(),
                    });
                }
                why.push(format!("timedatectl printed {:?}", out.stdout.trim()));
            }
            Ok(out) => why.push(format!("timedatectl: {}", out.complaint())),
            Err(e) => why.push(e.0),
        }
    }
    if which("chronyc").is_some() {
        match command::run("chronyc", &["-n", "tracking"], limit).await {
            Ok(out) if out.success() => {
                if let Some(synchronized) = chrony_synchronized(&out.stdout) {
                    return Ok(TimeSync {
                        synchronized,
                        source: "chronyc".to_owned(),
                    });
                }
                why.push("chronyc tracking printed no leap status".to_owned());
            }
            Ok(out) => why.push(format!("chronyc: {}", out.complaint())),
            Err(e) => why.push(e.0),
        }
    }
    if why.is_empty() {
        why.push("neither timedatectl nor chronyc is installed".to_owned());
    }
    Err(Unavailable(why.join("; ")))
}

fn yes_no(s: &str) -> Option<bool> {
    match s {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// `chronyc tracking`: `Leap status     : Normal` while synchronised,
/// `Not synchronised` otherwise.
pub fn chrony_synchronized(text: &str) -> Option<bool> {
    let status = text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "Leap status").then(|| v.trim().to_owned())
    })?;
    Some(status != "Not synchronised")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chrony_leap_status() {
        assert_eq!(
            chrony_synchronized("Reference ID    : 0A000001\nLeap status     : Normal\n"),
            Some(true)
        );
        assert_eq!(
            chrony_synchronized("Leap status     : Not synchronised\n"),
            Some(false)
        );
        assert_eq!(chrony_synchronized(""), None);
    }
}
