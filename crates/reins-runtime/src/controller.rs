//! The halt controller: resolves a target (`all`, an agent id, a PID) against
//! the detected agents, runs the halt engine on every tree in parallel, and
//! turns the result into audit entries.
//!
//! It is shared by the daemon and by the CLI's no-daemon mode, so both apply
//! the same safety rules: only detected agents are halted unless `--force`,
//! and a resume asked for from inside an agent's own tree is refused. It is
//! blocking code (threads, not tasks); the daemon calls it from a blocking
//! thread. It does not scan for agents itself.
//!
//! An agent whose supervisor is a systemd unit is stopped through the unit
//! ([`execute_with`] and [`Units`]: cgroup freeze and kill where allowed,
//! `StopUnit` so `Restart=` does not bring it back); every other agent, and
//! every pause and resume, by the halt engine's tree walk.

use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::ipc::proto::TargetReport;
use reins_core::{Actor, AgentId, AgentRecord, HaltOp, HaltOptions, ProcessKey, Supervisor};
use reins_os::cgroup::CgroupFs;
use reins_os::{NoUnitManager, ProcessOps, UnitManager, UnitTarget};
use std::str::FromStr;
use std::sync::Arc;

/// What a halt request names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every detected agent.
    All,
    /// One agent by id.
    Id(AgentId),
    /// A PID: an agent's root PID, or any PID with `--force`.
    Pid(u32),
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "all" {
            return Ok(Target::All);
        }
        if let Ok(pid) = s.parse::<u32>() {
            return Ok(Target::Pid(pid));
        }
        s.parse::<AgentId>()
            .map(Target::Id)
            .map_err(|e| e.to_string())
    }
}

/// One tree to halt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The agent, unless this is a forced non-agent PID.
    pub agent: Option<AgentId>,
    /// The root of the tree.
    pub root: ProcessKey,
}

/// Why a target could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No agent has that id or root PID.
    #[error("no running agent matches '{target}'. {}", list_hint(.agents))]
    NoSuchAgent {
        /// The target as given.
        target: String,
        /// The agents that do exist.
        agents: Vec<AgentRecord>,
    },
    /// The PID exists but is not a detected agent.
    #[error(
        "pid {pid} ({comm}) is not a detected agent; pass --force to halt its process tree anyway"
    )]
    NotAnAgent {
        /// The PID.
        pid: u32,
        /// Its command name.
        comm: String,
    },
    /// A malformed target.
    #[error("{0}")]
    BadTarget(String),
}

fn list_hint(agents: &[AgentRecord]) -> String {
    if agents.is_empty() {
        return "No agents are running.".into();
    }
    let ids: Vec<String> = agents
        .iter()
        .map(|a| format!("{} ({}, pid {})", a.id, a.display_name, a.pid))
        .collect();
    format!("Running agents: {}", ids.join(", "))
}

/// Resolve `target` against `agents`.
pub fn resolve(
    target: &str,
    agents: &[AgentRecord],
    force: bool,
    ops: &dyn ProcessOps,
) -> Result<Vec<Resolved>, ResolveError> {
    let of = |a: &AgentRecord| Resolved {
        agent: Some(a.id.clone()),
        root: a.id.root,
    };
    let none = || ResolveError::NoSuchAgent {
        target: target.to_owned(),
        agents: agents.to_vec(),
    };
    match target.parse::<Target>().map_err(ResolveError::BadTarget)? {
        Target::All => Ok(agents.iter().map(of).collect()),
        Target::Id(id) => agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| vec![of(a)])
            .ok_or_else(none),
        Target::Pid(pid) => {
            if let Some(a) = agents.iter().find(|a| a.pid == pid) {
                return Ok(vec![of(a)]);
            }
            let info = ops.info(pid).ok_or_else(none)?;
            if force {
                Ok(vec![Resolved {
                    agent: None,
                    root: info.key,
                }])
            } else {
                Err(ResolveError::NotAnAgent {
                    pid,
                    comm: info.comm,
                })
            }
        }
    }
}

/// If `pid` runs inside a detected agent's process tree, that agent.
/// Used to refuse resumes (and approvals) that an agent asks for itself.
pub fn agent_containing(pid: u32, agents: &[AgentRecord], ops: &dyn ProcessOps) -> Option<AgentId> {
    let mut cur = pid;
    // Bounded: a PID chain is never deeper than this, and a cycle cannot trap us.
    for _ in 0..4096 {
        let info = ops.info(cur)?;
        if let Some(a) = agents.iter().find(|a| a.id.root == info.key) {
            return Some(a.id.clone());
        }
        if info.ppid <= 1 || info.ppid == cur {
            return None;
        }
        cur = info.ppid;
    }
    None
}

/// True if `ancestor` is `pid` or one of its ancestors.
pub fn is_ancestor(ancestor: u32, pid: u32, ops: &dyn ProcessOps) -> bool {
    let mut cur = pid;
    // Bounded like `agent_containing`.
    for _ in 0..4096 {
        if cur == ancestor {
            return true;
        }
        match ops.info(cur) {
            Some(info) if info.ppid > 0 && info.ppid != cur => cur = info.ppid,
            _ => return false,
        }
    }
    false
}

