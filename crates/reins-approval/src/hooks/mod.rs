//! Agent hook adapters: the words on `reins hook <agent> <event>`, the JSON an
//! agent writes to the hook's stdin, and the exact stdout/exit code it expects.
//!
//! This module is pure translation. It does not decide anything (that is the
//! policy and the broker), does no I/O, and never turns an error into an
//! approval: a parse failure is a [`HookError`] that the caller prints on
//! stderr before abstaining (empty stdout, exit 0).
//!
//! The shapes follow `/work/shared/research/agent-hooks.md`. Where that file
//! is silent (Copilot CLI), the assumption is written next to the code.

pub mod openclaw;
mod parse;
mod render;
mod unattended;

pub use parse::parse;
pub(crate) use parse::tool_object as parse_tool_object;
pub use render::render;
pub use unattended::is_pre_tool;

use serde::{Deserialize, Serialize};
use std::fmt;

use reins_core::AgentKind;

/// The agents whose hooks Reins speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookAgent {
    /// Claude Code.
    Claude,
    /// OpenAI Codex CLI.
    Codex,
    /// Google Gemini CLI.
    Gemini,
    /// Cursor's agent CLI.
    Cursor,
    /// GitHub Copilot CLI.
    Copilot,
    /// OpenClaw, through the Reins plugin's `before_tool_call` hook (the
    /// payload is Reins' own; see [`openclaw`]).
    #[serde(rename = "openclaw")]
    OpenClaw,
}

impl HookAgent {
    /// Every agent, in display order.
    pub const ALL: [HookAgent; 6] = [
        HookAgent::Claude,
        HookAgent::Codex,
        HookAgent::Gemini,
        HookAgent::Cursor,
        HookAgent::Copilot,
        HookAgent::OpenClaw,
    ];

    /// The word used on the command line and in policy files (`claude`, ...).
    pub fn cli_word(self) -> &'static str {
        match self {
            HookAgent::Claude => "claude",
            HookAgent::Codex => "codex",
            HookAgent::Gemini => "gemini",
            HookAgent::Cursor => "cursor",
            HookAgent::Copilot => "copilot",
            HookAgent::OpenClaw => "openclaw",
        }
    }

    /// Parse a command-line word.
    pub fn from_cli_word(word: &str) -> Result<Self, HookError> {
        HookAgent::ALL
            .into_iter()
            .find(|a| a.cli_word() == word)
            .ok_or_else(|| HookError::UnknownAgent {
                word: word.to_owned(),
            })
    }

    /// The matching `reins-core` kind.
    pub fn kind(self) -> AgentKind {
        match self {
            HookAgent::Claude => AgentKind::ClaudeCode,
            HookAgent::Codex => AgentKind::Codex,
            HookAgent::Gemini => AgentKind::GeminiCli,
            HookAgent::Cursor => AgentKind::Cursor,
            HookAgent::Copilot => AgentKind::Copilot,
            HookAgent::OpenClaw => AgentKind::OpenClaw,
        }
    }

    /// The events this agent's hooks can deliver to Reins.
    pub fn events(self) -> &'static [HookEvent] {
        use HookEvent::*;
        match self {
            HookAgent::Claude => &[
                PermissionRequest,
                PreToolUse,
                PostToolUse,
                Notification,
                SessionStart,
                SessionEnd,
                Stop,
                UserPromptSubmit,
            ],
            HookAgent::Codex => &[PermissionRequest, PreToolUse, PostToolUse, Notify],
            HookAgent::Gemini => &[BeforeTool, AfterTool],
            HookAgent::Cursor => &[BeforeShellExecution, PreToolUse],
            HookAgent::Copilot => &[
                PermissionRequest,
                PreToolUse,
                PostToolUse,
                SessionStart,
                SessionEnd,
            ],
            HookAgent::OpenClaw => &[BeforeToolCall],
        }
    }
}

impl fmt::Display for HookAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cli_word())
    }
}

