//! A process's direct children from the kernel's per-thread lists,
//! `/proc/<pid>/task/<tid>/children` (`CONFIG_PROC_CHILDREN`), so the halt
//! engine can walk a tree at a cost proportional to the tree, not to the
//! machine's process table.
//!
//! Each file lists the children forked by that one *thread*, so every
//! thread's file is read: the main thread's first, the others only when the
//! parent's `stat` (read anyway, to check its identity) says it has more
//! than one thread. A thread born and gone between those two reads can hand
//! a child to the main thread's list after it was read; that is one more
//! reason the lists are only a fast path. The kernel documents the lists as
//! reliable only while the children (here: the parent) cannot fork or exit,
//! which is why
//! this is only the halt engine's fast path: it still cross-checks a frozen
//! tree with a full [`crate::ProcessOps::list`]. Every listed PID is re-read
//! from its own `stat` and kept only if its parent is still the process
//! asked about and it started no earlier than that parent, so a PID reused
//! between the two reads is never reported as a child.

use super::{read_info_listed, read_small, read_stat};
use crate::ProcInfo;
use reins_core::ProcessKey;
use std::sync::OnceLock;

/// True if this kernel has the per-thread `children` files. Checked once,
/// on our own thread: the files exist for every task or for none.
pub(super) fn supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        let ok = std::path::Path::new("/proc/thread-self/children").exists()
            || std::path::Path::new(&format!("/proc/self/task/{}/children", std::process::id()))
                .exists();
        if !ok {
            tracing::info!(
                "/proc/<pid>/task/<tid>/children is unavailable (CONFIG_PROC_CHILDREN off): \
                 halts find trees by reading the whole process table"
            );
        }
        ok
    })
}

/// Parse one `children` file: PIDs separated by spaces.
pub(super) fn parse_children(text: &str, out: &mut Vec<u32>) {
    out.extend(
        text.split_ascii_whitespace()
            .filter_map(|s| s.parse::<u32>().ok()),
    );
}

/// Appends the PIDs of one `children` file (nothing if it cannot be read:
/// the thread exited).
fn read_list(path: &str, text: &mut String, pids: &mut Vec<u32>) {
    if read_small(path, text).is_ok() {
        parse_children(text, pids);
    }
}

/// The PIDs the kernel lists as children of `parent` (of every one of its
/// threads), sorted and deduplicated; empty if `parent` is gone or its PID
/// was reused. Only a candidate list: each PID must still be verified
/// against its own `stat` (parent and start time), since it may have exited
/// and been reused since the read.
pub(super) fn child_pids(parent: ProcessKey) -> Vec<u32> {
    let mut pids = Vec::new();
    let mut buf = String::with_capacity(256);
    // The main thread's list first: most processes have no other thread,
    // and then the directory listing of `task/` is saved.
    read_list(
        &format!("/proc/{0}/task/{0}/children", parent.pid),
        &mut buf,
        &mut pids,
    );
    // Checked after the reads: if the PID was reused meanwhile, the lists
    // may be another process's, and its start time now differs.
    let Some(stat) = read_stat(parent.pid).filter(|s| s.start_ticks == parent.start_ticks) else {
        return Vec::new();
    };
    if stat.threads > 1 {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", parent.pid)) else {
            return Vec::new();
        };
        for task in tasks.flatten() {
            if task.file_name().to_str() == Some(parent.pid.to_string().as_str()) {
                continue;
            }
            let mut path = task.path();
            path.push("children");
            // A thread that exits meanwhile has handed its children to
            // another thread of the process, whose file is read too.
            if let Some(path) = path.to_str() {
                read_list(path, &mut buf, &mut pids);
            }
        }
        if read_stat(parent.pid).is_none_or(|s| s.start_ticks != parent.start_ticks) {
            return Vec::new();
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// The children of `parent` (of every one of its threads), each verified
/// against its own `stat`. Empty if `parent` is gone or its PID was reused.
pub(super) fn children_of(parent: ProcessKey, self_uid: u32) -> Vec<ProcInfo> {
    child_pids(parent)
        .into_iter()
        .filter_map(|pid| read_info_listed(pid, self_uid))
        .filter(|c| c.ppid == parent.pid && c.key.start_ticks >= parent.start_ticks)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Delivery, Linux, ProcessOps};

    #[test]
    fn a_children_file_parses_into_pids() {
        let mut out = vec![7];
        parse_children("12 345 6789 \n", &mut out);
        assert_eq!(out, vec![7, 12, 345, 6789]);
        parse_children("", &mut out);
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn a_child_forked_by_another_thread_is_listed_with_its_parent_verified() {
        if !supported() {
            return;
        }
        let me = Linux.info(std::process::id()).unwrap().key;
        // Test threads are not the main thread, so this child is on another
        // thread's list than the main one.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let kids = Linux.children(me).unwrap();
        let found = kids.iter().find(|p| p.key.pid == child.id()).cloned();
        child.kill().unwrap();
        child.wait().unwrap();
        let found = found.expect("the child is listed");
        assert_eq!(found.ppid, me.pid);
        assert_eq!(found.uid, Linux.self_uid());
    }

    #[test]
    fn a_stale_parent_key_has_no_children() {
        let me = Linux.info(std::process::id()).unwrap().key;
        let stale = ProcessKey {
            pid: me.pid,
            start_ticks: me.start_ticks + 1,
        };
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let kids = Linux.children(stale);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(kids.is_none_or(|k| k.is_empty()));
    }

    #[test]
    fn signal_children_stops_each_picked_child_and_leaves_the_others_alone() {
        if !supported() {
            return;
        }
        let me = Linux.info(std::process::id()).unwrap().key;
        let spawn = || {
            std::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .unwrap()
        };
        let (mut picked, mut other) = (spawn(), spawn());
        let (p, o) = (picked.id(), other.id());
        // Other tests' children may be listed too; only ours are looked at.
        let found = Linux
            .signal_children(me, crate::Signal::Stop, &mut |c| c.key.pid == p)
            .unwrap();
        let row = |pid| found.iter().find(|c| c.info.key.pid == pid);
        let stopped =
            row(p).and_then(|c| c.result.as_ref().map(|r| matches!(r, Ok(Delivery::Sent))));
        let untouched = row(o).map(|c| c.result.is_none());
        let key = row(p).map(|c| c.info.key);
        let mut state = None;
        for _ in 0..100_000 {
            state = key.and_then(|k| Linux.probe(k));
            if state == Some(crate::ProcState::Stopped) {
                break;
            }
            std::thread::yield_now();
        }
        let other_state = row(o).and_then(|c| Linux.probe(c.info.key));
        for c in [&mut picked, &mut other] {
            c.kill().unwrap();
            c.wait().unwrap();
        }
        assert_eq!(stopped, Some(true), "the picked child was signalled");
        assert_eq!(state, Some(crate::ProcState::Stopped));
        assert_eq!(
            untouched,
            Some(true),
            "the other child is listed, not signalled"
        );
        assert_ne!(other_state, Some(crate::ProcState::Stopped));
    }
}
