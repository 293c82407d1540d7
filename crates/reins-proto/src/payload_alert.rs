//! Bodies of the alert kinds (protocol §7, `alert` and `alert_cleared`):
//! what the phone sees when Reins froze an agent on its own (a respawn held
//! by the stop latch, a tripwire, a stop word).
//!
//! A projection for the phone, like `AgentSummary`, not the daemon's own
//! alert type: ids are strings or plain numbers and the supervisor is a line
//! of text. Only shapes; the daemon's phone bridge builds them.

use serde::{Deserialize, Serialize};

/// Why the alert was raised, with the fields a phone may show. A phone that
/// does not know a `kind` still shows the alert's `message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertReason {
    /// A stopped agent came back and the stop latch froze the newcomer.
    RespawnHeld {
        /// The id of the agent that was stopped.
        stopped: String,
        /// What restarted it, in words ("systemd user unit x.service").
        supervisor: String,
    },
    /// A tripwire fired and the agent was paused.
    Tripwire {
        /// The rule's name, e.g. `deletions`.
        rule: String,
        /// How many matching actions were counted.
        count: u32,
        /// Over how many seconds.
        window_s: u32,
    },
    /// The person typed a stop word to the agent and it was paused.
    StopWord {
        /// The word as typed.
        word: String,
    },
    /// The desktop's audit log cannot be written (a full disk): stops and
    /// approvals still work, but are not being logged. No agent (its
    /// `agent_id` is empty) and no actions; `alert_cleared` when logging
    /// resumes.
    AuditFailing {
        /// Entries not logged so far.
        lost: u64,
        /// When the first one failed (Unix ms).
        since_ms: u64,
        /// The error, e.g. "No space left on device (os error 28)".
        error: String,
    },
}

/// What the phone may offer on an alert; each is a `command` op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertActionWire {
    /// `command` op `resume`.
    Resume,
    /// `command` op `stop` (hold to confirm, like any stop).
    Stop,
    /// `command` op `release`: end the stop latch.
    Release,
    /// `command` op `stop_supervisor`.
    StopSupervisor,
}

/// Body of `alert`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The desktop's alert number (unique while its daemon runs).
    pub alert_id: u64,
    /// Why.
    pub reason: AlertReason,
    /// The agent concerned (for a respawn, the frozen newcomer).
    pub agent_id: String,
    /// The agent's human name.
    pub display_name: String,
    /// Its project, if known.
    pub project: Option<String>,
    /// One line for a person. Agent-supplied text may be inside it (a
    /// stop word, a project name): show it as text, never as markup.
    pub message: String,
    /// What to offer, in order. A phone ignores actions it does not know.
    pub actions: Vec<AlertActionWire>,
    /// Unix seconds it was raised.
    pub raised_at: u64,
}

/// Body of `alert_cleared`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertCleared {
    /// Which alert is over.
    pub alert_id: u64,
}
