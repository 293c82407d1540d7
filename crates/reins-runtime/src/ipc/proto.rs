//! The IPC message types: one JSON [`Request`] line, one JSON [`Response`] line.
//!
//! The schema is documented in `docs/cli.md`; `reins status --json` prints
//! the `agents` of a [`Response::Status`] as they come.

use crate::phone::{LinkSummary, PairStep};
use crate::surfaces::{SurfaceKind, SurfacesSummary};
use reins_approval::broker::{ActionHash, ApprovalRequest, RequestId};
use reins_approval::{BrokerEvent, Decision, Evaluation, HookInput, HookVerdict};
use reins_core::{Actor, AgentId, AgentRecord, HaltOp, HaltReport, ProcessKey, RegistryEvent};
pub use reins_link::DeviceInfo;
use serde::{Deserialize, Serialize};

/// The IPC protocol version, bumped on incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest request line accepted. Requests are small; this bounds what a
/// misbehaving local client can make the daemon buffer.
pub const MAX_LINE: usize = 256 * 1024;

/// A request from a client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Is the daemon there?
    Ping,
    /// List the agents.
    Status,
    /// Stop, pause or resume `target` (`all`, an agent id, or a pid).
    Halt {
        /// Which operation.
        halt: HaltOp,
        /// `all`, an agent id or a PID.
        target: String,
        /// Allow a PID that is not a detected agent.
        #[serde(default)]
        force: bool,
    },
    /// End the stop latch on `target` (an agent id or `all`): a held respawn
    /// is resumed and the agent may come back freely.
    Release {
        /// An agent id (the stopped one or its frozen respawn) or `all`.
        target: String,
    },
    /// OpenClaw only: abort the active runs of `target` through the gateway
    /// (`sessions.abort`), leaving the gateway up. Not a halt.
    SoftStop {
        /// An OpenClaw agent id, a pid, or `all`.
        target: String,
    },
    /// Stop what restarts `target` (its systemd unit, pm2 app or parent
    /// loop) and then the agent itself.
    StopSupervisor {
        /// An agent id.
        target: String,
    },
    /// A hook reports an event that needs no person (session tracking,
    /// cooperative stop check, policy-decided outcome for the audit log).
    Hook {
        /// What the hook saw.
        hook: HookReport,
    },
    /// A hook needs a person's answer. The response arrives when the request
    /// is decided, expires or is withdrawn.
    Ask {
        /// What the hook saw.
        hook: HookReport,
    },
    /// List pending approval requests.
    Approvals,
    /// The state of one approval request (pending or how it ended).
    ApprovalState {
        /// The request id.
        request_id: RequestId,
    },
    /// A person's decision on a pending request.
    Decide {
        /// The request id (hex).
        request_id: RequestId,
        /// The action hash the person was shown.
        action_hash: ActionHash,
        /// The decision.
        decision: Decision,
    },
    /// Open a pairing offer for a phone (the daemon owns the link).
    PairStart,
    /// Wait for the next step of a pairing: the code to compare, or the end.
    PairNext {
        /// The id `pair_start` returned.
        session: String,
    },
    /// The local person's answer to "does the phone show this code?".
    PairAnswer {
        /// The id `pair_start` returned.
        session: String,
        /// True only if the codes match.
        accept: bool,
    },
    /// List paired devices.
    Devices,
    /// Rename a paired device.
    RenameDevice {
        /// Its id (hex).
        id: String,
        /// The new name.
        name: String,
    },
    /// Revoke a paired device: its key is deleted and its messages dropped.
    RevokeDevice {
        /// Its id (hex).
        id: String,
    },
    /// Stream events on this connection until it closes: first a
    /// [`StreamEvent::Snapshot`], then every change. While the connection
    /// is open the client counts as a live surface of kind `surface` (a
    /// prompt waits for a person only while some surface can show it).
    /// No further requests are read on this connection.
    Subscribe {
        /// What the client is.
        surface: ClientSurface,
    },
}

/// The kind of client surface that subscribes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSurface {
    /// The tray app.
    Tray,
    /// The desktop window.
    Window,
    /// `reins approvals --watch`.
    Terminal,
    /// A client that only watches and cannot show prompts (does not count
    /// as a surface), e.g. a test or a status bar.
    Observer,
}

impl ClientSurface {
    /// The surface it makes live, if any.
    pub fn surface(self) -> Option<SurfaceKind> {
        match self {
            ClientSurface::Tray => Some(SurfaceKind::Tray),
            ClientSurface::Window => Some(SurfaceKind::Window),
            ClientSurface::Terminal => Some(SurfaceKind::Terminal),
            ClientSurface::Observer => None,
        }
    }
}

