//! The stop latch, pure: after a verified stop, hold a respawn of the same
//! agent (same kind, same supervisor, same project) frozen until a person
//! releases it.
//!
//! A stop that kills a supervised agent is not a stop: a shell loop, pm2 or
//! a service manager starts it again and (OpenClaw) it resumes the work it
//! was stopped from. [`Latches`] takes inputs (a stop was verified, an agent
//! was seen, a freeze finished, a release was asked, an agent is gone) and
//! returns the [`Action`]s to perform (freeze, resume, raise or clear an
//! alert, write an audit entry). It does no I/O, reads no clock (times are
//! inputs) and knows nothing about how newcomers are found: the latch task
//! (`latch_task.rs`) watches the supervisors and the registry and performs
//! the actions. Latches live in memory; a daemon restart ends them.

use crate::ipc::proto::ReleaseOutcome;
use reins_core::{AgentId, Supervisor};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::PathBuf;

/// One active latch, as `reins status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatchInfo {
    /// The agent that was stopped.
    pub stopped: AgentId,
    /// Its human name.
    pub display_name: String,
    /// What would restart it (from detection, else its parent process).
    pub supervisor: Supervisor,
    /// Its project, when known: a respawn must have the same.
    pub project: Option<String>,
    /// Its working directory, compared when no project is known.
    pub cwd: Option<PathBuf>,
    /// Unix seconds of the stop request: only agents started since count as respawns.
    pub since: u64,
    /// Respawns held frozen now.
    #[serde(default)]
    pub held: Vec<AgentId>,
}

/// An agent seen while latches are active.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Its id (kind and root process).
    pub id: AgentId,
    /// What started it.
    pub supervisor: Supervisor,
    /// Its project.
    pub project: Option<String>,
    /// Its working directory.
    pub cwd: Option<PathBuf>,
    /// Unix seconds it started.
    pub started_at: u64,
    /// Started by a person as a job of an interactive shell: its parent is
    /// a plain process (not a unit, container or pm2) and it leads a process
    /// group of its own, which only job control gives it (see
    /// [`is_own_job`]). A shell loop, nodemon or a script keeps its children
    /// in its own group, so their respawns are held; a person re-running
    /// the agent from their terminal after a stop is not.
    pub own_job: bool,
}

/// Whether a process started under `supervisor` is a job a person started
/// from an interactive shell: a `Parent` supervisor whose child leads its
/// own process group (`pgid == pid`), different from the parent's group.
pub fn is_own_job(supervisor: &Supervisor, pid: u32, pgid: u32, parent_pgid: Option<u32>) -> bool {
    matches!(supervisor, Supervisor::Parent { .. }) && pgid == pid && parent_pgid != Some(pgid)
}

/// What the I/O side must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Freeze this newcomer's whole tree (the pause engine), then report
    /// with [`Latches::frozen`].
    Freeze {
        /// The respawn.
        agent: AgentId,
        /// The latch (stopped agent) that holds it.
        latch: AgentId,
    },
    /// Tell every surface and the audit log that a respawn is held (or
    /// could not be frozen).
    Held {
        /// The respawn.
        agent: AgentId,
        /// The latch as it is now.
        latch: LatchInfo,
        /// False when the freeze failed: the respawn runs.
        frozen: bool,
    },
    /// Resume (SIGCONT) this held respawn's tree.
    Resume {
        /// The respawn.
        agent: AgentId,
    },
    /// Clear the alerts about this agent.
    ClearAlert {
        /// The respawn.
        agent: AgentId,
    },
    /// Audit: this latch ended.
    Released {
        /// The latch as it was.
        latch: LatchInfo,
    },
}

/// Why a release found nothing to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReleaseError {
    /// The target is neither `all` nor an agent id.
    #[error("'{0}' is not an agent id; give the id `reins status` lists under latches, or `all`")]
    BadTarget(String),
    /// No latch names that agent.
    #[error("no stop latch holds '{target}'. {hint}")]
    NoSuchLatch {
        /// The target as given.
        target: String,
        /// The active latches, for the person.
        hint: String,
    },
}

/// What the recheck after a stop found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum RecheckVerdict {
    /// Nothing like the stopped agent runs.
    StillGone,
    /// It came back and the latch holds it frozen.
    RespawnedHeld {
        /// The frozen respawn(s).
        held: Vec<AgentId>,
        /// What restarted it.
        supervisor: Supervisor,
    },
    /// It came back and runs (the latch was released, or the freeze failed).
    Respawned {
        /// The running respawn(s).
        running: Vec<AgentId>,
        /// What restarted it.
        supervisor: Supervisor,
    },
}

