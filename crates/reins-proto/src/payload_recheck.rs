//! Body of `stop_rechecked` (protocol §7): whether a stopped agent was still
//! gone `[halt] recheck_after_s` seconds after its verified stop, or came
//! back (held frozen by the stop latch, or running).
//!
//! A projection for the phone, like [`crate::payload::Alert`], not the
//! daemon's `StopRecheck`: the agent id is a string and the supervisor a
//! line of text. Only shapes; the daemon's phone bridge builds them.

use serde::{Deserialize, Serialize};

/// What the recheck found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecheckVerdictWire {
    /// Nothing like the stopped agent runs.
    StillGone,
    /// It came back and the stop latch holds it frozen (an `alert` of kind
    /// `respawn_held` says what to do about it).
    RespawnedHeld,
    /// It came back and runs (the latch was released, or the freeze failed).
    Respawned,
}

/// Body of `stop_rechecked`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRechecked {
    /// The id of the agent that was stopped.
    pub agent_id: String,
    /// Its human name.
    pub display_name: String,
    /// Its project, if known.
    pub project: Option<String>,
    /// Seconds between the stop and the check.
    pub after_s: u64,
    /// What was found.
    pub verdict: RecheckVerdictWire,
    /// What restarted it, in words ("systemd user unit x.service"); `null`
    /// with `still_gone`. May hold agent-controlled text: show it as text.
    pub supervisor: Option<String>,
}