/// Halt every resolved tree, in parallel, and return one report per tree.
pub fn execute(
    ops: &dyn ProcessOps,
    op: HaltOp,
    targets: &[Resolved],
    opts: &HaltOptions,
) -> Vec<TargetReport> {
    let one = |t: &Resolved| TargetReport {
        agent: t.agent.clone(),
        report: reins_os::halt(ops, t.root, op, opts),
    };
    if targets.len() <= 1 {
        return targets.iter().map(one).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = targets.iter().map(|t| s.spawn(move || one(t))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("halt thread panicked"))
            .collect()
    })
}

/// What a stop through a supervisor needs besides [`ProcessOps`]: the
/// cgroup2 mount and the service manager.
#[derive(Clone, Debug)]
pub struct Units {
    /// The cgroup2 mount, if there is one.
    pub cgroups: Option<CgroupFs>,
    /// systemd (or a fake).
    pub manager: Arc<dyn UnitManager>,
}

impl Units {
    /// This machine: its cgroup2 mount and systemd over D-Bus.
    pub fn system() -> Units {
        Units {
            cgroups: CgroupFs::find().ok(),
            manager: Arc::new(crate::systemd::SystemdBus::new()),
        }
    }

    /// No cgroup and no manager: supervised agents are walked, and their
    /// reports say systemd was not told.
    pub fn none() -> Units {
        Units {
            cgroups: None,
            manager: Arc::new(NoUnitManager),
        }
    }
}

/// [`execute`], with each agent's supervisor taken from `agents`: an agent
/// run by a systemd unit is stopped through it (`reins_os::halt_unit`).
pub fn execute_with(
    ops: &dyn ProcessOps,
    units: &Units,
    op: HaltOp,
    targets: &[Resolved],
    agents: &[AgentRecord],
    opts: &HaltOptions,
) -> Vec<TargetReport> {
    let supervisor = |t: &Resolved| {
        let id = t.agent.as_ref()?;
        agents.iter().find(|a| &a.id == id)?.supervisor.clone()
    };
    let one = |t: &Resolved| {
        let report = match supervisor(t) {
            Some(Supervisor::SystemdUnit {
                unit,
                scope,
                cgroup,
            }) => reins_os::halt_unit(
                ops,
                units.cgroups.as_ref(),
                &*units.manager,
                t.root,
                UnitTarget {
                    unit: &unit,
                    scope,
                    cgroup: &cgroup,
                },
                op,
                opts,
            ),
            _ => reins_os::halt(ops, t.root, op, opts),
        };
        TargetReport {
            agent: t.agent.clone(),
            report,
        }
    };
    if targets.len() <= 1 {
        return targets.iter().map(one).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = targets.iter().map(|t| s.spawn(move || one(t))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("halt thread panicked"))
            .collect()
    })
}

/// The audit entries for a finished halt: one per tree.
pub fn audit_entries(actor: &Actor, op: HaltOp, reports: &[TargetReport]) -> Vec<AuditEntry> {
    let action = match op {
        HaltOp::Stop => AuditAction::Stop,
        HaltOp::Pause => AuditAction::Pause,
        HaltOp::Resume => AuditAction::Resume,
    };
    reports
        .iter()
        .map(|t| {
            let r = &t.report;
            let failed = r.failures().count();
            let outcome = if r.success {
                AuditOutcome::Ok
            } else if failed < r.processes.len() {
                AuditOutcome::Partial
            } else {
                AuditOutcome::Failed
            };
            let latency_us = match op {
                HaltOp::Stop => r.gone_after_us,
                _ => r.frozen_after_us,
            };
            AuditEntry {
                actor: actor.clone(),
                action,
                target: t
                    .agent
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| format!("pid:{}", r.root.pid)),
                outcome,
                latency_us,
                detail: {
                    let mut d = serde_json::json!({
                        "processes": r.processes.len(),
                        "frozen_after_us": r.frozen_after_us,
                        "gone_after_us": r.gone_after_us,
                        "failures": r.failures().map(|p| p.process.pid).collect::<Vec<_>>(),
                    });
                    if r.method != reins_core::HaltMethod::Walk {
                        d["method"] = serde_json::json!(r.method);
                    }
                    if let Some(u) = &r.unit {
                        d["unit"] = serde_json::json!(u);
                    }
                    d
                },
            }
        })
        .collect()
}

/// The audit entry for a refused request.
pub fn refused_entry(actor: &Actor, target: &str, why: &str) -> AuditEntry {
    AuditEntry {
        actor: actor.clone(),
        action: AuditAction::Refused,
        target: target.to_owned(),
        outcome: AuditOutcome::Refused,
        latency_us: None,
        detail: serde_json::json!({ "reason": why }),
    }
}

#[cfg(test)]
#[path = "controller_tests.rs"]
mod tests;
