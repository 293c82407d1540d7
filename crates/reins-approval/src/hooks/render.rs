//! Rendering a [`HookVerdict`] into the exact stdout each agent expects.
//!
//! Every rendering exits 0: the JSON carries the decision. (Claude ignores
//! exit 2 for `PermissionRequest`, and "any other code" means *go ahead* for
//! several agents, so exit codes are never used to deny.) A verdict an event
//! cannot express degrades to abstain or deny, never to allow.

use serde_json::{Value, json};

use super::{HookAgent, HookEvent, HookOutput, HookVerdict, is_non_blocking};

/// Render `verdict` for `agent`'s `event` hook.
pub fn render(agent: HookAgent, event: HookEvent, verdict: &HookVerdict) -> HookOutput {
    if is_non_blocking(event) || !agent.events().contains(&event) {
        return HookOutput::abstain();
    }
    let value = match (agent, event) {
        (HookAgent::Claude, HookEvent::PermissionRequest) => claude_permission(verdict, true),
        (HookAgent::Codex, HookEvent::PermissionRequest) => claude_permission(verdict, false),
        (HookAgent::Claude, HookEvent::PreToolUse) => claude_pre_tool(verdict),
        (HookAgent::Codex, HookEvent::PreToolUse) => codex_pre_tool(verdict),
        (HookAgent::Gemini, HookEvent::BeforeTool) => gemini(verdict),
        (HookAgent::Cursor, _) => cursor(verdict),
        (HookAgent::Copilot, HookEvent::PermissionRequest) => copilot_permission(verdict),
        (HookAgent::Copilot, HookEvent::PreToolUse) => copilot_pre_tool(verdict),
        (HookAgent::Claude, HookEvent::UserPromptSubmit) => claude_user_prompt(verdict),
        (HookAgent::OpenClaw, HookEvent::BeforeToolCall) => {
            return super::openclaw::render_bare(verdict);
        }
        _ => None,
    };
    match value {
        Some(v) => HookOutput {
            stdout: v.to_string(),
            exit_code: 0,
        },
        None => HookOutput::abstain(),
    }
}

fn permission_request(decision: Value) -> Value {
    json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": decision}})
}

/// Claude and Codex share the `PermissionRequest` shape. Only Claude
/// documents `updatedPermissions` and `interrupt`; Codex gets a plain allow
/// for allow-for-session (the broker remembers the session grant instead).
fn claude_permission(verdict: &HookVerdict, is_claude: bool) -> Option<Value> {
    Some(match verdict {
        HookVerdict::Allow => permission_request(json!({"behavior": "allow"})),
        HookVerdict::AllowForSession {
            tool_name,
            rule_content,
        } => {
            if !is_claude {
                return Some(permission_request(json!({"behavior": "allow"})));
            }
            let mut rule = json!({"toolName": tool_name});
            if let Some(content) = rule_content {
                rule["ruleContent"] = json!(content);
            }
            permission_request(json!({
                "behavior": "allow",
                "updatedPermissions": [{
                    "type": "addRules",
                    "rules": [rule],
                    "behavior": "allow",
                    "destination": "session",
                }],
            }))
        }
        HookVerdict::Deny { message } => {
            if is_claude {
                permission_request(
                    json!({"behavior": "deny", "message": message, "interrupt": false}),
                )
            } else {
                permission_request(json!({"behavior": "deny", "message": message}))
            }
        }
        HookVerdict::StopAgent { reason } => {
            let mut v = if is_claude {
                permission_request(
                    json!({"behavior": "deny", "message": reason, "interrupt": true}),
                )
            } else {
                permission_request(json!({"behavior": "deny", "message": reason}))
            };
            if is_claude {
                v["continue"] = json!(false);
                v["stopReason"] = json!(reason);
            }
            v
        }
        HookVerdict::Abstain | HookVerdict::Ask => return None,
    })
}

fn pre_tool(decision: &str, reason: Option<&str>) -> Value {
    let mut inner = json!({"hookEventName": "PreToolUse", "permissionDecision": decision});
    if let Some(r) = reason {
        inner["permissionDecisionReason"] = json!(r);
    }
    json!({ "hookSpecificOutput": inner })
}

