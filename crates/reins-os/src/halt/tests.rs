//! Halt logic against the in-memory [`FakeOps`] table: races are scripted
//! with hooks that fire after the n-th snapshot, children read or signal.
//! The fake lists children by default, as Linux does; races in the freeze
//! itself are scripted for both that path and the full-table fallback
//! (`no_children`). `walk_tests.rs` covers the children walk in detail.

use super::{Timeouts, halt_with};
use crate::fake::FakeOps;
use crate::{ProcState, Signal};
use reins_core::{HaltOp, HaltReport, ProcessFate, ProcessKey};
use std::time::Duration;

pub(super) fn quick() -> Timeouts {
    Timeouts {
        stop_settle: Duration::from_millis(20),
        kill_verify: Duration::from_millis(50),
        verify: Duration::from_millis(50),
        rescan_every: Duration::ZERO,
    }
}

pub(super) fn run(ops: &FakeOps, root: ProcessKey, op: HaltOp) -> HaltReport {
    halt_with(ops, root, op, Duration::from_millis(30), quick())
}

pub(super) fn fate(r: &HaltReport, pid: u32) -> ProcessFate {
    r.processes
        .iter()
        .find(|p| p.process.pid == pid)
        .unwrap_or_else(|| panic!("{pid} not in {r:#?}"))
        .fate
        .clone()
}

/// init(1) ─ root(100) ─┬─ 101 ── 103
///                      └─ 102
pub(super) fn small_tree(ops: &FakeOps) -> [ProcessKey; 4] {
    ops.with(|t| {
        t.spawn(1, 0);
        [
            t.spawn(100, 1),
            t.spawn(101, 100),
            t.spawn(102, 100),
            t.spawn(103, 101),
        ]
    })
}

#[test]
fn a_tree_that_obeys_sigterm_is_frozen_first_then_terminated_and_verified_gone() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert_eq!(r.processes.len(), 4);
    for k in keys {
        assert_eq!(fate(&r, k.pid), ProcessFate::Terminated);
        assert!(!ops.alive(k));
    }
    let sent = ops.sent();
    assert_eq!(sent[0], (keys[0], Signal::Stop), "the root is frozen first");
    let first_term = sent.iter().position(|(_, s)| *s == Signal::Term).unwrap();
    assert_eq!(
        sent[..first_term]
            .iter()
            .filter(|(_, s)| *s == Signal::Stop)
            .count(),
        4
    );
    assert!(r.frozen_after_us.is_some() && r.gone_after_us.is_some());
    assert!(
        r.processes
            .iter()
            .all(|p| p.frozen_after_us.is_some() && p.gone_after_us.is_some())
    );
}

#[test]
fn a_process_that_ignores_sigterm_is_killed() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    ops.with(|t| t.get_mut(103).unwrap().ignores_term = true);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert_eq!(fate(&r, 103), ProcessFate::Killed);
    assert_eq!(fate(&r, 101), ProcessFate::Terminated);
    assert!(
        !ops.sent()
            .iter()
            .any(|(k, s)| *s == Signal::Kill && k.pid != 103)
    );
}

#[test]
fn the_orphan_of_a_parent_that_exited_on_sigterm_is_still_tracked_and_killed() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    // 101 exits on TERM, so 103 is reparented to init before the kill phase.
    ops.with(|t| t.get_mut(103).unwrap().ignores_term = true);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success);
    assert!(ops.sent().contains(&(keys[3], Signal::Kill)));
}

#[test]
fn a_process_exiting_on_its_own_mid_stop_is_already_gone_not_a_failure() {
    for children in [true, false] {
        let ops = FakeOps::new();
        let keys = small_tree(&ops);
        // Exits right after it was first seen, before it could be frozen.
        if children {
            ops.after_children(1, |t| t.exit(102));
        } else {
            ops.with(|t| t.no_children = true);
            ops.after_list(1, |t| t.exit(102));
        }
        let r = run(&ops, keys[0], HaltOp::Stop);
        assert!(r.success, "children lists: {children}, {r:#?}");
        assert_eq!(fate(&r, 102), ProcessFate::AlreadyGone);
        assert!(!ops.sent().iter().any(|(k, _)| *k == keys[2]));
    }
}

#[test]
fn a_fork_after_the_first_look_at_the_tree_is_found_frozen_and_stopped() {
    for children in [true, false] {
        let ops = FakeOps::new();
        let keys = small_tree(&ops);
        let late = std::sync::Arc::new(std::sync::Mutex::new(None));
        let slot = late.clone();
        let fork = move |t: &mut crate::fake::FakeTable| {
            *slot.lock().unwrap() = Some(t.spawn(105, 103));
        };
        if children {
            // The sweep reads 100, 101, 102, 103 in turn; 103 forks just
            // after its own read, before it stopped.
            ops.after_children(4, fork);
        } else {
            ops.with(|t| t.no_children = true);
            ops.after_list(1, fork);
        }
        let r = run(&ops, keys[0], HaltOp::Stop);
        let late = late.lock().unwrap().unwrap();
        assert!(r.success, "children lists: {children}, {r:#?}");
        assert_eq!(fate(&r, 105), ProcessFate::Terminated);
        assert!(ops.sent().contains(&(late, Signal::Stop)));
        assert!(!ops.alive(late));
    }
}

#[test]
fn a_fork_during_the_grace_period_is_found_and_terminated() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    ops.with(|t| t.get_mut(101).unwrap().ignores_term = true);
    // The freeze makes one snapshot (the cross-check of the frozen tree);
    // the second is the grace period's first re-scan.
    ops.after_list(2, |t| {
        t.spawn(106, 101);
    });
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert_eq!(fate(&r, 106), ProcessFate::Terminated);
    assert_eq!(fate(&r, 101), ProcessFate::Killed);
}

