//! Approval requests: ids, the canonical action bytes and their hash.
//!
//! # Canonical action bytes
//!
//! The action a person approves is bound by `action_hash = SHA-256(action)`,
//! where `action` is this UTF-8 JSON text, with no whitespace anywhere:
//!
//! ```text
//! {"agent":<kind slug>,"cwd":<string|null>,"session":<string|null>,"tool":<string>,"tool_input":<value|null>}
//! ```
//!
//! - Object keys, at every depth (including inside `tool_input`), are sorted
//!   by their UTF-8 bytes; duplicate keys cannot occur.
//! - Strings are escaped as serde_json does: `\"`, `\\`, `\n`, `\r`, `\t`,
//!   `\b`, `\f`, other control characters as `\u00xx` (lowercase hex);
//!   everything else, including non-ASCII, is written as raw UTF-8.
//! - Numbers are written as serde_json writes them (integers verbatim,
//!   floats in shortest round-trip form).
//! - `tool_input` is the agent's tool input exactly as received (a Copilot
//!   `toolArgs` string stays a string).
//!
//! The request carries this text in [`ApprovalRequest::action`], so the phone
//! displays it and checks `SHA-256(action) == action_hash` byte for byte; it
//! never needs to re-canonicalise. Deciders must echo `action_hash`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

use reins_core::{AgentId, AgentKind};

use crate::hooks::HookInput;
use crate::policy::RiskLevel;

macro_rules! hex_id {
    ($name:ident, $len:expr, $what:expr) => {
        impl $name {
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
            /// Lowercase hex.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let mut out = [0u8; $len];
                hex::decode_to_slice(s, &mut out).map_err(|_| {
                    format!("'{s}' is not {}: expected {} hex digits", $what, $len * 2)
                })?;
                Ok($name(out))
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A 128-bit random request id, shown as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub [u8; 16]);
hex_id!(RequestId, 16, "a request id");

impl RequestId {
    /// A fresh id from the OS-seeded thread RNG.
    pub fn random() -> Self {
        RequestId(rand::random())
    }
}

/// SHA-256 of the canonical action bytes, shown as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionHash(pub [u8; 32]);
hex_id!(ActionHash, 32, "an action hash");

impl ActionHash {
    /// Hash canonical action text.
    pub fn of(action: &str) -> Self {
        ActionHash(Sha256::digest(action.as_bytes()).into())
    }
}

/// The canonical action text (see the module docs).
pub fn canonical_action(
    kind: &AgentKind,
    session_id: Option<&str>,
    tool_name: &str,
    tool_input: &Value,
    cwd: Option<&str>,
) -> String {
    let opt = |s: Option<&str>| s.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let mut out = String::new();
    out.push_str("{\"agent\":");
    write_canonical(&Value::String(kind.slug().to_owned()), &mut out);
    out.push_str(",\"cwd\":");
    write_canonical(&opt(cwd), &mut out);
    out.push_str(",\"session\":");
    write_canonical(&opt(session_id), &mut out);
    out.push_str(",\"tool\":");
    write_canonical(&Value::String(tool_name.to_owned()), &mut out);
    out.push_str(",\"tool_input\":");
    write_canonical(tool_input, &mut out);
    out.push('}');
    out
}

/// Write `v` with keys sorted by UTF-8 bytes at every depth, no whitespace.
/// (Done by hand so it does not depend on serde_json's `preserve_order`
/// feature, which any crate in the build could switch on.)
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// One prompt waiting for a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// Random id; deciders echo it.
    pub request_id: RequestId,
    /// The running agent, when the daemon could tie the hook to one.
    pub agent: Option<AgentId>,
    /// The kind of agent.
    pub kind: AgentKind,
    /// The agent's session id.
    pub session_id: Option<String>,
    /// The tool.
    pub tool_name: String,
    /// The tool input, exactly as received (`null` if there was none).
    pub tool_input: Value,
    /// The shell command, for display and session rules.
    pub command: Option<String>,
    /// The agent's working directory.
    pub cwd: Option<String>,
    /// The canonical action text that `action_hash` covers.
    pub action: String,
    /// SHA-256 of `action`.
    pub action_hash: ActionHash,
    /// Unix ms when it was created.
    pub created_at: u64,
    /// Unix ms after which no answer is accepted.
    pub expires_at: u64,
    /// How prominently to show it.
    pub risk: RiskLevel,
    /// Why the policy asked (e.g. which rule matched), for display.
    pub reason: Option<String>,
    /// Set when a guardrail raised it: the agent runs unattended, so
    /// nobody else will be asked and an unanswered request is denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<crate::guardrails::Guardrail>,
    /// Set when the request is an approval OpenClaw's gateway asked its
    /// approvers for (not a hook): the answer goes back to the gateway, and
    /// Reins never answers it on its own (see [`GatewayOrigin`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayOrigin>,
}

/// Which of OpenClaw's approval queues a gateway request came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayQueue {
    /// `exec.approval.*`: a shell command.
    Exec,
    /// `plugin.approval.*`: a plugin's `requireApproval` (Reins' own plugin
    /// gating a tool call, or another plugin's).
    Plugin,
}

