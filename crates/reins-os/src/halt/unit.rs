//! The stop of an agent run by a systemd unit: freeze, tell systemd, kill,
//! verify, so that `Restart=` does not bring the agent back and nothing
//! that double-forked out of the tree survives.
//!
//! Two ways, chosen per stop:
//! - **cgroup** (Reins may write the unit's cgroup v2: root, or a delegated
//!   user unit of its own user; the agent's root is in the group and Reins
//!   is not): `cgroup.freeze` (atomic, every process in the unit, no walk),
//!   `StopUnit`, SIGTERM to every process, thaw, grace, then freeze again
//!   and `cgroup.kill` whatever is left, and verify `populated 0`.
//! - **walk** (anything else): today's tree walk with `StopUnit` sent once
//!   the tree is frozen and before SIGTERM.
//!
//! **Why StopUnit comes before any process dies.** `Restart=` applies only
//! when the main process exits while the unit is active. Once systemd has
//! accepted a stop job and is `deactivating`, an exit is the stop finishing,
//! so nothing restarts; had Reins killed first, systemd would have seen a
//! crash and scheduled a restart (five seconds later, for OpenClaw). So the
//! unit is frozen (it can do nothing meanwhile), systemd is told, Reins
//! waits (bounded) until the unit reads `deactivating`, and only then are
//! processes let go. They are let go with SIGTERM and a grace period, not
//! killed at once: systemd counts an exit on SIGTERM as clean and leaves the
//! unit `inactive`, while a SIGKILL leaves it `failed` (result `signal`).
//! Survivors of the grace period are still killed; the report then says
//! the unit's final state (`failed`), never hiding it.
//!
//! If systemd cannot be reached or refuses, the processes are killed all
//! the same and the report says systemd was not told (the stop latch then
//! holds a respawn). Pause and resume use the walk's SIGSTOP/SIGCONT: a
//! stopped process is not restarted, so they need no supervisor.

use super::{Timeouts, halt, halt_hooked};
use crate::cgroup::{Cgroup, CgroupError, CgroupFs};
use crate::units::UnitManager;
use crate::{ProcState, ProcessOps, Signal};
use reins_core::{
    HaltMethod, HaltOp, HaltOptions, HaltReport, ProcessFate, ProcessKey, ProcessReport,
    UnitActiveState, UnitScope, UnitStop, UnitStopResult,
};
use std::time::{Duration, Instant};

/// How long a freeze may take to show `frozen 1`. Processes stop within
/// microseconds; one in uninterruptible sleep (D) delays it, and the stop
/// goes on regardless (SIGKILL reaches it when it leaves D).
const FREEZE_WAIT: Duration = Duration::from_millis(500);
/// How long Reins waits for systemd to start the stop job (`deactivating`)
/// before letting processes go: it normally takes a millisecond or two;
/// a manager that is slower than this is probably stuck, and the kill must
/// not wait on it.
const STOPPING_WAIT: Duration = Duration::from_secs(1);
/// How long Reins waits for systemd to notice the unit is empty and settle
/// in `inactive` or `failed`, only so the report can say which.
const SETTLE_WAIT: Duration = Duration::from_millis(500);
/// How long a SIGKILLed group may take to empty (large address spaces
/// take a while to tear down; longer means a process stuck in D).
const KILL_WAIT: Duration = Duration::from_secs(2);
/// Poll interval for the unit's state over the bus (each poll is a round trip).
const STATE_POLL: Duration = Duration::from_millis(5);

/// The systemd unit an agent runs in.
#[derive(Clone, Copy, Debug)]
pub struct UnitTarget<'a> {
    /// The unit name.
    pub unit: &'a str,
    /// Its manager.
    pub scope: UnitScope,
    /// Its cgroup path relative to the cgroup v2 root.
    pub cgroup: &'a str,
}