#[test]
fn a_reused_root_pid_is_never_signalled() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    let stale = ProcessKey {
        pid: 100,
        start_ticks: keys[0].start_ticks - 1,
    };
    let r = run(&ops, stale, HaltOp::Stop);
    assert!(r.success);
    assert_eq!(fate(&r, 100), ProcessFate::AlreadyGone);
    assert!(ops.sent().is_empty());
    assert!(keys.iter().all(|&k| ops.alive(k)));
}

#[test]
fn a_pid_reused_mid_stop_by_an_unrelated_process_is_never_signalled() {
    for children in [true, false] {
        let ops = FakeOps::new();
        let keys = small_tree(&ops);
        let stranger = std::sync::Arc::new(std::sync::Mutex::new(None));
        let slot = stranger.clone();
        // 102 dies after being seen as its parent's child; an unrelated
        // process gets its PID.
        let reuse = move |t: &mut crate::fake::FakeTable| {
            t.exit(102);
            *slot.lock().unwrap() = Some(t.spawn(102, 1));
        };
        if children {
            ops.after_children(1, reuse);
        } else {
            ops.with(|t| t.no_children = true);
            ops.after_list(1, reuse);
        }
        let r = run(&ops, keys[0], HaltOp::Stop);
        let stranger = stranger.lock().unwrap().unwrap();
        assert!(r.success, "children lists: {children}, {r:#?}");
        assert!(ops.alive(stranger));
        assert!(!ops.sent().iter().any(|(k, _)| *k == stranger));
    }
}

#[test]
fn a_zombie_whose_parent_never_waits_counts_as_gone() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    ops.with(|t| t.get_mut(100).unwrap().zombie_on_exit = true);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert_eq!(fate(&r, 100), ProcessFate::Terminated);
    assert_eq!(
        ops.with(|t| t.get_mut(100).map(|p| p.info.state)),
        Some(ProcState::Zombie)
    );
}

#[test]
fn a_process_that_survives_sigkill_fails_the_stop() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    ops.with(|t| {
        let p = t.get_mut(101).unwrap();
        p.ignores_term = true;
        p.unkillable = true;
    });
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(!r.success);
    assert_eq!(r.gone_after_us, None);
    assert_eq!(fate(&r, 101), ProcessFate::Survived);
    assert_eq!(r.failures().count(), 1);
}

#[test]
fn a_signal_the_os_rejects_is_reported_as_failed() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    ops.with(|t| t.get_mut(102).unwrap().eperm = true);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(!r.success);
    assert!(matches!(fate(&r, 102), ProcessFate::Failed { .. }));
    assert!(!ops.alive(keys[1]), "the rest of the tree is still stopped");
}

#[test]
fn reins_inside_the_tree_is_skipped_and_its_own_children_are_left_alone() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    let (me, mine) = ops.with(|t| {
        (
            t.spawn(FakeOps::SELF_PID, 102),
            t.spawn(4001, FakeOps::SELF_PID),
        )
    });
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert!(matches!(
        fate(&r, FakeOps::SELF_PID),
        ProcessFate::Skipped { .. }
    ));
    assert!(!r.processes.iter().any(|p| p.process == mine));
    assert!(ops.alive(me) && ops.alive(mine));
}

#[test]
fn another_users_process_is_skipped_and_the_stop_is_not_claimed_verified() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    ops.with(|t| t.get_mut(103).unwrap().info.uid = 0);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(!r.success);
    assert!(matches!(fate(&r, 103), ProcessFate::Skipped { .. }));
    assert!(!ops.sent().iter().any(|(k, _)| *k == keys[3]));
}

#[test]
fn init_as_the_root_is_refused_without_sending_anything() {
    let ops = FakeOps::new();
    let init = ops.with(|t| t.spawn(1, 0));
    let r = run(&ops, init, HaltOp::Stop);
    assert!(!r.success);
    assert!(matches!(fate(&r, 1), ProcessFate::Skipped { .. }));
    assert!(ops.sent().is_empty());
}

#[test]
fn a_root_that_is_already_gone_is_reported_as_such() {
    let ops = FakeOps::new();
    let r = run(
        &ops,
        ProcessKey {
            pid: 777,
            start_ticks: 5,
        },
        HaltOp::Stop,
    );
    assert!(r.success);
    assert_eq!(fate(&r, 777), ProcessFate::AlreadyGone);
}

#[test]
fn pause_freezes_every_process_and_resume_thaws_them() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    // 101 forks just after its children were first read.
    ops.after_children(2, |t| {
        t.spawn(108, 101);
    });
    let r = run(&ops, keys[0], HaltOp::Pause);
    assert!(r.success, "{r:#?}");
    assert_eq!(r.processes.len(), 5, "the late fork is paused too");
    assert!(r.processes.iter().all(|p| p.fate == ProcessFate::Paused));
    assert!(r.frozen_after_us.is_some());
    let stopped = |pid| ops.with(|t| t.get_mut(pid).unwrap().info.state) == ProcState::Stopped;
    assert!([100, 101, 102, 103, 108].into_iter().all(stopped));

    let r = run(&ops, keys[0], HaltOp::Resume);
    assert!(r.success, "{r:#?}");
    assert_eq!(r.processes.len(), 5);
    assert!(r.processes.iter().all(|p| p.fate == ProcessFate::Resumed));
    assert!(![100, 101, 102, 103, 108].into_iter().any(stopped));
    let conts = ops
        .sent()
        .into_iter()
        .filter(|(_, s)| *s == Signal::Cont)
        .collect::<Vec<_>>();
    assert_eq!(
        conts.last().unwrap().0,
        keys[0],
        "leaves first, the root last"
    );
}
