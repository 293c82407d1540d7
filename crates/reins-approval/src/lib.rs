//! Reins approvals: the pure core of Promise 2, "Approve".
//!
//! Three modules, all free of I/O except [`policy::Policy::load`] reading
//! one file:
//!
//! - [`hooks`]: parse what an agent's hook hands us on stdin and render the
//!   exact stdout/exit code that agent expects back.
//! - [`policy`]: ordered user rules in TOML, preceded by a built-in
//!   catastrophic denylist.
//! - [`broker`]: the approval state machine. First valid answer wins, and
//!   nothing is ever approved by timeout, error or default.
//!
//! Deliberately absent: sockets, tokio, process spawning, clocks. Time is an
//! input (`now_ms`) and every side effect is returned as data.

pub mod actions;
pub mod broker;
pub mod hooks;
pub mod policy;
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
