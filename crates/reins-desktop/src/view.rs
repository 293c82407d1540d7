//! The types the window receives from and sends to the tray shell's
//! commands, exported to `ui/src/bindings/` with ts-rs.
//!
//! They are views, flattened for display: ids and hashes as strings, times
//! as Unix milliseconds, enums as snake_case strings. They carry no logic;
//! building them from daemon types lives next to the code that does it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How the window's connection to the daemon stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DaemonConn {
    /// Subscribed and up to date.
    Connected,
    /// Starting the daemon or reconnecting to it.
    Connecting,
    /// Could not reach or start the daemon; `DesktopState.daemon_error` says why.
    Unavailable,
}

/// An agent's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AgentStateView {
    /// Running.
    Running,
    /// Frozen by a pause.
    Paused,
    /// A stop is in progress.
    Stopping,
    /// Gone.
    Exited,
}

/// One agent, as the tray and the window list it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AgentView {
    /// The agent id (`<kind>-<pid>-<start>`), the target of halt commands.
    pub id: String,
    /// The kind's slug, e.g. `claude`.
    pub kind: String,
    /// The kind's display name, e.g. `Claude Code`.
    pub name: String,
    /// The project (last part of the cwd, or the git root's name).
    pub project: Option<String>,
    /// The working directory.
    pub cwd: Option<String>,
    /// The root PID.
    pub pid: u32,
    /// Its state.
    pub state: AgentStateView,
    /// Unix ms at which the root process started.
    #[ts(type = "number")]
    pub started_at_ms: u64,
    /// CPU use of the whole tree, percent of one core.
    pub cpu_percent: f32,
    /// Resident memory of the whole tree.
    #[ts(type = "number")]
    pub memory_bytes: u64,
    /// Processes in the tree, the root included.
    pub processes: u32,
}

/// How risky a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RiskView {
    /// Ordinary.
    Normal,
    /// High: approving needs a deliberate confirmation.
    High,
}

/// One pending approval request, with everything the person must see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ApprovalView {
    /// The request id (hex).
    pub request_id: String,
    /// The hash of the exact action shown; a decision must carry it back.
    pub action_hash: String,
    /// The agent id, when the hook was tied to a detected agent.
    pub agent_id: Option<String>,
    /// The agent's display name.
    pub agent_name: String,
    /// The tool, e.g. `Bash`.
    pub tool: String,
    /// The exact command, for shell tools.
    pub command: Option<String>,
    /// The working directory.
    pub cwd: Option<String>,
    /// The exact action text the hash covers (tool input for non-shell tools).
    pub action: String,
    /// Its risk.
    pub risk: RiskView,
    /// Why it is risky or why a person is asked (the matched rule).
    pub reason: Option<String>,
    /// True when "Approve for session" means more than Approve (the
    /// request has a session, and is not an OpenClaw approval, which has
    /// no such answer).
    pub allow_session: bool,
    /// The agent's session id (an OpenClaw session key), if any.
    pub session: Option<String>,
    /// Unix ms.
    #[ts(type = "number")]
    pub created_at_ms: u64,
    /// Unix ms after which it is no longer answerable.
    #[ts(type = "number")]
    pub expires_at_ms: u64,
}

/// A surface that can show a prompt right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SurfaceView {
    /// `tray`, `window`, `terminal`, `notifications` or `phone`.
    pub kind: String,
    /// What it is, e.g. "dunst 1.9.0" or a phone's name.
    pub detail: String,
}

/// The phone link, summed up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LinkView {
    /// `disabled`, `failed`, `connecting`, `connected`, `backing_off` or `stopped`.
    pub state: String,
    /// The broker URL, if any.
    pub broker: Option<String>,
    /// Paired devices.
    pub devices: u32,
    /// The phone app's URL, if served.
    pub app_url: Option<String>,
    /// The last error, if any.
    pub last_error: Option<String>,
}