/// The follow-up of a stop, published `recheck_after_s` after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRecheck {
    /// The agent that was stopped.
    pub stopped: AgentId,
    /// Its human name (the agent is gone: the registry no longer knows it).
    #[serde(default)]
    pub display_name: String,
    /// Its project, if known.
    #[serde(default)]
    pub project: Option<String>,
    /// Seconds between the stop and this check.
    pub after_s: u64,
    /// What was found.
    #[serde(flatten)]
    pub verdict: RecheckVerdict,
}

/// Same supervisor: the same process (by pid), unit, container or pm2.
pub fn same_supervisor(a: &Supervisor, b: &Supervisor) -> bool {
    match (a, b) {
        (Supervisor::Parent { pid: x, .. }, Supervisor::Parent { pid: y, .. }) => x == y,
        (
            Supervisor::SystemdUnit {
                unit: u1,
                scope: s1,
                ..
            },
            Supervisor::SystemdUnit {
                unit: u2,
                scope: s2,
                ..
            },
        ) => u1 == u2 && s1 == s2,
        (Supervisor::Container { id: x, .. }, Supervisor::Container { id: y, .. }) => x == y,
        (Supervisor::Pm2 { pid: x }, Supervisor::Pm2 { pid: y }) => x == y,
        _ => false,
    }
}

/// Start times in Unix seconds come from boot ticks and the boot time, each
/// rounded to the second, so a respawn that started within a second of the
/// stop request can read as a second earlier; pm2 or a tight loop restarts
/// that fast. The stopped agent's own start (exact, in ticks) still bounds
/// it from below.
const SINCE_SLACK_S: u64 = 1;

/// Whether `c` is a respawn of what `latch` stopped: same kind, same
/// supervisor, same project (else same cwd), started since the stop (to
/// [`SINCE_SLACK_S`]) and after the stopped agent, and not a job a person
/// started from their shell ([`Candidate::own_job`]).
pub fn is_respawn(latch: &LatchInfo, c: &Candidate) -> bool {
    let same_place = match (&latch.project, &c.project) {
        (Some(a), Some(b)) => a == b,
        _ => latch.cwd == c.cwd,
    };
    c.id != latch.stopped
        && c.id.kind == latch.stopped.kind
        && same_supervisor(&latch.supervisor, &c.supervisor)
        && same_place
        && c.started_at + SINCE_SLACK_S >= latch.since
        && c.id.root.start_ticks > latch.stopped.root.start_ticks
        && !c.own_job
}

/// What the recheck after a stop reports, from the latch (if still active)
/// and the agents running now.
pub fn recheck(latch: &LatchInfo, active: Option<&LatchInfo>, now: &[Candidate]) -> RecheckVerdict {
    let held: Vec<AgentId> = active.map(|l| l.held.clone()).unwrap_or_default();
    let running: Vec<AgentId> = now
        .iter()
        .filter(|c| is_respawn(latch, c) && !held.contains(&c.id))
        .map(|c| c.id.clone())
        .collect();
    let supervisor = latch.supervisor.clone();
    if !running.is_empty() {
        RecheckVerdict::Respawned {
            running,
            supervisor,
        }
    } else if !held.is_empty() {
        RecheckVerdict::RespawnedHeld { held, supervisor }
    } else {
        RecheckVerdict::StillGone
    }
}

/// The active latches.
#[derive(Debug, Default)]
pub struct Latches {
    active: Vec<LatchInfo>,
    /// Respawns being frozen now (freeze asked, not yet reported).
    freezing: HashSet<AgentId>,
    /// Agents never to hold again: resumed by a person, or a failed freeze.
    let_go: HashSet<AgentId>,
}

impl Latches {
    /// The active latches, oldest first.
    pub fn list(&self) -> &[LatchInfo] {
        &self.active
    }

    /// True while any latch is active (the supervisors must be watched).
    pub fn any(&self) -> bool {
        !self.active.is_empty()
    }

    /// The latch that stopped `id`, if active.
    pub fn get(&self, stopped: &AgentId) -> Option<&LatchInfo> {
        self.active.iter().find(|l| &l.stopped == stopped)
    }

