//! Process trees built from a process-table snapshot, by parent PID.
//!
//! A tree is found by walking PPID links downwards, not by process group or
//! session: agents start their tool commands in new groups and sessions
//! (`setsid`), and those must still count as part of the agent. This module is
//! pure: it works on a `&[ProcInfo]` it is given and never reads `/proc` or
//! sends signals (except [`ancestors`], which asks a [`ProcessOps`] for one
//! process at a time). It is deliberately not a live view: a snapshot is stale
//! the moment it is taken, which is why the halt engine re-scans.

use crate::{ProcInfo, ProcessOps};
use std::collections::{HashMap, HashSet};

/// How far [`ancestors`] walks before giving up. Real chains are a few dozen
/// deep at most; the bound only protects against a corrupt or racing table
/// that would otherwise loop.
const MAX_ANCESTRY: usize = 4096;

/// A parent→children index over one snapshot of the process table.
#[derive(Debug)]
pub struct Tree<'a> {
    procs: &'a [ProcInfo],
    by_pid: HashMap<u32, usize>,
    children: HashMap<u32, Vec<usize>>,
}

impl<'a> Tree<'a> {
    /// Index `procs`. A row is a child of its PPID only if it started no
    /// earlier than that parent: a row whose "parent" is younger than it is
    /// a stale PPID read while the real parent died and its PID was reused.
    pub fn new(procs: &'a [ProcInfo]) -> Self {
        let by_pid: HashMap<u32, usize> = procs
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key.pid, i))
            .collect();
        let mut children: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, p) in procs.iter().enumerate() {
            if p.ppid == p.key.pid {
                continue;
            }
            let Some(&parent) = by_pid.get(&p.ppid) else {
                continue;
            };
            if procs[parent].key.start_ticks <= p.key.start_ticks {
                children.entry(p.ppid).or_default().push(i);
            }
        }
        Tree {
            procs,
            by_pid,
            children,
        }
    }

    /// The row for `pid`, if it is in the snapshot.
    pub fn get(&self, pid: u32) -> Option<&'a ProcInfo> {
        self.by_pid.get(&pid).map(|&i| &self.procs[i])
    }

    /// The direct children of `pid`.
    pub fn children(&self, pid: u32) -> impl Iterator<Item = &'a ProcInfo> + '_ {
        let procs = self.procs;
        self.children
            .get(&pid)
            .into_iter()
            .flatten()
            .map(move |&i| &procs[i])
    }

    /// Every descendant of `root` (not `root` itself), breadth first, so a
    /// parent always comes before its children.
    pub fn descendants(&self, root: u32) -> Vec<&'a ProcInfo> {
        self.descendants_of_all(&[root], |_| true)
    }

    /// Every descendant of any of `roots` (roots themselves excluded),
    /// breadth first, each listed once. `descend(p)` decides whether to walk
    /// below `p`; `p` itself is still listed. Cycles cannot loop forever.
    pub fn descendants_of_all(
        &self,
        roots: &[u32],
        descend: impl Fn(&ProcInfo) -> bool,
    ) -> Vec<&'a ProcInfo> {
        let mut seen: HashSet<u32> = roots.iter().copied().collect();
        let mut out = Vec::new();
        let mut queue: std::collections::VecDeque<u32> = roots.iter().copied().collect();
        while let Some(pid) = queue.pop_front() {
            for child in self.children(pid) {
                if seen.insert(child.key.pid) {
                    out.push(child);
                    if descend(child) {
                        queue.push_back(child.key.pid);
                    }
                }
            }
        }
        out
    }
}

/// Every descendant of `root` in `procs`, breadth first, cloned.
pub fn descendants(procs: &[ProcInfo], root: u32) -> Vec<ProcInfo> {
    Tree::new(procs)
        .descendants(root)
        .into_iter()
        .cloned()
        .collect()
}

/// True if `pid` is a strict descendant of any of `root_pids` in `procs`
/// (a root itself is not its own descendant; check `root_pids.contains`
/// too if you want that).
pub fn is_descendant_of(procs: &[ProcInfo], pid: u32, root_pids: &[u32]) -> bool {
    let tree = Tree::new(procs);
    let mut seen = HashSet::new();
    let mut cur = pid;
    while seen.insert(cur) {
        let Some(p) = tree.get(cur) else { return false };
        let Some(parent) = tree.get(p.ppid) else {
            return false;
        };
        if parent.key.start_ticks > p.key.start_ticks || parent.key.pid == cur {
            return false;
        }
        if root_pids.contains(&parent.key.pid) {
            return true;
        }
        cur = parent.key.pid;
    }
    false
}

