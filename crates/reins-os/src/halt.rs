//! The halt engine: stop, pause or resume an agent's whole process tree out
//! of band, without relying on the agent to cooperate, and report what
//! verifiably happened to every process in it.
//!
//! Stop is freeze → SIGTERM + SIGCONT → grace → freeze again → SIGKILL →
//! verify. Where the agent leads its own process group (a shell's job) and
//! Reins is neither root nor in that group, the freeze starts with one
//! SIGSTOP to the whole group (`ProcessOps::signal_group`); group members
//! that turn out not to be in the tree are continued as soon as the tree is
//! known. The tree is found by parent PID: first through the kernel's
//! children lists, stopping each process as it is found (cost proportional
//! to the tree), then cross-checked with full scans of the process table
//! until a scan of the frozen tree finds nothing new, so children that
//! called `setsid` and processes forked during the race are caught too. Every signal goes through
//! [`ProcessOps::signal`], which re-checks the start time, so a reused PID is
//! never hit.
//!
//! This module is deliberately blocking (callers run it on a blocking
//! thread), knows nothing about agents, and does not use cgroups. Its one
//! known gap: a process that forks after SIGCONT and then exits leaves an
//! orphan reparented to init that no PPID walk can tie back to the tree; the
//! grace period re-scans often to make that window small. For an agent run
//! by a systemd unit whose cgroup Reins may write, `halt/unit.rs` closes it:
//! the unit's cgroup v2 is frozen and killed as a whole, and systemd is
//! told to stop the unit.

#[cfg(test)]
mod group_tests;
mod session;
#[cfg(test)]
mod tests;
mod unit;
#[cfg(test)]
mod unit_tests;
mod walk;
#[cfg(test)]
mod walk_tests;

pub(crate) use session::Timeouts;
pub use unit::{UnitTarget, halt_unit};

use crate::tree::Tree;
use crate::{ProcState, ProcessOps, Signal};
use reins_core::{
    HaltMethod, HaltOp, HaltOptions, HaltReport, ProcessFate, ProcessKey, ProcessReport,
};
use session::{Session, Tracked, first_interval, next_interval};
use std::time::{Duration, Instant};

/// How many freeze-and-kill rounds a stop makes for survivors of SIGTERM.
/// One is normally enough; the others catch processes that a failed freeze
/// (uninterruptible sleep) let fork late.
const MAX_KILL_ROUNDS: usize = 4;

/// Run one halt operation on the whole tree rooted at `root`. Blocking: a
/// stop takes up to `opts.grace` plus a few seconds in the worst case, and
/// returns as soon as everything is verified gone. `opts.force` is not
/// looked at here: deciding which PIDs may be halted is the caller's job.
///
/// PID 1, other users' processes and Reins itself are never signalled and
/// are reported `Skipped`. If Reins runs inside the tree it is skipped and
/// the tree is not walked below it (its children are Reins' own), and the
/// stop can still succeed; its ancestors are not protected, since stopping
/// them is exactly what was asked and Reins survives its parent's death. A
/// skipped process of another user that is still alive makes a stop
/// unverified (`success == false`). A root that is gone, or whose PID now
/// belongs to another process, is reported `AlreadyGone` with success.
pub fn halt(ops: &dyn ProcessOps, root: ProcessKey, op: HaltOp, opts: &HaltOptions) -> HaltReport {
    halt_with(ops, root, op, opts.grace, Timeouts::default())
}

pub(crate) fn halt_with(
    ops: &dyn ProcessOps,
    root: ProcessKey,
    op: HaltOp,
    grace: Duration,
    timeouts: Timeouts,
) -> HaltReport {
    halt_hooked(ops, root, op, grace, timeouts, &mut || {})
}

