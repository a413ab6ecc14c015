//! Disk use per mounted filesystem, as `df` computes it (space reserved
//! for root counts as unavailable), one line per filesystem however often
//! it is mounted.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::command::Unavailable;
use crate::report::Disk;

/// Filesystems with no disk behind them, or always full by design.
const PSEUDO: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "tmpfs",
    "cgroup",
    "cgroup2",
    "securityfs",
    "pstore",
    "bpf",
    "tracefs",
    "debugfs",
    "mqueue",
    "hugetlbfs",
    "fusectl",
    "configfs",
    "autofs",
    "squashfs",
    "nsfs",
    "ramfs",
    "binfmt_misc",
    "rpc_pipefs",
    "efivarfs",
    "selinuxfs",
    "fuse.lxcfs",
    "fuse.portal",
    "nfsd",
];

pub fn collect(mounts: &Path) -> Result<Vec<Disk>, Unavailable> {
    let text = std::fs::read_to_string(mounts)
        .map_err(|e| Unavailable(format!("cannot read {}: {e}", mounts.display())))?;
    let mut seen = HashSet::new();
    let mut disks = Vec::new();
    for (mount, fstype) in parse_mounts(&text) {
        if PSEUDO.contains(&fstype.as_str()) {
            continue;
        }
        let path = Path::new(&mount);
        // Bind mounts of single files (a container's /etc/hosts) and second
        // mounts of one filesystem are the same disk.
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        if !meta.is_dir() || !seen.insert(meta.dev()) {
            continue;
        }
        let Ok(st) = rustix::fs::statvfs(path) else {
            continue;
        };
        let frsize = st.f_frsize.max(1);
        let used = st.f_blocks.saturating_sub(st.f_bfree);
        let usable = used + st.f_bavail;
        if st.f_blocks == 0 || usable == 0 {
            continue;
        }
        #[allow(clippy::cast_precision_loss)]
        let percent = (used as f64) * 100.0 / (usable as f64);
        disks.push(Disk {
            mount,
            used_percent: (percent * 10.0).round() / 10.0,
            size_bytes: st.f_blocks.saturating_mul(frsize),
            available_bytes: st.f_bavail.saturating_mul(frsize),
        });
    }
    disks.sort_by(|a, b| a.mount.cmp(&b.mount));
    Ok(disks)
}

/// /proc/self/mounts: `DEVICE MOUNTPOINT FSTYPE OPTIONS 0 0`, with spaces
/// and other bytes in the mount point written as octal escapes.
pub fn parse_mounts(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let _device = f.next()?;
            let mount = unescape(f.next()?);
            let fstype = f.next()?.to_owned();
            Some((mount, fstype))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .map(|d| d.iter().fold(0u32, |n, b| n * 8 + u32::from(b - b'0')));
        match octal.and_then(|n| u8::try_from(n).ok()) {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_are_unescaped() {
        let m = parse_mounts(
            "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /srv/my\\040data xfs rw 0 0\nproc /proc proc rw 0 0\n",
        );
        assert_eq!(m[1], ("/srv/my data".to_owned(), "xfs".to_owned()));
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn the_root_filesystem_is_measured() {
        let disks = collect(Path::new("/proc/self/mounts")).expect("disks");
        let root = disks.iter().find(|d| d.mount == "/").expect("/ is mounted");
        assert!((0.0..=100.0).contains(&root.used_percent), "{root:?}");
        assert!(root.size_bytes > 0 && root.available_bytes <= root.size_bytes);
    }
}
