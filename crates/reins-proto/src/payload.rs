//! Message kinds and the plaintext JSON body of each.
//!
//! The kind travels in the (authenticated) envelope header; the plaintext is
//! the JSON of the matching body struct, without a tag. Each kind may only
//! travel in one direction (see [`Kind::allowed`]), so a phone cannot send
//! an approval *request* nor the desktop an approval *decision*.
//!
//! Deliberately not here: deciding whether a decision applies to a pending
//! request (the approval engine does that, with [`ApprovalDecision::matches`]
//! as a helper), and executing commands.

use crate::envelope::Direction;
pub use crate::payload_alert::{Alert, AlertActionWire, AlertCleared, AlertReason};
pub use crate::payload_recheck::{RecheckVerdictWire, StopRechecked};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Every message kind. The wire name is the snake_case string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Desktop→phone: the full list of running agents.
    AgentSnapshot,
    /// Desktop→phone: one agent appeared, changed or exited.
    AgentEvent,
    /// Desktop→phone: an action is waiting for a decision.
    ApprovalRequest,
    /// Desktop→phone: a request was decided (by anyone) or expired; clear it.
    ApprovalResolved,
    /// Phone→desktop: allow or deny one exact request.
    ApprovalDecision,
    /// Phone→desktop: stop, pause or resume an agent (or all).
    Command,
    /// Desktop→phone: what a command did, with timings.
    CommandAck,
    /// Either way: online/offline.
    Presence,
    /// Either way: liveness.
    Heartbeat,
    /// Phone→desktop on the pairing topic: the phone's key and name.
    PairingHello,
    /// Desktop→phone on the pairing topic, sealed under K: the user confirmed.
    PairingAccepted,
    /// Desktop→phone on the pairing topic, sealed under the token: refused.
    PairingRejected,
    /// Desktop→phone: Reins froze an agent on its own; offer what to do.
    Alert,
    /// Desktop→phone: an alert is over; remove it.
    AlertCleared,
    /// Desktop→phone: a stopped agent was (or was not) still gone seconds later.
    StopRechecked,
}

impl Kind {
    /// Every kind, in wire-table order.
    pub const ALL: [Kind; 15] = [
        Kind::AgentSnapshot,
        Kind::AgentEvent,
        Kind::ApprovalRequest,
        Kind::ApprovalResolved,
        Kind::ApprovalDecision,
        Kind::Command,
        Kind::CommandAck,
        Kind::Presence,
        Kind::Heartbeat,
        Kind::PairingHello,
        Kind::PairingAccepted,
        Kind::PairingRejected,
        Kind::Alert,
        Kind::AlertCleared,
        Kind::StopRechecked,
    ];

    /// The wire name, as used in the envelope JSON and the AAD.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AgentSnapshot => "agent_snapshot",
            Kind::AgentEvent => "agent_event",
            Kind::ApprovalRequest => "approval_request",
            Kind::ApprovalResolved => "approval_resolved",
            Kind::ApprovalDecision => "approval_decision",
            Kind::Command => "command",
            Kind::CommandAck => "command_ack",
            Kind::Presence => "presence",
            Kind::Heartbeat => "heartbeat",
            Kind::PairingHello => "pairing_hello",
            Kind::PairingAccepted => "pairing_accepted",
            Kind::PairingRejected => "pairing_rejected",
            Kind::Alert => "alert",
            Kind::AlertCleared => "alert_cleared",
            Kind::StopRechecked => "stop_rechecked",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether this kind may travel in `dir`.
    pub fn allowed(self, dir: Direction) -> bool {
        use Direction::*;
        match self {
            Kind::Presence | Kind::Heartbeat => true,
            Kind::ApprovalDecision | Kind::Command | Kind::PairingHello => dir == PhoneToDesktop,
            _ => dir == DesktopToPhone,
        }
    }

    /// Whether this kind belongs to pairing (pairing topic) rather than to a
    /// paired channel.
    pub fn is_pairing(self) -> bool {
        matches!(
            self,
            Kind::PairingHello | Kind::PairingAccepted | Kind::PairingRejected
        )
    }
}

/// What an agent is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Alive and not frozen.
    Running,
    /// Frozen (SIGSTOP).
    Paused,
    /// A stop is in flight.
    Stopping,
    /// Gone.
    Exited,
}

/// One agent as the phone sees it (a projection of the daemon's record).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentSummary {
    /// Stable agent id, `<kind>-<pid>-<start_ticks>`.
    pub id: String,
    /// Kind slug (`claude`, `codex`, ...).
    pub kind: String,
    /// Human name.
    pub display_name: String,
    /// Root PID.
    pub pid: u32,
    /// Project name, if known.
    pub project: Option<String>,
    /// Working directory, if known.
    pub cwd: Option<String>,
    /// Unix seconds the agent started.
    pub started_at: u64,
    /// CPU, percent of one core.
    pub cpu_percent: f32,
    /// Resident memory of the tree, bytes.
    pub memory_bytes: u64,
    /// Processes below the root.
    pub descendants: u32,
    /// Current state.
    pub state: AgentStatus,
}

