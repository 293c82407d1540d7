//! Alerts: things Reins did on its own that a person must hear about at once
//! and may want to undo or finish, on every surface (tray notification,
//! window, terminal, phone).
//!
//! Three producers raise them: the stop latch (a supervisor respawned a
//! stopped agent and Reins froze the newcomer), tripwires (a runaway agent
//! was paused) and stop words (the person typed "stop" to the agent and Reins
//! froze it). Each alert offers the actions that make sense for it. This
//! module is data only; the runtime's `alerts` task keeps the active ones.

use crate::agent::AgentId;
use crate::supervisor::Supervisor;
use serde::{Deserialize, Serialize};

/// A daemon-local alert number, unique for the daemon's lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertId(pub u64);

impl std::fmt::Display for AlertId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why the alert was raised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertKind {
    /// A stopped agent came back (respawned by its supervisor) and the stop
    /// latch froze the newcomer.
    RespawnHeld {
        /// The agent that was stopped.
        stopped: AgentId,
        /// What restarted it.
        supervisor: Supervisor,
    },
    /// A tripwire fired and the agent's tree was paused.
    Tripwire {
        /// The rule's name, e.g. `deletions`.
        rule: String,
        /// How many matching actions were counted.
        count: u32,
        /// Over how many seconds.
        window_s: u32,
    },
    /// The person sent the agent a stop word and the agent's tree was paused.
    StopWord {
        /// The word as typed (already checked to be a short stop word).
        word: String,
    },
}

/// What a person can do about an alert. Each maps to an existing operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// Resume the frozen agent (`reins resume`).
    Resume,
    /// Stop the agent (`reins stop`).
    Stop,
    /// End the stop latch and let the respawn run (`reins release`).
    Release,
    /// Stop the supervisor too (the systemd unit, pm2 app or parent loop).
    StopSupervisor,
}

/// One alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique id.
    pub id: AlertId,
    /// Why.
    pub kind: AlertKind,
    /// The agent concerned (for a respawn, the frozen newcomer).
    pub agent: AgentId,
    /// The agent's human name, e.g. `Claude Code`.
    pub display_name: String,
    /// The agent's project, if known.
    pub project: Option<String>,
    /// One line for a person, e.g. "Tripwire: claude · inbox-cleaner paused
    /// after 5 deletions in 40 s". Built by the producer; surfaces show it as
    /// text (never markup).
    pub message: String,
    /// What the person may do, in the order to offer it.
    pub actions: Vec<AlertAction>,
    /// Unix time (seconds) it was raised.
    pub raised_at: u64,
}
