//! The gateway's JSON frames and the payloads Reins reads from them.
//! Pure: text in, typed values out, and the reverse. Unknown fields are
//! ignored (OpenClaw adds fields often); a frame missing what Reins needs is
//! an error, never a guess.
//!
//! Shapes checked against OpenClaw 2026.9.6 (its `dist/` bundle and frames
//! captured from a running gateway): `connect` params, `hello-ok`,
//! `exec.approval.requested` / `plugin.approval.requested` payloads, the
//! bare-array `*.approval.list` replies, `*.approval.resolved`,
//! `approval.resolve`'s `{applied, approval}` and `sessions.abort`.
//! Sizes are bounded: a frame with a field past its bound is an error (the
//! approval is not shown, so OpenClaw's own timeout denies it).
//!
//! Not here: what to do with a frame (see [`crate::machine`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

mod parse;
pub use parse::*;

/// Which approval queue an approval belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// `exec.approval.*`: a shell command the agent wants to run.
    Exec,
    /// `plugin.approval.*`: a plugin's `requireApproval` (e.g. Reins' own
    /// plugin gating a tool call).
    Plugin,
}

/// A decision as OpenClaw spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GatewayDecision {
    /// `allow-once`.
    #[serde(rename = "allow-once")]
    AllowOnce,
    /// `allow-always` (stores an allowlist entry in OpenClaw; Reins never sends it).
    #[serde(rename = "allow-always")]
    AllowAlways,
    /// `deny`.
    #[serde(rename = "deny")]
    Deny,
}

impl GatewayDecision {
    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayDecision::AllowOnce => "allow-once",
            GatewayDecision::AllowAlways => "allow-always",
            GatewayDecision::Deny => "deny",
        }
    }
}

/// One pending approval, as Reins shows it. Built from
/// `exec.approval.requested` / `plugin.approval.requested` payloads and from
/// the `*.approval.list` replies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatewayApproval {
    /// Exec or plugin.
    pub kind: ApprovalKind,
    /// OpenClaw's approval id (opaque text).
    pub id: String,
    /// The tool: `exec` for exec approvals, the plugin request's `toolName`.
    pub tool_name: String,
    /// The FULL command text a person must see (exec: `systemRunPlan.commandText`,
    /// else `command`; plugin: none unless the request carries one).
    pub command: Option<String>,
    /// The argv, when the request carries one.
    pub argv: Option<Vec<String>>,
    /// The working directory.
    pub cwd: Option<String>,
    /// OpenClaw's agent id (e.g. `main`).
    pub agent_id: Option<String>,
    /// OpenClaw's session key.
    pub session_key: Option<String>,
    /// Exec host: `gateway`, `node` or `sandbox`.
    pub host: Option<String>,
    /// Plugin approvals: title (≤ 80 chars in OpenClaw).
    pub title: Option<String>,
    /// Plugin approvals: description.
    pub description: Option<String>,
    /// `info`, `warning` or `critical` (plugin approvals).
    pub severity: Option<String>,
    /// Plugin approvals: the plugin that asked.
    pub plugin_id: Option<String>,
    /// OpenClaw's own warning text for the command, if any.
    pub warning: Option<String>,
    /// The decisions OpenClaw will accept; empty means its default set.
    pub allowed_decisions: Vec<GatewayDecision>,
    /// Unix ms.
    pub created_at_ms: u64,
    /// Unix ms after which OpenClaw itself times it out.
    pub expires_at_ms: u64,
}

/// `*.approval.resolved`: the approval is over (someone decided, it timed
/// out, or its run was aborted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResolvedApproval {
    /// Exec or plugin.
    pub kind: ApprovalKind,
    /// OpenClaw's approval id.
    pub id: String,
    /// The decision, if there was one (`None`: timed out or cancelled).
    pub decision: Option<GatewayDecision>,
    /// Who resolved it, as OpenClaw says (a client or device name), if it says.
    pub resolved_by: Option<String>,
}

/// What `sessions.abort` answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbortOutcome {
    /// True when a run was aborted; false for `no-active-run`.
    pub aborted: bool,
    /// The aborted run's id, if any.
    pub run_id: Option<String>,
    /// OpenClaw's status word (`aborted`, `no-active-run`).
    pub status: String,
}