/// Everything the window shows live. The shell emits the whole state as the
/// `reins://state` event on every change (it is small), so the window never
/// merges deltas.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DesktopState {
    /// The daemon connection.
    pub daemon: DaemonConn,
    /// Why the daemon is unavailable, when it is.
    pub daemon_error: Option<String>,
    /// Every agent.
    pub agents: Vec<AgentView>,
    /// Pending approvals, oldest first.
    pub pending: Vec<ApprovalView>,
    /// Live surfaces.
    pub surfaces: Vec<SurfaceView>,
    /// Why a surface is missing, e.g. "no notification server".
    pub surface_notes: Vec<String>,
    /// The phone link, when known.
    pub link: Option<LinkView>,
    /// Active alerts (Reins froze an agent on its own), oldest first.
    pub alerts: Vec<AlertView>,
    /// The audit log cannot be written: the daemon's line for people
    /// (error, entries not logged since when, free space); `null` when it can.
    #[serde(default)]
    pub audit_problem: Option<String>,
}

/// What a person may do about an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AlertActionView {
    /// Resume the frozen agent.
    Resume,
    /// Stop it (needs a deliberate confirmation in the window).
    Stop,
    /// End the stop latch and let the respawn run.
    Release,
    /// Stop what restarts it too.
    StopSupervisor,
}

/// One alert: Reins froze an agent on its own (a stop word, a tripwire, a
/// respawn held by the stop latch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlertView {
    /// The alert's number.
    #[ts(type = "number")]
    pub id: u64,
    /// `stop_word`, `tripwire` or `respawn_held`.
    pub kind: String,
    /// The agent id, the target of the actions.
    pub agent_id: String,
    /// The agent's display name.
    pub agent_name: String,
    /// Its project.
    pub project: Option<String>,
    /// One line from the daemon; may hold agent-supplied text: show as text.
    pub message: String,
    /// What to offer, in order.
    pub actions: Vec<AlertActionView>,
    /// Unix ms it was raised.
    #[ts(type = "number")]
    pub raised_at_ms: u64,
}

/// A halt operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HaltOpView {
    /// Freeze, then kill the whole tree.
    Stop,
    /// Freeze the whole tree.
    Pause,
    /// Thaw a paused tree.
    Resume,
}

/// The verified outcome of one halt target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HaltTargetView {
    /// The agent id, or the PID for a forced target.
    pub target: String,
    /// Verified.
    pub success: bool,
    /// For people: "stopped: 12 processes gone" or what failed.
    pub detail: String,
}

/// The outcome of a halt command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HaltResultView {
    /// Which operation.
    pub op: HaltOpView,
    /// True when every target's outcome was verified.
    pub success: bool,
    /// One line for people.
    pub summary: String,
    /// Per target.
    pub targets: Vec<HaltTargetView>,
}

/// One OpenClaw session's answer to a soft stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SoftStopRunView {
    /// OpenClaw's session key, e.g. `agent:main:main` (cleaned to one line).
    pub session_key: String,
    /// OpenClaw aborted a run there.
    pub aborted: bool,
    /// The gateway answered (false: it could not be asked, or refused).
    pub ok: bool,
    /// For people: "aborted the run", "no run was active" or the error.
    pub detail: String,
}

/// The outcome of "Stop this run" on an OpenClaw agent: the runs OpenClaw
/// was asked to abort. Not a halt: the gateway stays up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SoftStopView {
    /// The agent id.
    pub target: String,
    /// True when every session's abort was answered.
    pub success: bool,
    /// One line for people, e.g. "Aborted the run in agent:main:main".
    pub summary: String,
    /// Per session that had an active run.
    pub runs: Vec<SoftStopRunView>,
}

/// A person's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DecisionView {
    /// Approve this once.
    Approve,
    /// Approve this and the same for the rest of the session.
    ApproveSession,
    /// Deny.
    Deny,
}

/// A QR code as modules, drawn by the window on a canvas (no markup).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct QrView {
    /// Modules per side.
    pub width: u32,
    /// `width * width` characters, row by row: `1` dark, `0` light.
    pub modules: String,
}

/// A pairing offer to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PairOfferView {
    /// Pass to `pair_next` and `pair_answer`.
    pub session: String,
    /// The pairing URL (its fragment holds a one-time secret).
    pub url: String,
    /// The URL as a QR code.
    pub qr: QrView,
    /// Unix ms at which the offer dies.
    #[ts(type = "number")]
    pub expires_at_ms: u64,
}

