//! The group freeze against [`FakeOps`]: an agent that leads its process
//! group is frozen in one call before the walk, members of the group that
//! are not in its tree are continued once the tree is known, and no group
//! signal is sent where it could reach Reins itself or a group the agent
//! does not lead.

use super::tests::run;
use crate::fake::{FakeOps, FakeTable};
use crate::{ProcState, Signal};
use reins_core::{HaltOp, ProcessFate, ProcessKey};

/// shell(50) ─┬─ agent(100) ─┬─ 101 ── 103
///            │              └─ 102
///            └─ tee(110), the agent's pipeline partner
/// with the agent, its tree and tee in process group 100.
fn job(ops: &FakeOps) -> ([ProcessKey; 4], ProcessKey) {
    ops.with(|t: &mut FakeTable| {
        t.spawn(1, 0);
        t.spawn(50, 1);
        let keys = [
            t.spawn(100, 50),
            t.spawn(101, 100),
            t.spawn(102, 100),
            t.spawn(103, 101),
        ];
        let tee = t.spawn(110, 50);
        for pid in [100, 101, 102, 103, 110] {
            t.get_mut(pid).unwrap().info.pgid = 100;
        }
        (keys, tee)
    })
}

fn signals_to(ops: &FakeOps, key: ProcessKey) -> Vec<Signal> {
    ops.sent()
        .into_iter()
        .filter(|(k, _)| *k == key)
        .map(|(_, s)| s)
        .collect()
}

#[test]
fn a_group_led_by_the_agent_is_frozen_at_once_and_a_partner_outside_the_tree_is_continued() {
    let ops = FakeOps::new();
    let (keys, tee) = job(&ops);
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    for k in keys {
        assert_eq!(super::tests::fate(&r, k.pid), ProcessFate::Terminated);
    }
    // The group signal reached every member first, tee included...
    let first: Vec<ProcessKey> = ops.sent().iter().take(5).map(|(k, _)| *k).collect();
    assert!(
        first.contains(&tee) && first.contains(&keys[3]),
        "{:?}",
        ops.sent()
    );
    // ...and tee, not in the tree, was continued, never terminated.
    assert_eq!(signals_to(&ops, tee), vec![Signal::Stop, Signal::Cont]);
    assert!(ops.alive(tee));
    assert_eq!(
        ops.with(|t| t.get_mut(110).unwrap().info.state),
        ProcState::Sleeping
    );
    assert!(
        r.processes.iter().all(|p| p.process != tee),
        "tee is not reported as part of the agent"
    );
}

#[test]
fn a_pause_continues_the_partner_and_leaves_the_tree_frozen() {
    let ops = FakeOps::new();
    let (keys, tee) = job(&ops);
    let r = run(&ops, keys[0], HaltOp::Pause);
    assert!(r.success, "{r:#?}");
    for k in keys {
        assert_eq!(
            ops.with(|t| t.get_mut(k.pid).unwrap().info.state),
            ProcState::Stopped
        );
    }
    assert_eq!(
        ops.with(|t| t.get_mut(110).unwrap().info.state),
        ProcState::Sleeping
    );
    assert_eq!(signals_to(&ops, tee), vec![Signal::Stop, Signal::Cont]);
}

#[test]
fn no_group_signal_is_sent_when_reins_itself_is_in_the_agents_group() {
    let ops = FakeOps::new();
    let (keys, tee) = job(&ops);
    ops.with(|t| {
        t.spawn(FakeOps::SELF_PID, 50);
        t.get_mut(FakeOps::SELF_PID).unwrap().info.pgid = 100;
    });
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert!(signals_to(&ops, tee).is_empty(), "{:?}", ops.sent());
    assert!(ops.alive(tee));
}

#[test]
fn an_agent_that_does_not_lead_its_group_gets_no_group_signal() {
    let ops = FakeOps::new();
    let (keys, tee) = job(&ops);
    // The whole job is the shell's group instead (pgid 50).
    ops.with(|t| {
        for pid in [50, 100, 101, 102, 103, 110] {
            t.get_mut(pid).unwrap().info.pgid = 50;
        }
    });
    let r = run(&ops, keys[0], HaltOp::Stop);
    assert!(r.success, "{r:#?}");
    assert!(signals_to(&ops, tee).is_empty(), "{:?}", ops.sent());
    let shell = ops.with(|t| t.get_mut(50).unwrap().info.key);
    assert!(signals_to(&ops, shell).is_empty());
}
