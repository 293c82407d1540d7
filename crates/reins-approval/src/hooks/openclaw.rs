//! OpenClaw's `before_tool_call`, as relayed by the Reins plugin
//! (`integrations/openclaw/index.js`): the one JSON line `reins hook
//! openclaw before-tool-call` prints for the plugin.
//!
//! OpenClaw has no command hooks; its plugins run inside the gateway. The
//! Reins plugin spawns `reins hook openclaw before-tool-call` for each tool
//! call and writes this payload (Reins' own shape, not OpenClaw's) on stdin:
//!
//! ```json
//! {"hook_event_name":"before_tool_call","tool_name":"exec",
//!  "tool_input":{"command":"ls -la","workdir":"/srv"},
//!  "tool_call_id":"call_1","session_id":"<ctx.sessionKey>",
//!  "agent_id":"<ctx.agentId>","run_id":"<event.runId or ctx.runId>",
//!  "cwd":"<ctx.workspaceDir, else exec's workdir, else absent>"}
//! ```
//!
//! `tool_input` is the tool's `params` exactly as OpenClaw passed them; the
//! shell command is derived for the `exec` tool from its `command` string.
//!
//! The answer is one line, one of:
//! `{"action":"allow"}`, `{"action":"block","reason":..}`,
//! `{"action":"ask","title":..,"description":..,"severity":"info|warning|critical"}`
//! or `{"action":"none"}` (no opinion). The plugin turns `ask` into
//! OpenClaw's `requireApproval` (a plugin approval that Reins' daemon and
//! OpenClaw's own clients can answer) and `block` into `{block, blockReason}`.
//!
//! Unlike every other agent, an input Reins cannot read is never "no
//! opinion" here: it is an `ask`, so a person decides (OpenClaw would
//! otherwise run the call unchecked). This module is pure: it builds the
//! lines; deciding is the policy's and the daemon's job.

use serde_json::{Value, json};

use super::{HookError, HookInput, HookOutput, HookVerdict};
use crate::policy::RiskLevel;

/// OpenClaw's limit on a plugin approval's title (its gateway rejects longer
/// ones, in UTF-16 code units).
pub const TITLE_MAX: usize = 80;
/// OpenClaw's limit on a plugin approval's description.
pub const DESCRIPTION_MAX: usize = 512;

/// How prominently OpenClaw shows a plugin approval.
pub fn severity(risk: RiskLevel) -> &'static str {
    match risk {
        RiskLevel::Low => "info",
        RiskLevel::Medium => "warning",
        RiskLevel::High => "critical",
    }
}

/// The line for a verdict that needs no details: allow, block or none. An
/// `Ask` with no input at hand becomes a generic ask (never an allow).
pub(super) fn render_bare(verdict: &HookVerdict) -> HookOutput {
    let v = match verdict {
        HookVerdict::Allow | HookVerdict::AllowForSession { .. } => json!({"action": "allow"}),
        HookVerdict::Deny { message: m } | HookVerdict::StopAgent { reason: m } => {
            json!({"action": "block", "reason": m})
        }
        HookVerdict::Abstain => json!({"action": "none"}),
        HookVerdict::Ask => ask_value(
            "Reins: tool call",
            "Reins asks a person to decide this tool call.",
            RiskLevel::Medium,
        ),
    };
    line(&v)
}

/// The `ask` line for one tool call: the title names the tool, the
/// description holds the exact command (exec) or tool input, then why
/// Reins asks; both are cut to OpenClaw's limits.
pub fn ask(input: &HookInput, risk: RiskLevel, why: &str) -> HookOutput {
    let tool = input.tool_name.as_deref().unwrap_or("tool");
    let title = format!("Reins: {tool}");
    let what = match (&input.command, &input.tool_input) {
        (Some(cmd), _) => cmd.clone(),
        (None, Some(v)) => v.to_string(),
        (None, None) => "(no input)".to_owned(),
    };
    let mut description = what;
    if let Some(cwd) = &input.cwd {
        description.push_str(&format!("\nin {cwd}"));
    }
    if !why.is_empty() {
        description.push_str(&format!("\n{why}"));
    }
    line(&ask_value(&title, &description, risk))
}

/// The `ask` line for an input Reins could not read: a person decides.
pub fn unreadable(error: &HookError) -> HookOutput {
    unreadable_because(&error.to_string())
}

/// Like [`unreadable`], from a plain message (stdin could not be read, ...).
pub fn unreadable_because(why: &str) -> HookOutput {
    line(&ask_value(
        "Reins: unreadable tool call",
        &format!("Reins could not read this tool call, so a person decides: {why}"),
        RiskLevel::High,
    ))
}

fn ask_value(title: &str, description: &str, risk: RiskLevel) -> Value {
    json!({
        "action": "ask",
        "title": cut(title, TITLE_MAX),
        "description": cut(description, DESCRIPTION_MAX),
        "severity": severity(risk),
    })
}

fn line(v: &Value) -> HookOutput {
    HookOutput {
        stdout: format!("{v}\n"),
        exit_code: 0,
    }
}

/// `s` cut to at most `max` UTF-16 code units (how OpenClaw's schema counts),
/// ending in `…` when cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.encode_utf16().count() <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + c.len_utf16() > max - 1 {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}