/// A hook event, named the way Reins' command line spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookEvent {
    /// Claude/Codex `PermissionRequest`, Copilot `permissionRequest`.
    PermissionRequest,
    /// Claude/Codex `PreToolUse`, Cursor/Copilot `preToolUse`.
    PreToolUse,
    /// `PostToolUse` / `postToolUse`.
    PostToolUse,
    /// Claude `Notification`.
    Notification,
    /// `SessionStart` / `sessionStart`.
    SessionStart,
    /// `SessionEnd` / `sessionEnd`.
    SessionEnd,
    /// Claude `Stop`.
    Stop,
    /// Codex legacy `notify` (JSON in the last argv argument).
    Notify,
    /// Gemini `BeforeTool`.
    BeforeTool,
    /// Gemini `AfterTool`.
    AfterTool,
    /// Cursor `beforeShellExecution`.
    BeforeShellExecution,
    /// Claude `UserPromptSubmit`: the person's message, before the agent reads it.
    UserPromptSubmit,
    /// OpenClaw plugin hook `before_tool_call` (relayed by the Reins plugin).
    BeforeToolCall,
}

impl HookEvent {
    /// Every event.
    pub const ALL: [HookEvent; 13] = [
        HookEvent::PermissionRequest,
        HookEvent::PreToolUse,
        HookEvent::PostToolUse,
        HookEvent::Notification,
        HookEvent::SessionStart,
        HookEvent::SessionEnd,
        HookEvent::Stop,
        HookEvent::Notify,
        HookEvent::BeforeTool,
        HookEvent::AfterTool,
        HookEvent::BeforeShellExecution,
        HookEvent::UserPromptSubmit,
        HookEvent::BeforeToolCall,
    ];

    /// The command-line word (`permission-request`, ...).
    pub fn cli_word(self) -> &'static str {
        match self {
            HookEvent::PermissionRequest => "permission-request",
            HookEvent::PreToolUse => "pre-tool-use",
            HookEvent::PostToolUse => "post-tool-use",
            HookEvent::Notification => "notification",
            HookEvent::SessionStart => "session-start",
            HookEvent::SessionEnd => "session-end",
            HookEvent::Stop => "stop",
            HookEvent::Notify => "notify",
            HookEvent::BeforeTool => "before-tool",
            HookEvent::AfterTool => "after-tool",
            HookEvent::BeforeShellExecution => "before-shell-execution",
            HookEvent::UserPromptSubmit => "user-prompt-submit",
            HookEvent::BeforeToolCall => "before-tool-call",
        }
    }

    /// The event's name inside the agent's own JSON (`hookEventName`).
    pub fn native_name(self, agent: HookAgent) -> &'static str {
        let camel = matches!(agent, HookAgent::Cursor | HookAgent::Copilot);
        match (self, camel) {
            (HookEvent::PermissionRequest, false) => "PermissionRequest",
            (HookEvent::PermissionRequest, true) => "permissionRequest",
            (HookEvent::PreToolUse, false) => "PreToolUse",
            (HookEvent::PreToolUse, true) => "preToolUse",
            (HookEvent::PostToolUse, false) => "PostToolUse",
            (HookEvent::PostToolUse, true) => "postToolUse",
            (HookEvent::Notification, _) => "Notification",
            (HookEvent::SessionStart, false) => "SessionStart",
            (HookEvent::SessionStart, true) => "sessionStart",
            (HookEvent::SessionEnd, false) => "SessionEnd",
            (HookEvent::SessionEnd, true) => "sessionEnd",
            (HookEvent::Stop, _) => "Stop",
            (HookEvent::Notify, _) => "notify",
            (HookEvent::BeforeTool, _) => "BeforeTool",
            (HookEvent::AfterTool, _) => "AfterTool",
            (HookEvent::BeforeShellExecution, _) => "beforeShellExecution",
            (HookEvent::UserPromptSubmit, _) => "UserPromptSubmit",
            (HookEvent::BeforeToolCall, _) => "before_tool_call",
        }
    }

    /// Parse a command-line word. Also accepts the agent's native spelling
    /// (`PermissionRequest`, `beforeShellExecution`) so hand-written configs work.
    pub fn from_cli_word(word: &str) -> Result<Self, HookError> {
        let folded: String = word
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        HookEvent::ALL
            .into_iter()
            .find(|e| e.cli_word().replace('-', "") == folded)
            .ok_or_else(|| HookError::UnknownEvent {
                word: word.to_owned(),
            })
    }

    /// True for events that ask about one tool call (they carry a tool name).
    pub fn is_tool_event(self) -> bool {
        matches!(
            self,
            HookEvent::PermissionRequest
                | HookEvent::PreToolUse
                | HookEvent::PostToolUse
                | HookEvent::BeforeTool
                | HookEvent::AfterTool
                | HookEvent::BeforeShellExecution
                | HookEvent::BeforeToolCall
        )
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cli_word())
    }
}

