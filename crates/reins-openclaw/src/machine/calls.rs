//! Caller requests and their replies, and how refusals read.

use crate::link::LinkError;
use crate::wire::{self, AbortOutcome, ApprovalKind, ErrorShape, GatewayDecision};
use serde_json::{Value, json};

/// A caller's request through the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// Send a person's decision.
    Resolve {
        /// Exec or plugin.
        kind: ApprovalKind,
        /// OpenClaw's approval id.
        id: String,
        /// The decision.
        decision: GatewayDecision,
    },
    /// `sessions.abort {key, clearQueued: true}`.
    Abort {
        /// The session key.
        session_key: String,
    },
    /// `sessions.list`, reduced to active keys.
    ActiveSessions,
}

/// A successful answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The decision is recorded.
    Resolved,
    /// What `sessions.abort` did.
    Aborted(AbortOutcome),
    /// Keys of sessions with an active run.
    Sessions(Vec<String>),
}

/// Why the machine wants the socket closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// Something failed; reconnect with backoff.
    Failed(String),
    /// The gateway refused Reins (OpenClaw's message and what to do); retry slowly.
    Refused(String),
    /// The gateway is up but not ready ("gateway starting"): reconnect after
    /// this delay (OpenClaw's `retryAfterMs`, clamped), without growing the
    /// failure backoff, so Reins is an approver again as soon as it can be.
    NotReady {
        /// What OpenClaw said.
        error: String,
        /// When to try again.
        retry_after: std::time::Duration,
    },
    /// Approver mode changed; reconnect now.
    Reconnect,
}

impl Call {
    /// The method and params. `generic`: the gateway offers `approval.resolve`.
    pub fn request(&self, generic: bool) -> (&'static str, Value) {
        match self {
            Call::Resolve { kind, id, decision } if generic => (
                "approval.resolve",
                json!({"id": id, "kind": kind.as_str(), "decision": decision.as_str()}),
            ),
            Call::Resolve { kind, id, decision } => (
                match kind {
                    ApprovalKind::Exec => "exec.approval.resolve",
                    ApprovalKind::Plugin => "plugin.approval.resolve",
                },
                json!({"id": id, "decision": decision.as_str()}),
            ),
            Call::Abort { session_key } => (
                "sessions.abort",
                json!({"key": session_key, "clearQueued": true}),
            ),
            Call::ActiveSessions => ("sessions.list", json!({})),
        }
    }
}

fn gateway(e: ErrorShape) -> LinkError {
    LinkError::Gateway {
        code: e.code,
        message: e.message,
    }
}

fn malformed(e: wire::WireError) -> LinkError {
    LinkError::Gateway {
        code: "MALFORMED_REPLY".into(),
        message: e.to_string(),
    }
}

/// The caller's answer for a reply.
pub(super) fn reply_for(
    call: &Call,
    result: Result<Value, ErrorShape>,
) -> Result<Reply, LinkError> {
    let payload = result.map_err(gateway)?;
    match call {
        Call::Resolve { decision, .. } => wire::check_resolve_reply(&payload, *decision)
            .map(|()| Reply::Resolved)
            .map_err(gateway),
        Call::Abort { .. } => wire::parse_abort(&payload)
            .map(Reply::Aborted)
            .map_err(malformed),
        Call::ActiveSessions => wire::parse_active_sessions(&payload)
            .map(Reply::Sessions)
            .map_err(malformed),
    }
}

/// OpenClaw's refusal of `connect`, plus what to do.
pub(super) fn refusal_text(e: &ErrorShape) -> String {
    let detail = e
        .details
        .as_ref()
        .and_then(|d| d.get("code"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let msg: String = e.message.chars().take(500).collect();
    let hint = if detail.starts_with("AUTH_") || msg.starts_with("unauthorized") {
        "check `gateway.auth.token` in OpenClaw's config, or OPENCLAW_GATEWAY_TOKEN in the environment of Reins' daemon"
    } else if detail.contains("PAIRING") || msg.contains("pairing") {
        "approve Reins' device in OpenClaw (`openclaw devices list`)"
    } else if detail == "PROTOCOL_MISMATCH" || msg.contains("protocol mismatch") {
        "this OpenClaw speaks another protocol version; update Reins or OpenClaw"
    } else if detail.starts_with("DEVICE_") {
        "Reins' device identity was refused; run `reins doctor`"
    } else {
        "run `reins doctor`"
    };
    format!("OpenClaw refused Reins: {msg}; {hint}")
}

/// Used when a "not ready" answer gives no `retryAfterMs`.
const NOT_READY_DEFAULT: std::time::Duration = std::time::Duration::from_millis(1000);
/// Bounds on OpenClaw's `retryAfterMs`: at least 200 ms so a gateway that
/// says 0 is not hammered, at most 5 s so Reins is an approver again soon
/// after the gateway is (OpenClaw sends 500 ms while its sidecars load).
const NOT_READY_MIN: std::time::Duration = std::time::Duration::from_millis(200);
const NOT_READY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// How long to wait before reconnecting to a gateway that is not ready.
pub fn not_ready_delay(retry_after_ms: Option<u64>) -> std::time::Duration {
    retry_after_ms
        .map(std::time::Duration::from_millis)
        .unwrap_or(NOT_READY_DEFAULT)
        .clamp(NOT_READY_MIN, NOT_READY_MAX)
}
