//! Every listening socket with its address and owning process, read from
//! /proc (no `ss` or `netstat` needed). A process is named only where
//! this user may read its file descriptors: as root, all of them.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::command::Unavailable;
use crate::report::Listener;

/// TCP_LISTEN in the kernel's state numbering.
const TCP_LISTEN: &str = "0A";
/// TCP_CLOSE: what an unconnected, bound UDP socket shows.
const UDP_BOUND: &str = "07";

/// The listeners, and a note when some owners could not be seen.
pub fn collect(proc: &Path) -> Result<(Vec<Listener>, Option<String>), Unavailable> {
    let mut sockets = Vec::new();
    let mut read_any = false;
    for (file, proto, state) in [
        ("tcp", "tcp", TCP_LISTEN),
        ("tcp6", "tcp", TCP_LISTEN),
        ("udp", "udp", UDP_BOUND),
        ("udp6", "udp", UDP_BOUND),
    ] {
        let Ok(text) = std::fs::read_to_string(proc.join("net").join(file)) else {
            continue;
        };
        read_any = true;
        sockets.extend(parse_table(&text, proto, state));
    }
    if !read_any {
        return Err(Unavailable(format!(
            "{} is not readable",
            proc.join("net/tcp").display()
        )));
    }
    let owners = owners(proc);
    let mut unseen = 0;
    let mut listeners: Vec<Listener> = sockets
        .into_iter()
        .map(|(mut l, inode)| {
            l.process = owners.get(&inode).cloned();
            if l.process.is_none() {
                unseen += 1;
            }
            l
        })
        .collect();
    listeners.sort();
    listeners.dedup();
    let note = (unseen > 0).then(|| {
        format!(
            "the owner of {unseen} socket{} is not visible here (root sees every process of its own PID namespace)",
            if unseen == 1 { "" } else { "s" }
        )
    });
    Ok((listeners, note))
}

/// One of /proc/net/{tcp,tcp6,udp,udp6}: the sockets in `state`, with
/// their inode.
pub fn parse_table(text: &str, proto: &str, state: &str) -> Vec<(Listener, u64)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || fields[3] != state {
                return None;
            }
            let (addr, port) = fields[1].split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            let address = address(addr)?;
            let inode = fields[9].parse().ok()?;
            Some((
                Listener {
                    proto: proto.to_owned(),
                    address,
                    port,
                    process: None,
                },
                inode,
            ))
        })
        .collect()
}

/// The kernel prints an address as 32-bit words in host byte order.
fn address(hex: &str) -> Option<String> {
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_ne_bytes())
    };
    match hex.len() {
        8 => Some(Ipv4Addr::from(word(0)?).to_string()),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            let v6 = Ipv6Addr::from(bytes);
            // A v4-mapped address is the v4 address it maps.
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            })
        }
        _ => None,
    }
}

/// Socket inode → the name of a process holding it.
fn owners(proc: &Path) -> HashMap<u64, String> {
    let mut owners = HashMap::new();
    let Ok(entries) = std::fs::read_dir(proc) else {
        return owners;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let dir = proc.join(pid);
        let Ok(fds) = std::fs::read_dir(dir.join("fd")) else {
            continue;
        };
        let mut comm = None;
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u64>().ok())
            else {
                continue;
            };
            let comm = comm.get_or_insert_with(|| {
                std::fs::read_to_string(dir.join("comm"))
                    .map(|c| c.trim().to_owned())
                    .unwrap_or_default()
            });
            if !comm.is_empty() {
                owners.entry(inode).or_insert_with(|| comm.clone());
            }
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:8909 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 69575 1 00000000bc164853 100 0 0 10 0\n\
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000009f4a7fa 100 0 0 10 0\n\
   2: 0100007F:8909 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000009f4a7fa 100 0 0 10 0\n";

    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000000000000000000001000000:1111 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 6331 1 0000000027a6665c 100 0 0 10 0\n\
   1: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000027a6665c 100 0 0 10 0\n\
   2: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 78 1 0000000027a6665c 100 0 0 10 0\n";

    #[test]
    fn listening_sockets_from_the_kernel_tables() {
        let v4: Vec<(String, u16, u64)> = parse_table(TCP, "tcp", TCP_LISTEN)
            .into_iter()
            .map(|(l, i)| (l.address, l.port, i))
            .collect();
        assert_eq!(
            v4,
            [
                ("127.0.0.1".to_owned(), 35081, 69575),
                ("0.0.0.0".to_owned(), 22, 1234)
            ],
            "an established connection is not a listener"
        );
        let v6: Vec<(String, u16)> = parse_table(TCP6, "tcp", TCP_LISTEN)
            .into_iter()
            .map(|(l, _)| (l.address, l.port))
            .collect();
        assert_eq!(
            v6,
            [
                ("::1".to_owned(), 4369),
                ("::".to_owned(), 443),
                ("127.0.0.1".to_owned(), 80)
            ]
        );
    }

    #[test]
    fn this_process_is_seen_listening() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (all, _) = collect(Path::new("/proc")).expect("listeners");
        let me = all
            .iter()
            .find(|l| l.port == port && l.proto == "tcp")
            .unwrap_or_else(|| panic!("port {port} not in {all:?}"));
        assert_eq!(me.address, "127.0.0.1");
        assert!(me.loopback());
        assert!(me.process.is_some(), "its own sockets are visible: {me:?}");
    }
}
