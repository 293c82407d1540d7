//! Reins approvals: the pure core of Promise 2, "Approve".
//!
//! Four modules, all free of I/O except [`policy::Policy::load`] reading
//! one file:
//!
//! - [`hooks`]: parse what an agent's hook hands us on stdin and render the
//!   exact stdout/exit code that agent expects back.
//! - [`policy`]: ordered user rules in TOML, preceded by a built-in
//!   catastrophic denylist.
//! - [`guardrails`]: when an agent runs unattended, which of its tool calls
//!   a person must approve, and why an unanswered one is denied.
//! - [`broker`]: the approval state machine. First valid answer wins, and
//!   nothing is ever approved by timeout, error or default.
//!
//! Deliberately absent: sockets, tokio, process spawning, clocks. Time is an
//! input (`now_ms`) and every side effect is returned as data.

pub mod actions;
pub mod broker;
pub mod guardrails;
pub mod hooks;
pub mod policy;
pub mod stop_words;
pub mod tripwire;

pub use broker::{
    Action, ActionHash, ActionSpec, ApprovalRequest, AuditOutcome, AuditRecord, Broker,
    BrokerConfig, BrokerEvent, Decision, Input, RejectReason, RequestId, RequestState, Resolution,
    WithdrawReason, WithdrawTarget,
};
pub use hooks::{
    HookAgent, HookError, HookEvent, HookInput, HookOutput, HookVerdict, Notification, parse,
    render,
};
pub use policy::{
    ActionView, ApprovalSettings, BuiltinRule, Evaluation, Policy, PolicyDecision, PolicyError,
    RiskLevel, RuleRef, TimeoutOutcome,
};
pub use stop_words::StopWordsConfig;