/// Which part of the window a notification asks to open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum OpenView {
    /// One approval request, for a deliberate decision (a high-risk
    /// request's Approve, or a click on a notification without actions).
    Approval {
        /// Which request.
        request_id: RequestId,
    },
    /// The agents list (a stop's result notification was clicked).
    Agents,
}

/// One event of a [`Request::Subscribe`] stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The whole state: sent first, and again after the client fell behind
    /// (events were dropped), so a client never works from a stale list.
    Snapshot {
        /// Every detected agent.
        agents: Vec<AgentRecord>,
        /// Pending approval requests, oldest first.
        pending: Vec<ApprovalRequest>,
        /// Live surfaces.
        surfaces: SurfacesSummary,
        /// Active alerts, oldest first (absent from older daemons).
        #[serde(default)]
        alerts: Vec<reins_core::Alert>,
        /// The audit log cannot be written (absent when it can, and from
        /// older daemons).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audit: Option<crate::audit_health::AuditProblem>,
    },
    /// An agent appeared, changed or exited.
    Agent {
        /// What changed.
        change: RegistryEvent,
    },
    /// An approval request appeared or was resolved.
    Approval {
        /// What changed.
        change: BrokerEvent,
    },
    /// A stop, pause or resume finished (verified), from any surface.
    Halted {
        /// Who asked.
        actor: Actor,
        /// The verified outcome.
        outcome: HaltOutcome,
    },
    /// The live surfaces changed.
    Surfaces {
        /// The list now.
        surfaces: SurfacesSummary,
    },
    /// A notification asks the window to open at `view`.
    Open {
        /// Where.
        #[serde(flatten)]
        view: OpenView,
    },
    /// Reins acted on its own (respawn held, tripwire, stop word).
    Alert {
        /// The alert, with the actions to offer.
        alert: reins_core::Alert,
    },
    /// An alert is over.
    AlertCleared {
        /// Which.
        id: reins_core::AlertId,
    },
    /// A stop's follow-up, `[halt] recheck_after_s` after it: still gone,
    /// respawned and held, or respawned and running.
    StopRechecked {
        /// What the check found.
        recheck: crate::latch::StopRecheck,
    },
    /// The audit log cannot be written (`problem`), or can again (`null`).
    Audit {
        /// The problem now.
        problem: Option<crate::audit_health::AuditProblem>,
    },
}

/// What a `reins hook` process tells the daemon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HookReport {
    /// The parsed hook input, with the exact tool input.
    pub input: HookInput,
    /// The hook's ancestors, nearest first: ties the session to an agent.
    pub ancestry: Vec<ProcessKey>,
    /// The local policy's evaluation, when there was a tool to evaluate.
    pub evaluation: Option<Evaluation>,
    /// How long a person has to answer, from the policy's `[approvals]`.
    pub timeout_ms: u64,
    /// Set for a pre-tool event that needs a person if its session runs
    /// unattended (the policy's `[guardrails]`); the daemon decides whether
    /// it does, and then holds the call. The hook then waits this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<reins_approval::guardrails::GuardrailAsk>,
}

/// Why a request failed. Stable; mapped to CLI exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request was malformed.
    BadRequest,
    /// No agent matches the target.
    NoSuchAgent,
    /// Refused by a safety rule (self-approval, another user's process).
    Refused,
    /// No pending approval request has that id.
    NoSuchRequest,
    /// The approval broker refused the decision (already resolved, expired,
    /// the action hash does not match).
    Rejected,
    /// No paired device has that id.
    NoSuchDevice,
    /// The phone link is disabled or did not start.
    LinkUnavailable,
    /// Anything else.
    Internal,
}

/// A failed request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IpcError {
    /// The class of failure.
    pub code: ErrorCode,
    /// A message for the user that says what to do next.
    pub message: String,
    /// For `no_such_agent`: the agents that do exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentRecord>,
}

/// The result of a halt on one target tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    /// The agent, when the target was a detected agent (not a forced PID).
    pub agent: Option<AgentId>,
    /// The verified report.
    pub report: HaltReport,
}

/// The result of a `release` request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleaseOutcome {
    /// The stopped agents whose latches ended.
    pub released: Vec<AgentId>,
    /// Held (frozen) respawns that were resumed.
    pub resumed: Vec<AgentId>,
}