/// The next step of a pairing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "step", rename_all = "snake_case")]
#[ts(export)]
pub enum PairStepView {
    /// A phone answered: the person compares this code with the phone's.
    Code {
        /// The name the phone claims.
        device_name: String,
        /// Six digits.
        code: String,
    },
    /// A second device tried the same QR code.
    AnotherDeviceTried,
    /// Paired.
    Paired {
        /// The new device.
        device: DeviceView,
    },
    /// Failed or expired; says what to do.
    Failed {
        /// For people.
        message: String,
    },
}

/// A paired phone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DeviceView {
    /// Opaque id (hex).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Unix ms of pairing.
    #[ts(type = "number")]
    pub paired_at_ms: u64,
    /// Unix ms of the last message from it since the daemon started.
    #[ts(type = "number | null")]
    pub last_seen_ms: Option<u64>,
    /// Online now (presence and recent messages).
    pub online: bool,
}

/// Which audit records to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuditFilter {
    /// Substring of actor, action, target, outcome or detail (case-insensitive).
    pub text: Option<String>,
    /// Only this action, as the log spells it: `stop`, `pause`, `resume`, `refused`,
    /// `approval_requested`, `approval_resolved`, `device_paired`, `device_renamed`,
    /// `device_revoked`, `daemon_started` or `daemon_stopped`.
    pub action: Option<String>,
    /// At most this many, newest first (default 200).
    pub limit: Option<u32>,
}

/// One audit record, flattened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuditRow {
    /// Its sequence number (1-based line in the file).
    #[ts(type = "number")]
    pub seq: u64,
    /// Unix ms.
    #[ts(type = "number")]
    pub ts_ms: u64,
    /// Who: `cli(pid 42)`, `tray`, `phone(ab12…)`, `daemon`.
    pub actor: String,
    /// What, e.g. `stop` or `approval_resolved`.
    pub action: String,
    /// On what.
    pub target: String,
    /// How it ended.
    pub outcome: String,
    /// Extra detail as compact JSON, or empty.
    pub detail: String,
}

/// The result of verifying the audit chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VerifyView {
    /// True when every record chains to the one before.
    pub ok: bool,
    /// Records checked.
    #[ts(type = "number")]
    pub records: u64,
    /// The first broken record's line, when not ok.
    #[ts(type = "number | null")]
    pub first_broken_line: Option<u64>,
    /// What is wrong there, for people.
    pub message: String,
}

/// What the Settings screen edits. Saved all at once or not at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SettingsView {
    /// The phone link on or off.
    pub link_enabled: bool,
    /// The broker: `embedded`, or an `mqtt://`, `mqtts://`, `ws://`, `wss://` URL.
    pub broker: String,
    /// The policy file's path (read-only here: edit the file itself).
    pub policy_file: String,
    /// Seconds a person has to answer a prompt (1 to 3600).
    pub approval_timeout_secs: u32,
    /// What happens when nobody answers: `abstain` or `deny` (never allow).
    pub on_timeout: String,
    /// Milliseconds between SIGTERM and SIGKILL on a stop.
    pub stop_grace_ms: u32,
    /// Start the tray at login.
    pub start_at_login: bool,
}

/// The field a settings error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SettingsField {
    /// `broker`.
    Broker,
    /// `approval_timeout_secs`.
    ApprovalTimeoutSecs,
    /// `on_timeout`.
    OnTimeout,
    /// `stop_grace_ms`.
    StopGraceMs,
    /// `start_at_login`.
    StartAtLogin,
    /// Writing the files.
    Files,
}

/// Why a setting was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SettingsError {
    /// Which field.
    pub field: SettingsField,
    /// Why, and what to enter instead.
    pub message: String,
}

/// The error every window command returns on failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UiError {
    /// For people: what happened and what to do next.
    pub message: String,
    /// Per-field errors from `save_settings`; empty otherwise.
    pub fields: Vec<SettingsError>,
}

/// Where the window should go, when a notification or the tray asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "view", rename_all = "snake_case")]
#[ts(export)]
pub enum OpenViewView {
    /// The approvals screen, focused on one request.
    Approval {
        /// Which.
        request_id: String,
    },
    /// The agents screen.
    Agents,
    /// The devices screen with a new pairing offer.
    Pair,
}
