//! The approval broker: a pure state machine in the style of rumqttc's
//! `state.rs`. [`Broker::handle`] takes one [`Input`] and the current time
//! and returns the [`Action`]s to perform; it never reads a clock, touches a
//! socket or spawns anything.
//!
//! Invariants:
//! - The first valid decision wins; later ones get [`RejectReason::AlreadyResolved`].
//! - A decision must echo the request id *and* the action hash, arrive while
//!   the request is pending and unexpired, and (for allow) come from a person,
//!   not [`Actor::Daemon`]. Anything else is rejected and changes nothing.
//! - The only paths to an allow reply are an explicit valid allow decision,
//!   or an earlier explicit allow-for-session for the same session, tool and
//!   command. Expiry, withdrawal, rate limiting and errors reply abstain or deny.
//!
//! Not here: transport, persistence, notification surfaces, and the policy
//! (the caller evaluates policy first and only submits what needs a person).

mod request;

pub use crate::policy::RiskLevel;
pub use request::{
    ActionHash, ActionSpec, ApprovalRequest, GatewayOrigin, GatewayQueue, RequestId,
    canonical_action,
};

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

use reins_core::Actor;

use crate::hooks::HookVerdict;
use crate::policy::TimeoutOutcome;

/// A person's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Allow this call.
    Allow,
    /// Allow this call and the same call again in this session.
    AllowForSession,
    /// Deny, optionally saying why.
    Deny {
        /// Passed on to the agent.
        message: Option<String>,
    },
}

impl Decision {
    /// True for the allow variants.
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow | Decision::AllowForSession)
    }
}

/// Why a prompt was withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawReason {
    /// The session moved on (the user answered in the terminal).
    SessionMovedOn,
    /// The session ended.
    SessionEnded,
    /// The waiting hook process went away.
    HookGone,
    /// The agent exited.
    AgentExited,
    /// Reins is shutting down.
    Shutdown,
    /// No surface could show the prompt any more (the last one went away
    /// and none came back within the grace period).
    NoSurface,
    /// OpenClaw says the approval is over: answered in one of its own
    /// clients, timed out there, or its run was aborted.
    AnsweredElsewhere,
    /// The link to OpenClaw's gateway dropped; what is still pending there
    /// comes back when it reconnects.
    GatewayLost,
}

/// What to withdraw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawTarget {
    /// One request.
    Request(RequestId),
    /// Every pending request of a session.
    Session(String),
}

/// One input to the broker.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A hook is waiting for a person.
    Submit {
        /// The request.
        request: ApprovalRequest,
    },
    /// A person (or surface) answers.
    Decide {
        /// Which request.
        request_id: RequestId,
        /// The hash the decider was shown.
        action_hash: ActionHash,
        /// The answer.
        decision: Decision,
        /// Who, as verified by the daemon.
        by: Actor,
    },
    /// Take prompts back without a decision.
    Withdraw {
        /// What.
        target: WithdrawTarget,
        /// Why.
        reason: WithdrawReason,
    },
    /// Time passed: expire what is due.
    Tick,
    /// Another hook event arrived for this session: its pending prompts
    /// were answered elsewhere (Claude's terminal dialog does not tell us).
    SessionActivity {
        /// The session.
        session_id: String,
    },
    /// The session ended: withdraw its prompts and forget its grants.
    SessionEnded {
        /// The session.
        session_id: String,
    },
}

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "resolution", rename_all = "snake_case")]
pub enum Resolution {
    /// A person decided.
    Decided {
        /// The answer.
        decision: Decision,
        /// Who.
        by: Actor,
        /// Unix ms.
        at: u64,
    },
    /// Allowed at once by an earlier allow-for-session in the same session.
    SessionGrant {
        /// Who granted it.
        by: Actor,
        /// Unix ms.
        at: u64,
    },
    /// No one answered in time.
    Expired {
        /// Abstain or deny; never allow.
        outcome: TimeoutOutcome,
        /// Unix ms.
        at: u64,
    },
    /// Taken back.
    Withdrawn {
        /// Why.
        reason: WithdrawReason,
        /// Unix ms.
        at: u64,
    },
    /// Too many prompts pending: answered abstain without asking.
    RateLimited {
        /// Unix ms.
        at: u64,
    },
}

/// The state of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RequestState {
    /// Waiting for a person.
    Pending,
    /// Done.
    Resolved(Resolution),
}

/// What subscribers (tray, phone, CLI) are told.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BrokerEvent {
    /// A new prompt to show.
    Requested {
        /// It.
        request: ApprovalRequest,
    },
    /// A prompt is over; clear it everywhere.
    Resolved {
        /// Which.
        request_id: RequestId,
        /// How.
        resolution: Resolution,
    },
}

