//! The freeze's fast path: find the tree below a batch of just-stopped
//! processes through [`ProcessOps::children`](crate::ProcessOps::children),
//! stopping each process as soon as it is found, so that freezing a tree
//! costs in proportion to the tree, not to the machine's process table.
//!
//! It runs in two passes. The *sweep* reads each new process's children
//! right after sending it SIGSTOP, before it has necessarily stopped, so it
//! may miss a child forked in that instant. The *confirm* pass waits for
//! the tree to show state T, then re-reads the children of every process
//! not yet read while frozen; a frozen process cannot fork, so once a
//! confirm pass finds nothing new the children lists are complete, and the
//! kernel documents them as reliable in exactly that case. Neither pass is
//! trusted alone: `Session::freeze` still cross-checks with a full scan of
//! the table (which also catches a child reparented away, whose parent link
//! the lists no longer show). If the OS cannot list children, this module
//! reports so once and the freeze falls back to full scans only.

use super::session::{MAX_FREEZE_ROUNDS, Session};
use crate::Signal;
use std::collections::VecDeque;
use std::time::Duration;

/// How many processes one sweep visits at most. A real agent tree has tens
/// or hundreds; the bound only keeps a fork bomb that outruns the sweep from
/// holding the halt hostage (the confirm rounds and full scans go on after it).
const MAX_SWEEP: usize = 32_768;

impl Session<'_> {
    /// SIGSTOP and track every child of process `i` not tracked yet, each
    /// stopped the moment it is read (start time and owner checked by the
    /// OS layer first); returns the new indices, or `None` (and stops using
    /// children lists) if the OS has none. A child that the session would
    /// skip (Reins itself, another user's) is tracked but not signalled.
    fn stop_children(&mut self, i: usize) -> Option<Vec<usize>> {
        let ops = self.ops;
        let key = self.procs[i].info.key;
        let found = ops.signal_children(key, Signal::Stop, &mut |c| {
            self.untracked_and_signallable(c)
        });
        let Some(found) = found else {
            self.children_ok = false;
            return None;
        };
        let mut new = Vec::with_capacity(found.len());
        for c in found {
            let Some(j) = self.track(c.info) else {
                continue;
            };
            if let Some(result) = c.result {
                self.record(j, Signal::Stop, result);
            }
            new.push(j);
        }
        Some(new)
    }

    /// Breadth first below `from`: every new child is stopped as soon as it
    /// is found, then its children are read in turn. Never walks below
    /// Reins itself.
    fn sweep(&mut self, from: &[usize]) {
        let mut queue: VecDeque<usize> = from
            .iter()
            .copied()
            .filter(|&i| !self.procs[i].is_self)
            .collect();
        let mut visited = 0;
        while let Some(i) = queue.pop_front() {
            visited += 1;
            if visited > MAX_SWEEP {
                tracing::warn!("halt: stopped sweeping a tree after {MAX_SWEEP} processes");
                return;
            }
            let Some(new) = self.stop_children(i) else {
                return;
            };
            queue.extend(new.into_iter().filter(|&j| !self.procs[j].is_self));
        }
    }

    /// Freeze everything below `batch` (already sent SIGSTOP) through the
    /// children lists, and wait until the tree is seen frozen. Returns false
    /// if the OS cannot list children, and the caller must wait and scan
    /// the table itself.
    pub fn walk(&mut self, batch: &[usize], settle: Duration) -> bool {
        if !self.children_ok {
            return false;
        }
        self.sweep(batch);
        for _ in 0..MAX_FREEZE_ROUNDS {
            if !self.children_ok {
                return false;
            }
            let pending: Vec<usize> = (0..self.procs.len())
                .filter(|&i| {
                    let p = &self.procs[i];
                    p.live() && !p.is_self && !p.walked
                })
                .collect();
            if pending.is_empty() {
                return true;
            }
            // Every frozen time (`frozen_at`) is taken here, before any
            // re-read: the confirm pass costs nothing unless it finds more.
            self.wait_frozen(settle);
            let mut new = Vec::new();
            for i in pending {
                // A process that did not freeze (uninterruptible sleep, a
                // failed or refused signal) is read once all the same; the
                // full scan after this is what settles it.
                self.procs[i].walked = true;
                new.extend(self.stop_children(i).unwrap_or_default());
            }
            self.sweep(&new);
        }
        tracing::warn!("halt: the tree kept forking through {MAX_FREEZE_ROUNDS} confirm rounds");
        self.wait_frozen(settle);
        true
    }
}
