//! Whether inbound traffic meets a filter, and what it meets when no rule
//! accepts it: nftables first (iptables on current distributions is a
//! front end to it), then iptables, then ufw.

use std::time::Duration;

use serde_json::Value;

use crate::command::{self, Unavailable, needs_privileges};
use crate::report::Firewall;
use crate::updates::which;

pub async fn collect(limit: Duration) -> Result<Firewall, Unavailable> {
    let mut why = Vec::new();
    if which("nft").is_some() {
        let out = command::run("nft", &["-j", "list", "ruleset"], limit).await?;
        if out.success() {
            let fw = parse_nft(&out.stdout).map_err(|e| {
                Unavailable(format!("nft -j printed what this agent cannot read: {e}"))
            })?;
            if fw.active {
                return Ok(fw);
            }
        } else if needs_privileges(&out.stderr) {
            return Err(Unavailable(
                "reading the ruleset needs root (CAP_NET_ADMIN): run the agent as root or grant it the capability".to_owned(),
            ));
        } else {
            why.push(format!("nft: {}", out.complaint()));
        }
    }
    if which("iptables").is_some() {
        let out = command::run("iptables", &["-S", "INPUT"], limit).await?;
        if out.success() {
            let fw = parse_iptables(&out.stdout);
            if fw.active {
                return Ok(fw);
            }
        } else if needs_privileges(&out.stderr) {
            return Err(Unavailable(
                "reading iptables needs root (CAP_NET_ADMIN)".to_owned(),
            ));
        } else {
            why.push(format!("iptables: {}", out.complaint()));
        }
    }
    if which("ufw").is_some() {
        let out = command::run("ufw", &["status", "verbose"], limit).await?;
        if out.success() {
            if let Some(fw) = parse_ufw(&out.stdout).filter(|f| f.active) {
                return Ok(fw);
            }
        } else if needs_privileges(&out.stderr) {
            return Err(Unavailable("ufw status needs root".to_owned()));
        }
    }
    if why.is_empty() && which("nft").is_none() && which("iptables").is_none() {
        return Err(Unavailable(
            "neither nft nor iptables is installed: the kernel's filter cannot be read".to_owned(),
        ));
    }
    if !why.is_empty() {
        return Err(Unavailable(why.join("; ")));
    }
    // Every tool answered, and none filters inbound traffic.
    Ok(Firewall {
        backend: "none".to_owned(),
        active: false,
        inbound_default: "accept".to_owned(),
    })
}

/// `nft -j list ruleset`: the base chains on the input hook (ip, ip6 and
/// inet families). Inbound traffic no rule accepts meets the chain's
/// policy, or a final unconditional `drop`/`reject` rule of a chain whose
/// policy accepts. The strictest input chain decides.
pub fn parse_nft(json: &str) -> Result<Firewall, serde_json::Error> {
    let doc: Value = serde_json::from_str(json)?;
    let items = doc["nftables"].as_array().cloned().unwrap_or_default();
    let mut verdict: Option<&'static str> = None;
    for item in &items {
        let chain = &item["chain"];
        if chain["hook"] != "input"
            || !matches!(chain["family"].as_str(), Some("ip" | "ip6" | "inet"))
        {
            continue;
        }
        let policy = match chain["policy"].as_str() {
            Some("drop") => "drop",
            _ => "accept",
        };
        let last = items
            .iter()
            .rfind(|i| {
                let r = &i["rule"];
                r["chain"] == chain["name"]
                    && r["table"] == chain["table"]
                    && r["family"] == chain["family"]
            })
            .map(|i| &i["rule"]["expr"]);
        let closing = last.and_then(|expr| {
            let expr = expr.as_array()?;
            // Only a rule that matches everything closes the chain.
            if expr.len() != 1 {
                return None;
            }
            let e = expr[0].as_object()?;
            if e.contains_key("drop") {
                Some("drop")
            } else if e.contains_key("reject") {
                Some("reject")
            } else {
                None
            }
        });
        let chain_verdict = if policy == "drop" {
            "drop"
        } else {
            closing.unwrap_or("accept")
        };
        verdict = Some(strictest(verdict, chain_verdict));
    }
    Ok(match verdict {
        Some(v) => Firewall {
            backend: "nftables".to_owned(),
            active: true,
            inbound_default: v.to_owned(),
        },
        None => Firewall {
            backend: "nftables".to_owned(),
            active: false,
            inbound_default: "accept".to_owned(),
        },
    })
}