/// Resolve `reins hook <agent> <event>` into a supported pair.
pub fn resolve(agent_word: &str, event_word: &str) -> Result<(HookAgent, HookEvent), HookError> {
    let agent = HookAgent::from_cli_word(agent_word)?;
    let event = HookEvent::from_cli_word(event_word)?;
    check_supported(agent, event)?;
    Ok((agent, event))
}

/// Err unless `agent` can deliver `event`.
pub fn check_supported(agent: HookAgent, event: HookEvent) -> Result<(), HookError> {
    if agent.events().contains(&event) {
        Ok(())
    } else {
        Err(HookError::Unsupported {
            agent,
            event,
            supported: agent
                .events()
                .iter()
                .map(|e| e.cli_word())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// True for the (agent, event) pairs that are blocking prompts a person
/// should answer: the hook waits for the broker. Everything else is either
/// gated by policy alone (PreToolUse) or informational. OpenClaw's
/// `before_tool_call` is never one: its hook must not wait (OpenClaw fails
/// the call closed after 15 s), so a person is asked through OpenClaw's own
/// plugin approval instead.
pub fn needs_person(agent: HookAgent, event: HookEvent) -> bool {
    matches!(
        (agent, event),
        (HookAgent::Claude, HookEvent::PermissionRequest)
            | (HookAgent::Codex, HookEvent::PermissionRequest)
            | (HookAgent::Gemini, HookEvent::BeforeTool)
            | (HookAgent::Cursor, HookEvent::BeforeShellExecution)
            | (HookAgent::Cursor, HookEvent::PreToolUse)
            | (HookAgent::Copilot, HookEvent::PermissionRequest)
    )
}

/// True for events that can only be observed, never answered. They always
/// render as abstain.
pub fn is_non_blocking(event: HookEvent) -> bool {
    matches!(
        event,
        HookEvent::PostToolUse
            | HookEvent::AfterTool
            | HookEvent::Notification
            | HookEvent::SessionStart
            | HookEvent::SessionEnd
            | HookEvent::Stop
            | HookEvent::Notify
    )
}

/// Notification fields (Claude `Notification`, Codex `notify`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The message body (Codex: `last-assistant-message`).
    pub message: Option<String>,
    /// The title, when the agent sends one.
    pub title: Option<String>,
    /// `permission_prompt`, `idle_prompt`, ... (Codex: the `type` field).
    pub notification_type: Option<String>,
}

/// One hook invocation, normalised across agents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HookInput {
    /// Which agent called.
    pub agent: HookAgent,
    /// Which event.
    pub event: HookEvent,
    /// The agent's session id (Cursor: `conversation_id`, Codex notify: `thread-id`).
    pub session_id: Option<String>,
    /// Working directory of the agent.
    pub cwd: Option<String>,
    /// Path of the agent's transcript file.
    pub transcript_path: Option<String>,
    /// The `hook_event_name` the agent sent, verbatim.
    pub hook_event_name: Option<String>,
    /// Claude/Codex permission mode.
    pub permission_mode: Option<String>,
    /// The tool being called (`Bash`, `run_shell_command`, ...). Cursor's
    /// `beforeShellExecution` has none on the wire; it is reported as `Shell`.
    pub tool_name: Option<String>,
    /// The tool's arguments, exactly as received (never re-shaped). For
    /// Cursor `beforeShellExecution` it is `{"command": <command>}`.
    pub tool_input: Option<serde_json::Value>,
    /// The shell command, for shell tools. A Codex argv array is unwrapped
    /// when it is `[sh|bash|zsh, -c|-lc, script]`, and otherwise joined with
    /// shell quoting.
    pub command: Option<String>,
    /// Claude `tool_use_id`.
    pub tool_use_id: Option<String>,
    /// Notification fields, for notification-like events.
    pub notification: Option<Notification>,
    /// `SessionStart` source (`startup|resume|clear|compact`).
    pub source: Option<String>,
    /// `SessionEnd` reason.
    pub reason: Option<String>,
    /// Claude `UserPromptSubmit`: what the person typed.
    #[serde(default)]
    pub prompt: Option<String>,
    /// The whole payload, for the audit log.
    pub raw: serde_json::Value,
}

/// Why a hook invocation could not be understood. The caller prints this on
/// stderr and abstains; it never becomes an approval.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// First word after `reins hook` is not an agent.
    #[error(
        "unknown agent '{word}': expected one of claude, codex, gemini, cursor, copilot, openclaw"
    )]
    UnknownAgent {
        /// What was given.
        word: String,
    },
    /// Second word is not an event.
    #[error(
        "unknown hook event '{word}': expected e.g. permission-request, pre-tool-use, before-tool"
    )]
    UnknownEvent {
        /// What was given.
        word: String,
    },
    /// The agent has no such event.
    #[error("{agent} has no '{event}' hook that Reins handles; supported: {supported}")]
    Unsupported {
        /// The agent.
        agent: HookAgent,
        /// The event.
        event: HookEvent,
        /// Its supported events, comma separated.
        supported: String,
    },
    /// stdin (or the argv payload) is not JSON.
    #[error(
        "{agent} {event} hook input is not valid JSON ({source}); check that the hook is wired to the right event"
    )]
    MalformedJson {
        /// The agent.
        agent: HookAgent,
        /// The event.
        event: HookEvent,
        /// The parser error.
        source: serde_json::Error,
    },
    /// JSON, but not an object.
    #[error("{agent} {event} hook input must be a JSON object, got {found}")]
    NotAnObject {
        /// The agent.
        agent: HookAgent,
        /// The event.
        event: HookEvent,
        /// The JSON type found.
        found: &'static str,
    },
    /// A field this event cannot do without is missing or mistyped.
    #[error(
        "{agent} {event} hook input has no usable '{field}' ({expected}); was the hook installed for the right event?"
    )]
    BadField {
        /// The agent.
        agent: HookAgent,
        /// The event.
        event: HookEvent,
        /// The field name.
        field: &'static str,
        /// What was expected.
        expected: &'static str,
    },
}

