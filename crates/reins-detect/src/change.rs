//! The change detector: decides, before each scan, which processes sysinfo
//! must re-read, so a steady-state scan costs a `/proc` directory listing
//! plus a handful of per-process reads instead of reading every process.
//!
//! Each scan lists `/proc` (one `getdents` pass, no per-process syscall)
//! and compares the PID set with the previous one. What a scan must see, and
//! how it is still seen without a full refresh:
//!
//! - **New processes** (so new agents and forks inside agent trees) are
//!   exactly the PIDs that appeared: they are read. Detection latency is
//!   unchanged.
//! - **Exits** are the PIDs that vanished: they are dropped from sysinfo's
//!   table. Their children were re-parented (to init or a subreaper), so
//!   every process whose last known parent vanished is re-read too.
//! - **State, CPU and memory of agents**, and **exec right after fork**
//!   (processes younger than [`crate::RECHECK_YOUNGER_THAN_SECS`]) are the
//!   *watched* PIDs, which the scanner passes in and which are re-read at
//!   every scan whatever the listing says.
//!
//! Everything else about an unwatched process (parent, comm, state) is
//! either immutable or irrelevant to detection. The one thing a listing
//! cannot see is a PID that exited and was reused between two listings, so a
//! full refresh still runs every [`FULL_REFRESH_EVERY`] as a safety net, and
//! whenever `/proc` cannot be listed.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// The longest time between two full refreshes (every process re-read).
///
/// A full refresh only catches what the PID-set comparison cannot: a process
/// that exited and whose PID was handed to a new process between two
/// listings (the same PID is then "present" in both). That needs the PID
/// allocator to wrap all the way round to that exact PID within one scan
/// interval, which is rare even with `pid_max` = 32768 and a busy build, and
/// is harmless unless the new process is an agent, which would then be
/// detected up to this late. A full refresh of 500 processes costs about
/// 15 ms, so 10 s keeps that insurance under 0.2 % of a core.
pub(crate) const FULL_REFRESH_EVERY: Duration = Duration::from_secs(10);

/// What the next scan must ask sysinfo to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refresh {
    /// Re-read every process.
    All(Why),
    /// Re-read only these PIDs (sorted, no duplicates). Vanished PIDs are
    /// included so that sysinfo notices they are gone and drops them.
    Some(Vec<u32>),
}

/// Why a scan re-reads every process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    /// There is no previous listing to compare with.
    First,
    /// `/proc` could not be listed this time.
    Unlisted,
    /// [`FULL_REFRESH_EVERY`] has passed since the last full refresh.
    SafetyNet,
}

/// The PID set of the previous scan and when every process was last read.
#[derive(Debug, Default)]
pub(crate) struct ChangeDetector {
    /// Sorted.
    pids: Vec<u32>,
    last_full: Option<Instant>,
}

impl ChangeDetector {
    /// Decide what to re-read, given this scan's `/proc` listing (sorted;
    /// `None` if it failed), the time now, the PIDs that must be re-read
    /// anyway, and each known process's parent as of the previous scan.
    pub fn plan(
        &mut self,
        listed: Option<Vec<u32>>,
        now: Instant,
        watched: &[u32],
        parent_of: impl Fn(u32) -> Option<u32>,
    ) -> Refresh {
        let Some(listed) = listed else {
            self.pids.clear();
            self.last_full = Some(now);
            return Refresh::All(Why::Unlisted);
        };
        let full = match self.last_full {
            None => Some(Why::First),
            Some(t) if now.saturating_duration_since(t) >= FULL_REFRESH_EVERY => {
                Some(Why::SafetyNet)
            }
            Some(_) => None,
        };
        if let Some(why) = full {
            self.pids = listed;
            self.last_full = Some(now);
            return Refresh::All(why);
        }
        let (appeared, vanished) = delta(&self.pids, &listed);
        let mut read: Vec<u32> =
            Vec::with_capacity(appeared.len() + vanished.len() + watched.len());
        read.extend_from_slice(&appeared);
        read.extend_from_slice(&vanished);
        read.extend_from_slice(watched);
        if !vanished.is_empty() {
            let gone: HashSet<u32> = vanished.iter().copied().collect();
            read.extend(
                self.pids
                    .iter()
                    .copied()
                    .filter(|&pid| parent_of(pid).is_some_and(|p| gone.contains(&p))),
            );
        }
        read.sort_unstable();
        read.dedup();
        self.pids = listed;
        Refresh::Some(read)
    }
}

/// The PIDs in `now` but not `before`, and in `before` but not `now`; both
/// inputs sorted.
fn delta(before: &[u32], now: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let (mut appeared, mut vanished) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < now.len() {
        match (before.get(i), now.get(j)) {
            (Some(a), Some(b)) if a == b => (i, j) = (i + 1, j + 1),
            (Some(&a), Some(&b)) if a < b => {
                vanished.push(a);
                i += 1;
            }
            (Some(&a), None) => {
                vanished.push(a);
                i += 1;
            }
            (_, Some(&b)) => {
                appeared.push(b);
                j += 1;
            }
            (None, None) => unreachable!("the loop condition excludes this"),
        }
    }
    (appeared, vanished)
}

