//! The freeze's children walk (`walk.rs`) against [`FakeOps`]: a tree is
//! frozen before any full scan, races with the sweep are caught by the
//! confirm pass or by the full-scan cross-check, and without children lists
//! the engine falls back to full scans.

use super::tests::{fate, run, small_tree};
use crate::fake::{FakeOps, FakeTable};
use crate::{ProcState, Signal};
use reins_core::{HaltOp, ProcessFate};
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<Option<ProcState>>>>;

/// A hook that records, at the moment it fires, the states of `pids`.
fn record_states(pids: &[u32]) -> (Seen, impl FnOnce(&mut FakeTable) + Send + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let slot = seen.clone();
    let pids = pids.to_vec();
    let hook = move |t: &mut FakeTable| {
        let states = pids
            .iter()
            .map(|&p| t.get_mut(p).map(|p| p.info.state))
            .collect();
        *slot.lock().unwrap() = states;
    };
    (seen, hook)
}

#[test]
fn the_whole_tree_is_frozen_before_the_first_full_scan() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    let (seen, hook) = record_states(&[100, 101, 102, 103]);
    ops.after_list(1, hook);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert_eq!(*seen.lock().unwrap(), vec![Some(ProcState::Stopped); 4]);
    assert!(r.frozen_after_us.is_some());
    assert!(r.processes.iter().all(|p| p.frozen_after_us.is_some()));
}

#[test]
fn a_frozen_tree_is_cross_checked_by_exactly_one_full_scan() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    // Everything exits on SIGTERM, so the grace period ends before its
    // first re-scan: the one scan is the freeze's cross-check.
    assert_eq!(ops.lists(), 1);
}

#[test]
fn a_fork_that_races_the_sweep_is_frozen_by_the_confirm_pass_before_any_full_scan() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    // The sweep reads 100, 101, 102, 103 in turn; 103 forks right after its
    // read, as if it had not stopped yet.
    ops.after_children(4, |t| {
        t.spawn(105, 103);
    });
    let (seen, hook) = record_states(&[105]);
    ops.after_list(1, hook);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert_eq!(*seen.lock().unwrap(), vec![Some(ProcState::Stopped)]);
    assert_eq!(fate(&r, 105), ProcessFate::Terminated);
}

#[test]
fn a_child_the_children_lists_missed_is_caught_by_the_full_scan() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    // Four sweep reads and four confirm reads; then a child appears that
    // no list showed (as if a read raced its parent).
    ops.after_children(8, |t| {
        t.spawn(109, 101);
    });
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert_eq!(fate(&r, 109), ProcessFate::Terminated);
    let stop = ops
        .sent()
        .iter()
        .position(|(k, s)| k.pid == 109 && *s == Signal::Stop);
    let term = ops.sent().iter().position(|(_, s)| *s == Signal::Term);
    assert!(stop.unwrap() < term.unwrap(), "frozen before any SIGTERM");
}

#[test]
fn without_children_lists_the_tree_is_found_from_full_scans() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    ops.with(|t| t.no_children = true);
    let (seen, hook) = record_states(&[100, 101, 102, 103]);
    // Scan 1 finds the descendants of the frozen root; scan 2 is the
    // conclusive one, taken once they are all frozen.
    ops.after_list(2, hook);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert_eq!(*seen.lock().unwrap(), vec![Some(ProcState::Stopped); 4]);
    for k in keys {
        assert_eq!(fate(&r, k.pid), ProcessFate::Terminated);
    }
    assert_eq!(ops.sent()[0], (keys[0], Signal::Stop));
}

#[test]
fn survivors_thawed_by_sigcont_have_their_children_read_again_before_sigkill() {
    let ops = FakeOps::new();
    let keys = small_tree(&ops);
    ops.with(|t| t.get_mut(101).unwrap().ignores_term = true);
    // 101 survives SIGTERM and, thawed by SIGCONT, forks: right after the
    // kill round's walk first reads its children, so only the confirm
    // re-read or the full scan can find the new child.
    let late = Arc::new(Mutex::new(None));
    let slot = late.clone();
    // Reads 1-8 are the first freeze; read 9 is 101's in the kill round.
    ops.after_children(9, move |t| {
        *slot.lock().unwrap() = Some(t.spawn(110, 101));
    });
    let r = run(&ops, keys[0], HaltOp::Stop);
    let late = late.lock().unwrap().unwrap();
    assert!(r.success, "{r:#?}");
    assert!(ops.sent().contains(&(late, Signal::Kill)));
    assert!(!ops.alive(late));
}