/// What to answer a hook. Agent-agnostic; [`render`] maps it to each agent's shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum HookVerdict {
    /// Allow this one call.
    Allow,
    /// Allow, and let the agent remember it for the session where it can.
    /// Built with [`HookVerdict::allow_for_session`].
    AllowForSession {
        /// The tool the session rule is for.
        tool_name: String,
        /// Claude `ruleContent`: the exact command for shell tools; `None`
        /// means the whole tool. See [`HookVerdict::allow_for_session`].
        rule_content: Option<String>,
    },
    /// Deny, with a message for the agent (and the user).
    Deny {
        /// Shown to the agent.
        message: String,
    },
    /// No decision: the agent's own prompt or rules stand.
    Abstain,
    /// Stop the agent cooperatively at this call.
    StopAgent {
        /// Shown to the user.
        reason: String,
    },
    /// Make the agent show its own prompt (where the agent supports it).
    Ask,
}

impl HookVerdict {
    /// Build an allow-for-session verdict for one tool call.
    ///
    /// For shell tools the session rule is the *exact* command. A command
    /// that Claude would read as a pattern (it contains `*` or ends in `:*`)
    /// or spans several lines is not made into a rule at all: the verdict is
    /// then a plain [`HookVerdict::Allow`] for this call only. Non-shell tools
    /// get a whole-tool rule, which is what Claude's dialog offers too.
    pub fn allow_for_session(tool_name: &str, command: Option<&str>) -> HookVerdict {
        match command {
            Some(cmd) if cmd.contains('*') || cmd.contains('\n') || cmd.trim().is_empty() => {
                HookVerdict::Allow
            }
            Some(cmd) => HookVerdict::AllowForSession {
                tool_name: tool_name.to_owned(),
                rule_content: Some(cmd.to_owned()),
            },
            None => HookVerdict::AllowForSession {
                tool_name: tool_name.to_owned(),
                rule_content: None,
            },
        }
    }

    /// True for verdicts that let the action run.
    pub fn is_allow(&self) -> bool {
        matches!(
            self,
            HookVerdict::Allow | HookVerdict::AllowForSession { .. }
        )
    }
}

/// What the hook process prints and how it exits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookOutput {
    /// Exactly what to write on stdout (may be empty).
    pub stdout: String,
    /// The process exit code.
    pub exit_code: i32,
}

impl HookOutput {
    /// Empty stdout, exit 0: "no decision" for every agent.
    pub fn abstain() -> Self {
        HookOutput {
            stdout: String::new(),
            exit_code: 0,
        }
    }
}

#[cfg(test)]
mod openclaw_tests;
#[cfg(test)]
mod tests;