fn claude_pre_tool(verdict: &HookVerdict) -> Option<Value> {
    Some(match verdict {
        HookVerdict::Allow | HookVerdict::AllowForSession { .. } => pre_tool("allow", None),
        HookVerdict::Ask => pre_tool("ask", None),
        HookVerdict::Deny { message } => pre_tool("deny", Some(message)),
        HookVerdict::StopAgent { reason } => {
            let mut v = pre_tool("deny", Some(reason));
            v["continue"] = json!(false);
            v["stopReason"] = json!(reason);
            v
        }
        HookVerdict::Abstain => return None,
    })
}

/// Codex `PreToolUse` supports deny only; `ask` and `continue:false` are
/// unsupported, so everything else abstains and a stop becomes a deny.
fn codex_pre_tool(verdict: &HookVerdict) -> Option<Value> {
    match verdict {
        HookVerdict::Deny { message } => Some(pre_tool("deny", Some(message))),
        HookVerdict::StopAgent { reason } => Some(pre_tool("deny", Some(reason))),
        _ => None,
    }
}

/// Gemini `BeforeTool`: `{"decision":"allow|deny","reason":...}`. There is no
/// ask, so ask abstains (Gemini's own confirmation stands).
fn gemini(verdict: &HookVerdict) -> Option<Value> {
    Some(match verdict {
        HookVerdict::Allow | HookVerdict::AllowForSession { .. } => json!({"decision": "allow"}),
        HookVerdict::Deny { message } => json!({"decision": "deny", "reason": message}),
        HookVerdict::StopAgent { reason } => {
            json!({"decision": "deny", "reason": reason, "continue": false, "stopReason": reason})
        }
        HookVerdict::Abstain | HookVerdict::Ask => return None,
    })
}

/// Cursor: `{"permission":"allow|deny|ask","user_message":...,"agent_message":...}`.
fn cursor(verdict: &HookVerdict) -> Option<Value> {
    Some(match verdict {
        HookVerdict::Allow | HookVerdict::AllowForSession { .. } => json!({"permission": "allow"}),
        HookVerdict::Ask => json!({"permission": "ask"}),
        HookVerdict::Deny { message: m } | HookVerdict::StopAgent { reason: m } => {
            json!({"permission": "deny", "user_message": m, "agent_message": m})
        }
        HookVerdict::Abstain => return None,
    })
}

/// Copilot `permissionRequest`. Assumption: the answer is a top-level
/// `{"behavior":"allow|deny","message":...}` (agent-hooks.md says only
/// "answers with behavior: allow|deny").
fn copilot_permission(verdict: &HookVerdict) -> Option<Value> {
    Some(match verdict {
        HookVerdict::Allow | HookVerdict::AllowForSession { .. } => json!({"behavior": "allow"}),
        HookVerdict::Deny { message: m } | HookVerdict::StopAgent { reason: m } => {
            json!({"behavior": "deny", "message": m})
        }
        HookVerdict::Abstain | HookVerdict::Ask => return None,
    })
}

/// Copilot `preToolUse`: `{"permissionDecision":"allow|deny|ask","permissionDecisionReason":...}`
/// at the top level (Copilot CLI hooks reference).
fn copilot_pre_tool(verdict: &HookVerdict) -> Option<Value> {
    Some(match verdict {
        HookVerdict::Allow | HookVerdict::AllowForSession { .. } => {
            json!({"permissionDecision": "allow"})
        }
        HookVerdict::Ask => json!({"permissionDecision": "ask"}),
        HookVerdict::Deny { message: m } | HookVerdict::StopAgent { reason: m } => {
            json!({"permissionDecision": "deny", "permissionDecisionReason": m})
        }
        HookVerdict::Abstain => return None,
    })
}

/// Claude `UserPromptSubmit`: `{"decision":"block","reason":...}` keeps the
/// prompt from the model (the reason is shown to the person, not to the
/// agent). The validator rejects unknown keys and any other `decision`, so
/// nothing else is added. Only a block is expressible; everything else
/// lets the prompt through unchanged.
fn claude_user_prompt(verdict: &HookVerdict) -> Option<Value> {
    match verdict {
        HookVerdict::Deny { message: m } | HookVerdict::StopAgent { reason: m } => {
            Some(json!({"decision": "block", "reason": m}))
        }
        _ => None,
    }
}