fn strictest(a: Option<&'static str>, b: &'static str) -> &'static str {
    let rank = |v: &str| match v {
        "drop" => 2,
        "reject" => 1,
        _ => 0,
    };
    match a {
        Some(a) if rank(a) >= rank(b) => a,
        _ => b,
    }
}

/// `iptables -S INPUT`: `-P INPUT DROP`, or an accepting policy closed by
/// a final unconditional `-A INPUT -j DROP|REJECT`. An accepting chain
/// with no rules filters nothing.
pub fn parse_iptables(text: &str) -> Firewall {
    let mut policy = "accept";
    let mut rules = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(p) = line.strip_prefix("-P INPUT ") {
            policy = if p.trim() == "DROP" { "drop" } else { "accept" };
        } else if let Some(r) = line.strip_prefix("-A INPUT ") {
            rules.push(r.trim());
        }
    }
    let closing = rules.last().and_then(|r| match *r {
        "-j DROP" => Some("drop"),
        r if r.starts_with("-j REJECT") => Some("reject"),
        _ => None,
    });
    let inbound = if policy == "drop" {
        "drop"
    } else {
        closing.unwrap_or("accept")
    };
    Firewall {
        backend: "iptables".to_owned(),
        active: policy == "drop" || !rules.is_empty(),
        inbound_default: inbound.to_owned(),
    }
}

/// `ufw status verbose`: `Status: active` and `Default: deny (incoming),
/// ...`. `None` when the output is not ufw's.
pub fn parse_ufw(text: &str) -> Option<Firewall> {
    let status = text
        .lines()
        .find_map(|l| l.strip_prefix("Status: "))?
        .trim();
    let incoming = text
        .lines()
        .find_map(|l| l.strip_prefix("Default: "))
        .and_then(|d| {
            d.split(',')
                .find(|p| p.contains("(incoming)"))
                .map(|p| p.replace("(incoming)", "").trim().to_owned())
        });
    let active = status == "active";
    Some(Firewall {
        backend: "ufw".to_owned(),
        active,
        inbound_default: match (active, incoming.as_deref()) {
            (true, Some("deny")) => "drop",
            (true, Some("reject")) => "reject",
            _ => "accept",
        }
        .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn nftables_policy_and_closing_rules() {
        let drop = parse_nft(&fixture("nft-inet-drop.json")).expect("json");
        assert_eq!((drop.active, drop.inbound_default.as_str()), (true, "drop"));
        let reject = parse_nft(&fixture("nft-accept-then-reject.json")).expect("json");
        assert_eq!(
            (reject.active, reject.inbound_default.as_str()),
            (true, "reject")
        );
        let empty = parse_nft(&fixture("nft-empty.json")).expect("json");
        assert_eq!(
            (empty.active, empty.inbound_default.as_str()),
            (false, "accept")
        );
        assert!(parse_nft("not json").is_err());
    }

    #[test]
    fn iptables_policy_and_closing_rules() {
        let drop = parse_iptables(&fixture("iptables-drop.txt"));
        assert_eq!((drop.active, drop.inbound_default.as_str()), (true, "drop"));
        let open = parse_iptables(&fixture("iptables-open.txt"));
        assert_eq!(
            (open.active, open.inbound_default.as_str()),
            (false, "accept")
        );
        let closed = parse_iptables(
            "-P INPUT ACCEPT\n-A INPUT -i lo -j ACCEPT\n-A INPUT -j REJECT --reject-with icmp-port-unreachable\n",
        );
        assert_eq!(closed.inbound_default, "reject");
        let conditional = parse_iptables("-P INPUT ACCEPT\n-A INPUT -p tcp --dport 23 -j DROP\n");
        assert_eq!(
            conditional.inbound_default, "accept",
            "a rule that matches some traffic closes nothing"
        );
    }

    #[test]
    fn ufw_status() {
        let active = parse_ufw(&fixture("ufw-active.txt")).expect("ufw");
        assert_eq!(
            (active.active, active.inbound_default.as_str()),
            (true, "drop")
        );
        let inactive = parse_ufw(&fixture("ufw-inactive.txt")).expect("ufw");
        assert!(!inactive.active);
        assert_eq!(parse_ufw("something else"), None);
    }
}