/// The result of a halt request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HaltOutcome {
    /// Which operation.
    pub op: HaltOp,
    /// The target as given.
    pub target: String,
    /// One report per tree.
    pub targets: Vec<TargetReport>,
    /// Non-fatal problems, e.g. the audit log could not be written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl HaltOutcome {
    /// True when every tree's outcome was verified.
    pub fn success(&self) -> bool {
        self.targets.iter().all(|t| t.report.success)
    }
}

/// A paired device as `devices` lists it: its stored entry (the fields of
/// [`DeviceInfo`], so a parser of the older answer reads it unchanged) and
/// its presence since the daemon started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// Opaque id (hex).
    pub id: String,
    /// The name the phone gave, or the user's rename.
    pub name: String,
    /// Unix ms of pairing.
    pub paired_at_ms: u64,
    /// Topic prefix of the pair's topics.
    pub topic_prefix: String,
    /// Unix ms of the last authenticated message from it since the daemon
    /// started (absent: not heard from, or an older daemon).
    #[serde(default)]
    pub last_seen_ms: Option<u64>,
    /// Online now: it counts as a surface that can show a prompt.
    #[serde(default)]
    pub online: bool,
}

impl DeviceStatus {
    /// A stored device with its presence.
    pub fn new(d: DeviceInfo, last_seen_ms: Option<u64>, online: bool) -> Self {
        Self {
            id: d.id,
            name: d.name,
            paired_at_ms: d.paired_at_ms,
            topic_prefix: d.topic_prefix,
            last_seen_ms,
            online,
        }
    }
}

/// A response from the daemon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// Answer to `ping`.
    Pong {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
        /// The daemon's PID.
        pid: u32,
    },
    /// Answer to `status`.
    Status {
        /// Every detected agent.
        agents: Vec<AgentRecord>,
        /// The phone link (absent from older daemons).
        #[serde(default)]
        link: Option<LinkSummary>,
        /// The surfaces that can show a prompt (absent from older daemons).
        #[serde(default)]
        surfaces: Option<SurfacesSummary>,
        /// Active alerts, oldest first (absent from older daemons).
        #[serde(default)]
        alerts: Vec<reins_core::Alert>,
        /// Active stop latches and their held respawns (absent from older
        /// daemons; they live in the daemon's memory and end with it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latches: Option<Vec<crate::latch::LatchInfo>>,
        /// OpenClaw's gateway link (absent from older daemons).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        openclaw: Option<crate::openclaw::OpenClawStatus>,
        /// The audit log cannot be written (absent when it can, and from
        /// older daemons).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audit: Option<crate::audit_health::AuditProblem>,
    },
    /// Answer to `halt` and `stop_supervisor`.
    Halted(HaltOutcome),
    /// Answer to `release`.
    Released(ReleaseOutcome),
    /// Answer to `soft_stop`.
    SoftStopped(crate::daemon_openclaw::SoftStopOutcome),
    /// Answer to `hook` and `ask`: what the hook must render.
    Verdict {
        /// The verdict.
        verdict: HookVerdict,
    },
    /// Answer to `approvals`.
    Approvals {
        /// Pending requests, oldest first.
        pending: Vec<ApprovalRequest>,
    },
    /// Answer to `approval_state`: `None` when the daemon does not know the id.
    ApprovalState {
        /// Pending, or how it was resolved.
        state: Option<reins_approval::RequestState>,
    },
    /// Answer to `decide`: the decision was accepted.
    Decided {
        /// Which request.
        request_id: RequestId,
    },
    /// Answer to `pair_start`: show this to the person.
    PairOffer {
        /// Pass to `pair_next` and `pair_answer`.
        session: String,
        /// The pairing URL (its fragment holds the one-time secret).
        url: String,
        /// The URL as a terminal QR code.
        qr: String,
        /// Unix ms at which the offer dies.
        expires_at_ms: u64,
    },
    /// Answer to `pair_next`.
    PairStep {
        /// What happened.
        step: PairStep,
    },
    /// Answer to `pair_answer`: the answer was passed on.
    PairAnswered,
    /// Answer to `devices`.
    Devices {
        /// Paired devices, with their presence.
        devices: Vec<DeviceStatus>,
    },
    /// Answer to `rename_device`.
    Device {
        /// The device as it is now.
        device: DeviceInfo,
    },
    /// Answer to `revoke_device`.
    Revoked {
        /// Its id.
        id: String,
    },
    /// One event of a `subscribe` stream.
    Event {
        /// The event.
        event: StreamEvent,
    },
    /// The request failed.
    Error(IpcError),
}

impl Response {
    /// An error response.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Response::Error(IpcError {
            code,
            message: message.into(),
            agents: Vec::new(),
        })
    }
}