/// [`halt_with`], calling `after_freeze` once a stop has frozen the tree
/// and before it sends SIGTERM (the unit stop tells systemd there). Not
/// called when the root is already gone or may not be signalled.
pub(crate) fn halt_hooked(
    ops: &dyn ProcessOps,
    root: ProcessKey,
    op: HaltOp,
    grace: Duration,
    timeouts: Timeouts,
    after_freeze: &mut dyn FnMut(),
) -> HaltReport {
    let mut s = Session::new(ops, timeouts);
    let live_root = ops
        .info(root.pid)
        .filter(|p| p.key == root && p.state != ProcState::Zombie);
    let Some(info) = live_root else {
        let now = s.us();
        tracing::info!("halt {}: root {} is already gone", op.verb(), root.pid);
        return HaltReport {
            op,
            root,
            processes: vec![ProcessReport {
                process: root,
                comm: String::new(),
                fate: ProcessFate::AlreadyGone,
                frozen_after_us: None,
                gone_after_us: Some(now),
            }],
            frozen_after_us: None,
            gone_after_us: (op == HaltOp::Stop).then_some(now),
            success: true,
            method: HaltMethod::Walk,
            unit: None,
        };
    };
    let root_i = s.track(info).unwrap_or(0);
    if s.procs[root_i].skip.is_some() {
        return report(&s, op, root, skipped_fate, None, None, false);
    }
    match op {
        HaltOp::Stop => stop(&mut s, root, root_i, grace, after_freeze),
        HaltOp::Pause => pause(&mut s, root, root_i),
        HaltOp::Resume => resume(&mut s, root),
    }
}

fn stop(
    s: &mut Session<'_>,
    root: ProcessKey,
    root_i: usize,
    grace: Duration,
    after_freeze: &mut dyn FnMut(),
) -> HaltReport {
    // 1-3. Damage stops here: the root first (it is the one spawning tools),
    // then every descendant, re-scanning until a scan of a frozen tree
    // finds nothing new.
    s.group_stop(root_i);
    s.freeze(vec![root_i], s.t.stop_settle);
    let frozen_after_us = s.all_frozen_us();
    s.release_group_outsiders();
    after_freeze();

    // 4. Ask nicely: SIGTERM is queued while frozen, SIGCONT lets handlers run.
    let live = s.actionable();
    for &i in &live {
        s.send(i, Signal::Term);
    }
    for &i in live.iter().rev() {
        s.send(i, Signal::Cont);
    }

    // 5. Grace period, returning early once everything is gone.
    grace_wait(s, grace);

    // 6. Freeze what is left (and anything it forked), then SIGKILL.
    for _ in 0..MAX_KILL_ROUNDS {
        let survivors = s.actionable();
        if survivors.is_empty() {
            break;
        }
        s.freeze(survivors, s.t.stop_settle);
        for i in s.actionable() {
            s.send(i, Signal::Kill);
        }
        let timeout = s.t.kill_verify;
        if s.wait_until(timeout, false, |p| p.failed.is_some()) {
            break;
        }
    }

    // 7. Verify, including processes we were not allowed to touch.
    for i in 0..s.procs.len() {
        s.probe(i);
    }
    let success = s.procs.iter().all(|p| !p.live() || p.is_self);
    let gone_after_us = if success {
        s.procs
            .iter()
            .filter(|p| !p.is_self)
            .filter_map(|p| p.gone_at)
            .max()
    } else {
        None
    };
    report(
        s,
        HaltOp::Stop,
        root,
        stop_fate,
        frozen_after_us,
        gone_after_us,
        success,
    )
}

/// Poll until every actionable process is gone or `grace` runs out,
/// re-scanning now and then for processes forked after SIGCONT (they get a
/// SIGTERM of their own).
fn grace_wait(s: &mut Session<'_>, grace: Duration) {
    let start = Instant::now();
    let mut last_scan = start;
    let mut interval = first_interval();
    loop {
        let mut all_gone = true;
        for i in s.actionable() {
            if s.probe(i).is_some() && s.procs[i].failed.is_none() {
                all_gone = false;
            }
        }
        let waited = start.elapsed();
        if all_gone || waited >= grace {
            return;
        }
        if last_scan.elapsed() >= s.t.rescan_every {
            last_scan = Instant::now();
            for i in s.discover() {
                s.send(i, Signal::Term);
            }
        }
        std::thread::sleep(interval.min(grace - waited));
        interval = next_interval(interval, waited);
    }
}