/// Body of [`Kind::AgentSnapshot`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentSnapshot {
    /// Every running agent.
    pub agents: Vec<AgentSummary>,
}

/// Body of [`Kind::AgentEvent`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A new agent.
    Appeared {
        /// The agent.
        agent: AgentSummary,
    },
    /// An agent changed.
    Changed {
        /// The agent.
        agent: AgentSummary,
    },
    /// An agent is gone.
    Exited {
        /// Its id.
        id: String,
    },
}

/// `action_hash` = lowercase hex SHA-256 of the exact action bytes (UTF-8).
pub fn action_hash(action: &str) -> String {
    hex::encode(Sha256::digest(action.as_bytes()))
}

/// Body of [`Kind::ApprovalRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// Random id chosen by the desktop.
    pub request_id: String,
    /// The agent asking.
    pub agent_id: String,
    /// The agent's session, if it has one.
    pub session_id: Option<String>,
    /// The tool (`Bash`, `Edit`, ...).
    pub tool: String,
    /// The exact action, shown raw to the user.
    pub action: String,
    /// [`action_hash`] of `action`.
    pub action_hash: String,
    /// Working directory of the action, if any.
    pub cwd: Option<String>,
    /// Unix ms after which the desktop will no longer accept a decision.
    pub expires_at_ms: u64,
    /// How prominently to show it; `null` when the desktop does not say.
    #[serde(default)]
    pub risk: Option<Risk>,
    /// Why the policy asked (e.g. the rule that matched), for display.
    #[serde(default)]
    pub reason: Option<String>,
    /// True when answering with [`Scope::Session`] also covers later
    /// identical actions of this session; false when it would be the same as
    /// a plain allow; `null` when the desktop does not say (treat as false).
    #[serde(default)]
    pub allow_session: Option<bool>,
}

/// How much harm an action could do (the desktop's estimate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Read-only tools.
    Low,
    /// Ordinary commands and edits.
    Medium,
    /// Destructive, privileged or secret-adjacent: show it prominently.
    High,
}

impl ApprovalRequest {
    /// True when `action_hash` really is the hash of `action`. A phone must
    /// refuse to display a request for which this is false.
    pub fn hash_is_consistent(&self) -> bool {
        self.action_hash == action_hash(&self.action)
    }
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Let the action run.
    Allow,
    /// Refuse it.
    Deny,
}

/// Body of [`Kind::ApprovalDecision`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDecision {
    /// Same as the request's.
    pub request_id: String,
    /// Same as the request's: binds the answer to the exact action shown.
    pub action_hash: String,
    /// The answer.
    pub decision: Decision,
    /// What an allow covers; `null` means [`Scope::Once`]. Ignored with deny.
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// What an allow covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// This one action.
    Once,
    /// This action and the same action again in the agent's session
    /// (`reins approve --session`).
    Session,
}

impl ApprovalDecision {
    /// True when this decision names exactly `request` (id and hash).
    pub fn matches(&self, request: &ApprovalRequest) -> bool {
        self.request_id == request.request_id && self.action_hash == request.action_hash
    }
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Allowed (by this or another surface).
    Allowed,
    /// Denied.
    Denied,
    /// No answer before the deadline.
    Expired,
    /// Reins stepped aside; the agent's own prompt took over.
    Abstained,
}

/// Body of [`Kind::ApprovalResolved`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalResolved {
    /// Which request.
    pub request_id: String,
    /// Its action hash.
    pub action_hash: String,
    /// How it ended.
    pub resolution: Resolution,
    /// Who decided (`tray`, `cli`, a device id), if anyone.
    pub by: Option<String>,
    /// Who decided, in words to show: a phone's device name, `terminal`
    /// (the CLI) or `desktop` (the tray); `null` when no person decided.
    #[serde(default)]
    pub by_name: Option<String>,
}

/// What a command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandOp {
    /// Stop (freeze, terminate, kill, verify).
    Stop,
    /// Freeze.
    Pause,
    /// Unfreeze.
    Resume,
    /// End the stop latch on an agent (offered by a `respawn_held` alert).
    Release,
    /// Stop what restarts an agent, then the agent.
    StopSupervisor,
}

/// What a command acts on: `{"agent":"<id>"}` or `"all"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// One agent by id.
    Agent(String),
    /// Every agent.
    All,
}

/// Body of [`Kind::Command`]. Commands are idempotent per envelope `msg_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The operation.
    pub op: CommandOp,
    /// The target.
    pub target: Target,
}

impl Command {
    /// The panic button: stop every agent.
    pub fn stop_all() -> Self {
        Self {
            op: CommandOp::Stop,
            target: Target::All,
        }
    }
}