/// Why an input was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum RejectReason {
    /// No such request (never existed, or long forgotten).
    #[error("no such approval request; it may have been resolved long ago — refresh the list")]
    UnknownRequest,
    /// Someone else answered first (or it expired, or was withdrawn).
    #[error("this request was already resolved; nothing changed")]
    AlreadyResolved {
        /// How it ended.
        resolution: Resolution,
    },
    /// The action hash does not match what is pending.
    #[error(
        "the action hash does not match the pending request; the action shown may differ from the one waiting — refresh and look again"
    )]
    HashMismatch,
    /// The deadline passed before the answer arrived.
    #[error("the request expired before this answer arrived; the agent has moved on")]
    Expired,
    /// Reins itself may deny but never allow.
    #[error("only a person can allow; the daemon may only deny")]
    NotAPerson,
    /// A request with this id already exists.
    #[error("a request with this id already exists; submit with a fresh random id")]
    DuplicateRequest,
    /// "Allow for this session" on a request that has no such answer
    /// (an OpenClaw approval).
    #[error(
        "this approval comes from OpenClaw, which has no \"allow for this session\": answer Allow or Deny (allow-always is set in OpenClaw itself)"
    )]
    SessionAllowNotOffered,
    /// The request's action text or hash is inconsistent with its fields.
    #[error("the request's action hash does not match its contents; it was not shown to anyone")]
    InconsistentRequest,
}

/// What happened, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Shown to people.
    Requested,
    /// Merged into an identical pending request.
    Collapsed {
        /// The pending request it joined.
        into: RequestId,
    },
    /// Resolved (see [`Resolution`]).
    Resolved {
        /// How.
        resolution: Resolution,
    },
    /// An input was refused.
    Rejected {
        /// Why.
        reason: RejectReason,
    },
}

/// One audit record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Unix ms.
    pub at: u64,
    /// The request concerned.
    pub request_id: RequestId,
    /// Its session, if known.
    pub session_id: Option<String>,
    /// Its tool, if known.
    pub tool_name: Option<String>,
    /// Its action hash, if known.
    pub action_hash: Option<ActionHash>,
    /// What happened.
    pub outcome: AuditOutcome,
    /// Who caused it, if a decider did.
    pub by: Option<Actor>,
}

/// An effect for the caller to carry out.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Tell every subscriber.
    Broadcast(BrokerEvent),
    /// Answer the hook waiting on `request_id`.
    Reply {
        /// The waiting hook's request id.
        request_id: RequestId,
        /// What to render.
        verdict: HookVerdict,
    },
    /// Tell a decider (or submitter) their input was refused.
    Reject {
        /// The request named in the input.
        request_id: RequestId,
        /// Who sent it, for decisions.
        by: Option<Actor>,
        /// Why.
        reason: RejectReason,
    },
    /// Append to the audit log.
    Audit(AuditRecord),
}

/// Tunables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokerConfig {
    /// What an unanswered prompt becomes (from the policy's `[approvals]`).
    pub on_timeout: TimeoutOutcome,
    /// Pending prompts one session may have before more are answered abstain.
    pub max_pending_per_session: usize,
    /// Pending prompts overall before more are answered abstain.
    pub max_pending_total: usize,
    /// Resolved request ids remembered to answer late deciders precisely.
    pub resolved_history: usize,
}

/// Eight: an agent legitimately has a few tool calls in flight; more than
/// this from one session is a flood that would train people to tap "allow"
/// without reading (OWASP "overwhelming human-in-the-loop").
pub const DEFAULT_MAX_PENDING_PER_SESSION: usize = 8;

/// Across all sessions; bounds memory and the tray's list.
pub const DEFAULT_MAX_PENDING_TOTAL: usize = 256;

/// Enough to answer any realistic late tap with "already resolved".
pub const DEFAULT_RESOLVED_HISTORY: usize = 4096;

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            on_timeout: TimeoutOutcome::Abstain,
            max_pending_per_session: DEFAULT_MAX_PENDING_PER_SESSION,
            max_pending_total: DEFAULT_MAX_PENDING_TOTAL,
            resolved_history: DEFAULT_RESOLVED_HISTORY,
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    request: ApprovalRequest,
    /// Collapsed duplicates waiting on the same answer.
    followers: Vec<RequestId>,
}

/// A session grant: same session, same tool, same command (or any call of a
/// non-shell tool).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct GrantKey {
    session: String,
    tool: String,
    rule_content: Option<String>,
}

/// The broker.
#[derive(Debug, Default)]
pub struct Broker {
    config: BrokerConfig,
    pending: BTreeMap<RequestId, Entry>,
    followers: HashMap<RequestId, RequestId>,
    resolved: HashMap<RequestId, Resolution>,
    resolved_order: VecDeque<RequestId>,
    grants: HashMap<GrantKey, Actor>,
}

mod machine;

#[cfg(test)]
mod gateway_tests;
#[cfg(test)]
mod guardrail_tests;
#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;