/// The PIDs listed in `proc` (normally `/proc`), sorted. Reads only the
/// directory itself: one `getdents` pass for ~500 entries, no per-process
/// syscall. Only thread-group leaders are listed, as with sysinfo's own walk.
pub(crate) fn list_pids(proc: &Path) -> Option<Vec<u32>> {
    let mut pids: Vec<u32> = std::fs::read_dir(proc)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Some(pids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parents(pairs: &[(u32, u32)]) -> impl Fn(u32) -> Option<u32> + '_ {
        move |pid| pairs.iter().find(|(c, _)| *c == pid).map(|(_, p)| *p)
    }

    /// A detector that did its first full refresh at `t0` with `pids`.
    fn primed(t0: Instant, pids: &[u32]) -> ChangeDetector {
        let mut d = ChangeDetector::default();
        assert_eq!(
            d.plan(Some(pids.to_vec()), t0, &[], |_| None),
            Refresh::All(Why::First)
        );
        d
    }

    #[test]
    fn the_first_scan_reads_every_process() {
        let mut d = ChangeDetector::default();
        let plan = d.plan(Some(vec![1, 2, 3]), Instant::now(), &[2], |_| None);
        assert_eq!(plan, Refresh::All(Why::First));
    }

    #[test]
    fn an_unchanged_pid_set_reads_only_the_watched_processes() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 10, 20, 30]);
        let plan = d.plan(
            Some(vec![1, 10, 20, 30]),
            t0 + Duration::from_secs(1),
            &[20, 10],
            |_| Some(1),
        );
        assert_eq!(plan, Refresh::Some(vec![10, 20]));
    }

    #[test]
    fn an_unchanged_pid_set_with_nothing_watched_reads_nothing() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 10]);
        let plan = d.plan(Some(vec![1, 10]), t0 + Duration::from_secs(1), &[], |_| {
            None
        });
        assert_eq!(plan, Refresh::Some(vec![]));
    }

    #[test]
    fn a_new_process_such_as_a_fork_in_an_agent_tree_is_read() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 10, 20]);
        let plan = d.plan(
            Some(vec![1, 10, 20, 21]),
            t0 + Duration::from_secs(1),
            &[20],
            |_| Some(1),
        );
        assert_eq!(plan, Refresh::Some(vec![20, 21]));
    }

    #[test]
    fn a_vanished_process_and_its_reparented_children_are_read() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 10, 11, 12, 20]);
        let tree = [(10, 1), (11, 10), (12, 10), (20, 1)];
        let plan = d.plan(
            Some(vec![1, 11, 12, 20]),
            t0 + Duration::from_secs(1),
            &[],
            parents(&tree),
        );
        assert_eq!(plan, Refresh::Some(vec![10, 11, 12]));
    }

    #[test]
    fn a_pid_that_vanished_and_another_that_appeared_are_both_read() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 5, 9]);
        let plan = d.plan(
            Some(vec![1, 7, 9]),
            t0 + Duration::from_secs(1),
            &[],
            |_| None,
        );
        assert_eq!(plan, Refresh::Some(vec![5, 7]));
    }

    #[test]
    fn the_next_scan_compares_with_the_latest_listing_not_the_first() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1]);
        let second = d.plan(Some(vec![1, 2]), t0 + Duration::from_secs(1), &[], |_| None);
        assert_eq!(second, Refresh::Some(vec![2]));
        let third = d.plan(Some(vec![1, 2]), t0 + Duration::from_secs(2), &[], |_| None);
        assert_eq!(third, Refresh::Some(vec![]));
    }

    #[test]
    fn every_process_is_read_again_once_the_safety_net_interval_has_passed() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 2]);
        let just_before = t0 + FULL_REFRESH_EVERY - Duration::from_millis(1);
        assert_eq!(
            d.plan(Some(vec![1, 2]), just_before, &[], |_| None),
            Refresh::Some(vec![])
        );
        let due = t0 + FULL_REFRESH_EVERY;
        assert_eq!(
            d.plan(Some(vec![1, 2]), due, &[], |_| None),
            Refresh::All(Why::SafetyNet)
        );
        let after = due + Duration::from_secs(1);
        assert_eq!(
            d.plan(Some(vec![1, 2]), after, &[], |_| None),
            Refresh::Some(vec![]),
            "a full refresh restarts the interval"
        );
    }

    #[test]
    fn an_unreadable_proc_listing_falls_back_to_a_full_refresh_and_then_compares_again() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 2]);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(d.plan(None, t1, &[], |_| None), Refresh::All(Why::Unlisted));
        let t2 = t1 + Duration::from_secs(1);
        assert_eq!(
            d.plan(Some(vec![1, 2]), t2, &[], |_| None),
            Refresh::Some(vec![1, 2]),
            "with no listing to compare with, every listed PID counts as new"
        );
    }

    #[test]
    fn the_delta_of_two_sorted_pid_lists_finds_appeared_and_vanished() {
        assert_eq!(
            delta(&[1, 3, 5], &[2, 3, 6, 7]),
            (vec![2, 6, 7], vec![1, 5])
        );
        assert_eq!(delta(&[], &[4]), (vec![4], vec![]));
        assert_eq!(delta(&[4], &[]), (vec![], vec![4]));
    }

    #[test]
    fn this_machines_proc_lists_this_test_process() {
        let pids = list_pids(Path::new("/proc")).unwrap();
        assert!(pids.binary_search(&std::process::id()).is_ok());
        assert!(pids.windows(2).all(|w| w[0] < w[1]));
    }
}