/// How a command went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckOutcome {
    /// Verified done for every process.
    Done,
    /// Some processes were handled, some were not.
    Partial,
    /// Nothing was handled.
    Failed,
    /// The target does not exist (any more).
    NoSuchAgent,
    /// The desktop refused (policy, revoked device, ...).
    Refused,
}

/// Body of [`Kind::CommandAck`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandAck {
    /// The command envelope's `msg_id`, base64url.
    pub command_msg_id: String,
    /// The command's op.
    pub op: CommandOp,
    /// The command's target.
    pub target: Target,
    /// The outcome.
    pub outcome: AckOutcome,
    /// Processes touched.
    pub processes: u32,
    /// µs from the daemon's receipt of the command until every process of
    /// every targeted tree was verified frozen; `None` unless all were.
    pub frozen_after_us: Option<u64>,
    /// The same until every process was verified gone (stop only).
    pub gone_after_us: Option<u64>,
    /// Human-readable detail on failure.
    pub detail: Option<String>,
}

/// Body of [`Kind::Presence`]. Advisory only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// True when the sender is up.
    pub online: bool,
}

/// Body of [`Kind::Heartbeat`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Seconds until the next heartbeat; after three missed ones the peer
    /// may be shown as offline.
    pub interval_s: u32,
}

/// Body of [`Kind::PairingHello`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingHello {
    /// The phone's X25519 public key, base64url (32 bytes).
    pub phone_public: String,
    /// The phone's name as the user will see it (1..=64 bytes, no control chars).
    pub device_name: String,
}

/// Body of [`Kind::PairingAccepted`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingAccepted {
    /// The desktop's name for the phone's device list.
    pub desktop_name: String,
}

/// Why pairing was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairingRejectReason {
    /// The user pressed Reject (e.g. the codes differed).
    UserRejected,
    /// The offer expired.
    Expired,
    /// The token is spent, or another device's hello is awaiting
    /// confirmation: this hello will never be accepted. Added after v1's
    /// first release; an older phone drops the body as a bad payload.
    AlreadyUsed,
}

/// Body of [`Kind::PairingRejected`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingRejected {
    /// Why.
    pub reason: PairingRejectReason,
    /// The `msg_id` (base64url, 16 bytes) of the hello this answers. Every
    /// phone on the pairing topic sees every answer, so a phone takes an
    /// `already_used` only when this names its own hello. `null` for the
    /// rejections that end the offer for everyone.
    #[serde(default)]
    pub hello_msg_id: Option<String>,
}

/// A decoded plaintext body, tagged by its kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// See [`Kind::AgentSnapshot`].
    AgentSnapshot(AgentSnapshot),
    /// See [`Kind::AgentEvent`].
    AgentEvent(AgentEvent),
    /// See [`Kind::ApprovalRequest`].
    ApprovalRequest(ApprovalRequest),
    /// See [`Kind::ApprovalResolved`].
    ApprovalResolved(ApprovalResolved),
    /// See [`Kind::ApprovalDecision`].
    ApprovalDecision(ApprovalDecision),
    /// See [`Kind::Command`].
    Command(Command),
    /// See [`Kind::CommandAck`].
    CommandAck(CommandAck),
    /// See [`Kind::Presence`].
    Presence(Presence),
    /// See [`Kind::Heartbeat`].
    Heartbeat(Heartbeat),
    /// See [`Kind::PairingHello`].
    PairingHello(PairingHello),
    /// See [`Kind::PairingAccepted`].
    PairingAccepted(PairingAccepted),
    /// See [`Kind::PairingRejected`].
    PairingRejected(PairingRejected),
    /// See [`Kind::Alert`].
    Alert(Alert),
    /// See [`Kind::AlertCleared`].
    AlertCleared(AlertCleared),
    /// See [`Kind::StopRechecked`].
    StopRechecked(StopRechecked),
}

macro_rules! payload_dispatch {
    ($($v:ident),*) => {
        impl Payload {
            /// The kind this body belongs to.
            pub fn kind(&self) -> Kind {
                match self { $(Payload::$v(_) => Kind::$v,)* }
            }

            /// The plaintext bytes: compact JSON of the body, no tag.
            pub fn to_json(&self) -> Vec<u8> {
                match self {
                    $(Payload::$v(b) => serde_json::to_vec(b),)*
                }
                .expect("payload bodies contain only JSON-representable types")
            }

            /// Decodes the plaintext of an envelope of kind `kind`.
            pub fn from_json(kind: Kind, bytes: &[u8]) -> Result<Payload, serde_json::Error> {
                Ok(match kind { $(Kind::$v => Payload::$v(serde_json::from_slice(bytes)?),)* })
            }
        }
    };
}

payload_dispatch!(
    AgentSnapshot,
    AgentEvent,
    ApprovalRequest,
    ApprovalResolved,
    ApprovalDecision,
    Command,
    CommandAck,
    Presence,
    Heartbeat,
    PairingHello,
    PairingAccepted,
    PairingRejected,
    Alert,
    AlertCleared,
    StopRechecked
);

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