/// The live ancestors of `pid`, nearest first, ending at PID 1 (or wherever
/// the chain breaks). `pid` itself is not included.
pub fn ancestors(ops: &dyn ProcessOps, pid: u32) -> Vec<ProcInfo> {
    let mut out: Vec<ProcInfo> = Vec::new();
    let Some(mut cur) = ops.info(pid) else {
        return out;
    };
    while cur.ppid != 0 && cur.key.pid != 1 && out.len() < MAX_ANCESTRY {
        let Some(parent) = ops.info(cur.ppid) else {
            break;
        };
        if out.iter().any(|p| p.key == parent.key) || parent.key.pid == pid {
            break;
        }
        out.push(parent.clone());
        cur = parent;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProcState;
    use reins_core::ProcessKey;

    fn p(pid: u32, ppid: u32) -> ProcInfo {
        p_at(pid, ppid, 100)
    }

    fn p_at(pid: u32, ppid: u32, start_ticks: u64) -> ProcInfo {
        ProcInfo {
            key: ProcessKey { pid, start_ticks },
            ppid,
            pgid: 0,
            uid: 1000,
            state: ProcState::Sleeping,
            comm: format!("p{pid}"),
        }
    }

    fn pids(v: &[&ProcInfo]) -> Vec<u32> {
        v.iter().map(|p| p.key.pid).collect()
    }

    #[test]
    fn descendants_are_found_through_every_level_breadth_first() {
        let t = [p(1, 0), p(10, 1), p(11, 10), p(12, 10), p(13, 11), p(20, 1)];
        let tree = Tree::new(&t);
        assert_eq!(pids(&tree.descendants(10)), vec![11, 12, 13]);
        assert_eq!(pids(&tree.descendants(13)), Vec::<u32>::new());
        assert!(tree.descendants(999).is_empty());
    }

    #[test]
    fn a_child_that_changed_session_is_still_a_descendant() {
        // Sessions and groups are not in ProcInfo at all: only PPID counts.
        let t = [p(1, 0), p(10, 1), p(11, 10), p(12, 11)];
        assert_eq!(descendants(&t, 10).len(), 2);
    }

    #[test]
    fn a_cycle_in_the_table_does_not_loop_forever() {
        let t = [p(5, 6), p(6, 7), p(7, 5), p(8, 8)];
        let tree = Tree::new(&t);
        let d = pids(&tree.descendants(5));
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(tree.descendants(8).is_empty());
        assert!(!is_descendant_of(&t, 5, &[42]));
        assert!(!is_descendant_of(&t, 8, &[42]));
    }

    #[test]
    fn a_parent_younger_than_its_child_is_a_reused_pid_not_a_parent() {
        let t = [p_at(10, 1, 500), p_at(11, 10, 200)];
        assert!(descendants(&t, 10).is_empty());
        assert!(!is_descendant_of(&t, 11, &[10]));
    }

    #[test]
    fn pruned_processes_are_listed_but_not_walked_below() {
        let t = [p(10, 1), p(11, 10), p(12, 11), p(13, 10)];
        let tree = Tree::new(&t);
        let d = tree.descendants_of_all(&[10], |p| p.key.pid != 11);
        assert_eq!(pids(&d), vec![11, 13]);
    }

    #[test]
    fn several_roots_list_each_descendant_once() {
        let t = [p(10, 1), p(11, 10), p(12, 11)];
        let tree = Tree::new(&t);
        // 11 is a root, so it is not listed as a descendant of 10.
        assert_eq!(
            pids(&tree.descendants_of_all(&[10, 11], |_| true)),
            vec![12]
        );
        assert_eq!(
            pids(&tree.descendants_of_all(&[10, 12], |_| true)),
            vec![11]
        );
    }

    #[test]
    fn ancestors_walk_up_to_init_nearest_first() {
        let ops = crate::fake::FakeOps::new();
        ops.with(|t| {
            t.spawn(1, 0);
            t.spawn(10, 1);
            t.spawn(11, 10);
            t.spawn(12, 11);
        });
        let chain: Vec<u32> = ancestors(&ops, 12).iter().map(|p| p.key.pid).collect();
        assert_eq!(chain, vec![11, 10, 1]);
        assert!(ancestors(&ops, 1).is_empty());
        assert!(ancestors(&ops, 404).is_empty());
    }

    #[test]
    fn is_descendant_of_walks_up_to_any_root() {
        let t = [p(1, 0), p(10, 1), p(11, 10), p(12, 11), p(20, 1)];
        assert!(is_descendant_of(&t, 12, &[10]));
        assert!(is_descendant_of(&t, 12, &[99, 11]));
        assert!(!is_descendant_of(&t, 10, &[10]));
        assert!(!is_descendant_of(&t, 20, &[10]));
        assert!(!is_descendant_of(&t, 404, &[10]));
    }
}