fn pause(s: &mut Session<'_>, root: ProcessKey, root_i: usize) -> HaltReport {
    s.group_stop(root_i);
    s.freeze(vec![root_i], s.t.verify);
    let frozen_after_us = s.all_frozen_us();
    s.release_group_outsiders();
    for i in 0..s.procs.len() {
        s.probe(i);
    }
    let success = s.procs.iter().all(|p| !p.live() || p.is_self || p.frozen());
    report(
        s,
        HaltOp::Pause,
        root,
        pause_fate,
        frozen_after_us,
        None,
        success,
    )
}

fn resume(s: &mut Session<'_>, root: ProcessKey) -> HaltReport {
    // A paused tree cannot fork, so one scan finds all of it.
    match s.ops.list() {
        Ok(table) => {
            let self_pid = s.ops.self_pid();
            let tree = Tree::new(&table);
            for p in tree.descendants_of_all(&[root.pid], |p| p.key.pid != self_pid) {
                s.track(p.clone());
            }
        }
        Err(e) => tracing::warn!("resume: cannot list the tree, resuming the root only: {e}"),
    }
    // Leaves first, so a parent never wakes to find its children still frozen.
    for i in s.actionable().into_iter().rev() {
        s.send(i, Signal::Cont);
    }
    let timeout = s.t.verify;
    s.wait_until(timeout, false, |p| {
        p.seen.is_some_and(|st| st != ProcState::Stopped)
    });
    for i in 0..s.procs.len() {
        s.probe(i);
    }
    let success = s
        .procs
        .iter()
        .all(|p| !p.live() || p.is_self || !p.frozen());
    report(s, HaltOp::Resume, root, resume_fate, None, None, success)
}

fn skipped_fate(p: &Tracked) -> Option<ProcessFate> {
    p.skip.as_ref().map(|reason| ProcessFate::Skipped {
        reason: reason.clone(),
    })
}

fn unresolved_fate(p: &Tracked) -> ProcessFate {
    match &p.failed {
        Some(error) => ProcessFate::Failed {
            error: error.clone(),
        },
        None => ProcessFate::Survived,
    }
}

fn stop_fate(p: &Tracked) -> Option<ProcessFate> {
    Some(match skipped_fate(p) {
        Some(f) => f,
        None if p.live() => unresolved_fate(p),
        None if p.sent.kill => ProcessFate::Killed,
        None if p.sent.stop || p.sent.term || p.sent.cont => ProcessFate::Terminated,
        None => ProcessFate::AlreadyGone,
    })
}

fn pause_fate(p: &Tracked) -> Option<ProcessFate> {
    Some(match skipped_fate(p) {
        Some(f) => f,
        None if !p.live() => ProcessFate::AlreadyGone,
        None if p.frozen() => ProcessFate::Paused,
        None => unresolved_fate(p),
    })
}

fn resume_fate(p: &Tracked) -> Option<ProcessFate> {
    Some(match skipped_fate(p) {
        Some(f) => f,
        None if !p.live() => ProcessFate::AlreadyGone,
        None if p.frozen() => unresolved_fate(p),
        None => ProcessFate::Resumed,
    })
}

fn report(
    s: &Session<'_>,
    op: HaltOp,
    root: ProcessKey,
    fate: fn(&Tracked) -> Option<ProcessFate>,
    frozen_after_us: Option<u64>,
    gone_after_us: Option<u64>,
    success: bool,
) -> HaltReport {
    let processes = s
        .procs
        .iter()
        .map(|p| ProcessReport {
            process: p.info.key,
            comm: p.info.comm.clone(),
            fate: fate(p).unwrap_or_else(|| unresolved_fate(p)),
            frozen_after_us: p.frozen_at,
            gone_after_us: p.gone_at,
        })
        .collect();
    tracing::info!(
        "halt {} of {}: success={success}, {} processes",
        op.verb(),
        root.pid,
        s.procs.len()
    );
    HaltReport {
        op,
        root,
        processes,
        frozen_after_us,
        gone_after_us,
        success,
        method: HaltMethod::Walk,
        unit: None,
    }
}