    /// A stop was verified: latch it. Stopping a held respawn ends its hold
    /// (the latch stays); a second stop of the same agent under the same
    /// supervisor and project adds no second latch.
    pub fn stopped(&mut self, latch: LatchInfo) -> Vec<Action> {
        let actions = self.forget_held(&latch.stopped);
        let duplicate = self.active.iter().any(|l| {
            l.stopped.kind == latch.stopped.kind
                && same_supervisor(&l.supervisor, &latch.supervisor)
                && l.project == latch.project
                && l.cwd == latch.cwd
        });
        if !duplicate && actions.is_empty() {
            self.active.push(latch);
        }
        actions
    }

    /// An agent was seen (by the supervisor watch or a scan). A respawn of a
    /// latched agent is frozen at once.
    pub fn seen(&mut self, c: &Candidate) -> Vec<Action> {
        if self.freezing.contains(&c.id) || self.let_go.contains(&c.id) {
            return Vec::new();
        }
        let Some(latch) = self
            .active
            .iter()
            .find(|l| !l.held.contains(&c.id) && is_respawn(l, c))
        else {
            return Vec::new();
        };
        if self.active.iter().any(|l| l.held.contains(&c.id)) {
            return Vec::new();
        }
        self.freezing.insert(c.id.clone());
        vec![Action::Freeze {
            agent: c.id.clone(),
            latch: latch.stopped.clone(),
        }]
    }

    /// A freeze asked by [`Action::Freeze`] finished.
    pub fn frozen(&mut self, agent: &AgentId, latch: &AgentId, ok: bool) -> Vec<Action> {
        self.freezing.remove(agent);
        let Some(l) = self.active.iter_mut().find(|l| &l.stopped == latch) else {
            // Released meanwhile: let it run.
            return if ok {
                vec![Action::Resume {
                    agent: agent.clone(),
                }]
            } else {
                Vec::new()
            };
        };
        if ok {
            l.held.push(agent.clone());
        } else {
            self.let_go.insert(agent.clone());
        }
        vec![Action::Held {
            agent: agent.clone(),
            latch: l.clone(),
            frozen: ok,
        }]
    }

    /// An agent exited (or a person stopped it): it is no longer held.
    pub fn gone(&mut self, agent: &AgentId) -> Vec<Action> {
        self.let_go.remove(agent);
        self.forget_held(agent)
    }

    /// A person resumed an agent: if it was held, it is let go (the latch
    /// stays for any later respawn).
    pub fn resumed(&mut self, agent: &AgentId) -> Vec<Action> {
        let actions = self.forget_held(agent);
        if !actions.is_empty() {
            self.let_go.insert(agent.clone());
        }
        actions
    }

    fn forget_held(&mut self, agent: &AgentId) -> Vec<Action> {
        let mut found = false;
        for l in &mut self.active {
            let before = l.held.len();
            l.held.retain(|h| h != agent);
            found |= l.held.len() != before;
        }
        if found {
            vec![Action::ClearAlert {
                agent: agent.clone(),
            }]
        } else {
            Vec::new()
        }
    }

    /// End the latches `target` names (`all`, a stopped agent's id or a held
    /// respawn's id) and resume what they hold.
    pub fn release(&mut self, target: &str) -> Result<(ReleaseOutcome, Vec<Action>), ReleaseError> {
        let pick: Box<dyn Fn(&LatchInfo) -> bool> = if target == "all" {
            Box::new(|_| true)
        } else {
            let id: AgentId = target
                .parse()
                .map_err(|_| ReleaseError::BadTarget(target.to_owned()))?;
            Box::new(move |l: &LatchInfo| l.stopped == id || l.held.contains(&id))
        };
        let (ended, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.active)
            .into_iter()
            .partition(|l| pick(l));
        self.active = kept;
        if ended.is_empty() && target != "all" {
            let hint = if self.active.is_empty() {
                "No stop latch is active.".to_owned()
            } else {
                let ids: Vec<String> = self.active.iter().map(|l| l.stopped.to_string()).collect();
                format!("Active latches: {}", ids.join(", "))
            };
            return Err(ReleaseError::NoSuchLatch {
                target: target.to_owned(),
                hint,
            });
        }
        let mut outcome = ReleaseOutcome {
            released: Vec::new(),
            resumed: Vec::new(),
        };
        let mut actions = Vec::new();
        for l in ended {
            for h in &l.held {
                actions.push(Action::Resume { agent: h.clone() });
                actions.push(Action::ClearAlert { agent: h.clone() });
                outcome.resumed.push(h.clone());
            }
            outcome.released.push(l.stopped.clone());
            actions.push(Action::Released { latch: l });
        }
        Ok((outcome, actions))
    }
}

#[cfg(test)]
#[path = "latch_tests.rs"]
mod tests;