/// Where a gateway request came from. The broker treats such a request
/// differently in four ways, all so that only a person's answer reaches
/// OpenClaw: no session grants (OpenClaw has no "this session" answer; its
/// allow-always is a permanent allowlist entry), no collapsing of twins
/// (each OpenClaw approval is answered by a person, not by the answer to
/// another), a timeout resolves nothing (OpenClaw's own timeout and
/// `askFallback` apply), and Reins itself may not even deny.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayOrigin {
    /// Exec or plugin.
    pub queue: GatewayQueue,
    /// OpenClaw's approval id.
    pub id: String,
    /// OpenClaw's agent id (e.g. `main`), if it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openclaw_agent: Option<String>,
}

/// What an action is, before it becomes a request.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionSpec {
    /// The kind of agent.
    pub kind: AgentKind,
    /// The agent's session id.
    pub session_id: Option<String>,
    /// The tool.
    pub tool_name: String,
    /// The tool input, exactly as received.
    pub tool_input: Value,
    /// The shell command, for shell tools.
    pub command: Option<String>,
    /// The agent's working directory.
    pub cwd: Option<String>,
}

impl ActionSpec {
    /// The action of a tool hook; `None` when the hook carries no tool.
    pub fn from_hook(h: &HookInput) -> Option<ActionSpec> {
        Some(ActionSpec {
            kind: h.agent.kind(),
            session_id: h.session_id.clone(),
            tool_name: h.tool_name.clone()?,
            tool_input: h.tool_input.clone().unwrap_or(Value::Null),
            command: h.command.clone(),
            cwd: h.cwd.clone(),
        })
    }
}

impl ApprovalRequest {
    /// A new request with a random id, expiring `ttl_ms` after `now_ms`.
    pub fn new(
        spec: ActionSpec,
        agent: Option<AgentId>,
        risk: RiskLevel,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Self {
        let action = canonical_action(
            &spec.kind,
            spec.session_id.as_deref(),
            &spec.tool_name,
            &spec.tool_input,
            spec.cwd.as_deref(),
        );
        ApprovalRequest {
            request_id: RequestId::random(),
            agent,
            kind: spec.kind,
            session_id: spec.session_id,
            tool_name: spec.tool_name,
            tool_input: spec.tool_input,
            command: spec.command,
            cwd: spec.cwd,
            action_hash: ActionHash::of(&action),
            action,
            created_at: now_ms,
            expires_at: now_ms.saturating_add(ttl_ms),
            risk,
            reason: None,
            guardrail: None,
            gateway: None,
        }
    }

    /// True when `action` is the canonical text of the fields and
    /// `action_hash` is its hash. The broker refuses requests that fail this.
    pub fn is_consistent(&self) -> bool {
        let action = canonical_action(
            &self.kind,
            self.session_id.as_deref(),
            &self.tool_name,
            &self.tool_input,
            self.cwd.as_deref(),
        );
        action == self.action && ActionHash::of(&action) == self.action_hash
    }
}
