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
//! cannot see is a PID that exited and was reused between two listings (it
//! is "present" in both), so every process is also *re-verified* (its
//! `stat` read again, which reveals a new start time) at least every
//! [`REVERIFY_EVERY`]: a slice of the table at each scan, round robin, so
//! no single scan pays for the whole table. Every process is read on the
//! first scan and whenever `/proc` cannot be listed.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// Every process is re-read at least this often, whatever the listing says.
///
/// This only catches what the PID-set comparison cannot: a process that
/// exited and whose PID was handed to a new process between two listings.
/// That needs the PID allocator to wrap round to that exact PID within one
/// scan interval, which is rare even with `pid_max` = 32768 and a busy
/// build, and harmless unless the new process is an agent, which would then
/// be detected up to this late. Re-verifying 500 processes costs about 15 ms
/// in all, spread over the scans of this interval, so 10 s keeps the
/// insurance near 0.15 % of a core and no scan pays more than its share.
pub(crate) const REVERIFY_EVERY: Duration = Duration::from_secs(10);

/// What the next scan must ask sysinfo to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refresh {
    /// Read every process.
    All(Why),
    /// Read only some PIDs (each list sorted, no duplicates, disjoint).
    Some {
        /// New, orphaned and watched PIDs, with CPU and memory. Vanished
        /// PIDs are included so that sysinfo notices they are gone.
        read: Vec<u32>,
        /// This scan's slice of the round-robin re-verification: only their
        /// `stat` matters (a new start time means a reused PID).
        verify: Vec<u32>,
    },
}

/// Why a scan reads every process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Why {
    /// There is no previous listing to compare with.
    First,
    /// `/proc` could not be listed this time.
    Unlisted,
}

/// The PID set of the previous scan and where re-verification stands.
#[derive(Debug, Default)]
pub(crate) struct ChangeDetector {
    /// Sorted.
    pids: Vec<u32>,
    /// When the previous plan was made; `None` before the first.
    last: Option<Instant>,
    /// The PID the next re-verification slice starts at (or after).
    cursor: u32,
}

