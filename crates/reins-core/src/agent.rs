//! Agent identity and the record the registry keeps for each running agent.
//!
//! An agent is identified by its kind plus the PID *and* kernel start time of
//! its root process, so a reused PID is never mistaken for the old agent.
//! This module holds data only; detection lives in `reins-detect` and signals
//! in `reins-os`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The kinds of agent Reins knows about. Users can add their own signatures in
/// the config; those become [`AgentKind::Custom`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum AgentKind {
    /// Anthropic Claude Code (native binary or npm `cli.js`).
    ClaudeCode,
    /// OpenAI Codex CLI (node shim plus native child).
    Codex,
    /// Google Gemini CLI.
    GeminiCli,
    /// The OpenClaw gateway.
    OpenClaw,
    /// Aider.
    Aider,
    /// Cursor's agent CLI.
    Cursor,
    /// GitHub Copilot CLI.
    Copilot,
    /// opencode.
    Opencode,
    /// Block's goose.
    Goose,
    /// A user-defined signature from the config. The string is its slug.
    Custom(String),
}

impl AgentKind {
    /// Every built-in kind, in display order.
    pub const BUILTIN: [AgentKind; 9] = [
        AgentKind::ClaudeCode,
        AgentKind::Codex,
        AgentKind::GeminiCli,
        AgentKind::OpenClaw,
        AgentKind::Aider,
        AgentKind::Cursor,
        AgentKind::Copilot,
        AgentKind::Opencode,
        AgentKind::Goose,
    ];

    /// The short machine slug used in ids, JSON and the config.
    pub fn slug(&self) -> &str {
        match self {
            AgentKind::ClaudeCode => "claude",
            AgentKind::Codex => "codex",
            AgentKind::GeminiCli => "gemini",
            AgentKind::OpenClaw => "openclaw",
            AgentKind::Aider => "aider",
            AgentKind::Cursor => "cursor",
            AgentKind::Copilot => "copilot",
            AgentKind::Opencode => "opencode",
            AgentKind::Goose => "goose",
            AgentKind::Custom(s) => s,
        }
    }

    /// The human name shown in the tray and on the phone.
    pub fn display_name(&self) -> &str {
        match self {
            AgentKind::ClaudeCode => "Claude Code",
            AgentKind::Codex => "Codex",
            AgentKind::GeminiCli => "Gemini CLI",
            AgentKind::OpenClaw => "OpenClaw",
            AgentKind::Aider => "Aider",
            AgentKind::Cursor => "Cursor Agent",
            AgentKind::Copilot => "Copilot CLI",
            AgentKind::Opencode => "opencode",
            AgentKind::Goose => "goose",
            AgentKind::Custom(s) => s,
        }
    }
}

impl From<String> for AgentKind {
    fn from(s: String) -> Self {
        AgentKind::BUILTIN
            .iter()
            .find(|k| k.slug() == s)
            .cloned()
            .unwrap_or(AgentKind::Custom(s))
    }
}

impl From<AgentKind> for String {
    fn from(k: AgentKind) -> Self {
        k.slug().to_owned()
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// One incarnation of a process: its PID plus its kernel start time (clock
/// ticks since boot, `/proc/<pid>/stat` field 22). Two processes with the same
/// PID but different start times are different processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcessKey {
    /// The process id.
    pub pid: u32,
    /// Start time in clock ticks since boot.
    pub start_ticks: u64,
}

/// The stable id of an agent: `<kind>-<pid>-<start_ticks>`, e.g. `claude-4242-981234`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId {
    /// What kind of agent.
    pub kind: AgentKind,
    /// The root process of the agent.
    pub root: ProcessKey,
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.kind.slug(),
            self.root.pid,
            self.root.start_ticks
        )
    }
}

/// Why a string is not an [`AgentId`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not an agent id: expected <kind>-<pid>-<start>, as printed by `reins status`")]
pub struct ParseAgentIdError(pub String);

impl FromStr for AgentId {
    type Err = ParseAgentIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseAgentIdError(s.to_owned());
        let mut parts = s.rsplitn(3, '-');
        let start = parts.next().ok_or_else(err)?.parse().map_err(|_| err())?;
        let pid = parts.next().ok_or_else(err)?.parse().map_err(|_| err())?;
        let kind = parts.next().filter(|k| !k.is_empty()).ok_or_else(err)?;
        Ok(AgentId {
            kind: AgentKind::from(kind.to_owned()),
            root: ProcessKey {
                pid,
                start_ticks: start,
            },
        })
    }
}

impl Serialize for AgentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AgentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What an agent is doing, as far as Reins can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// Alive and not frozen.
    Running,
    /// Its root process is stopped (SIGSTOP), e.g. after `reins pause`.
    Paused,
    /// A stop is in flight.
    Stopping,
    /// It has gone away.
    Exited,
}

/// Everything the registry knows about one running agent. This is the
/// schema of `reins status --json` (see `docs/cli.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRecord {
    /// Stable id.
    pub id: AgentId,
    /// Kind of agent.
    pub kind: AgentKind,
    /// Human name.
    pub display_name: String,
    /// PID of the root process.
    pub pid: u32,
    /// Working directory of the root process, if readable.
    pub cwd: Option<PathBuf>,
    /// The git root's name, or else the cwd's last component.
    pub project: Option<String>,
    /// Unix time (seconds) the root process started.
    pub started_at: u64,
    /// CPU use of the whole tree, percent of one core.
    pub cpu_percent: f32,
    /// Resident memory of the whole tree, bytes.
    pub memory_bytes: u64,
    /// Number of processes below the root.
    pub descendants: u32,
    /// Current state.
    pub state: AgentState,
    /// What would restart it if it died, when known (see [`Supervisor`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<crate::supervisor::Supervisor>,
    /// Set when the agent's command line says it runs without asking
    /// (`--dangerously-skip-permissions`, `--yolo`, ...): the flag found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unattended: Option<crate::unattended::Unattended>,
}

/// A change the scanner saw between two scans.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RegistryEvent {
    /// A new agent was found.
    Appeared {
        /// The new record.
        agent: AgentRecord,
    },
    /// An agent's state, counts or usage changed.
    Changed {
        /// The updated record.
        agent: AgentRecord,
    },
    /// An agent is gone.
    Exited {
        /// Which agent.
        id: AgentId,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_id_round_trips_through_its_string_form() {
        let id = AgentId {
            kind: AgentKind::ClaudeCode,
            root: ProcessKey {
                pid: 42,
                start_ticks: 7,
            },
        };
        assert_eq!(id.to_string(), "claude-42-7");
        assert_eq!("claude-42-7".parse::<AgentId>().unwrap(), id);
    }

    #[test]
    fn a_custom_kind_with_dashes_still_parses() {
        let id: AgentId = "my-agent-10-20".parse().unwrap();
        assert_eq!(id.kind, AgentKind::Custom("my-agent".into()));
        assert_eq!(
            id.root,
            ProcessKey {
                pid: 10,
                start_ticks: 20
            }
        );
    }

    #[test]
    fn garbage_is_not_an_agent_id() {
        for bad in ["", "claude", "claude-x-1", "-1-2", "claude-1-"] {
            assert!(bad.parse::<AgentId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn builtin_kinds_serialize_as_their_slug() {
        assert_eq!(
            serde_json::to_string(&AgentKind::GeminiCli).unwrap(),
            "\"gemini\""
        );
        let k: AgentKind = serde_json::from_str("\"codex\"").unwrap();
        assert_eq!(k, AgentKind::Codex);
    }
}