/// Halt an agent that runs in a systemd unit (see the module docs). For
/// pause and resume this is [`halt`]. `cgroups` is the cgroup2 mount, or
/// `None` where there is none (the walk is used).
pub fn halt_unit(
    ops: &dyn ProcessOps,
    cgroups: Option<&CgroupFs>,
    units: &dyn UnitManager,
    root: ProcessKey,
    target: UnitTarget<'_>,
    op: HaltOp,
    opts: &HaltOptions,
) -> HaltReport {
    if op != HaltOp::Stop {
        return halt(ops, root, op, opts);
    }
    let group = match cgroups {
        Some(fs) => usable_group(ops, fs, root, target),
        None => Err("no cgroup v2 file system is mounted".to_owned()),
    };
    match group {
        Ok(cg) => {
            tracing::info!("stop {}: through its cgroup {}", target.unit, cg.rel());
            match cgroup_stop(ops, &cg, units, root, target, opts.grace) {
                Ok(r) => return r,
                Err(e) => {
                    // Never leave the unit frozen: the walk needs it running to
                    // deliver SIGTERM, and a restart would start frozen.
                    let _ = cg.thaw(FREEZE_WAIT);
                    tracing::warn!(
                        "stop {}: cgroup stop failed, walking instead: {e}",
                        target.unit
                    );
                }
            }
        }
        Err(why) => tracing::info!("stop {}: walking the tree: {why}", target.unit),
    }
    let mut told = None;
    let mut report = halt_hooked(ops, root, op, opts.grace, Timeouts::default(), &mut || {
        told = Some(tell(units, target))
    });
    if let Some(mut told) = told {
        settle(units, target, &mut told);
        report.unit = Some(told);
    }
    report
}

/// The unit's group, if this stop may use it.
fn usable_group(
    ops: &dyn ProcessOps,
    fs: &CgroupFs,
    root: ProcessKey,
    target: UnitTarget<'_>,
) -> Result<Cgroup, String> {
    let cg = fs.group(target.cgroup).map_err(|e| e.to_string())?;
    cg.writable().map_err(|e| e.to_string())?;
    if ops.info(root.pid).is_none_or(|p| p.key != root) {
        return Err("the agent's root process is gone".into());
    }
    match CgroupFs::group_of(root.pid) {
        Some(g) if cg.contains_group(&g) => {}
        _ => return Err(format!("the agent is no longer in {}", target.cgroup)),
    }
    // Detection names a unit only when the agent is what it runs; re-check,
    // since cgroup.kill reaches everything in the unit.
    let parent = ops.info(root.pid).map(|p| p.ppid).unwrap_or(0);
    if CgroupFs::group_of(parent).is_some_and(|g| cg.contains_group(&g)) {
        return Err("the agent was started by another process inside the unit".into());
    }
    match CgroupFs::group_of(ops.self_pid()) {
        Some(g) if !cg.contains_group(&g) => Ok(cg),
        _ => Err("Reins itself runs in that unit (or its own cgroup is unknown)".into()),
    }
}

/// Ask systemd to stop the unit and wait (bounded) until it is stopping.
fn tell(units: &dyn UnitManager, target: UnitTarget<'_>) -> UnitStop {
    let result = match units.stop_unit(target.scope, target.unit) {
        Ok(()) => {
            let state = wait_state(units, target, STOPPING_WAIT, |s| s.stopping_or_stopped());
            UnitStopResult::Stopped {
                active_state: state,
            }
        }
        Err(e) => {
            tracing::warn!("stop {}: {e}", target.unit);
            UnitStopResult::NotTold {
                error: e.to_string(),
            }
        }
    };
    UnitStop {
        unit: target.unit.to_owned(),
        scope: target.scope,
        result,
    }
}

/// After the processes are gone: the unit's final state, for the report.
fn settle(units: &dyn UnitManager, target: UnitTarget<'_>, told: &mut UnitStop) {
    if let UnitStopResult::Stopped { active_state } = &mut told.result {
        *active_state = wait_state(units, target, SETTLE_WAIT, |s| {
            matches!(s, UnitActiveState::Inactive | UnitActiveState::Failed)
        })
        .or(*active_state);
    }
}

/// Poll the unit's state until `done` or `timeout`; the last state read.
fn wait_state(
    units: &dyn UnitManager,
    target: UnitTarget<'_>,
    timeout: Duration,
    done: impl Fn(UnitActiveState) -> bool,
) -> Option<UnitActiveState> {
    let start = Instant::now();
    let mut last = None;
    loop {
        match units.active_state(target.scope, target.unit) {
            Ok(s) => {
                last = Some(s);
                if done(s) {
                    return last;
                }
            }
            Err(e) => {
                tracing::warn!("stop {}: cannot read its state: {e}", target.unit);
                return last;
            }
        }
        if start.elapsed() >= timeout {
            return last;
        }
        std::thread::sleep(STATE_POLL);
    }
}