impl ChangeDetector {
    /// Decide what to read, given this scan's `/proc` listing (sorted;
    /// `None` if it failed), the time now, the PIDs that must be read
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
            self.last = Some(now);
            return Refresh::All(Why::Unlisted);
        };
        let Some(last) = self.last.replace(now) else {
            self.pids = listed;
            return Refresh::All(Why::First);
        };
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
        let verify = self.slice(&listed, now.saturating_duration_since(last), &read);
        self.pids = listed;
        Refresh::Some { read, verify }
    }

    /// The next round-robin slice of `listed`, sized so that the whole
    /// table is covered once per [`REVERIFY_EVERY`] whatever the scan
    /// interval, minus the PIDs already in `read`.
    fn slice(&mut self, listed: &[u32], elapsed: Duration, read: &[u32]) -> Vec<u32> {
        let share = elapsed.as_secs_f64() / REVERIFY_EVERY.as_secs_f64();
        let n = ((listed.len() as f64 * share).ceil() as usize).min(listed.len());
        if n == 0 {
            return Vec::new();
        }
        let start = listed.partition_point(|&p| p < self.cursor) % listed.len();
        let mut verify: Vec<u32> = listed[start..]
            .iter()
            .chain(&listed[..start])
            .take(n)
            .copied()
            .filter(|p| read.binary_search(p).is_err())
            .collect();
        self.cursor = listed[(start + n) % listed.len()];
        verify.sort_unstable();
        verify
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

    const SCAN: Duration = Duration::from_secs(1);

    fn parents(pairs: &[(u32, u32)]) -> impl Fn(u32) -> Option<u32> + '_ {
        move |pid| pairs.iter().find(|(c, _)| *c == pid).map(|(_, p)| *p)
    }

    /// A detector that did its first full read at `t0` with `pids`.
    fn primed(t0: Instant, pids: &[u32]) -> ChangeDetector {
        let mut d = ChangeDetector::default();
        assert_eq!(
            d.plan(Some(pids.to_vec()), t0, &[], |_| None),
            Refresh::All(Why::First)
        );
        d
    }

    /// The PIDs read with CPU and memory, ignoring the re-verified slice.
    fn read(plan: Refresh) -> Vec<u32> {
        match plan {
            Refresh::Some { read, .. } => read,
            Refresh::All(why) => panic!("expected a partial read, got All({why:?})"),
        }
    }

    fn verify(plan: Refresh) -> Vec<u32> {
        match plan {
            Refresh::Some { verify, .. } => verify,
            Refresh::All(why) => panic!("expected a partial read, got All({why:?})"),
        }
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
        let plan = d.plan(Some(vec![1, 10, 20, 30]), t0 + SCAN, &[20, 10], |_| Some(1));
        assert_eq!(read(plan), vec![10, 20]);
    }

    #[test]
    fn an_unchanged_pid_set_with_nothing_watched_reads_nothing_in_full() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 10]);
        let plan = d.plan(Some(vec![1, 10]), t0 + SCAN, &[], |_| None);
        assert_eq!(read(plan), Vec::<u32>::new());
    }

    #[test]
    fn a_new_process_such_as_a_fork_in_an_agent_tree_is_read() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 10, 20]);
        let plan = d.plan(Some(vec![1, 10, 20, 21]), t0 + SCAN, &[20], |_| Some(1));
        assert_eq!(read(plan), vec![20, 21]);
    }

    #[test]
    fn a_vanished_process_and_its_reparented_children_are_read() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 10, 11, 12, 20]);
        let tree = [(10, 1), (11, 10), (12, 10), (20, 1)];
        let plan = d.plan(Some(vec![1, 11, 12, 20]), t0 + SCAN, &[], parents(&tree));
        assert_eq!(read(plan), vec![10, 11, 12]);
    }

    #[test]
    fn a_pid_that_vanished_and_another_that_appeared_are_both_read() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 5, 9]);
        let plan = d.plan(Some(vec![1, 7, 9]), t0 + SCAN, &[], |_| None);
        assert_eq!(read(plan), vec![5, 7]);
    }

    #[test]
    fn the_next_scan_compares_with_the_latest_listing_not_the_first() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1]);
        let second = d.plan(Some(vec![1, 2]), t0 + SCAN, &[], |_| None);
        assert_eq!(read(second), vec![2]);
        let third = d.plan(Some(vec![1, 2]), t0 + SCAN * 2, &[], |_| None);
        assert_eq!(read(third), Vec::<u32>::new());
    }

    #[test]
    fn each_scan_re_verifies_a_slice_sized_by_the_time_since_the_previous_scan() {
        let t0 = Instant::now();
        let pids: Vec<u32> = (100..200).collect();
        let mut d = primed(t0, &pids);
        let one_tenth = REVERIFY_EVERY / 10;
        let plan = d.plan(Some(pids.clone()), t0 + one_tenth, &[], |_| None);
        assert_eq!(verify(plan), (100..110).collect::<Vec<u32>>());
        let plan = d.plan(Some(pids.clone()), t0 + one_tenth * 2, &[], |_| None);
        assert_eq!(
            verify(plan),
            (110..120).collect::<Vec<u32>>(),
            "round robin"
        );
    }

    #[test]
    fn every_process_is_re_verified_within_the_safety_net_interval_and_the_cursor_wraps() {
        let t0 = Instant::now();
        let pids: Vec<u32> = (1..=57).map(|p| p * 3).collect();
        let mut d = primed(t0, &pids);
        let mut seen = HashSet::new();
        let mut last_slice = Vec::new();
        let scans = (REVERIFY_EVERY.as_secs_f64() / SCAN.as_secs_f64()).ceil() as u32;
        for i in 1..=scans {
            last_slice = verify(d.plan(Some(pids.clone()), t0 + SCAN * i, &[], |_| None));
            seen.extend(last_slice.iter().copied());
        }
        assert_eq!(seen.len(), pids.len());
        // 10 slices of ceil(5.7) = 6 cover 60 > 57 PIDs: the last one wraps.
        assert!(last_slice.contains(&171) && last_slice.contains(&3));
    }

    #[test]
    fn a_gap_longer_than_the_safety_net_interval_re_verifies_every_process() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 2, 3]);
        let plan = d.plan(Some(vec![1, 2, 3]), t0 + REVERIFY_EVERY * 3, &[], |_| None);
        assert_eq!(verify(plan), vec![1, 2, 3]);
    }

    #[test]
    fn a_pid_read_in_full_is_not_re_verified_as_well() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 2, 3]);
        let plan = d.plan(Some(vec![1, 2, 3, 4]), t0 + REVERIFY_EVERY, &[2], |_| None);
        assert_eq!(
            plan,
            Refresh::Some {
                read: vec![2, 4],
                verify: vec![1, 3]
            }
        );
    }

    #[test]
    fn an_unreadable_proc_listing_falls_back_to_a_full_read_and_then_compares_again() {
        let t0 = Instant::now();
        let mut d = primed(t0, &[1, 2]);
        assert_eq!(
            d.plan(None, t0 + SCAN, &[], |_| None),
            Refresh::All(Why::Unlisted)
        );
        let plan = d.plan(Some(vec![1, 2]), t0 + SCAN * 2, &[], |_| None);
        assert_eq!(
            read(plan),
            vec![1, 2],
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
