//! The hook table's part of "is this session unattended?": which
//! `permission_mode` values in a hook payload mean the agent runs its tools
//! without asking, and which events are the pre-tool gate of each agent.
//!
//! Data only. The command-line side (`--yolo`, ...) is the signature table in
//! `reins-detect`; what Reins does about an unattended session is
//! [`crate::guardrails`].

use super::{HookAgent, HookEvent};
use reins_core::Unattended;

impl HookAgent {
    /// The `permission_mode` values of this agent's hook payloads that mean
    /// "runs without asking".
    pub fn unattended_modes(self) -> &'static [&'static str] {
        match self {
            // `auto` lets a classifier approve in a person's place; `dontAsk`
            // denies what would prompt, `acceptEdits` still asks for commands.
            HookAgent::Claude => &["bypassPermissions", "auto"],
            // Assumption (Codex hooks, 2026): `permission_mode` carries the
            // Claude-style mode or the approval policy; `never` is the policy
            // of `--yolo` and `-a never`.
            HookAgent::Codex => &["bypassPermissions", "never"],
            // Assumption: Gemini's hook input names no mode today; should it
            // carry its approval mode, `yolo` is the unattended one.
            HookAgent::Gemini => &["yolo"],
            // Cursor and Copilot send no mode: only their command line tells.
            HookAgent::Cursor | HookAgent::Copilot => &[],
            // OpenClaw's payload (ours) carries no mode; its gateway runs
            // unattended by design, which detection tells.
            HookAgent::OpenClaw => &[],
        }
    }

    /// Why a payload with this `permission_mode` is unattended, if it is.
    pub fn unattended_by_mode(self, permission_mode: Option<&str>) -> Option<Unattended> {
        let mode = permission_mode?;
        self.unattended_modes()
            .contains(&mode)
            .then(|| Unattended::PermissionMode {
                mode: mode.to_owned(),
            })
    }
}

/// True for each agent's event that runs before a tool and can hold it:
/// Claude/Codex/Copilot `PreToolUse`, Gemini `BeforeTool`, Cursor
/// `beforeShellExecution` and `preToolUse`, OpenClaw `before_tool_call`.
pub fn is_pre_tool(agent: HookAgent, event: HookEvent) -> bool {
    matches!(
        (agent, event),
        (
            HookAgent::Claude | HookAgent::Codex | HookAgent::Copilot | HookAgent::Cursor,
            HookEvent::PreToolUse
        ) | (HookAgent::Gemini, HookEvent::BeforeTool)
            | (HookAgent::Cursor, HookEvent::BeforeShellExecution)
            | (HookAgent::OpenClaw, HookEvent::BeforeToolCall)
    )
}
