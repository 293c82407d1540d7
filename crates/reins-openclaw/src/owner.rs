//! Which detected OpenClaw process owns the gateway on a given port: the
//! one whose process tree holds the TCP socket listening there (Linux
//! `/proc/net/tcp{,6}` and `/proc/<pid>/fd`). Used to attribute an approval
//! to the right agent when a machine runs more than one gateway (OpenClaw
//! profiles, or a test next to a real one); with one gateway there is
//! nothing to choose.
//!
//! Read-only and best effort: a process that cannot be read (another
//! user's, or gone) simply does not match. Not here: detection itself
//! (`reins-detect`) or anything that signals a process.

use std::collections::HashSet;
use std::path::Path;

/// How deep to look below a candidate for the listening process. OpenClaw
/// respawns itself once (`openclaw` → `openclaw-gateway`); a service
/// wrapper adds one or two levels.
const MAX_DEPTH: usize = 4;

/// The first of `candidates` whose process, or a descendant, holds a TCP
/// socket listening on `port`; `None` when none does or `/proc` is unreadable.
pub fn gateway_owner(proc_root: &Path, port: u16, candidates: &[u32]) -> Option<u32> {
    let inodes = listening_inodes(proc_root, port);
    if inodes.is_empty() {
        return None;
    }
    candidates
        .iter()
        .copied()
        .find(|&pid| tree_holds(proc_root, pid, &inodes, MAX_DEPTH))
}

/// Socket inodes in LISTEN state (`0A`) on `port`, IPv4 and IPv6.
fn listening_inodes(proc_root: &Path, port: u16) -> HashSet<u64> {
    let mut out = HashSet::new();
    for table in ["net/tcp", "net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(proc_root.join(table)) else {
            continue;
        };
        out.extend(text.lines().skip(1).filter_map(|l| listening_on(l, port)));
    }
    out
}

/// One `/proc/net/tcp` row: `sl local_address rem_address st ... inode`.
fn listening_on(line: &str, port: u16) -> Option<u64> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let local_port = f.get(1)?.rsplit(':').next()?;
    let listening = *f.get(3)? == "0A";
    (listening && u16::from_str_radix(local_port, 16).ok()? == port)
        .then(|| f.get(9)?.parse().ok())
        .flatten()
}

fn tree_holds(proc_root: &Path, pid: u32, inodes: &HashSet<u64>, depth: usize) -> bool {
    holds(proc_root, pid, inodes)
        || (depth > 0
            && children(proc_root, pid)
                .into_iter()
                .any(|c| tree_holds(proc_root, c, inodes, depth - 1)))
}

fn holds(proc_root: &Path, pid: u32, inodes: &HashSet<u64>) -> bool {
    let Ok(fds) = std::fs::read_dir(proc_root.join(pid.to_string()).join("fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|t| {
            t.to_str()
                .and_then(|s| s.strip_prefix("socket:["))
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|i| inodes.contains(&i))
        })
    })
}

fn children(proc_root: &Path, pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(proc_root.join(pid.to_string()).join("task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROC: &str = "/proc";

    #[test]
    fn the_process_listening_on_the_port_is_picked_over_one_that_is_not() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let me = std::process::id();
        // PID 1 holds no socket on this port; this process does.
        assert_eq!(gateway_owner(Path::new(PROC), port, &[1, me]), Some(me));
    }

    #[test]
    fn a_parent_whose_child_listens_owns_the_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let me = std::process::id();
        let parent = std::os::unix::process::parent_id();
        assert_eq!(
            gateway_owner(Path::new(PROC), port, &[parent]),
            Some(parent)
        );
        assert_eq!(gateway_owner(Path::new(PROC), port, &[1]), None, "{me}");
    }

    #[test]
    fn a_port_nobody_listens_on_has_no_owner() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        assert_eq!(
            gateway_owner(Path::new(PROC), port, &[std::process::id()]),
            None
        );
    }

    #[test]
    fn a_table_row_is_read_by_its_state_and_port() {
        let row = "   0: 0100007F:4965 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0";
        assert_eq!(listening_on(row, 18789), Some(424242));
        assert_eq!(listening_on(row, 18790), None);
        let established = row.replacen(" 0A ", " 01 ", 1);
        assert_eq!(listening_on(&established, 18789), None);
        assert_eq!(listening_on("garbage", 18789), None);
    }
}