/// One process seen in the group.
struct Seen {
    key: ProcessKey,
    comm: String,
    termed: bool,
    error: Option<String>,
    fate: Option<ProcessFate>,
    frozen_at: Option<u64>,
    gone_at: Option<u64>,
}

fn cgroup_stop(
    ops: &dyn ProcessOps,
    cg: &Cgroup,
    units: &dyn UnitManager,
    root: ProcessKey,
    target: UnitTarget<'_>,
    grace: Duration,
) -> Result<HaltReport, CgroupError> {
    let t0 = Instant::now();
    let us = || t0.elapsed().as_micros() as u64;
    let frozen = cg.freeze(FREEZE_WAIT)?;
    let frozen_after_us = frozen.then(us);
    let mut seen: Vec<Seen> = Vec::new();
    add_new(ops, cg, &mut seen, frozen_after_us)?;

    let mut told = tell(units, target);

    // SIGTERM is queued while frozen; the thaw lets handlers run.
    for p in &mut seen {
        match ops.signal(p.key, Signal::Term) {
            Ok(_) => p.termed = true,
            Err(e) => p.error = Some(e.to_string()),
        }
    }
    cg.thaw(FREEZE_WAIT)?;
    let mut empty = cg.wait_empty(grace)?;
    mark_gone(ops, &mut seen, us(), |p| {
        if p.termed {
            ProcessFate::Terminated
        } else {
            ProcessFate::AlreadyGone
        }
    });

    if !empty {
        // Freeze again so nothing forks between the listing and the kill.
        let refrozen = cg.freeze(FREEZE_WAIT)?;
        add_new(ops, cg, &mut seen, refrozen.then(us))?;
        let how = cg.kill()?;
        tracing::debug!("stop {}: killed with {how:?}", target.unit);
        empty = cg.wait_empty(KILL_WAIT)?;
        mark_gone(ops, &mut seen, us(), |_| ProcessFate::Killed);
    }
    // An empty frozen group would freeze whatever systemd starts in it next.
    let _ = cg.thaw(FREEZE_WAIT);
    settle(units, target, &mut told);

    let success = empty && seen.iter().all(|p| p.gone_at.is_some());
    let processes: Vec<ProcessReport> = seen
        .into_iter()
        .map(|p| ProcessReport {
            process: p.key,
            comm: p.comm,
            fate: p.fate.unwrap_or(match p.error {
                Some(error) => ProcessFate::Failed { error },
                None => ProcessFate::Survived,
            }),
            frozen_after_us: p.frozen_at,
            gone_after_us: p.gone_at,
        })
        .collect();
    let gone_after_us = success
        .then(|| processes.iter().filter_map(|p| p.gone_after_us).max())
        .flatten();
    tracing::info!(
        "halt stop of {} through cgroup {}: success={success}, {} processes",
        root.pid,
        cg.rel(),
        processes.len()
    );
    Ok(HaltReport {
        op: HaltOp::Stop,
        root,
        processes,
        frozen_after_us,
        gone_after_us,
        success,
        method: HaltMethod::Cgroup,
        unit: Some(told),
    })
}

/// Track every process in the group not seen yet.
fn add_new(
    ops: &dyn ProcessOps,
    cg: &Cgroup,
    seen: &mut Vec<Seen>,
    frozen_at: Option<u64>,
) -> Result<(), CgroupError> {
    for pid in cg.procs()? {
        let Some(info) = ops.info(pid) else { continue };
        if seen.iter().any(|p| p.key == info.key) {
            continue;
        }
        seen.push(Seen {
            key: info.key,
            comm: info.comm,
            termed: false,
            error: None,
            fate: None,
            frozen_at,
            gone_at: None,
        });
    }
    Ok(())
}

/// Give every process found gone (or a zombie) since the last look its fate.
fn mark_gone(
    ops: &dyn ProcessOps,
    seen: &mut [Seen],
    now_us: u64,
    fate: impl Fn(&Seen) -> ProcessFate,
) {
    for p in seen.iter_mut().filter(|p| p.gone_at.is_none()) {
        if matches!(ops.probe(p.key), None | Some(ProcState::Zombie)) {
            p.fate = Some(fate(p));
            p.gone_at = Some(now_us);
        }
    }
}
