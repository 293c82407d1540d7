//! Vocabulary of the installer: which agent, which scope, which operation,
//! which hook event, and what `check` reports.
//!
//! This module is plain data. It deliberately knows nothing about file
//! formats; the per-agent modules map these enums onto config keys.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// An AI agent whose official hook system Reins can install into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agent {
    /// Claude Code (`~/.claude/settings.json`).
    Claude,
    /// OpenAI Codex CLI (`~/.codex/hooks.json` + `notify` in `config.toml`).
    Codex,
    /// Gemini CLI (`~/.gemini/settings.json`).
    Gemini,
    /// Cursor agent CLI (`~/.cursor/hooks.json`).
    Cursor,
    /// GitHub Copilot CLI (`~/.copilot/hooks/reins.json`).
    Copilot,
}

impl Agent {
    /// Every supported agent, in a stable order (useful for `reins doctor`).
    pub const ALL: [Agent; 5] = [
        Agent::Claude,
        Agent::Codex,
        Agent::Gemini,
        Agent::Cursor,
        Agent::Copilot,
    ];

    /// The lowercase name used on the command line and in `reins hook <agent>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
            Agent::Gemini => "gemini",
            Agent::Cursor => "cursor",
            Agent::Copilot => "copilot",
        }
    }

    /// The events `reins install <agent>` wires up, in install order.
    pub fn events(self) -> &'static [HookEvent] {
        use HookEvent::*;
        match self {
            Agent::Claude => &[
                PermissionRequest,
                PreToolUse,
                PostToolUse,
                Notification,
                SessionStart,
                SessionEnd,
                Stop,
                UserPromptSubmit,
            ],
            Agent::Codex => &[PermissionRequest, PreToolUse, Notify],
            Agent::Gemini => &[BeforeTool],
            Agent::Cursor => &[BeforeShellExecution, PreToolUse],
            Agent::Copilot => &[PermissionRequest, PreToolUse],
        }
    }
}

impl fmt::Display for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error from parsing an unknown agent or event name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{given}`; expected one of: {expected}")]
pub struct ParseNameError {
    kind: &'static str,
    given: String,
    expected: String,
}

impl FromStr for Agent {
    type Err = ParseNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Agent::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseNameError {
                kind: "agent",
                given: s.to_owned(),
                expected: Agent::ALL.map(Agent::as_str).join(", "),
            })
    }
}

/// A hook event Reins listens to. One enum across agents: the same concept
/// (e.g. "before a tool runs") has one variant, and each agent module maps it
/// onto that agent's spelling (`PreToolUse` vs `preToolUse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookEvent {
    /// The agent is about to show its own permission dialog (Claude, Codex, Copilot).
    PermissionRequest,
    /// Before any tool call (Claude, Codex, Cursor, Copilot).
    PreToolUse,
    /// After a tool call (Claude).
    PostToolUse,
    /// Agent notification, e.g. idle or permission prompt (Claude).
    Notification,
    /// Session started (Claude).
    SessionStart,
    /// Session ended (Claude).
    SessionEnd,
    /// Main agent finished its turn (Claude).
    Stop,
    /// Codex legacy `notify` program (turn complete), configured in `config.toml`.
    Notify,
    /// Gemini `BeforeTool`.
    BeforeTool,
    /// Cursor `beforeShellExecution`.
    BeforeShellExecution,
    /// Claude `UserPromptSubmit` (stop words freeze the agent).
    UserPromptSubmit,
}

impl HookEvent {
    /// Every event, for parsing.
    pub const ALL: [HookEvent; 11] = [
        HookEvent::PermissionRequest,
        HookEvent::PreToolUse,
        HookEvent::PostToolUse,
        HookEvent::Notification,
        HookEvent::SessionStart,
        HookEvent::SessionEnd,
        HookEvent::Stop,
        HookEvent::Notify,
        HookEvent::BeforeTool,
        HookEvent::BeforeShellExecution,
        HookEvent::UserPromptSubmit,
    ];

    /// Kebab-case name passed as the last argument of `reins hook <agent> <event>`.
    pub fn cli_name(self) -> &'static str {
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
            HookEvent::BeforeShellExecution => "before-shell-execution",
            HookEvent::UserPromptSubmit => "user-prompt-submit",
        }
    }

    /// PascalCase key used by Claude, Codex and Gemini config files.
    pub(crate) fn pascal_name(self) -> &'static str {
        match self {
            HookEvent::PermissionRequest => "PermissionRequest",
            HookEvent::PreToolUse => "PreToolUse",
            HookEvent::PostToolUse => "PostToolUse",
            HookEvent::Notification => "Notification",
            HookEvent::SessionStart => "SessionStart",
            HookEvent::SessionEnd => "SessionEnd",
            HookEvent::Stop => "Stop",
            HookEvent::Notify => "Notify",
            HookEvent::BeforeTool => "BeforeTool",
            HookEvent::BeforeShellExecution => "BeforeShellExecution",
            HookEvent::UserPromptSubmit => "UserPromptSubmit",
        }
    }

    /// camelCase key used by Cursor and Copilot config files.
    pub(crate) fn camel_name(self) -> &'static str {
        match self {
            HookEvent::PermissionRequest => "permissionRequest",
            HookEvent::PreToolUse => "preToolUse",
            HookEvent::PostToolUse => "postToolUse",
            HookEvent::Notification => "notification",
            HookEvent::SessionStart => "sessionStart",
            HookEvent::SessionEnd => "sessionEnd",
            HookEvent::Stop => "stop",
            HookEvent::Notify => "notify",
            HookEvent::BeforeTool => "beforeTool",
            HookEvent::BeforeShellExecution => "beforeShellExecution",
            HookEvent::UserPromptSubmit => "userPromptSubmit",
        }
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.cli_name())
    }
}

impl FromStr for HookEvent {
    type Err = ParseNameError;
    /// Parses the kebab-case CLI name (`permission-request`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HookEvent::ALL
            .into_iter()
            .find(|e| e.cli_name() == s)
            .ok_or_else(|| ParseNameError {
                kind: "hook event",
                given: s.to_owned(),
                expected: HookEvent::ALL.map(HookEvent::cli_name).join(", "),
            })
    }
}

/// Where to install: the user's home configuration, or one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The per-user config under the `home` directory passed to [`crate::plan`].
    User,
    /// The project rooted at this directory (its `.claude/`, `.codex/`, ...).
    Project(PathBuf),
}

/// What the plan should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Add (or refresh) Reins' hook entries.
    Install,
    /// Remove exactly Reins' hook entries.
    Uninstall,
}

/// What [`crate::check`] found, for `reins doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every event is wired to this `reins` binary with the current settings.
    Installed,
    /// No Reins entry was found.
    NotInstalled,
    /// Some events are wired correctly, others are missing, outdated or
    /// blocked by a conflicting user setting. Running install fixes the
    /// missing ones; conflicts need the user.
    Partial {
        /// Events that are missing or whose entry differs from what install writes.
        needs_update: Vec<HookEvent>,
        /// Human-readable conflicts (e.g. Codex `notify` owned by another program).
        conflicts: Vec<String>,
    },
    /// Reins entries exist but call a different `reins` binary (moved or
    /// reinstalled). Running install again replaces them.
    StalePath {
        /// The binary the entries should call.
        expected: PathBuf,
        /// The binaries they call instead.
        found: Vec<PathBuf>,
    },
    /// A config file could not be read or parsed; the message says which.
    Unreadable {
        /// The error, already phrased for the user.
        error: String,
    },
}
