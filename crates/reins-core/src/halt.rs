//! Halt requests and their verified results.
//!
//! A halt (stop, pause, resume) acts on an agent's whole process tree. The
//! report lists every process touched, what happened to it and when, so the
//! user is told exactly what is dead. This module is data only; the signal
//! engine lives in `reins-os`.

use crate::agent::ProcessKey;
use crate::supervisor::UnitScope;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The halt operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HaltOp {
    /// Freeze, terminate, kill survivors, verify.
    Stop,
    /// SIGSTOP the whole tree.
    Pause,
    /// SIGCONT the whole tree.
    Resume,
}

impl HaltOp {
    /// The verb as the CLI spells it.
    pub fn verb(self) -> &'static str {
        match self {
            HaltOp::Stop => "stop",
            HaltOp::Pause => "pause",
            HaltOp::Resume => "resume",
        }
    }
}

/// Tunables for a halt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HaltOptions {
    /// How long SIGTERM'd processes get to exit before SIGKILL.
    pub grace: Duration,
    /// Allow signalling a PID that is not a detected agent.
    pub force: bool,
}

impl Default for HaltOptions {
    fn default() -> Self {
        Self {
            grace: DEFAULT_GRACE,
            force: false,
        }
    }
}

/// Three seconds is long enough for Node and Python agents to flush and exit
/// on SIGTERM, and short enough that a person watching does not wonder
/// whether the stop worked. The tree is frozen during none of it: it is
/// SIGCONT'd with the SIGTERM so handlers can run.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3);

/// What happened to one process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fate", rename_all = "snake_case")]
pub enum ProcessFate {
    /// Exited after SIGTERM within the grace period.
    Terminated,
    /// Needed SIGKILL.
    Killed,
    /// Was already gone (or its PID was reused) before we could signal it.
    AlreadyGone,
    /// Still alive after everything: the stop failed for this process.
    Survived,
    /// Frozen with SIGSTOP (pause).
    Paused,
    /// Continued with SIGCONT (resume).
    Resumed,
    /// Not signalled, with the reason (another user's process, PID 1, Reins itself, ...).
    Skipped {
        /// Why it was not signalled.
        reason: String,
    },
    /// A signal call failed.
    Failed {
        /// The OS error.
        error: String,
    },
}

/// One process in a halt report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessReport {
    /// Which process incarnation.
    pub process: ProcessKey,
    /// Its short command name (`comm`).
    pub comm: String,
    /// Its outcome.
    #[serde(flatten)]
    pub fate: ProcessFate,
    /// Microseconds from the request until this process was seen frozen (state T).
    pub frozen_after_us: Option<u64>,
    /// Microseconds from the request until this process was seen gone.
    pub gone_after_us: Option<u64>,
}

/// The verified result of a halt on one tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaltReport {
    /// Which operation.
    pub op: HaltOp,
    /// The tree's root.
    pub root: ProcessKey,
    /// Every process that was part of the tree, including late forks.
    pub processes: Vec<ProcessReport>,
    /// Microseconds from the request until every process was frozen.
    pub frozen_after_us: Option<u64>,
    /// Microseconds from the request until every process was verified gone (stop only).
    pub gone_after_us: Option<u64>,
    /// True only when the outcome was verified: for stop, every process is gone;
    /// for pause, every process is in state T; for resume, none is.
    pub success: bool,
    /// How the processes were found and frozen (absent in reports written
    /// before supervisors were known: those were all walks).
    #[serde(default)]
    pub method: HaltMethod,
    /// What the supervisor was told, for an agent run by a systemd unit
    /// (`None` for every other agent and for pause and resume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitStop>,
}

/// How a halt found and froze the processes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HaltMethod {
    /// The process tree, by parent PID, with SIGSTOP (the default).
    #[default]
    Walk,
    /// The agent's systemd unit's cgroup v2: `cgroup.freeze`, then
    /// `cgroup.kill`. Covers every process in the unit, including ones that
    /// double-forked out of the tree.
    Cgroup,
}

/// What happened when Reins asked systemd to stop an agent's unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitStop {
    /// The unit, e.g. `openclaw-gateway.service`.
    pub unit: String,
    /// User or system manager.
    pub scope: UnitScope,
    /// The outcome.
    #[serde(flatten)]
    pub result: UnitStopResult,
}

/// The outcome of `StopUnit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum UnitStopResult {
    /// systemd accepted the stop job, so it will not restart the unit.
    /// `active_state` is the unit's state after the processes were verified
    /// gone (`inactive`, or `failed` when a survivor of SIGTERM had to be
    /// killed; `systemctl reset-failed` clears that).
    Stopped {
        /// The unit's `ActiveState` at the end of the stop, if it could be read.
        active_state: Option<UnitActiveState>,
    },
    /// The manager could not be reached or refused: the processes were
    /// still killed, but systemd was not told, and a `Restart=` policy may
    /// start the unit again (the stop latch then holds the respawn).
    NotTold {
        /// Why, as the bus said it.
        error: String,
    },
}

impl HaltReport {
    /// Processes that the halt did not deal with (survived or failed).
    pub fn failures(&self) -> impl Iterator<Item = &ProcessReport> {
        self.processes
            .iter()
            .filter(|p| matches!(p.fate, ProcessFate::Survived | ProcessFate::Failed { .. }))
    }
}

/// A systemd unit's `ActiveState`, as the manager reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitActiveState {
    /// Running.
    Active,
    /// Reloading its configuration.
    Reloading,
    /// Stopped cleanly.
    Inactive,
    /// Stopped, and systemd counts it as a failure (`systemctl reset-failed` clears it).
    Failed,
    /// Starting.
    Activating,
    /// Stopping: systemd has sent the stop signal and will not restart it.
    Deactivating,
    /// Under maintenance (cleaning).
    Maintenance,
    /// Refreshing (newer systemd).
    Refreshing,
}

impl std::str::FromStr for UnitActiveState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "active" => Self::Active,
            "reloading" => Self::Reloading,
            "inactive" => Self::Inactive,
            "failed" => Self::Failed,
            "activating" => Self::Activating,
            "deactivating" => Self::Deactivating,
            "maintenance" => Self::Maintenance,
            "refreshing" => Self::Refreshing,
            other => return Err(format!("unknown unit ActiveState '{other}'")),
        })
    }
}

impl UnitActiveState {
    /// True once systemd is stopping or has stopped the unit: a stop job
    /// is running (or done), so the unit's `Restart=` no longer applies.
    pub fn stopping_or_stopped(self) -> bool {
        matches!(self, Self::Deactivating | Self::Inactive | Self::Failed)
    }
}
